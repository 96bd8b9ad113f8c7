// SPDX-License-Identifier: BSD-2-Clause
/* sch_fq for network-latency, over the kernel's default root only: see qdisc.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "core/qdisc.h"
#include "core/rtnl.h"
#include "core/util.h"

struct dump {
	int ifindex;
	bool found;
	struct fc_qdisc *q;
};

/* Root qdisc messages of our device fill q; qdiscs on the root's classes are counted. */
static void on_qdisc(struct nlmsghdr *h, void *arg)
{
	struct tcmsg *t = NLMSG_DATA(h);
	struct dump *d = arg;
	struct rtattr *a = (struct rtattr *)((char *)t + NLMSG_ALIGN(sizeof(*t)));
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*t));

	/* the kernel dumps every device of the netns: filter here */
	if (h->nlmsg_type != RTM_NEWQDISC || t->tcm_ifindex != d->ifindex)
		return;
	if (t->tcm_parent != TC_H_ROOT) {
		/* an mq child's parent is "root major : queue"; clsact/ingress sit at ffff: */
		if (TC_H_MAJ(t->tcm_parent) != TC_H_MAJ(TC_H_INGRESS) && TC_H_MIN(t->tcm_parent))
			d->q->nchild++;
		return;
	}
	d->found = true;
	d->q->handle = t->tcm_handle;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_KIND)
			snprintf(d->q->kind, sizeof(d->q->kind), "%s", (char *)RTA_DATA(a));
		else if (a->rta_type == TCA_STATS && RTA_PAYLOAD(a) >= sizeof(struct tc_stats))
			d->q->qlen = ((struct tc_stats *)RTA_DATA(a))->qlen;
	}
}

int fc_qdisc_root(int ifindex, struct fc_qdisc *q)
{
	struct dump d = { .ifindex = ifindex, .q = q };
	struct fc_nlreq req;
	char name[IF_NAMESIZE];
	int err;

	memset(q, 0, sizeof(*q));
	if (!if_indextoname(ifindex, name))
		return -ENODEV;
	fc_nl_tcreq(&req, RTM_GETQDISC, NLM_F_DUMP, 0, 0, 0);
	err = fc_nl_talk(&req, NULL, 0, on_qdisc, &d);
	if (err)
		return err;
	return d.found ? 0 : -ENODEV;
}

uint32_t fc_qdisc_handle(const char *run_id)
{
	uint32_t h = 2166136261u;

	for (; *run_id; run_id++)
		h = (h ^ (unsigned char)*run_id) * 16777619u;
	return (0xfc00u | (h & 0xff)) << 16;
}

static bool ours_by_handle(uint32_t handle)
{
	return (TC_H_MAJ(handle) >> 24) == 0xfc;
}

int fc_qdisc_check(int ifindex, char *why, size_t len)
{
	char name[IF_NAMESIZE] = "?";
	struct fc_qdisc q;
	int err = fc_qdisc_root(ifindex, &q);

	if_indextoname(ifindex, name);
	if (err) {
		snprintf(why, len, "cannot read the root qdisc of %s: %s", name, strerror(-err));
		return err;
	}
	if (!q.handle)
		return 0;
	snprintf(why, len,
		 "%s's root qdisc is %s %x: (not the kernel's default)%s: faultcell replaces only "
		 "a root the kernel created (remove it, or choose other devices)",
		 name, q.kind, TC_H_MAJ(q.handle) >> 16,
		 ours_by_handle(q.handle)
		     ? ", left by an earlier faultcell run ('faultcell recover')"
		     : ", somebody else's");
	return -EEXIST;
}

static int fq_add(int ifindex, uint32_t parent, uint32_t handle, const struct fc_fq_opts *o,
		  char *ext, size_t extlen)
{
	struct fc_nlreq req;
	struct rtattr *nest;
	uint32_t mask = ~0u;

	fc_nl_tcreq(&req, RTM_NEWQDISC, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, ifindex, parent,
		    handle);
	fc_nl_attr(&req, TCA_KIND, "fq", 3);
	nest = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.n.nlmsg_len));
	fc_nl_attr(&req, TCA_OPTIONS, NULL, 0);
	fc_nl_attr(&req, TCA_FQ_PLIMIT, &o->plimit, sizeof(o->plimit));
	fc_nl_attr(&req, TCA_FQ_FLOW_PLIMIT, &o->flow_plimit, sizeof(o->flow_plimit));
	/*
	 * Unconnected sockets share fq flows by skb hash & orphan_mask (1023 by default): an
	 * outside flow hashed into the cell's bucket waits behind its delayed packets. All 32
	 * bits make that a collision of full hashes only.
	 */
	fc_nl_attr(&req, TCA_FQ_ORPHAN_MASK, &mask, sizeof(mask));
	nest->rta_len = (char *)&req + req.n.nlmsg_len - (char *)nest;
	return fc_nl_talk(&req, ext, extlen, NULL, NULL);
}

static int root_del(int ifindex, uint32_t handle, char *ext, size_t extlen)
{
	struct fc_nlreq req;

	fc_nl_tcreq(&req, RTM_DELQDISC, NLM_F_ACK, ifindex, TC_H_ROOT, handle);
	return fc_nl_talk(&req, ext, extlen, NULL, NULL);
}

int fc_qdisc_install_fq(struct fc_state *st, int ifindex, const struct fc_fq_opts *o,
			uint32_t drain_ms, char *how, size_t howlen, char *why, size_t len)
{
	struct fc_rec rec = { .kind = REC_QDISC, .ifindex = ifindex, .drain_ms = drain_ms };
	uint32_t handle = fc_qdisc_handle(st->run_id);
	struct fc_qdisc q, mine;
	char ext[128];
	struct fc_nlreq req;
	bool mq;
	int err;

	err = fc_qdisc_check(ifindex, why, len);
	if (err)
		return err;
	err = fc_qdisc_root(ifindex, &q);
	if (err)
		return err;
	if_indextoname(ifindex, rec.ifname);
	mq = !strcmp(q.kind, "mq");
	rec.handle = handle;
	snprintf(rec.qkind, sizeof(rec.qkind), "%s", mq ? "mq" : "fq");
	snprintf(rec.qwas, sizeof(rec.qwas), "%s", q.kind[0] ? q.kind : "?");
	/* recorded before it exists: a crash right after still gets it removed */
	err = fc_state_append(st, &rec);
	if (err) {
		snprintf(why, len, "cannot record the qdisc in the state file: %s", strerror(-err));
		return err;
	}
	if (!mq) {
		err = fq_add(ifindex, TC_H_ROOT, handle, o, ext, sizeof(ext));
		if (err)
			goto fail;
		snprintf(how, howlen, "fq %x: replaced the kernel's %s", handle >> 16, q.kind);
		return 0;
	}
	fc_nl_tcreq(&req, RTM_NEWQDISC, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, ifindex,
		    TC_H_ROOT, handle);
	fc_nl_attr(&req, TCA_KIND, "mq", 3);
	err = fc_nl_talk(&req, ext, sizeof(ext), NULL, NULL);
	err = err ?: fc_qdisc_root(ifindex, &mine);
	if (err)
		goto fail;
	/* our mq made one default child per tx queue: minor i is queue i (1-based) */
	for (uint32_t i = 1; i <= mine.nchild; i++) {
		err = fq_add(ifindex, TC_H_MAKE(handle, i), 0, o, ext, sizeof(ext));
		if (err)
			goto fail;
	}
	snprintf(how, howlen, "mq %x: with %u fq replaced the kernel's mq", handle >> 16,
		 mine.nchild);
	return 0;
fail:
	snprintf(why, len, "cannot install fq on %s: %s%s%s", rec.ifname, strerror(-err),
		 ext[0] ? ": " : "", ext);
	/* whatever part exists is ours and recorded: rollback removes it */
	return err;
}

bool fc_qdisc_rec_present(const struct fc_rec *rec)
{
	char name[IF_NAMESIZE];
	struct fc_qdisc q;

	/* the same ifindex on another device (deleted and re-created) is not ours */
	if (!if_indextoname(rec->ifindex, name) || strcmp(name, rec->ifname))
		return false;
	if (fc_qdisc_root(rec->ifindex, &q))
		return false;
	return q.handle == rec->handle && !strcmp(q.kind, rec->qkind);
}

int fc_qdisc_restore(const struct fc_rec *rec, char *log, size_t loglen)
{
	/* a guard undoing a dead run must not wait for a 9 s delay: 2 s at most */
	uint64_t until =
	    fc_now_ns() + (uint64_t)(rec->drain_ms < 2000 ? rec->drain_ms : 2000) * NSEC_PER_MSEC;
	size_t u = strlen(log);
	struct fc_qdisc q;
	char ext[128];
	int err;

	if (!fc_qdisc_rec_present(rec))
		return 0;
	/*
	 * Deleting a qdisc drops what it holds: let the packets already delayed leave first
	 * (no new ones are delayed once `enabled` is clear), bounded by the recorded delay.
	 */
	while (!fc_qdisc_root(rec->ifindex, &q) && q.qlen && fc_now_ns() < until)
		usleep(2000);
	err = root_del(rec->ifindex, rec->handle, ext, sizeof(ext));
	if (err == -ENOENT || err == -EINVAL)
		err = fc_qdisc_rec_present(rec) ? err : 0;
	if (u < loglen) {
		fc_qdisc_root(rec->ifindex, &q);
		snprintf(log + u, loglen - u, "%s %s %x: on %s%s%s (root now %s %x:)\n",
			 err ? "FAILED to remove" : "removed", rec->qkind, rec->handle >> 16,
			 rec->ifname, err ? ": " : "", err ? strerror(-err) : "", q.kind,
			 q.handle >> 16);
	}
	return err;
}

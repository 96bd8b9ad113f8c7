// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "core/log.h"
#include "core/rtnl.h"
#include "core/tc.h"

/* A priority band of our own, so we never collide with a filter somebody else added. */
static uint32_t run_prio(const char *run_id)
{
	uint32_t h = 2166136261u;

	for (; *run_id; run_id++)
		h = (h ^ (unsigned char)*run_id) * 16777619u;
	return 0xc000 | (h & 0x3fff);
}

static int attach_tcx(int prog_fd, int ifindex, bool egress, struct fc_tc_attach *at)
{
	int fd = bpf_link_create(prog_fd, ifindex, egress ? FC_BPF_TCX_EGRESS : FC_BPF_TCX_INGRESS,
				 NULL);

	if (fd < 0)
		return -errno;
	at->link_fd = fd;
	at->used = FC_TC_TCX;
	return 0;
}

static int attach_clsact(struct fc_state *st, int prog_fd, int ifindex, bool egress,
			 struct fc_tc_attach *at)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	struct fc_rec rec = { .ifindex = ifindex, .egress = egress };
	int err;

	at->handle = 0xfc;
	at->prio = run_prio(st->run_id) + (egress ? 1 : 0);
	if (!fc_tc_clsact_exists(ifindex)) {
		/* recorded before it exists: a crash right after still gets it removed */
		rec.kind = REC_CLSACT;
		if (!if_indextoname(ifindex, rec.ifname))
			snprintf(rec.ifname, sizeof(rec.ifname), "?");
		err = fc_state_append(st, &rec);
		if (err)
			return err;
		err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST)
			return err;
		at->created_qdisc = err == 0;
	}
	rec.kind = REC_TC_FILTER;
	rec.handle = at->handle;
	rec.prio = at->prio;
	err = fc_state_append(st, &rec);
	if (err)
		return err;
	opts.handle = at->handle;
	opts.priority = at->prio;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return err;
	at->used = FC_TC_CLSACT;
	return 0;
}

int fc_tc_attach(struct fc_state *st, int prog_fd, int ifindex, bool egress, enum fc_tc_mode mode,
		 struct fc_tc_attach *at)
{
	int err = -EOPNOTSUPP;

	memset(at, 0, sizeof(*at));
	at->ifindex = ifindex;
	at->egress = egress;
	at->link_fd = -1;
	if (mode != FC_TC_CLSACT) {
		err = attach_tcx(prog_fd, ifindex, egress, at);
		if (!err || mode == FC_TC_TCX)
			return err;
		pr_debug("tcx attach on ifindex %d failed (%s): falling back to clsact", ifindex,
			 strerror(-err));
	}
	return attach_clsact(st, prog_fd, ifindex, egress, at);
}

int fc_tc_detach(struct fc_tc_attach *at)
{
	int err = 0;

	if (at->used == FC_TC_TCX && at->link_fd >= 0) {
		close(at->link_fd);
		at->link_fd = -1;
	} else if (at->used == FC_TC_CLSACT) {
		err = fc_tc_filter_remove(at->ifindex, at->egress, at->handle, at->prio);
		if (!err && at->created_qdisc)
			err = fc_tc_clsact_remove_if_empty(at->ifindex);
	}
	at->used = 0;
	return err;
}

int fc_tc_filter_prog_id(int ifindex, bool egress, uint32_t handle, uint32_t prio)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio);
	int err = bpf_tc_query(&hook, &opts);

	if (err == -ENOENT || err == -EINVAL || err == -ENODEV)
		return 0;
	return err ?: (int)opts.prog_id;
}

int fc_tc_filter_remove(int ifindex, bool egress, uint32_t handle, uint32_t prio)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio);
	int err = bpf_tc_detach(&hook, &opts);

	/* gone already (never created, or the device went away): nothing of ours remains */
	if (err == -ENOENT || err == -ENODEV || err == -EINVAL)
		return 0;
	return err;
}

struct dump_count {
	int type, n;
	bool (*match)(struct nlmsghdr *h, void *arg);
	void *arg;
};

static void count_one(struct nlmsghdr *h, void *arg)
{
	struct dump_count *d = arg;

	if (h->nlmsg_type == d->type && (!d->match || d->match(h, d->arg)))
		d->n++;
}

/* One rtnetlink dump; counts the answers of type @type that @match accepts (NULL: all). */
static int nl_dump_count(struct fc_nlreq *req, int type, bool (*match)(struct nlmsghdr *, void *),
			 void *arg)
{
	struct dump_count d = { .type = type, .match = match, .arg = arg };
	int err = fc_nl_talk(req, NULL, 0, count_one, &d);

	return err ?: d.n;
}

int fc_tc_count_filters(int ifindex, bool egress)
{
	struct fc_nlreq req;
	int n;

	fc_nl_tcreq(&req, RTM_GETTFILTER, NLM_F_DUMP, ifindex,
		    TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS), 0);
	n = nl_dump_count(&req, RTM_NEWTFILTER, NULL, NULL);

	/* no clsact there: older kernels answer EINVAL, newer ones an empty dump */
	return n == -EINVAL || n == -ENOENT ? 0 : n;
}

/* A qdisc message for the clsact qdisc of ifindex *arg (ingress shares its handle: check kind). */
static bool is_clsact(struct nlmsghdr *h, void *arg)
{
	struct tcmsg *tc = NLMSG_DATA(h);
	int alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*tc));
	struct rtattr *rta = (struct rtattr *)((char *)tc + NLMSG_ALIGN(sizeof(*tc)));

	if (tc->tcm_ifindex != *(int *)arg || tc->tcm_parent != TC_H_CLSACT)
		return false;
	for (; RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen))
		if (rta->rta_type == TCA_KIND)
			return !strcmp(RTA_DATA(rta), "clsact");
	return false;
}

bool fc_tc_clsact_exists(int ifindex)
{
	struct fc_nlreq req;

	fc_nl_tcreq(&req, RTM_GETQDISC, NLM_F_DUMP, ifindex, 0, 0);
	return nl_dump_count(&req, RTM_NEWQDISC, is_clsact, &ifindex) > 0;
}

int fc_tc_clsact_remove_if_empty(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int in, eg, err;

	if (!fc_tc_clsact_exists(ifindex))
		return 0;
	in = fc_tc_count_filters(ifindex, false);
	eg = fc_tc_count_filters(ifindex, true);
	if (in < 0 || eg < 0)
		return in < 0 ? in : eg;
	if (in || eg) {
		/* somebody else's filters live there now: their qdisc as much as ours */
		pr_warn("leaving the clsact qdisc on ifindex %d: %d filter(s) of others remain",
			ifindex, in + eg);
		return -EBUSY;
	}
	err = bpf_tc_hook_destroy(&hook);
	return err == -ENOENT || err == -EINVAL ? 0 : err;
}

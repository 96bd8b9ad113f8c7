// SPDX-License-Identifier: BSD-2-Clause
/*
 * The scratch network namespace and the tc family: clsact, TCX, the skb cell match, EDT
 * timestamps, and the sch_fq / netem qdiscs latency needs.
 *
 * Everything here happens on lo of a network namespace this process creates with unshare()
 * and holds alone: the host's devices are never touched, and the namespace — with any qdisc,
 * filter or link left in it — is gone as soon as this process leaves it or dies. That is why
 * none of it goes through the state file.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/probe.h"
#include "core/rtnl.h"
#include "core/tc.h"
#include "core/util.h"
#include "probe.skel.h"

static int link_up(const char *dev)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		err = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
out:
	close(fd);
	return err;
}

int probe_netns_enter(struct fc_probe *p)
{
	struct fc_probe_priv *pv = p->priv;
	int fd, err;

	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(pv->net_err, sizeof(pv->net_err), "netns: %s", strerror(errno));
		return err;
	}
	if (unshare(CLONE_NEWNET)) {
		err = -errno;
		snprintf(pv->net_err, sizeof(pv->net_err), "unshare netns: %s", strerror(errno));
		close(fd);
		return err;
	}
	pv->orig_netns = fd;
	err = link_up("lo");
	if (err) {
		snprintf(pv->net_err, sizeof(pv->net_err), "scratch netns lo up: %s",
			 strerror(-err));
		probe_netns_leave(p);
	}
	return err;
}

void probe_netns_leave(struct fc_probe *p)
{
	struct fc_probe_priv *pv = p->priv;

	if (pv->orig_netns < 0)
		return;
	/* Dropping our reference frees the namespace, and everything in it, in the kernel. */
	if (setns(pv->orig_netns, CLONE_NEWNET))
		fprintf(stderr, "faultcell: cannot return to the original netns: %s\n",
			strerror(errno));
	close(pv->orig_netns);
	pv->orig_netns = -1;
}

/* The trigger for every tc and cgroup_skb probe: a few UDP datagrams to the discard port. */
int probe_udp_burst(void *arg)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd, err = 0;

	(void)arg;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	for (int i = 0; i < 3 && !err; i++)
		if (sendto(fd, "fc", 2, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			err = -errno;
	close(fd);
	return err;
}

/* ---- tc attach: clsact + cls_bpf, or a TCX link ---- */

struct tc_att {
	int link_fd; /* TCX */
	bool clsact; /* hook created */
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
};

static int attach_clsact(struct fc_probe_result *r, int prog_fd, struct tc_att *a)
{
	uint64_t t0 = fc_now_ns();
	int err;

	memset(a, 0, sizeof(*a));
	a->link_fd = -1;
	a->hook.sz = sizeof(a->hook);
	a->hook.ifindex = if_nametoindex("lo");
	a->hook.attach_point = BPF_TC_EGRESS;
	a->opts.sz = sizeof(a->opts);
	a->opts.prog_fd = prog_fd;
	a->opts.handle = 1;
	a->opts.priority = 1;
	probe_log_mark();
	err = bpf_tc_hook_create(&a->hook);
	if (err && err != -EEXIST)
		return probe_fail(r, "clsact", err);
	a->clsact = true;
	err = bpf_tc_attach(&a->hook, &a->opts);
	if (err)
		return probe_fail(r, "attach", err);
	r->attach_ns += fc_now_ns() - t0;
	snprintf(r->via, sizeof(r->via), "clsact");
	return 0;
}

static int attach_tcx(struct fc_probe_result *r, int prog_fd, struct tc_att *a)
{
	uint64_t t0 = fc_now_ns();

	memset(a, 0, sizeof(*a));
	/* libbpf 1.1.2 predates TCX: a raw link with the kernel's attach type number. */
	a->link_fd = bpf_link_create(prog_fd, if_nametoindex("lo"), FC_BPF_TCX_EGRESS, NULL);
	if (a->link_fd < 0)
		return probe_fail(r, "attach", -errno);
	r->attach_ns += fc_now_ns() - t0;
	snprintf(r->via, sizeof(r->via), "TCX link");
	return 0;
}

static void tc_detach(struct fc_probe_result *r, struct tc_att *a)
{
	uint64_t t0 = fc_now_ns();

	if (a->link_fd < 0 && !a->clsact)
		return;
	if (a->link_fd >= 0) {
		close(a->link_fd);
		a->link_fd = -1;
	}
	if (a->clsact) {
		a->opts.prog_fd = a->opts.prog_id = a->opts.flags = 0;
		bpf_tc_detach(&a->hook, &a->opts);
		a->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&a->hook);
		a->clsact = false;
	}
	r->detach_ns += fc_now_ns() - t0;
}

/* Load @prog, attach it at lo egress (TCX or clsact), trigger from a child, count @hits. */
static int tc_probe(struct fc_probe *p, struct fc_probe_result *r, const char *prog, bool tcx,
		    bool any, volatile __u64 *(*hits)(struct probe_bpf *))
{
	struct tc_att a = { .link_fd = -1 };
	struct probe_child c;
	struct probe_bpf *skel;
	int err, res = 0, fd;

	/* in the cell when there is one: the ancestor match needs it, plain tc does not */
	err = probe_child_start(p, p->priv->cg_path[0], probe_udp_burst, NULL, &c);
	if (err)
		return probe_fail(r, "child", err);
	skel = probe_load(p, r, prog);
	if (!skel) {
		err = -EINVAL;
		goto out_child;
	}
	skel->bss->target_cgid = p->priv->cg_id;
	skel->bss->target_level = p->priv->cg_level;
	fd = probe_prog_fd(skel, prog);
	/* "any": the first that works, TCX where the kernel has it (fd-bound, design.md §3) */
	if (tcx || any)
		err = attach_tcx(r, fd, &a);
	if (!tcx && (!any || err)) {
		r->error[0] = r->detail[0] = 0;
		err = attach_clsact(r, fd, &a);
	}
	if (err)
		goto out_detach;
	err = probe_child_run(&c, 2000, &res);
	if (err || res) {
		err = probe_fail(r, "trigger", err ?: res);
		goto out_detach;
	}
	r->hits = *hits(skel);
	r->available = r->hits > 0;
out_detach:
	tc_detach(r, &a);
	if (r->available && skel->bss->tstamp_err)
		r->available = false;
	if (skel->bss->tstamp_err)
		probe_fail(r, "bpf_skb_set_tstamp", (int)skel->bss->tstamp_err);
	probe_bpf__destroy(skel);
out_child:
	probe_child_stop(&c);
	return err;
}

static volatile __u64 *hits_tc(struct probe_bpf *s)
{
	return &s->bss->hit_tc;
}

static volatile __u64 *hits_tc_anc(struct probe_bpf *s)
{
	return &s->bss->hit_tc_anc;
}

static volatile __u64 *hits_tc_tstamp(struct probe_bpf *s)
{
	return &s->bss->hit_tc_tstamp;
}

int probe_tc_clsact(struct fc_probe *p, struct fc_probe_result *r)
{
	return tc_probe(p, r, "p_tc", false, false, hits_tc);
}

int probe_tcx(struct fc_probe *p, struct fc_probe_result *r)
{
	return tc_probe(p, r, "p_tc", true, false, hits_tc);
}

int probe_skb_anc(struct fc_probe *p, struct fc_probe_result *r)
{
	return tc_probe(p, r, "p_tc_anc", false, true, hits_tc_anc);
}

int probe_skb_tstamp(struct fc_probe *p, struct fc_probe_result *r)
{
	return tc_probe(p, r, "p_tc_tstamp", false, true, hits_tc_tstamp);
}

/* ---- qdiscs over rtnetlink: the kernel's own extack message is the error ---- */

struct qstat {
	int ifindex;
	const char *kind;
	uint64_t packets;
};

/* A dump reply: the packets counter of our root qdisc (legacy TCA_STATS is still sent). */
static void qdisc_stats(struct nlmsghdr *h, void *arg)
{
	struct tcmsg *t = NLMSG_DATA(h);
	struct qstat *q = arg;
	struct rtattr *a = (struct rtattr *)((char *)t + NLMSG_ALIGN(sizeof(*t)));
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*t));
	bool kind_ok = false;
	uint64_t packets = 0;

	if (h->nlmsg_type != RTM_NEWQDISC || t->tcm_ifindex != q->ifindex ||
	    t->tcm_parent != TC_H_ROOT)
		return;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_KIND)
			kind_ok = !strcmp(RTA_DATA(a), q->kind);
		else if (a->rta_type == TCA_STATS && RTA_PAYLOAD(a) >= sizeof(struct tc_stats))
			packets = ((struct tc_stats *)RTA_DATA(a))->packets;
	}
	if (kind_ok)
		q->packets = packets;
}

static int qdisc_probe(struct fc_probe_result *r, const char *kind)
{
	struct qstat q = { .ifindex = (int)if_nametoindex("lo"), .kind = kind };
	struct tc_netem_qopt netem = { .limit = 1000 };
	char ext[128];
	struct fc_nlreq req;
	uint64_t t0;
	int err;

	fc_nl_tcreq(&req, RTM_NEWQDISC, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, q.ifindex, TC_H_ROOT,
		    0);
	fc_nl_attr(&req, TCA_KIND, kind, strlen(kind) + 1);
	/* netem refuses to exist without options; fq takes its defaults */
	if (!strcmp(kind, "netem"))
		fc_nl_attr(&req, TCA_OPTIONS, &netem, sizeof(netem));
	t0 = fc_now_ns();
	err = fc_nl_talk(&req, ext, sizeof(ext), NULL, NULL);
	if (err) {
		probe_fail(r, "add", err);
		snprintf(r->detail, sizeof(r->detail), "%s", ext);
		return err;
	}
	r->attach_ns = fc_now_ns() - t0;
	snprintf(r->via, sizeof(r->via), "root qdisc on scratch lo");
	err = probe_udp_burst(NULL);
	if (err) {
		probe_fail(r, "trigger", err);
		goto out_del;
	}
	fc_nl_tcreq(&req, RTM_GETQDISC, NLM_F_DUMP, 0, TC_H_ROOT, 0);
	err = fc_nl_talk(&req, NULL, 0, qdisc_stats, &q);
	if (err) {
		probe_fail(r, "dump", err);
		goto out_del;
	}
	r->hits = q.packets;
	r->available = r->hits > 0;
	if (!r->available)
		snprintf(r->error, sizeof(r->error), "trigger: no packet went through %s", kind);
out_del:
	fc_nl_tcreq(&req, RTM_DELQDISC, NLM_F_ACK, q.ifindex, TC_H_ROOT, 0);
	t0 = fc_now_ns();
	if (fc_nl_talk(&req, ext, sizeof(ext), NULL, NULL) == 0)
		r->detach_ns = fc_now_ns() - t0;
	return err;
}

int probe_sch_fq(struct fc_probe *p, struct fc_probe_result *r)
{
	(void)p;
	return qdisc_probe(r, "fq");
}

int probe_netem(struct fc_probe *p, struct fc_probe_result *r)
{
	(void)p;
	return qdisc_probe(r, "netem");
}

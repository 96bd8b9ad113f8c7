// SPDX-License-Identifier: BSD-2-Clause
/*
 * From mechanisms to what this host can run: each fault type of design.md §4 and each metric
 * source of §5, with the mechanism faultcell will use (preferred first, then the fallback),
 * or the kernel's own reasons why not.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/probe.h"

struct ctx {
	const struct fc_probe *p;
	struct fc_verdict *v;
};

static bool ok(struct ctx *c, const char *name)
{
	const struct fc_probe_result *r = fc_probe_find(c->p, name);

	if (!r || !r->probed)
		c->v->probed = false;
	return r && r->available;
}

static void yes(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void yes(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->v->how, sizeof(c->v->how), fmt, ap);
	va_end(ap);
	c->v->available = true;
}

/* "no: name (error); name (error)" for each missing mechanism named, NULL-terminated. */
static void no(struct ctx *c, ...)
{
	size_t used = 0, len = sizeof(c->v->how);
	const struct fc_probe_result *r;
	const char *name;
	va_list ap;

	c->v->available = false;
	if (!c->v->probed) {
		snprintf(c->v->how, len, "not probed (see --only)");
		return;
	}
	used = snprintf(c->v->how, len, "missing");
	va_start(ap, c);
	while ((name = va_arg(ap, const char *)) && used < len) {
		r = fc_probe_find(c->p, name);
		if (!r || !r->probed || r->available)
			continue;
		used += snprintf(c->v->how + used, len - used, "%s %s (%s)", used > 7 ? ";" : ":",
				 name, r->error);
	}
	va_end(ap);
}

static struct ctx start(struct fc_probe *p, struct fc_verdict *v, const char *name)
{
	memset(v, 0, sizeof(*v));
	v->name = name;
	v->probed = true;
	return (struct ctx){ .p = p, .v = v };
}

static void net_faults(struct fc_probe *p, struct fc_verdict *v, const char *name)
{
	struct ctx c = start(p, v, name);
	bool tcx = ok(&c, "tcx"), clsact = ok(&c, "tc_clsact"),
	     anc = ok(&c, "skb_ancestor_cgroup_id");
	bool skb = ok(&c, "cgroup_skb");
	const char *egress = tcx ? "TCX link" : "clsact + cls_bpf (recorded in the state file)";

	/* TCX maps TC_ACT_STOLEN to "next": there the drop is a redirect to nowhere (netloss.bpf.c)
	 */
	if ((tcx || clsact) && anc)
		yes(&c, "egress: tc %s, %s (TCP sees real loss)%s", egress,
		    tcx ? "redirect to ifindex 0" : "TC_ACT_STOLEN",
		    skb ? "; ingress: cgroup_skb" : "; ingress: missing cgroup_skb");
	else if (skb)
		yes(&c, "cgroup_skb only: ingress real loss, egress drops are local (UDP-only)");
	else
		no(&c, "tcx", "tc_clsact", "skb_ancestor_cgroup_id", "cgroup_skb", NULL);
}

static void faults(struct fc_probe *p)
{
	struct fc_verdict *f = p->faults;
	struct ctx c;

	net_faults(p, &f[0], "network-loss");
	net_faults(p, &f[1], "network-blackhole");

	c = start(p, &f[2], "network-latency");
	if ((ok(&c, "tcx") || ok(&c, "tc_clsact")) && ok(&c, "skb_set_tstamp") && ok(&c, "sch_fq"))
		yes(&c, "EDT: tc egress bpf_skb_set_tstamp(MONO) + sch_fq on the queueing device");
	else
		no(&c, "skb_set_tstamp", "sch_fq", "tcx", "tc_clsact", NULL);

	c = start(p, &f[3], "connect-error");
	if (ok(&c, "sock_addr"))
		yes(&c, "cgroup/connect4,6 + bpf_set_retval (any errno)");
	else
		no(&c, "sock_addr", NULL);

	c = start(p, &f[4], "send-error");
	{
		/* unconnected UDP only: TCP's sends are connect-error's (sk_msg is not used yet) */
		if (ok(&c, "sock_sendmsg"))
			yes(&c, "unconnected UDP: cgroup/sendmsg4,6 + bpf_set_retval");
		else
			no(&c, "sock_sendmsg", NULL);
	}

	c = start(p, &f[5], "file-error");
	{
		/* bpf_d_path is refused in lsm/file_permission: reads/writes need fmod_ret */
		bool fm = ok(&c, "fmod_ret");
		const char *rw = fm ? "; read/write: fmod_ret/security_file_permission"
				    : "; read/write: missing fmod_ret";

		if (ok(&c, "lsm"))
			yes(&c, "open: lsm/file_open%s; by cell and path (bpf_d_path)", rw);
		else if (ok(&c, "lsm_cgroup"))
			yes(&c, "open: lsm_cgroup/file_open on the cell%s; by path", rw);
		else if (fm)
			yes(&c, "open: fmod_ret/security_file_open%s; by cell and path", rw);
		else if (ok(&c, "override_return"))
			yes(&c, "open only: kprobe/openat + bpf_override_return");
		else
			no(&c, "lsm", "lsm_cgroup", "fmod_ret", "override_return", NULL);
	}

	c = start(p, &f[6], "kernel-function-error");
	if (ok(&c, "override_return"))
		yes(&c, "kprobe + bpf_override_return (error-injection list)");
	else if (ok(&c, "fmod_ret"))
		yes(&c, "fmod_ret (error-injection list and security_* only)");
	else
		no(&c, "override_return", "fmod_ret", NULL);

	c = start(p, &f[7], "process-kill");
	if (ok(&c, "cgroup2") && ok(&c, "pidfd"))
		yes(&c, "pidfd_send_signal to thread-group leaders of the cell's subtree");
	else
		no(&c, "cgroup2", "pidfd", NULL);

	c = start(p, &f[8], "pod-kill");
	if (ok(&c, "cgroup_kill"))
		yes(&c, "cgroup.kill on each pod (child cgroup of the cell)");
	else
		no(&c, "cgroup_kill", NULL);

	c = start(p, &f[9], "cell-pause");
	if (ok(&c, "cgroup_freeze"))
		yes(&c, "cgroup.freeze for a bounded time, thaw guaranteed by the guard");
	else
		no(&c, "cgroup_freeze", NULL);
}

static const char *tp_via(const struct fc_probe *p, const char *name)
{
	const struct fc_probe_result *r = fc_probe_find(p, name);

	return r && r->via[0] ? r->via : "tp_btf";
}

static void metrics(struct fc_probe *p)
{
	struct fc_verdict *m = p->metrics;
	const char *names[] = { "syscall_latency", "syscall_errors" };
	struct ctx c;

	for (int i = 0; i < 2; i++) {
		c = start(p, &m[i], names[i]);
		if (ok(&c, "raw_tp") && ok(&c, "current_ancestor_cgroup_id"))
			yes(&c, "raw_tp sys_enter/sys_exit (adds ~80 ns to every syscall on the "
				"host)");
		else if (ok(&c, "tp_btf") && ok(&c, "current_ancestor_cgroup_id"))
			yes(&c, "tp_btf sys_enter/sys_exit (adds to every syscall on the host)");
		else
			no(&c, "raw_tp", "tp_btf", "current_ancestor_cgroup_id", NULL);
	}

	c = start(p, &m[2], "tcp_connect_latency");
	if (ok(&c, "tcp_state_tp"))
		yes(&c, "%s inet_sock_set_state, by the socket's cgroup",
		    tp_via(p, "tcp_state_tp"));
	else
		no(&c, "tcp_state_tp", NULL);

	c = start(p, &m[3], "tcp_retransmits");
	if (ok(&c, "tcp_retransmit_tp"))
		yes(&c, "%s tcp_retransmit_skb, by the socket's cgroup",
		    tp_via(p, "tcp_retransmit_tp"));
	else
		no(&c, "tcp_retransmit_tp", NULL);

	c = start(p, &m[4], "tcp_resets");
	if (ok(&c, "tcp_reset_tp"))
		yes(&c, "%s tcp_receive_reset, by the socket's cgroup", tp_via(p, "tcp_reset_tp"));
	else
		no(&c, "tcp_reset_tp", NULL);

	c = start(p, &m[5], "function_latency");
	if (ok(&c, "uprobe"))
		yes(&c, "uprobe + uretprobe on binary:symbol");
	else
		no(&c, "uprobe", NULL);

	c = start(p, &m[6], "kernel_function_latency");
	if (ok(&c, "fentry") && ok(&c, "fexit"))
		yes(&c, "fentry + fexit");
	else if (ok(&c, "kprobe"))
		yes(&c, "kprobe + kretprobe (fentry/fexit missing)");
	else
		no(&c, "fentry", "fexit", "kprobe", NULL);
}

void probe_verdicts(struct fc_probe *p)
{
	faults(p);
	metrics(p);
}

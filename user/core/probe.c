// SPDX-License-Identifier: BSD-2-Clause
/*
 * The probe's frame: the mechanism table, the run loop, loading one mechanism at a time,
 * recording the kernel's own errors, and the helper processes that trigger programs from
 * inside the scratch cell. The mechanisms themselves live in probe_{cell,net,incell,trace}.c,
 * the verdicts in probe_verdict.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "core/control.h"
#include "core/inventory.h"
#include "core/probe.h"
#include "core/util.h"
#include "probe.skel.h"

#define C PROBE_NEED_CELL
#define N PROBE_NEED_NET
/* Probe order is print order: cells first, then network faults, then tracing, then helpers. */
static const struct fc_probe_mech mechs[] = {
	{ "cgroup2", "cgroup2 mount; a child joins the scratch cell", C, probe_cgroup2 },
	{ "cgroup_freeze", "cgroup.freeze 1/0 on the scratch cell with a child inside", C,
	  probe_cgroup_freeze },
	{ "cgroup_kill", "cgroup.kill on the scratch cell with a child inside", C,
	  probe_cgroup_kill },
	{ "pidfd", "pidfd_open + pidfd_send_signal(SIGKILL) to a child", C, probe_pidfd },
	{ "cgroup_skb", "cgroup_skb/egress link on the cell, UDP sends from the cell", C | N,
	  probe_cgroup_skb },
	{ "tc_clsact", "clsact + cls_bpf egress on lo of a scratch netns, UDP sends", N,
	  probe_tc_clsact },
	{ "tcx", "TCX egress link (attach type 47) on lo of a scratch netns, UDP sends", N,
	  probe_tcx },
	{ "skb_ancestor_cgroup_id", "tc egress matching the sender's cell by ancestor id", C | N,
	  probe_skb_anc },
	{ "skb_set_tstamp", "tc egress bpf_skb_set_tstamp(now, MONO) on UDP sends (EDT)", C | N,
	  probe_skb_tstamp },
	{ "sch_fq", "fq root qdisc on lo of a scratch netns, packets counted through it", N,
	  probe_sch_fq },
	{ "netem", "netem root qdisc on lo of a scratch netns, packets counted through it", N,
	  probe_netem },
	{ "sock_addr", "cgroup/connect4 + bpf_set_retval(-ECONNREFUSED), UDP connect", C | N,
	  probe_sock_addr },
	{ "sock_sendmsg", "cgroup/sendmsg4 + bpf_set_retval(-ENETUNREACH), UDP sendto", C | N,
	  probe_sock_sendmsg },
	{ "sk_msg", "sock_ops fills a sockhash, sk_msg SK_DROP, TCP send() gets EACCES", C | N,
	  probe_sk_msg },
	{ "raw_tp", "raw_tp/sys_enter, our own syscalls", 0, probe_raw_tp },
	{ "tp_btf", "tp_btf/sys_enter, our own syscalls", 0, probe_tp_btf },
	{ "current_ancestor_cgroup_id", "raw_tp matching a cell child by ancestor id", C,
	  probe_task_anc },
	{ "tcp_state_tp", "inet_sock_set_state (tp_btf, else raw_tp) by socket cgroup, TCP connect",
	  C | N, probe_tcp_state },
	{ "tcp_reset_tp", "tcp_receive_reset (tp_btf, else raw_tp), connect to a closed port",
	  C | N, probe_tcp_reset },
	{ "tcp_retransmit_tp", "tcp_retransmit_skb (tp_btf, else raw_tp), one segment dropped",
	  C | N, probe_tcp_retrans },
	{ "uprobe", "uprobe + uretprobe on a function of this binary", 0, probe_uprobe },
	{ "kprobe", "kprobe + kretprobe on the getpid syscall function (kallsyms)", 0,
	  probe_kprobe },
	{ "fentry", "fentry/security_file_open, open(/dev/null)", 0, probe_fentry },
	{ "fexit", "fexit/security_file_open, open(/dev/null)", 0, probe_fexit },
	{ "fmod_ret", "fmod_ret/security_file_open returns -EREMOTEIO once", 0, probe_fmod_ret },
	{ "lsm", "lsm/file_open returns -EREMOTEIO once (and 'bpf' in the LSM list)", 0,
	  probe_lsm },
	{ "lsm_cgroup", "lsm_cgroup/file_open on the cell denies one open (EPERM)", C,
	  probe_lsm_cgroup },
	{ "override_return", "kprobe + bpf_override_return: getpid() returns our value once", 0,
	  probe_override },
	{ "send_signal", "bpf_send_signal(SIGUSR1) from raw_tp/sys_enter", 0, probe_send_signal },
	{ "ringbuf", "bpf_ringbuf_reserve/submit in a test run, events consumed", 0,
	  probe_ringbuf },
	{ "bpf_timer", "bpf_timer started in a tc program (test run), callback counted", 0,
	  probe_timer },
};
#undef C
#undef N

#define NMECH ((int)ARRAY_SIZE(mechs))

const char *const *fc_probe_mech_names(void)
{
	static const char *names[NMECH + 1];

	for (int i = 0; i < NMECH; i++)
		names[i] = mechs[i].name;
	return names;
}

bool fc_probe_known(const char *name)
{
	for (int i = 0; i < NMECH; i++)
		if (!strcmp(mechs[i].name, name))
			return true;
	return false;
}

const struct fc_probe_result *fc_probe_find(const struct fc_probe *p, const char *name)
{
	for (int i = 0; i < p->nmech; i++)
		if (!strcmp(p->mech[i].name, name))
			return &p->mech[i];
	return NULL;
}

struct fc_probe *fc_probe_new(const struct fc_probe_opts *opts)
{
	const char *only = opts ? opts->only : NULL;
	struct fc_probe *p;

	if (only && !fc_probe_known(only)) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->priv = calloc(1, sizeof(*p->priv));
	p->mech = calloc(NMECH, sizeof(*p->mech));
	if (!p->priv || !p->mech) {
		fc_probe_free(p);
		errno = ENOMEM;
		return NULL;
	}
	p->priv->orig_netns = -1;
	p->nmech = NMECH;
	for (int i = 0; i < NMECH; i++) {
		p->mech[i].name = mechs[i].name;
		p->mech[i].what = mechs[i].what;
		p->mech[i].probed = !only || !strcmp(only, mechs[i].name);
	}
	return p;
}

void fc_probe_free(struct fc_probe *p)
{
	if (!p)
		return;
	if (p->priv)
		free(p->priv->log_buf);
	free(p->priv);
	free(p->mech);
	free(p);
}

/*
 * libbpf says *why* (which kprobe, which BTF id) only through its print callback, which has
 * no context argument: keep its first warning after a mark here, and pass everything on.
 */
static libbpf_print_fn_t prev_print;
static char first_warn[256];

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list copy;
	char *s;

	if (level == LIBBPF_WARN && !first_warn[0]) {
		va_copy(copy, ap);
		vsnprintf(first_warn, sizeof(first_warn), fmt, copy);
		va_end(copy);
		first_warn[strcspn(first_warn, "\n")] = 0;
		s = first_warn;
		if (!strncmp(s, "libbpf: ", 8))
			memmove(s, s + 8, strlen(s + 8) + 1);
	}
	return prev_print ? prev_print(level, fmt, ap) : 0;
}

void probe_log_mark(void)
{
	first_warn[0] = 0;
}

static void errstr(int err, char *buf, size_t len)
{
	if (err < 0)
		err = -err;
	/* libbpf's own codes (4000+) mean nothing to strerror */
	if (err >= 4000)
		libbpf_strerror(err, buf, len);
	else
		snprintf(buf, len, "%s", strerror(err));
}

int probe_fail(struct fc_probe_result *r, const char *stage, int err)
{
	char es[96];

	errstr(err ?: -EINVAL, es, sizeof(es));
	snprintf(r->error, sizeof(r->error), "%s: %s", stage, es);
	/* "BPF program load failed: <errno>" only repeats the error */
	if (!r->detail[0] && first_warn[0] && !strstr(first_warn, "program load failed"))
		snprintf(r->detail, sizeof(r->detail), "%s", first_warn);
	r->available = false;
	return err ?: -EINVAL;
}

/* The verifier's own reason: its last line that is not a statistics line. */
static void verifier_reason(const char *log, char *out, size_t len)
{
	const char *line = log, *best = NULL, *end;
	size_t bestlen = 0, n;

	while (line && *line) {
		end = strchr(line, '\n');
		n = end ? (size_t)(end - line) : strlen(line);
		if (n && strncmp(line, "processed ", 10) &&
		    strncmp(line, "verification time", 17) && strncmp(line, "stack depth", 11)) {
			best = line;
			bestlen = n;
		}
		line = end ? end + 1 : NULL;
	}
	if (best)
		snprintf(out, len, "verifier: %.*s", (int)bestlen, best);
}

static bool in_list(const char *name, const char *list)
{
	size_t n = strlen(name);

	for (const char *s = list; (s = strstr(s, name)); s += n)
		if ((s == list || s[-1] == ' ') && (s[n] == ' ' || !s[n]))
			return true;
	return false;
}

struct probe_bpf *probe_load(struct fc_probe *p, struct fc_probe_result *r, const char *progs)
{
	struct fc_probe_priv *pv = p->priv;
	struct bpf_program *prog;
	struct probe_bpf *skel;
	int err;

	if (!pv->log_buf) {
		pv->log_size = 64 * 1024;
		pv->log_buf = calloc(1, pv->log_size);
		if (!pv->log_buf) {
			probe_fail(r, "open", -ENOMEM);
			return NULL;
		}
	}
	probe_log_mark();
	skel = probe_bpf__open();
	if (!skel) {
		probe_fail(r, "open", -errno);
		return NULL;
	}
	pv->log_buf[0] = 0;
	bpf_object__for_each_program(prog, skel->obj)
	{
		bool want = in_list(bpf_program__name(prog), progs);

		bpf_program__set_autoload(prog, want);
		if (want)
			bpf_program__set_log_buf(prog, pv->log_buf, pv->log_size);
	}
	/* The tag makes the inventory see these programs while they live (design.md §3). */
	err = fc_obj_set_rodata(skel->obj, "bpf_metadata_faultcell_run", p->run_id,
				strlen(p->run_id) + 1);
	if (err) {
		probe_fail(r, "open", err);
		goto err_destroy;
	}
	err = probe_bpf__load(skel);
	if (err) {
		verifier_reason(pv->log_buf, r->detail, sizeof(r->detail));
		probe_fail(r, "load", err);
		goto err_destroy;
	}
	return skel;
err_destroy:
	probe_bpf__destroy(skel);
	return NULL;
}

int probe_prog_fd(struct probe_bpf *skel, const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(skel->obj, name);

	return prog ? bpf_program__fd(prog) : -ENOENT;
}

int probe_attach(struct fc_probe_result *r, struct bpf_link **link, struct bpf_program *prog,
		 int cgroup_fd)
{
	uint64_t t0 = fc_now_ns();

	probe_log_mark();
	*link = cgroup_fd >= 0 ? bpf_program__attach_cgroup(prog, cgroup_fd)
			       : bpf_program__attach(prog);
	if (!*link)
		return probe_fail(r, "attach", -errno);
	r->attach_ns += fc_now_ns() - t0;
	return 0;
}

void probe_detach(struct fc_probe_result *r, struct bpf_link **link)
{
	uint64_t t0 = fc_now_ns();

	if (!*link)
		return;
	bpf_link__destroy(*link);
	*link = NULL;
	r->detach_ns += fc_now_ns() - t0;
}

/* ---- helper processes ---- */

static int read_int(int fd, int *val, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc;

	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	if (!rc)
		return -ETIMEDOUT;
	n = read(fd, val, sizeof(*val));
	return n == sizeof(*val) ? 0 : -EPIPE;
}

int probe_child_start(struct fc_probe *p, bool in_cell, probe_child_fn fn, void *arg,
		      struct probe_child *c)
{
	int go[2], res[2], st = 0, err;
	char procs[PATH_MAX + 16], pid[16], b;

	c->pid = -1;
	c->go_fd = c->res_fd = -1;
	if (in_cell && !p->priv->cg_path[0])
		return -ENOENT;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", p->priv->cg_path);
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(res, O_CLOEXEC)) {
		err = -errno;
		close(go[0]);
		close(go[1]);
		return err;
	}
	fflush(NULL); /* or the child's exit would print our buffered output twice */
	c->pid = fork();
	if (c->pid < 0) {
		err = -errno;
		close(go[0]);
		close(go[1]);
		close(res[0]);
		close(res[1]);
		return err;
	}
	if (c->pid == 0) {
		close(go[1]);
		close(res[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (in_cell) {
			snprintf(pid, sizeof(pid), "%d", getpid());
			st = fc_write_file(procs, pid);
		}
		if (write(res[1], &st, sizeof(st)) != sizeof(st) || st)
			_exit(1);
		/* EOF instead of "go": the probe is done with us (or died) */
		if (read(go[0], &b, 1) != 1)
			_exit(0);
		st = fn ? fn(arg) : 0;
		if (write(res[1], &st, sizeof(st)) != sizeof(st))
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(res[1]);
	c->go_fd = go[1];
	c->res_fd = res[0];
	err = read_int(c->res_fd, &st, 5000);
	if (!err && st)
		err = st;
	if (err)
		probe_child_stop(c);
	return err;
}

int probe_child_run(struct probe_child *c, int timeout_ms, int *result)
{
	int err;

	if (c->pid <= 0)
		return -ESRCH;
	if (write(c->go_fd, "g", 1) != 1)
		return -errno;
	err = read_int(c->res_fd, result, timeout_ms);
	probe_child_stop(c);
	return err;
}

void probe_child_stop(struct probe_child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	c->pid = -1;
	if (c->go_fd >= 0)
		close(c->go_fd);
	if (c->res_fd >= 0)
		close(c->res_fd);
	c->go_fd = c->res_fd = -1;
}

/* ---- the run ---- */

static unsigned int selected_needs(const struct fc_probe *p)
{
	unsigned int needs = 0;

	for (int i = 0; i < NMECH; i++)
		if (p->mech[i].probed)
			needs |= mechs[i].needs;
	return needs;
}

/*
 * A destroyed raw_tp or tracing link drops its program only after an RCU grace period
 * (bpf_link_free → dealloc_deferred on 6.9+): wait until nothing tagged with our run id is
 * left, so "leaves nothing behind" holds when we return. Returns what remains.
 */
static int wait_gone(const char *run_id)
{
	struct fc_inventory inv;
	int n = 0;

	for (int i = 0; i < 400; i++) {
		if (fc_inventory_collect(&inv, run_id))
			return 0; /* cannot tell: nothing to wait for */
		n = inv.n;
		fc_inventory_free(&inv);
		if (!n)
			break;
		usleep(5000);
	}
	return n;
}

int fc_probe_run(struct fc_probe *p)
{
	struct fc_probe_priv *pv = p->priv;
	unsigned int needs = selected_needs(p);
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	uint64_t t0 = fc_now_ns();
	struct utsname u;
	int i;

	if (!uname(&u))
		snprintf(p->kernel, sizeof(p->kernel), "%s", u.release);
	fc_make_run_id(p->run_id, sizeof(p->run_id));
	probe_read_lsm(p);
	/* a helper that died early must not take us with it when we write its "go" */
	sigaction(SIGPIPE, &ign, &old_pipe);
	prev_print = libbpf_set_print(capture_print);
	if (needs & PROBE_NEED_CELL)
		probe_cell_setup(p);
	if (needs & PROBE_NEED_NET)
		probe_netns_enter(p);
	for (i = 0; i < NMECH; i++) {
		struct fc_probe_result *r = &p->mech[i];

		if (!r->probed)
			continue;
		if ((mechs[i].needs & PROBE_NEED_CELL) && !pv->cg_path[0]) {
			snprintf(r->error, sizeof(r->error), "%s", pv->cg_err);
			continue;
		}
		if ((mechs[i].needs & PROBE_NEED_NET) && pv->orig_netns < 0) {
			snprintf(r->error, sizeof(r->error), "%s", pv->net_err);
			continue;
		}
		mechs[i].run(p, r);
		if (r->available)
			r->error[0] = r->detail[0] = 0;
		else if (!r->error[0])
			snprintf(r->error, sizeof(r->error), "trigger: attached but never ran");
	}
	probe_netns_leave(p);
	probe_cell_teardown(p);
	libbpf_set_print(prev_print);
	sigaction(SIGPIPE, &old_pipe, NULL);
	p->leftover = wait_gone(p->run_id);
	probe_verdicts(p);
	p->total_ns = fc_now_ns() - t0;
	return 0;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tracing programs triggered by this process itself (raw_tp, tp_btf, uprobe, kprobe, the BPF
 * trampoline family, BPF LSM, bpf_override_return, bpf_send_signal), and the helpers checked
 * through BPF_PROG_TEST_RUN (ring buffer, bpf_timer). Every program filters on our tgid, and
 * every effect (a denied open, an overridden getpid) is one-shot and armed right before its
 * trigger, so nothing else on the host — nor anything else we do — is ever affected.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/probe.h"
#include "core/util.h"
#include "probe.skel.h"

/* Must match bpf/probe.bpf.c. */
#define PROBE_EREMOTEIO	  121
#define PROBE_OVERRIDE_RC 0x7ffc0de
#define PROBE_RB_MAGIC	  0xfc0be11ULL

struct self_spec {
	const char *progs;
	/* custom attach (by name or offset); NULL attaches every loaded program by section */
	int (*attach)(struct fc_probe_result *r, struct probe_bpf *skel, struct bpf_link **links,
		      int *nl);
	int (*trigger)(void);
	const char *call;
	int expect; /* the trigger's result when the program acted */
	__u32 shots;
	__u64 (*hits)(struct probe_bpf *);
	__u64 (*also)(struct probe_bpf *);
	const char *also_name;
};

static void describe(int v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "%s", strerror(-v));
	else if (!v)
		snprintf(buf, len, "success");
	else
		snprintf(buf, len, "%d", v);
}

static int run_self(struct fc_probe *p, struct fc_probe_result *r, const struct self_spec *s)
{
	struct bpf_link *links[4] = {};
	struct bpf_program *prog;
	struct probe_bpf *skel;
	char got[64], want[64];
	int err = 0, nl = 0, res;

	skel = probe_load(p, r, s->progs);
	if (!skel)
		return -EINVAL;
	skel->bss->target_tgid = getpid();
	if (s->attach) {
		err = s->attach(r, skel, links, &nl);
	} else {
		bpf_object__for_each_program(prog, skel->obj)
		{
			if (!bpf_program__autoload(prog))
				continue;
			err = probe_attach(r, &links[nl++], prog, -1);
			if (err)
				break;
		}
	}
	if (err)
		goto out;
	/* armed only now: between here and the trigger this process does nothing else */
	skel->bss->shots = s->shots;
	res = s->trigger();
	skel->bss->shots = 0;
	r->hits = s->hits(skel);
	if (!r->hits)
		goto out; /* never ran: the result says nothing about the program */
	if (res != s->expect) {
		describe(res, got, sizeof(got));
		describe(s->expect, want, sizeof(want));
		snprintf(r->error, sizeof(r->error), "effect: %s got %s, expected %s", s->call, got,
			 want);
		err = -EPROTO;
	} else if (s->also && !s->also(skel)) {
		snprintf(r->error, sizeof(r->error), "trigger: %s never ran", s->also_name);
		err = -EPROTO;
	} else {
		r->available = true;
	}
out:
	for (int i = 0; i < nl; i++)
		probe_detach(r, &links[i]);
	probe_bpf__destroy(skel);
	return err;
}

/* ---- triggers ---- */

static int do_syscalls(void)
{
	for (int i = 0; i < 3; i++)
		syscall(SYS_getppid);
	return 0;
}

static int do_open(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int do_getpid(void)
{
	return (int)syscall(SYS_getpid);
}

static int do_getpids(void)
{
	for (int i = 0; i < 3; i++)
		syscall(SYS_getpid);
	return 0;
}

/* The uprobe target: not inlined, not folded, called through a volatile pointer. */
static __attribute__((noinline)) int uprobe_target(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x + 1;
}

static int do_call(void)
{
	int (*volatile fn)(int) = uprobe_target;

	return fn(41) == 42 ? 0 : -EPROTO;
}

static volatile sig_atomic_t got_signal;

static void on_usr1(int sig)
{
	(void)sig;
	got_signal = 1;
}

/*
 * The signal is delivered on our way back from the syscall that sent it; give it a few. The
 * handler is installed before the program is armed: sigaction() is a syscall too.
 */
static int do_signal(void)
{
	for (int i = 0; i < 200 && !got_signal; i++) {
		syscall(SYS_getppid);
		if (!got_signal)
			usleep(1000);
	}
	return got_signal ? 0 : -ETIMEDOUT;
}

/* ---- attach by name or offset ---- */

/* File offset of @addr in the executable mapping that holds it, and that file's path. */
static int func_offset(const void *addr, char *path, size_t len, unsigned long *off)
{
	unsigned long a = (unsigned long)addr, start, end, pgoff;
	char line[PATH_MAX + 128], perms[8], file[PATH_MAX];
	int err = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		file[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %4095s", &start, &end, perms, &pgoff,
			   file) != 5)
			continue;
		if (a < start || a >= end || perms[2] != 'x')
			continue;
		*off = a - start + pgoff;
		snprintf(path, len, "%s", file);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

static int attach_uprobes(struct fc_probe_result *r, struct probe_bpf *skel,
			  struct bpf_link **links, int *nl)
{
	char path[PATH_MAX];
	unsigned long off = 0;
	uint64_t t0;
	int err;

	err = func_offset((const void *)uprobe_target, path, sizeof(path), &off);
	if (err)
		return probe_fail(r, "resolve", err);
	for (int ret = 0; ret < 2; ret++) {
		struct bpf_program *prog = ret ? skel->progs.p_uretprobe : skel->progs.p_uprobe;

		probe_log_mark();
		t0 = fc_now_ns();
		links[*nl] = bpf_program__attach_uprobe(prog, ret, getpid(), path, off);
		if (!links[*nl])
			return probe_fail(r, "attach", -errno);
		r->attach_ns += fc_now_ns() - t0;
		(*nl)++;
	}
	return 0;
}

/*
 * The getpid syscall function by its name in this kernel: syscall wrappers carry an arch
 * prefix since 4.17 (x86) and 5.x (others). Resolved against kallsyms, never hard-coded.
 */
static int getpid_symbol(char *buf, size_t len)
{
	static const char *const cand[] = { "__x64_sys_getpid", "__arm64_sys_getpid",
					    "__s390x_sys_getpid", "__riscv_sys_getpid",
					    "sys_getpid" };
	char line[512], name[256];
	int best = ARRAY_SIZE(cand);
	FILE *f;

	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return -errno;
	while (best > 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %255s", name) != 1)
			continue;
		for (int i = 0; i < best; i++)
			if (!strcmp(name, cand[i]))
				best = i;
	}
	fclose(f);
	if (best == (int)ARRAY_SIZE(cand))
		return -ENOENT;
	snprintf(buf, len, "%s", cand[best]);
	return 0;
}

static int attach_kprobes(struct fc_probe_result *r, struct probe_bpf *skel,
			  struct bpf_link **links, int *nl, bool override)
{
	struct bpf_program *progs[2] = { skel->progs.p_kprobe, skel->progs.p_kretprobe };
	char sym[64];
	uint64_t t0;
	int err;

	err = getpid_symbol(sym, sizeof(sym));
	if (err)
		return probe_fail(r, "resolve getpid syscall in /proc/kallsyms", err);
	snprintf(r->via, sizeof(r->via), "%s", sym);
	if (override)
		progs[0] = skel->progs.p_override;
	for (int i = 0; i < (override ? 1 : 2); i++) {
		probe_log_mark();
		t0 = fc_now_ns();
		links[*nl] = bpf_program__attach_kprobe(progs[i], i == 1, sym);
		if (!links[*nl])
			return probe_fail(r, "attach", -errno);
		r->attach_ns += fc_now_ns() - t0;
		(*nl)++;
	}
	return 0;
}

static int attach_kprobe_pair(struct fc_probe_result *r, struct probe_bpf *skel,
			      struct bpf_link **links, int *nl)
{
	return attach_kprobes(r, skel, links, nl, false);
}

static int attach_override(struct fc_probe_result *r, struct probe_bpf *skel,
			   struct bpf_link **links, int *nl)
{
	return attach_kprobes(r, skel, links, nl, true);
}

#define HITS(field)                                                                                \
	static __u64 hits_##field(struct probe_bpf *s)                                             \
	{                                                                                          \
		return s->bss->hit_##field;                                                        \
	}
HITS(raw_tp)
HITS(tp_btf)
HITS(uprobe)
HITS(uretprobe)
HITS(kprobe)
HITS(kretprobe)
HITS(fentry)
HITS(fexit)
HITS(fmod_ret)
HITS(lsm)
HITS(override)
HITS(send_signal)

#define SELF(fname, ...)                                                                           \
	int fname(struct fc_probe *p, struct fc_probe_result *r)                                   \
	{                                                                                          \
		static const struct self_spec s = { __VA_ARGS__ };                                 \
		return run_self(p, r, &s);                                                         \
	}

SELF(probe_raw_tp, .progs = "p_raw_tp", .trigger = do_syscalls, .hits = hits_raw_tp)
SELF(probe_tp_btf, .progs = "p_tp_btf", .trigger = do_syscalls, .hits = hits_tp_btf)
SELF(probe_uprobe, .progs = "p_uprobe p_uretprobe", .attach = attach_uprobes, .trigger = do_call,
     .hits = hits_uprobe, .also = hits_uretprobe, .also_name = "uretprobe")
SELF(probe_kprobe, .progs = "p_kprobe p_kretprobe", .attach = attach_kprobe_pair,
     .trigger = do_getpids, .hits = hits_kprobe, .also = hits_kretprobe, .also_name = "kretprobe")
SELF(probe_fentry, .progs = "p_fentry", .trigger = do_open, .hits = hits_fentry)
SELF(probe_fexit, .progs = "p_fexit", .trigger = do_open, .hits = hits_fexit)
SELF(probe_fmod_ret, .progs = "p_fmod_ret", .trigger = do_open, .call = "open()",
     .expect = -PROBE_EREMOTEIO, .shots = 1, .hits = hits_fmod_ret)
SELF(probe_override, .progs = "p_override", .attach = attach_override, .trigger = do_getpid,
     .call = "getpid()", .expect = PROBE_OVERRIDE_RC, .shots = 1, .hits = hits_override)

int probe_send_signal(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct self_spec s = {
		.progs = "p_send_signal",
		.trigger = do_signal,
		.call = "SIGUSR1 delivery",
		.shots = 1,
		.hits = hits_send_signal,
	};
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	int err;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, &old))
		return probe_fail(r, "sigaction", -errno);
	got_signal = 0;
	err = run_self(p, r, &s);
	sigaction(SIGUSR1, &old, NULL);
	return err;
}

/* An LSM program attaches fine and never runs when "bpf" is not an active LSM. */
int probe_lsm(struct fc_probe *p, struct fc_probe_result *r)
{
	static const struct self_spec s = {
		.progs = "p_lsm",
		.trigger = do_open,
		.call = "open()",
		.expect = -PROBE_EREMOTEIO,
		.shots = 1,
		.hits = hits_lsm,
	};
	int err = run_self(p, r, &s);

	if (!r->hits && !r->error[0]) {
		if (p->lsm[0] && !strstr(p->lsm, "bpf"))
			snprintf(r->error, sizeof(r->error),
				 "trigger: attached but never ran ('bpf' is not an active LSM: %s)",
				 p->lsm);
		else
			snprintf(r->error, sizeof(r->error), "trigger: attached but never ran");
	}
	return err;
}

/* ---- BPF_PROG_TEST_RUN: a deterministic trigger without attaching anything ---- */

static int test_run(struct fc_probe_result *r, int prog_fd)
{
	char pkt[64] = {}; /* an Ethernet frame is all a tc program's test run needs */
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);
	uint64_t t0 = fc_now_ns();

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return probe_fail(r, "test run", -errno);
	r->attach_ns += fc_now_ns() - t0;
	return 0;
}

static int count_event(void *ctx, void *data, size_t size)
{
	if (size >= sizeof(__u64) && *(__u64 *)data == PROBE_RB_MAGIC)
		(*(uint64_t *)ctx)++;
	return 0;
}

int probe_ringbuf(struct fc_probe *p, struct fc_probe_result *r)
{
	struct ring_buffer *rb = NULL;
	struct probe_bpf *skel;
	uint64_t events = 0;
	int err, fd;

	skel = probe_load(p, r, "p_ringbuf");
	if (!skel)
		return -EINVAL;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.fc_events), count_event, &events, NULL);
	if (!rb) {
		err = probe_fail(r, "ring_buffer__new", -errno);
		goto out;
	}
	fd = bpf_program__fd(skel->progs.p_ringbuf);
	for (int i = 0; i < 3; i++) {
		err = test_run(r, fd);
		if (err)
			goto out;
	}
	err = ring_buffer__consume(rb);
	if (err < 0) {
		probe_fail(r, "consume", err);
		goto out;
	}
	err = 0;
	r->hits = events;
	r->available = events == skel->bss->hit_ringbuf && events > 0;
	if (!r->available && skel->bss->hit_ringbuf)
		snprintf(r->error, sizeof(r->error), "consume: %llu of %llu events",
			 (unsigned long long)events, (unsigned long long)skel->bss->hit_ringbuf);
out:
	ring_buffer__free(rb);
	probe_bpf__destroy(skel);
	return err;
}

int probe_timer(struct fc_probe *p, struct fc_probe_result *r)
{
	struct probe_bpf *skel;
	int err;

	skel = probe_load(p, r, "p_timer");
	if (!skel)
		return -EINVAL;
	err = test_run(r, bpf_program__fd(skel->progs.p_timer));
	if (err)
		goto out;
	if (!skel->bss->hit_timer) {
		err = probe_fail(r, "bpf_timer_start", -EINVAL);
		goto out;
	}
	/* a 0 ns timer fires at the next hrtimer interrupt; allow a generous second */
	for (int i = 0; i < 1000 && !skel->bss->hit_timer_cb; i++)
		usleep(1000);
	r->hits = skel->bss->hit_timer_cb;
	r->available = r->hits > 0;
	if (!r->available)
		snprintf(r->error, sizeof(r->error), "trigger: the callback never ran");
out:
	probe_bpf__destroy(skel);
	return err;
}

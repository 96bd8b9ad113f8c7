// SPDX-License-Identifier: BSD-2-Clause
/*
 * Bench helpers for bench/p5-*.sh, bench/p6-*.sh (not tests: `fc-test --worker NAME`).
 *   bench_calls N ROUNDS     ns per getppid() syscall, the median of ROUNDS batches of N
 *   bench_hook rawtp|tp      attach empty raw_tp or perf-event tp programs, "ready", wait
 *   bench_p6 SECONDS         histogram updates (test_run repeat) and ring-buffer export rates
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/control.h"
#include "fc_event.h"
#include "fc_metrics.h"
#include "lib/test.h"
#include "trace_selftest.skel.h"

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_calls(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000, r = argc > 2 ? atol(argv[2]) : 5, i, k;
	double v[64];
	uint64_t t0;

	if (r > 64)
		r = 64;
	for (k = 0; k < r; k++) {
		t0 = mono();
		for (i = 0; i < n; i++)
			syscall(SYS_getppid);
		v[k] = (double)(mono() - t0) / n;
	}
	qsort(v, r, sizeof(*v), cmp_d);
	printf("%.2f\n", v[r / 2]);
	return 0;
}
FC_WORKER(bench_calls, bench_calls);

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int bench_hook(int argc, char **argv)
{
	struct trace_selftest_bpf *skel = trace_selftest_bpf__open();
	bool tp = argc > 1 && !strcmp(argv[1], "tp");
	struct bpf_program *p, *a, *b;
	struct bpf_link *l1, *l2;

	if (!skel)
		return 1;
	a = tp ? skel->progs.fc_ts_empty_tp_enter : skel->progs.fc_ts_empty_enter;
	b = tp ? skel->progs.fc_ts_empty_tp_exit : skel->progs.fc_ts_empty_exit;
	bpf_object__for_each_program(p, skel->obj) bpf_program__set_autoload(p, p == a || p == b);
	if (trace_selftest_bpf__load(skel))
		return 1;
	l1 = bpf_program__attach(a);
	l2 = bpf_program__attach(b);
	if (!l1 || !l2)
		return 1;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		pause();
	bpf_link__destroy(l1);
	bpf_link__destroy(l2);
	trace_selftest_bpf__destroy(skel);
	return 0;
}
FC_WORKER(bench_hook, bench_hook);

/* ns per run of @prog over @repeat repeats (the kernel's own average). */
static double run_ns(struct bpf_program *prog, int repeat)
{
	char pkt[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
		return -1;
	return (double)o.duration;
}

struct consumer {
	struct ring_buffer *rb;
	volatile uint64_t got;
	volatile int stop;
};

static int on_ev(void *ctx, void *data, size_t size)
{
	struct consumer *c = ctx;

	(void)data;
	(void)size;
	c->got++;
	return 0;
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

static void *consume(void *arg)
{
	struct consumer *c = arg;

	pin(1);
	while (!c->stop)
		ring_buffer__consume(c->rb);
	ring_buffer__consume(c->rb);
	return NULL;
}

/*
 * Histogram updates: test_run repeat of fc_ts_hist (generator + update) and of fc_ts_gen (the
 * generator alone, its ceiling). Ring buffer: bpf_loop batches of reserve/submit with
 * BPF_RB_NO_WAKEUP against a busy consumer on the other CPU; the producer keeps at most half
 * the ring outstanding (flow control, so the rate is the sustainable export rate), and every
 * failed reserve is counted in fc_stats. Ceiling: the same batches without the ring.
 */
static int bench_p6(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 3, rounds = argc > 2 ? atoi(argv[2]) : 10, k;
	struct fc_hist_slot slot = { .base = 0, .stride = 31, .lo_pow = 7, .npow = 30 };
	struct trace_selftest_bpf *skel = trace_selftest_bpf__open();
	struct consumer c = {};
	uint64_t st[FC_STAT_MAX], t0, sent, repeat = 2000000, batch = 512, cap;
	struct fc_hist_row *rows;
	pthread_t th;
	int ncpu = libbpf_num_possible_cpus(), i;
	__u32 key = 0;

	if (!skel)
		return 1;
	bpf_map__set_max_entries(skel->maps.fc_hist, 31);
	skel->rodata->fc_ts_slot = slot;
	if (trace_selftest_bpf__load(skel))
		return 1;
	pin(0);
	for (k = 0; k < rounds; k++) {
		double g = run_ns(skel->progs.fc_ts_gen, repeat);
		double h = run_ns(skel->progs.fc_ts_hist, repeat);

		printf("hist round=%d gen_ns=%.3f hist_ns=%.3f gen_rate=%.0f hist_rate=%.0f\n", k,
		       g, h, 1e9 / g, 1e9 / h);
	}
	/* every update landed: the header counts of all CPUs sum to the runs */
	rows = calloc(ncpu, sizeof(*rows));
	if (rows && !bpf_map_lookup_elem(bpf_map__fd(skel->maps.fc_hist), &key, rows)) {
		uint64_t n = 0;

		for (i = 0; i < ncpu; i++)
			n += rows[i].w[FC_HH_COUNT];
		printf("hist_count=%llu expected=%llu\n", (unsigned long long)n,
		       (unsigned long long)(repeat * rounds));
	}
	free(rows);
	c.rb = ring_buffer__new(bpf_map__fd(skel->maps.fc_events), on_ev, &c, NULL);
	if (!c.rb)
		return 1;
	cap = bpf_map__max_entries(skel->maps.fc_events) /
	      (sizeof(struct fc_event_hdr) + 8); /* each record has an 8-byte header */
	if (batch > cap / 4)
		batch = cap / 4;
	skel->data->rb_batch = batch;
	for (k = 0; k < rounds; k++) {
		uint64_t span = (uint64_t)secs * 1000000000ULL / rounds / 2, fails;
		double ceil_rate, dt;

		c.got = 0;
		c.stop = 0;
		pthread_create(&th, NULL, consume, &c);
		/* the generator's ceiling: the same batches filling a scratch record, no ring */
		skel->bss->rb_gen_only = 1;
		skel->bss->rb_sent = 0;
		t0 = mono();
		while (mono() - t0 < span)
			run_ns(skel->progs.fc_ts_rb, 1);
		ceil_rate = skel->bss->rb_sent / ((mono() - t0) / 1e9);
		skel->bss->rb_gen_only = 0;
		skel->bss->rb_sent = 0;
		c.got = 0;
		fc_obj_stats_reset(skel->obj);
		t0 = mono();
		while (mono() - t0 < span) {
			/* flow control: never more than half the ring in flight */
			while (skel->bss->rb_sent - c.got > cap / 2)
				sched_yield();
			run_ns(skel->progs.fc_ts_rb, 1);
		}
		while (c.got < skel->bss->rb_sent && mono() - t0 < 60000000000ULL)
			sched_yield();
		dt = (mono() - t0) / 1e9;
		c.stop = 1;
		pthread_join(th, NULL);
		fc_obj_stats(skel->obj, st);
		fails = st[FC_STAT_RB_FAIL];
		sent = skel->bss->rb_sent;
		printf("rb round=%d sent=%llu got=%llu failed=%llu rate=%.0f ceiling=%.0f\n", k,
		       (unsigned long long)sent, (unsigned long long)c.got,
		       (unsigned long long)fails, c.got / dt, ceil_rate);
	}
	ring_buffer__free(c.rb);
	trace_selftest_bpf__destroy(skel);
	return 0;
}
FC_WORKER(bench_p6, bench_p6);

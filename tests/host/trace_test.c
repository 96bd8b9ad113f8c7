// SPDX-License-Identifier: BSD-2-Clause
/*
 * The tracer against workloads that time themselves (design.md §5, P9): a workload in a cell's
 * child cgroup records its own call durations; our window percentiles must match its exact ones
 * within 2%, its calls must all be counted, and the same workload outside the cell never.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/control.h"
#include "core/util.h"
#include "metrics/tracer.h"
#include "lib/host.h"
#include "lib/test.h"
#include "host/trace_util.h"

struct seen {
	uint64_t n, errno_ok, pid_ok, comm_ok, other;
	uint32_t pid;
	char comm[16];
};

static void count_errors(void *ctx, const struct fc_event_hdr *e, size_t size)
{
	struct seen *s = ctx;

	(void)size;
	if (e->type != FC_EV_ERROR)
		return;
	s->n++;
	s->errno_ok += e->err == ENOENT;
	s->pid_ok += e->pid == s->pid;
	s->comm_ok += !strncmp(e->comm, s->comm, sizeof(e->comm));
}

/* Compare each percentile the window has with the workload's; true when all within 2%. */
static bool match_pcts(const struct fc_series *s, const struct wstats *w, const char *what)
{
	bool ok = true;
	int p;

	for (p = 0; p < FC_NPCT; p++) {
		double ours = s->sum.pct[p], theirs = (double)w->pct[p], e;

		if (s->sum.no_data & (1U << p))
			continue;
		e = fabs(ours - theirs) / theirs;
		test__log("%s %s: workload %.1fus, ours %.1fus (%.2f%%)", what, fc_pct_name[p],
			  theirs / 1e3, ours / 1e3, e * 100);
		test__record(what, e * 100, "%");
		ok &= ASSERT_TRUE(e <= 0.02, fc_pct_name[p]);
	}
	return ok;
}

FC_TEST(trace_syscall_latency, TIER_HOST | FC_T_ROOT)
{
	struct tcell cell = {}, out = {};
	struct ttracer tt = {};
	struct fc_metric_req req[] = { { "syscall_latency", "nanosleep" } };
	char *w_in[] = { "sleeplat", "10000", "150", "0.6", NULL };
	char *w_out[] = { "sleeplat", "3000", "150", "0.6", NULL };
	struct wstats in_st = {}, out_st = {};
	struct fc_window w;

	if (!ASSERT_OK(tcell_create(&cell, "lat", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&out, "latout", NULL), "outside cell"))
		goto out;
	if (!ttracer_start(&tt, &cell, NULL, req, 1, NULL, NULL))
		goto out;
	/* the same workload outside the cell, at the same time: never counted */
	if (!ASSERT_OK(trun_worker(cell.child, w_in, &in_st, out.child, w_out, &out_st), "run"))
		goto out;
	if (!ASSERT_OK(fc_tracer__snapshot(tt.t, &w), "snapshot"))
		goto out;
	ASSERT_EQ(w.s[0].sum.count, in_st.n, "every call in the cell counted, none from outside");
	match_pcts(&w.s[0], &in_st, "syscall_latency_err_pct");
	ASSERT_TRUE(w.s[0].sum.max >= (double)in_st.pct[FC_P999], "max at least the p999");
	if (ASSERT_TRUE(w.s[0].has_exemplar, "exemplar of the window")) {
		ASSERT_EQ(w.s[0].exemplar.value, (uint64_t)w.s[0].sum.max, "exemplar is the max");
		ASSERT_EQ(w.s[0].exemplar.pid, in_st.pid, "exemplar pid");
		ASSERT_STREQ(w.s[0].exemplar.comm, "fcw-sleep", "exemplar comm");
	}
	ASSERT_EQ(w.rb_fail, 0, "no failed reserves");
out:
	ttracer_stop(&tt);
	tcell_destroy(&out);
	tcell_destroy(&cell);
}

FC_TEST(trace_function_latency, TIER_HOST | FC_T_ROOT)
{
	struct tcell cell = {}, out = {};
	struct ttracer tt = {};
	char key[PATH_MAX + 64];
	struct fc_metric_req req[] = { { "function_latency", key } };
	char *w_in[] = { "fnlat", "5000", "300", "0.5", NULL };
	char *w_out[] = { "fnlat", "1000", "300", "0.5", NULL };
	struct wstats in_st = {}, out_st = {};
	struct fc_window w;

	snprintf(key, sizeof(key), "%s:fc_trace_test_fn", test__self());
	if (!ASSERT_OK(tcell_create(&cell, "fn", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&out, "fnout", NULL), "outside cell"))
		goto out;
	if (!ttracer_start(&tt, &cell, NULL, req, 1, NULL, NULL))
		goto out;
	if (!ASSERT_OK(trun_worker(cell.child, w_in, &in_st, out.child, w_out, &out_st), "run"))
		goto out;
	if (!ASSERT_OK(fc_tracer__snapshot(tt.t, &w), "snapshot"))
		goto out;
	ASSERT_EQ(w.s[0].sum.count, in_st.n, "every call in the cell, none from outside");
	match_pcts(&w.s[0], &in_st, "function_latency_err_pct");
	if (ASSERT_TRUE(w.s[0].has_exemplar, "exemplar"))
		ASSERT_STREQ(w.s[0].exemplar.comm, "fcw-func", "exemplar comm");
out:
	ttracer_stop(&tt);
	tcell_destroy(&out);
	tcell_destroy(&cell);
}

/* Errors with errno, pid and comm, at a moderate rate: every event arrives, none lost. */
FC_TEST(trace_syscall_errors_events, TIER_HOST | FC_T_ROOT)
{
	struct fc_metric_req req[] = { { "syscall_errors", "openat" } };
	char *wk[] = { "errs", "20000", "50", NULL }, line[128];
	struct tcell cell = {};
	struct ttracer tt = {};
	struct seen s = { .comm = "fcw-errs" };
	struct fc_window w;
	long n = 0, bad = -1;
	int fd = -1, pid;

	if (!ASSERT_OK(tcell_create(&cell, "errs", NULL), "cell"))
		goto out;
	if (!ttracer_start(&tt, &cell, NULL, req, 1, count_errors, &s))
		goto out;
	pid = tspawn(cell.child, NULL, wk, &fd);
	if (!ASSERT_GT(pid, 0, "spawn"))
		goto out;
	s.pid = pid;
	/* drain the ring as a loader would (every 100 ms) until the worker reports */
	while (tread_line(fd, line, sizeof(line), 100) == -ETIMEDOUT)
		fc_tracer__poll(tt.t);
	sscanf(line, "pid=%*d n=%ld bad=%ld", &n, &bad);
	twait(pid, 10000);
	if (!ASSERT_OK(fc_tracer__snapshot(tt.t, &w), "snapshot"))
		goto out;
	ASSERT_EQ(bad, 0, "every openat failed with ENOENT");
	ASSERT_EQ(w.s[0].sum.count, n, "error count");
	ASSERT_EQ(s.n, n, "one event per error");
	ASSERT_EQ(s.errno_ok, n, "events carry ENOENT");
	ASSERT_EQ(s.pid_ok, n, "events carry the worker's pid");
	ASSERT_EQ(s.comm_ok, n, "events carry the worker's comm");
	ASSERT_EQ(w.rb_fail_total, 0, "no failed reserves at ~10k events/s");
	test__record("trace_error_events_rate_per_s", n / w.interval_s, "1/s");
out:
	if (fd >= 0)
		close(fd);
	ttracer_stop(&tt);
	tcell_destroy(&cell);
}

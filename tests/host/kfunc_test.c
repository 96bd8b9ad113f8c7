// SPDX-License-Identifier: BSD-2-Clause
/*
 * kernel_function_latency: do_nanosleep timed per cell, through fentry/fexit and through
 * kprobe/kretprobe, each forced in turn. A worker in each of two cells sleeps a known number
 * of times; each cell's series counts exactly its own calls, and its median sits just below
 * what the worker timed from user space (the syscall's entry and exit are outside the
 * function). Where neither mechanism exists, trace exits 4 naming both.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/trace_util.h"
#include "lib/host.h"
#include "lib/test.h"
#include "metrics/registry.h"

static void mech_case(struct tcell *a, struct tcell *b, const char *key)
{
	struct fc_metric_req req[] = { { "kernel_function_latency", key } };
	char *wa[] = { "sleeplat", "200", "2000", "0.3", NULL };
	char *wb[] = { "sleeplat", "100", "2000", "0.3", NULL };
	const struct fc_series *sa, *sb;
	struct wstats st_a, st_b;
	struct ttracer tt = {};
	struct fc_window win;

	if (!ttracer_start(&tt, a, b, req, 1, NULL, NULL))
		goto out;
	if (!ASSERT_OK(trun_worker(a->child, wa, &st_a, b->child, wb, &st_b), "workers"))
		goto out;
	if (!ASSERT_OK(fc_tracer__snapshot(tt.t, &win), "snapshot"))
		goto out;
	sa = fc_window_find(&win, "kernel_function_latency", "do_nanosleep", 0);
	sb = fc_window_find(&win, "kernel_function_latency", "do_nanosleep", 1);
	if (!ASSERT_OK_PTR(sa, "cell a series") || !ASSERT_OK_PTR(sb, "cell b series"))
		goto out;
	test__log("%s: cell a n=%llu p50=%.0f us (worker %.0f us), cell b n=%llu", key,
		  (unsigned long long)sa->sum.count, sa->sum.pct[FC_P50] / 1e3, st_a.pct[0] / 1e3,
		  (unsigned long long)sb->sum.count);
	ASSERT_EQ(sa->sum.count, 200, "cell a: exactly its own calls");
	ASSERT_EQ(sb->sum.count, 100, "cell b: exactly its own calls");
	/* inside the syscall: below the worker's own timing, by less than the syscall's cost */
	ASSERT_LE(sa->sum.pct[FC_P50], st_a.pct[0] * 1.02, "p50 below the worker's (1.6% buckets)");
	ASSERT_GE(sa->sum.pct[FC_P50], st_a.pct[0] * 0.8, "p50 close to the worker's");
	ASSERT_EQ(win.rb_fail_total, 0, "no failed reserves");
out:
	ttracer_stop(&tt);
}

FC_TEST(kfunc_latency, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	const struct fc_metric_kind *k = fc_metric_kind_find("kernel_function_latency");
	struct tcell a = {}, b = {};
	char why[256], out[4096];

	if (!ASSERT_OK_PTR(k, "kind registered") ||
	    !ASSERT_OK(tcell_create(&a, "kfa", NULL), "cell a") ||
	    !ASSERT_OK(tcell_create(&b, "kfb", NULL), "cell b"))
		goto out;
	if (test__start_subtest("unknown_function")) {
		char *argv[] = { "trace",   "kernel_function_latency:do_nanosleap",
				 "--cell",  a.parent,
				 "--count", "1",
				 NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), argv), 2, "exit 2");
		ASSERT_STRSTR(out, "did you mean: do_nanosleep", "nearest BTF names");
	}
	if (fc_metric_kind_check(k, why, sizeof(why))) {
		char *argv[] = { "trace",   "kernel_function_latency:do_nanosleep",
				 "--cell",  a.parent,
				 "--count", "1",
				 NULL };

		if (test__start_subtest("kernel_lacks_it")) {
			ASSERT_EQ(trun_fc(out, sizeof(out), argv), 4, "exit 4");
			ASSERT_STRSTR(out, "fentry", "names fentry");
			ASSERT_STRSTR(out, "kprobe", "names kprobe");
		}
		goto out;
	}
	if (test__start_subtest("fentry"))
		mech_case(&a, &b, "fentry:do_nanosleep");
	if (test__start_subtest("kprobe"))
		mech_case(&a, &b, "kprobe:do_nanosleep");
out:
	tcell_destroy(&a);
	tcell_destroy(&b);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Every metric kind's programs load on the running kernel (the check `validate` and `plan`
 * use), and the syscall family counts exactly — run in the Debian 6.1/6.12 guests too
 * (FC_T_VM), where timing-based assertions would be meaningless under TCG.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/probe.h"
#include "host/trace_util.h"
#include "lib/test.h"
#include "metrics/registry.h"

/*
 * A kind this kernel cannot run (kernel_function_latency without trampolines or kprobes, on
 * the sandbox host) must say so, and the probe must agree: then its refusal is the result.
 */
static bool probe_agrees_missing(const char *kind)
{
	struct fc_probe *p = fc_probe_new(NULL);
	bool missing = false;

	if (p && !fc_probe_run(p))
		for (int i = 0; i < FC_PROBE_NMETRICS; i++)
			if (p->metrics[i].name && !strcmp(p->metrics[i].name, kind))
				missing = p->metrics[i].probed && !p->metrics[i].available;
	fc_probe_free(p);
	return missing;
}

FC_TEST(trace_kernel_support, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct fc_metric_req req[] = { { "syscall_errors", "openat" },
				       { "syscall_latency", "openat,getppid" } };
	char why[256], line[128], *w[] = { "errs", "500", "0", NULL };
	struct tcell cell = {};
	struct ttracer tt = {};
	struct fc_window win;
	long n = 0;
	int fd = -1, pid;

	fc_for_each_metric_kind (k) {
		if (test__start_subtest(k->name)) {
			int err = fc_metric_kind_check(k, why, sizeof(why));

			if (err == -EOPNOTSUPP && why[0] && probe_agrees_missing(k->name))
				test__skip("%s (the probe agrees)", why);
			else if (!ASSERT_OK(err, k->name))
				test__log("%s", why);
		}
	}
	if (!test__start_subtest("exact_counts"))
		return;
	if (!ASSERT_OK(tcell_create(&cell, "kern", NULL), "cell"))
		return;
	if (!ttracer_start(&tt, &cell, NULL, req, 2, NULL, NULL))
		goto out;
	pid = tspawn(cell.child, NULL, w, &fd);
	if (ASSERT_GT(pid, 0, "spawn") &&
	    ASSERT_OK(tread_line(fd, line, sizeof(line), 60000), "run"))
		sscanf(line, "pid=%*d n=%ld", &n);
	twait(pid, 10000);
	if (!ASSERT_OK(fc_tracer__snapshot(tt.t, &win), "snapshot"))
		goto out;
	ASSERT_EQ(n, 500, "worker ran");
	ASSERT_EQ(fc_window_find(&win, "syscall_errors", "openat", 0)->sum.count, 500,
		  "every failed openat");
	/* the worker's own openat calls, plus the loader's libc opening files before main */
	ASSERT_GE(fc_window_find(&win, "syscall_latency", "openat", 0)->sum.count, 500,
		  "every openat timed");
	ASSERT_EQ(win.rb_fail_total, 0, "no failed reserves");
out:
	if (fd >= 0)
		close(fd);
	ttracer_stop(&tt);
	tcell_destroy(&cell);
}

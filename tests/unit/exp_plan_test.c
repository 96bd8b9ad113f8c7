// SPDX-License-Identifier: BSD-2-Clause
/*
 * `faultcell plan` on a scratch cell: the real objects pass the verifier, nothing is attached
 * and nothing remains; the blast radius counts the cell's processes; refusals have their codes.
 * Root and cgroups: the host tier.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/inventory.h"
#include "core/util.h"
#include "faults/fault.h"
#include "unit/exp_testlib.h"
#include "lib/host.h"
#include "lib/test.h"

#define OUT_MAX 65536

/* Prints "ready" and sleeps until killed: a process for the cell to hold. */
static int exp_sleeper(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}
FC_WORKER(exp_sleeper, exp_sleeper);

static int write_exp(char *path, const char *cell, const char *control, const char *extra)
{
	int fd = mkstemp(path);
	FILE *f;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	fprintf(f,
		"title: \"plan test\"\n"
		"cell: { cgroup: \"%s\" }\n"
		"%s%s%s"
		"metrics:\n"
		"  connect_p99: { source: bpf, kind: tcp_connect_latency, stat: p99 }\n"
		"steady_state: { metric: connect_p99, expected: \"< 800ms over 30s\" }\n"
		"fault: { type: network-loss, probability: 5%%, match: { proto: tcp } }\n"
		"blast_radius: { scope: \"scratch cell\", traffic: 10%%, max_duration: 5m }\n"
		"abort_when: \"connect_p99 > 2 * baseline.connect_p99\"\n%s",
		cell, control ? "control: { cgroup: \"" : "", control ?: "",
		control ? "\" }\n" : "", extra ?: "");
	fclose(f);
	return 0;
}

FC_TEST(exp_plan_scratch_cell, TIER_HOST | FC_T_ROOT)
{
	char path[] = "/tmp/fc-plan-XXXXXX", *out = malloc(OUT_MAX);
	char *argv[] = { "plan", path, "--json", NULL, NULL, NULL };
	char *wargv[] = { "exp_sleeper", NULL }, line[64], run[40];
	struct fc_inventory after = {};
	struct tcell c;
	pid_t w = -1;
	int fd = -1, rc;

	if (!ASSERT_OK_PTR(out, "alloc") || !ASSERT_OK(tcell_create(&c, "plan", NULL), "cell"))
		goto out_free;
	w = tspawn(c.child, NULL, wargv, &fd);
	if (!ASSERT_GT(w, 0, "worker") ||
	    !ASSERT_OK(tread_line(fd, line, sizeof(line), 5000), "worker ready"))
		goto out;
	if (!ASSERT_OK(write_exp(path, c.cell.rel, NULL, NULL), "experiment"))
		goto out;

	rc = trun_fc(out, OUT_MAX, argv);
	if (!ASSERT_EQ(rc, 0, "plan exits 0"))
		test__log("%s", out);
	ASSERT_STRSTR(out, "\"exit\":0", "would run");
	ASSERT_STRSTR(out, "\"load\":\"loaded by the verifier, not attached\"", "verifier load");
	ASSERT_STRSTR(out, "(TCP sees real loss)", "the probed mechanism");
	ASSERT_STRSTR(out, "\"processes\":1", "the worker in the cell");
	ASSERT_STRSTR(out, "\"windows\":3,\"default_windows\":true", "bare abort_when: N = 3");
	ASSERT_STRSTR(out, "\"max_gap_ns\":3000000000", "max_gap");
	ASSERT_STRSTR(out, "about 0.5% of all of it is hit", "worst case in one sentence");
	ASSERT_TRUE(!strstr(out, "\"hist_bytes\":0,"), "histogram memory");
	ASSERT_STRSTR(out, "\"leftover\":0", "nothing of the plan remains");
	/* by the plan's own run id: other tests may load programs on this host meanwhile */
	if (ASSERT_TRUE(sscanf(strstr(out, "\"run_id\":\"") ?: "", "\"run_id\":\"%39[^\"]", run) ==
			    1,
			"run id") &&
	    ASSERT_OK(fc_inventory_collect(&after, run), "inventory of the run"))
		ASSERT_EQ(after.n, 0, "nothing of the plan's run in the kernel");

	/* text, time-scaled: the deviation and the defaults are printed */
	argv[2] = "--time-scale";
	argv[3] = "0.1";
	rc = trun_fc(out, OUT_MAX, argv);
	ASSERT_EQ(rc, 0, "plan --time-scale");
	ASSERT_STRSTR(out, "time-scale x0.1", "deviation");
	ASSERT_STRSTR(out, "abort_when = for 3 windows", "default for a bare abort_when");
	ASSERT_STRSTR(out, "breach after 3 consecutive windows of 100ms", "N in words");
	ASSERT_STRSTR(out, "plan: would run", "verdict");

	/* a control nested in the cell would be faulted too: refused */
	unlink(path);
	strcpy(path, "/tmp/fc-plan-XXXXXX");
	write_exp(path, c.cell.rel, c.child, NULL);
	argv[2] = NULL;
	rc = trun_fc(out, OUT_MAX, argv);
	ASSERT_EQ(rc, FC_EXIT_REFUSED, "nested control refused");
	ASSERT_STRSTR(out, "are nested", "why");

	/* a cell that is not here: refused (3), the rest still said */
	unlink(path);
	strcpy(path, "/tmp/fc-plan-XXXXXX");
	write_exp(path, "fc-no-such-cell-here", NULL, NULL);
	rc = trun_fc(out, OUT_MAX, argv);
	ASSERT_EQ(rc, FC_EXIT_REFUSED, "missing cell");
	ASSERT_STRSTR(out, "would not run: cell not found", "why");
	ASSERT_STRSTR(out, "not loaded: the cell is not here", "no load without the cell");

	/* invalid: 2, with the errors */
	unlink(path);
	strcpy(path, "/tmp/fc-plan-XXXXXX");
	write_exp(path, c.cell.rel, NULL, "window: 0s\n");
	rc = trun_fc(out, OUT_MAX, argv);
	ASSERT_EQ(rc, FC_EXIT_USAGE, "invalid file");
	ASSERT_STRSTR(out, ":9:9: window: 0s must be longer than zero", "positioned error");
out:
	if (w > 0) {
		kill(w, SIGKILL);
		waitpid(w, NULL, 0);
	}
	if (fd >= 0)
		close(fd);
	tcell_destroy(&c);
	unlink(path);
	fc_inventory_free(&after);
out_free:
	free(out);
}

/* The seed's file, unmodified, plans with a binding naming a real cell (issue 7's contract). */
FC_TEST(exp_plan_seed_game_day, TIER_HOST | FC_T_ROOT)
{
	char bind[] = "/tmp/fc-seed-bind-XXXXXX", seed[PATH_MAX], *out = malloc(OUT_MAX);
	char *argv[] = { "plan", seed, "--bind", bind, NULL };
	struct tcell c;
	FILE *f;
	int fd, rc;

	if (!ASSERT_OK_PTR(out, "alloc"))
		return;
	if (!fc_fault_find("pod-kill")) {
		test__skip("pod-kill is not registered yet (process faults, issue 5)");
		free(out);
		return;
	}
	if (!ASSERT_OK(tcell_create(&c, "seed", NULL), "cell"))
		goto out_free;
	exp_repo_file("experiments/seed-game-day.yaml", seed, sizeof(seed));
	fd = mkstemp(bind);
	if (!ASSERT_GE(fd, 0, "binding"))
		goto out;
	f = fdopen(fd, "w");
	fprintf(f,
		"cells:\n"
		"  payments: { cgroup: \"%s\" }\n"
		"metrics:\n"
		"  checkout_success_rate: { source: prometheus, url: \"http://127.0.0.1:9090\", "
		"query: \"vector(1)\", unit: ratio }\n",
		c.cell.rel);
	fclose(f);
	rc = trun_fc(out, OUT_MAX, argv);
	/* of: 3 pods are not there: the module or the run refuses at preflight, not plan */
	if (!ASSERT_EQ(rc, 0, "the seed plans"))
		test__log("%s", out);
	ASSERT_STRSTR(out, "pod-kill", "the seed's fault");
	ASSERT_STRSTR(out, "checkout_success_rate >= 0.999 over 5m", "its steady state");
	ASSERT_STRSTR(out, "abort_when = for 3 windows", "the default N printed");
	ASSERT_STRSTR(out, "baseline = 5m", "baseline = the longest over");
	unlink(bind);
out:
	tcell_destroy(&c);
out_free:
	free(out);
}

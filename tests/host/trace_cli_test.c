// SPDX-License-Identifier: BSD-2-Clause
/*
 * `faultcell trace` as a user runs it: JSON windows, a clean exit that leaves the inventory as
 * it was, and the bad-input contract (design.md §7): exit 2 with the nearest names for an
 * unknown metric, syscall, binary or symbol; exit 3 for a missing cell.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/inventory.h"
#include "lib/host.h"
#include "lib/test.h"

FC_TEST(trace_cli_json_and_inventory, TIER_HOST | FC_T_ROOT)
{
	struct fc_inventory before = {}, during = {}, after = {};
	char *w[] = { "sleeplat", "400", "1000", "0.3", NULL }, line[8192], left[2048];
	struct tcell cell = {};
	int fd = -1, wfd = -1, n = 0, st;
	pid_t pid = -1, wp = -1;

	if (!ASSERT_OK(tcell_create(&cell, "cli", NULL), "cell") ||
	    !ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before"))
		goto out;
	char *a[] = { "trace",
		      "syscall_latency:nanosleep",
		      "syscall_errors:openat",
		      "--cell",
		      cell.parent,
		      "--interval",
		      "300ms",
		      "--count",
		      "4",
		      "--json",
		      NULL };

	pid = tspawn_fc(a, &fd, NULL);
	if (!ASSERT_GT(pid, 0, "spawn trace"))
		goto out;
	wp = tspawn(cell.child, NULL, w, &wfd);
	while (n < 4 && !tread_line(fd, line, sizeof(line), 10000)) {
		if (!ASSERT_TRUE(line[0] == '{' && line[strlen(line) - 1] == '}',
				 "one JSON object"))
			break;
		ASSERT_STRSTR(line, "\"metric\":\"syscall_latency\"", "series present");
		ASSERT_STRSTR(line, "\"p99\":", "percentiles present");
		if (n++ == 0 && ASSERT_OK(fc_inventory_collect(&during, NULL), "inventory during"))
			ASSERT_GE(fc_inventory_new_items(&before, &during, NULL, 0), 2,
				  "our programs are in the inventory while tracing");
	}
	ASSERT_EQ(n, 4, "--count 4: four windows");
	st = twait(pid, 10000);
	pid = -1;
	ASSERT_EQ(st, 0, "exit 0 after --count windows");
	/* programs are freed after an RCU grace period once the last fd closes: poll */
	for (int i = 0; i < 500; i++) {
		fc_inventory_free(&after);
		if (!ASSERT_OK(fc_inventory_collect(&after, NULL), "inventory after"))
			break;
		if (!fc_inventory_new_items(&before, &after, left, sizeof(left)))
			break;
		usleep(10000);
	}
	if (!ASSERT_EQ(fc_inventory_new_items(&before, &after, left, sizeof(left)), 0,
		       "nothing of ours left"))
		test__log("left: %s", left);
out:
	if (pid > 0)
		twait(pid, 10000);
	if (wp > 0)
		twait(wp, 20000);
	if (fd >= 0)
		close(fd);
	if (wfd >= 0)
		close(wfd);
	fc_inventory_free(&before);
	fc_inventory_free(&during);
	fc_inventory_free(&after);
	tcell_destroy(&cell);
}

FC_TEST(trace_cli_bad_input, TIER_HOST | FC_T_ROOT)
{
	char out[8192], key[PATH_MAX + 64], mnt[PATH_MAX];
	struct tcell cell = {};

	if (!ASSERT_OK(tcell_create(&cell, "bad", NULL), "cell"))
		return;
	if (test__start_subtest("unknown_metric")) {
		char *a[] = { "trace", "syscal_latency:read", "--cell", cell.parent, NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, "exit 2");
		ASSERT_STRSTR(out, "unknown metric 'syscal_latency'", "names it");
		ASSERT_STRSTR(out, "did you mean: syscall_latency", "nearest match");
	}
	if (test__start_subtest("unknown_syscall")) {
		char *a[] = { "trace", "syscall_latency:opnat", "--cell", cell.parent, NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, "exit 2");
		ASSERT_STRSTR(out, "unknown syscall 'opnat'", "names it");
		ASSERT_STRSTR(out, "openat", "nearest match");
	}
	if (test__start_subtest("binary_not_found")) {
		char *a[] = { "trace", "function_latency:/usr/bin/bashh:main", "--cell",
			      cell.parent, NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, "exit 2");
		ASSERT_STRSTR(out, "binary '/usr/bin/bashh' not found", "names it");
		ASSERT_STRSTR(out, "bash", "nearest match");
	}
	if (test__start_subtest("symbol_not_found")) {
		snprintf(key, sizeof(key), "function_latency:%s:fc_trace_test_fm", test__self());
		char *a[] = { "trace", key, "--cell", cell.parent, NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, "exit 2");
		ASSERT_STRSTR(out, "symbol 'fc_trace_test_fm' not found", "names it");
		ASSERT_STRSTR(out, "fc_trace_test_fn", "nearest match");
	}
	if (test__start_subtest("bad_fixed_key")) {
		char *a[] = { "trace", "tcp_connect_latency:okk", "--cell", cell.parent, NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, "exit 2");
		ASSERT_STRSTR(out, "unknown outcome 'okk'", "names it");
	}
	if (test__start_subtest("missing_cell")) {
		fc_cgroup2_mount(mnt, sizeof(mnt));
		snprintf(key, sizeof(key), "%s/fc-test-%d-nosuchcell", mnt, getpid());
		char *a[] = { "trace", "tcp_retransmits", "--cell", key, NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 3, "exit 3");
		ASSERT_STRSTR(out, "cannot trace cell", "says which");
	}
	if (test__start_subtest("usage")) {
		char *a[] = { "trace", "tcp_retransmits", NULL },
		     *b[] = { "trace", "--help", NULL };
		char *c[] = { "trace", "--list", NULL },
		     *d[] = { "trace",	   "tcp_retransmits", "--cell",
			      cell.parent, "--interval",      "soon",
			      NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, "no cell: exit 2");
		ASSERT_EQ(trun_fc(out, sizeof(out), b), 0, "--help: exit 0");
		ASSERT_STRSTR(out, "Examples:", "help has examples");
		ASSERT_EQ(trun_fc(out, sizeof(out), c), 0, "--list: exit 0");
		ASSERT_STRSTR(out, "function_latency", "lists the kinds");
		ASSERT_EQ(trun_fc(out, sizeof(out), d), 2, "bad interval: exit 2");
	}
	tcell_destroy(&cell);
}

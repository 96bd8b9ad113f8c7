// SPDX-License-Identifier: BSD-2-Clause
/*
 * `faultcell inject` as an SRE runs it: the deadline ends it (exit 0), SIGTERM and
 * `faultcell abort` roll back (exit 5), SIGKILL leaves nothing (fd-bound TCX links vanish,
 * clsact filters are removed by the guard), bad input touches nothing (exit 2), a held lock or
 * a guarded cell refuses (exit 3). Latencies go to the bench (P4, P7).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/inventory.h"
#include "core/state.h"
#include "core/util.h"
#include "lib/host.h"
#include "lib/net.h"
#include "lib/test.h"

static void inventory_snapshot(struct fc_inventory *inv)
{
	ASSERT_OK(fc_inventory_collect(inv, NULL), "inventory");
}

struct rig {
	struct tcell cell;
	struct tnet net;
	pid_t echo;
	int echo_fd;
};

static bool rig_up(struct rig *r, const char *name)
{
	char *echo[] = { "udp_echo", "10.200.0.2", "7600", NULL }, line[64];

	memset(r, 0, sizeof(*r));
	if (!ASSERT_OK(tcell_create(&r->cell, name, NULL), "cell") ||
	    !ASSERT_OK(tnet_create(&r->net, name), "netns"))
		return false;
	r->echo = tspawn(NULL, r->net.peer_path, echo, &r->echo_fd);
	return ASSERT_OK(tread_line(r->echo_fd, line, sizeof(line), 10000), "echo ready");
}

static void rig_down(struct rig *r)
{
	if (r->echo > 0) {
		kill(r->echo, SIGKILL);
		twait(r->echo, 5000);
		close(r->echo_fd);
	}
	tnet_destroy(&r->net);
	tcell_destroy(&r->cell);
}

/* Start a pinger in the cell; returns its pid (its stdout in *fd). */
static pid_t pinger(struct rig *r, int *fd, const char *cap_ms)
{
	char *a[] = { "udp_ping", "10.200.0.2", "7600", (char *)cap_ms, NULL }, line[64];
	pid_t p = tspawn(r->cell.child, r->net.path, a, fd);

	tread_line(*fd, line, sizeof(line), 10000);
	return p;
}

static void sigkill_case(const char *tc)
{
	struct fc_inventory before = {};
	struct rig r;
	struct tinject t;
	char line[64], mode[32];
	uint64_t t_kill;
	long long echo_ns = 0;
	int fd;
	pid_t p;

	snprintf(mode, sizeof(mode), "tc=%s", tc);
	char *a[] = { "network-loss", "--cell",	    NULL,  "--netns", NULL,   "--probability",
		      "100%",	      "--proto",    "udp", "--ports", "7600", "--set",
		      mode,	      "--duration", "5m",  NULL };

	if (!rig_up(&r, "ik"))
		goto out;
	a[2] = r.cell.parent;
	a[4] = r.net.path;
	inventory_snapshot(&before);
	if (!tinject_start(&t, a))
		goto out;
	/* while armed: nothing gets through */
	p = pinger(&r, &fd, "200");
	tread_line(fd, line, sizeof(line), 10000);
	close(fd);
	twait(p, 5000);
	ASSERT_STREQ(line, "timeout", "armed: every ping lost");
	p = pinger(&r, &fd, "10000");
	t_kill = fc_now_ns();
	kill(t.pid, SIGKILL);
	tread_line(fd, line, sizeof(line), 20000);
	close(fd);
	twait(p, 5000);
	tinject_stop(&t, 0);
	if (ASSERT_EQ(sscanf(line, "echo %lld", &echo_ns), 1, "traffic normal after SIGKILL")) {
		char name[64];

		snprintf(name, sizeof(name), "p4_sigkill_to_traffic_normal_%s_ms", tc);
		test__record(name, (echo_ns - (long long)t_kill) / 1e6, "ms");
	}
	tinventory_as_before(&before, "inventory as before (guard cleaned what was not fd-bound)");
	{
		char path[PATH_MAX];

		fc_state_path(t.run, path, sizeof(path));
		for (int i = 0; i < 500 && !access(path, F_OK); i++)
			usleep(10000);
		ASSERT_NEQ(access(path, F_OK), 0, "state file removed");
	}
out:
	fc_inventory_free(&before);
	rig_down(&r);
}

FC_TEST(inject_sigkill_tcx, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	char *probe[] = { "probe", "--only", "tcx", "--json", NULL }, out[8192];

	trun_fc(out, sizeof(out), probe);
	if (!strstr(out, "\"available\":true")) {
		test__skip(
		    "kernel has no TCX (a 6.6+ feature): the clsact case covers this kernel");
		return;
	}
	sigkill_case("tcx");
}

FC_TEST(inject_sigkill_clsact, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	sigkill_case("clsact");
}

FC_TEST(inject_end_states, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct fc_inventory before = {};
	struct tinject t;
	struct rig r;

	if (!rig_up(&r, "ie"))
		goto out;
	inventory_snapshot(&before);
	if (test__start_subtest("deadline_exit_0")) {
		char *a[] = { "connect-error", "--cell", r.cell.parent, "--duration", "1s", NULL };

		if (tinject_start(&t, a)) {
			tinject_stop(&t, 0);
			ASSERT_EQ(t.status, 0, "ran to its deadline: exit 0");
			ASSERT_STRSTR(t.text, "rollback: verified", "rollback verified");
		}
		tinventory_as_before(&before, "nothing left");
	}
	if (test__start_subtest("abort_from_another_shell")) {
		char *a[] = { "network-loss", "--cell",	       r.cell.parent, "--netns",
			      r.net.path,     "--probability", "100%",	      "--ports",
			      "7600",	      "--duration",    "5m",	      NULL };
		char *ab[] = { "abort", NULL }, out[2048], line[64];
		int fd;
		pid_t p;

		if (tinject_start(&t, a)) {
			/* traffic flowing, so "first packet passed after enabled=0" exists */
			p = pinger(&r, &fd, "20000");
			ASSERT_EQ(trun_fc(out, sizeof(out), ab), 0, "abort exits 0");
			ASSERT_STRSTR(out, "faults inert", "abort cleared the flag itself");
			tinject_stop(&t, 0);
			tread_line(fd, line, sizeof(line), 20000);
			close(fd);
			twait(p, 5000);
			ASSERT_EQ(t.status, 5, "inject exits 5 on abort");
			ASSERT_STRSTR(t.text, "rollback: verified", "rollback verified");
			ASSERT_STRSTR(line, "echo", "traffic flows after the abort");
			if (t.first_inert_us > 0)
				test__record("p4_abort_to_inert_us", t.first_inert_us, "us");
			test__record("p4_abort_to_links_gone_ms", t.links_gone_ms, "ms");
		}
		tinventory_as_before(&before, "nothing left");
	}
	if (test__start_subtest("abort_nothing_running")) {
		char *ab[] = { "abort", NULL }, out[1024];

		ASSERT_EQ(trun_fc(out, sizeof(out), ab), 3, "nothing to abort: exit 3");
	}
	if (test__start_subtest("second_inject_refused")) {
		char *a[] = { "connect-error", "--cell", r.cell.parent, "--duration", "30s", NULL };
		char *b[] = { "inject",	    "connect-error", "--cell", r.cell.parent,
			      "--duration", "30s",	     NULL };
		char out[2048];

		if (tinject_start(&t, a)) {
			ASSERT_EQ(trun_fc(out, sizeof(out), b), 3, "lock held: exit 3");
			ASSERT_STRSTR(out, "holds the lock", "says who holds it");
			tinject_stop(&t, SIGINT);
			ASSERT_EQ(t.status, 5, "Ctrl-C: exit 5");
		}
	}
	if (test__start_subtest("guard_refuses_root_and_ancestors")) {
		char *root[] = {
			"inject", "connect-error", "--cell", "/", "--duration", "1s", NULL
		};
		char *self[] = {
			"inject", "connect-error", "--pid", "1", "--duration", "1s", NULL
		};
		char out[2048];

		ASSERT_EQ(trun_fc(out, sizeof(out), root), 3, "cgroup root refused");
		ASSERT_STRSTR(out, "cgroup root", "says why");
		ASSERT_EQ(trun_fc(out, sizeof(out), self), 3, "PID 1's cell refused");
		tinventory_as_before(&before, "nothing attached");
	}
	if (test__start_subtest("bad_input_touches_nothing")) {
		static const char *const bad[][12] = {
			{ "inject", "network-loss", "--cell", "X", "--probability", "101%",
			  "--duration", "1s" },
			{ "inject", "network-los", "--cell", "X", "--duration", "1s" },
			{ "inject", "network-loss", "--cell", "X", "--probability", "5%", "--cidrs",
			  "10.0.0.300/8", "--duration", "1s" },
			{ "inject", "network-loss", "--cell", "X", "--probability", "5%", "--ports",
			  "0", "--duration", "1s" },
			{ "inject", "connect-error", "--cell", "X", "--errno", "EFOO", "--duration",
			  "1s" },
			{ "inject", "connect-error", "--cell", "X", "--duration", "0s" },
			{ "inject", "connect-error", "--cell", "X", "--duration", "2h" },
			{ "inject", "connect-error", "--cell", "X", "--duration", "1s", "--set",
			  "probabilty=5%" },
		};
		static const char *const msg[] = {
			"101% is out of range",
			"did you mean 'network-loss'",
			"'10.0.0.300/8' is not",
			"'0' is not a port",
			"unknown errno name 'EFOO'",
			"not a positive duration",
			"--max-duration",
			"did you mean 'probability'",
		};
		char out[2048];

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char *argv[12] = {};

			for (int j = 0; j < 11 && bad[i][j]; j++)
				argv[j] =
				    (char *)(strcmp(bad[i][j], "X") ? bad[i][j] : r.cell.parent);
			ASSERT_EQ(trun_fc(out, sizeof(out), argv), 2, msg[i]);
			ASSERT_STRSTR(out, msg[i], "names the bad value");
		}
		char *missing[] = { "inject",	  "connect-error",
				    "--cell",	  "no-such-cell",
				    "--duration", "1s",
				    NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), missing), 3, "missing cell: exit 3");
		ASSERT_STRSTR(out, "not found", "says the cell is not there");
		tinventory_as_before(&before, "inventory unchanged");
	}
out:
	fc_inventory_free(&before);
	rig_down(&r);
}

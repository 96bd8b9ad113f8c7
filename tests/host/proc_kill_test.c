// SPDX-License-Identifier: BSD-2-Clause
/*
 * process-kill and pod-kill through `faultcell inject`: exactly `count` of the cell's 3 workers
 * (or pods) die and nothing outside; the signal, the oldest/newest choice, the whole cell;
 * `of` mismatch refused (exit 3, nobody killed); the restore command verified, and its failure
 * reported (exit 1, "restore failed"). Supervisors outside the cell say who died and how.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/inventory.h"
#include "lib/host.h"
#include "lib/net.h"
#include "lib/test.h"

#define MAXEV 64

/* A proc_super worker and what it said. */
struct tsup {
	pid_t pid;
	int fd;
	int nstart, nexit;
	int start_idx[MAXEV], start_pid[MAXEV];
	int exit_idx[MAXEV], exit_pid[MAXEV], exit_sig[MAXEV];
};

struct rig {
	struct tcell cell; /* the cell: its workers in cell.child, or its pods */
	struct tcell out;  /* outside: supervisors in out.parent, bystanders in out.child */
	struct tsup in, by;
	struct fc_inventory before;
};

static void sup_line(struct tsup *s, const char *line)
{
	int i, p, sig;

	if (sscanf(line, "start %d %d", &i, &p) == 2 && s->nstart < MAXEV) {
		s->start_idx[s->nstart] = i;
		s->start_pid[s->nstart++] = p;
	} else if (sscanf(line, "exit %d %d", &i, &p) == 2 && s->nexit < MAXEV) {
		sig = 0;
		if (strstr(line, "sig="))
			sig = atoi(strstr(line, "sig=") + 4);
		s->exit_idx[s->nexit] = i;
		s->exit_pid[s->nexit] = p;
		s->exit_sig[s->nexit++] = sig;
	}
}

/* Read what the supervisor said until it is quiet for @quiet_ms. */
static void sup_drain(struct tsup *s, int quiet_ms)
{
	char line[128];

	while (s->pid > 0 && !tread_line(s->fd, line, sizeof(line), quiet_ms))
		sup_line(s, line);
}

static bool sup_start(struct tsup *s, const char *where, char *const args[])
{
	char *argv[24] = { "proc_super" }, line[128];
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; args[i] && i < 22; i++)
		argv[i + 1] = args[i];
	s->pid = tspawn(where, NULL, argv, &s->fd);
	if (!ASSERT_GT(s->pid, 0, "spawn supervisor"))
		return false;
	for (;;) {
		if (!ASSERT_OK(tread_line(s->fd, line, sizeof(line), 10000), "supervisor ready"))
			return false;
		if (!strcmp(line, "ready"))
			return true;
		sup_line(s, line);
	}
}

static void sup_stop(struct tsup *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	sup_drain(s, 2000);
	close(s->fd);
	twait(s->pid, 5000);
	s->pid = 0;
}

static void sup_reset(struct tsup *s)
{
	s->nstart = s->nexit = 0;
}

/* Cell + outside; @pods = 0: 3 workers in cell.child, else 2 per pod in 3 pods of the cell. */
static bool rig_up(struct rig *r, const char *name, int pods, const char *mode, bool gap)
{
	char n[8];
	char *in[] = { "--n", n, "--cg", NULL, "--mode", (char *)mode, "--pods", "3", NULL, NULL };
	char *by[] = { "--n", "3", "--cg", NULL, "--mode", "never", NULL };
	char oname[32];

	memset(r, 0, sizeof(*r));
	snprintf(oname, sizeof(oname), "%s-out", name);
	if (!ASSERT_OK(tcell_create(&r->cell, name, NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&r->out, oname, NULL), "outside"))
		return false;
	snprintf(n, sizeof(n), "%d", pods ? 6 : 3);
	in[3] = pods ? r->cell.parent : r->cell.child;
	/* no pods: workers straight in cell.child, 30 ms apart when their age matters */
	if (!pods) {
		in[6] = gap ? "--gap" : NULL;
		in[7] = "30";
	}
	by[3] = r->out.child;
	ASSERT_OK(fc_inventory_collect(&r->before, NULL), "inventory before");
	return sup_start(&r->in, r->out.parent, in) && sup_start(&r->by, r->out.parent, by);
}

static void rig_down(struct rig *r)
{
	sup_stop(&r->in);
	sup_stop(&r->by);
	if (r->before.items)
		tinventory_as_before(&r->before, "inventory as before");
	fc_inventory_free(&r->before);
	tcell_destroy(&r->cell);
	tcell_destroy(&r->out);
}

/* Run inject to its end with @args after the type and the cell; the supervisors drained. */
static bool run_inject(struct rig *r, struct tinject *t, const char *type, char *const args[])
{
	char *a[32] = { (char *)type, "--cell", r->cell.parent };
	int n = 3;

	for (int i = 0; args[i] && n < 30; i++)
		a[n++] = args[i];
	a[n] = NULL;
	sup_reset(&r->in);
	sup_reset(&r->by);
	if (!tinject_start(t, a))
		return false;
	tinject_stop(t, 0);
	sup_drain(&r->in, 300);
	sup_drain(&r->by, 100);
	return true;
}

FC_TEST(proc_kill_count_of, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct tinject t;
	struct rig r;

	if (!rig_up(&r, "pk", 0, "auto", true))
		goto out;
	if (test__start_subtest("one_of_three")) {
		char *a[] = { "--count", "1", "--of", "3", "--duration", "500ms", NULL };

		if (run_inject(&r, &t, "process-kill", a)) {
			ASSERT_EQ(t.status, 0, "ran to its deadline, restored: exit 0");
			ASSERT_EQ(r.in.nexit, 1, "exactly one worker in the cell died");
			ASSERT_EQ(r.in.exit_sig[0], SIGKILL, "by SIGKILL");
			ASSERT_EQ(r.by.nexit, 0, "nothing outside the cell died");
			ASSERT_EQ(t.injected, 1, "injected counter");
			ASSERT_EQ(t.seen, 3, "saw the 3 workers");
			ASSERT_STRSTR(t.text, "restored: 3 of 3 processes", "of back, verified");
			ASSERT_STRSTR(t.text, "rollback: verified", "rollback verified");
		}
	}
	if (test__start_subtest("two_with_sigterm")) {
		char *a[] = { "--count", "2",	       "--of",	"3", "--signal",
			      "SIGTERM", "--duration", "500ms", NULL };

		if (run_inject(&r, &t, "process-kill", a)) {
			ASSERT_EQ(t.status, 0, "exit 0");
			ASSERT_EQ(r.in.nexit, 2, "exactly two died");
			ASSERT_EQ(r.in.exit_sig[0], SIGTERM, "by SIGTERM");
			ASSERT_EQ(r.in.exit_sig[1], SIGTERM, "by SIGTERM");
			ASSERT_NEQ(r.in.exit_idx[0], r.in.exit_idx[1], "two different workers");
			ASSERT_EQ(r.by.nexit, 0, "nothing outside");
		}
	}
	/* the supervisor started 0, 1, 2 (30 ms apart) and respawns the dead at once */
	if (test__start_subtest("oldest_then_newest")) {
		char *a[] = { "--count", "1", "--select", "oldest", "--duration", "300ms", NULL };
		char *b[] = { "--count", "1", "--select", "newest", "--duration", "300ms", NULL };
		char *in[] = { "--n",  "3",	"--cg", r.cell.child, "--mode",
			       "auto", "--gap", "30",	NULL };
		int alive[3] = {}, victim;

		/* a fresh supervisor: its start order is the age order */
		sup_stop(&r.in);
		if (!sup_start(&r.in, r.out.parent, in))
			goto out;
		for (int i = 0; i < r.in.nstart && i < 3; i++)
			alive[i] = r.in.start_pid[i];
		if (run_inject(&r, &t, "process-kill", a)) {
			ASSERT_EQ(r.in.nexit, 1, "one died");
			ASSERT_EQ(r.in.exit_pid[0], alive[0], "the oldest");
			victim = r.in.exit_pid[0];
			/* the oldest went; its replacement is now the newest */
			if (ASSERT_EQ(r.in.nstart, 1, "respawned")) {
				alive[0] = alive[1];
				alive[1] = alive[2];
				alive[2] = r.in.start_pid[0];
			}
			ASSERT_NEQ(victim, alive[2], "the replacement is a new process");
		}
		if (run_inject(&r, &t, "process-kill", b)) {
			ASSERT_EQ(r.in.nexit, 1, "one died");
			ASSERT_EQ(r.in.exit_pid[0], alive[2], "the newest");
		}
	}
	if (test__start_subtest("whole_cell")) {
		char *a[] = { "--count", "all", "--of", "3", "--duration", "500ms", NULL };

		if (run_inject(&r, &t, "process-kill", a)) {
			ASSERT_EQ(t.status, 0, "exit 0");
			ASSERT_EQ(r.in.nexit, 3, "all three died");
			for (int i = 0; i < r.in.nexit; i++)
				ASSERT_EQ(r.in.exit_sig[i], SIGKILL, "cgroup.kill is SIGKILL");
			ASSERT_EQ(r.by.nexit, 0, "nothing outside");
			ASSERT_STRSTR(t.text, "cgroup.kill on", "through the cell's cgroup.kill");
		}
	}
out:
	rig_down(&r);
}

FC_TEST(proc_kill_refusals, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	char out[8192];
	struct rig r;

	if (!rig_up(&r, "pr", 0, "auto", false))
		goto out;
	if (test__start_subtest("of_mismatch")) {
		char *a[] = { "inject", "process-kill", "--cell", r.cell.parent, "--count",
			      "1",	"--of",		"4",	  "--duration",	 "5s",
			      NULL };

		sup_reset(&r.in);
		ASSERT_EQ(trun_fc(out, sizeof(out), a), 3, "of 4 with 3 workers: exit 3");
		ASSERT_STRSTR(out, "has 3 processes, the fault says of 4", "says why");
		sup_drain(&r.in, 300);
		ASSERT_EQ(r.in.nexit, 0, "nobody was killed");
	}
	if (test__start_subtest("pods_mismatch")) {
		/* the cell's only child cgroup (work) has no pod structure: 1 pod, not 3 */
		char *a[] = { "inject", "pod-kill",   "--cell", r.cell.parent, "--of",
			      "3",	"--duration", "5s",	NULL };

		sup_reset(&r.in);
		ASSERT_EQ(trun_fc(out, sizeof(out), a), 3, "exit 3");
		ASSERT_STRSTR(out, "has 1 pods, the fault says of 3", "says why");
		sup_drain(&r.in, 300);
		ASSERT_EQ(r.in.nexit, 0, "nobody was killed");
	}
	if (test__start_subtest("bad_input")) {
		static const char *const bad[][10] = {
			{ "--count", "4", "--of", "3" },
			{ "--signal", "SIGSTOP" },
			{ "--signal", "SIGFOO" },
			{ "--select", "youngest" },
			{ "--count", "0" },
			{ "--set", "target.count=1", "--count", "1" },
			{ "--set", "restart=x" },
		};
		static const char *const msg[] = {
			"count 4 is more than of 3", "nothing would resume them",
			"'SIGFOO' is not a signal",  "not random, oldest or newest",
			"0 is out of range",	     "give count or target.count, not both",
			"did you mean 'restore'",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char *a[20] = { "inject",      "process-kill", "--cell",
					r.cell.parent, "--duration",   "1s" };
			int n = 6;

			for (int j = 0; j < 10 && bad[i][j]; j++)
				a[n++] = (char *)bad[i][j];
			ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, msg[i]);
			ASSERT_STRSTR(out, msg[i], "names the bad value");
		}
		char *pt[] = { "inject", "pod-kill",   "--cell", r.cell.parent, "--signal",
			       "TERM",	 "--duration", "1s",	 NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), pt), 2, "pod-kill takes SIGKILL only");
		ASSERT_STRSTR(out, "sends SIGKILL only", "says why");
		sup_drain(&r.in, 100);
		ASSERT_EQ(r.in.nexit, 0, "nobody was killed");
	}
out:
	rig_down(&r);
}

FC_TEST(proc_kill_restore, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	char restore[64];
	struct tinject t;
	struct rig r;

	if (test__start_subtest("restore_command_verified")) {
		if (rig_up(&r, "rs", 0, "hup", false)) {
			snprintf(restore, sizeof(restore), "kill -HUP %d", r.in.pid);
			char *a[] = { "--count",    "2",     "--of",	   "3",
				      "--restore",  restore, "--recovery", "10s",
				      "--duration", "300ms", NULL };

			if (run_inject(&r, &t, "process-kill", a)) {
				ASSERT_EQ(t.status, 0, "restored: exit 0");
				ASSERT_EQ(r.in.nexit, 2, "two died");
				ASSERT_EQ(r.in.nstart, 2, "the restore command brought two back");
				ASSERT_STRSTR(t.text, "restored: 3 of 3 processes", "verified");
			}
		}
		rig_down(&r);
	}
	if (test__start_subtest("restore_failure_reported")) {
		if (rig_up(&r, "rf", 0, "never", false)) {
			char *a[] = { "--count",    "1",     "--of",	   "3",
				      "--restore",  "true",  "--recovery", "1s",
				      "--duration", "300ms", NULL };

			if (run_inject(&r, &t, "process-kill", a)) {
				ASSERT_EQ(t.status, 1, "not restored: exit 1");
				ASSERT_STRSTR(t.text,
					      "restore failed: 2 of 3 processes back in the cell "
					      "after 1s ('true' exited 0)",
					      "says what is missing");
				ASSERT_STRSTR(t.text, "rollback: verified",
					      "the rollback itself verified");
			}
		}
		rig_down(&r);
	}
	if (test__start_subtest("pod_restore_failure_reported")) {
		if (rig_up(&r, "rp", 3, "never", false)) {
			char *a[] = { "--count", "1",	       "--of",	"3", "--recovery",
				      "1s",	 "--duration", "300ms", NULL };

			if (run_inject(&r, &t, "pod-kill", a)) {
				ASSERT_EQ(t.status, 1, "not restored: exit 1");
				ASSERT_STRSTR(t.text, "restore failed: 2 of 3 pods", "says what");
				ASSERT_STRSTR(t.text, "no restore command was given", "and why");
			}
		}
		rig_down(&r);
	}
}

FC_TEST(proc_pod_kill_count_of, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct tinject t;
	struct rig r;

	/* 3 pods (cell/pod-0..2) with 2 processes each; the empty child "work" is not a pod */
	if (!rig_up(&r, "pd", 3, "auto", false))
		goto out;
	if (test__start_subtest("one_of_three_pods")) {
		char *a[] = { "--count", "1", "--of", "3", "--duration", "500ms", NULL };

		if (run_inject(&r, &t, "pod-kill", a)) {
			ASSERT_EQ(t.status, 0, "restored: exit 0");
			ASSERT_EQ(t.injected, 1, "one pod killed");
			ASSERT_EQ(r.in.nexit, 2, "both processes of one pod died");
			if (r.in.nexit == 2)
				ASSERT_EQ(r.in.exit_idx[0] % 3, r.in.exit_idx[1] % 3,
					  "the same pod");
			for (int i = 0; i < r.in.nexit; i++)
				ASSERT_EQ(r.in.exit_sig[i], SIGKILL, "cgroup.kill");
			ASSERT_EQ(r.by.nexit, 0, "nothing outside the cell died");
			ASSERT_STRSTR(t.text, "restored: 3 of 3 pods", "of back");
		}
	}
	if (test__start_subtest("two_of_three_pods")) {
		char *a[] = { "--count", "2", "--of", "3", "--duration", "500ms", NULL };

		if (run_inject(&r, &t, "pod-kill", a)) {
			ASSERT_EQ(t.status, 0, "exit 0");
			ASSERT_EQ(r.in.nexit, 4, "both processes of two pods died");
			ASSERT_EQ(r.by.nexit, 0, "nothing outside");
		}
	}
	if (test__start_subtest("seed_keys")) {
		/* the seed's target: { count: 1, of: 3 } arrives flattened */
		char *a[] = { "--set",	    "target.count=1", "--set", "target.of=3",
			      "--duration", "300ms",	      NULL };

		if (run_inject(&r, &t, "pod-kill", a)) {
			ASSERT_EQ(t.status, 0, "exit 0");
			ASSERT_EQ(r.in.nexit, 2, "one pod died");
		}
	}
	if (test__start_subtest("whole_cell")) {
		char *a[] = { "--count", "all", "--of", "3", "--duration", "500ms", NULL };

		if (run_inject(&r, &t, "pod-kill", a)) {
			ASSERT_EQ(t.status, 0, "exit 0");
			ASSERT_EQ(r.in.nexit, 6, "every process of every pod died");
			ASSERT_EQ(r.by.nexit, 0, "nothing outside");
		}
	}
out:
	rig_down(&r);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * `faultcell run` end to end on this kernel: a scratch cell, a real listener, the cell's own
 * connects as the steady-state metric (a `command` probe that joins the cell), a real
 * connect-error fault, --time-scale-sized durations. Asserts the exit codes of design.md §7,
 * the journal, and the inventory before and after.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/inventory.h"
#include "core/util.h"
#include "lib/host.h"
#include "lib/test.h"

#define PORT "7800"

struct rt {
	struct tcell cell;
	char dir[64], yaml[128], jdir[128], flag[128];
	pid_t sink;
	int sink_fd;
	struct fc_inventory before;
};

static bool rt_up(struct rt *t, const char *name)
{
	char *sink[] = { "tcp_sink", "127.0.0.1", PORT, NULL }, line[64];

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/fc-test-%d-%s", getpid(), name);
	snprintf(t->yaml, sizeof(t->yaml), "%s/exp.yaml", t->dir);
	snprintf(t->jdir, sizeof(t->jdir), "%s/journal", t->dir);
	snprintf(t->flag, sizeof(t->flag), "%s/hang", t->dir);
	if (!ASSERT_OK(fc_mkdir_p(t->jdir, 0755), "dir") ||
	    !ASSERT_OK(tcell_create(&t->cell, name, NULL), "cell"))
		return false;
	t->sink = tspawn(NULL, NULL, sink, &t->sink_fd);
	ASSERT_OK(fc_inventory_collect(&t->before, NULL), "inventory before");
	return ASSERT_OK(tread_line(t->sink_fd, line, sizeof(line), 10000), "listener");
}

static void rt_down(struct rt *t)
{
	if (t->sink > 0) {
		kill(t->sink, SIGKILL);
		twait(t->sink, 5000);
		close(t->sink_fd);
	}
	fc_inventory_free(&t->before);
	tcell_destroy(&t->cell);
	tsh("rm -rf %s", t->dir);
}

/*
 * The experiment: steady state = the cell's connects succeed; the fault = connect errors on
 * @fault_port at @prob; @extra appended verbatim (YAML lines).
 */
static bool write_exp(struct rt *t, const char *fault_port, const char *prob, const char *duration,
		      const char *extra)
{
	FILE *f = fopen(t->yaml, "w");

	if (!ASSERT_OK_PTR(f, "write experiment"))
		return false;
	fprintf(f,
		"title: \"run test\"\n"
		"hypothesis: \"the cell keeps connecting\"\n"
		"cell: { cgroup: %s }\n"
		"metrics:\n"
		"  connect_ok: { source: command, timeout: 150ms, unit: ratio,\n"
		"                command: [sh, -c, 'test -f %s && sleep 30; exec %s --worker "
		"cell_connect %s %s'] }\n"
		"steady_state: { metric: connect_ok, expected: \">= 1\" }\n"
		"fault: { type: connect-error, probability: %s, errno: ECONNREFUSED,\n"
		"         match: { proto: tcp, ports: [%s] } }\n"
		"window: 200ms\nbaseline: 600ms\nduration: %s\nrecovery: 600ms\n"
		"abort_when: \"connect_ok < 0.5\"\n%s",
		t->cell.parent, t->flag, test__self(), t->cell.child, PORT, prob, fault_port,
		duration, extra ?: "");
	fclose(f);
	return true;
}

static pid_t run_start(struct rt *t, int *fd, const char *extra_arg)
{
	char *a[] = { "run", t->yaml, "--yes", "--journal", t->jdir, (char *)extra_arg, NULL };

	return tspawn_fc_merged(a, fd);
}

/* Read the run's output until a line holding @what (e.g. "inject:") or 30 s of silence. */
static void wait_for(int fd, const char *what)
{
	char line[256];

	while (!tread_line(fd, line, sizeof(line), 30000) && !strstr(line, what))
		;
}

static int run_wait(pid_t p, int fd, char *out, size_t len)
{
	tread_all(fd, out, len, 120000);
	close(fd);
	return twait(p, 30000);
}

/* The journal's text (there is one per test dir). */
static void journal(struct rt *t, char *buf, size_t len)
{
	char cmd[512];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "cat %s/*.jsonl 2>/dev/null", t->jdir);
	p = popen(cmd, "r");
	n = p ? fread(buf, 1, len - 1, p) : 0;
	buf[n] = 0;
	if (p)
		pclose(p);
}

static void assert_clean(struct rt *t)
{
	tinventory_as_before(&t->before, "inventory as before");
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static char out[65536], jbuf[262144];

FC_TEST(run_held, TIER_E2E | FC_T_ROOT)
{
	struct rt t;
	int fd, rc;
	pid_t p;

	if (!rt_up(&t, "rh") ||
	    !write_exp(&t, "9", "100%", "3s", "learning: { record: \"what?\" }\n"))
		goto out;
	p = run_start(&t, &fd, NULL);
	rc = run_wait(p, fd, out, sizeof(out));
	ASSERT_EQ(rc, 0, "hypothesis held: exit 0");
	journal(&t, jbuf, sizeof(jbuf));
	ASSERT_STRSTR(jbuf, "\"type\":\"start\"", "journal: start");
	ASSERT_STRSTR(jbuf, "\"steady_state\":\"true\",\"windows\":3", "baseline held");
	ASSERT_STRSTR(jbuf, "\"type\":\"inject\"", "journal: inject");
	ASSERT_STRSTR(jbuf, "\"verified\":true", "rollback verified");
	ASSERT_STRSTR(jbuf, "\"type\":\"recovery\",", "journal: recovery");
	ASSERT_STRSTR(jbuf, "\"exit\":0,\"verdict\":\"hypothesis held\"", "journal: verdict");
	ASSERT_STRSTR(jbuf, "\"did_it_hold\":\"\"", "empty learning fields for humans");
	ASSERT_GE(count(jbuf, "\"phase\":\"inject\""), 10, "a window line per inject window");
	{
		char *rep[] = { "report", "--json", NULL, NULL }, cmd[256];

		snprintf(cmd, sizeof(cmd), "%s", strstr(out, "journal: ") + strlen("journal: "));
		cmd[strcspn(cmd, " \n")] = 0;
		rep[2] = cmd;
		ASSERT_EQ(trun_fc(jbuf, sizeof(jbuf), rep), 0, "report renders");
		ASSERT_STRSTR(jbuf, "\"complete\":true,\"exit\":0", "report: complete, exit 0");
		ASSERT_STRSTR(jbuf, "\"rollback_verified\":true", "report: rollback verified");
		rep[1] = cmd;
		rep[2] = NULL;
		ASSERT_EQ(trun_fc(jbuf, sizeof(jbuf), rep), 0, "markdown report");
		ASSERT_STRSTR(jbuf, "## Verdict", "markdown: verdict section");
		ASSERT_STRSTR(jbuf, "did it hold?", "markdown: learning prompts");
	}
	assert_clean(&t);
out:
	rt_down(&t);
}

FC_TEST(run_breach_aborts, TIER_E2E | FC_T_ROOT)
{
	struct rt t;
	int fd, rc;
	pid_t p;

	if (!rt_up(&t, "rb") || !write_exp(&t, PORT, "100%", "3s", NULL))
		goto out;
	p = run_start(&t, &fd, NULL);
	rc = run_wait(p, fd, out, sizeof(out));
	ASSERT_EQ(rc, 1, "hypothesis disproved: exit 1");
	ASSERT_STRSTR(out, "abort rule 'abort_when' held", "says which rule");
	journal(&t, jbuf, sizeof(jbuf));
	/* `for 3 windows` by default: aborted on the third bad window, not later */
	ASSERT_EQ(count(jbuf, "\"phase\":\"inject\""), 3, "aborted within N = 3 windows");
	ASSERT_STRSTR(jbuf, "\"verified\":true", "rollback verified");
	{
		char *p4 = strstr(jbuf, "\"abort_to_links_gone_ms\":");

		if (ASSERT_OK_PTR(p4, "abort latency journaled"))
			test__record("run_abort_to_links_gone_ms",
				     atof(p4 + strlen("\"abort_to_links_gone_ms\":")), "ms");
	}
	assert_clean(&t);
out:
	rt_down(&t);
}

FC_TEST(run_steady_state_broken_refuses, TIER_E2E | FC_T_ROOT)
{
	struct rt t;
	int fd, rc;
	pid_t p;

	/* a blackholed metric port from the start: the connects fail before any fault */
	if (!rt_up(&t, "rs") || !write_exp(&t, "9", "100%", "3s", NULL))
		goto out;
	kill(t.sink, SIGKILL);
	twait(t.sink, 5000);
	close(t.sink_fd);
	t.sink = 0;
	p = run_start(&t, &fd, NULL);
	rc = run_wait(p, fd, out, sizeof(out));
	ASSERT_EQ(rc, 3, "steady state false before injection: exit 3");
	ASSERT_STRSTR(out, "nothing was attached", "says nothing was attached");
	journal(&t, jbuf, sizeof(jbuf));
	ASSERT_STRSTR(jbuf, "\"type\":\"baseline\",", "baseline journaled");
	ASSERT_EQ(count(jbuf, "\"type\":\"inject\""), 0, "never injected");
	assert_clean(&t);
out:
	rt_down(&t);
}

static void operator_case(const char *how)
{
	char *ab[] = { "abort", NULL }, ao[2048];
	struct rt t;
	int fd, rc;
	pid_t p;

	if (!rt_up(&t, "ro") || !write_exp(&t, "9", "100%", "3s", NULL))
		goto out;
	p = run_start(&t, &fd, NULL);
	/* wait until injected */
	wait_for(fd, "inject:");
	if (!strcmp(how, "sigterm"))
		kill(p, SIGTERM);
	else
		ASSERT_EQ(trun_fc(ao, sizeof(ao), ab), 0, "faultcell abort");
	rc = run_wait(p, fd, out, sizeof(out));
	ASSERT_EQ(rc, 5, "aborted by the operator: exit 5");
	journal(&t, jbuf, sizeof(jbuf));
	ASSERT_STRSTR(jbuf, "\"verified\":true", "rollback verified");
	ASSERT_STRSTR(jbuf, "\"exit\":5", "journal: exit 5");
	assert_clean(&t);
out:
	rt_down(&t);
}

FC_TEST(run_sigterm, TIER_E2E | FC_T_ROOT)
{
	operator_case("sigterm");
}

FC_TEST(run_abort_command, TIER_E2E | FC_T_ROOT)
{
	operator_case("abort");
}

FC_TEST(run_hanging_probe_fails_closed, TIER_E2E | FC_T_ROOT)
{
	struct rt t;
	int fd, rc;
	pid_t p;

	if (!rt_up(&t, "rp") || !write_exp(&t, "9", "100%", "3s", NULL))
		goto out;
	p = run_start(&t, &fd, NULL);
	wait_for(fd, "inject:");
	/* from now on the probe hangs: no data, so the rule is unknown, and fails closed */
	tsh("touch %s", t.flag);
	rc = run_wait(p, fd, out, sizeof(out));
	ASSERT_EQ(rc, 1, "aborted: exit 1");
	ASSERT_STRSTR(out, "unknown for 3 windows", "fail closed on no data");
	journal(&t, jbuf, sizeof(jbuf));
	ASSERT_STRSTR(jbuf, "\"verified\":true", "rollback verified");
	assert_clean(&t);
out:
	rt_down(&t);
}

FC_TEST(run_sigstop_heartbeat_lapse, TIER_E2E | FC_T_ROOT)
{
	char *probe[] = { "cell_connect", NULL, PORT, NULL }, got[16] = "";
	struct rt t;
	int fd, pfd, rc;
	pid_t p, w;

	/* the fault blocks the metric port: while the loader is stopped, it must go inert */
	if (!rt_up(&t, "rz") || !write_exp(&t, PORT, "100%", "20s", NULL))
		goto out;
	p = run_start(&t, &fd, NULL);
	wait_for(fd, "inject:");
	kill(p, SIGSTOP);
	probe[1] = t.cell.child;
	/* max_gap is 3s: poll the cell's own connect until the fault is inert */
	for (int i = 0; i < 100 && strcmp(got, "1"); i++) {
		w = tspawn(NULL, NULL, probe, &pfd);
		tread_line(pfd, got, sizeof(got), 5000);
		close(pfd);
		twait(w, 5000);
		if (strcmp(got, "1"))
			usleep(100000);
	}
	ASSERT_STREQ(got, "1", "stopped loader: the fault went inert by itself");
	kill(p, SIGCONT);
	rc = run_wait(p, fd, out, sizeof(out));
	ASSERT_EQ(rc, 7, "on SIGCONT it aborts with 7 (its heartbeat lapsed)");
	ASSERT_STRSTR(out, "heartbeat lapsed", "says why");
	assert_clean(&t);
out:
	rt_down(&t);
}

FC_TEST(run_sigkill_guard_recovers, TIER_E2E | FC_T_ROOT)
{
	struct rt t;
	int fd;
	pid_t p;

	if (!rt_up(&t, "rk") || !write_exp(&t, PORT, "100%", "20s", NULL))
		goto out;
	p = run_start(&t, &fd, NULL);
	wait_for(fd, "inject:");
	kill(p, SIGKILL);
	run_wait(p, fd, out, sizeof(out));
	journal(&t, jbuf, sizeof(jbuf));
	ASSERT_STRSTR(jbuf, "\"type\":\"inject\"", "journal lines up to the kill");
	assert_clean(&t);
	/* the guard's recover appended what it undid */
	for (int i = 0; i < 500 && !strstr(jbuf, "\"type\":\"recover\""); i++) {
		usleep(10000);
		journal(&t, jbuf, sizeof(jbuf));
	}
	ASSERT_STRSTR(jbuf, "\"type\":\"recover\"", "recover appended to the journal");
	{
		char *rep[] = { "report", NULL, NULL }, cmd[300];
		FILE *ls;

		snprintf(cmd, sizeof(cmd), "ls %s/*.jsonl", t.jdir);
		ls = popen(cmd, "r");
		if (ls && fgets(cmd, sizeof(cmd), ls)) {
			cmd[strcspn(cmd, "\n")] = 0;
			rep[1] = cmd;
			ASSERT_EQ(trun_fc(jbuf, sizeof(jbuf), rep), 0,
				  "a killed run's journal renders");
			ASSERT_STRSTR(jbuf, "Incomplete journal", "says it is incomplete");
			ASSERT_STRSTR(jbuf, "run by the guard", "and that the guard recovered");
		}
		if (ls)
			pclose(ls);
	}
out:
	rt_down(&t);
}

FC_TEST(run_second_concurrent_refused, TIER_E2E | FC_T_ROOT)
{
	char *a[] = { "run", NULL, "--yes", "--journal", NULL, NULL }, o2[8192];
	struct rt t;
	int fd, rc;
	pid_t p;

	if (!rt_up(&t, "rc") || !write_exp(&t, "9", "100%", "20s", NULL))
		goto out;
	p = run_start(&t, &fd, NULL);
	wait_for(fd, "baseline:");
	a[1] = t.yaml;
	a[4] = t.jdir;
	rc = trun_fc(o2, sizeof(o2), a);
	ASSERT_EQ(rc, 3, "a second run while one holds the lock: exit 3");
	ASSERT_STRSTR(o2, "holds the lock", "says why");
	kill(p, SIGTERM);
	run_wait(p, fd, out, sizeof(out));
	assert_clean(&t);
out:
	rt_down(&t);
}

FC_TEST(run_no_tty_refuses, TIER_E2E | FC_T_ROOT)
{
	char *a[] = { "run", NULL, NULL }, o[4096];
	struct rt t;

	if (!rt_up(&t, "rt") || !write_exp(&t, "9", "100%", "3s", NULL))
		goto out;
	a[1] = t.yaml;
	ASSERT_EQ(trun_fc(o, sizeof(o), a), 3, "no terminal and no --yes: exit 3");
	ASSERT_STRSTR(o, "--yes", "says what to do");
	assert_clean(&t);
out:
	rt_down(&t);
}

FC_TEST(run_on_abort_notify_and_freeze, TIER_E2E | FC_T_ROOT)
{
	char extra[512], note[PATH_MAX], buf[1024],
	    *a[] = { "run", NULL, "--yes", "--journal", NULL, NULL };
	struct rt t;
	int fd, rc;
	pid_t p;

	if (!rt_up(&t, "rn"))
		goto out;
	snprintf(note, sizeof(note), "%s/paged", t.dir);
	/* the seed's "page" and "freeze": a command run after the rollback, then a freeze file */
	snprintf(
	    extra, sizeof(extra),
	    "on_abort: { notify: [sh, -c, 'echo \"$FAULTCELL_REASON\" > %s'], freeze: true }\n",
	    note);
	if (!write_exp(&t, PORT, "100%", "3s", extra))
		goto out;
	p = run_start(&t, &fd, NULL);
	rc = run_wait(p, fd, out, sizeof(out));
	ASSERT_EQ(rc, 1, "aborted: exit 1");
	ASSERT_GT(fc_read_file(note, buf, sizeof(buf)), 0, "the notify command ran");
	ASSERT_STRSTR(buf, "abort rule", "with the reason in its environment");
	ASSERT_STRSTR(out, "experiments frozen", "froze further experiments");
	/* the freeze holds the next run back until a human removes it */
	a[1] = t.yaml;
	a[4] = t.jdir;
	ASSERT_EQ(trun_fc(out, sizeof(out), a), 3, "frozen: the next run is refused");
	ASSERT_STRSTR(out, "frozen", "says why and what to do");
	tsh("rm -f \"$FAULTCELL_STATE_DIR/freeze\"");
	assert_clean(&t);
out:
	rt_down(&t);
}

FC_TEST(run_supervised_confirmation, TIER_E2E | FC_T_ROOT)
{
	char cmd[1024];
	struct rt t;
	int rc;

	if (access("/usr/bin/script", X_OK)) {
		test__skip("no script(1) to give the run a terminal (util-linux bsdutils)");
		return;
	}
	if (!rt_up(&t, "ry") || !write_exp(&t, "9", "100%", "3s", NULL))
		goto out;
	/* a terminal, and the wrong cell name typed: it must not start (operator, exit 5) */
	snprintf(cmd, sizeof(cmd),
		 "echo not-the-cell | script -qec '%s run %s --journal %s' /dev/null > %s/tty.out",
		 test__faultcell(), t.yaml, t.jdir, t.dir);
	rc = tsh("%s", cmd);
	ASSERT_EQ(rc, 5, "wrong name typed: not started");
	snprintf(cmd, sizeof(cmd), "%s/tty.out", t.dir);
	fc_read_file(cmd, out, sizeof(out));
	ASSERT_STRSTR(out, "Type the cell's name", "asked for the cell's name");
	ASSERT_STRSTR(out, "not started", "refused");
	assert_clean(&t);
out:
	rt_down(&t);
}

/*
 * A probe with a control side: the same command run in the control cell (control_command).
 * The fault hits the cell only, so the cell's connects fail while the control's succeed, and
 * a rule comparing the two holds (not unknown) and aborts.
 */
FC_TEST(run_control_probe, TIER_E2E | FC_T_ROOT)
{
	struct tcell ctl = {};
	struct rt t;
	FILE *f;
	int fd, rc;
	pid_t p;

	if (!rt_up(&t, "rcp") || !ASSERT_OK(tcell_create(&ctl, "rcpk", NULL), "control cell"))
		goto out;
	f = fopen(t.yaml, "w");
	if (!ASSERT_OK_PTR(f, "write experiment"))
		goto out;
	fprintf(f,
		"title: \"control probe\"\n"
		"cell: { cgroup: %s }\n"
		"control: { cgroup: %s }\n"
		"metrics:\n"
		"  connect_ok: { source: command, timeout: 150ms, unit: ratio,\n"
		"                command: [%s, --worker, cell_connect, %s, %s],\n"
		"                control_command: [%s, --worker, cell_connect, %s, %s] }\n"
		"steady_state: { metric: connect_ok, expected: \">= 1\" }\n"
		"fault: { type: connect-error, probability: 100%%, errno: ECONNREFUSED,\n"
		"         match: { proto: tcp, ports: [%s] } }\n"
		"window: 200ms\nbaseline: 600ms\nduration: 3s\nrecovery: 600ms\n"
		"abort_when: \"connect_ok < control.connect_ok - 0.5\"\n",
		t.cell.parent, ctl.parent, test__self(), t.cell.child, PORT, test__self(),
		ctl.child, PORT, PORT);
	fclose(f);
	p = run_start(&t, &fd, NULL);
	rc = run_wait(p, fd, out, sizeof(out));
	if (!ASSERT_EQ(rc, 1, "the comparison with the control held: exit 1"))
		test__log("%s", out);
	ASSERT_STRSTR(out, "abort rule 'abort_when' held", "held, not unknown");
	journal(&t, jbuf, sizeof(jbuf));
	ASSERT_STRSTR(jbuf, "\"cell\":{\"connect_ok\":0},\"control\":{\"connect_ok\":1}",
		      "the cell fails, the control beside it connects");
	ASSERT_EQ(count(jbuf, "\"phase\":\"inject\""), 3, "aborted within N = 3 windows");
	assert_clean(&t);
out:
	tcell_destroy(&ctl);
	rt_down(&t);
}

/*
 * A fault with `start:` arms inside the inject phase, not at its beginning: the cell connects
 * in the first second of the phase, then the fault arms (journaled) and the rule aborts.
 */
FC_TEST(run_fault_start_offset, TIER_E2E | FC_T_ROOT)
{
	struct rt t;
	char *first;
	int fd, rc;
	pid_t p;

	/* the probability slot of the template also carries the fault's start key */
	if (!rt_up(&t, "rso") || !write_exp(&t, PORT, "100%, start: 1s", "3s", NULL))
		goto out;
	p = run_start(&t, &fd, NULL);
	rc = run_wait(p, fd, out, sizeof(out));
	if (!ASSERT_EQ(rc, 1, "the delayed fault broke the hypothesis: exit 1"))
		test__log("%s", out);
	ASSERT_STRSTR(out, "inject: 0 fault(s) armed for 3s, 1 more at their start",
		      "none armed at the phase's start");
	ASSERT_STRSTR(out, "inject: 1 more fault(s) armed at +", "armed later, said so");
	journal(&t, jbuf, sizeof(jbuf));
	ASSERT_STRSTR(jbuf, "\"armed\":false,\"start_s\":1", "inject record: not armed yet");
	ASSERT_STRSTR(jbuf, "\"type\":\"fault_armed\",", "journal: fault_armed");
	ASSERT_STRSTR(jbuf, "\"t_inject_s\":1.", "armed 1.x s into the phase");
	first = strstr(jbuf, "\"phase\":\"inject\"");
	ASSERT_TRUE(first && strstr(first, "\"connect_ok\":1") &&
			strstr(first, "\"connect_ok\":1") < strstr(first, "\n"),
		    "the first inject window still connects");
	/* armed at the window boundary at or after 1 s (5 windows of 200 ms), then N = 3 */
	ASSERT_GE(count(jbuf, "\"phase\":\"inject\""), 8, "aborted only after the start + N");
	ASSERT_STRSTR(jbuf, "\"verified\":true", "rollback verified");
	assert_clean(&t);
out:
	rt_down(&t);
}

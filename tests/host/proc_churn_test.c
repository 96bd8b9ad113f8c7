// SPDX-License-Identifier: BSD-2-Clause
/*
 * A recycled pid is never signalled. Pids are only reused after pid_max wraps, which never
 * happens during a test on a host (pid_max 4M), so both tests run in a pid namespace of their
 * own with a pid_max of 400 (per namespace since Linux 6.14): there pids 300..399 come round
 * every hundred forks.
 *
 * proc_race_recycled_pid: deterministic. Between listing the cell and pinning its pids, the
 * victim dies and a canary outside the cell is forked until it gets the victim's pid; the
 * selection must not list the canary. Then a pinned victim dies and its pid goes to a canary
 * before the signal: pidfd_send_signal must say ESRCH and the canary must live.
 *
 * proc_kill_churn: end to end. Workers in the cell exit and respawn every few ms while canary
 * children outside the cell (which count every signal they get) churn through the same pids,
 * and `faultcell inject process-kill` runs again and again. No canary may ever be signalled.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/util.h"
#include "faults/proc.h"
#include "lib/host.h"
#include "lib/test.h"

#define PIDMAX "400"

static bool kernel_has_pidns_pid_max(void)
{
	struct utsname u;
	int maj = 0, min = 0;

	/* a kernel without it has one global pid_max: writing it from a namespace is global */
	if (uname(&u) || sscanf(u.release, "%d.%d", &maj, &min) != 2)
		return false;
	return maj > 6 || (maj == 6 && min >= 14);
}

/*
 * Enter a new pid and mount namespace with its own /proc and pid_max, and run @fn there as
 * the child of an init that reaps every orphan. Returns @fn's exit status; prints "skip ..."
 * and returns 0 when the kernel cannot do it.
 */
static int in_small_pidns(int (*fn)(char **argv), char **argv)
{
	char before[32] = "", after[32] = "";
	int st = 0;
	pid_t init, pid;

	if (!kernel_has_pidns_pid_max()) {
		printf("skip per-namespace pid_max needs Linux 6.14\n");
		return 0;
	}
	fc_read_file("/proc/sys/kernel/pid_max", before, sizeof(before));
	if (unshare(CLONE_NEWPID | CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		printf("skip cannot enter a pid and mount namespace: %s\n", strerror(errno));
		return 0;
	}
	fflush(stdout);
	init = fork();
	if (init == 0) {
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) ||
		    fc_write_file("/proc/sys/kernel/pid_max", PIDMAX)) {
			printf("skip cannot set pid_max in the namespace: %s\n", strerror(errno));
			_exit(0);
		}
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			_exit(fn(argv));
		/* pid 1 of the namespace: reap every orphan, so no zombie holds a pid */
		for (;;) {
			pid_t w = wait(&st);

			if (w == pid)
				_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
			if (w < 0 && errno == ECHILD)
				_exit(1);
		}
	}
	waitpid(init, &st, 0);
	/* we are still in the host's pid namespace: its pid_max must not have moved */
	fc_read_file("/proc/sys/kernel/pid_max", after, sizeof(after));
	if (strcmp(before, after)) {
		fc_write_file("/proc/sys/kernel/pid_max", before);
		printf("error the host's pid_max changed: %s -> %s\n", before, after);
		return 1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static void canary_hit(int sig)
{
	/* async-signal-safe: the exit status says a signal arrived */
	_exit(100 + sig);
}

/*
 * A process in @cg_work that is init's child, not ours (the selection leaves faultcell's own
 * children out). Returns its pid, pinned in *pidfd.
 */
static pid_t spawn_orphan(const char *cg_work, int *pidfd)
{
	char path[PATH_MAX + 32];
	pid_t mid, pid = 0;
	int p[2];

	if (pipe(p))
		return -errno;
	mid = fork();
	if (mid == 0) {
		if (fork() == 0) {
			snprintf(path, sizeof(path), "%s/cgroup.procs", cg_work);
			if (fc_write_file(path, "0"))
				_exit(126);
			pid = getpid();
			(void)!write(p[1], &pid, sizeof(pid));
			for (;;)
				pause();
		}
		_exit(0);
	}
	close(p[1]);
	waitpid(mid, NULL, 0);
	if (read(p[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -EIO;
	close(p[0]);
	*pidfd = pid > 0 ? syscall(SYS_pidfd_open, pid, 0) : -1;
	return pid;
}

static bool exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return pidfd < 0 || poll(&p, 1, 0) == 1;
}

/* SIGKILL an orphan and wait until init has reaped it: its pid is free again. */
static void kill_orphan(pid_t pid, int pidfd)
{
	if (pid <= 0)
		return;
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	for (int i = 0; i < 2000 && !(kill(pid, 0) && errno == ESRCH); i++)
		usleep(1000);
}

static void __attribute__((noreturn)) canary_main(void)
{
	struct sigaction sa = { .sa_handler = canary_hit };

	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	for (;;)
		pause();
}

/*
 * A canary outside the cell with @pid: a helper forks and reaps canaries one at a time (so
 * they walk the 300..399 cycle one pid after the other) until one gets it, then leaves it to
 * init. It is never our child, so only the cell check can keep it out of the selection.
 */
static pid_t canary_with_pid(pid_t pid, int *pidfd)
{
	pid_t helper, c = 0;
	int p[2];

	*pidfd = -1;
	if (pipe(p))
		return 0;
	helper = fork();
	if (helper == 0) {
		for (int i = 0; i < 4 * atoi(PIDMAX); i++) {
			c = fork();
			if (c == 0)
				canary_main();
			if (c == pid)
				break;
			kill(c, SIGKILL);
			waitpid(c, NULL, 0);
			c = 0;
		}
		(void)!write(p[1], &c, sizeof(c));
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, sizeof(c)) != sizeof(c))
		c = 0;
	close(p[0]);
	waitpid(helper, NULL, 0);
	if (c > 0)
		*pidfd = syscall(SYS_pidfd_open, c, 0);
	return c;
}

struct race {
	pid_t victim, canary;
	int victim_fd, canary_fd;
	bool victim_listed;
};

static void recycle_victim(const pid_t *pids, int n, void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < n; i++)
		r->victim_listed |= pids[i] == r->victim;
	kill_orphan(r->victim, r->victim_fd);
	r->canary = canary_with_pid(r->victim, &r->canary_fd);
}

/* argv: CELL CELL_WORK */
static int race_main(char **argv)
{
	struct fc_proc_list l = {}, l2 = {};
	struct race r = { .canary_fd = -1 };
	struct fc_cell cell;
	pid_t v2, c2, last = 0, b;
	int listed_canary = 0, sig2, v2fd, c2fd = -1;

	if (fc_cell_from_path(argv[0], &cell))
		return 2;
	/* past the first wrap: from then on pids cycle through 300..399 */
	for (int i = 0; i < 2 * atoi(PIDMAX) && (b = fork()) >= 0; i++) {
		if (b == 0)
			_exit(0);
		waitpid(b, NULL, 0);
		if (b < last)
			break;
		last = b;
	}
	/* 1. the pid is recycled between listing and pinning */
	r.victim = spawn_orphan(argv[1], &r.victim_fd);
	fc_proc_list_cell(&cell, &l, recycle_victim, &r);
	for (int i = 0; i < l.n; i++)
		listed_canary += l.p[i].pid == r.canary;
	/* 2. the pid is recycled between pinning and signalling */
	v2 = spawn_orphan(argv[1], &v2fd);
	fc_proc_list_cell(&cell, &l2, NULL, NULL);
	kill_orphan(v2, v2fd);
	c2 = canary_with_pid(v2, &c2fd);
	sig2 = l2.n == 1 ? fc_proc_signal(&l2.p[0], SIGKILL) : 1;
	usleep(50000);
	printf("result listed=%d victim_listed=%d recycled1=%d listed_canary=%d canary1_alive=%d "
	       "pinned2=%d recycled2=%d signal2=%d canary2_alive=%d\n",
	       l.n, r.victim_listed, r.canary > 0 && r.canary == r.victim, listed_canary,
	       r.canary > 0 && !exited(r.canary_fd), l2.n, c2 > 0 && c2 == v2, sig2,
	       c2 > 0 && !exited(c2fd));
	fflush(stdout);
	fc_proc_list_free(&l);
	fc_proc_list_free(&l2);
	/* never kill(0, ...): that is our whole process group */
	kill_orphan(r.canary, r.canary_fd);
	kill_orphan(c2, c2fd);
	return 0;
}

static int proc_race(int argc, char **argv)
{
	return argc < 3 ? 2 : in_small_pidns(race_main, argv + 1);
}
FC_WORKER(proc_race, proc_race);

FC_TEST(proc_race_recycled_pid, TIER_HOST | FC_T_ROOT)
{
	char *a[] = { "proc_race", NULL, NULL, NULL }, line[512];
	int listed = -1, vl = -1, rec1 = -1, lc = -1, c1 = -1, pin2 = -1, rec2 = -1, s2 = 1,
	    c2 = -1;
	struct tcell cell = {}, out = {};
	int fd;
	pid_t w;

	if (!ASSERT_OK(tcell_create(&cell, "race", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&out, "race-out", NULL), "outside"))
		goto out;
	a[1] = cell.parent;
	a[2] = cell.child;
	w = tspawn(out.parent, NULL, a, &fd);
	if (!ASSERT_GT(w, 0, "spawn") ||
	    !ASSERT_OK(tread_line(fd, line, sizeof(line), 60000), "result")) {
		goto out;
	}
	close(fd);
	twait(w, 10000);
	if (!strncmp(line, "skip ", 5)) {
		test__skip("%s", line + 5);
		goto out;
	}
	test__log("%s", line);
	sscanf(line,
	       "result listed=%d victim_listed=%d recycled1=%d listed_canary=%d canary1_alive=%d "
	       "pinned2=%d recycled2=%d signal2=%d canary2_alive=%d",
	       &listed, &vl, &rec1, &lc, &c1, &pin2, &rec2, &s2, &c2);
	ASSERT_EQ(vl, 1, "the victim was listed from cgroup.procs");
	ASSERT_EQ(rec1, 1, "its pid went to a canary outside the cell before pinning");
	ASSERT_EQ(listed, 0, "the selection holds nobody: the canary is not in the cell");
	ASSERT_EQ(lc, 0, "the canary was not listed");
	ASSERT_EQ(c1, 1, "and lives");
	ASSERT_EQ(pin2, 1, "the second victim was pinned");
	ASSERT_EQ(rec2, 1, "its pid went to a canary after pinning");
	ASSERT_EQ(s2, -ESRCH, "pidfd_send_signal: the pinned process is gone (ESRCH)");
	ASSERT_EQ(c2, 1, "the canary with the recycled pid was not signalled");
out:
	tcell_destroy(&cell);
	tcell_destroy(&out);
}

/* Run `faultcell inject process-kill` once; returns its exit status, *injected from --json. */
static int inject_once(const char *fc, const char *cell, const char *select, int *injected)
{
	char *argv[] = { (char *)fc, "inject",	   "process-kill", "--cell",	   (char *)cell,
			 "--count",  "1",	   "--select",	   (char *)select, "--duration",
			 "100ms",    "--recovery", "3s",	   "--json",	   NULL };
	char out[8192], *p;
	int pfd[2], st = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	*injected = 0;
	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execv(fc, argv);
		_exit(127);
	}
	close(pfd[1]);
	while (got + 1 < sizeof(out) && (n = read(pfd[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += n;
	out[got] = 0;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	if ((p = strstr(out, "\"final\":true")) && (p = strstr(p, "\"injected\":")))
		*injected = atoi(p + strlen("\"injected\":"));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Start proc_super with @args; its stdout in *fd; waits for "ready". */
static pid_t super(char *const args[], int *fd)
{
	char *argv[20] = { (char *)test__self(), "--worker", "proc_super" }, line[64];
	int p[2], n = 3;
	pid_t pid;

	for (int i = 0; args[i] && n < 19; i++)
		argv[n++] = args[i];
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*fd = p[0];
	return tread_line(*fd, line, sizeof(line), 10000) ? -1 : pid;
}

static int read_pids(const char *path, unsigned char *bits)
{
	char line[32];
	int n = 0, p;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		if ((p = atoi(line)) > 0 && p < (1 << 22)) {
			bits[p / 8] |= 1 << (p % 8);
			n++;
		}
	if (f)
		fclose(f);
	unlink(path);
	return n;
}

/* argv: CELL CELL_WORK OUTSIDE FAULTCELL RUNS */
static int churn_main(char **argv)
{
	static const char *const sel[] = { "random", "newest", "oldest" };
	char inpids[64], outpids[64], line[128];
	unsigned char *a = calloc(1 << 19, 1), *b = calloc(1 << 19, 1);
	int runs = atoi(argv[4]), ok = 0, other = 0, injected = 0, inj, fd_in, fd_out, overlap = 0;
	int in_sp = 0, in_sig = 0, in_hits = 0, out_sp = 0, out_sig = 0, out_hits = 0;
	pid_t in, out;

	/* pids in here are the namespace's: name the files by mkstemp, not by pid */
	snprintf(inpids, sizeof(inpids), "/tmp/fc-churn-in-XXXXXX");
	snprintf(outpids, sizeof(outpids), "/tmp/fc-churn-out-XXXXXX");
	close(mkstemp(inpids));
	close(mkstemp(outpids));
	char *ia[] = { "--n",	 "3", "--cg",	 argv[1],  "--mode", "auto",
		       "--life", "5", "--quiet", "--pids", inpids,   NULL };
	char *oa[] = { "--n",	 "4", "--cg",	 argv[2],  "--mode", "auto",
		       "--life", "5", "--quiet", "--pids", outpids,  NULL };

	in = super(ia, &fd_in);
	out = super(oa, &fd_out);
	if (in <= 0 || out <= 0 || !a || !b)
		return 3;
	for (int i = 0; i < runs; i++) {
		int st = inject_once(argv[3], argv[0], sel[i % 3], &inj);

		if (st == 0 || st == 1)
			ok++;
		else
			other++;
		injected += inj;
	}
	kill(in, SIGTERM);
	kill(out, SIGTERM);
	if (!tread_line(fd_in, line, sizeof(line), 10000))
		sscanf(line, "summary spawned=%d signalled=%d hits=%d", &in_sp, &in_sig, &in_hits);
	if (!tread_line(fd_out, line, sizeof(line), 10000))
		sscanf(line, "summary spawned=%d signalled=%d hits=%d", &out_sp, &out_sig,
		       &out_hits);
	waitpid(in, NULL, 0);
	waitpid(out, NULL, 0);
	read_pids(inpids, a);
	read_pids(outpids, b);
	for (int i = 0; i < (1 << 19); i++)
		overlap += __builtin_popcount(a[i] & b[i]);
	printf("result runs=%d ok=%d other=%d injected=%d cell_spawned=%d cell_signalled=%d "
	       "canary_spawned=%d canary_hits=%d shared_pids=%d\n",
	       runs, ok, other, injected, in_sp, in_sig, out_sp, out_hits, overlap);
	fflush(stdout);
	return 0;
}

static int proc_churn(int argc, char **argv)
{
	return argc < 6 ? 2 : in_small_pidns(churn_main, argv + 1);
}
FC_WORKER(proc_churn, proc_churn);

FC_TEST(proc_kill_churn, TIER_HOST | FC_T_ROOT)
{
	char *a[] = { "proc_churn", NULL, NULL, NULL, NULL, "30", NULL }, line[512];
	int runs = 0, ok = 0, other = -1, inj = 0, csp = 0, csig = 0, osp = 0, hits = -1,
	    shared = 0;
	struct tcell cell = {}, out = {};
	int fd;
	pid_t w;

	if (!ASSERT_OK(tcell_create(&cell, "churn", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&out, "churn-out", NULL), "outside"))
		goto out;
	a[1] = cell.parent;
	a[2] = cell.child;
	a[3] = out.child;
	a[4] = (char *)test__faultcell();
	w = tspawn(out.parent, NULL, a, &fd);
	if (!ASSERT_GT(w, 0, "spawn") ||
	    !ASSERT_OK(tread_line(fd, line, sizeof(line), 240000), "result"))
		goto out;
	close(fd);
	twait(w, 10000);
	if (!strncmp(line, "skip ", 5)) {
		test__skip("%s", line + 5);
		goto out;
	}
	test__log("%s", line);
	sscanf(line,
	       "result runs=%d ok=%d other=%d injected=%d cell_spawned=%d cell_signalled=%d "
	       "canary_spawned=%d canary_hits=%d shared_pids=%d",
	       &runs, &ok, &other, &inj, &csp, &csig, &osp, &hits, &shared);
	ASSERT_EQ(ok, runs, "every inject ran (exit 0 or 1)");
	ASSERT_EQ(hits, 0, "no canary outside the cell ever got a signal");
	ASSERT_GE(inj, runs / 2, "the injects did kill");
	ASSERT_GT(csig, 0, "workers in the cell died of the signal");
	ASSERT_LE(csig, inj, "never more than were signalled");
	ASSERT_GT(shared, 0, "pids went back and forth across the cell's boundary");
	test__record("churn_runs", runs, "runs");
	test__record("churn_signalled_in_cell", csig, "processes");
	test__record("churn_canary_children", osp, "processes");
	test__record("churn_canary_hits", hits, "signals");
	test__record("churn_pids_shared_by_cell_and_canaries", shared, "pids");
out:
	tcell_destroy(&cell);
	tcell_destroy(&out);
}

/* faultcell's own children (its guard, a restore command) are never candidates. */
FC_TEST(proc_select_own_children, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	char *a[] = {
		"proc_super", "--n", "2", "--cg", NULL, "--mode", "never", "--gap", "30", NULL
	};
	struct fc_proc_list l = {};
	struct tcell cell = {};
	char line[64];
	int fd = -1, starts[2], n = 0, p;
	pid_t sup = 0;

	if (!ASSERT_OK(tcell_create(&cell, "own", NULL), "cell"))
		goto out;
	a[4] = cell.child;
	/* the supervisor is our child and sits in the cell; its two workers are not ours */
	sup = tspawn(cell.child, NULL, a, &fd);
	while (ASSERT_GT(sup, 0, "spawn") && !tread_line(fd, line, sizeof(line), 10000) &&
	       strcmp(line, "ready"))
		if (sscanf(line, "start %*d %d", &p) == 1 && n < 2)
			starts[n++] = p;
	if (!ASSERT_EQ(n, 2, "two workers started") ||
	    !ASSERT_OK(fc_proc_list_cell(&cell.cell, &l, NULL, NULL), "list"))
		goto out;
	ASSERT_EQ(l.n, 2, "the two workers, not our own child");
	for (int i = 0; i < l.n; i++)
		ASSERT_NEQ(l.p[i].pid, sup, "our child is left out");
	fc_select_order(l.p, l.n, sizeof(l.p[0]), FC_SELECT_NEWEST, fc_proc_age);
	ASSERT_EQ(l.p[0].pid, starts[1], "newest first");
	fc_select_order(l.p, l.n, sizeof(l.p[0]), FC_SELECT_OLDEST, fc_proc_age);
	ASSERT_EQ(l.p[0].pid, starts[0], "oldest first");
out:
	fc_proc_list_free(&l);
	if (sup > 0) {
		kill(sup, SIGTERM);
		twait(sup, 5000);
	}
	if (fd >= 0)
		close(fd);
	tcell_destroy(&cell);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Workloads for the process-fault tests: `fc-test --worker NAME ARGS`.
 *
 * proc_super: a supervisor that keeps N children in a cgroup (or spread over P pods, child
 * cgroups it creates), like systemd or a ReplicaSet. It lives outside the cell, so the cell
 * holds exactly the workers. It says on stdout which child started and how each one died;
 * with --mode auto it respawns at once, with hup on SIGHUP (the `restore` command of the
 * tests), with never not at all. With --life MS its children churn (exit after a random time
 * up to MS) and catch every catchable signal, so a canary of them counts any signal it gets.
 *
 * proc_ticker: ticks every millisecond and reports every gap over 50 ms (a pause).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "lib/test.h"

#define PID_BITS (1 << 22) /* pid_max can be at most 2^22 */

enum { M_AUTO, M_HUP, M_NEVER };

struct sup {
	int n, pods, life_ms, gap_ms, mode;
	bool quiet;
	const char *cg, *pidfile;
	pid_t *kids;
	int spawned, signalled, hits;
	unsigned char *used; /* bitmap of every pid a child had, for --pids */
};

static void canary_hit(int sig)
{
	/* a churning child was signalled: say so in its exit status (async-signal-safe) */
	_exit(100 + sig);
}

static void __attribute__((noreturn)) child_main(const struct sup *s, int idx)
{
	struct sigaction sa = {};
	char path[PATH_MAX + 64];
	sigset_t none;
	unsigned int r = 0;
	int fd;

	sigemptyset(&none);
	sa.sa_handler = s->life_ms ? canary_hit : SIG_DFL;
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
			sigaction(sig, &sa, NULL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* never hold the supervisor's stdout: the test reads it to EOF */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, 1);
	if (s->pods)
		snprintf(path, sizeof(path), "%s/pod-%d/cgroup.procs", s->cg, idx % s->pods);
	else
		snprintf(path, sizeof(path), "%s/cgroup.procs", s->cg);
	if (fc_write_file(path, "0"))
		_exit(126);
	if (s->life_ms) {
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = getpid();
		usleep(r % ((unsigned int)s->life_ms * 1000 + 1));
		_exit(0);
	}
	for (;;)
		pause();
}

static void spawn(struct sup *s, int idx)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0)
		child_main(s, idx);
	s->kids[idx] = pid;
	s->spawned++;
	if (pid < PID_BITS)
		s->used[pid / 8] |= 1 << (pid % 8);
	if (!s->quiet)
		printf("start %d %d\n", idx, pid);
}

static void reap(struct sup *s)
{
	int st, idx;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (idx = 0; idx < s->n && s->kids[idx] != pid; idx++)
			;
		if (idx == s->n)
			continue;
		s->kids[idx] = 0;
		if (WIFSIGNALED(st))
			s->signalled++;
		if (WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) >= 100))
			s->hits++;
		if (!s->quiet) {
			if (WIFSIGNALED(st))
				printf("exit %d %d sig=%d\n", idx, pid, WTERMSIG(st));
			else
				printf("exit %d %d code=%d\n", idx, pid, WEXITSTATUS(st));
		}
		if (s->mode == M_AUTO)
			spawn(s, idx);
	}
	fflush(stdout);
}

static void finish(struct sup *s)
{
	FILE *f;

	for (int i = 0; i < s->n; i++)
		if (s->kids[i] > 0)
			kill(s->kids[i], SIGKILL);
	s->mode = M_NEVER;
	for (int i = 0; i < s->n; i++)
		if (s->kids[i] > 0)
			waitpid(s->kids[i], NULL, 0);
	printf("summary spawned=%d signalled=%d hits=%d\n", s->spawned, s->signalled, s->hits);
	fflush(stdout);
	if (s->pidfile && (f = fopen(s->pidfile, "w"))) {
		for (int p = 0; p < PID_BITS; p++)
			if (s->used[p / 8] & (1 << (p % 8)))
				fprintf(f, "%d\n", p);
		fclose(f);
	}
}

/* proc_super --n N --cg PATH [--pods P] [--mode auto|hup|never] [--life MS] [--gap MS]
 *            [--quiet] [--pids FILE] */
static int proc_super(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "n", 1, NULL, 'n' },	   { "cg", 1, NULL, 'c' },   { "pods", 1, NULL, 'p' },
		{ "mode", 1, NULL, 'm' },  { "life", 1, NULL, 'l' }, { "gap", 1, NULL, 'g' },
		{ "quiet", 0, NULL, 'q' }, { "pids", 1, NULL, 'P' }, {},
	};
	struct sup s = { .n = 3 };
	char path[PATH_MAX + 32];
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	sigset_t m;
	int c, sig;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			s.n = atoi(optarg);
			break;
		case 'c':
			s.cg = optarg;
			break;
		case 'p':
			s.pods = atoi(optarg);
			break;
		case 'm':
			s.mode = !strcmp(optarg, "hup")	    ? M_HUP
				 : !strcmp(optarg, "never") ? M_NEVER
							    : M_AUTO;
			break;
		case 'l':
			s.life_ms = atoi(optarg);
			break;
		case 'g':
			s.gap_ms = atoi(optarg);
			break;
		case 'q':
			s.quiet = true;
			break;
		case 'P':
			s.pidfile = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!s.cg || s.n <= 0)
		return 2;
	s.kids = calloc(s.n, sizeof(*s.kids));
	s.used = calloc(PID_BITS / 8, 1);
	if (!s.kids || !s.used)
		return 1;
	for (int i = 0; i < s.pods; i++) {
		snprintf(path, sizeof(path), "%s/pod-%d", s.cg, i);
		if (mkdir(path, 0755) && errno != EEXIST)
			return 1;
	}
	sigemptyset(&m);
	sigaddset(&m, SIGCHLD);
	sigaddset(&m, SIGHUP);
	sigaddset(&m, SIGTERM);
	sigaddset(&m, SIGINT);
	sigprocmask(SIG_BLOCK, &m, NULL);
	for (int i = 0; i < s.n; i++) {
		spawn(&s, i);
		/* distinct start times (they tick at 10 ms) for the oldest/newest tests */
		if (s.gap_ms)
			usleep(s.gap_ms * 1000);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		sig = sigtimedwait(&m, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP && s.mode == M_HUP) {
			reap(&s);
			for (int i = 0; i < s.n; i++)
				if (!s.kids[i])
					spawn(&s, i);
			fflush(stdout);
		}
		reap(&s);
	}
	finish(&s);
	return 0;
}
FC_WORKER(proc_super, proc_super);

/* proc_ticker: "ready", then a tick every 1 ms; prints "gap MS" for every gap over 50 ms. */
static int proc_ticker(int argc, char **argv)
{
	struct timespec d = { 0, 1000 * 1000 };
	uint64_t last, now;

	(void)argc;
	(void)argv;
	printf("ready\n");
	fflush(stdout);
	last = fc_now_ns();
	for (;;) {
		clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
		/* CLOCK_MONOTONIC runs on while the cgroup is frozen: the gap is the pause */
		now = fc_now_ns();
		if (now - last > 50 * NSEC_PER_MSEC) {
			printf("gap %.3f\n", (now - last) / 1e6);
			fflush(stdout);
		}
		last = now;
	}
	return 0;
}
FC_WORKER(proc_ticker, proc_ticker);

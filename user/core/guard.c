// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/control.h"
#include "core/guard.h"
#include "core/log.h"
#include "core/recover.h"
#include "core/state.h"
#include "core/util.h"

static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static void guard_log(const char *run_id, const char *msg)
{
	/* stderr may be a closed terminal by now; the loader's journal records the rest */
	fprintf(stderr, "faultcell guard (run %s): %s\n", run_id, msg);
}

/* The loader is gone: make everything inert, then let `recover` do the full undo. */
static int on_loader_death(const struct fc_guard_opts *o, const char *exe)
{
	struct fc_state st;
	char runarg[FC_RUN_ID_LEN];
	int status = 0;
	pid_t pid;

	if (fc_state_load(o->run_id, &st))
		return 0; /* no state: the loader rolled back and verified before it died */
	if (st.control_map_id)
		fc_control_disable_by_id(st.control_map_id);
	guard_log(o->run_id, "loader died with state recorded: running recover");
	snprintf(runarg, sizeof(runarg), "%s", o->run_id);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)exe, "recover", "--run", runarg, "--from-guard", NULL };

		execv(exe, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		/* no child: do the undo ourselves rather than leave a fault behind */
		char log[4096];

		return fc_recover_run(o->run_id, log, sizeof(log)) ? 1 : 0;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* Past the deadline with the loader alive: undo the recorded state without the lock. */
static void on_deadline(const struct fc_guard_opts *o)
{
	struct fc_state st;
	char log[4096];

	if (fc_state_load(o->run_id, &st))
		return;
	guard_log(o->run_id, "deadline passed and the loader has not rolled back: undoing");
	fc_undo_state(&st, log, sizeof(log));
	fputs(log, stderr);
}

static void __attribute__((noreturn)) guard_main(const struct fc_guard_opts *o, int pidfd)
{
	char exe[PATH_MAX];
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	uint64_t act_at = o->deadline_ns ? o->deadline_ns + (o->grace_ns ?: NSEC_PER_SEC) : 0;
	bool acted = false;
	int n, devnull;

	/* Out of the loader's session: a Ctrl-C on its terminal must not reach the guard. */
	setsid();
	/*
	 * The loader's handlers would turn SIGTERM into a flag nobody reads here. Signals are
	 * blocked across the fork (see fc_guard_start), so a SIGTERM sent the moment we exist
	 * waits until the default action is back.
	 */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_SETMASK, &o->saved_mask, NULL);
	prctl(PR_SET_NAME, "faultcell-guard");
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
	}
	if (o->self_exe)
		snprintf(exe, sizeof(exe), "%s", o->self_exe);
	else if (!realpath("/proc/self/exe", exe))
		_exit(7);
	for (;;) {
		int timeout = -1;

		if (act_at && !acted) {
			uint64_t now = fc_now_ns();

			timeout = now >= act_at ? 0 : (int)((act_at - now) / NSEC_PER_MSEC) + 1;
		}
		n = poll(&pfd, 1, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0)
			_exit(on_loader_death(o, exe));
		if (n == 0 && !acted) {
			on_deadline(o);
			acted = true;
		}
	}
}

pid_t fc_guard_start(const struct fc_guard_opts *opts)
{
	struct fc_guard_opts o = *opts;
	sigset_t all;
	int pidfd, err;
	pid_t pid;

	/* The pidfd is taken before the fork: the loader cannot die unnoticed in between. */
	pidfd = pidfd_open_(getpid());
	if (pidfd < 0)
		return -errno;
	fflush(NULL);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &o.saved_mask);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		sigprocmask(SIG_SETMASK, &o.saved_mask, NULL);
		close(pidfd);
		return err;
	}
	if (pid == 0)
		guard_main(&o, pidfd);
	sigprocmask(SIG_SETMASK, &o.saved_mask, NULL);
	close(pidfd);
	return pid;
}

void fc_guard_stop(pid_t guard)
{
	int status;

	if (guard <= 0)
		return;
	kill(guard, SIGTERM);
	waitpid(guard, &status, 0);
}

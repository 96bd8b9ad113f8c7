// SPDX-License-Identifier: BSD-2-Clause
/*
 * Set-up and teardown of the demo: the cgroups, the supervisor and the load generator, the
 * run directory with the restore command the demo binding names. Teardown does not depend on
 * knowing every pid: one cgroup.kill on faultcell-demo ends whatever runs in its subtree
 * (a pod the supervisor just restarted included), then the directories go bottom-up.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/log.h"
#include "core/util.h"
#include "demo/demo.h"

#define READY_TIMEOUT_MS 15000
#define EMPTY_TIMEOUT_MS 5000

static const char *const dirs[] = {
	"",	   "/supervisor",   "/ledger",	     "/loadgen",
	"/cell-3", "/cell-3/pod-1", "/cell-3/pod-2", "/cell-3/pod-3",
	"/cell-1", "/cell-1/pod-1", "/cell-1/pod-2", "/cell-1/pod-3",
};

/*
 * The binding's restore command: ask the supervisor for the missing pods now (it restarts
 * them by itself after a short delay anyway, as a ReplicaSet would).
 */
static const char restore_script[] =
    "#!/bin/sh\n"
    "# written by 'faultcell demo': the demo binding's restore command. Asks the demo's\n"
    "# supervisor to restart missing pods now (it also does so by itself after a delay).\n"
    "exec kill -USR1 \"$(cat " FC_DEMO_DIR "/supervisor.pid)\"\n";

static bool populated(const char *cg)
{
	char path[PATH_MAX + 32], buf[256];

	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	if (fc_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	return strstr(buf, "populated 1") != NULL;
}

/* rmdir @path and every cgroup below it, children first. Returns how many were removed. */
static int remove_tree(const char *path)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char sub[PATH_MAX];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub))
			continue;
		n += remove_tree(sub);
	}
	closedir(d);
	/* a frozen leftover (a crashed cell-pause) would keep its processes: thaw first */
	fc_cgroup_freeze(path, false, 500);
	return n + !rmdir(path);
}

/* Kill everything in the subtree and wait until it is empty. 0 or -ETIMEDOUT. */
static int empty_tree(const char *root)
{
	uint64_t until = fc_now_ns() + EMPTY_TIMEOUT_MS * NSEC_PER_MSEC;

	if (access(root, F_OK))
		return 0;
	fc_cgroup_freeze(root, false, 500);
	fc_cgroup_kill(root);
	while (populated(root)) {
		if (fc_now_ns() > until)
			return -ETIMEDOUT;
		usleep(5000);
	}
	return 0;
}

static int port_free(int port)
{
	int s = fc_demo_listen(port, 1, 0);

	if (s < 0)
		return s;
	close(s);
	return 0;
}

/* fork, join @cg, exec `faultcell demo-role ARGV...`; stdout is a pipe returned in *@fd. */
static pid_t start_role(const struct fc_demo *d, const char *self, const char *cg,
			char *const argv[], int *fd)
{
	char procs[PATH_MAX + 64], *args[12] = { "faultcell", "demo-role" };
	pid_t parent = getpid(), pid;
	int p[2], i;

	for (i = 0; argv[i] && i < 9; i++)
		args[2 + i] = argv[i];
	args[2 + i] = NULL;
	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", d->root, cg);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		/*
		 * Exec at once (design.md §3). Its own session: a Ctrl-C in the terminal reaches
		 * the demo, which tears down in order, not every process at once. PDEATHSIG: a
		 * SIGKILLed demo takes its service along.
		 */
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || fc_write_file(procs, "0"))
			_exit(127);
		dup2(p[1], 1);
		execv(self, args);
		_exit(127);
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}

static int wait_ready(pid_t pid, int fd, const char *what)
{
	uint64_t until = fc_now_ns() + READY_TIMEOUT_MS * NSEC_PER_MSEC;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char line[32] = "";
	int n = 0, status;

	while (!fc_exiting && fc_now_ns() < until) {
		if (poll(&pfd, 1, 100) == 1) {
			n = read(fd, line, sizeof(line) - 1);
			break;
		}
	}
	close(fd);
	if (n > 0 && !strncmp(line, "ready", 5))
		return 0;
	if (fc_exiting) {
		pr_warn("demo: set-up interrupted; tearing down");
		return FC_EXIT_OPERATOR;
	}
	if (waitpid(pid, &status, WNOHANG) == pid)
		pr_warn("demo: the %s exited during set-up (%s %d); see its message above", what,
			WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	else
		pr_warn("demo: the %s did not get ready within %d s (is the machine overloaded?)",
			what, READY_TIMEOUT_MS / 1000);
	return FC_EXIT_INTERNAL;
}

/* @pid runs `faultcell ... demo ...` (a recycled pid is someone else). */
static bool is_demo(pid_t pid)
{
	char path[64], cmd[1024];
	int n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = fc_read_file(path, cmd, sizeof(cmd));
	/* argv is NUL-separated: look for the word itself */
	for (int i = 0; i < n; i += strlen(cmd + i) + 1)
		if (!strcmp(cmd + i, "demo"))
			return true;
	return false;
}

/* A demo already running, or leftovers of one that crashed (those are cleaned up). */
static int check_previous(const char *root)
{
	static const int ports[] = { FC_DEMO_PORT_CELL1, FC_DEMO_PORT_CELL3, FC_DEMO_PORT_LEDGER,
				     FC_DEMO_PORT_METRICS };
	char pid[32] = "";

	if (populated(root)) {
		fc_read_file(FC_DEMO_DIR "/demo.pid", pid, sizeof(pid));
		pid[strcspn(pid, "\n")] = 0;
		if (pid[0] && is_demo(atoi(pid))) {
			pr_warn("demo: another demo is running (faultcell demo, pid %s): stop it "
				"first (Ctrl-C in its terminal, or kill %s)",
				pid, pid);
			return FC_EXIT_REFUSED;
		}
		pr_warn("demo: cleaning up what a previous demo left in %s", root);
		if (empty_tree(root)) {
			pr_warn("demo: cannot stop the processes left in %s: remove them by hand",
				root);
			return FC_EXIT_REFUSED;
		}
	}
	remove_tree(root);
	for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
		int err = port_free(ports[i]);

		if (err) {
			pr_warn("demo: cannot use 127.0.0.1:%d: %s (the demo needs ports %d-%d; "
				"stop what listens there: ss -ltnp 'sport = :%d')",
				ports[i], strerror(-err), FC_DEMO_PORT_CELL1, FC_DEMO_PORT_METRICS,
				ports[i]);
			return FC_EXIT_REFUSED;
		}
	}
	return 0;
}

/* Create (or replace) a file in the run directory. 0 or -errno. */
static int put_file(const char *path, const char *s, unsigned int mode)
{
	size_t n = strlen(s);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, s, n) != (ssize_t)n)
		err = -errno ?: -EIO;
	close(fd);
	return err;
}

static int write_run_dir(void)
{
	char pid[32];
	int err;

	err = fc_mkdir_p(FC_DEMO_DIR, 0755);
	if (err)
		return err;
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	return put_file(FC_DEMO_DIR "/demo.pid", pid, 0644)
		   ?: put_file(FC_DEMO_DIR "/restore-pods", restore_script, 0755);
}

int fc_demo_up(struct fc_demo *d, const struct fc_demo_opts *o)
{
	char mount[PATH_MAX], root[PATH_MAX], rate[16], timeout[16], window[16], restart[16];
	char pid[32];
	char *sup[] = { "supervisor", d->root, restart, NULL };
	char *lg[] = { "loadgen", rate, timeout, window, NULL };
	double scale = o->time_scale > 0 ? o->time_scale : 1;
	uint64_t wms = o->window_ns / NSEC_PER_MSEC;
	int err, fd, rc;

	memset(d, 0, sizeof(*d));
	err = fc_cgroup2_mount(mount, sizeof(mount));
	if (err) {
		pr_warn("demo: no cgroup2 mount found (mount -t cgroup2 none /sys/fs/cgroup)");
		return FC_EXIT_REFUSED;
	}
	snprintf(root, sizeof(root), "%s/" FC_DEMO_CGROUP, mount);
	if ((rc = check_previous(root)))
		return rc;
	/* from here on the tree is ours: fc_demo_down removes it, also after a failure */
	snprintf(d->root, sizeof(d->root), "%s", root);
	/* at least 20 checkouts per window, so one failure shows; at most 500/s per cell */
	d->rate = o->rate ?: (wms && 20000 / wms > 100 ? 20000 / wms : 100);
	if (d->rate > 500)
		d->rate = 500;
	/* the service's own clock follows the rehearsal's, within what TCP can do */
	d->timeout_ms = 1000 * scale < 300 ? 300 : 1000 * scale;
	d->restart_ms = 1000 * scale < 100 ? 100 : 1000 * scale;
	snprintf(rate, sizeof(rate), "%u", d->rate);
	snprintf(timeout, sizeof(timeout), "%u", d->timeout_ms);
	snprintf(window, sizeof(window), "%llu", (unsigned long long)(wms ?: 1000));
	snprintf(restart, sizeof(restart), "%u", d->restart_ms);
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char p[PATH_MAX + 32];

		snprintf(p, sizeof(p), "%s%s", d->root, dirs[i]);
		if (mkdir(p, 0755) && errno != EEXIST) {
			err = -errno;
			pr_warn("demo: cannot create cgroup %s: %s", p, strerror(-err));
			return FC_EXIT_REFUSED;
		}
		d->cgroups++;
	}
	err = write_run_dir();
	if (err) {
		pr_warn("demo: cannot write %s: %s", FC_DEMO_DIR, strerror(-err));
		return FC_EXIT_REFUSED;
	}
	d->supervisor = start_role(d, o->self_exe, "/supervisor", sup, &fd);
	if (d->supervisor < 0) {
		pr_warn("demo: cannot start the supervisor: %s", strerror(-d->supervisor));
		return FC_EXIT_INTERNAL;
	}
	if ((rc = wait_ready(d->supervisor, fd, "supervisor")))
		return rc;
	snprintf(pid, sizeof(pid), "%d\n", d->supervisor);
	put_file(FC_DEMO_DIR "/supervisor.pid", pid, 0644);
	d->loadgen = start_role(d, o->self_exe, "/loadgen", lg, &fd);
	if (d->loadgen < 0) {
		pr_warn("demo: cannot start the load generator: %s", strerror(-d->loadgen));
		return FC_EXIT_INTERNAL;
	}
	return wait_ready(d->loadgen, fd, "load generator");
}

/* Reap the pods reparented to us (no zombie left in the process table). */
static void reap_orphans(void)
{
	uint64_t until = fc_now_ns() + 200 * NSEC_PER_MSEC;
	pid_t r;

	while (fc_now_ns() < until) {
		r = waitpid(-1, NULL, WNOHANG);
		if (r < 0)
			break; /* ECHILD: nobody left */
		if (!r)
			usleep(2000);
	}
}

int fc_demo_down(struct fc_demo *d, char *what, size_t len)
{
	int err = 0, n = 0, status;

	if (!d->root[0]) {
		snprintf(what, len, "nothing was set up");
		return 0;
	}
	/* the pods outlive the supervisor by a moment: they come to us, and we reap them */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (empty_tree(d->root))
		err = -ETIMEDOUT;
	if (d->supervisor > 0)
		waitpid(d->supervisor, &status, 0);
	if (d->loadgen > 0)
		waitpid(d->loadgen, &status, 0);
	reap_orphans();
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	n = remove_tree(d->root);
	unlink(FC_DEMO_DIR "/restore-pods");
	unlink(FC_DEMO_DIR "/supervisor.pid");
	unlink(FC_DEMO_DIR "/demo.pid");
	rmdir(FC_DEMO_DIR);
	if (!err && !access(d->root, F_OK))
		err = -EBUSY;
	if (err)
		snprintf(what, len, "%s could not be removed (%s): see 'cat %s/cgroup.procs'",
			 d->root, strerror(-err), d->root);
	else
		snprintf(what, len, "every demo process stopped, %d cgroups and %s removed", n,
			 FC_DEMO_DIR);
	d->root[0] = 0;
	return err;
}

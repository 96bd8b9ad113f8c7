// SPDX-License-Identifier: BSD-2-Clause
/*
 * The scratch cell (<cgroup2>/fc-probe-<pid>) and what cells need from the kernel: the cgroup2
 * mount, cgroup.freeze, cgroup.kill, pidfds; and the active LSM list.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/probe.h"
#include "core/util.h"

/* A crashed probe leaves only its cell behind: remove cells whose probe is gone. */
static void sweep_stale(const char *mnt)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(mnt);
	int pid;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "fc-probe-%d", &pid) != 1 || pid == getpid() ||
		    fc_pid_alive(pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s", mnt, de->d_name);
		fc_write_file(path, "0"); /* never leave it frozen */
		rmdir(path);
	}
	closedir(d);
}

int probe_cell_setup(struct fc_probe *p)
{
	struct fc_probe_priv *pv = p->priv;
	char mnt[PATH_MAX], path[PATH_MAX];
	struct fc_cell cell;
	int err;

	err = fc_cgroup2_mount(mnt, sizeof(mnt));
	if (err) {
		snprintf(pv->cg_err, sizeof(pv->cg_err),
			 "mount: no cgroup2 in /proc/self/mountinfo");
		return err;
	}
	sweep_stale(mnt);
	snprintf(path, sizeof(path), "%s/fc-probe-%d", mnt, getpid());
	if (mkdir(path, 0755) && errno != EEXIST) {
		err = -errno;
		snprintf(pv->cg_err, sizeof(pv->cg_err), "mkdir %s: %s", path, strerror(errno));
		return err;
	}
	err = fc_cell_from_path(path, &cell);
	if (err) {
		snprintf(pv->cg_err, sizeof(pv->cg_err), "cgroup id of %s: %s", path,
			 strerror(-err));
		rmdir(path);
		return err;
	}
	snprintf(pv->cg_path, sizeof(pv->cg_path), "%s", cell.path);
	pv->cg_id = cell.id;
	pv->cg_level = cell.level;
	return 0;
}

void probe_cell_teardown(struct fc_probe *p)
{
	struct fc_probe_priv *pv = p->priv;
	char freeze[PATH_MAX + 16];

	if (!pv->cg_path[0])
		return;
	snprintf(freeze, sizeof(freeze), "%s/cgroup.freeze", pv->cg_path);
	fc_write_file(freeze, "0");
	/* Helpers are reaped already, but an exiting task can keep the cgroup busy briefly. */
	for (int i = 0; i < 100 && rmdir(pv->cg_path) && errno == EBUSY; i++)
		usleep(10000);
	pv->cg_path[0] = 0;
}

int probe_cell_fd(struct fc_probe *p)
{
	int fd = open(p->priv->cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* ---- the active LSM list: an attached LSM program runs only when "bpf" is in it ---- */

/* securityfs may be unmounted: mount it in a private mount namespace of a child, so nothing
 * changes for anyone else. */
static int read_lsm_private(char *buf, size_t len)
{
	int pfd[2], n = 0, status;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		char lsm[256];
		int got;

		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL))
			_exit(2);
		got = fc_read_file("/sys/kernel/security/lsm", lsm, sizeof(lsm));
		if (got < 0 || write(pfd[1], lsm, got) != got)
			_exit(3);
		_exit(0);
	}
	close(pfd[1]);
	while ((size_t)n < len - 1) {
		ssize_t r = read(pfd[0], buf + n, len - 1 - n);

		if (r <= 0)
			break;
		n += r;
	}
	buf[n] = 0;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ENOENT;
}

int probe_read_lsm(struct fc_probe *p)
{
	int err = fc_read_file("/sys/kernel/security/lsm", p->lsm, sizeof(p->lsm));

	if (err < 0)
		err = read_lsm_private(p->lsm, sizeof(p->lsm));
	if (err < 0) {
		p->lsm[0] = 0;
		snprintf(p->lsm_err, sizeof(p->lsm_err),
			 "cannot read /sys/kernel/security/lsm (securityfs)");
		return err;
	}
	p->lsm[strcspn(p->lsm, "\n")] = 0;
	return 0;
}

/* ---- cells ---- */

static int check_own_cgroup(void *arg)
{
	char rel[PATH_MAX];
	int err = fc_pid_cgroup(getpid(), rel, sizeof(rel));

	if (err)
		return err;
	return strcmp(rel, (const char *)arg) ? -EXDEV : 0;
}

int probe_cgroup2(struct fc_probe *p, struct fc_probe_result *r)
{
	char mnt[PATH_MAX], rel[PATH_MAX];
	struct probe_child c;
	uint64_t t0 = fc_now_ns();
	int err, res = 0;

	err = fc_cgroup2_mount(mnt, sizeof(mnt));
	if (err)
		return probe_fail(r, "mount", err);
	/* the scratch cell is a direct child of the root */
	snprintf(rel, sizeof(rel), "%s", strrchr(p->priv->cg_path, '/'));
	err = probe_child_start(p, true, check_own_cgroup, rel, &c);
	if (err)
		return probe_fail(r, "join", err);
	r->attach_ns = fc_now_ns() - t0;
	err = probe_child_run(&c, 2000, &res);
	if (err || res)
		return probe_fail(r, "/proc/PID/cgroup", err ?: res);
	snprintf(r->via, sizeof(r->via), "%s", mnt);
	r->hits = 1;
	r->available = true;
	return 0;
}

int probe_cgroup_freeze(struct fc_probe *p, struct fc_probe_result *r)
{
	const char *cg = p->priv->cg_path;
	struct probe_child c;
	uint64_t t0;
	int err;

	/* The child waits for a "go" that never comes: a task blocked in read() can freeze. */
	err = probe_child_start(p, true, NULL, NULL, &c);
	if (err)
		return probe_fail(r, "join", err);
	t0 = fc_now_ns();
	err = fc_cgroup_freeze(cg, true, 2000);
	r->attach_ns = fc_now_ns() - t0;
	if (err) {
		probe_fail(r, "freeze", err);
		goto out;
	}
	if (fc_cgroup_is_frozen(cg) == 1)
		r->hits = 1;
	t0 = fc_now_ns();
	err = fc_cgroup_freeze(cg, false, 2000);
	r->detach_ns = fc_now_ns() - t0;
	if (err) {
		probe_fail(r, "thaw", err);
		goto out;
	}
	r->available = r->hits > 0;
	if (!r->available)
		snprintf(r->error, sizeof(r->error), "freeze: cgroup.events never said frozen 1");
out:
	probe_child_stop(&c);
	return err;
}

/* Wait for @pid to be killed by SIGKILL, up to @ms. */
static int wait_killed(pid_t pid, int ms)
{
	int status;

	for (int i = 0; i < ms; i++) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : -ECHILD;
		if (w < 0)
			return -errno;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

int probe_cgroup_kill(struct fc_probe *p, struct fc_probe_result *r)
{
	struct probe_child c;
	uint64_t t0;
	int err;

	err = probe_child_start(p, true, NULL, NULL, &c);
	if (err)
		return probe_fail(r, "join", err);
	t0 = fc_now_ns();
	err = fc_cgroup_kill(p->priv->cg_path);
	if (err) {
		probe_fail(r, "cgroup.kill", err);
		goto out;
	}
	err = wait_killed(c.pid, 2000);
	r->attach_ns = fc_now_ns() - t0;
	if (err) {
		probe_fail(r, "wait", err);
		goto out;
	}
	c.pid = -1; /* reaped */
	r->hits = 1;
	r->available = true;
out:
	probe_child_stop(&c);
	return err;
}

int probe_pidfd(struct fc_probe *p, struct fc_probe_result *r)
{
	struct probe_child c;
	int err, pidfd;
	uint64_t t0;

	err = probe_child_start(p, true, NULL, NULL, &c);
	if (err)
		return probe_fail(r, "join", err);
	t0 = fc_now_ns();
	pidfd = syscall(SYS_pidfd_open, c.pid, 0);
	if (pidfd < 0) {
		err = probe_fail(r, "pidfd_open", -errno);
		goto out;
	}
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0)) {
		err = probe_fail(r, "pidfd_send_signal", -errno);
		goto out_close;
	}
	err = wait_killed(c.pid, 2000);
	r->attach_ns = fc_now_ns() - t0;
	if (err) {
		probe_fail(r, "wait", err);
		goto out_close;
	}
	c.pid = -1;
	r->hits = 1;
	r->available = true;
out_close:
	close(pidfd);
out:
	probe_child_stop(&c);
	return err;
}

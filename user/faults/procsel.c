// SPDX-License-Identifier: BSD-2-Clause
/* Pinned members and pods of a cell, selection, signals and the restore command (proc.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "faults/proc.h"

static int sys_pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* /proc/PID/stat: ppid, start time and comm. 0 or -errno. */
static int read_stat(pid_t pid, pid_t *ppid, uint64_t *start, char *comm, size_t commlen)
{
	char path[64], buf[1024], *open, *close;
	unsigned long long st;
	int pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (fc_read_file(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	/* comm may hold spaces and parentheses: it ends at the last ')' */
	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (!open || !close || close < open)
		return -EINVAL;
	snprintf(comm, commlen, "%.*s", (int)(close - open - 1), open + 1);
	/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
	 * stime cutime cstime priority nice threads itrealvalue starttime */
	if (sscanf(close + 2,
		   "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu",
		   &pp, &st) != 2)
		return -EINVAL;
	*ppid = pp;
	*start = st;
	return 0;
}

/* Listed pids of the subtree, in a buffer that grows until everything fits. */
static int list_pids(const struct fc_cell *cell, pid_t **out)
{
	int max = 256, n;
	pid_t *pids = NULL, *tmp;

	for (;;) {
		tmp = realloc(pids, max * sizeof(*pids));
		if (!tmp) {
			free(pids);
			return -ENOMEM;
		}
		pids = tmp;
		n = fc_cell_pids(cell, pids, max);
		if (n < 0 || n < max)
			break;
		max *= 2;
	}
	if (n < 0)
		free(pids);
	else
		*out = pids;
	return n;
}

int fc_proc_list_cell(const struct fc_cell *cell, struct fc_proc_list *out, fc_proc_race_fn race,
		      void *arg)
{
	pid_t *pids = NULL, self = getpid(), ppid;
	struct fc_proc *p;
	int n, i, fd;

	out->p = NULL;
	out->n = 0;
	n = list_pids(cell, &pids);
	if (n < 0)
		return n;
	if (race)
		race(pids, n, arg);
	out->p = calloc(n ?: 1, sizeof(*out->p));
	if (!out->p) {
		free(pids);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (pids[i] <= 0 || pids[i] == self)
			continue;
		/* 1. pin: from here on the pidfd names one process, whatever happens to the pid */
		fd = sys_pidfd_open(pids[i]);
		if (fd < 0)
			continue; /* gone already */
		p = &out->p[out->n];
		p->pid = pids[i];
		p->pidfd = fd;
		/*
		 * 2. check what /proc says about the pid now; 3. the pinned process is still
		 * alive after that, so what /proc said was about it
		 */
		if (!fc_cell_contains_pid(cell, pids[i]) ||
		    read_stat(pids[i], &ppid, &p->start, p->comm, sizeof(p->comm)) ||
		    ppid == self || fc_proc_exited(p)) {
			close(fd);
			continue;
		}
		out->n++;
	}
	free(pids);
	return 0;
}

void fc_proc_list_free(struct fc_proc_list *l)
{
	for (int i = 0; i < l->n; i++)
		if (l->p[i].pidfd >= 0)
			close(l->p[i].pidfd);
	free(l->p);
	l->p = NULL;
	l->n = 0;
}

int fc_proc_signal(const struct fc_proc *p, int sig)
{
	if (syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0))
		return -errno;
	return 0;
}

bool fc_proc_exited(const struct fc_proc *p)
{
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };

	/* a pidfd polls readable once its process has exited (zombie or reaped) */
	return poll(&pfd, 1, 0) == 1;
}

static bool populated(int dirfd)
{
	char buf[256];
	ssize_t n;
	int fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, "populated 1") != NULL;
}

int fc_pod_list_cell(const struct fc_cell *cell, struct fc_pod_list *out)
{
	char self_cg[PATH_MAX], path[PATH_MAX * 2];
	size_t rl = strlen(cell->rel);
	struct fc_pod *tmp;
	struct dirent *de;
	int cap = 0, fd, err = 0;
	DIR *d;

	out->p = NULL;
	out->n = 0;
	if (fc_pid_cgroup(getpid(), self_cg, sizeof(self_cg)))
		self_cg[0] = 0;
	d = opendir(cell->path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		/* the pod holding faultcell (and so its guard) is never a candidate */
		if (!strncmp(self_cg, cell->rel, rl) && self_cg[rl] == '/' &&
		    !strncmp(self_cg + rl + 1, de->d_name, strlen(de->d_name)) &&
		    (self_cg[rl + 1 + strlen(de->d_name)] == '/' ||
		     !self_cg[rl + 1 + strlen(de->d_name)]))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!populated(fd)) {
			close(fd);
			continue;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(out->p, cap * sizeof(*tmp));
			if (!tmp) {
				close(fd);
				err = -ENOMEM;
				break;
			}
			out->p = tmp;
		}
		snprintf(out->p[out->n].name, sizeof(out->p[0].name), "%s", de->d_name);
		out->p[out->n].dirfd = fd;
		snprintf(path, sizeof(path), "%s/%s", cell->path, de->d_name);
		if (fc_cgroup_id(path, &out->p[out->n].id))
			out->p[out->n].id = 0;
		out->n++;
	}
	closedir(d);
	if (err)
		fc_pod_list_free(out);
	return err;
}

void fc_pod_list_free(struct fc_pod_list *l)
{
	for (int i = 0; i < l->n; i++)
		close(l->p[i].dirfd);
	free(l->p);
	l->p = NULL;
	l->n = 0;
}

int fc_pod_kill(const struct fc_pod *p)
{
	int fd = openat(p->dirfd, "cgroup.kill", O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

static uint64_t rand64(void)
{
	uint64_t r;

	/* getrandom never fails for 8 bytes once the pool is up; fall back to the clock */
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = fc_now_ns() * 0x9e3779b97f4a7c15ULL;
	return r;
}

static void swap_items(char *a, char *b, size_t size)
{
	char t;

	for (size_t i = 0; i < size; i++) {
		t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
}

void fc_select_order(void *items, int n, size_t size, enum fc_select how,
		     uint64_t (*age)(const void *item))
{
	char *it = items;

	if (how == FC_SELECT_RANDOM) {
		/* Fisher-Yates; the modulo bias is below 2^-40 for any cell we will see */
		for (int i = n - 1; i > 0; i--)
			swap_items(it + i * size, it + (rand64() % (uint64_t)(i + 1)) * size, size);
		return;
	}
	/* a selection sort: cells hold tens of processes, and it needs no comparator context */
	for (int i = 0; i < n; i++) {
		int best = i;

		for (int j = i + 1; j < n; j++) {
			uint64_t aj = age(it + j * size), ab = age(it + best * size);

			if (how == FC_SELECT_OLDEST ? aj < ab : aj > ab)
				best = j;
		}
		if (best != i)
			swap_items(it + i * size, it + best * size, size);
	}
}

uint64_t fc_proc_age(const void *item)
{
	const struct fc_proc *p = item;

	/* start times tick at USER_HZ (10 ms): the pid breaks ties (pid_max <= 2^22) */
	return p->start << 22 | ((uint64_t)p->pid & 0x3fffff);
}

uint64_t fc_pod_age(const void *item)
{
	return ((const struct fc_pod *)item)->id;
}

static const char *const select_names[] = { "random", "oldest", "newest" };

int fc_select_parse(const char *s, enum fc_select *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(select_names); i++) {
		if (!strcmp(s, select_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *fc_select_name(enum fc_select s)
{
	return (size_t)s < ARRAY_SIZE(select_names) ? select_names[s] : "?";
}

int fc_signal_parse(const char *s)
{
	const char *name = s;
	char *end;
	long v;

	if (isdigit((unsigned char)s[0])) {
		v = strtol(s, &end, 10);
		return *end || v < 1 || v >= NSIG ? -EINVAL : (int)v;
	}
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (int i = 1; i < NSIG; i++) {
		const char *abbrev = sigabbrev_np(i);

		if (abbrev && !strcasecmp(abbrev, name))
			return i;
	}
	return -EINVAL;
}

const char *fc_signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

int fc_restore_run(const char *cmd, uint64_t timeout_ns, char *why, size_t len)
{
	char buf[1024], *argv[64], *save = NULL, *tok;
	struct pollfd pfd = { .events = POLLIN };
	uint64_t until = fc_now_ns() + timeout_ns;
	int argc = 0, status = 0, devnull, err = 0;
	pid_t pid;

	snprintf(buf, sizeof(buf), "%s", cmd);
	for (tok = strtok_r(buf, " \t", &save); tok && argc < 63;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (!argc) {
		snprintf(why, len, "the restore command is empty");
		return -EINVAL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		snprintf(why, len, "cannot start '%s': %s", cmd, strerror(-err));
		return err;
	}
	if (pid == 0) {
		/* its own group, so a timeout kills what it started too; stdout is ours (JSON) */
		setpgid(0, 0);
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(2, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	pfd.fd = sys_pidfd_open(pid);
	for (;;) {
		uint64_t now = fc_now_ns();
		int ms = now >= until ? 0 : (int)((until - now) / NSEC_PER_MSEC) + 1;

		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (ms == 0) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(why, len,
				 "'%s' was killed: still running after the recovery timeout", cmd);
			err = -ETIMEDOUT;
			goto out;
		}
		/* wake when it exits; without a pidfd, look again in 10 ms */
		if (pfd.fd < 0 || poll(&pfd, 1, ms) < 0)
			usleep(10000);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		snprintf(why, len, "'%s' could not be run (not found?)", argv[0]);
		err = -ENOENT;
	} else if (WIFEXITED(status) && WEXITSTATUS(status)) {
		snprintf(why, len, "'%s' exited %d", cmd, WEXITSTATUS(status));
		err = -ECHILD;
	} else if (WIFSIGNALED(status)) {
		snprintf(why, len, "'%s' died of signal %d", cmd, WTERMSIG(status));
		err = -ECHILD;
	}
out:
	if (pfd.fd >= 0)
		close(pfd.fd);
	return err;
}

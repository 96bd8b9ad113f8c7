// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/wait.h>

#include "core/util.h"

volatile sig_atomic_t fc_exiting;

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

uint64_t fc_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t fc_now_coarse_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

uint64_t fc_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "ms", 1000000 },
	{ "s", NSEC_PER_SEC },
	{ "m", 60 * NSEC_PER_SEC },
	{ "h", 3600 * NSEC_PER_SEC },
};

int fc_parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v;
	size_t i;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].name))
			continue;
		if (v * units[i].ns >= 1.8e19)
			return -ERANGE;
		*ns = (uint64_t)(v * units[i].ns + 0.5);
		return 0;
	}
	return -EINVAL;
}

void fc_format_duration(uint64_t ns, char *buf, size_t len)
{
	int i;

	for (i = ARRAY_SIZE(units) - 1; i > 0; i--) {
		if (ns >= units[i].ns && ns % units[i].ns == 0)
			break;
	}
	if (i == 0 && ns >= 1000)
		for (i = ARRAY_SIZE(units) - 1; i > 0 && ns < units[i].ns; i--)
			;
	if (ns % units[i].ns == 0)
		snprintf(buf, len, "%llu%s", (unsigned long long)(ns / units[i].ns), units[i].name);
	else
		snprintf(buf, len, "%.3g%s", (double)ns / units[i].ns, units[i].name);
}

int fc_read_file(const char *path, char *buf, size_t len)
{
	int fd, n, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = -errno;
	close(fd);
	if (n < 0)
		return err;
	buf[n] = 0;
	return n;
}

int fc_write_file(const char *path, const char *s)
{
	int fd, err = 0;
	size_t n = strlen(s);

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, n) != (ssize_t)n)
		err = -errno ?: -EIO;
	close(fd);
	return err;
}

int fc_mkdir_p(const char *path, unsigned int mode)
{
	char tmp[4096];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

bool fc_pid_alive(int pid)
{
	char path[64], buf[512], *p;

	if (pid <= 0)
		return false;
	/* A zombie still answers kill(0): read its state instead. */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (fc_read_file(path, buf, sizeof(buf)) < 0)
		return false;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

void fc_make_run_id(char *buf, size_t len)
{
	unsigned char rnd[3] = {};
	time_t t = time(NULL);
	struct tm tm;
	char ts[32];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		uint64_t x = fc_now_ns() ^ getpid();

		memcpy(rnd, &x, sizeof(rnd));
	}
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%S", &tm);
	snprintf(buf, len, "%s-%02x%02x%02x", ts, rnd[0], rnd[1], rnd[2]);
}

static void on_exit_signal(int sig)
{
	(void)sig;
	fc_exiting = 1;
}

void fc_install_exit_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_exit_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int fc_run_capture(char *const argv[], char *buf, size_t len)
{
	int pfd[2], status, n, got = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while (len > 1 && (n = read(pfd[0], buf + got, len - 1 - got)) > 0)
		got += n;
	if (len)
		buf[got] = 0;
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

int fc_netns_enter(const char *path, int *saved)
{
	int self, ns, err;

	*saved = -1;
	if (!path || !*path)
		return 0;
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNET)) {
		err = -errno;
		if (ns >= 0)
			close(ns);
		close(self);
		return err;
	}
	close(ns);
	*saved = self;
	return 0;
}

void fc_netns_restore(int saved)
{
	if (saved < 0)
		return;
	setns(saved, CLONE_NEWNET);
	close(saved);
}

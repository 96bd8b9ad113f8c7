// SPDX-License-Identifier: BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <net/if.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/inventory.h"
#include "core/util.h"
#include "lib/host.h"
#include "lib/test.h"

int tcg_mkdir(const char *rel, struct fc_cell *out)
{
	char mnt[PATH_MAX], abs[PATH_MAX * 2];
	int err = fc_cgroup2_mount(mnt, sizeof(mnt));

	if (err)
		return err;
	snprintf(abs, sizeof(abs), "%s/%s", mnt, rel);
	if (mkdir(abs, 0755) && errno != EEXIST)
		return -errno;
	return out ? fc_cell_from_path(abs, out) : 0;
}

int tcell_create(struct tcell *c, const char *name, const char *under)
{
	char mnt[PATH_MAX];
	int err;

	memset(c, 0, sizeof(*c));
	err = fc_cgroup2_mount(mnt, sizeof(mnt));
	if (err)
		return err;
	snprintf(c->parent, sizeof(c->parent), "%s/fc-test-%d-%s", under ?: mnt, getpid(), name);
	snprintf(c->child, sizeof(c->child), "%s/work", c->parent);
	if (mkdir(c->parent, 0755) && errno != EEXIST)
		return -errno;
	if (mkdir(c->child, 0755) && errno != EEXIST)
		return -errno;
	return fc_cell_from_path(c->parent, &c->cell);
}

void tcg_remove_tree(const char *abs_path)
{
	char sub[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;
	int i;

	if (access(abs_path, F_OK))
		return;
	/* thaw first: cgroup.kill works on frozen tasks, but a frozen tree is a leftover */
	fc_cgroup_freeze(abs_path, false, 100);
	fc_cgroup_kill(abs_path);
	d = opendir(abs_path);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", abs_path, de->d_name);
			tcg_remove_tree(sub);
		}
		closedir(d);
	}
	/* killed tasks leave the cgroup asynchronously: retry rmdir for a while */
	for (i = 0; i < 500 && rmdir(abs_path) && errno == EBUSY; i++)
		usleep(10000);
}

void tcell_destroy(struct tcell *c)
{
	if (c->parent[0])
		tcg_remove_tree(c->parent);
	c->parent[0] = 0;
}

int tsh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int tnet_enter(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		err = -errno;
	close(fd);
	return err;
}

static int ifindex_in(const char *netns_path, const char *dev)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), idx = 0;

	if (self < 0)
		return -errno;
	if (!tnet_enter(netns_path))
		idx = if_nametoindex(dev);
	setns(self, CLONE_NEWNET);
	close(self);
	return idx;
}

int tnet_create(struct tnet *n, const char *name)
{
	int err;

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "fc-test-%d-%s", getpid(), name);
	snprintf(n->peer_name, sizeof(n->peer_name), "fc-test-%d-%s-p", getpid(), name);
	snprintf(n->path, sizeof(n->path), "/run/netns/%s", n->name);
	snprintf(n->peer_path, sizeof(n->peer_path), "/run/netns/%s", n->peer_name);
	snprintf(n->dev_a, sizeof(n->dev_a), "fcv%da", getpid() % 100000);
	snprintf(n->dev_b, sizeof(n->dev_b), "fcv%db", getpid() % 100000);
	err = tsh("set -e; ip netns add %s; ip netns add %s;"
		  "ip -n %s link add %s type veth peer name %s netns %s;"
		  "ip -n %s addr add 10.200.0.1/24 dev %s; ip -n %s addr add 10.200.0.2/24 dev %s;"
		  "ip -n %s addr add fd00:fc::1/64 dev %s nodad;"
		  "ip -n %s addr add fd00:fc::2/64 dev %s nodad;"
		  "ip -n %s link set %s up; ip -n %s link set %s up;"
		  "ip -n %s link set lo up; ip -n %s link set lo up",
		  n->name, n->peer_name, n->name, n->dev_a, n->dev_b, n->peer_name, n->name,
		  n->dev_a, n->peer_name, n->dev_b, n->name, n->dev_a, n->peer_name, n->dev_b,
		  n->name, n->dev_a, n->peer_name, n->dev_b, n->name, n->peer_name);
	if (err) {
		tnet_destroy(n);
		return -EIO;
	}
	n->ifindex_a = ifindex_in(n->path, n->dev_a);
	n->ifindex_b = ifindex_in(n->peer_path, n->dev_b);
	return n->ifindex_a > 0 && n->ifindex_b > 0 ? 0 : -ENODEV;
}

void tnet_destroy(struct tnet *n)
{
	if (!n->name[0])
		return;
	/* deleting a netns removes its devices, their qdiscs and filters with them */
	tsh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", n->name, n->peer_name);
	n->name[0] = 0;
}

static pid_t spawn(const char *cg_abs, const char *netns_path, const char *exe, const char *pre,
		   char *const argv[], int *out_fd, int *err_fd, bool merge)
{
	int pfd[2] = { -1, -1 }, efd[2] = { -1, -1 }, i, n;
	char *args[64], buf[32], path[PATH_MAX + 32];
	pid_t pid;

	if (out_fd && pipe2(pfd, O_CLOEXEC))
		return -errno;
	if (err_fd && pipe2(efd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (out_fd)
			dup2(pfd[1], 1);
		if (merge)
			dup2(pfd[1], 2);
		if (err_fd)
			dup2(efd[1], 2);
		if (cg_abs) {
			snprintf(path, sizeof(path), "%s/cgroup.procs", cg_abs);
			snprintf(buf, sizeof(buf), "%d", getpid());
			if (fc_write_file(path, buf))
				_exit(126);
		}
		if (netns_path && tnet_enter(netns_path))
			_exit(125);
		n = 0;
		args[n++] = (char *)exe;
		if (pre) {
			args[n++] = (char *)pre;
		}
		for (i = 0; argv[i] && n < 63; i++)
			args[n++] = argv[i];
		args[n] = NULL;
		execv(exe, args);
		_exit(127);
	}
	if (out_fd) {
		close(pfd[1]);
		*out_fd = pfd[0];
	}
	if (err_fd) {
		close(efd[1]);
		*err_fd = efd[0];
	}
	return pid;
}

pid_t tspawn(const char *cg_abs, const char *netns_path, char *const argv[], int *out_fd)
{
	return spawn(cg_abs, netns_path, test__self(), "--worker", argv, out_fd, NULL, false);
}

pid_t tspawn_fc_merged(char *const argv[], int *out_fd)
{
	return spawn(NULL, NULL, test__faultcell(), NULL, argv, out_fd, NULL, true);
}

pid_t tspawn_fc(char *const argv[], int *out_fd, int *err_fd)
{
	return spawn(NULL, NULL, test__faultcell(), NULL, argv, out_fd, err_fd, false);
}

int tread_line(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	int n;

	while (got + 1 < len) {
		n = poll(&p, 1, timeout_ms);
		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0 && errno == EINTR)
			continue;
		if (read(fd, buf + got, 1) != 1)
			return -EPIPE;
		if (buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = 0;
	return 0;
}

int tread_all(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	int n;

	while (got + 1 < len) {
		n = poll(&p, 1, timeout_ms);
		if (n <= 0)
			break;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = 0;
	return got;
}

int twait(pid_t pid, int timeout_ms)
{
	int st, i;

	for (i = 0; i <= timeout_ms; i += 5) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0)
			return -errno;
		usleep(5000);
	}
	return -ETIMEDOUT;
}

int trun_fc(char *out, size_t outlen, char *const argv[])
{
	int ofd, st;
	pid_t pid = spawn(NULL, NULL, test__faultcell(), NULL, argv, &ofd, NULL, true);

	if (pid < 0)
		return pid;
	tread_all(ofd, out, outlen, 60000);
	close(ofd);
	st = twait(pid, 60000);
	return st;
}

int tpoll(bool (*pred)(void *), void *arg, int cap_ms)
{
	uint64_t t0 = fc_now_ns();

	for (;;) {
		if (pred(arg))
			return (int)((fc_now_ns() - t0) / NSEC_PER_MSEC);
		if ((fc_now_ns() - t0) / NSEC_PER_MSEC > (uint64_t)cap_ms)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

void tsweep(pid_t pid)
{
	char mnt[PATH_MAX], prefix[64], path[PATH_MAX + 300];
	struct dirent *de;
	size_t pl;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "fc-test-%d-", pid);
	pl = strlen(prefix);
	if (!fc_cgroup2_mount(mnt, sizeof(mnt)) && (d = opendir(mnt))) {
		while ((de = readdir(d))) {
			if (strncmp(de->d_name, prefix, pl))
				continue;
			snprintf(path, sizeof(path), "%s/%s", mnt, de->d_name);
			tcg_remove_tree(path);
		}
		closedir(d);
	}
	if ((d = opendir("/run/netns"))) {
		while ((de = readdir(d))) {
			if (strncmp(de->d_name, prefix, pl))
				continue;
			tsh("ip netns del %s 2>/dev/null", de->d_name);
		}
		closedir(d);
	}
}

bool tinventory_as_before(const struct fc_inventory *before, const char *what)
{
	struct fc_inventory after;
	char left[2048] = "";
	int n = -1;

	for (int i = 0; i < 500; i++) {
		if (fc_inventory_collect(&after, NULL))
			break;
		n = fc_inventory_new_items(before, &after, left, sizeof(left));
		fc_inventory_free(&after);
		if (!n)
			break;
		usleep(10000);
	}
	if (!ASSERT_EQ(n, 0, what)) {
		test__log("left: %s", left);
		return false;
	}
	return true;
}

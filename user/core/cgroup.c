// SPDX-License-Identifier: BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/util.h"

int fc_cgroup2_mount(char *buf, size_t len)
{
	char line[4096], mnt[PATH_MAX], *sep;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* fields: id parent maj:min root mountpoint opts... - fstype source superopts */
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		snprintf(buf, len, "%s", mnt);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int fc_cgroup_id(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	int mount_id;

	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return -errno;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

int fc_pid_cgroup(pid_t pid, char *buf, size_t len)
{
	char path[64], line[4096];
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(buf, len, "%s", line + 3);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

static void normalize(char *p)
{
	size_t n;

	/* collapse "//" and strip a trailing "/" (except the root) */
	for (char *s = p, *d = p;; s++) {
		if (*s == '/' && d > p && d[-1] == '/')
			continue;
		*d++ = *s;
		if (!*s)
			break;
	}
	n = strlen(p);
	if (n > 1 && p[n - 1] == '/')
		p[n - 1] = 0;
}

int fc_cell_from_path(const char *spec, struct fc_cell *cell)
{
	char mnt[PATH_MAX], rel[PATH_MAX];
	struct stat st;
	size_t ml;
	int err;

	err = fc_cgroup2_mount(mnt, sizeof(mnt));
	if (err)
		return err;
	ml = strlen(mnt);
	if (spec[0] == '/' && !strncmp(spec, mnt, ml) && (spec[ml] == '/' || !spec[ml]))
		snprintf(rel, sizeof(rel), "/%s", spec + ml);
	else
		snprintf(rel, sizeof(rel), "/%s", spec);
	normalize(rel);
	if (strstr(rel, "/../") || strstr(rel, "/./") || !strcmp(rel, "/..") ||
	    (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/..")))
		return -EINVAL;
	snprintf(cell->rel, sizeof(cell->rel), "%s", rel);
	snprintf(cell->path, sizeof(cell->path), "%s%s", mnt, strcmp(rel, "/") ? rel : "");
	if (stat(cell->path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	cell->level = 0;
	for (const char *p = rel; *p; p++)
		cell->level += *p == '/' && p[1];
	return fc_cgroup_id(cell->path, &cell->id);
}

int fc_cell_from_pid(pid_t pid, struct fc_cell *cell)
{
	char rel[PATH_MAX];
	int err = fc_pid_cgroup(pid, rel, sizeof(rel));

	return err ?: fc_cell_from_path(rel, cell);
}

int fc_cell_resolve(const char *spec, struct fc_cell *cell, char *why, size_t whylen)
{
	char mnt[PATH_MAX];
	int err;

	if (fc_cgroup2_mount(mnt, sizeof(mnt))) {
		snprintf(why, whylen,
			 "no cgroup2 filesystem is mounted (mount -t cgroup2 none DIR)");
		return -ENOENT;
	}
	if (!strncmp(spec, "pid:", 4)) {
		char *end;
		long pid = strtol(spec + 4, &end, 10);

		if (*end || pid <= 0) {
			snprintf(why, whylen, "'%s' is not a pid", spec + 4);
			return -EINVAL;
		}
		err = fc_cell_from_pid(pid, cell);
		if (err)
			snprintf(why, whylen, "no process %ld (or it has no cgroup2 path)", pid);
		return err;
	}
	if (!strncmp(spec, "unit:", 5)) {
		/* Resolving a unit needs systemd's own view of the tree; without it there is none.
		 */
		if (access("/run/systemd/system", F_OK)) {
			snprintf(why, whylen,
				 "systemd is not running here, so unit '%s' cannot be resolved "
				 "(give the cgroup path instead)",
				 spec + 5);
			return -ENOENT;
		}
		/* systemd knows where it put the unit: ask it, no shell involved */
		char out[PATH_MAX];
		char *argv[] = { "systemctl", "show",		"-p", "ControlGroup",
				 "--value",   (char *)spec + 5, NULL };

		err = fc_run_capture(argv, out, sizeof(out));
		out[strcspn(out, "\n")] = 0;
		if (err || !out[0]) {
			snprintf(why, whylen,
				 "systemd has no cgroup for unit '%s' (is it running?)", spec + 5);
			return -ENOENT;
		}
		err = fc_cell_from_path(out, cell);
		if (err)
			snprintf(why, whylen, "unit '%s' has cgroup %s, which is not there (%s)",
				 spec + 5, out, strerror(-err));
		return err;
	}
	err = fc_cell_from_path(spec, cell);
	if (err == -EINVAL)
		snprintf(why, whylen, "'%s' is not a plain cgroup path ('..' is not allowed)",
			 spec);
	else if (err)
		snprintf(why, whylen, "cgroup '%s' not found under %s (%s)", spec, mnt,
			 strerror(-err));
	return err;
}

bool fc_cell_contains_pid(const struct fc_cell *cell, pid_t pid)
{
	char rel[PATH_MAX];
	size_t n = strlen(cell->rel);

	if (fc_pid_cgroup(pid, rel, sizeof(rel)))
		return false;
	if (!strcmp(cell->rel, "/"))
		return true;
	return !strncmp(rel, cell->rel, n) && (rel[n] == '/' || !rel[n]);
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (fc_read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

int fc_cell_guard(const struct fc_cell *cell, char *why, size_t whylen)
{
	pid_t p;

	if (cell->level == 0) {
		snprintf(why, whylen, "the cell is the cgroup root: it holds every process");
		return -EPERM;
	}
	if (fc_cell_contains_pid(cell, 1)) {
		snprintf(why, whylen, "the cell's subtree holds PID 1");
		return -EPERM;
	}
	for (p = getpid(); p > 1; p = parent_of(p)) {
		if (fc_cell_contains_pid(cell, p)) {
			snprintf(why, whylen, "the cell's subtree holds %s (pid %d)",
				 p == getpid() ? "faultcell itself" : "an ancestor of faultcell",
				 p);
			return -EPERM;
		}
	}
	return 0;
}

static int collect(const char *dir, pid_t *pids, int n, int max)
{
	char path[PATH_MAX + 32], line[32];
	struct dirent *de;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (n < max)
			pids[n++] = atoi(line);
	fclose(f);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = collect(path, pids, n, max);
		if (n < 0)
			break;
	}
	closedir(d);
	return n;
}

int fc_cell_pids(const struct fc_cell *cell, pid_t *pids, int max)
{
	return collect(cell->path, pids, 0, max);
}

int fc_cgroup_is_frozen(const char *path)
{
	char p[PATH_MAX + 32], buf[512], *s;
	int n;

	snprintf(p, sizeof(p), "%s/cgroup.events", path);
	n = fc_read_file(p, buf, sizeof(buf));
	if (n < 0)
		return n;
	s = strstr(buf, "frozen ");
	return s ? s[7] == '1' : -ENOTSUP;
}

int fc_cgroup_freeze(const char *path, bool frozen, int timeout_ms)
{
	char p[PATH_MAX + 32];
	int err, i;

	snprintf(p, sizeof(p), "%s/cgroup.freeze", path);
	err = fc_write_file(p, frozen ? "1" : "0");
	if (err)
		return err;
	for (i = 0; i <= timeout_ms; i++) {
		if (fc_cgroup_is_frozen(path) == frozen)
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

int fc_cgroup_kill(const char *path)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/cgroup.kill", path);
	return fc_write_file(p, "1");
}

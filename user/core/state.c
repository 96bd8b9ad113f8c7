// SPDX-License-Identifier: BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/state.h"
#include "core/util.h"

const char *fc_run_dir(void)
{
	const char *d = getenv("FAULTCELL_RUN_DIR");

	return d && *d ? d : "/run/faultcell";
}

void fc_state_path(const char *run_id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.state", fc_run_dir(), run_id);
}

static int append_line(int fd, const char *line)
{
	size_t n = strlen(line);

	if (write(fd, line, n) != (ssize_t)n)
		return -errno ?: -EIO;
	/* The record must be on disk before the object exists: a crash in between is fine. */
	return fsync(fd) ? -errno : 0;
}

int fc_state_create(struct fc_state *st)
{
	char path[PATH_MAX], buf[3 * PATH_MAX + 256];
	int err;

	err = fc_mkdir_p(fc_run_dir(), 0700);
	if (err)
		return err;
	fc_state_path(st->run_id, path, sizeof(path));
	st->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (st->fd < 0)
		return -errno;
	snprintf(buf, sizeof(buf),
		 "run %s\npid %d\ndeadline %llu\ncontrol_map %u\ncell %s\n%s%s%s%s%s%s", st->run_id,
		 st->pid, (unsigned long long)st->deadline_ns, st->control_map_id,
		 st->cell[0] ? st->cell : "-", st->netns[0] ? "netns " : "", st->netns,
		 st->netns[0] ? "\n" : "", st->journal[0] ? "journal " : "", st->journal,
		 st->journal[0] ? "\n" : "");
	err = append_line(st->fd, buf);
	if (err) {
		close(st->fd);
		st->fd = -1;
		unlink(path);
	}
	return err;
}

static void format_rec(const struct fc_rec *r, char *buf, size_t len)
{
	switch (r->kind) {
	case REC_CLSACT:
		snprintf(buf, len, "clsact %d %s\n", r->ifindex, r->ifname);
		break;
	case REC_TC_FILTER:
		snprintf(buf, len, "tc_filter %d %s %u %u\n", r->ifindex,
			 r->egress ? "egress" : "ingress", r->handle, r->prio);
		break;
	case REC_FREEZE:
		snprintf(buf, len, "freeze %s\n", r->path);
		break;
	case REC_QDISC:
		snprintf(buf, len, "qdisc %d %s %x %s %s %u\n", r->ifindex, r->ifname, r->handle,
			 r->qkind, r->qwas, r->drain_ms);
		break;
	}
}

int fc_state_append(struct fc_state *st, const struct fc_rec *rec)
{
	char buf[PATH_MAX + 64];
	int err;

	if (st->nrecs >= FC_STATE_MAX_RECS)
		return -E2BIG;
	format_rec(rec, buf, sizeof(buf));
	err = append_line(st->fd, buf);
	if (!err)
		st->recs[st->nrecs++] = *rec;
	return err;
}

static int parse_line(struct fc_state *st, char *line)
{
	struct fc_rec r = {};
	char dir[16];

	line[strcspn(line, "\n")] = 0;
	if (sscanf(line, "run %39s", st->run_id) == 1)
		return 0;
	if (sscanf(line, "pid %d", &st->pid) == 1)
		return 0;
	if (sscanf(line, "deadline %lu", &st->deadline_ns) == 1)
		return 0;
	if (sscanf(line, "control_map %u", &st->control_map_id) == 1)
		return 0;
	if (!strncmp(line, "journal ", 8)) {
		snprintf(st->journal, sizeof(st->journal), "%s", line + 8);
		return 0;
	}
	if (!strncmp(line, "netns ", 6)) {
		snprintf(st->netns, sizeof(st->netns), "%s", line + 6);
		return 0;
	}
	if (!strncmp(line, "cell ", 5)) {
		snprintf(st->cell, sizeof(st->cell), "%s", line + 5);
		return 0;
	}
	if (sscanf(line, "clsact %d %31s", &r.ifindex, r.ifname) == 2) {
		r.kind = REC_CLSACT;
	} else if (sscanf(line, "tc_filter %d %15s %u %u", &r.ifindex, dir, &r.handle, &r.prio) ==
		   4) {
		r.kind = REC_TC_FILTER;
		r.egress = !strcmp(dir, "egress");
	} else if (sscanf(line, "qdisc %d %31s %x %15s %15s %u", &r.ifindex, r.ifname, &r.handle,
			  r.qkind, r.qwas, &r.drain_ms) == 6) {
		r.kind = REC_QDISC;
	} else if (!strncmp(line, "freeze ", 7)) {
		r.kind = REC_FREEZE;
		snprintf(r.path, sizeof(r.path), "%s", line + 7);
	} else {
		/* a torn last line from a crash mid-write is expected; anything else is not ours */
		return line[0] ? -EINVAL : 0;
	}
	if (st->nrecs >= FC_STATE_MAX_RECS)
		return -E2BIG;
	st->recs[st->nrecs++] = r;
	return 0;
}

int fc_state_load(const char *run_id, struct fc_state *st)
{
	char path[PATH_MAX], line[PATH_MAX + 64];
	FILE *f;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	fc_state_path(run_id, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		parse_line(st, line);
	fclose(f);
	if (!st->run_id[0])
		snprintf(st->run_id, sizeof(st->run_id), "%s", run_id);
	return 0;
}

int fc_state_remove(struct fc_state *st)
{
	char path[PATH_MAX];

	fc_state_close(st);
	fc_state_path(st->run_id, path, sizeof(path));
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

void fc_state_close(struct fc_state *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
}

int fc_state_list(char ids[][FC_RUN_ID_LEN], int max)
{
	struct dirent *de;
	int n = 0;
	size_t len;
	DIR *d = opendir(fc_run_dir());

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		len = strlen(de->d_name);
		if (len <= 6 || strcmp(de->d_name + len - 6, ".state") || len - 6 >= FC_RUN_ID_LEN)
			continue;
		memcpy(ids[n], de->d_name, len - 6);
		ids[n][len - 6] = 0;
		n++;
	}
	closedir(d);
	return n;
}

/*
 * The lock lives with the host's other lock files (/run/lock), so the run directory holds only
 * state files and is empty after every clean run; a private run dir keeps its own lock.
 */
static void lock_path(char *buf, size_t len)
{
	if (getenv("FAULTCELL_RUN_DIR") && *getenv("FAULTCELL_RUN_DIR"))
		snprintf(buf, len, "%s/lock", fc_run_dir());
	else if (!access("/run/lock", W_OK))
		snprintf(buf, len, "/run/lock/faultcell.lock");
	else
		snprintf(buf, len, "%s/lock", fc_run_dir());
}

int fc_lock_take(int *holder)
{
	char path[PATH_MAX], buf[32];
	int fd, err;

	err = fc_mkdir_p(fc_run_dir(), 0700);
	if (err)
		return err;
	lock_path(path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (holder)
			*holder = fc_lock_holder();
		close(fd);
		return err;
	}
	/* the pid is for messages only: the flock itself is the truth */
	snprintf(buf, sizeof(buf), "%d\n", getpid());
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, buf, strlen(buf), 0);
	return fd;
}

void fc_lock_release(int fd)
{
	if (fd < 0)
		return;
	/* the holder pid is a hint for messages; a failed truncate leaves a stale hint only */
	(void)!ftruncate(fd, 0);
	close(fd);
}

int fc_lock_holder(void)
{
	char path[PATH_MAX], buf[32];
	int fd, pid = 0;

	lock_path(path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return 0;
	}
	if (fc_read_file(path, buf, sizeof(buf)) > 0)
		pid = atoi(buf);
	close(fd);
	return pid ?: -1;
}

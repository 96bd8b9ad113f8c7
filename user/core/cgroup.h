/* SPDX-License-Identifier: BSD-2-Clause */
/* Cells: cgroup2 subtrees (design.md §3), resolved to the id and level BPF matches on. */
#ifndef FC_CGROUP_H
#define FC_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct fc_cell {
	char path[PATH_MAX]; /* absolute filesystem path of the cgroup directory */
	char rel[PATH_MAX];  /* path below the cgroup2 mount, "/" for the root */
	uint64_t id;	     /* cgroup id (kernfs node id) */
	uint32_t level;	     /* depth below the root: 0 for the root */
};

/* The cgroup2 mount point, from /proc/self/mountinfo (never hard-coded). 0 or -ENOENT. */
int fc_cgroup2_mount(char *buf, size_t len);
/* The id of the cgroup at @path (name_to_handle_at). 0 or -errno. */
int fc_cgroup_id(const char *path, uint64_t *id);
/* The cgroup2 path of @pid relative to the mount ("/a/b"). 0 or -errno. */
int fc_pid_cgroup(pid_t pid, char *buf, size_t len);

/* A cell from a path: absolute under the mount, or relative to it. -ENOENT when missing. */
int fc_cell_from_path(const char *spec, struct fc_cell *cell);
int fc_cell_from_pid(pid_t pid, struct fc_cell *cell);
/* "pid:N", "unit:X.service" or a path. @why gets a human reason on failure. */
int fc_cell_resolve(const char *spec, struct fc_cell *cell, char *why, size_t whylen);

/* True when @pid's cgroup is @cell or below it. */
bool fc_cell_contains_pid(const struct fc_cell *cell, pid_t pid);
/*
 * The guard of design.md §3: refuse the cgroup root and any subtree holding PID 1, this
 * process or one of its ancestors. 0 when allowed, -EPERM with @why set otherwise.
 */
int fc_cell_guard(const struct fc_cell *cell, char *why, size_t whylen);

/* Thread-group leaders in the whole subtree, up to @max. Returns how many, or -errno. */
int fc_cell_pids(const struct fc_cell *cell, pid_t *pids, int max);

/* cgroup.freeze: write 1/0 and wait until cgroup.events says so (up to @timeout_ms). */
int fc_cgroup_freeze(const char *path, bool frozen, int timeout_ms);
int fc_cgroup_is_frozen(const char *path);
int fc_cgroup_kill(const char *path);

#endif

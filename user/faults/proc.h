/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the process faults (process-kill, pod-kill) share: the cell's members pinned so that a
 * recycled pid is never signalled, its pods (child cgroups) pinned by a directory fd, the
 * selection (random, oldest, newest) and the `restore` command.
 *
 * Pinning: a pid read from cgroup.procs can exit and be reused by any process on the host
 * before we act. So every pid is first pinned with pidfd_open, *then* checked (its cgroup, its
 * start time), then checked alive through the pidfd: alive after the check means the /proc
 * files we read belonged to the pinned process. Signals go through pidfd_send_signal, which
 * never reaches a process the pidfd does not name.
 */
#ifndef FC_FAULTS_PROC_H
#define FC_FAULTS_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cgroup.h"

enum fc_select { FC_SELECT_RANDOM, FC_SELECT_OLDEST, FC_SELECT_NEWEST };

struct fc_proc {
	pid_t pid;
	int pidfd;
	uint64_t start; /* clock ticks after boot (/proc/PID/stat): the age order */
	char comm[16];
};

struct fc_proc_list {
	struct fc_proc *p;
	int n;
};

/*
 * Called after the pids are listed and before they are pinned: the worst moment for a pid to
 * be recycled. Production passes NULL; the tests recycle a pid here.
 */
typedef void (*fc_proc_race_fn)(const pid_t *pids, int n, void *arg);

/*
 * The thread-group leaders of @cell's subtree, each pinned by a pidfd and confirmed in the
 * cell after pinning. faultcell itself and its children (the guard, a restore command) are
 * left out. 0 or -errno.
 */
int fc_proc_list_cell(const struct fc_cell *cell, struct fc_proc_list *out, fc_proc_race_fn race,
		      void *arg);
void fc_proc_list_free(struct fc_proc_list *l);

/* Signal one pinned process. 0, -ESRCH when it is gone (nobody else is ever signalled). */
int fc_proc_signal(const struct fc_proc *p, int sig);
/* True once the pinned process has exited. */
bool fc_proc_exited(const struct fc_proc *p);

struct fc_pod {
	char name[NAME_MAX + 1];
	int dirfd;   /* pins the cgroup: a pod removed and re-created is not killed by name */
	uint64_t id; /* cgroup ids grow with creation: the age order */
};

struct fc_pod_list {
	struct fc_pod *p;
	int n;
};

/*
 * The pods of @cell: its direct child cgroups with at least one process in their subtree,
 * except one holding faultcell itself. 0 or -errno.
 */
int fc_pod_list_cell(const struct fc_cell *cell, struct fc_pod_list *out);
void fc_pod_list_free(struct fc_pod_list *l);
/* cgroup.kill on the pinned pod. 0 or -errno (-ENOENT when it is gone). */
int fc_pod_kill(const struct fc_pod *p);

/*
 * Order @n items of @size bytes so the chosen come first: random (a fresh shuffle), oldest or
 * newest by @age (start time or cgroup id).
 */
void fc_select_order(void *items, int n, size_t size, enum fc_select how,
		     uint64_t (*age)(const void *item));
/* Ages for fc_select_order: start time (pid breaks ties), and cgroup id for pods. */
uint64_t fc_proc_age(const void *item);
uint64_t fc_pod_age(const void *item);
int fc_select_parse(const char *s, enum fc_select *out);
const char *fc_select_name(enum fc_select s);

/* "SIGKILL", "KILL", "kill" or "9" → 9; -EINVAL otherwise. Names come from the C library. */
int fc_signal_parse(const char *s);
/* "SIGKILL" for 9 (a static buffer only for unnamed real-time signals: "SIG34"). */
const char *fc_signal_name(int sig, char *buf, size_t len);

/*
 * Run the restore command @cmd (split at spaces, no shell; its output goes to stderr so it
 * never mixes with ours), killed after @timeout_ns. 0 when it exited 0; otherwise -errno with
 * @why saying what happened ("exited 1", "killed after 5s", "not found").
 */
int fc_restore_run(const char *cmd, uint64_t timeout_ns, char *why, size_t len);

#endif

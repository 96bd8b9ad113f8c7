/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The state file (design.md §3): everything a run creates that is not fd-bound is written here
 * *before* it is created, so rollback, `recover` and the guard undo exactly what is recorded.
 * One text file per run in the run directory, one record a line, fsync'd on every append:
 *
 *	run ID | pid N | deadline NS | control_map ID | cell REL | netns PATH | journal PATH
 *	clsact IFINDEX IFNAME          we created a clsact qdisc there
 *	tc_filter IFINDEX DIR HANDLE PRIO   we attach a cls_bpf filter (DIR: ingress|egress)
 *	freeze PATH                    we freeze that cgroup
 *	qdisc IFINDEX IFNAME HANDLE KIND WAS DRAIN_MS
 *	                               we replace the kernel's default root (WAS) of that device
 *	                               by our KIND (fq, or mq with fq children) with HANDLE (hex)
 */
#ifndef FC_STATE_H
#define FC_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <limits.h>

#include "fc_control.h"

#define FC_STATE_MAX_RECS 64

enum fc_rec_kind { REC_CLSACT = 1, REC_TC_FILTER, REC_FREEZE, REC_QDISC };

struct fc_rec {
	enum fc_rec_kind kind;
	int ifindex;
	char ifname[32];
	bool egress;
	uint32_t handle, prio;
	char path[PATH_MAX];
	char qkind[16], qwas[16]; /* REC_QDISC: our root's kind, the kernel's it replaced */
	uint32_t drain_ms;	  /* REC_QDISC: how long delayed packets may still sit in it */
};

struct fc_state {
	char run_id[FC_RUN_ID_LEN];
	int pid;
	uint64_t deadline_ns;
	uint32_t control_map_id;
	char cell[PATH_MAX];
	char netns[PATH_MAX];	/* where recorded ifindexes live; "" = the loader's own */
	char journal[PATH_MAX]; /* the run's journal: recover appends what it undid */
	int nrecs;
	struct fc_rec recs[FC_STATE_MAX_RECS];
	int fd; /* open for appending while the run lives; -1 otherwise */
};

/* The run directory: $FAULTCELL_RUN_DIR or /run/faultcell. */
const char *fc_run_dir(void);
void fc_state_path(const char *run_id, char *buf, size_t len);

/* Create the file with its header records (fsync'd). 0 or -errno. */
int fc_state_create(struct fc_state *st);
/* Append one record, fsync'd, before the object it names is created. */
int fc_state_append(struct fc_state *st, const struct fc_rec *rec);
int fc_state_load(const char *run_id, struct fc_state *st);
/* The rollback finished and was verified: remove the file. */
int fc_state_remove(struct fc_state *st);
void fc_state_close(struct fc_state *st);
/* Run ids with a state file, up to @max. Returns how many. */
int fc_state_list(char ids[][FC_RUN_ID_LEN], int max);

/*
 * The run lock: an flock on <run dir>/lock, released by the kernel when its holder dies.
 * Returns the fd, -EBUSY (with *holder set when known) or -errno.
 */
int fc_lock_take(int *holder);
void fc_lock_release(int fd);
/* The pid holding the lock now, 0 when free. */
int fc_lock_holder(void);

#endif

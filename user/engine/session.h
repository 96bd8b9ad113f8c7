/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A fault session: the safety contract of design.md §3 around a set of faults, shared by
 * `inject` and `run`. begin (netns → guard → lock → core → state) → add faults (open = verifier
 * load) → arm (attach, enable, deadline) → heartbeat … → rollback (inert, links gone, recorded
 * state undone, verified with the inventory, lock released, guard released).
 */
#ifndef FC_SESSION_H
#define FC_SESSION_H

#include <stdint.h>

#include "core/cgroup.h"
#include "core/control.h"
#include "core/state.h"
#include "faults/fault.h"

#define FC_SESSION_MAX_FAULTS 8

struct fc_session_opts {
	const struct fc_cell *cell;
	const char *netns;    /* enter before anything: where tc devices live; NULL = ours */
	uint64_t duration_ns; /* the deadline is arm time + this */
	uint64_t max_gap_ns;  /* heartbeat gap the programs tolerate */
	const char *self_exe; /* for the guard's `recover`; NULL = /proc/self/exe */
	const char *journal;  /* recorded in the state file, so `recover` can append to it */
};

struct fc_rollback_report {
	uint64_t disabled_at_ns; /* enabled = 0 written (CLOCK_MONOTONIC) */
	uint64_t first_inert_ns; /* first call the programs let through after that (BPF clock) */
	uint64_t links_gone_ns;	 /* every fault detached and its object closed */
	uint64_t verified_ns;
	int remaining;	 /* inventory items of the run left (0 = verified) */
	char log[4096];	 /* what was undone */
	char left[2048]; /* what remains, when something does */
};

struct fc_session {
	char run_id[FC_RUN_ID_LEN];
	struct fc_core core;
	struct fc_state st;
	int lock;
	pid_t guard;
	int netns_saved;
	uint64_t armed_at_ns, deadline_ns, max_gap_ns;
	int nfaults;
	struct fc_fault *faults[FC_SESSION_MAX_FAULTS];
	/* when each fault arms after fc_session_arm (0: with it), and whether it has */
	uint64_t start_ns[FC_SESSION_MAX_FAULTS];
	bool attached[FC_SESSION_MAX_FAULTS];
	char why[512];
};

/* 0, or an exit code of design.md §7 (refused/kernel/internal) with @s->why set. */
int fc_session_begin(struct fc_session *s, const struct fc_session_opts *o);
/* Take ownership of @f and load it (the verifier's check). Exit code as above. */
int fc_session_add(struct fc_session *s, struct fc_fault *f);
/* Attach every fault whose start_ns is 0, then enable. Exit code as above. */
int fc_session_arm(struct fc_session *s);
/*
 * Attach the faults whose start has come (@since_arm_ns after fc_session_arm); sets *@armed to
 * how many it attached now. Exit code as above.
 */
int fc_session_arm_due(struct fc_session *s, uint64_t since_arm_ns, int *armed);
int fc_session_heartbeat(struct fc_session *s);
/*
 * Roll back: inert (one map write), links gone, recorded state undone. Read the faults'
 * final counters after this, then call fc_session_finish.
 */
int fc_session_rollback(struct fc_session *s, struct fc_rollback_report *r);
/*
 * Before finish: take out the faults that killed (verify_restored), which hold nothing in the
 * kernel, so the wait for the cell to come back runs after the verified rollback and the state
 * file is gone (the guard then has nothing to undo, however long the recovery). The caller
 * calls verify_restored on each, then fc_fault_free. Returns how many (at most @max).
 */
int fc_session_take_restorable(struct fc_session *s, struct fc_fault **out, int max);
/* Close the objects and verify with the inventory. 0 verified, FC_EXIT_ROLLBACK otherwise. */
int fc_session_finish(struct fc_session *s, struct fc_rollback_report *r);
/* Free everything (after rollback, or on a failed begin). */
void fc_session_end(struct fc_session *s);

#endif

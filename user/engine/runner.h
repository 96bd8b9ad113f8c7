/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `faultcell run`: the game day's state machine (design.md §1, §3, §7).
 *
 *   preflight → baseline (steady state must hold, else exit 3 with nothing attached)
 *   → inject → monitor every window (abort when a rule holds for its N windows, or is unknown
 *   for N windows: fail closed) → rollback (inert, links gone, state undone, verified)
 *   → recovery (metric programs still attached) → verdict, journal, exit code.
 */
#ifndef FC_RUNNER_H
#define FC_RUNNER_H

#include <stdbool.h>

#include "engine/experiment.h"

struct fc_run_opts {
	const char *journal_dir; /* NULL: fc_journal_default_dir() */
	const char *netns;	 /* attach tc in this netns */
	const char *metrics_listen, *textfile;
	const char *self_exe;
	bool yes;		 /* no confirmation */
	bool interactive;	 /* a TTY: live view, confirmation unless --yes */
	bool force;		 /* allow a cell holding PID 1 or our ancestors */
	char journal_path[4096]; /* out: where the journal went */
	char run_id[64];	 /* out */
};

/* Runs the experiment; returns the exit code of design.md §7. */
int fc_run(struct fc_experiment *e, struct fc_run_opts *o);

/* The freeze file that `on_abort: { freeze: true }` leaves: $FAULTCELL_STATE_DIR/freeze. */
const char *fc_freeze_path(void);

#endif

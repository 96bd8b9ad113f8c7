/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `plan`: what a run of this experiment would do here, decided by the kernel and the cell as
 * they are now — the probe's mechanism per fault, a verifier load of the real fault and tracer
 * objects without attaching, the cell's processes and pods, the blast radius and its worst case
 * in one sentence. Everything loaded is fd-bound and closed before returning; the inventory of
 * the plan's run id is checked empty.
 */
#ifndef FC_PLAN_H
#define FC_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cgroup.h"
#include "engine/experiment.h"

#define FC_PLAN_PROCS 8

struct fc_plan_fault {
	char type[32];
	char describe[512];
	char mechanism[256]; /* the probe's verdict for this type, or why not */
	char load[320];	     /* "loaded, not attached" or the refusal */
	bool available;
};

struct fc_plan_metric {
	int metric; /* index in the experiment */
	char mechanism[256];
	char load[320];
};

struct fc_plan_cell {
	bool resolved;
	struct fc_cell cell;
	char why[256]; /* not found, or what the guard says */
	bool guard_refuses;
	int nprocs, npods; /* thread-group leaders in the subtree, child cgroups (pods) */
	pid_t pids[FC_PLAN_PROCS];
	char comms[FC_PLAN_PROCS][20];
};

struct fc_plan {
	char run_id[40];
	char kernel[128];
	struct fc_plan_cell cell, control;
	int nfaults;
	struct fc_plan_fault faults[FC_EXP_MAX_FAULTS];
	int nmetrics;
	struct fc_plan_metric metrics[FC_EXP_MAX_METRICS];
	uint64_t hist_bytes;
	unsigned int ncpus;
	char worst[768]; /* the worst case, one sentence */
	char leaks[256]; /* known scope leaks of these faults, "" when none */
	int leftover;	 /* inventory items of the plan's run id after closing (0 expected) */
	int exit;	 /* design.md §7: 0, 3 (cell, guard), 4 (kernel), 2, 6 or 7 */
	char why[512];	 /* the reason for a non-zero exit */
};

struct fc_plan_opts {
	bool force; /* a cell holding PID 1 or our ancestors is planned, not refused */
};

/* Fill @p for the valid experiment @e. Returns p->exit. Needs root (BPF loads). */
int fc_plan_build(const struct fc_experiment *e, const struct fc_plan_opts *o, struct fc_plan *p);

#endif

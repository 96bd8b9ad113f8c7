/* SPDX-License-Identifier: BSD-2-Clause */
/* The run's state, shared by runner.c (the window loop) and run_setup.c (around it). */
#ifndef FC_RUN_INTERNAL_H
#define FC_RUN_INTERNAL_H

#include "core/cgroup.h"
#include "core/control.h"
#include "engine/experiment.h"
#include "engine/journal.h"
#include "engine/probes.h"
#include "engine/runner.h"
#include "engine/session.h"
#include "metrics/export.h"

struct side {
	double *v;
	uint32_t *n;
	uint8_t *nd;
	struct fc_history h;
};

#define FC_RUN_MAX_BURN 8

/* Where burn(W) comes from (run_burn.c). */
enum { FC_BURN_WINDOWS = 0, FC_BURN_UNSETTLED, FC_BURN_PROMETHEUS };

/* One burn(W) span asked of Prometheus each window. */
struct fc_run_burn {
	uint64_t ns;
	struct fc_metric m; /* the errors metric, with the range query */
	struct fc_probe p;
	char query[2 * FC_PROM_MAX_QUERY + 160];
	double *v;   /* errors/total over the span, per window */
	uint8_t *ok; /* 0: no data */
};

struct run {
	struct fc_experiment *e;
	struct fc_run_opts *o;
	struct fc_cell cell, control;
	bool has_control;
	struct fc_session s;
	bool began;
	struct fc_core
	    mcore; /* the tracer's: its own run-id tag, so fault rollback verifies alone */
	struct fc_tracer *tracer;
	struct fc_export exp;
	bool export_open;
	struct fc_journal j;
	struct side cs[FC_EXP_MAX_METRICS], ks[FC_EXP_MAX_METRICS]; /* cell and control series */
	struct fc_history cview[FC_EXP_MAX_METRICS], kview[FC_EXP_MAX_METRICS];
	const struct fc_history *cptr[FC_EXP_MAX_METRICS], *kptr[FC_EXP_MAX_METRICS];
	struct fc_probe probes[FC_EXP_MAX_METRICS];
	/* the control cell's side of probes that have one (control_command/_url/_query) */
	struct fc_metric kmetric[FC_EXP_MAX_METRICS];
	struct fc_probe kprobes[FC_EXP_MAX_METRICS];
	bool kprobe_on[FC_EXP_MAX_METRICS];
	struct fc_run_burn burn[FC_RUN_MAX_BURN];
	int nburn, burn_mode;
	char burn_why[256];
	int view_from; /* the evaluation's first window (burn answers by absolute index) */
	int nw, nbase, inject_from, recovery_from;
	int unknown_streak[FC_EXP_MAX_RULES];
	uint64_t t0, next_window_ns, last_hb_ns;
	bool armed, recovered, restore_failed, aborted;
	struct fc_rollback_report rb;
	char reason[512];
};

int fc_run_prepare(struct run *r);
int fc_run_alloc_series(struct run *r, int cap);
/* Rollback after inject; returns 0 when verified, FC_EXIT_ROLLBACK otherwise. */
int fc_run_rollback(struct run *r, int why);
/* Verdict line, journal's end, on_abort actions; returns the final exit code. */
int fc_run_finish(struct run *r, int rc);
void fc_run_cleanup(struct run *r);
void fc_run_journal_faults(struct run *r, const char *key);
enum fc_tri fc_run_steady(struct run *r, int from);
void fc_run_journal_burn(struct run *r);

/* burn(W) from Prometheus (run_burn.c) */
int fc_run_burn_setup(struct run *r, int cap);
void fc_run_burn_start(struct run *r);
bool fc_run_burn_poll(struct run *r);
void fc_run_burn_finish(struct run *r, int w);
int fc_run_burn_ratio(uint64_t span_ns, int w, double *ratio, void *arg);
void fc_run_burn_free(struct run *r);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The experiment file, v1 (design.md §6; reference: docs/experiment-format.md). Loading reads
 * the YAML (exp_yaml.c), walks the schema (exp_schema.c, exp_metrics.c), resolves `service:`
 * names and metrics through the binding (exp_binding.c), turns faults into fault specs for the
 * fault registry (exp_fault.c), then parses the conditions, fills in the defaults and checks
 * the whole (exp_check.c). Every problem is a diagnostic with its line:col; nothing touches
 * the kernel.
 */
#ifndef FC_EXPERIMENT_H
#define FC_EXPERIMENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/diag.h"
#include "engine/cond.h"
#include "faults/fault.h"

#define FC_EXP_MAX_METRICS 32
#define FC_EXP_MAX_FAULTS  8
#define FC_EXP_MAX_RULES   16
#define FC_EXP_MAX_LABELS  16
#define FC_EXP_MAX_ARGV	   16
#define FC_EXP_MAX_CELLS   32 /* services in a binding */
#define FC_EXP_MAX_NOTES   32
#define FC_EXP_MAX_PARAMS  8 /* a bpf metric's tracer keys */
#define FC_EXP_NAME_LEN	   64

struct fc_pos {
	int line, col;
};

/* A duration field: its value after --time-scale, where it was written, or that it was not. */
struct fc_dur {
	uint64_t ns;
	struct fc_pos pos;
	bool given;
};

enum fc_cellref_kind { FC_CELLREF_NONE = 0, FC_CELLREF_CGROUP, FC_CELLREF_UNIT, FC_CELLREF_PID };

struct fc_cellref {
	enum fc_cellref_kind kind;
	char value[512];	       /* cgroup path, unit name or pid */
	char service[FC_EXP_NAME_LEN]; /* the service it was bound from, "" if direct */
	char restore[512];	       /* binding: command that restores a killed pod */
	struct fc_pos pos;	       /* where it was written (binding file if bound) */
	bool from_binding;
};

/* "unit:x.service", "pid:N" or the path: what fc_cell_resolve() takes. */
int fc_cellref_spec(const struct fc_cellref *c, char *buf, size_t len);

enum fc_msrc { FC_MSRC_BPF = 1, FC_MSRC_COMMAND, FC_MSRC_HTTP, FC_MSRC_PROMETHEUS };
const char *fc_msrc_name(enum fc_msrc s);

struct fc_metric {
	char name[FC_EXP_NAME_LEN];
	enum fc_msrc source;
	enum fc_vtype type; /* from `unit:` or inferred from kind and stat */
	enum fc_agg agg;    /* how windows combine under `over` and `baseline.` */
	struct fc_pos pos;
	bool from_binding, used;
	/* bpf: a tracer kind and statistic, plus the kind's own keys flattened */
	char kind[48], stat[16];
	int nparams;
	struct fc_kv params[FC_EXP_MAX_PARAMS];
	/* command: argv, run without a shell; a number it prints, or its exit status */
	int argc;
	const char *argv[FC_EXP_MAX_ARGV];
	bool use_status;
	/* http (stat: up, status or latency) and prometheus (an instant query) */
	const char *url, *query;
	/* the control cell's side of a probe (control_command/_url/_query); unset: none */
	int control_argc;
	const char *control_argv[FC_EXP_MAX_ARGV];
	const char *control_url, *control_query;
	uint64_t timeout_ns; /* probes only (command, http, prometheus) */
	struct fc_pos timeout_pos;
};

struct fc_exp_fault {
	char type[32];		       /* as written: pod-kill stays pod-kill */
	char service[FC_EXP_NAME_LEN]; /* target.service, resolved to the cell */
	struct fc_fault_spec spec;     /* flattened keys with positions */
	struct fc_fault *fault;	       /* parsed by its module; NULL when invalid */
	struct fc_pos pos;
	struct fc_dur start; /* `start:` after the inject phase begins (engine's; 0 = at once) */
};

struct fc_exp_rule {
	char name[FC_EXP_NAME_LEN];
	const char *text; /* verbatim, for the journal */
	struct fc_cond *cond;
	int nwin;	  /* the N of its `for N windows` */
	bool default_for; /* N came from the default */
	struct fc_pos pos;
	const void *src; /* the loader's YAML node; NULL after loading */
};

/* A default used or a deviation, in words for plan and the journal. */
struct fc_exp_note {
	char what[32];
	char value[96];
	char why[160];
};

struct fc_experiment {
	const char *path, *bind_path;
	const char *title, *hypothesis; /* free text, verbatim */
	int nlabels;
	struct {
		char key[FC_EXP_NAME_LEN];
		const char *val;
	} labels[FC_EXP_MAX_LABELS];
	struct fc_cellref cell, control;
	int nmetrics;
	struct fc_metric metrics[FC_EXP_MAX_METRICS];
	struct {
		char metric[FC_EXP_NAME_LEN];
		const char *expected; /* verbatim */
		struct fc_cond *cond;
		struct fc_pos pos, metric_pos, expected_pos;
		const void *src; /* the loader's YAML node; NULL after loading */
	} steady;
	int nfaults;
	struct fc_exp_fault faults[FC_EXP_MAX_FAULTS];
	struct {
		const char *scope; /* free text, verbatim */
		double traffic;	   /* share of the service's traffic the cell takes, 0..1 */
		bool traffic_set;
		struct fc_dur max_duration;
	} blast;
	struct fc_dur window, duration, baseline, recovery, max_gap;
	int nrules;
	struct fc_exp_rule rules[FC_EXP_MAX_RULES];
	struct {
		int argc;
		const char *argv[FC_EXP_MAX_ARGV];
		bool freeze;
	} on_abort;
	const char *auto_rollback, *schedule, *learning_record; /* free text, verbatim */
	struct {
		bool set;
		double objective;
		char errors[FC_EXP_NAME_LEN], total[FC_EXP_NAME_LEN];
		int ierrors, itotal; /* metric indices */
		struct fc_pos pos, errors_pos, total_pos;
	} slo;
	double time_scale; /* 1 unless --time-scale */
	int ndefaults, ndeviations;
	struct fc_exp_note defaults[FC_EXP_MAX_NOTES];
	struct fc_exp_note deviations[FC_EXP_MAX_NOTES];
	/* binding: services seen in cells: blocks */
	int ncells;
	struct fc_cellref cells[FC_EXP_MAX_CELLS];
	bool bind_unread;	    /* --bind named a file that could not be read or parsed */
	struct fc_diags diags;	    /* positions in the experiment file */
	struct fc_diags bind_diags; /* positions in the binding file */
	/* owned strings, freed with the experiment */
	char **strs;
	int nstrs, capstrs;
};

struct fc_exp_opts {
	const char *path;      /* the experiment file (also the name in messages) */
	const char *bind_path; /* --bind FILE, or NULL */
	const char *buf;       /* parse this instead of reading @path (fuzzing, tests) */
	size_t len;
	const char *bind_buf; /* the same for the binding */
	size_t bind_len;
	double time_scale; /* --time-scale; 0 = none */
};

/*
 * Load and validate. Returns 0 (valid), -EINVAL (invalid: diagnostics in (*out)->diags and
 * ->bind_diags) or -ENOMEM. *@out is set in the first two cases; free it with
 * fc_experiment_free().
 */
int fc_experiment_load(const struct fc_exp_opts *opts, struct fc_experiment **out);
void fc_experiment_free(struct fc_experiment *e);
int fc_experiment_errors(const struct fc_experiment *e);

/* NULL when control.NAME of @m has a value, else the key that would give it one. */
const char *fc_metric_control_key(const struct fc_metric *m);

/* Index of metric @name, or -1. */
int fc_exp_metric(const struct fc_experiment *e, const char *name);

/*
 * The part of an evaluation context the experiment decides (window, metrics, slo); the run
 * engine adds the series and the phase boundaries.
 */
void fc_exp_eval_ctx(const struct fc_experiment *e, struct fc_eval_ctx *ctx);

/* Output for validate and plan (exp_print.c). */
void fc_experiment_print_diags(const struct fc_experiment *e, FILE *f);
void fc_experiment_summary(const struct fc_experiment *e, FILE *f);
void fc_experiment_json(const struct fc_experiment *e, FILE *f);
void fc_json_str(FILE *f, const char *s);

#endif

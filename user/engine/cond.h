/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The condition language of design.md §6 (grammar in docs/conditions.md): a tokenizer and a
 * recursive-descent parser into an AST with columns, type checking of units at parse time, and
 * an evaluator over a window history with Kleene three-valued logic.
 *
 * The run engine feeds the evaluator through struct fc_history (one per metric and side) and asks
 * fc_cond_eval() once per window. Nothing here reads a metric itself.
 */
#ifndef FC_COND_H
#define FC_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

#define FC_COND_MAX_TEXT    4096
#define FC_COND_MAX_NODES   256
#define FC_COND_MAX_DEPTH   32		   /* nested parentheses and NOTs */
#define FC_COND_MAX_WINDOWS 3600	   /* N in "for N windows" */
#define FC_COND_MAX_SPAN    (24 * 3600ULL) /* seconds: longest over / burn window */
#define FC_COND_MAX_COST    1000000	   /* evaluation steps per window */

enum fc_tri { FC_FALSE = 0, FC_TRUE = 1, FC_UNKNOWN = 2 };

/* What a value measures; checked at validation so a time is never added to a ratio. */
enum fc_vtype {
	FC_VT_NUMBER = 0, /* dimensionless, adopts the other side's type */
	FC_VT_TIME,	  /* seconds */
	FC_VT_RATIO,	  /* 0..1 (a `%` literal, errors/total) */
	FC_VT_COUNT,	  /* events in a window */
	FC_VT_BOOL,	  /* a condition */
};
const char *fc_vtype_name(enum fc_vtype t);

enum fc_scope { FC_SCOPE_CELL = 0, FC_SCOPE_BASELINE, FC_SCOPE_CONTROL };

enum fc_cond_op {
	FC_OP_NUM = 1,
	FC_OP_REF,
	FC_OP_BURN,
	FC_OP_NEG,
	FC_OP_ADD,
	FC_OP_SUB,
	FC_OP_MUL,
	FC_OP_DIV,
	FC_OP_LT,
	FC_OP_LE,
	FC_OP_GT,
	FC_OP_GE,
	FC_OP_EQ,
	FC_OP_NE,
	FC_OP_NOT,
	FC_OP_AND,
	FC_OP_OR,
	FC_OP_OVER,
	FC_OP_FOR,
};

struct fc_cond_node {
	enum fc_cond_op op;
	enum fc_vtype type;
	enum fc_scope scope; /* REF */
	int a, b;	     /* children (index in nodes[]), -1 when absent */
	int col;	     /* 1-based column in the text */
	int off, len;	     /* the token in the text (NUM, REF, durations) */
	int metric;	     /* REF: index into the environment's metric names */
	int nwin;	     /* FOR: N */
	uint64_t ns;	     /* OVER and BURN: the span, time-scaled */
	char name[64];	     /* REF: the metric, without its baseline./control. prefix */
	double num;	     /* NUM: value in base units (seconds, fraction) */
	bool implicit;	     /* added by a default (for 3 windows, the steady-state metric) */
};

struct fc_cond {
	char *text;
	int n, root;
	struct fc_cond_node nodes[FC_COND_MAX_NODES];
	bool uses_baseline, uses_control, uses_burn;
	uint64_t max_over_ns; /* longest `over` (time-scaled): the default baseline */
	uint64_t max_span_ns; /* longest over/burn: the history this condition needs */
};

/* What the parser knows about the experiment. */
struct fc_cond_env {
	const char *const *names;   /* metric names, NULL-terminated */
	const enum fc_vtype *types; /* their types, same order */
	const char *implicit_lhs;   /* steady_state.metric: a leading comparator applies to it */
	bool implicit_quiet;	    /* its being undefined was reported already */
	const char *undefined_hint; /* appended to "undefined metric" messages */
	bool have_slo, have_control;
	/*
	 * Per metric, NULL when control.NAME has a value; else the key that would give it one
	 * (a probe measures the service, not a cell, unless told how to measure the control).
	 */
	const char *const *control_key;
	double time_scale;  /* 0 or 1: none */
	uint64_t window_ns; /* `over D` must have D >= window */
	const char *what;   /* "abort_when", for messages */
	/* where text[0] sits in the file, for line:col; exact = columns map 1:1 */
	int line, col;
	bool exact;
};

/* Parse and type-check @text. 0 with *@out set, or -EINVAL with every error in @d. */
int fc_cond_parse(const char *text, const struct fc_cond_env *env, struct fc_diags *d,
		  struct fc_cond **out);
void fc_cond_free(struct fc_cond *c);

/*
 * abort_when's default (design.md §6): wrap every top-level OR operand whose top is not
 * `for N windows` in `for @n windows`. Returns how many were wrapped, or -E2BIG.
 */
int fc_cond_default_for(struct fc_cond *c, int n);
/* The largest N of the `for` nodes at the top of the rule (0 if none). */
int fc_cond_windows(const struct fc_cond *c);

/* The tree as an S-expression, for tests: (for 3 (> p99 (* 2 baseline.p99))). */
int fc_cond_sexpr(const struct fc_cond *c, char *buf, size_t len);
/* Infix, fully written out (defaults included), for plan and the journal. */
int fc_cond_format(const struct fc_cond *c, char *buf, size_t len);

/* ---- evaluation ---- */

enum fc_agg { FC_AGG_MEAN = 0, FC_AGG_SUM, FC_AGG_MAX, FC_AGG_MIN, FC_AGG_LAST };

/*
 * One metric's window history on one side (cell or control), indexed by window from the start
 * of the run (the baseline's windows included). The run engine owns the arrays and appends.
 */
struct fc_history {
	int n;			 /* windows recorded */
	const double *value;	 /* value[i]: the metric in window i */
	const uint32_t *samples; /* weight for aggregation (NULL: 1 each) */
	const uint8_t *nodata;	 /* 1: no data (empty, too few samples, source down); NULL: none */
	enum fc_agg agg;	 /* how `over` and `baseline.` combine windows by default */
	/*
	 * Optional exact aggregate of windows [from, to): merge histograms, or run a range query.
	 * @from may be negative (before the run): a source with its own history answers, others
	 * return -ENODATA. 0 with *out, or -ENODATA for unknown. NULL: combine window values.
	 */
	int (*aggregate)(const struct fc_history *s, int from, int to, enum fc_agg how, double *out,
			 void *arg);
	void *arg;
};

struct fc_eval_ctx {
	uint64_t window_ns;
	int nmetrics;
	const struct fc_history *const *cell;	 /* [nmetrics], entries may be NULL (no data) */
	const struct fc_history *const *control; /* NULL when there is no control cell */
	int baseline_from, baseline_to;		 /* windows [from, to) of the baseline phase */
	int first_window; /* `for N windows` counts windows from here (the phase's start) */
	double slo_objective;
	int slo_errors, slo_total; /* metric indices, -1 without an slo: block */
	/*
	 * Optional: errors/total over @span_ns ending at window @w from a source with its own
	 * history (Prometheus). 0 with *ratio, -ENODATA for unknown, -EOPNOTSUPP to take the
	 * window history instead. NULL: the window history.
	 */
	int (*burn_ratio)(uint64_t span_ns, int w, double *ratio, void *arg);
	void *burn_arg;
};

/* The condition's value at window @w (0-based; windows after @w are ignored). */
enum fc_tri fc_cond_eval(const struct fc_cond *c, const struct fc_eval_ctx *ctx, int w);

/* Combine windows [from, to) of @s with @how: -ENODATA when unknown (exposed for tests). */
int fc_history_agg(const struct fc_history *s, int from, int to, enum fc_agg how, double *out);

#endif

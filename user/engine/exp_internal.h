/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the experiment loader's files only. */
#ifndef FC_EXP_INTERNAL_H
#define FC_EXP_INTERNAL_H

#include "engine/exp_yaml.h"
#include "engine/experiment.h"

#define DIAG_AT(d, n, ...) fc_diag((d), (n) ? (n)->line : 0, (n) ? (n)->col : 0, __VA_ARGS__)

/* An owned copy of @s, freed with the experiment; NULL only when out of memory. */
const char *exp_str(struct fc_experiment *e, const char *s);

/* Typed fields. Each reports what is wrong at @n's position and returns -EINVAL. */
int exp_scalar(const struct fc_ynode *n, const char *what, struct fc_diags *d);
int exp_text(struct fc_experiment *e, const struct fc_ynode *n, const char *what,
	     struct fc_diags *d, const char **out);
int exp_copy(const struct fc_ynode *n, const char *what, struct fc_diags *d, char *buf, size_t len);
int exp_name(const struct fc_ynode *n, const char *what, struct fc_diags *d, char *buf, size_t len);
int exp_duration(struct fc_experiment *e, const struct fc_ynode *n, const char *what,
		 struct fc_diags *d, struct fc_dur *out);
int exp_duration_real(const struct fc_ynode *n, const char *what, struct fc_diags *d,
		      struct fc_dur *out);
int exp_prob(const struct fc_ynode *n, const char *what, struct fc_diags *d, double *out);
int exp_bool(const struct fc_ynode *n, const char *what, struct fc_diags *d, bool *out);
/* A command: a list of words, or one string split at spaces (never a shell). */
int exp_argv(struct fc_experiment *e, const struct fc_ynode *n, const char *what,
	     struct fc_diags *d, const char **argv, int *argc);
int exp_map(const struct fc_ynode *n, const char *what, struct fc_diags *d);

void exp_note(struct fc_experiment *e, bool deviation, const char *what, const char *value,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* exp_metrics.c: one entry of a metrics: block (file or binding). */
int exp_metric(struct fc_experiment *e, const struct fc_ynode *key, const struct fc_ynode *def,
	       struct fc_diags *d, bool from_binding);
/* exp_binding.c */
int exp_cellref(const struct fc_ynode *n, const char *what, struct fc_diags *d,
		struct fc_cellref *out, bool allow_service);
int exp_cells_block(struct fc_experiment *e, const struct fc_ynode *cells, struct fc_diags *d,
		    bool from_binding);
int exp_binding(struct fc_experiment *e, const struct fc_ynode *root);
/* Resolve a `service:` reference; reports an unbound name at @at in the experiment file. */
const struct fc_cellref *exp_service(struct fc_experiment *e, const char *name,
				     const struct fc_ynode *at);
/* exp_fault.c */
int exp_fault(struct fc_experiment *e, const struct fc_ynode *n);
int exp_faults_parse(struct fc_experiment *e);
/* exp_check.c */
int exp_check(struct fc_experiment *e);

#endif

// SPDX-License-Identifier: BSD-2-Clause
/* The experiment's top level: read both files, walk every section, then check the whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exp_internal.h"

static const char *const top_keys[] = {
	"version",  "title",	     "hypothesis",   "labels",	 "cell",    "control",
	"cells",    "metrics",	     "steady_state", "fault",	 "faults",  "blast_radius",
	"duration", "window",	     "baseline",     "recovery", "max_gap", "abort_when",
	"on_abort", "auto_rollback", "schedule",     "learning", "slo",	    NULL,
};

static int read_yaml(const char *path, const char *buf, size_t len, struct fc_yaml *y,
		     struct fc_diags *d)
{
	int err = buf ? fc_yaml_parse(buf, len, y, d) : fc_yaml_load(path, y, d);

	if (err && err != -EINVAL && err != -ENOMEM)
		fc_diag(d, 0, 0, "cannot read: %s", strerror(-err));
	return err;
}

static int labels(struct fc_experiment *e, const struct fc_ynode *n)
{
	int err = 0;

	if (exp_map(n, "labels", &e->diags))
		return -EINVAL;
	for (int i = 0; i < n->n; i++) {
		if (e->nlabels >= FC_EXP_MAX_LABELS) {
			DIAG_AT(&e->diags, n->k[i], "more than %d labels", FC_EXP_MAX_LABELS);
			return -EINVAL;
		}
		if (exp_copy(n->k[i], "label name", &e->diags, e->labels[e->nlabels].key,
			     sizeof(e->labels[0].key)) ||
		    exp_text(e, n->v[i], "label value", &e->diags, &e->labels[e->nlabels].val))
			err = -EINVAL;
		else
			e->nlabels++;
	}
	return err;
}

static int cell(struct fc_experiment *e, const struct fc_ynode *n, const char *what,
		struct fc_cellref *out)
{
	const struct fc_cellref *bound;
	char service[FC_EXP_NAME_LEN];

	if (exp_cellref(n, what, &e->diags, out, true)) {
		out->pos = (struct fc_pos){ n->line, n->col }; /* written, if wrong */
		return -EINVAL;
	}
	if (out->kind != FC_CELLREF_NONE)
		return 0;
	snprintf(service, sizeof(service), "%s", out->service);
	bound = exp_service(e, service, fc_y_get(n, "service"));
	if (!bound)
		return -EINVAL;
	*out = *bound;
	return 0;
}

static int steady_state(struct fc_experiment *e, const struct fc_ynode *n)
{
	static const char *const keys[] = { "metric", "expected", NULL };
	const struct fc_ynode *m, *x;
	int err = 0;

	if (exp_map(n, "steady_state", &e->diags))
		return -EINVAL;
	fc_y_check_keys(n, keys, "steady_state", &e->diags);
	e->steady.pos = (struct fc_pos){ n->line, n->col };
	m = fc_y_get(n, "metric");
	x = fc_y_get(n, "expected");
	if (m) {
		if (exp_name(m, "steady_state metric", &e->diags, e->steady.metric,
			     sizeof(e->steady.metric)))
			err = -EINVAL;
		e->steady.metric_pos = (struct fc_pos){ m->line, m->col };
	}
	if (!x) {
		DIAG_AT(&e->diags, n,
			"steady_state: missing expected: (like \"< 800ms over 30s\")");
		return -EINVAL;
	}
	if (exp_text(e, x, "steady_state expected", &e->diags, &e->steady.expected))
		return -EINVAL;
	e->steady.expected_pos = (struct fc_pos){ x->line, x->col };
	e->steady.src = x;
	return err;
}

static int blast_radius(struct fc_experiment *e, const struct fc_ynode *n)
{
	static const char *const keys[] = { "scope", "traffic", "max_duration", NULL };
	const struct fc_ynode *v;
	int err = 0;

	if (exp_map(n, "blast_radius", &e->diags))
		return -EINVAL;
	fc_y_check_keys(n, keys, "blast_radius", &e->diags);
	if ((v = fc_y_get(n, "scope")) &&
	    exp_text(e, v, "blast_radius scope", &e->diags, &e->blast.scope))
		err = -EINVAL;
	if ((v = fc_y_get(n, "traffic"))) {
		if (exp_prob(v, "blast_radius traffic", &e->diags, &e->blast.traffic))
			err = -EINVAL;
		else
			e->blast.traffic_set = true;
	}
	if ((v = fc_y_get(n, "max_duration")) &&
	    exp_duration(e, v, "blast_radius max_duration", &e->diags, &e->blast.max_duration))
		err = -EINVAL;
	return err;
}

static int rule(struct fc_experiment *e, const struct fc_ynode *n, const char *name)
{
	static const char *const keys[] = { "name", "condition", NULL };
	struct fc_exp_rule *r;
	const struct fc_ynode *c = n;

	if (e->nrules >= FC_EXP_MAX_RULES) {
		DIAG_AT(&e->diags, n, "more than %d abort_when rules", FC_EXP_MAX_RULES);
		return -EINVAL;
	}
	r = &e->rules[e->nrules];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (n->kind == FC_Y_MAP) {
		fc_y_check_keys(n, keys, "an abort_when rule", &e->diags);
		if (fc_y_get(n, "name") && exp_copy(fc_y_get(n, "name"), "abort_when name",
						    &e->diags, r->name, sizeof(r->name)))
			return -EINVAL;
		c = fc_y_get(n, "condition");
		if (!c) {
			DIAG_AT(&e->diags, n, "abort_when rule '%s': missing condition:", r->name);
			return -EINVAL;
		}
	}
	if (exp_text(e, c, "abort_when", &e->diags, &r->text))
		return -EINVAL;
	r->pos = (struct fc_pos){ c->line, c->col };
	r->src = c;
	e->nrules++;
	return 0;
}

static int abort_when(struct fc_experiment *e, const struct fc_ynode *n)
{
	char name[32];
	int err = 0;

	if (n->kind != FC_Y_SEQ)
		return rule(e, n, "abort_when");
	if (!n->n) {
		DIAG_AT(&e->diags, n, "abort_when: an empty list");
		return -EINVAL;
	}
	for (int i = 0; i < n->n; i++) {
		snprintf(name, sizeof(name), "rule %d", i + 1);
		if (rule(e, n->v[i], name))
			err = -EINVAL;
	}
	return err;
}

static int on_abort(struct fc_experiment *e, const struct fc_ynode *n)
{
	static const char *const keys[] = { "notify", "freeze", NULL };
	const struct fc_ynode *v;
	int err = 0;

	if (exp_map(n, "on_abort", &e->diags))
		return -EINVAL;
	fc_y_check_keys(n, keys, "on_abort", &e->diags);
	if ((v = fc_y_get(n, "notify")) &&
	    exp_argv(e, v, "on_abort notify", &e->diags, e->on_abort.argv, &e->on_abort.argc))
		err = -EINVAL;
	if ((v = fc_y_get(n, "freeze")) &&
	    exp_bool(v, "on_abort freeze", &e->diags, &e->on_abort.freeze))
		err = -EINVAL;
	return err;
}

static int slo(struct fc_experiment *e, const struct fc_ynode *n)
{
	static const char *const keys[] = { "objective", "errors", "total", NULL };
	const struct fc_ynode *v;
	int err = 0;

	if (exp_map(n, "slo", &e->diags))
		return -EINVAL;
	fc_y_check_keys(n, keys, "slo", &e->diags);
	e->slo.pos = (struct fc_pos){ n->line, n->col };
	if (!(v = fc_y_get(n, "objective"))) {
		DIAG_AT(&e->diags, n, "slo: missing objective: (like 0.999 or 99.9%%)");
		err = -EINVAL;
	} else if (exp_prob(v, "slo objective", &e->diags, &e->slo.objective)) {
		err = -EINVAL;
	} else if (e->slo.objective <= 0 || e->slo.objective >= 1) {
		DIAG_AT(&e->diags, v,
			"slo objective: %s leaves no error budget to burn (give less "
			"than 100%%, more than 0)",
			v->s);
		err = -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		const char *k = i ? "total" : "errors";
		char *dst = i ? e->slo.total : e->slo.errors;
		struct fc_pos *pos = i ? &e->slo.total_pos : &e->slo.errors_pos;

		if (!(v = fc_y_get(n, k))) {
			DIAG_AT(&e->diags, n, "slo: missing %s: (a metric name)", k);
			err = -EINVAL;
			continue;
		}
		if (exp_name(v, i ? "slo total" : "slo errors", &e->diags, dst, FC_EXP_NAME_LEN))
			err = -EINVAL;
		*pos = (struct fc_pos){ v->line, v->col };
	}
	e->slo.set = !err;
	return err;
}

static int free_text(struct fc_experiment *e, const struct fc_ynode *root)
{
	static const char *const keys[] = { "record", NULL };
	const struct fc_ynode *v;
	int err = 0;

	if ((v = fc_y_get(root, "title")) && exp_text(e, v, "title", &e->diags, &e->title))
		err = -EINVAL;
	if ((v = fc_y_get(root, "hypothesis")) &&
	    exp_text(e, v, "hypothesis", &e->diags, &e->hypothesis))
		err = -EINVAL;
	if ((v = fc_y_get(root, "schedule")) && exp_text(e, v, "schedule", &e->diags, &e->schedule))
		err = -EINVAL;
	if ((v = fc_y_get(root, "auto_rollback"))) {
		if (v->kind == FC_Y_SCALAR && v->plain &&
		    (!strcmp(v->s, "false") || !strcmp(v->s, "no"))) {
			DIAG_AT(&e->diags, v,
				"auto_rollback cannot be turned off: faultcell always "
				"rolls back");
			err = -EINVAL;
		} else if (exp_text(e, v, "auto_rollback", &e->diags, &e->auto_rollback)) {
			err = -EINVAL;
		}
	}
	if ((v = fc_y_get(root, "learning"))) {
		if (exp_map(v, "learning", &e->diags))
			return -EINVAL;
		fc_y_check_keys(v, keys, "learning", &e->diags);
		if (fc_y_get(v, "record") && exp_text(e, fc_y_get(v, "record"), "learning record",
						      &e->diags, &e->learning_record))
			err = -EINVAL;
	}
	return err;
}

static int durations(struct fc_experiment *e, const struct fc_ynode *root)
{
	static const char *const names[] = { "window", "duration", "baseline", "recovery",
					     "max_gap" };
	struct fc_dur *dst[] = { &e->window, &e->duration, &e->baseline, &e->recovery,
				 &e->max_gap };
	const struct fc_ynode *v;
	int err = 0;

	for (int i = 0; i < 5; i++)
		if ((v = fc_y_get(root, names[i])) &&
		    exp_duration(e, v, names[i], &e->diags, dst[i]))
			err = -EINVAL;
	return err;
}

static void sections(struct fc_experiment *e, const struct fc_ynode *root)
{
	const struct fc_ynode *v, *f1 = fc_y_get(root, "fault"), *fs = fc_y_get(root, "faults");

	fc_y_check_keys(root, top_keys, "the experiment", &e->diags);
	if ((v = fc_y_get(root, "version")) && (v->kind != FC_Y_SCALAR || strcmp(v->s, "1")))
		DIAG_AT(&e->diags, v, "version: this faultcell reads version 1");
	if (!fc_y_get(root, "title"))
		DIAG_AT(&e->diags, root,
			"missing title: (one line saying what the game day tests)");
	free_text(e, root);
	if ((v = fc_y_get(root, "labels")))
		labels(e, v);
	if ((v = fc_y_get(root, "cell")))
		cell(e, v, "cell", &e->cell);
	if ((v = fc_y_get(root, "control")))
		cell(e, v, "control", &e->control);
	if ((v = fc_y_get(root, "steady_state")))
		steady_state(e, v);
	else
		DIAG_AT(&e->diags, root, "missing steady_state: (metric and expected)");
	if (f1 && fs)
		DIAG_AT(&e->diags, fs, "give fault: or faults:, not both");
	else if (f1)
		exp_fault(e, f1);
	else if (fs && fs->kind == FC_Y_SEQ && fs->n)
		for (int i = 0; i < fs->n; i++)
			exp_fault(e, fs->v[i]);
	else if (fs)
		DIAG_AT(&e->diags, fs, "faults: expected a list of faults, got %s",
			fc_ykind_name(fs));
	else
		DIAG_AT(&e->diags, root,
			"missing fault: (what to inject, like type: network-loss)");
	if ((v = fc_y_get(root, "blast_radius")))
		blast_radius(e, v);
	durations(e, root);
	if ((v = fc_y_get(root, "abort_when")))
		abort_when(e, v);
	else
		DIAG_AT(&e->diags, root,
			"missing abort_when: (the guardrail, like \"p99 > 2 * "
			"baseline.p99\")");
	if ((v = fc_y_get(root, "on_abort")))
		on_abort(e, v);
	if ((v = fc_y_get(root, "slo")))
		slo(e, v);
}

static void metrics_block(struct fc_experiment *e, const struct fc_ynode *n)
{
	if (exp_map(n, "metrics", &e->diags))
		return;
	for (int i = 0; i < n->n; i++)
		exp_metric(e, n->k[i], n->v[i], &e->diags, false);
}

int fc_experiment_load(const struct fc_exp_opts *o, struct fc_experiment **out)
{
	struct fc_yaml y = {}, by = {};
	struct fc_experiment *e;
	const struct fc_ynode *root = NULL, *v;
	int err;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->path = o->path ?: "<input>";
	e->bind_path = o->bind_path;
	e->diags.file = e->path;
	e->bind_diags.file = e->bind_path ?: "<binding>";
	e->time_scale = o->time_scale > 0 ? o->time_scale : 1;
	e->slo.ierrors = e->slo.itotal = -1;
	err = read_yaml(e->path, o->buf, o->len, &y, &e->diags);
	if (err == -ENOMEM)
		goto nomem;
	if (!err && !y.root)
		fc_diag(&e->diags, 0, 0,
			"empty file: an experiment is a mapping with title:, "
			"steady_state:, fault: and abort_when:");
	else if (!err && y.root->kind != FC_Y_MAP)
		DIAG_AT(&e->diags, y.root,
			"the top level must be a mapping (title: ..., fault: ...), "
			"not %s",
			fc_ykind_name(y.root));
	else if (!err)
		root = y.root;
	/* the file's own cells: and metrics: first: a binding may add, never redefine */
	if (root && (v = fc_y_get(root, "cells")))
		exp_cells_block(e, v, &e->diags, false);
	if (root && (v = fc_y_get(root, "metrics")))
		metrics_block(e, v);
	if (o->bind_path || o->bind_buf) {
		err = read_yaml(e->bind_diags.file, o->bind_buf, o->bind_len, &by, &e->bind_diags);
		if (err == -ENOMEM)
			goto nomem;
		if (!err)
			exp_binding(e, by.root);
		else
			e->bind_unread = true;
	}
	if (root) {
		sections(e, root);
		if (exp_check(e) == -ENOMEM)
			goto nomem;
	}
	/* the YAML goes; the experiment keeps its own copies */
	e->steady.src = NULL;
	for (int i = 0; i < e->nrules; i++)
		e->rules[i].src = NULL;
	fc_yaml_free(&y);
	fc_yaml_free(&by);
	*out = e;
	return fc_experiment_errors(e) ? -EINVAL : 0;
nomem:
	fc_yaml_free(&y);
	fc_yaml_free(&by);
	fc_experiment_free(e);
	return -ENOMEM;
}

int fc_experiment_errors(const struct fc_experiment *e)
{
	return e->diags.n + e->diags.dropped + e->bind_diags.n + e->bind_diags.dropped;
}

void fc_experiment_free(struct fc_experiment *e)
{
	if (!e)
		return;
	fc_cond_free(e->steady.cond);
	for (int i = 0; i < e->nrules; i++)
		fc_cond_free(e->rules[i].cond);
	for (int i = 0; i < e->nfaults; i++)
		fc_fault_free(e->faults[i].fault);
	for (int i = 0; i < e->nstrs; i++)
		free(e->strs[i]);
	free(e->strs);
	free(e);
}

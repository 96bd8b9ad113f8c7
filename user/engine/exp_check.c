// SPDX-License-Identifier: BSD-2-Clause
/*
 * The experiment as a whole: conditions parsed against the metrics, defaults filled in and
 * recorded (plan prints every one), --time-scale applied, and the checks that span sections:
 * duration within max_duration, max_gap above window + probe timeout, the baseline long enough
 * for the steady state, one cell.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "engine/exp_internal.h"

#define DEFAULT_WINDOW	 NSEC_PER_SEC
#define DEFAULT_DURATION (60 * NSEC_PER_SEC)
#define DEFAULT_BASELINE (30 * NSEC_PER_SEC) /* when the steady state has no `over` */
#define MIN_WINDOW	 (10 * NSEC_PER_MSEC)
#define MAX_WINDOW	 (3600 * NSEC_PER_SEC)
#define MAX_GAP_FLOOR	 (3 * NSEC_PER_SEC)
#define DEFAULT_FOR	 3 /* one bad window is noise (design.md §6) */

static const char *dur(uint64_t ns, char *buf)
{
	fc_format_duration(ns, buf, 32);
	return buf;
}

static uint64_t scaled(const struct fc_experiment *e, uint64_t ns)
{
	return (uint64_t)((double)ns * e->time_scale + 0.5);
}

struct names {
	const char *names[FC_EXP_MAX_METRICS + 1];
	enum fc_vtype types[FC_EXP_MAX_METRICS];
	const char *control_key[FC_EXP_MAX_METRICS];
	char hint[160];
};

static void env_init(struct fc_experiment *e, struct names *nm, struct fc_cond_env *env)
{
	for (int i = 0; i < e->nmetrics; i++) {
		nm->names[i] = e->metrics[i].name;
		nm->types[i] = e->metrics[i].type;
		nm->control_key[i] = fc_metric_control_key(&e->metrics[i]);
	}
	nm->names[e->nmetrics] = NULL;
	if (e->bind_unread)
		snprintf(nm->hint, sizeof(nm->hint), " (the binding could not be read)");
	else if (e->bind_path)
		snprintf(nm->hint, sizeof(nm->hint), " (not in metrics: here nor in %.100s)",
			 e->bind_path);
	else
		snprintf(nm->hint, sizeof(nm->hint),
			 " (define it under metrics: or bind it with --bind FILE)");
	*env = (struct fc_cond_env){
		.names = nm->names,
		.types = nm->types,
		.undefined_hint = nm->hint,
		.have_slo = e->slo.set,
		.have_control = e->control.kind != FC_CELLREF_NONE,
		.control_key = nm->control_key,
		.time_scale = e->time_scale,
		.window_ns = e->window.ns,
	};
}

static void mark_used(struct fc_experiment *e, const struct fc_cond *c)
{
	for (int i = 0; c && i < c->n; i++)
		if (c->nodes[i].op == FC_OP_REF && c->nodes[i].metric >= 0)
			e->metrics[c->nodes[i].metric].used = true;
}

static int parse_cond(struct fc_experiment *e, struct fc_cond_env *env, const char *text,
		      const void *src, const char *what, struct fc_cond **out)
{
	const struct fc_ynode *n = src;

	env->what = what;
	env->line = n->line;
	env->col = n->vcol;
	env->exact = n->exact;
	return fc_cond_parse(text, env, &e->diags, out);
}

static int conditions(struct fc_experiment *e)
{
	struct fc_cond_env env;
	struct names nm;
	char what[96], val[32];
	int err = 0, wrapped, r;

	env_init(e, &nm, &env);
	if (e->steady.expected && e->steady.src) {
		if (e->steady.metric[0]) {
			env.implicit_lhs = e->steady.metric;
			if (fc_exp_metric(e, e->steady.metric) < 0) {
				fc_diag(&e->diags, e->steady.metric_pos.line,
					e->steady.metric_pos.col,
					"steady_state metric: undefined metric '%s'%s",
					e->steady.metric, nm.hint);
				env.implicit_quiet = true;
				err = -EINVAL;
			}
		}
		r = parse_cond(e, &env, e->steady.expected, e->steady.src, "steady_state expected",
			       &e->steady.cond);
		if (r == -ENOMEM)
			return r;
		mark_used(e, e->steady.cond);
		env.implicit_lhs = NULL;
		env.implicit_quiet = false;
	}
	for (int i = 0; i < e->nrules; i++) {
		struct fc_exp_rule *rl = &e->rules[i];

		if (e->nrules > 1)
			snprintf(what, sizeof(what), "abort_when %s", rl->name);
		else
			snprintf(what, sizeof(what), "abort_when");
		r = parse_cond(e, &env, rl->text, rl->src, what, &rl->cond);
		if (r == -ENOMEM)
			return r;
		if (r)
			continue;
		mark_used(e, rl->cond);
		wrapped = fc_cond_default_for(rl->cond, DEFAULT_FOR);
		if (wrapped < 0) {
			fc_diag(&e->diags, rl->pos.line, rl->pos.col, "%s: condition too long",
				what);
			continue;
		}
		rl->nwin = fc_cond_windows(rl->cond);
		rl->default_for = wrapped > 0;
		if (wrapped) {
			snprintf(val, sizeof(val), "for %d windows", DEFAULT_FOR);
			exp_note(e, false, what, val,
				 "%d bare condition%s: one bad window is noise", wrapped,
				 wrapped > 1 ? "s" : "");
		}
	}
	return err;
}

static void slo_refs(struct fc_experiment *e)
{
	const char *hint = e->bind_unread ? " (the binding could not be read)"
			   : e->bind_path
			       ? " (not in metrics: here nor in the binding)"
			       : " (define it under metrics: or bind it with --bind FILE)";

	if (!e->slo.set)
		return;
	e->slo.ierrors = fc_exp_metric(e, e->slo.errors);
	e->slo.itotal = fc_exp_metric(e, e->slo.total);
	if (e->slo.ierrors < 0)
		fc_diag(&e->diags, e->slo.errors_pos.line, e->slo.errors_pos.col,
			"slo errors: undefined metric '%s'%s", e->slo.errors, hint);
	else
		e->metrics[e->slo.ierrors].used = true;
	if (e->slo.itotal < 0)
		fc_diag(&e->diags, e->slo.total_pos.line, e->slo.total_pos.col,
			"slo total: undefined metric '%s'%s", e->slo.total, hint);
	else
		e->metrics[e->slo.itotal].used = true;
}

static void timeline(struct fc_experiment *e)
{
	char a[32], b[32], c[32];
	uint64_t over = e->steady.cond ? e->steady.cond->max_over_ns : 0, probe = 0;
	const struct fc_metric *slow = NULL;

	if (!e->duration.given) {
		e->duration.ns = scaled(e, DEFAULT_DURATION);
		exp_note(e, false, "duration", dur(e->duration.ns, a), "not given");
	}
	if (!e->baseline.given) {
		e->baseline.ns = over ? over : scaled(e, DEFAULT_BASELINE);
		exp_note(e, false, "baseline", dur(e->baseline.ns, a), "%s",
			 over ? "the longest 'over' in steady_state"
			      : "not given, and the steady state has no 'over'");
	} else if (over > e->baseline.ns) {
		fc_diag(&e->diags, e->baseline.pos.line, e->baseline.pos.col,
			"baseline: %s is shorter than the steady state's 'over' %s: it would be "
			"unknown at preflight",
			dur(e->baseline.ns, a), dur(over, b));
	}
	if (!e->recovery.given) {
		e->recovery.ns = e->baseline.ns;
		exp_note(e, false, "recovery", dur(e->recovery.ns, a), "the baseline's length");
	}
	if (!e->blast.max_duration.given) {
		e->blast.max_duration.ns = e->duration.ns;
		exp_note(e, false, "max_duration", dur(e->duration.ns, a), "the duration");
	} else if (e->duration.ns > e->blast.max_duration.ns) {
		const struct fc_pos *p =
		    e->duration.given ? &e->duration.pos : &e->blast.max_duration.pos;

		fc_diag(&e->diags, p->line, p->col,
			"duration %s is longer than blast_radius max_duration %s%s",
			dur(e->duration.ns, a), dur(e->blast.max_duration.ns, b),
			e->duration.given ? "" : " (the default duration)");
	}
	for (int i = 0; i < e->nfaults; i++) {
		const struct fc_exp_fault *f = &e->faults[i];

		if (f->start.given && f->start.ns >= e->duration.ns)
			fc_diag(&e->diags, f->start.pos.line, f->start.pos.col,
				"fault %s: start %s is not inside the inject phase (duration %s%s)",
				f->type, dur(f->start.ns, a), dur(e->duration.ns, b),
				e->duration.given ? "" : ", the default");
	}
	for (int i = 0; i < e->nmetrics; i++) {
		const struct fc_metric *m = &e->metrics[i];

		if (m->used && m->source != FC_MSRC_BPF && m->timeout_ns > probe) {
			probe = m->timeout_ns;
			slow = m;
		}
	}
	if (!e->max_gap.given) {
		e->max_gap.ns = 3 * e->window.ns > MAX_GAP_FLOOR ? 3 * e->window.ns : MAX_GAP_FLOOR;
		exp_note(e, false, "max_gap", dur(e->max_gap.ns, a), "max(3 x window, 3s)");
	}
	/* a hung probe must never keep a fault armed unmonitored (design.md §3) */
	if (e->max_gap.ns <= e->window.ns + probe) {
		const struct fc_pos *p = e->max_gap.given		  ? &e->max_gap.pos
					 : slow && slow->timeout_pos.line ? &slow->timeout_pos
					 : slow				  ? &slow->pos
									  : &e->window.pos;

		if (slow)
			fc_diag(
			    &e->diags, p->line, p->col,
			    "max_gap %s must be longer than the window %s plus the probe timeout "
			    "%s (metric '%s')",
			    dur(e->max_gap.ns, a), dur(e->window.ns, b), dur(probe, c), slow->name);
		else
			fc_diag(&e->diags, p->line, p->col,
				"max_gap %s must be longer than the window %s",
				dur(e->max_gap.ns, a), dur(e->window.ns, b));
	}
}

static void cells(struct fc_experiment *e)
{
	bool targeted = false;

	for (int i = 0; i < e->nfaults; i++)
		targeted |= e->faults[i].service[0] != 0;
	/* an unbound target service was reported already; "no cell" would say it twice */
	if (e->cell.kind == FC_CELLREF_NONE && !targeted && !e->cell.service[0] &&
	    !e->cell.pos.line)
		fc_diag(&e->diags, 0, 0,
			"no cell: give cell: { cgroup: PATH } or a fault target: { service: NAME } "
			"bound with --bind");
	if (e->control.kind != FC_CELLREF_NONE && e->control.kind == e->cell.kind &&
	    !strcmp(e->control.value, e->cell.value))
		fc_diag(&e->diags, e->control.pos.line, e->control.pos.col,
			"control: the same cell as the experiment's; a control is measured beside "
			"it, untouched");
}

int exp_check(struct fc_experiment *e)
{
	char a[32], b[32], c[32];
	bool bad_window;
	int err;

	if (!e->window.given) {
		e->window.ns = scaled(e, DEFAULT_WINDOW);
		exp_note(e, false, "window", dur(e->window.ns, a), "not given");
	}
	bad_window = e->window.ns < MIN_WINDOW || e->window.ns > MAX_WINDOW;
	if (bad_window) {
		if (e->time_scale != 1)
			snprintf(c, sizeof(c), " (x%g)", e->time_scale);
		fc_diag(&e->diags, e->window.pos.line, e->window.pos.col,
			"window: %s%s is outside %s to 1h", dur(e->window.ns, a),
			e->time_scale != 1 ? c : "", dur(MIN_WINDOW, b));
		/* no "shorter than one window" from conditions for a window already refused */
		e->window.ns = 0;
	}
	err = conditions(e);
	if (bad_window)
		e->window.ns = DEFAULT_WINDOW;
	if (err == -ENOMEM)
		return err;
	slo_refs(e);
	timeline(e);
	cells(e);
	if (e->time_scale != 1) {
		snprintf(a, sizeof(a), "x%g", e->time_scale);
		exp_note(e, true, "time-scale", a,
			 "every duration of the experiment scaled (window %s, duration %s)",
			 dur(e->window.ns, b), dur(e->duration.ns, c));
	}
	return exp_faults_parse(e);
}

// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "engine/journal.h"
#include "engine/probes.h"
#include "engine/run_internal.h"
#include "engine/runner.h"
#include "engine/session.h"
#include "metrics/export.h"
#include "metrics/tracer.h"

const char *fc_freeze_path(void)
{
	static char path[PATH_MAX];
	const char *d = getenv("FAULTCELL_STATE_DIR");

	snprintf(path, sizeof(path), "%s/freeze", d && *d ? d : "/var/lib/faultcell");
	return path;
}

/* ---- metric series ---- */

static int series_alloc(struct side *s, int cap, enum fc_agg agg)
{
	s->v = calloc(cap, sizeof(*s->v));
	s->n = calloc(cap, sizeof(*s->n));
	s->nd = calloc(cap, sizeof(*s->nd));
	if (!s->v || !s->n || !s->nd)
		return -ENOMEM;
	s->h.value = s->v;
	s->h.samples = s->n;
	s->h.nodata = s->nd;
	s->h.agg = agg;
	return 0;
}

static void series_free(struct side *s)
{
	free(s->v);
	free(s->n);
	free(s->nd);
}

static bool key_listed(const struct fc_metric *m, const char *key)
{
	for (int i = 0; i < m->nparams; i++) {
		char buf[sizeof(m->params[i].val)], *save = NULL, *tok;

		if (!strcmp(m->params[i].key, "min_samples"))
			continue;
		snprintf(buf, sizeof(buf), "%s", m->params[i].val);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (!strcmp(tok, key))
				return true;
		return false;
	}
	return true; /* no keys given: every key of the kind */
}

/* The metric's value for @cell in window @w: combines the keys it names. */
static bool bpf_value(const struct fc_metric *m, const struct fc_window *w, int cell, double *out,
		      uint32_t *samples)
{
	bool any = false,
	     latency = !strcmp(m->stat, "mean") || !strcmp(m->stat, "max") || m->stat[0] == 'p';
	double v = 0;
	uint64_t n = 0;

	for (int i = 0; i < w->n; i++) {
		const struct fc_series *s = &w->s[i];
		double x;

		if (s->cell != cell || strcmp(s->kind->name, m->kind) || !key_listed(m, s->key))
			continue;
		n += s->sum.count;
		if (!strcmp(m->stat, "count")) {
			x = s->sum.count;
		} else if (!strcmp(m->stat, "rate")) {
			x = s->sum.rate;
		} else {
			int p = !strcmp(m->stat, "p50")	  ? FC_P50
				: !strcmp(m->stat, "p90") ? FC_P90
				: !strcmp(m->stat, "p99") ? FC_P99
							  : FC_P999;

			if (s->sum.no_data & FC_NODATA_ALL)
				continue;
			if (m->stat[0] == 'p' && (s->sum.no_data & (1U << p)))
				continue;
			x = !strcmp(m->stat, "mean")  ? s->sum.mean
			    : !strcmp(m->stat, "max") ? s->sum.max
						      : s->sum.pct[p];
			/* latencies are ns in the kernel, seconds in conditions */
			if (!strcmp(s->kind->unit, "ns"))
				x /= 1e9;
		}
		/* several keys: counts add up, latencies take the worst */
		v = latency ? (any && v > x ? v : x) : v + x;
		any = true;
	}
	*out = v;
	*samples = n > UINT32_MAX ? UINT32_MAX : n;
	/* a count of nothing is a real zero; a percentile of nothing is no data */
	return any || !latency;
}

static void record_window(struct run *r, const struct fc_window *w)
{
	struct fc_experiment *e = r->e;
	int i = r->nw;

	for (int m = 0; m < e->nmetrics; m++) {
		const struct fc_metric *mt = &e->metrics[m];

		for (int side = 0; side < (r->has_control ? 2 : 1); side++) {
			struct side *s = side ? &r->ks[m] : &r->cs[m];
			double v = NAN;
			uint32_t n = 1;
			bool ok = false;

			if (mt->source == FC_MSRC_BPF) {
				ok = w && bpf_value(mt, w, side, &v, &n);
			} else if (!side) {
				ok = r->probes[m].ok;
				v = r->probes[m].value;
			} else if (r->kprobe_on[m]) {
				/* a probe measures the service, unless told how to reach the
				 * control */
				ok = r->kprobes[m].ok;
				v = r->kprobes[m].value;
			}
			s->v[i] = ok ? v : NAN;
			s->n[i] = ok ? (n ?: 1) : 0;
			s->nd[i] = !ok;
			s->h.n = i + 1;
		}
	}
	r->nw++;
}

/* ---- the window loop ---- */

static void start_probes(struct run *r)
{
	for (int m = 0; m < r->e->nmetrics; m++) {
		if (r->e->metrics[m].source != FC_MSRC_BPF)
			fc_probe_start(&r->probes[m]);
		if (r->kprobe_on[m])
			fc_probe_start(&r->kprobes[m]);
	}
	fc_run_burn_start(r);
}

static void finish_probes(struct run *r)
{
	for (int m = 0; m < r->e->nmetrics; m++) {
		if (r->e->metrics[m].source != FC_MSRC_BPF)
			fc_probe_finish(&r->probes[m]);
		if (r->kprobe_on[m])
			fc_probe_finish(&r->kprobes[m]);
	}
	/* recorded at the index record_window is about to fill */
	fc_run_burn_finish(r, r->nw);
}

/*
 * One window: probes in flight, ring buffer drained, scrapes answered, until the window's end;
 * then the snapshot. Returns false when the operator asked to stop.
 */
static bool run_window(struct run *r)
{
	uint64_t end = r->next_window_ns;
	struct fc_window w;
	bool have = false;

	start_probes(r);
	while (!fc_exiting && fc_now_ns() < end) {
		bool all = true;

		/* faults with a clock of their own (a pause shorter than the duration) */
		for (int i = 0; r->armed && i < r->s.nfaults; i++)
			if (r->s.faults[i] && r->s.faults[i]->ops->tick)
				r->s.faults[i]->ops->tick(r->s.faults[i], fc_now_ns());

		for (int m = 0; m < r->e->nmetrics; m++) {
			if (r->e->metrics[m].source != FC_MSRC_BPF)
				all &= fc_probe_poll(&r->probes[m]);
			if (r->kprobe_on[m])
				all &= fc_probe_poll(&r->kprobes[m]);
		}
		all &= fc_run_burn_poll(r);
		if (r->tracer)
			fc_tracer__poll(r->tracer);
		if (r->export_open)
			fc_export_serve(&r->exp, all ? 5 : 1);
		else
			usleep(all ? 5000 : 1000);
	}
	r->next_window_ns += r->e->window.ns;
	finish_probes(r);
	if (r->tracer && !fc_tracer__snapshot(r->tracer, &w)) {
		have = true;
		if (r->export_open)
			fc_export_update(&r->exp, &w);
	}
	record_window(r, have ? &w : NULL);
	return !fc_exiting;
}

/* ---- evaluation ---- */

static void eval_ctx(struct run *r, struct fc_eval_ctx *c, int from)
{
	fc_exp_eval_ctx(r->e, c);
	/* a view that starts at @from: `over D` then sees only this phase's windows */
	for (int m = 0; m < r->e->nmetrics; m++) {
		r->cview[m] = r->cs[m].h;
		r->cview[m].value += from;
		r->cview[m].samples += from;
		r->cview[m].nodata += from;
		r->cview[m].n -= from;
		r->cptr[m] = &r->cview[m];
		if (r->has_control) {
			r->kview[m] = r->ks[m].h;
			r->kview[m].value += from;
			r->kview[m].samples += from;
			r->kview[m].nodata += from;
			r->kview[m].n -= from;
			r->kptr[m] = &r->kview[m];
		}
	}
	c->cell = (const struct fc_history *const *)r->cptr;
	c->control = r->has_control ? (const struct fc_history *const *)r->kptr : NULL;
	r->view_from = from;
	c->burn_ratio = fc_run_burn_ratio;
	c->burn_arg = r;
	c->baseline_from = 0 - from;
	c->baseline_to = r->nbase - from;
	c->first_window = 0;
}

static const char *tri(enum fc_tri t)
{
	return t == FC_TRUE ? "true" : t == FC_FALSE ? "false" : "unknown";
}

enum fc_tri fc_run_steady(struct run *r, int from)
{
	struct fc_eval_ctx c;

	eval_ctx(r, &c, from);
	return fc_cond_eval(r->e->steady.cond, &c, r->nw - 1 - from);
}

/* ---- the run ---- */

static void journal_window(struct run *r, const char *phase, enum fc_tri *rules)
{
	struct fc_experiment *e = r->e;
	int i = r->nw - 1;

	fc_jbegin(&r->j, "window");
	fc_jstr(&r->j, "phase", phase);
	fc_jint(&r->j, "i", i);
	fc_jnum(&r->j, "t_s", (fc_now_ns() - r->t0) / 1e9);
	for (int side = 0; side < (r->has_control ? 2 : 1); side++) {
		fc_jobj(&r->j, side ? "control" : "cell");
		for (int m = 0; m < e->nmetrics; m++) {
			struct side *s = side ? &r->ks[m] : &r->cs[m];

			fc_jnum(&r->j, e->metrics[m].name, s->nd[i] ? NAN : s->v[i]);
		}
		fc_jclose(&r->j, '}');
	}
	if (r->burn_mode == FC_BURN_PROMETHEUS) {
		/* burn(W) as Prometheus answered it, keyed by the span in seconds */
		fc_jobj(&r->j, "burn");
		for (int b = 0; b < r->nburn; b++) {
			char key[32];

			snprintf(key, sizeof(key), "%gs", r->burn[b].ns / 1e9);
			fc_jnum(&r->j, key,
				r->burn[b].ok[i] ? r->burn[b].v[i] / (1 - e->slo.objective) : NAN);
		}
		fc_jclose(&r->j, '}');
	}
	if (rules) {
		fc_jobj(&r->j, "rules");
		for (int k = 0; k < e->nrules; k++)
			fc_jstr(&r->j, e->rules[k].name, tri(rules[k]));
		fc_jclose(&r->j, '}');
	}
	if (r->armed)
		fc_run_journal_faults(r, "faults");
	fc_jend(&r->j);
}

static void status_line(struct run *r, const char *phase, int k, int n, enum fc_tri *rules)
{
	struct fc_experiment *e = r->e;
	int i = r->nw - 1;
	char buf[1024];
	size_t u;

	u = snprintf(buf, sizeof(buf), "[%-8s %3d/%-3d]", phase, k, n);
	for (int m = 0; m < e->nmetrics && u < sizeof(buf); m++) {
		if (r->cs[m].nd[i] && e->metrics[m].source != FC_MSRC_BPF && r->probes[m].err[0])
			/* a probe's reason: timed out, connect refused, HTTP 503... */
			u += snprintf(buf + u, sizeof(buf) - u, " %s=no-data(%s)",
				      e->metrics[m].name, r->probes[m].err);
		else if (r->cs[m].nd[i])
			u += snprintf(buf + u, sizeof(buf) - u, " %s=no-data", e->metrics[m].name);
		else
			u += snprintf(buf + u, sizeof(buf) - u, " %s=%.4g", e->metrics[m].name,
				      r->cs[m].v[i]);
	}
	for (int b = 0; r->burn_mode == FC_BURN_PROMETHEUS && b < r->nburn && u < sizeof(buf);
	     b++) {
		char span[32];

		fc_format_duration(r->burn[b].ns, span, sizeof(span));
		if (r->burn[b].ok[i])
			u += snprintf(buf + u, sizeof(buf) - u, " burn(%s)=%.4g", span,
				      r->burn[b].v[i] / (1 - e->slo.objective));
		else
			u += snprintf(buf + u, sizeof(buf) - u, " burn(%s)=no-data(%s)", span,
				      r->burn[b].p.err[0] ? r->burn[b].p.err : "no sample");
	}
	for (int q = 0; rules && q < e->nrules && u < sizeof(buf); q++)
		u += snprintf(buf + u, sizeof(buf) - u, " | %s:%s %d/%d", e->rules[q].name,
			      tri(rules[q]), rules[q] == FC_UNKNOWN ? r->unknown_streak[q] : 0,
			      e->rules[q].nwin);
	printf("%s\n", buf);
	fflush(stdout);
}

/* Baseline: the steady state must be known and hold, else refuse with nothing attached. */
static int phase_baseline(struct run *r)
{
	int n = (r->e->baseline.ns + r->e->window.ns - 1) / r->e->window.ns;
	enum fc_tri st;

	printf("baseline: %d window(s) of %.3gs, nothing injected yet\n", n, r->e->window.ns / 1e9);
	for (int k = 1; k <= n; k++) {
		if (!run_window(r))
			return FC_EXIT_OPERATOR;
		fc_session_heartbeat(&r->s);
		r->last_hb_ns = fc_now_ns();
		journal_window(r, "baseline", NULL);
		if (r->o->interactive || k == n)
			status_line(r, "baseline", k, n, NULL);
	}
	r->nbase = r->nw;
	st = fc_run_steady(r, 0);
	fc_jbegin(&r->j, "baseline");
	fc_jstr(&r->j, "steady_state", tri(st));
	fc_jint(&r->j, "windows", n);
	fc_jend(&r->j);
	if (st != FC_TRUE) {
		pr_warn("refusing to inject: the steady state is %s before injection (%s: %s); "
			"nothing was attached",
			st == FC_FALSE ? "false" : "unknown (no data)", r->e->steady.metric,
			r->e->steady.expected);
		snprintf(r->reason, sizeof(r->reason), "steady state %s at baseline", tri(st));
		return FC_EXIT_REFUSED;
	}
	printf("baseline: steady state holds\n");
	return 0;
}

/* Inject and monitor: abort when a rule holds (its `for N` inside) or is unknown N windows. */
static int phase_inject(struct run *r)
{
	int n = (r->e->duration.ns + r->e->window.ns - 1) / r->e->window.ns, rc, armed = 0;
	enum fc_tri rules[FC_EXP_MAX_RULES];
	struct fc_eval_ctx c;

	r->s.deadline_ns = fc_now_coarse_ns() + r->e->duration.ns;
	rc = fc_session_arm(&r->s);
	if (rc) {
		pr_warn("cannot inject: %s", r->s.why);
		snprintf(r->reason, sizeof(r->reason), "inject failed: %s", r->s.why);
		return rc;
	}
	r->armed = true;
	r->inject_from = r->nw;
	r->last_hb_ns = fc_now_ns();
	for (int i = 0; i < r->s.nfaults; i++)
		armed += r->s.attached[i];
	printf("inject: %d fault(s) armed for %.3gs", armed, r->e->duration.ns / 1e9);
	if (armed < r->s.nfaults)
		printf(", %d more at their start", r->s.nfaults - armed);
	printf("\n");
	fc_jbegin(&r->j, "inject");
	fc_run_journal_faults(r, "faults");
	fc_jend(&r->j);
	for (int k = 1; k <= n; k++) {
		/* faults with a start: armed at the first window boundary at or after it */
		rc = fc_session_arm_due(&r->s, fc_now_ns() - r->s.armed_at_ns, &armed);
		if (rc) {
			pr_warn("cannot inject: %s", r->s.why);
			snprintf(r->reason, sizeof(r->reason), "inject failed: %s", r->s.why);
			return rc;
		}
		if (armed) {
			printf("inject: %d more fault(s) armed at +%.3gs\n", armed,
			       (fc_now_ns() - r->s.armed_at_ns) / 1e9);
			fc_jbegin(&r->j, "fault_armed");
			fc_jnum(&r->j, "t_inject_s", (fc_now_ns() - r->s.armed_at_ns) / 1e9);
			fc_run_journal_faults(r, "faults");
			fc_jend(&r->j);
		}
		if (!run_window(r)) {
			snprintf(r->reason, sizeof(r->reason), "aborted by the operator");
			return FC_EXIT_OPERATOR;
		}
		/* our own stall (SIGSTOP, swap): the programs went inert; never resume */
		if (fc_now_ns() - r->last_hb_ns > r->e->max_gap.ns) {
			snprintf(r->reason, sizeof(r->reason),
				 "the loader's own heartbeat lapsed (%.1fs without an evaluation)",
				 (fc_now_ns() - r->last_hb_ns) / 1e9);
			return FC_EXIT_INTERNAL;
		}
		eval_ctx(r, &c, 0);
		c.first_window = r->inject_from;
		for (int q = 0; q < r->e->nrules; q++) {
			rules[q] = fc_cond_eval(r->e->rules[q].cond, &c, r->nw - 1);
			r->unknown_streak[q] =
			    rules[q] == FC_UNKNOWN ? r->unknown_streak[q] + 1 : 0;
		}
		/* the heartbeat follows a completed evaluation, never a stalled one */
		fc_session_heartbeat(&r->s);
		r->last_hb_ns = fc_now_ns();
		journal_window(r, "inject", rules);
		status_line(r, "inject", k, n, rules);
		for (int q = 0; q < r->e->nrules; q++) {
			if (rules[q] == FC_TRUE) {
				snprintf(r->reason, sizeof(r->reason), "abort rule '%s' held: %s",
					 r->e->rules[q].name, r->e->rules[q].text);
				r->aborted = true;
				return FC_EXIT_DISPROVED;
			}
			if (r->unknown_streak[q] >= r->e->rules[q].nwin) {
				snprintf(r->reason, sizeof(r->reason),
					 "abort rule '%s' unknown for %d windows (no data: fail "
					 "closed)",
					 r->e->rules[q].name, r->unknown_streak[q]);
				r->aborted = true;
				return FC_EXIT_DISPROVED;
			}
		}
		if (fc_now_coarse_ns() >= r->s.deadline_ns)
			break;
	}
	return 0;
}

static int phase_recovery(struct run *r)
{
	int n = (r->e->recovery.ns + r->e->window.ns - 1) / r->e->window.ns;
	enum fc_tri st = FC_UNKNOWN;

	r->recovery_from = r->nw;
	printf("recovery: %d window(s), metric programs still attached\n", n);
	for (int k = 1; k <= n; k++) {
		if (!run_window(r))
			return FC_EXIT_OPERATOR;
		journal_window(r, "recovery", NULL);
		if (r->o->interactive || k == n)
			status_line(r, "recovery", k, n, NULL);
	}
	if (n)
		st = fc_run_steady(r, r->recovery_from);
	fc_jbegin(&r->j, "recovery");
	fc_jstr(&r->j, "steady_state", tri(st));
	fc_jint(&r->j, "windows", n);
	fc_jend(&r->j);
	r->recovered = st == FC_TRUE;
	return 0;
}

int fc_run(struct fc_experiment *e, struct fc_run_opts *o)
{
	struct run *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return FC_EXIT_INTERNAL;
	r->e = e;
	r->o = o;
	r->t0 = fc_now_ns();
	rc = fc_run_prepare(r);
	if (!rc)
		rc = phase_baseline(r);
	if (!rc) {
		rc = phase_inject(r);
		if (r->armed) {
			int v = fc_run_rollback(r, rc);

			if (v)
				rc = v; /* rollback incomplete trumps every other verdict */
		}
		if (rc != FC_EXIT_OPERATOR && rc != FC_EXIT_ROLLBACK &&
		    phase_recovery(r) == FC_EXIT_OPERATOR)
			rc = FC_EXIT_OPERATOR;
		if (!rc && !r->recovered) {
			snprintf(r->reason, sizeof(r->reason), "steady state not back in recovery");
			rc = FC_EXIT_DISPROVED;
		}
		if (!rc && r->restore_failed)
			rc = FC_EXIT_DISPROVED;
	}
	rc = fc_run_finish(r, rc);
	snprintf(o->journal_path, sizeof(o->journal_path), "%s", r->j.path);
	snprintf(o->run_id, sizeof(o->run_id), "%s", r->s.run_id);
	fc_run_cleanup(r);
	fc_run_burn_free(r);
	for (int m = 0; m < FC_EXP_MAX_METRICS; m++) {
		series_free(&r->cs[m]);
		series_free(&r->ks[m]);
	}
	free(r);
	return rc;
}

/* The control cell's side of probe @m: its metric with the control_* program, URL or query. */
static void control_probe(struct run *r, int m)
{
	const struct fc_metric *mt = &r->e->metrics[m];
	struct fc_metric *k = &r->kmetric[m];

	if (!r->has_control || mt->source == FC_MSRC_BPF || fc_metric_control_key(mt))
		return;
	*k = *mt;
	if (mt->source == FC_MSRC_COMMAND) {
		k->argc = mt->control_argc;
		memcpy(k->argv, mt->control_argv, sizeof(k->argv));
	} else if (mt->source == FC_MSRC_HTTP) {
		k->url = mt->control_url;
	} else {
		k->query = mt->control_query;
	}
	fc_probe_init(&r->kprobes[m], k);
	r->kprobe_on[m] = true;
}

int fc_run_alloc_series(struct run *r, int cap)
{
	for (int m = 0; m < r->e->nmetrics; m++) {
		if (series_alloc(&r->cs[m], cap, r->e->metrics[m].agg) ||
		    series_alloc(&r->ks[m], cap, r->e->metrics[m].agg))
			return -ENOMEM;
		fc_probe_init(&r->probes[m], &r->e->metrics[m]);
		control_probe(r, m);
	}
	return fc_run_burn_setup(r, cap);
}

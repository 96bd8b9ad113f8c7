// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/journal.h"
#include "engine/json.h"
#include "engine/report.h"

#define MAXM 32
#define NPH  3

static const char *const phases[NPH] = { "baseline", "inject", "recovery" };

struct stat {
	int n, nodata;
	double min, max, sum;
};

struct model {
	struct fc_jv *start, *baseline, *inject, *rollback, *recovery, *end, *recover, *notify,
	    *freeze;
	int nmetrics;
	char names[MAXM][64];
	struct stat st[NPH][MAXM]; /* cell side */
	int windows[NPH], breach_windows;
	int torn; /* unparsable lines (a crash mid-write) */
};

static int metric_index(struct model *m, const char *name)
{
	for (int i = 0; i < m->nmetrics; i++)
		if (!strcmp(m->names[i], name))
			return i;
	if (m->nmetrics >= MAXM)
		return -1;
	snprintf(m->names[m->nmetrics], sizeof(m->names[0]), "%s", name);
	return m->nmetrics++;
}

static void add_window(struct model *m, const struct fc_jv *w)
{
	const char *ph = fc_jgets(w, "phase");
	const struct fc_jv *cell = fc_jget(w, "cell"), *rules = fc_jget(w, "rules");
	int p;

	for (p = 0; p < NPH && (!ph || strcmp(ph, phases[p])); p++)
		;
	if (p == NPH)
		return;
	m->windows[p]++;
	for (int i = 0; cell && i < cell->nkids; i++) {
		int k = metric_index(m, cell->kids[i].key);
		struct stat *s;

		if (k < 0)
			continue;
		s = &m->st[p][k];
		if (cell->kids[i].t != FC_J_NUM) {
			s->nodata++;
			continue;
		}
		if (!s->n || cell->kids[i].n < s->min)
			s->min = cell->kids[i].n;
		if (!s->n || cell->kids[i].n > s->max)
			s->max = cell->kids[i].n;
		s->sum += cell->kids[i].n;
		s->n++;
	}
	for (int i = 0; rules && i < rules->nkids; i++)
		if (rules->kids[i].s && !strcmp(rules->kids[i].s, "true")) {
			m->breach_windows++;
			break;
		}
}

static struct fc_jv **slot(struct model *m, const char *type)
{
	static const char *const types[] = { "start", "baseline", "inject", "rollback", "recovery",
					     "end",   "recover",  "notify", "freeze" };
	struct fc_jv **slots[] = { &m->start, &m->baseline, &m->inject, &m->rollback, &m->recovery,
				   &m->end,   &m->recover,  &m->notify, &m->freeze };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i], type))
			return slots[i];
	return NULL;
}

static int load(const char *path, struct model *m)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct fc_jv *v = fc_json_parse(line), **s;
		const char *type = fc_jgets(v, "type");

		if (!v || !type) {
			m->torn++;
			fc_json_free(v);
			continue;
		}
		if (!strcmp(type, "window")) {
			add_window(m, v);
			fc_json_free(v);
			continue;
		}
		s = slot(m, type);
		if (s) {
			fc_json_free(*s);
			*s = v;
		} else {
			fc_json_free(v);
		}
	}
	free(line);
	fclose(f);
	return m->start ? 0 : -EINVAL;
}

static const char *str_or(const struct fc_jv *o, const char *k, const char *dflt)
{
	const char *s = fc_jgets(o, k);

	return s && *s ? s : dflt;
}

static void md_faults(FILE *f, const struct fc_jv *faults)
{
	const struct fc_jv *a = faults;

	if (!a || a->t != FC_J_ARR || !a->nkids)
		return;
	fprintf(f, "\n| fault | mechanism | seen | matched | injected | inert "
		   "(disabled/deadline/heartbeat) |\n"
		   "|---|---|---|---|---|---|\n");
	for (int i = 0; i < a->nkids; i++) {
		const struct fc_jv *x = &a->kids[i];

		fprintf(f, "| %s | %s | %.0f | %.0f | %.0f | %.0f / %.0f / %.0f |\n",
			str_or(x, "type", "?"), str_or(x, "mechanism", ""), fc_jgetn(x, "seen", 0),
			fc_jgetn(x, "matched", 0), fc_jgetn(x, "injected", 0),
			fc_jgetn(x, "inert_disabled", 0), fc_jgetn(x, "inert_deadline", 0),
			fc_jgetn(x, "inert_heartbeat", 0));
	}
}

static void render_md(const struct model *m, const char *path, FILE *f)
{
	const struct fc_jv *s = m->start, *rules = fc_jget(s, "abort_when"),
			   *devs = fc_jget(s, "deviations");

	fprintf(f, "# %s\n\n", str_or(s, "title", "(untitled)"));
	fprintf(f, "- **Hypothesis:** %s\n", str_or(s, "hypothesis", "(none written)"));
	fprintf(f, "- **Run:** %s on %s (kernel %s)\n", str_or(s, "run", "?"),
		str_or(s, "host", "?"), str_or(s, "kernel", "?"));
	fprintf(f, "- **Cell:** %s%s%s\n", str_or(s, "cell", "?"),
		fc_jgets(s, "control") ? "; control " : "", str_or(s, "control", ""));
	fprintf(f, "- **Blast radius:** %s\n", str_or(s, "blast_radius", "(not stated)"));
	fprintf(f, "- **Steady state:** %s %s\n", str_or(s, "steady_state_metric", "?"),
		str_or(s, "steady_state", "?"));
	fprintf(f,
		"- **Timeline:** baseline %.3gs, inject %.3gs, recovery %.3gs; window %.3gs, "
		"max_gap %.3gs\n",
		fc_jgetn(s, "baseline_s", NAN), fc_jgetn(s, "duration_s", NAN),
		fc_jgetn(s, "recovery_s", NAN), fc_jgetn(s, "window_s", NAN),
		fc_jgetn(s, "max_gap_s", NAN));
	for (int i = 0; devs && i < devs->nkids; i++)
		fprintf(f, "- **Deviation:** %s = %s (%s)\n", str_or(&devs->kids[i], "what", "?"),
			str_or(&devs->kids[i], "value", "?"), str_or(&devs->kids[i], "why", ""));
	fprintf(f, "\n## Verdict\n\n");
	if (m->end) {
		fprintf(f, "**%s** (exit %.0f)%s%s\n", str_or(m->end, "verdict", "?"),
			fc_jgetn(m->end, "exit", -1), fc_jgets(m->end, "reason") ? ": " : "",
			str_or(m->end, "reason", ""));
	} else {
		fprintf(f,
			"**Incomplete journal**: the loader stopped before its verdict (killed, "
			"OOM, power). What follows is the record up to that moment%s.\n",
			m->recover ? " and what `recover` undid" : "");
	}
	fprintf(f, "\n## Abort conditions\n\n");
	for (int i = 0; rules && i < rules->nkids; i++)
		fprintf(f, "- `%s`: %s\n", str_or(&rules->kids[i], "name", "?"),
			str_or(&rules->kids[i], "rule", "?"));
	fprintf(f, "- windows with a rule holding: %d\n", m->breach_windows);
	fprintf(f,
		"\n## Metrics (cell)\n\n| metric | phase | windows | no data | min | mean | max |\n"
		"|---|---|---|---|---|---|---|\n");
	for (int k = 0; k < m->nmetrics; k++)
		for (int p = 0; p < NPH; p++) {
			const struct stat *st = &m->st[p][k];

			if (!st->n && !st->nodata)
				continue;
			fprintf(f, "| %s | %s | %d | %d | %.4g | %.4g | %.4g |\n", m->names[k],
				phases[p], st->n + st->nodata, st->nodata, st->n ? st->min : NAN,
				st->n ? st->sum / st->n : NAN, st->n ? st->max : NAN);
		}
	fprintf(f, "\n## Faults\n");
	md_faults(f, fc_jget(m->rollback ?: m->inject, "faults"));
	fprintf(f, "\n## Rollback\n\n");
	if (m->rollback) {
		const struct fc_jv *v = fc_jget(m->rollback, "verified");

		fprintf(f, "- cause: %s\n", str_or(m->rollback, "cause", "?"));
		fprintf(f, "- verified with the inventory: %s\n",
			v && v->n ? "yes, nothing of the run remained"
				  : "**NO**: a human is needed");
		if (fc_jget(m->rollback, "abort_to_inert_us"))
			fprintf(f, "- disable → first call passed untouched: %.1f µs\n",
				fc_jgetn(m->rollback, "abort_to_inert_us", NAN));
		fprintf(f, "- disable → fault links gone: %.2f ms\n",
			fc_jgetn(m->rollback, "abort_to_links_gone_ms", NAN));
		if (fc_jgets(m->rollback, "remaining"))
			fprintf(f, "- remaining: %s\n", fc_jgets(m->rollback, "remaining"));
	} else if (m->recover) {
		fprintf(f, "- by `recover`%s: %s\n",
			fc_jgetn(m->recover, "from_guard", 0) ? " (run by the guard)" : "",
			fc_jgetn(m->recover, "verified", 0) ? "verified" : "**NOT verified**");
	} else {
		fprintf(f, "- none recorded%s\n", m->inject ? ": run `faultcell recover` now" : "");
	}
	if (m->recovery)
		fprintf(f, "\n## Recovery\n\nsteady state after rollback: %s\n",
			str_or(m->recovery, "steady_state", "?"));
	if (m->notify || m->freeze)
		fprintf(f, "\n## On abort\n\n");
	if (m->notify)
		fprintf(f, "- notified `%s` (exit %.0f)\n", str_or(m->notify, "command", "?"),
			fc_jgetn(m->notify, "exit", -1));
	if (m->freeze)
		fprintf(f, "- froze further experiments: %s\n", str_or(m->freeze, "path", "?"));
	fprintf(f,
		"\n## Learning (for the humans)\n\n%s\n\n- did it hold?\n- what surprised us?\n"
		"- what do we fix?\n",
		str_or(s, "learning_record", "Write what you learned here."));
	if (m->torn)
		fprintf(f, "\n_%d unreadable line(s) in %s (a write cut short)._\n", m->torn, path);
}

static void render_json(const struct model *m, FILE *f)
{
	const struct fc_jv *s = m->start;

	fprintf(f, "{\"run\":");
	fc_jescape(f, str_or(s, "run", ""));
	fprintf(f, ",\"title\":");
	fc_jescape(f, str_or(s, "title", ""));
	fprintf(f, ",\"cell\":");
	fc_jescape(f, str_or(s, "cell", ""));
	fprintf(f, ",\"complete\":%s,\"exit\":%.0f,\"verdict\":", m->end ? "true" : "false",
		m->end ? fc_jgetn(m->end, "exit", -1) : -1);
	fc_jescape(f, m->end ? str_or(m->end, "verdict", "") : "incomplete");
	fprintf(f, ",\"reason\":");
	fc_jescape(f, m->end ? str_or(m->end, "reason", "") : "");
	fprintf(f, ",\"rollback_verified\":%s",
		m->rollback  ? (fc_jgetn(m->rollback, "verified", 0) ? "true" : "false")
		: m->recover ? (fc_jgetn(m->recover, "verified", 0) ? "true" : "false")
			     : "null");
	fprintf(f, ",\"windows\":{\"baseline\":%d,\"inject\":%d,\"recovery\":%d}", m->windows[0],
		m->windows[1], m->windows[2]);
	fprintf(f, ",\"breach_windows\":%d,\"metrics\":{", m->breach_windows);
	for (int k = 0; k < m->nmetrics; k++) {
		fprintf(f, "%s", k ? "," : "");
		fc_jescape(f, m->names[k]);
		fprintf(f, ":{");
		for (int p = 0; p < NPH; p++) {
			const struct stat *st = &m->st[p][k];

			fprintf(f, "%s\"%s\":{\"n\":%d,\"nodata\":%d", p ? "," : "", phases[p],
				st->n, st->nodata);
			if (st->n)
				fprintf(f, ",\"min\":%.9g,\"mean\":%.9g,\"max\":%.9g", st->min,
					st->sum / st->n, st->max);
			fprintf(f, "}");
		}
		fprintf(f, "}");
	}
	fprintf(f, "}}\n");
}

int fc_report(const char *path, FILE *md, FILE *json)
{
	struct model *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	err = load(path, m);
	if (!err) {
		if (md)
			render_md(m, path, md);
		if (json)
			render_json(m, json);
	}
	fc_json_free(m->start);
	fc_json_free(m->baseline);
	fc_json_free(m->inject);
	fc_json_free(m->rollback);
	fc_json_free(m->recovery);
	fc_json_free(m->end);
	fc_json_free(m->recover);
	fc_json_free(m->notify);
	fc_json_free(m->freeze);
	free(m);
	return err;
}

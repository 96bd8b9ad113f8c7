// SPDX-License-Identifier: BSD-2-Clause
/* What validate prints: the errors in file order, or the experiment as understood. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "engine/experiment.h"

static int by_pos(const void *a, const void *b)
{
	const struct fc_diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line - y->line;
	return x->col - y->col;
}

/* Sorted by position (stable enough: positions rarely tie), file-level errors first. */
static void sorted(const struct fc_diags *d, struct fc_diags *out)
{
	*out = *d;
	qsort(out->d, out->n, sizeof(out->d[0]), by_pos);
}

void fc_experiment_print_diags(const struct fc_experiment *e, FILE *f)
{
	struct fc_diags *s = malloc(sizeof(*s));

	if (!s) {
		fc_diags_print(&e->bind_diags, f);
		fc_diags_print(&e->diags, f);
		return;
	}
	/* the binding first: its errors often explain the experiment's "unbound" ones */
	sorted(&e->bind_diags, s);
	fc_diags_print(s, f);
	sorted(&e->diags, s);
	fc_diags_print(s, f);
	free(s);
}

static void cell_line(FILE *f, const char *what, const struct fc_cellref *c)
{
	char spec[600];

	if (fc_cellref_spec(c, spec, sizeof(spec)))
		return;
	fprintf(f, "  %-13s %s", what, spec);
	if (c->service[0])
		fprintf(f, " (service %s%s)", c->service, c->from_binding ? ", bound" : "");
	fputc('\n', f);
}

static void fault_text(const struct fc_exp_fault *x, char *buf, size_t len)
{
	size_t pos = 0;

	char at[32];

	if (x->fault && x->fault->ops->describe) {
		x->fault->ops->describe(x->fault->cfg, buf, len);
		pos = strlen(buf);
	} else {
		pos = snprintf(buf, len, "%s", x->type);
		for (int k = 0; k < x->spec.nkv && pos < len; k++)
			pos += snprintf(buf + pos, len - pos, " %s=%s", x->spec.kv[k].key,
					x->spec.kv[k].val);
	}
	if (x->start.given && pos < len) {
		fc_format_duration(x->start.ns, at, sizeof(at));
		snprintf(buf + pos, len - pos, "; armed %s into the inject phase", at);
	}
}

void fc_experiment_summary(const struct fc_experiment *e, FILE *f)
{
	char buf[1024], a[32], b[32], c[32], d[32];

	fprintf(f, "%s: valid\n", e->path);
	fprintf(f, "  %-13s %s\n", "title", e->title ?: "");
	if (e->hypothesis)
		fprintf(f, "  %-13s %s\n", "hypothesis", e->hypothesis);
	cell_line(f, "cell", &e->cell);
	if (e->control.kind)
		cell_line(f, "control", &e->control);
	for (int i = 0; i < e->nfaults; i++) {
		fault_text(&e->faults[i], buf, sizeof(buf));
		fprintf(f, "  %-13s %s\n", i ? "" : "fault", buf);
	}
	for (int i = 0; i < e->nmetrics; i++) {
		const struct fc_metric *m = &e->metrics[i];

		bool kside = m->source != FC_MSRC_BPF && !fc_metric_control_key(m);

		fprintf(f, "  %-13s %s: %s%s%s (%s)%s%s\n", i ? "" : "metrics", m->name,
			fc_msrc_name(m->source), m->kind[0] ? " " : "", m->kind,
			fc_vtype_name(m->type), m->from_binding ? ", bound" : "",
			kside ? ", with a control side" : "");
	}
	if (e->steady.cond) {
		fc_cond_format(e->steady.cond, buf, sizeof(buf));
		fprintf(f, "  %-13s %s\n", "steady state", buf);
	}
	for (int i = 0; i < e->nrules; i++) {
		if (!e->rules[i].cond)
			continue;
		fc_cond_format(e->rules[i].cond, buf, sizeof(buf));
		fprintf(f, "  %-13s %s%s%s\n", i ? "" : "abort when",
			e->nrules > 1 ? e->rules[i].name : "", e->nrules > 1 ? ": " : "", buf);
	}
	if (e->slo.set)
		fprintf(f, "  %-13s objective %g, errors %s, total %s\n", "slo", e->slo.objective,
			e->slo.errors, e->slo.total);
	fc_format_duration(e->window.ns, a, sizeof(a));
	fc_format_duration(e->baseline.ns, b, sizeof(b));
	fc_format_duration(e->duration.ns, c, sizeof(c));
	fc_format_duration(e->recovery.ns, d, sizeof(d));
	fprintf(f, "  %-13s baseline %s, inject %s, recovery %s; window %s", "timeline", b, c, d,
		a);
	fc_format_duration(e->max_gap.ns, a, sizeof(a));
	fc_format_duration(e->blast.max_duration.ns, b, sizeof(b));
	fprintf(f, ", max_gap %s, max_duration %s\n", a, b);
	for (int i = 0; i < e->ndefaults; i++)
		fprintf(f, "  %-13s %s = %s (%s)\n", i ? "" : "defaults", e->defaults[i].what,
			e->defaults[i].value, e->defaults[i].why);
	for (int i = 0; i < e->ndeviations; i++)
		fprintf(f, "  %-13s %s %s: %s\n", i ? "" : "deviations", e->deviations[i].what,
			e->deviations[i].value, e->deviations[i].why);
}

void fc_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_diags(FILE *f, const struct fc_diags *d, bool *first)
{
	for (int i = 0; i < d->n; i++) {
		fprintf(f, "%s{\"file\":", *first ? "" : ",");
		fc_json_str(f, d->file);
		fprintf(f, ",\"line\":%d,\"col\":%d,\"message\":", d->d[i].line, d->d[i].col);
		fc_json_str(f, d->d[i].msg);
		fputc('}', f);
		*first = false;
	}
}

static void json_notes(FILE *f, const char *key, const struct fc_exp_note *n, int count)
{
	fprintf(f, ",\"%s\":[", key);
	for (int i = 0; i < count; i++) {
		fprintf(f, "%s{\"what\":", i ? "," : "");
		fc_json_str(f, n[i].what);
		fprintf(f, ",\"value\":");
		fc_json_str(f, n[i].value);
		fprintf(f, ",\"why\":");
		fc_json_str(f, n[i].why);
		fputc('}', f);
	}
	fputc(']', f);
}

void fc_experiment_json(const struct fc_experiment *e, FILE *f)
{
	struct fc_diags *s = malloc(sizeof(*s));
	char buf[1024];
	bool first = true;

	fprintf(f, "{\"file\":");
	fc_json_str(f, e->path);
	fprintf(f, ",\"valid\":%s,\"errors\":[", fc_experiment_errors(e) ? "false" : "true");
	if (s) {
		sorted(&e->bind_diags, s);
		json_diags(f, s, &first);
		sorted(&e->diags, s);
		json_diags(f, s, &first);
		free(s);
	}
	fputc(']', f);
	if (fc_experiment_errors(e)) {
		fprintf(f, "}\n");
		return;
	}
	fprintf(f, ",\"title\":");
	fc_json_str(f, e->title);
	fc_cellref_spec(&e->cell, buf, sizeof(buf));
	fprintf(f, ",\"cell\":");
	fc_json_str(f, buf);
	fprintf(f, ",\"service\":");
	fc_json_str(f, e->cell.service);
	fprintf(f, ",\"faults\":[");
	for (int i = 0; i < e->nfaults; i++) {
		fprintf(f, "%s{\"type\":", i ? "," : "");
		fc_json_str(f, e->faults[i].type);
		fault_text(&e->faults[i], buf, sizeof(buf));
		fprintf(f, ",\"describe\":");
		fc_json_str(f, buf);
		fputc('}', f);
	}
	fprintf(f, "],\"steady_state\":");
	fc_cond_format(e->steady.cond, buf, sizeof(buf));
	fc_json_str(f, buf);
	fprintf(f, ",\"abort_when\":[");
	for (int i = 0; i < e->nrules; i++) {
		fc_cond_format(e->rules[i].cond, buf, sizeof(buf));
		fprintf(f, "%s{\"name\":", i ? "," : "");
		fc_json_str(f, e->rules[i].name);
		fprintf(f, ",\"condition\":");
		fc_json_str(f, buf);
		fprintf(f, ",\"windows\":%d,\"default_windows\":%s}", e->rules[i].nwin,
			e->rules[i].default_for ? "true" : "false");
	}
	fprintf(f,
		"],\"window_ns\":%llu,\"baseline_ns\":%llu,\"duration_ns\":%llu,"
		"\"recovery_ns\":%llu,\"max_gap_ns\":%llu,\"max_duration_ns\":%llu,"
		"\"time_scale\":%g",
		(unsigned long long)e->window.ns, (unsigned long long)e->baseline.ns,
		(unsigned long long)e->duration.ns, (unsigned long long)e->recovery.ns,
		(unsigned long long)e->max_gap.ns, (unsigned long long)e->blast.max_duration.ns,
		e->time_scale);
	json_notes(f, "defaults", e->defaults, e->ndefaults);
	json_notes(f, "deviations", e->deviations, e->ndeviations);
	fprintf(f, "}\n");
}

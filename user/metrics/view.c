// SPDX-License-Identifier: BSD-2-Clause
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/control.h"
#include "metrics/view.h"

#define BAR 20

void fc_fmt_ns(double ns, char *buf, size_t len)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.3fs", ns / 1e9);
}

void fc_view_init(struct fc_view *v, const struct fc_core *core, bool json, bool hist)
{
	memset(v, 0, sizeof(*v));
	v->core = core;
	v->out = stdout;
	v->json = json;
	v->hist = hist;
}

void fc_view_free(struct fc_view *v)
{
	v->nev = 0;
}

void fc_view_event(void *ctx, const struct fc_event_hdr *e, size_t size)
{
	struct fc_view *v = ctx;

	(void)size;
	if (e->type != FC_EV_ERROR && e->type != FC_EV_STATE)
		return;
	if (v->nev < FC_VIEW_EVENTS)
		v->ev[v->nev++] = *e;
	else
		v->ev_dropped++;
}

/* The last path component of a cell, at most 16 characters (its tail). */
static const char *cell_name(const struct fc_view *v, int cell)
{
	const char *rel = v->core->cells[cell].rel, *s = strrchr(rel, '/');
	size_t n;

	s = s && s[1] ? s + 1 : rel;
	n = strlen(s);
	return n > 16 ? s + n - 16 : s;
}

static const char *errname(int err)
{
	const char *n = err > 0 ? strerrorname_np(err) : NULL;

	return n ?: "E?";
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, const char *name, double v, bool ok)
{
	if (ok)
		fprintf(f, ",\"%s\":%.10g", name, v);
	else
		fprintf(f, ",\"%s\":null", name);
}

static const struct fc_series *series_by_id(const struct fc_window *w, uint32_t id, int cell)
{
	for (int i = 0; i < w->n; i++)
		if (w->s[i].id == id && w->s[i].cell == cell)
			return &w->s[i];
	return NULL;
}

static void json_event(const struct fc_view *v, const struct fc_window *w,
		       const struct fc_event_hdr *e)
{
	const struct fc_series *s = series_by_id(w, e->key, e->cell);
	char comm[FC_COMM_LEN + 1];

	snprintf(comm, sizeof(comm), "%.*s", FC_COMM_LEN, e->comm);
	fprintf(v->out, "{\"type\":\"%s\",\"metric\":", e->type == FC_EV_ERROR ? "error" : "state");
	json_str(v->out, s ? s->kind->name : "?");
	fprintf(v->out, ",\"key\":");
	json_str(v->out, s ? s->key : "");
	fprintf(v->out, ",\"cell\":");
	json_str(v->out, e->cell < v->core->ncells ? v->core->cells[e->cell].rel : "?");
	fprintf(v->out,
		",\"errno\":%d,\"errname\":\"%s\",\"value_ns\":%llu,\"pid\":%u,\"tid\":%u,"
		"\"comm\":",
		e->err, e->err ? errname(e->err) : "", (unsigned long long)e->value, e->pid,
		e->tid);
	json_str(v->out, comm);
	fputc('}', v->out);
}

static void show_json(struct fc_view *v, const struct fc_window *w)
{
	FILE *f = v->out;
	char comm[FC_COMM_LEN + 1];
	int i, p;

	fprintf(f,
		"{\"window\":%llu,\"wall_ns\":%llu,\"interval_s\":%.6f,\"events\":%llu,"
		"\"rb_fail\":%llu,\"rb_fail_total\":%llu,\"store_fail\":%llu,\"series\":[",
		(unsigned long long)w->seq, (unsigned long long)w->wall_ns, w->interval_s,
		(unsigned long long)w->events, (unsigned long long)w->rb_fail,
		(unsigned long long)w->rb_fail_total, (unsigned long long)w->store_fail);
	for (i = 0; i < w->n; i++) {
		const struct fc_series *s = &w->s[i];
		bool any = s->sum.count > 0, lat = s->kind->npow > 0;

		fprintf(f, "%s{\"metric\":", i ? "," : "");
		json_str(f, s->kind->name);
		fprintf(f, ",\"key\":");
		json_str(f, s->key);
		fprintf(f, ",\"cell\":");
		json_str(f, v->core->cells[s->cell].rel);
		fprintf(f, ",\"unit\":\"%s\",\"count\":%llu,\"rate\":%.6g", s->kind->unit,
			(unsigned long long)s->sum.count, s->sum.rate);
		json_num(f, "mean", s->sum.mean, any && lat);
		json_num(f, "max", s->sum.max, any && lat);
		for (p = 0; p < FC_NPCT; p++)
			json_num(f, fc_pct_name[p], s->sum.pct[p],
				 lat && !(s->sum.no_data & (1U << p)));
		fprintf(f, ",\"no_data\":[");
		for (p = 0; lat && p < FC_NPCT; p++)
			if (s->sum.no_data & (1U << p))
				fprintf(f, "%s\"%s\"",
					(s->sum.no_data & ((1U << p) - 1)) ? "," : "",
					fc_pct_name[p]);
		fputc(']', f);
		if (s->has_exemplar) {
			snprintf(comm, sizeof(comm), "%.*s", FC_COMM_LEN, s->exemplar.comm);
			fprintf(f, ",\"exemplar\":{\"value\":%llu,\"pid\":%u,\"tid\":%u,\"comm\":",
				(unsigned long long)s->exemplar.value, s->exemplar.pid,
				s->exemplar.tid);
			json_str(f, comm);
			fputc('}', f);
		}
		fputc('}', f);
	}
	fprintf(f, "],\"events_shown\":[");
	for (i = 0; i < v->nev; i++) {
		if (i)
			fputc(',', f);
		json_event(v, w, &v->ev[i]);
	}
	fprintf(f, "],\"events_not_shown\":%llu}\n", (unsigned long long)v->ev_dropped);
}

static void stat_cell(char *buf, size_t len, const struct fc_series *s, int p)
{
	if (!s->kind->npow || (s->sum.no_data & (1U << p)))
		snprintf(buf, len, "-");
	else
		fc_fmt_ns(s->sum.pct[p], buf, len);
}

static void show_table(struct fc_view *v, const struct fc_window *w)
{
	char pct[FC_NPCT][16], mean[16], max[16], when[32];
	time_t secs = (time_t)(w->wall_ns / 1000000000ULL);
	struct tm tm;
	int i, p;

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(v->out, "\nwindow %llu  %s  %.2fs  events %llu  ringbuf-fail %llu\n",
		(unsigned long long)w->seq, when, w->interval_s, (unsigned long long)w->events,
		(unsigned long long)w->rb_fail);
	fprintf(v->out, "%-20s %-12s %-16s %8s %9s %9s %9s %9s %9s %9s %9s\n", "METRIC", "KEY",
		"CELL", "COUNT", "RATE/s", "MEAN", "P50", "P90", "P99", "P999", "MAX");
	for (i = 0; i < w->n; i++) {
		const struct fc_series *s = &w->s[i];
		bool lat = s->kind->npow && s->sum.count;

		for (p = 0; p < FC_NPCT; p++)
			stat_cell(pct[p], sizeof(pct[p]), s, p);
		if (lat) {
			fc_fmt_ns(s->sum.mean, mean, sizeof(mean));
			fc_fmt_ns(s->sum.max, max, sizeof(max));
		} else {
			snprintf(mean, sizeof(mean), "-");
			snprintf(max, sizeof(max), "-");
		}
		fprintf(v->out, "%-20s %-12.12s %-16s %8llu %9.1f %9s %9s %9s %9s %9s %9s\n",
			s->kind->name, s->key[0] ? s->key : "-", cell_name(v, s->cell),
			(unsigned long long)s->sum.count, s->sum.rate, mean, pct[0], pct[1], pct[2],
			pct[3], max);
	}
	for (i = 0; i < w->n; i++) {
		const struct fc_series *s = &w->s[i];
		char comm[FC_COMM_LEN + 1];

		if (!s->has_exemplar)
			continue;
		fc_fmt_ns((double)s->exemplar.value, max, sizeof(max));
		snprintf(comm, sizeof(comm), "%.*s", FC_COMM_LEN, s->exemplar.comm);
		fprintf(v->out, "  slowest %s %s in %s: %s pid %u tid %u (%s)\n", s->kind->name,
			s->key, cell_name(v, s->cell), max, s->exemplar.pid, s->exemplar.tid, comm);
	}
	/* a person reads a few; --json carries up to FC_VIEW_EVENTS */
	for (i = 0; i < v->nev && i < 5; i++) {
		const struct fc_event_hdr *e = &v->ev[i];
		const struct fc_series *s = series_by_id(w, e->key, e->cell);
		char comm[FC_COMM_LEN + 1];

		snprintf(comm, sizeof(comm), "%.*s", FC_COMM_LEN, e->comm);
		fc_fmt_ns((double)e->value, max, sizeof(max));
		fprintf(v->out, "  %s %s %s in %s: %s%s%s pid %u (%s)\n",
			e->type == FC_EV_ERROR ? "error" : "state", s ? s->kind->name : "?",
			s ? s->key : "", e->cell < v->core->ncells ? cell_name(v, e->cell) : "?",
			e->err ? errname(e->err) : "", e->type == FC_EV_STATE ? " after " : "",
			e->type == FC_EV_STATE ? max : "", e->pid, comm);
	}
	if (v->ev_dropped + v->nev > 5)
		fprintf(v->out, "  (+%llu more events)\n",
			(unsigned long long)(v->ev_dropped + v->nev - 5));
}

/* One histogram per (metric, key): a row per power of two, the cells side by side. */
static void show_hist(struct fc_view *v, const struct fc_window *w)
{
	int i, j, c, p, cols[FC_MAX_CELLS], ncols, lo, hi;
	uint64_t rowc[FC_MAX_CELLS], top;
	char a[16], b[16], bar[BAR + 1];

	for (i = 0; i < w->n; i++) {
		const struct fc_series *s = &w->s[i];

		/* the first series of its (metric, key): gather the cells of that group */
		if (!s->kind->npow || s->cell != 0)
			continue;
		for (ncols = 0, j = i; j < w->n && w->s[j].id == s->id; j++)
			cols[ncols++] = j;
		lo = 64;
		hi = -1;
		top = 0;
		for (c = 0; c < ncols; c++) {
			const struct fc_hsnap *h = w->s[cols[c]].win;

			for (p = 0; p < h->npow; p++) {
				uint64_t sum = 0;

				for (j = 0; j < (int)FC_HIST_SUB; j++)
					sum += h->b[p * FC_HIST_SUB + j];
				if (!sum)
					continue;
				lo = p < lo ? p : lo;
				hi = p > hi ? p : hi;
				top = sum > top ? sum : top;
			}
		}
		if (hi < 0)
			continue;
		fprintf(v->out, "  %s %s\n  %-21s", s->kind->name, s->key, "");
		for (c = 0; c < ncols; c++)
			fprintf(v->out, " %-*s", BAR + 9, cell_name(v, w->s[cols[c]].cell));
		fputc('\n', v->out);
		for (p = lo; p <= hi; p++) {
			fc_fmt_ns((double)(1ULL << (s->win->lo_pow + p)), a, sizeof(a));
			fc_fmt_ns((double)(1ULL << (s->win->lo_pow + p + 1)), b, sizeof(b));
			fprintf(v->out, "  %9s - %-9s", a, b);
			for (c = 0; c < ncols; c++) {
				const struct fc_hsnap *h = w->s[cols[c]].win;
				int len;

				rowc[c] = 0;
				for (j = 0; j < (int)FC_HIST_SUB; j++)
					rowc[c] += h->b[p * FC_HIST_SUB + j];
				len = top ? (int)((rowc[c] * BAR + top - 1) / top) : 0;
				memset(bar, '#', len);
				bar[len] = 0;
				fprintf(v->out, " %-*s %8llu", BAR, bar,
					(unsigned long long)rowc[c]);
			}
			fputc('\n', v->out);
		}
	}
}

void fc_view_window(struct fc_view *v, const struct fc_window *w)
{
	if (v->json)
		show_json(v, w);
	else {
		show_table(v, w);
		if (v->hist)
			show_hist(v, w);
	}
	fflush(v->out);
	v->nev = 0;
	v->ev_dropped = 0;
}

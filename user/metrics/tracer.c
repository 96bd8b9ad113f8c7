// SPDX-License-Identifier: BSD-2-Clause
/*
 * The tracer: lays out the rows of every asked (metric, key) in its family's per-CPU array,
 * loads and attaches the families, and turns two snapshots of those rows into a window.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/control.h"
#include "core/log.h"
#include "core/util.h"
#include "metrics/family.h"
#include "metrics/tracer.h"

#define FC_MAX_FAMILIES 4
#define FC_MAX_SLOTS	256

struct fc_tracer {
	struct fc_tracer_opts o;
	struct fc_core *core;
	struct fc_tslot *slots[FC_MAX_SLOTS];
	int nslots;
	struct fc_family fams[FC_MAX_FAMILIES];
	int nfams;
	struct ring_buffer *rb;
	int ncpu, ncells, nseries;
	struct fc_series *series;
	struct fc_hsnap *cur, *prev, *win; /* per series */
	struct fc_event_hdr *ex;	   /* the current window's largest exemplar per series */
	bool *has_ex;
	struct fc_hist_row *rowbuf;
	uint32_t *keybuf;
	uint32_t maxrows;
	uint64_t gen, seq, last_t, rb_fail_prev, store_fail_prev, events;
	bool loaded, attached;
	char err[512];
};

struct fc_tslot *fc_tracer_add_slot(struct fc_tracer *t, const struct fc_metric_kind *k,
				    const char *key, uint32_t arg)
{
	struct fc_tslot *s;

	if (t->nslots >= FC_MAX_SLOTS)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->kind = k;
	snprintf(s->key, sizeof(s->key), "%s", key ?: "");
	s->arg = arg;
	s->hs.id = t->nslots;
	t->slots[t->nslots++] = s;
	return s;
}

int fc_tracer_count_slots(struct fc_tracer *t, const struct fc_metric_kind *k)
{
	int i, n = 0;

	for (i = 0; i < t->nslots; i++)
		n += t->slots[i]->kind == k;
	return n;
}

static struct fc_family *family_of(struct fc_tracer *t, const struct fc_family_ops *ops)
{
	int i;

	for (i = 0; i < t->nfams; i++)
		if (t->fams[i].ops == ops)
			return &t->fams[i];
	if (t->nfams >= FC_MAX_FAMILIES)
		return NULL;
	t->fams[t->nfams].ops = ops;
	t->fams[t->nfams].hist_fd = -1;
	return &t->fams[t->nfams++];
}

const char *fc_tracer__error(const struct fc_tracer *t)
{
	return t->err;
}

struct fc_tracer *fc_tracer__new(const struct fc_tracer_opts *opts, char *why, size_t whylen)
{
	const struct fc_metric_kind *k;
	struct fc_tracer *t;
	char near[256];
	int i, err, before;

	t = calloc(1, sizeof(*t));
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(&t->o, opts, opts->sz < sizeof(t->o) ? opts->sz : sizeof(t->o));
	t->core = t->o.core;
	t->ncells = t->core ? t->core->ncells : 0;
	if (!t->o.min_samples)
		t->o.min_samples = 1;
	if (!t->ncells) {
		snprintf(why, whylen, "no cell to trace (add one with --cell)");
		err = -EINVAL;
		goto err_out;
	}
	for (i = 0; i < t->o.nreqs; i++) {
		k = fc_metric_kind_find(t->o.reqs[i].kind);
		if (!k) {
			fc_metric_kind_suggest(t->o.reqs[i].kind, near, sizeof(near));
			snprintf(why, whylen, "unknown metric '%s'%s%s%s", t->o.reqs[i].kind,
				 near[0] ? " (did you mean: " : "", near, near[0] ? "?)" : "");
			err = -EINVAL;
			goto err_out;
		}
		before = t->nslots;
		err = k->family->parse(t, k, t->o.reqs[i].key, why, whylen);
		if (err)
			goto err_out;
		if (t->nslots == before) {
			snprintf(why, whylen, "metric '%s': no key selected", k->name);
			err = -EINVAL;
			goto err_out;
		}
	}
	if (!t->nslots) {
		snprintf(why, whylen, "no metric to trace");
		err = -EINVAL;
		goto err_out;
	}
	return t;
err_out:
	fc_tracer__destroy(t);
	errno = -err;
	return NULL;
}

/* Rows per family: every slot gets (1 + npow) rows per cell, in slot order. */
static int layout(struct fc_tracer *t)
{
	struct fc_family *f;
	struct fc_tslot *s;
	int i;

	for (i = 0; i < t->nslots; i++) {
		s = t->slots[i];
		f = family_of(t, s->kind->family);
		if (!f)
			return -E2BIG;
		s->fam = f;
		s->hs.lo_pow = s->kind->lo_pow;
		s->hs.npow = s->kind->npow;
		s->hs.stride = 1 + s->kind->npow;
		s->hs.base = f->rows;
		f->rows += (uint32_t)s->hs.stride * t->ncells;
		if (f->rows > t->maxrows)
			t->maxrows = f->rows;
	}
	return 0;
}

static int alloc_series(struct fc_tracer *t)
{
	int i, c, n = t->nslots * t->ncells, err;
	struct fc_tslot *s;

	t->nseries = n;
	t->series = calloc(n, sizeof(*t->series));
	t->cur = calloc(n, sizeof(*t->cur));
	t->prev = calloc(n, sizeof(*t->prev));
	t->win = calloc(n, sizeof(*t->win));
	t->ex = calloc(n, sizeof(*t->ex));
	t->has_ex = calloc(n, sizeof(*t->has_ex));
	t->rowbuf = calloc((size_t)t->maxrows * t->ncpu, sizeof(*t->rowbuf));
	t->keybuf = calloc(t->maxrows, sizeof(*t->keybuf));
	if (!t->series || !t->cur || !t->prev || !t->win || !t->ex || !t->has_ex || !t->rowbuf ||
	    !t->keybuf)
		return -ENOMEM;
	for (i = 0; i < t->nslots; i++) {
		s = t->slots[i];
		for (c = 0; c < t->ncells; c++) {
			int j = i * t->ncells + c;

			err = fc_hsnap_init(&t->cur[j], s->hs.lo_pow, s->hs.npow);
			err = err ?: fc_hsnap_init(&t->prev[j], s->hs.lo_pow, s->hs.npow);
			err = err ?: fc_hsnap_init(&t->win[j], s->hs.lo_pow, s->hs.npow);
			if (err)
				return err;
			t->series[j].cell = c;
			t->series[j].kind = s->kind;
			t->series[j].key = s->key;
			t->series[j].id = s->hs.id;
			t->series[j].win = &t->win[j];
			t->series[j].total = &t->cur[j];
		}
	}
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct fc_event_hdr *e = data;
	struct fc_tracer *t = ctx;
	int j;

	t->events++;
	if (size < sizeof(*e))
		return 0;
	/* exemplars of our own series: keep the window's largest (each CPU reports its own) */
	if (e->type == FC_EV_EXEMPLAR && e->metric && e->key < (uint32_t)t->nslots &&
	    t->slots[e->key]->kind->id == e->metric && e->cell < t->ncells) {
		j = e->key * t->ncells + e->cell;
		if (!t->has_ex[j] || e->value > t->ex[j].value) {
			t->ex[j] = *e;
			t->has_ex[j] = true;
		}
	}
	if (t->o.on_event)
		t->o.on_event(t->o.ctx, e, size);
	return 0;
}

int fc_tracer__load(struct fc_tracer *t)
{
	struct fc_tslot *mine[FC_MAX_SLOTS];
	struct fc_family *f;
	struct bpf_map *m;
	int i, j, n, err;

	t->ncpu = libbpf_num_possible_cpus();
	if (t->ncpu < 0)
		return t->ncpu;
	err = layout(t);
	err = err ?: alloc_series(t);
	if (err)
		return err;
	for (i = 0; i < t->nfams; i++) {
		f = &t->fams[i];
		for (n = 0, j = 0; j < t->nslots; j++)
			if (t->slots[j]->fam == f)
				mine[n++] = t->slots[j];
		err = f->ops->open(f);
		if (err) {
			snprintf(t->err, sizeof(t->err), "cannot open the %s tracer: %s",
				 f->ops->name, strerror(-err));
			return err;
		}
		err = fc_core_prepare(t->core, f->obj);
		m = bpf_object__find_map_by_name(f->obj, "fc_hist");
		if (!err && m)
			err = bpf_map__set_max_entries(m, f->rows ?: 1);
		err = err ?: f->ops->configure(f, mine, n);
		if (err) {
			snprintf(t->err, sizeof(t->err), "cannot prepare the %s tracer: %s",
				 f->ops->name, strerror(-err));
			return err;
		}
		err = f->ops->load(f);
		if (err) {
			/* the verifier or a missing hook: the kernel lacks what this family needs
			 */
			snprintf(t->err, sizeof(t->err),
				 "the kernel refused the %s tracer: %s (run 'faultcell probe')",
				 f->ops->name, strerror(-err));
			return -EOPNOTSUPP;
		}
		f->hist_fd = m ? bpf_map__fd(m) : -1;
	}
	t->rb = ring_buffer__new(t->core->events_fd, on_event, t, NULL);
	if (!t->rb) {
		err = -errno;
		snprintf(t->err, sizeof(t->err), "cannot read the event ring buffer: %s",
			 strerror(-err));
		return err;
	}
	/* loading parses the kernel's BTF (MBs) per object; give it back before steady state (P8)
	 */
	malloc_trim(0);
	t->loaded = true;
	return 0;
}

int fc_tracer__attach(struct fc_tracer *t)
{
	struct fc_tslot *mine[FC_MAX_SLOTS];
	struct fc_family *f;
	int i, j, n, err;

	if (!t->loaded)
		return -EINVAL;
	for (i = 0; i < t->nfams; i++) {
		f = &t->fams[i];
		for (n = 0, j = 0; j < t->nslots; j++)
			if (t->slots[j]->fam == f)
				mine[n++] = t->slots[j];
		err = f->ops->attach(f, mine, n);
		if (err) {
			char why[256];

			/* a missing hook (no uprobe PMU, no tracepoint) is the kernel's: exit 4 */
			if (f->ops->check(why, sizeof(why)) == -EOPNOTSUPP) {
				snprintf(t->err, sizeof(t->err), "cannot attach the %s tracer: %s",
					 f->ops->name, why);
				return -EOPNOTSUPP;
			}
			snprintf(t->err, sizeof(t->err), "cannot attach the %s tracer: %s%s%s",
				 f->ops->name, strerror(-err), f->why[0] ? ": " : "", f->why);
			return err;
		}
	}
	t->attached = true;
	t->last_t = fc_now_ns();
	return 0;
}

int fc_tracer__poll(struct fc_tracer *t)
{
	return t->rb ? ring_buffer__consume(t->rb) : 0;
}

/* Sum one family's per-CPU rows into the cumulative snapshots of its series. */
static int read_family(struct fc_tracer *t, struct fc_family *f, uint64_t gen)
{
	__u32 count, done = 0, out = 0;
	const struct fc_hist_row *r, *h;
	struct fc_hsnap *c;
	unsigned int parity = gen & 1;
	void *in = NULL;
	int i, cell, cpu, p, err;

	/* one batch syscall for the whole map instead of one lookup per row */
	while (done < f->rows) {
		count = f->rows - done;
		err = bpf_map_lookup_batch(f->hist_fd, in, &out, t->keybuf + done,
					   t->rowbuf + (size_t)done * t->ncpu, &count, NULL);
		if (err && errno != ENOENT)
			return -errno;
		done += count;
		in = &out;
		if (err || !count)
			break;
	}
	if (done < f->rows)
		return -EIO;
	for (i = 0; i < t->nslots; i++) {
		struct fc_tslot *s = t->slots[i];

		if (s->fam != f)
			continue;
		for (cell = 0; cell < t->ncells; cell++) {
			uint32_t base = s->hs.base + cell * s->hs.stride;

			c = &t->cur[i * t->ncells + cell];
			fc_hsnap_reset(c);
			t->win[i * t->ncells + cell].max = 0;
			for (cpu = 0; cpu < t->ncpu; cpu++) {
				h = &t->rowbuf[(size_t)base * t->ncpu + cpu];
				c->count += h->w[FC_HH_COUNT];
				c->sum += h->w[FC_HH_SUM];
				c->under += h->w[FC_HH_UNDER];
				c->over += h->w[FC_HH_OVER];
				if (h->w[FC_HH_MAX] > c->max)
					c->max = h->w[FC_HH_MAX];
				if (h->w[FC_HH_WGEN0 + parity] == gen &&
				    h->w[FC_HH_WMAX0 + parity] > t->win[i * t->ncells + cell].max)
					t->win[i * t->ncells + cell].max =
					    h->w[FC_HH_WMAX0 + parity];
				for (p = 0; p < s->hs.npow; p++) {
					r = &t->rowbuf[(size_t)(base + 1 + p) * t->ncpu + cpu];
					for (unsigned int b = 0; b < FC_HIST_SUB; b++)
						c->b[p * FC_HIST_SUB + b] += r->w[b];
				}
			}
		}
	}
	return 0;
}

static void obj_fail_counts(struct fc_tracer *t, uint64_t *rb_fail, uint64_t *store_fail)
{
	uint64_t st[FC_STAT_MAX];
	int i;

	*rb_fail = *store_fail = 0;
	for (i = 0; i < t->nfams; i++) {
		if (!t->fams[i].obj || fc_obj_stats(t->fams[i].obj, st))
			continue;
		*rb_fail += st[FC_STAT_RB_FAIL];
		*store_fail += st[FC_TS_STORE_FAIL];
	}
}

int fc_tracer__snapshot(struct fc_tracer *t, struct fc_window *w)
{
	uint64_t gen = t->gen, now, rb_fail, store_fail;
	int i, err;

	if (!t->attached)
		return -EINVAL;
	/* close the window in the kernel first: new values go to the other max parity */
	for (i = 0; i < t->nfams; i++)
		if (t->fams[i].gen)
			*t->fams[i].gen = gen + 1;
	t->gen = gen + 1;
	now = fc_now_ns();
	fc_tracer__poll(t);
	for (i = 0; i < t->nfams; i++) {
		err = read_family(t, &t->fams[i], gen);
		if (err) {
			snprintf(t->err, sizeof(t->err), "cannot read the %s histograms: %s",
				 t->fams[i].ops->name, strerror(-err));
			return err;
		}
	}
	memset(w, 0, sizeof(*w));
	w->seq = ++t->seq;
	w->t_ns = now;
	w->wall_ns = fc_wall_ns();
	w->interval_s = (double)(now - t->last_t) / 1e9;
	t->last_t = now;
	for (i = 0; i < t->nseries; i++) {
		uint64_t wmax = t->win[i].max;

		fc_hsnap_diff(&t->win[i], &t->cur[i], &t->prev[i]);
		/* counters have no per-window max in the kernel: it is the count itself */
		t->win[i].max = t->win[i].npow ? wmax : 0;
		fc_hsnap_copy(&t->prev[i], &t->cur[i]);
		fc_hsnap_summary(&t->win[i], w->interval_s, t->o.min_samples, &t->series[i].sum);
		t->series[i].has_exemplar = t->has_ex[i];
		if (t->has_ex[i])
			t->series[i].exemplar = t->ex[i];
		t->has_ex[i] = false;
	}
	obj_fail_counts(t, &rb_fail, &store_fail);
	w->rb_fail = rb_fail - t->rb_fail_prev;
	w->rb_fail_total = rb_fail;
	w->store_fail = store_fail - t->store_fail_prev;
	t->rb_fail_prev = rb_fail;
	t->store_fail_prev = store_fail;
	w->events = t->events;
	t->events = 0;
	w->n = t->nseries;
	w->s = t->series;
	return 0;
}

const struct fc_series *fc_window_find(const struct fc_window *w, const char *kind, const char *key,
				       int cell)
{
	for (int i = 0; i < w->n; i++)
		if (w->s[i].cell == cell && !strcmp(w->s[i].kind->name, kind) &&
		    !strcmp(w->s[i].key, key ?: ""))
			return &w->s[i];
	return NULL;
}

uint64_t fc_tracer__hist_bytes(const struct fc_tracer *t)
{
	uint64_t rows = 0;
	int i, ncpu = libbpf_num_possible_cpus();

	for (i = 0; i < t->nslots; i++)
		rows += (uint64_t)(1 + t->slots[i]->kind->npow) * t->ncells;
	return fc_hist_mem_bytes(rows, FC_HIST_ROW_WORDS, ncpu > 0 ? ncpu : 1);
}

struct bpf_object *fc_tracer__object(const struct fc_tracer *t, int i)
{
	return i >= 0 && i < t->nfams ? t->fams[i].obj : NULL;
}

void fc_tracer__destroy(struct fc_tracer *t)
{
	int i;

	if (!t)
		return;
	ring_buffer__free(t->rb);
	for (i = 0; i < t->nfams; i++)
		if (t->fams[i].ops)
			t->fams[i].ops->destroy(&t->fams[i]);
	for (i = 0; i < t->nseries; i++) {
		fc_hsnap_free(&t->cur[i]);
		fc_hsnap_free(&t->prev[i]);
		fc_hsnap_free(&t->win[i]);
	}
	for (i = 0; i < t->nslots; i++) {
		free(t->slots[i]->path);
		free(t->slots[i]->sym);
		free(t->slots[i]);
	}
	free(t->series);
	free(t->cur);
	free(t->prev);
	free(t->win);
	free(t->ex);
	free(t->has_ex);
	free(t->rowbuf);
	free(t->keybuf);
	free(t);
}

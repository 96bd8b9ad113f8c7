// SPDX-License-Identifier: BSD-2-Clause
/*
 * The condition evaluator: Kleene three-valued logic over a window history (design.md §6).
 * No data is unknown, never zero: an empty window, too few samples, x/0, a source that stopped
 * answering, or less history than an `over`/`burn` span needs.
 */
#include <errno.h>
#include <math.h>

#include "engine/cond.h"

struct val {
	double v;
	bool ok;
};

static const struct val unknown = { 0, false };

int fc_history_agg(const struct fc_history *s, int from, int to, enum fc_agg how, double *out)
{
	double acc = 0, wsum = 0, x, w;
	int have = 0;

	if (!s || to <= from || to > s->n)
		return -ENODATA;
	/* a source with its own history (Prometheus) may answer for windows before the run */
	if (s->aggregate)
		return s->aggregate(s, from, to, how, out, s->arg);
	if (from < 0)
		return -ENODATA;
	for (int i = from; i < to; i++) {
		if (s->nodata && s->nodata[i])
			continue;
		x = s->value[i];
		w = s->samples ? s->samples[i] : 1;
		if (!isfinite(x))
			continue;
		switch (how) {
		case FC_AGG_MEAN:
			if (w <= 0)
				continue;
			acc += w * x;
			wsum += w;
			break;
		case FC_AGG_SUM:
			acc += x;
			break;
		case FC_AGG_MAX:
			acc = have && acc > x ? acc : x;
			break;
		case FC_AGG_MIN:
			acc = have && acc < x ? acc : x;
			break;
		case FC_AGG_LAST:
			acc = x;
			break;
		}
		have++;
	}
	/* a span mostly without data says nothing about the span */
	if (!have || 2 * have < to - from)
		return -ENODATA;
	if (how == FC_AGG_MEAN) {
		if (wsum <= 0)
			return -ENODATA;
		acc /= wsum;
	}
	*out = acc;
	return 0;
}

static int span_windows(const struct fc_eval_ctx *ctx, uint64_t ns)
{
	uint64_t w = ctx->window_ns ? ctx->window_ns : 1000000000ULL;

	return ns ? (int)((ns + w - 1) / w) : 1;
}

static struct val ref_value(const struct fc_cond_node *n, const struct fc_eval_ctx *ctx, int w,
			    int span)
{
	const struct fc_history *s;
	struct val r = unknown;
	int from = w - span + 1, to = w + 1;

	if (n->metric < 0 || n->metric >= ctx->nmetrics)
		return unknown;
	if (n->scope == FC_SCOPE_CONTROL)
		s = ctx->control ? ctx->control[n->metric] : NULL;
	else
		s = ctx->cell ? ctx->cell[n->metric] : NULL;
	if (!s)
		return unknown;
	if (n->scope == FC_SCOPE_BASELINE) {
		/* the baseline is complete or it is not a baseline yet */
		from = ctx->baseline_from;
		to = ctx->baseline_to;
		if (to > w + 1)
			return unknown;
	}
	if (span == 1 && n->scope != FC_SCOPE_BASELINE) {
		if (w < 0 || w >= s->n || (s->nodata && s->nodata[w]) || !isfinite(s->value[w]))
			return unknown;
		r.v = s->value[w];
		r.ok = true;
		return r;
	}
	r.ok = !fc_history_agg(s, from, to, s->agg, &r.v);
	return r;
}

/*
 * (errors/total over W) / (1 - objective): from the source's own history when the context has
 * one (Prometheus), else from the window history including the baseline
 */
static struct val burn_value(const struct fc_cond_node *n, const struct fc_eval_ctx *ctx, int w)
{
	int span = span_windows(ctx, n->ns), from = w - span + 1;
	const struct fc_history *e, *t;
	double errs, total;
	struct val r = unknown;

	if (ctx->slo_errors < 0 || ctx->slo_total < 0 || ctx->slo_errors >= ctx->nmetrics ||
	    ctx->slo_total >= ctx->nmetrics || ctx->slo_objective >= 1 || !ctx->cell)
		return unknown;
	if (ctx->burn_ratio) {
		int err = ctx->burn_ratio(n->ns, w, &errs, ctx->burn_arg);

		if (err == -ENODATA)
			return unknown;
		if (!err) {
			r.v = errs / (1 - ctx->slo_objective);
			r.ok = isfinite(r.v);
			return r;
		}
	}
	e = ctx->cell[ctx->slo_errors];
	t = ctx->cell[ctx->slo_total];
	if (fc_history_agg(e, from, w + 1, FC_AGG_SUM, &errs) ||
	    fc_history_agg(t, from, w + 1, FC_AGG_SUM, &total) || total <= 0)
		return unknown;
	r.v = errs / total / (1 - ctx->slo_objective);
	r.ok = isfinite(r.v);
	return r;
}

static enum fc_tri eval_bool(const struct fc_cond *c, int i, const struct fc_eval_ctx *ctx, int w,
			     int span);

static struct val eval_val(const struct fc_cond *c, int i, const struct fc_eval_ctx *ctx, int w,
			   int span)
{
	const struct fc_cond_node *n = &c->nodes[i];
	struct val a, b, r = unknown;

	switch (n->op) {
	case FC_OP_NUM:
		r.v = n->num;
		r.ok = true;
		return r;
	case FC_OP_REF:
		return ref_value(n, ctx, w, span);
	case FC_OP_BURN:
		return burn_value(n, ctx, w);
	case FC_OP_NEG:
		a = eval_val(c, n->a, ctx, w, span);
		a.v = -a.v;
		return a;
	case FC_OP_ADD:
	case FC_OP_SUB:
	case FC_OP_MUL:
	case FC_OP_DIV:
		a = eval_val(c, n->a, ctx, w, span);
		b = eval_val(c, n->b, ctx, w, span);
		if (!a.ok || !b.ok)
			return unknown;
		if (n->op == FC_OP_ADD)
			r.v = a.v + b.v;
		else if (n->op == FC_OP_SUB)
			r.v = a.v - b.v;
		else if (n->op == FC_OP_MUL)
			r.v = a.v * b.v;
		else if (b.v == 0)
			return unknown; /* x/0 is no data, not infinity */
		else
			r.v = a.v / b.v;
		r.ok = isfinite(r.v);
		return r;
	default:
		/* a condition where a value is wanted: refused by the type checker */
		return unknown;
	}
}

static enum fc_tri kleene_and(enum fc_tri a, enum fc_tri b)
{
	if (a == FC_FALSE || b == FC_FALSE)
		return FC_FALSE;
	if (a == FC_TRUE && b == FC_TRUE)
		return FC_TRUE;
	return FC_UNKNOWN;
}

static enum fc_tri kleene_or(enum fc_tri a, enum fc_tri b)
{
	if (a == FC_TRUE || b == FC_TRUE)
		return FC_TRUE;
	if (a == FC_FALSE && b == FC_FALSE)
		return FC_FALSE;
	return FC_UNKNOWN;
}

static enum fc_tri compare(enum fc_cond_op op, struct val a, struct val b)
{
	bool r;

	if (!a.ok || !b.ok)
		return FC_UNKNOWN;
	switch (op) {
	case FC_OP_LT:
		r = a.v < b.v;
		break;
	case FC_OP_LE:
		r = a.v <= b.v;
		break;
	case FC_OP_GT:
		r = a.v > b.v;
		break;
	case FC_OP_GE:
		r = a.v >= b.v;
		break;
	case FC_OP_EQ:
		r = a.v == b.v;
		break;
	default:
		r = a.v != b.v;
		break;
	}
	return r ? FC_TRUE : FC_FALSE;
}

/*
 * `X for N windows`: true when X held in each of the last N windows of this phase, false as
 * soon as one of them is false or fewer than N windows have passed, unknown otherwise (some
 * windows true, the rest unknown: fail closed counts those as bad).
 */
static enum fc_tri eval_for(const struct fc_cond *c, const struct fc_cond_node *n,
			    const struct fc_eval_ctx *ctx, int w, int span)
{
	enum fc_tri r = FC_TRUE, x;
	int from = w - n->nwin + 1;

	if (n->nwin < 1 || from < ctx->first_window || from < 0)
		return FC_FALSE;
	for (int k = w; k >= from; k--) {
		x = eval_bool(c, n->a, ctx, k, span);
		if (x == FC_FALSE)
			return FC_FALSE;
		if (x == FC_UNKNOWN)
			r = FC_UNKNOWN;
	}
	return r;
}

static enum fc_tri eval_bool(const struct fc_cond *c, int i, const struct fc_eval_ctx *ctx, int w,
			     int span)
{
	const struct fc_cond_node *n = &c->nodes[i];
	enum fc_tri a;

	switch (n->op) {
	case FC_OP_LT:
	case FC_OP_LE:
	case FC_OP_GT:
	case FC_OP_GE:
	case FC_OP_EQ:
	case FC_OP_NE:
		return compare(n->op, eval_val(c, n->a, ctx, w, span),
			       eval_val(c, n->b, ctx, w, span));
	case FC_OP_NOT:
		a = eval_bool(c, n->a, ctx, w, span);
		return a == FC_UNKNOWN ? FC_UNKNOWN : a == FC_TRUE ? FC_FALSE : FC_TRUE;
	case FC_OP_AND:
		a = eval_bool(c, n->a, ctx, w, span);
		if (a == FC_FALSE)
			return FC_FALSE;
		return kleene_and(a, eval_bool(c, n->b, ctx, w, span));
	case FC_OP_OR:
		a = eval_bool(c, n->a, ctx, w, span);
		if (a == FC_TRUE)
			return FC_TRUE;
		return kleene_or(a, eval_bool(c, n->b, ctx, w, span));
	case FC_OP_OVER:
		/* every metric below is aggregated over the last D; too little history: unknown */
		return eval_bool(c, n->a, ctx, w, span_windows(ctx, n->ns));
	case FC_OP_FOR:
		return eval_for(c, n, ctx, w, span);
	default:
		return FC_UNKNOWN;
	}
}

enum fc_tri fc_cond_eval(const struct fc_cond *c, const struct fc_eval_ctx *ctx, int w)
{
	if (!c || !ctx || w < 0 || c->root < 0 || c->root >= c->n)
		return FC_UNKNOWN;
	return eval_bool(c, c->root, ctx, w, 1);
}

/* Wrap @i in `for n windows` unless it is one already; returns the new index or -1. */
static int wrap_for(struct fc_cond *c, int i, int n)
{
	struct fc_cond_node *f;

	if (c->nodes[i].op == FC_OP_FOR)
		return i;
	if (c->n >= FC_COND_MAX_NODES)
		return -1;
	f = &c->nodes[c->n];
	*f = (struct fc_cond_node){ .op = FC_OP_FOR,
				    .type = FC_VT_BOOL,
				    .a = i,
				    .b = -1,
				    .col = c->nodes[i].col,
				    .off = c->nodes[i].off,
				    .nwin = n,
				    .implicit = true,
				    .metric = -1 };
	return c->n++;
}

static int default_for(struct fc_cond *c, int *slot, int n)
{
	struct fc_cond_node *node = &c->nodes[*slot];
	int r1, r2, i;

	if (node->op == FC_OP_OR) {
		r1 = default_for(c, &node->a, n);
		if (r1 < 0)
			return r1;
		r2 = default_for(c, &c->nodes[*slot].b, n);
		return r2 < 0 ? r2 : r1 + r2;
	}
	if (node->op == FC_OP_FOR)
		return 0;
	i = wrap_for(c, *slot, n);
	if (i < 0)
		return -E2BIG;
	*slot = i;
	return 1;
}

int fc_cond_default_for(struct fc_cond *c, int n)
{
	return default_for(c, &c->root, n);
}

static int top_windows(const struct fc_cond *c, int i)
{
	const struct fc_cond_node *n = &c->nodes[i];
	int a, b;

	if (n->op == FC_OP_FOR)
		return n->nwin;
	if (n->op != FC_OP_OR)
		return 0;
	a = top_windows(c, n->a);
	b = top_windows(c, n->b);
	return a > b ? a : b;
}

int fc_cond_windows(const struct fc_cond *c)
{
	return top_windows(c, c->root);
}

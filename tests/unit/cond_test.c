// SPDX-License-Identifier: BSD-2-Clause
/* The condition language: trees, errors with their column, Kleene truth tables, windows. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "core/util.h"
#include "engine/cond.h"
#include "lib/test.h"

enum { M_P99, M_ERRORS, M_TOTAL, M_RATE, M_A, M_B, M_N };

static const char *const names[] = { "p99", "errors", "total", "rate", "a", "b", NULL };
static const enum fc_vtype types[] = { FC_VT_TIME,  FC_VT_COUNT,  FC_VT_COUNT,
				       FC_VT_RATIO, FC_VT_NUMBER, FC_VT_NUMBER };

static struct fc_cond_env env(void)
{
	return (struct fc_cond_env){ .names = names,
				     .types = types,
				     .have_slo = true,
				     .have_control = true,
				     .window_ns = NSEC_PER_SEC };
}

static struct fc_cond *parse(const char *text, struct fc_diags *d)
{
	struct fc_cond_env e = env();
	struct fc_cond *c = NULL;

	memset(d, 0, sizeof(*d));
	fc_cond_parse(text, &e, d, &c);
	return c;
}

FC_TEST(cond_parse_trees, TIER_UNIT)
{
	static const struct {
		const char *in, *tree;
	} cases[] = {
		{ "p99 < 800ms", "(< p99 800ms)" },
		{ "p99 > 2 * baseline.p99", "(> p99 (* 2 baseline.p99))" },
		{ "(p99 > 2 * baseline.p99) for 3 windows OR rate < 0.99",
		  "(or (for 3 (> p99 (* 2 baseline.p99))) (< rate 0.99))" },
		{ "a + b * 2 - 1 > 0", "(> (- (+ a (* b 2)) 1) 0)" },
		{ "a - b - 1 > 0", "(> (- (- a b) 1) 0)" },
		{ "a > 1 AND b > 2 OR a < 0", "(or (and (> a 1) (> b 2)) (< a 0))" },
		{ "a > 1 OR b > 2 AND a < 0", "(or (> a 1) (and (> b 2) (< a 0)))" },
		{ "NOT a > 1 over 5m", "(not (over 5m (> a 1)))" },
		{ "not (a > 1) and b >= -3", "(and (not (> a 1)) (>= b (- 3)))" },
		{ "errors / total > 0.5%", "(> (/ errors total) 0.5%)" },
		{ "burn(5m) > 14.4 AND burn(1h) > 6", "(and (> (burn 5m) 14.4) (> (burn 1h) 6))" },
		{ "control.rate != rate", "(!= control.rate rate)" },
		{ "a == 1 for 1 window", "(for 1 (== a 1))" },
		{ "p99 <= 1.5e-1s", "(<= p99 1.5e-1s)" },
	};
	struct fc_diags d;
	char buf[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fc_cond *c = parse(cases[i].in, &d);

		if (!ASSERT_OK_PTR(c, cases[i].in)) {
			fc_diags_print(&d, stderr);
			continue;
		}
		fc_cond_sexpr(c, buf, sizeof(buf));
		ASSERT_STREQ(buf, cases[i].tree, cases[i].in);
		fc_cond_free(c);
	}
}

FC_TEST(cond_implicit_lhs_and_format, TIER_UNIT)
{
	struct fc_cond_env e = env();
	struct fc_cond *c = NULL;
	struct fc_diags d = {};
	char buf[256];

	e.implicit_lhs = "rate";
	if (!ASSERT_OK(fc_cond_parse(">= 0.999 over 5m", &e, &d, &c), "parse"))
		return;
	fc_cond_sexpr(c, buf, sizeof(buf));
	ASSERT_STREQ(buf, "(over 5m (>= rate 0.999))", "leading comparator");
	ASSERT_EQ(c->max_over_ns, 300 * NSEC_PER_SEC, "longest over");
	fc_cond_format(c, buf, sizeof(buf));
	ASSERT_STREQ(buf, "rate >= 0.999 over 5m", "format");
	fc_cond_free(c);

	/* time scale: every duration shrinks */
	e.time_scale = 0.1;
	if (!ASSERT_OK(fc_cond_parse(">= 0.999 over 5m", &e, &d, &c), "parse scaled"))
		return;
	ASSERT_EQ(c->max_over_ns, 30 * NSEC_PER_SEC, "scaled over");
	fc_cond_free(c);

	c = parse("p99 > baseline.p99 * 1.2 OR (a - (b - 1)) / 2 > 1", &d);
	if (!ASSERT_OK_PTR(c, "parse"))
		return;
	ASSERT_EQ(fc_cond_default_for(c, 3), 2, "two bare operands wrapped");
	ASSERT_EQ(fc_cond_windows(c), 3, "N");
	fc_cond_format(c, buf, sizeof(buf));
	ASSERT_STREQ(buf,
		     "(p99 > baseline.p99 * 1.2) for 3 windows (default) OR "
		     "((a - (b - 1)) / 2 > 1) for 3 windows (default)",
		     "format with defaults");
	fc_cond_free(c);

	c = parse("(a > 1) for 5 windows OR b > 1", &d);
	if (!ASSERT_OK_PTR(c, "parse"))
		return;
	ASSERT_EQ(fc_cond_default_for(c, 3), 1, "only the bare operand");
	fc_cond_sexpr(c, buf, sizeof(buf));
	ASSERT_STREQ(buf, "(or (for 5 (> a 1)) (for 3 (> b 1)))", "tree");
	ASSERT_EQ(fc_cond_windows(c), 5, "largest N");
	fc_cond_free(c);
}

FC_TEST(cond_errors_with_column, TIER_UNIT)
{
	static const struct {
		const char *in;
		int col;
		const char *msg;
	} cases[] = {
		{ "p99 + 5% > 1s", 5, "cannot add a ratio to a time" },
		{ "p99 > 5%", 5, "cannot compare a time with a ratio" },
		{ "p99 > 800", 7, "a number without a unit next to a time" },
		{ "errors > 5%", 8, "cannot compare a count with a ratio" },
		{ "p99 * p99 > 1s", 5, "cannot multiply a time by a time" },
		{ "p99 < 800 ms", 11, "unexpected 'ms' after the condition" },
		{ "p99 < 800xs", 10, "unknown unit 'xs'" },
		{ "p99 < 1e999s", 7, "out of range" },
		{ "p99 <", 6, "expected a number, a metric or '(' at the end" },
		{ "p99 < 1s AND", 13, "at the end" },
		{ "(p99 < 1s", 10, "expected ')'" },
		{ "p99 < 1s)", 9, "unexpected ')'" },
		{ "p99 = 1s", 5, "'=' is not a comparison (use ==)" },
		{ "a > 1 && b > 1", 7, "'&' is not an operator (use AND)" },
		{ "a < b < 1", 7, "comparisons do not chain" },
		{ "p98 < 1s", 1, "undefined metric 'p98' (did you mean 'p99'?)" },
		{ "baseline.p98 < 1s", 1, "undefined metric 'p98'" },
		{ "foo.p99 < 1s", 1, "only baseline.NAME and control.NAME" },
		{ "a > 1 over 5", 12, "over needs a duration like 5m" },
		{ "a > 1 over 0s", 12, "must be longer than zero" },
		{ "a > 1 over 500ms", 12, "shorter than one window" },
		{ "a > 1 over 48h", 12, "longer than 24h" },
		{ "a > 1 for 0 windows", 11, "give a whole number from 1" },
		{ "a > 1 for 2.5 windows", 11, "give a whole number" },
		{ "a > 1 for 3", 12, "expected 'windows'" },
		{ "a over 5m", 1, "'over' needs a condition" },
		{ "a for 3 windows", 1, "'for' needs a condition" },
		{ "a AND b > 1", 1, "AND needs a condition" },
		{ "NOT a", 5, "NOT needs a condition" },
		{ "a + 1", 1, "this is a number, not a condition" },
		{ "(a > 1) + 1 > 2", 9, "'+' needs values on both sides" },
		{ "brun(5m) > 1", 1, "unknown function 'brun' (did you mean 'burn'?)" },
		{ "burn(5) > 1", 6, "burn() needs a duration" },
		{ "burn(5m, 1h) > 1", 1, "burn() takes one duration" },
		{ "mwu_p(p99, control.p99) < 0.01", 1, "not yet available: mwu_p" },
		{ "", 1, "empty condition" },
		{ ">= 0.999", 1, "expected a number, a metric or '(', got '>='" },
		{ "a > 1 # comment", 7, "unexpected character '#'" },
	};
	struct fc_diags d;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fc_cond *c = parse(cases[i].in, &d);

		ASSERT_TRUE(c == NULL, cases[i].in);
		fc_cond_free(c);
		int k;

		for (k = 0; k < d.n && !strstr(d.d[k].msg, cases[i].msg); k++)
			;
		if (!ASSERT_LT(k, d.n, cases[i].in)) {
			fc_diags_print(&d, stderr);
			continue;
		}
		ASSERT_EQ(d.d[k].col, cases[i].col, cases[i].in);
	}
}

FC_TEST(cond_errors_all_reported_and_file_columns, TIER_UNIT)
{
	struct fc_cond_env e = env();
	struct fc_cond *c = NULL;
	struct fc_diags d = {};

	/* two undefined names and a type error: all three at once */
	e.what = "abort_when";
	e.line = 12;
	e.col = 14;
	e.exact = true;
	ASSERT_EQ(fc_cond_parse("x > 1 OR y > 1 OR p99 > 5%", &e, &d, &c), -EINVAL, "invalid");
	if (!ASSERT_EQ(d.n, 3, "three errors"))
		return;
	ASSERT_EQ(d.d[0].line, 12, "line");
	ASSERT_EQ(d.d[0].col, 14, "x at the text's start");
	ASSERT_STRSTR(d.d[0].msg, "abort_when: undefined metric 'x'", "prefix");
	ASSERT_EQ(d.d[1].col, 23, "y");
	ASSERT_EQ(d.d[2].col, 36, "the comparison");

	/* a folded scalar: columns cannot be mapped, say where in the condition */
	memset(&d, 0, sizeof(d));
	e.exact = false;
	ASSERT_EQ(fc_cond_parse("a >\n 1 +", &e, &d, &c), -EINVAL, "invalid");
	ASSERT_EQ(d.d[0].col, 14, "the scalar's start");
	ASSERT_STRSTR(d.d[0].msg, "(column 9 of the condition)", "in-condition column");

	/* mwu_p's text is fixed: no prefix */
	memset(&d, 0, sizeof(d));
	e.exact = true;
	ASSERT_EQ(fc_cond_parse("a > 1 OR mwu_p(a, control.a) < 0.05", &e, &d, &c), -EINVAL,
		  "mwu_p");
	ASSERT_STREQ(d.d[0].msg, "not yet available: mwu_p", "exact text");
	ASSERT_EQ(d.d[0].col, 14 + 9, "its column");

	memset(&d, 0, sizeof(d));
	e.have_slo = e.have_control = false;
	ASSERT_EQ(fc_cond_parse("burn(1h) > 1 OR control.a > 1", &e, &d, &c), -EINVAL, "no slo");
	ASSERT_STRSTR(d.d[0].msg, "burn() needs an slo: block", "burn without slo");
	ASSERT_STRSTR(d.d[1].msg, "control.a needs a control: cell", "control without cell");
}

FC_TEST(cond_limits, TIER_UNIT)
{
	char big[FC_COND_MAX_TEXT + 2], deep[200];
	struct fc_diags d;
	struct fc_cond *c;
	int i, n = 0;

	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	c = parse(big, &d);
	ASSERT_TRUE(!c && d.n == 1, "text cap");
	ASSERT_STRSTR(d.d[0].msg, "longer than", "text cap message");

	for (i = 0; i < 40; i++)
		deep[n++] = '(';
	n += sprintf(deep + n, "a > 1");
	for (i = 0; i < 40; i++)
		deep[n++] = ')';
	deep[n] = 0;
	c = parse(deep, &d);
	ASSERT_TRUE(!c, "depth cap");
	ASSERT_STRSTR(d.d[0].msg, "nested deeper than", "depth message");

	/* 200 terms: over the node cap, refused without overflowing */
	n = 0;
	for (i = 0; i < 200 && n < (int)sizeof(big) - 16; i++)
		n += sprintf(big + n, "%sa > %d", i ? " OR " : "", i);
	c = parse(big, &d);
	ASSERT_TRUE(!c, "node cap");
	ASSERT_STRSTR(d.d[0].msg, "condition too long", "node cap message");
}

/* ---- evaluation ---- */

#define NW 64

struct hist {
	double v[M_N][NW];
	uint8_t nd[M_N][NW];
	double cv[M_N][NW];
	uint8_t cnd[M_N][NW];
	struct fc_history s[M_N], cs[M_N];
	const struct fc_history *sp[M_N], *csp[M_N];
	struct fc_eval_ctx ctx;
};

static void hist_init(struct hist *h, int n)
{
	memset(h, 0, sizeof(*h));
	for (int m = 0; m < M_N; m++) {
		h->s[m] = (struct fc_history){ .n = n, .value = h->v[m], .nodata = h->nd[m] };
		h->cs[m] = (struct fc_history){ .n = n, .value = h->cv[m], .nodata = h->cnd[m] };
		h->sp[m] = &h->s[m];
		h->csp[m] = &h->cs[m];
	}
	h->s[M_ERRORS].agg = h->s[M_TOTAL].agg = FC_AGG_SUM;
	h->ctx = (struct fc_eval_ctx){ .window_ns = NSEC_PER_SEC,
				       .nmetrics = M_N,
				       .cell = h->sp,
				       .control = h->csp,
				       .slo_errors = M_ERRORS,
				       .slo_total = M_TOTAL,
				       .slo_objective = 0.999 };
}

/* Set metric @m in window @w to true (1), false (0) or unknown (-1) for "m > 0". */
static void tri(struct hist *h, int m, int w, int t)
{
	h->v[m][w] = t > 0 ? 1 : 0;
	h->nd[m][w] = t < 0;
}

FC_TEST(cond_kleene_truth_tables, TIER_UNIT)
{
	/* indexed [a][b] with 0 = false, 1 = true, 2 = unknown */
	static const enum fc_tri and_tt[3][3] = {
		{ FC_FALSE, FC_FALSE, FC_FALSE },
		{ FC_FALSE, FC_TRUE, FC_UNKNOWN },
		{ FC_FALSE, FC_UNKNOWN, FC_UNKNOWN },
	};
	static const enum fc_tri or_tt[3][3] = {
		{ FC_FALSE, FC_TRUE, FC_UNKNOWN },
		{ FC_TRUE, FC_TRUE, FC_TRUE },
		{ FC_UNKNOWN, FC_TRUE, FC_UNKNOWN },
	};
	static const enum fc_tri not_tt[3] = { FC_TRUE, FC_FALSE, FC_UNKNOWN };
	static const int set[3] = { 0, 1, -1 };
	struct fc_cond *cand, *cor, *cnot, *cunk;
	struct fc_diags d;
	struct hist h;
	char what[64];

	cand = parse("a > 0 AND b > 0", &d);
	cor = parse("a > 0 OR b > 0", &d);
	cnot = parse("NOT a > 0", &d);
	cunk = parse("a / b > 0", &d);
	if (!ASSERT_TRUE(cand && cor && cnot && cunk, "parse"))
		goto out;
	hist_init(&h, 1);
	for (int x = 0; x < 3; x++) {
		for (int y = 0; y < 3; y++) {
			tri(&h, M_A, 0, set[x]);
			tri(&h, M_B, 0, set[y]);
			snprintf(what, sizeof(what), "%d AND %d", x, y);
			ASSERT_EQ(fc_cond_eval(cand, &h.ctx, 0), and_tt[x][y], what);
			snprintf(what, sizeof(what), "%d OR %d", x, y);
			ASSERT_EQ(fc_cond_eval(cor, &h.ctx, 0), or_tt[x][y], what);
		}
		snprintf(what, sizeof(what), "NOT %d", x);
		ASSERT_EQ(fc_cond_eval(cnot, &h.ctx, 0), not_tt[x], what);
	}
	/* x/0 is no data */
	h.v[M_A][0] = 1;
	h.v[M_B][0] = 0;
	h.nd[M_A][0] = h.nd[M_B][0] = 0;
	ASSERT_EQ(fc_cond_eval(cunk, &h.ctx, 0), FC_UNKNOWN, "x/0");
	/* a window past the history is unknown */
	ASSERT_EQ(fc_cond_eval(cor, &h.ctx, 5), FC_UNKNOWN, "future window");
out:
	fc_cond_free(cand);
	fc_cond_free(cor);
	fc_cond_free(cnot);
	fc_cond_free(cunk);
}

FC_TEST(cond_over_and_for, TIER_UNIT)
{
	static const double a[] = { 10, 0, 0, 0, 10, 10, 10, 10 };
	/* "a > 5" per window: T T T F T T T U T T */
	static const int f[] = { 1, 1, 1, 0, 1, 1, 1, -1, 1, 1 };
	static const enum fc_tri want_for[] = { FC_FALSE,   FC_FALSE,  FC_TRUE, FC_FALSE,
						FC_FALSE,   FC_FALSE,  FC_TRUE, FC_UNKNOWN,
						FC_UNKNOWN, FC_UNKNOWN };
	struct fc_cond *over, *fr;
	struct fc_diags d;
	struct hist h;
	char what[32];

	over = parse("a > 5 over 4s", &d);
	fr = parse("a > 0 for 3 windows", &d);
	if (!ASSERT_TRUE(over && fr, "parse"))
		goto out;
	hist_init(&h, ARRAY_SIZE(a));
	memcpy(h.v[M_A], a, sizeof(a));
	ASSERT_EQ(fc_cond_eval(over, &h.ctx, 2), FC_UNKNOWN, "less than 4s of history");
	ASSERT_EQ(fc_cond_eval(over, &h.ctx, 3), FC_FALSE, "mean 2.5");
	ASSERT_EQ(fc_cond_eval(over, &h.ctx, 5), FC_FALSE, "mean 5 is not > 5");
	ASSERT_EQ(fc_cond_eval(over, &h.ctx, 6), FC_TRUE, "mean 7.5");
	ASSERT_EQ(fc_cond_eval(over, &h.ctx, 7), FC_TRUE, "mean 10");
	/* samples weight the mean: one busy window outweighs three idle ones */
	{
		uint32_t samples[ARRAY_SIZE(a)] = { 1000, 1, 1, 1, 1, 1, 1, 1 };

		h.s[M_A].samples = samples;
		ASSERT_EQ(fc_cond_eval(over, &h.ctx, 3), FC_TRUE, "weighted by samples");
		h.s[M_A].samples = NULL;
	}
	/* mostly no data over the span: unknown, not a mean of what is left */
	h.nd[M_A][4] = h.nd[M_A][5] = h.nd[M_A][6] = 1;
	ASSERT_EQ(fc_cond_eval(over, &h.ctx, 7), FC_UNKNOWN, "3 of 4 windows without data");
	h.nd[M_A][4] = 0;
	ASSERT_EQ(fc_cond_eval(over, &h.ctx, 7), FC_TRUE, "half the windows with data");

	hist_init(&h, ARRAY_SIZE(f));
	for (size_t w = 0; w < ARRAY_SIZE(f); w++)
		tri(&h, M_A, w, f[w]);
	for (size_t w = 0; w < ARRAY_SIZE(f); w++) {
		snprintf(what, sizeof(what), "for 3 at window %zu", w);
		ASSERT_EQ(fc_cond_eval(fr, &h.ctx, w), want_for[w], what);
	}
	/* windows before the phase's start do not count */
	h.ctx.first_window = 5;
	ASSERT_EQ(fc_cond_eval(fr, &h.ctx, 6), FC_FALSE, "two windows into the phase");
	ASSERT_EQ(fc_cond_eval(fr, &h.ctx, 7), FC_UNKNOWN, "T T U");
out:
	fc_cond_free(over);
	fc_cond_free(fr);
}

FC_TEST(cond_baseline_control, TIER_UNIT)
{
	struct fc_cond *base, *ctl;
	struct fc_diags d;
	struct hist h;

	base = parse("p99 > 2 * baseline.p99", &d);
	ctl = parse("rate < control.rate - 1% over 2s", &d);
	if (!ASSERT_TRUE(base && ctl, "parse"))
		goto out;
	hist_init(&h, 8);
	h.ctx.baseline_from = 0;
	h.ctx.baseline_to = 4;
	for (int w = 0; w < 8; w++) {
		h.v[M_P99][w] = 0.1;
		h.v[M_RATE][w] = 0.999;
		h.cv[M_RATE][w] = 0.999;
	}
	h.v[M_P99][5] = 0.25;
	h.v[M_P99][6] = 0.15;
	ASSERT_EQ(fc_cond_eval(base, &h.ctx, 2), FC_UNKNOWN, "baseline not complete");
	ASSERT_EQ(fc_cond_eval(base, &h.ctx, 4), FC_FALSE, "at baseline");
	ASSERT_EQ(fc_cond_eval(base, &h.ctx, 5), FC_TRUE, "2.5x the baseline");
	ASSERT_EQ(fc_cond_eval(base, &h.ctx, 6), FC_FALSE, "1.5x the baseline");
	h.nd[M_P99][1] = h.nd[M_P99][2] = h.nd[M_P99][3] = 1;
	ASSERT_EQ(fc_cond_eval(base, &h.ctx, 5), FC_UNKNOWN, "baseline mostly without data");

	ASSERT_EQ(fc_cond_eval(ctl, &h.ctx, 5), FC_FALSE, "same as control");
	h.v[M_RATE][5] = 0.98;
	h.v[M_RATE][6] = 0.95;
	ASSERT_EQ(fc_cond_eval(ctl, &h.ctx, 5), FC_FALSE, "mean 0.9895 vs 0.989");
	ASSERT_EQ(fc_cond_eval(ctl, &h.ctx, 6), FC_TRUE, "both windows worse than control");
	h.ctx.control = NULL;
	ASSERT_EQ(fc_cond_eval(ctl, &h.ctx, 6), FC_UNKNOWN, "no control series");
out:
	fc_cond_free(base);
	fc_cond_free(ctl);
}

FC_TEST(cond_burn, TIER_UNIT)
{
	struct fc_cond *b5;
	struct fc_diags d;
	struct hist h;

	b5 = parse("burn(5s) > 14.4", &d);
	if (!ASSERT_OK_PTR(b5, "parse"))
		return;
	hist_init(&h, 12);
	for (int w = 0; w < 12; w++) {
		h.v[M_TOTAL][w] = 1000;
		h.v[M_ERRORS][w] = w < 6 ? 1 : 20; /* 0.1% = 1x the budget, then 2% = 20x */
	}
	ASSERT_EQ(fc_cond_eval(b5, &h.ctx, 3), FC_UNKNOWN, "4 of 5 windows of history");
	ASSERT_EQ(fc_cond_eval(b5, &h.ctx, 5), FC_FALSE, "burn 1.0");
	ASSERT_EQ(fc_cond_eval(b5, &h.ctx, 8), FC_FALSE, "burn (2+60)/5 = 12.4");
	ASSERT_EQ(fc_cond_eval(b5, &h.ctx, 10), FC_TRUE, "burn 20");
	h.v[M_TOTAL][9] = h.v[M_TOTAL][10] = 0;
	h.v[M_TOTAL][6] = h.v[M_TOTAL][7] = h.v[M_TOTAL][8] = 0;
	ASSERT_EQ(fc_cond_eval(b5, &h.ctx, 10), FC_UNKNOWN, "no traffic: x/0");
	fc_cond_free(b5);
}

FC_TEST(cond_cost_cap, TIER_UNIT)
{
	char text[1024];
	struct fc_diags d;
	struct fc_cond *c;
	int n = 0;

	/* 2^25 evaluations a window: refused at validation, not discovered at run time */
	for (int i = 0; i < 25; i++)
		text[n++] = '(';
	n += sprintf(text + n, "a > 1");
	for (int i = 0; i < 25; i++)
		n += sprintf(text + n, ") for 2 windows");
	c = parse(text, &d);
	ASSERT_TRUE(!c, "refused");
	ASSERT_STRSTR(d.n ? d.d[0].msg : "", "too much work per window", "message");
	c = parse("(a > 1 over 1h) for 1000 windows", &d);
	ASSERT_TRUE(!c, "1000 x 3600 windows");
	c = parse("(a > 1 over 1h) for 10 windows", &d);
	ASSERT_OK_PTR(c, "10 x 3600 windows is fine");
	fc_cond_free(c);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * experiments/rollback-controller.yaml expresses every rule of the seed's rollback controller:
 * each rule parses to the intended tree and evaluates right on recorded window series,
 * including the first hour, where burn(1h) is unknown and must not abort on its own.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/util.h"
#include "engine/experiment.h"
#include "lib/test.h"
#include "unit/exp_testlib.h"

#define NWIN 800 /* 10 s windows: 2 h 13 min */

struct run {
	double v[4][NWIN];
	uint8_t nd[4][NWIN];
	struct fc_history s[4], cs[4];
	const struct fc_history *sp[4], *csp[4];
	struct fc_eval_ctx ctx;
	int itotal, ierrors, ip99;
};

static const struct fc_exp_rule *rule(const struct fc_experiment *e, const char *name)
{
	for (int i = 0; i < e->nrules; i++)
		if (!strcmp(e->rules[i].name, name))
			return &e->rules[i];
	return NULL;
}

static void run_init(struct run *r, const struct fc_experiment *e, int n)
{
	memset(r, 0, sizeof(*r));
	fc_exp_eval_ctx(e, &r->ctx);
	for (int m = 0; m < e->nmetrics && m < 4; m++) {
		r->s[m] = (struct fc_history){
			.n = n, .value = r->v[m], .nodata = r->nd[m], .agg = e->metrics[m].agg
		};
		/* the control cell is measured by the same tracer: only p99 has a control side */
		r->cs[m] = r->s[m];
		r->sp[m] = &r->s[m];
		r->csp[m] = &r->cs[m];
	}
	r->itotal = fc_exp_metric(e, "total");
	r->ierrors = fc_exp_metric(e, "errors");
	r->ip99 = fc_exp_metric(e, "p99");
	r->ctx.cell = r->sp;
	r->ctx.control = r->csp;
	/* baseline: the first 10 minutes (60 windows of 10 s); the fault starts after it */
	r->ctx.baseline_from = 0;
	r->ctx.baseline_to = 60;
	r->ctx.first_window = 60;
}

/* Steady traffic: 1000 requests a window, @err_per_mille failing, p99 100 ms in both cells. */
static void fill(struct run *r, int from, int to, double errors, double p99, double ctl_p99)
{
	static double ctl[NWIN];

	for (int w = from; w < to; w++) {
		r->v[r->itotal][w] = 1000;
		r->v[r->ierrors][w] = errors;
		r->v[r->ip99][w] = p99;
		ctl[w] = ctl_p99;
	}
	r->cs[r->ip99].value = ctl;
}

FC_TEST(exp_rollback_controller_rules, TIER_UNIT)
{
	struct fc_experiment *e = NULL;
	const struct fc_exp_rule *er, *lat, *burn;
	struct fc_exp_opts o = {};
	char path[PATH_MAX], tree[512];
	struct run *r = calloc(1, sizeof(*r));
	int w;

	if (!ASSERT_OK_PTR(r, "alloc"))
		return;
	o.path = exp_repo_file("experiments/rollback-controller.yaml", path, sizeof(path));
	if (!ASSERT_OK(fc_experiment_load(&o, &e), "valid")) {
		if (e)
			fc_experiment_print_diags(e, stderr);
		goto out;
	}
	er = rule(e, "error-rate");
	lat = rule(e, "latency-p99");
	burn = rule(e, "budget-burn");
	if (!ASSERT_TRUE(er && lat && burn, "the seed's three rules"))
		goto out;

	/* the intended trees, with the default `for 3 windows` around each bare rule */
	fc_cond_sexpr(er->cond, tree, sizeof(tree));
	ASSERT_STREQ(tree,
		     "(for 3 (and (> (/ errors total) (* 1.5 (/ baseline.errors baseline.total))) "
		     "(> (/ errors total) 0.005)))",
		     "error-rate tree");
	fc_cond_sexpr(lat->cond, tree, sizeof(tree));
	ASSERT_STREQ(tree, "(for 3 (> p99 (* control.p99 1.2)))", "latency-p99 tree");
	fc_cond_sexpr(burn->cond, tree, sizeof(tree));
	ASSERT_STREQ(tree, "(for 3 (and (> (burn 5m) 14.4) (> (burn 1h) 6)))", "budget-burn tree");
	ASSERT_TRUE(er->default_for && lat->default_for && burn->default_for, "defaults recorded");
	ASSERT_EQ(e->window.ns, 10 * NSEC_PER_SEC, "window");

	/* baseline 0.1% errors, then the fault at 0.3%: 3x the baseline but under 0.5% */
	run_init(r, e, 200);
	fill(r, 0, 60, 1, 0.100, 0.100);
	fill(r, 60, 200, 3, 0.110, 0.100);
	for (w = 60; w < 200; w++) {
		ASSERT_EQ(fc_cond_eval(er->cond, &r->ctx, w), FC_FALSE, "error-rate under 0.5%");
		ASSERT_EQ(fc_cond_eval(lat->cond, &r->ctx, w), FC_FALSE, "p99 1.1x control");
		/*
		 * The first hour: burn(1h) is unknown all along (200 windows < 360), burn(5m) is
		 * 3.0: false AND unknown is false, so this rule is quiet, not failing closed.
		 */
		ASSERT_EQ(fc_cond_eval(burn->cond, &r->ctx, w), FC_FALSE, "cool burn in hour one");
	}

	/* errors to 0.8% from window 100: error-rate holds after 3 windows, not before */
	fill(r, 100, 200, 8, 0.110, 0.100);
	ASSERT_EQ(fc_cond_eval(er->cond, &r->ctx, 100), FC_FALSE, "1 bad window is noise");
	ASSERT_EQ(fc_cond_eval(er->cond, &r->ctx, 101), FC_FALSE, "2 bad windows");
	ASSERT_EQ(fc_cond_eval(er->cond, &r->ctx, 102), FC_TRUE, "3 bad windows: abort");

	/* p99 1.3x the stable track's from window 150 */
	fill(r, 150, 200, 3, 0.130, 0.100);
	ASSERT_EQ(fc_cond_eval(lat->cond, &r->ctx, 151), FC_FALSE, "2 windows");
	ASSERT_EQ(fc_cond_eval(lat->cond, &r->ctx, 152), FC_TRUE, "latency-p99 fires");
	/* the control stopped answering: unknown, then fail closed by the runner */
	r->cs[r->ip99].nodata = r->nd[3];
	memset(r->nd[3], 1, sizeof(r->nd[3]));
	ASSERT_EQ(fc_cond_eval(lat->cond, &r->ctx, 152), FC_UNKNOWN, "no control data");
	r->cs[r->ip99].nodata = NULL;

	/*
	 * A fast burn in hour one: burn(5m) = 20 > 14.4 but burn(1h) unknown. The rule is
	 * unknown, never true, so it cannot fire as a breach; the runner fails closed on N
	 * unknown windows (design.md §6), which this pins down.
	 */
	fill(r, 60, 200, 20, 0.100, 0.100);
	ASSERT_EQ(fc_cond_eval(burn->cond, &r->ctx, 199), FC_UNKNOWN, "hot 5m, unknown 1h");

	/* past the first hour both windows are known: 2% errors burn 20x on both */
	run_init(r, e, NWIN);
	fill(r, 0, 60, 1, 0.100, 0.100);
	fill(r, 60, NWIN, 1, 0.100, 0.100);
	ASSERT_EQ(fc_cond_eval(burn->cond, &r->ctx, 500), FC_FALSE, "burn 1.0 on both");
	fill(r, 400, NWIN, 20, 0.100, 0.100);
	/* at 430, 5m (30 windows) is all 20x, 1h = (330 x 1 + 30 x 20) / 360 = 2.6x: cool */
	ASSERT_EQ(fc_cond_eval(burn->cond, &r->ctx, 430), FC_FALSE, "slow burn still cool");
	/* 1h reaches 6x once (360 - k) x 1 + k x 20 > 6 x 360: k > 94.7, so window 495 */
	ASSERT_EQ(fc_cond_eval(burn->cond, &r->ctx, 494), FC_FALSE, "k = 95: hot once");
	ASSERT_EQ(fc_cond_eval(burn->cond, &r->ctx, 495), FC_FALSE, "2 windows hot");
	ASSERT_EQ(fc_cond_eval(burn->cond, &r->ctx, 496), FC_TRUE, "both hot for 3 windows");
out:
	fc_experiment_free(e);
	free(r);
}

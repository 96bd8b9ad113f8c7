// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: the condition tokenizer, parser and type checker, then the printers, the
 * abort_when default and the evaluator over a small history with gaps, at every window.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NW 12

static const char *const names[] = { "p99", "errors", "total", "ok", NULL };
static const enum fc_vtype types[] = { FC_VT_TIME, FC_VT_COUNT, FC_VT_COUNT, FC_VT_NUMBER };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static double v[4][NW];
	static uint8_t nd[4][NW];
	static struct fc_history s[4];
	static const struct fc_history *sp[4];
	struct fc_cond_env env = { .names = names,
				   .types = types,
				   .have_slo = true,
				   .have_control = true,
				   .window_ns = 1000000000ULL,
				   .what = "fuzz" };
	struct fc_eval_ctx ctx = { .window_ns = 1000000000ULL,
				   .nmetrics = 4,
				   .cell = sp,
				   .control = sp,
				   .baseline_from = 0,
				   .baseline_to = 3,
				   .slo_objective = 0.999,
				   .slo_errors = 1,
				   .slo_total = 2 };
	struct fc_diags d = {};
	struct fc_cond *c = NULL;
	char *text, buf[512];

	if (!sp[0]) {
		for (int m = 0; m < 4; m++) {
			for (int w = 0; w < NW; w++) {
				v[m][w] = (m + 1) * (w % 5) * 0.25;
				nd[m][w] = (w * 7 + m) % 5 == 0;
			}
			s[m] = (struct fc_history){ .n = NW,
						    .value = v[m],
						    .nodata = nd[m],
						    .agg = m == 1 || m == 2 ? FC_AGG_SUM
									    : FC_AGG_MEAN };
			sp[m] = &s[m];
		}
	}
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	/* the steady state's form: a leading comparator applies to a metric */
	if (size && (data[0] == '<' || data[0] == '>'))
		env.implicit_lhs = "ok";
	if (!fc_cond_parse(text, &env, &d, &c)) {
		fc_cond_sexpr(c, buf, sizeof(buf));
		fc_cond_format(c, buf, sizeof(buf));
		for (int w = 0; w < NW; w++)
			fc_cond_eval(c, &ctx, w);
		if (fc_cond_default_for(c, 3) >= 0) {
			fc_cond_windows(c);
			fc_cond_format(c, buf, sizeof(buf));
			for (int w = 0; w < NW; w++)
				fc_cond_eval(c, &ctx, w);
		}
	}
	fc_cond_free(c);
	free(text);
	return 0;
}

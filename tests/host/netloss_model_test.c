// SPDX-License-Identifier: BSD-2-Clause
/*
 * The loss models against their formulas, through the real object: BPF_PROG_TEST_RUN repeats
 * the same decision code the fault runs per packet, millions of times.
 */
#include <math.h>
#include <string.h>
#include <bpf/bpf.h>

#include "fc_net.h"
#include "faults/netmatch.h"
#include "lib/test.h"
#include "netloss.skel.h"

#define Z 3.89

static bool run_model(struct netloss_bpf *skel, const struct fc_netloss_cfg *cfg, int n)
{
	unsigned char pkt[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = n);
	__u32 zero = 0;

	skel->bss->model_total = skel->bss->model_drops = skel->bss->model_bursts = 0;
	skel->bss->model_prev_drop = 0;
	if (!ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.fc_netloss_cfg), &zero, cfg, 0),
		       "cfg"))
		return false;
	return ASSERT_OK(
		   bpf_prog_test_run_opts(bpf_program__fd(skel->progs.fc_netloss_model), &opts),
		   "test run") &&
	       ASSERT_EQ(skel->bss->model_total, n, "every repetition ran");
}

FC_TEST(netloss_models, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct netloss_bpf *skel = netloss_bpf__open();
	const int n = 2000000;

	if (!ASSERT_OK_PTR(skel, "open"))
		return;
	bpf_program__set_autoload(skel->progs.fc_netloss_egress, false);
	bpf_program__set_autoload(skel->progs.fc_netloss_ingress, false);
	if (!ASSERT_OK(netloss_bpf__load(skel), "load"))
		goto out;
	if (test__start_subtest("bernoulli")) {
		struct fc_netloss_cfg c = { .model = FC_LOSS_BERNOULLI,
					    .p_loss = fc_prob_fixed(0.3) };
		double k, sd = sqrt(n * 0.3 * 0.7);

		if (run_model(skel, &c, n)) {
			k = skel->bss->model_drops;
			test__log("bernoulli 30%%: %.0f of %d", k, n);
			ASSERT_LE(fabs(k - n * 0.3), Z * sd, "loss within α=1e-4");
		}
	}
	if (test__start_subtest("gilbert")) {
		/* Gilbert (no loss when good, all lost when bad): loss p/(p+r), bursts 1/r */
		const double p = 0.01, r = 0.25, pi_b = p / (p + r), lam = 1 - p - r;
		struct fc_netloss_cfg c = { .model = FC_LOSS_GE,
					    .ge_p = fc_prob_fixed(p),
					    .ge_r = fc_prob_fixed(r),
					    .ge_loss_good = 0,
					    .ge_loss_bad = fc_prob_fixed(1) };
		double loss, burst, se_loss, se_burst, bursts;

		if (run_model(skel, &c, n)) {
			loss = (double)skel->bss->model_drops / n;
			bursts = skel->bss->model_bursts;
			burst = skel->bss->model_drops / bursts;
			/* a two-state chain's variance: π_B π_G (1+λ)/(1−λ) per sample */
			se_loss = sqrt(pi_b * (1 - pi_b) * (1 + lam) / (1 - lam) / n);
			/* burst lengths are geometric with mean 1/r, variance (1−r)/r² */
			se_burst = sqrt((1 - r) / (r * r) / bursts);
			test__log("gilbert: loss %.5f (model %.5f ± %.5f), mean burst %.3f "
				  "(model %.3f ± %.3f)",
				  loss, pi_b, Z * se_loss, burst, 1 / r, Z * se_burst);
			ASSERT_LE(fabs(loss - pi_b), Z * se_loss, "stationary loss = p/(p+r)");
			ASSERT_LE(fabs(burst - 1 / r), Z * se_burst, "mean burst length = 1/r");
		}
	}
	if (test__start_subtest("gilbert_elliott")) {
		/* lossy good state, leaky bad state: loss = π_G(1−k) + π_B(1−h) */
		const double p = 0.02, r = 0.1, lg = 0.01, lb = 0.6, pi_b = p / (p + r);
		const double want = (1 - pi_b) * lg + pi_b * lb, lam = 1 - p - r;
		/* the state chain's share of the variance plus the per-packet Bernoulli draw */
		const double se =
		    sqrt(((lb - lg) * (lb - lg) * pi_b * (1 - pi_b) * (1 + lam) / (1 - lam) +
			  want * (1 - want)) /
			 n);
		struct fc_netloss_cfg c = { .model = FC_LOSS_GE,
					    .ge_p = fc_prob_fixed(p),
					    .ge_r = fc_prob_fixed(r),
					    .ge_loss_good = fc_prob_fixed(lg),
					    .ge_loss_bad = fc_prob_fixed(lb) };
		double loss;

		if (run_model(skel, &c, n)) {
			loss = (double)skel->bss->model_drops / n;
			test__log("gilbert-elliott: loss %.5f (model %.5f ± %.5f)", loss, want,
				  Z * se);
			ASSERT_LE(fabs(loss - want), Z * se, "stationary loss of the GE model");
		}
	}
out:
	netloss_bpf__destroy(skel);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kernel-function-error (design.md §4): make one kernel function fail with an errno for the
 * cell's calls. Preferred: kprobe + bpf_override_return, which the kernel allows on its
 * error-injection list (CONFIG_BPF_KPROBE_OVERRIDE: Ubuntu, Fedora; none of Debian's). Else
 * fmod_ret, which the verifier allows on that list and on security_* functions: a non-zero
 * return skips the function and becomes its result. The target is set by the loader.
 */
#include "fc_common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "fc_kfuncerr.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_kfuncerr_cfg);
} fc_kfuncerr_cfg SEC(".maps");

/* 0 = let the call run, else the negative errno it returns instead. */
static __always_inline int kfe_decide(void)
{
	struct fc_kfuncerr_cfg *c;
	__u32 zero = 0;
	__u64 r;

	fc_stat_add(KFE_SEEN, 1);
	if (fc_cell_task() != 0)
		return 0;
	c = bpf_map_lookup_elem(&fc_kfuncerr_cfg, &zero);
	if (!c)
		return 0;
	fc_stat_add(KFE_MATCHED, 1);
	if (!fc_armed_fine() || (__u64)bpf_get_prandom_u32() >= c->p_fail)
		return 0;
	if (c->count_limit && __sync_fetch_and_add(&c->failed, 1) >= c->count_limit) {
		fc_stat_add(KFE_COUNT_EXHAUSTED, 1);
		return 0;
	}
	fc_stat_add(KFE_INJECTED, 1);
	fc_stat_first(FC_STAT_FIRST_HIT_NS);
	r = bpf_get_prandom_u32();
	for (int i = 0; i < FC_KFE_MAX_ERRNOS; i++) {
		if (i >= c->nerr)
			break;
		if (r < c->cum[i])
			return -c->err[i];
	}
	return -5; /* EIO */
}

SEC("fmod_ret")
int BPF_PROG(fc_kfe_fmod)
{
	return kfe_decide();
}

SEC("kprobe")
int fc_kfe_kprobe(struct pt_regs *ctx)
{
	int err = kfe_decide();

	if (err)
		bpf_override_return(ctx, err);
	return 0;
}

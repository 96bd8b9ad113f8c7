// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * network-loss and network-blackhole (design.md §4).
 *
 * Egress runs at tc and makes the packet vanish *after* the stack handed it over, so TCP sees a
 * real loss (retransmits, RTO). A drop reported back to the stack (cgroup_skb 0/2, TC_ACT_SHOT)
 * is just resent as unsent data (measured: TcpRetransSegs Δ 0). Legacy cls_bpf gets that from
 * TC_ACT_STOLEN; TCX maps every code but PASS/DROP/REDIRECT to NEXT (tcx_action_code()), so
 * STOLEN would let the packet through — there a redirect to ifindex 0 does it: the kernel
 * frees the skb in skb_do_redirect() and reports NET_XMIT_SUCCESS (measured: same retransmits).
 *
 * Ingress runs in cgroup_skb on the cell: returning 0 drops before the socket, wire-like.
 */
#include "net.bpf.h"

#define TC_ACT_UNSPEC (-1)
#define TC_ACT_STOLEN 4

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_netloss_cfg);
} fc_netloss_cfg SEC(".maps");

/* Gilbert-Elliott state per direction: 1 = bad. Shared by every CPU, like a real link. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} fc_ge_state SEC(".maps");

static __always_inline bool ge_decide(struct fc_netloss_cfg *c, __u32 dir)
{
	__u32 *bad = bpf_map_lookup_elem(&fc_ge_state, &dir);
	bool drop;

	if (!bad)
		return false;
	/* loss by the current state, then one transition per packet */
	drop = fc_chance(*bad ? c->ge_loss_bad : c->ge_loss_good);
	if (*bad) {
		if (fc_chance(c->ge_r))
			*bad = 0;
	} else if (fc_chance(c->ge_p)) {
		*bad = 1;
		fc_stat_add(NS_GE_TO_BAD, 1);
	}
	return drop;
}

/* The whole decision for one packet of the cell; true = drop it. */
static __always_inline bool netloss_decide(struct __sk_buff *skb, __u32 dir)
{
	struct fc_pkt p = {};
	struct fc_netloss_cfg *c;
	__u32 zero = 0;
	bool drop;
	int err;

	c = bpf_map_lookup_elem(&fc_netloss_cfg, &zero);
	if (!c)
		return false;
	if (dir == FC_DIR_EGRESS) {
		err = fc_parse_tc(skb, &p);
		/* ports beyond the linear area (rare): the copying helper reads them */
		if (err > 0)
			err = fc_parse_skb(skb, &p);
	} else {
		err = fc_parse_skb(skb, &p);
	}
	if (err || !fc_pkt_match(&c->m, &p, dir == FC_DIR_EGRESS))
		return false;
	fc_stat_add(NS_MATCHED, 1);
	if (!fc_armed_coarse())
		return false;
	drop = c->model == FC_LOSS_GE ? ge_decide(c, dir) : fc_chance(c->p_loss);
	if (!drop || !fc_claim(&c->dropped, c->count_limit))
		return false;
	fc_stat_add(NS_INJECTED, 1);
	fc_stat_first(FC_STAT_FIRST_HIT_NS);
	return true;
}

/* 1 when the egress program runs under TCX (see the top of this file). */
static __always_inline bool c_tcx(void)
{
	__u32 zero = 0;
	struct fc_netloss_cfg *c = bpf_map_lookup_elem(&fc_netloss_cfg, &zero);

	return c && c->tcx;
}

/*
 * Benchmarks only (P2): BPF_PROG_TEST_RUN packets have no socket, so no cell; this skips the
 * cell check to time the rest. A load-time constant: the verifier removes the branch.
 */
const volatile __u32 fc_bench_no_cell = 0;

SEC("tc")
int fc_netloss_egress(struct __sk_buff *skb)
{
	fc_stat_add(NS_SEEN, 1);
	/*
	 * Cell 0 is the faulted cell; a run also lists its control cell (index 1) so metrics
	 * can compare them, and the control must never be faulted.
	 */
	if ((!fc_bench_no_cell && fc_cell_skb(skb) != 0) || !netloss_decide(skb, FC_DIR_EGRESS))
		return TC_ACT_UNSPEC; /* pass on to whatever else is attached */
	return c_tcx() ? bpf_redirect(0, 0) : TC_ACT_STOLEN;
}

/* Attached to the cell's cgroup, so everything it sees is the cell's. */
SEC("cgroup_skb/ingress")
int fc_netloss_ingress(struct __sk_buff *skb)
{
	fc_stat_add(NS_SEEN, 1);
	return netloss_decide(skb, FC_DIR_INGRESS) ? 0 : 1;
}

/*
 * For BPF_PROG_TEST_RUN only: the same decision without a cell or a control check, so the
 * loss models can be measured against their formulas on millions of packets (repeat = N):
 * drops, and bursts (runs of consecutive drops) for the mean burst length.
 */
__u64 model_total, model_drops, model_bursts;
__u32 model_prev_drop;

SEC("tc")
int fc_netloss_model(struct __sk_buff *skb)
{
	struct fc_netloss_cfg *c;
	__u32 zero = 0;
	bool drop;

	c = bpf_map_lookup_elem(&fc_netloss_cfg, &zero);
	if (!c)
		return 0;
	drop = c->model == FC_LOSS_GE ? ge_decide(c, FC_DIR_EGRESS) : fc_chance(c->p_loss);
	model_total++;
	if (drop) {
		model_drops++;
		model_bursts += !model_prev_drop;
	}
	model_prev_drop = drop;
	return drop;
}

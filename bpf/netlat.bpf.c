// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * network-latency (design.md §4): earliest departure time (EDT) at tc egress. The program only
 * stamps the cell's packets with when they may leave; sch_fq on the same device holds each one
 * until then (fq_dequeue throttles a flow until its head's time_to_send). Nothing waits or
 * spins in BPF, so any delay costs the same few helper calls.
 *
 * bpf_skb_set_tstamp(…, BPF_SKB_TSTAMP_DELIVERY_MONO) rather than a plain skb->tstamp write:
 * a plain write is scrubbed when the packet crosses a netns (skb_scrub_packet), the "delivery
 * mono" one is kept (measured on 6.1 and 6.12, kernel-facts.md).
 *
 * fq sorts a flow by send time, so random jitter would reorder it. Each socket keeps the
 * latest time it was given (an LRU map keyed by socket cookie): a packet never leaves before
 * an earlier packet of its socket. The update is a compare-and-swap maximum, so two CPUs
 * sending on one socket cannot move it backwards.
 */
#include "net.bpf.h"
#include "fc_netlat.h"

#define TC_ACT_UNSPEC		     (-1)
#define BPF_SKB_TSTAMP_DELIVERY_MONO 1

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_netlat_cfg);
} fc_netlat_cfg SEC(".maps");

/* Latest departure time given to each socket (cookie); eviction only loses order guarantees
 * for a flow idle long enough to be the least recently used of 64k. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} fc_netlat_flow SEC(".maps");

/* Normal quantiles (fc_netlat.h), written by the loader before load. */
const volatile __s16 fc_nl_normal[FC_NL_NTAB] = {};

static __always_inline __u64 draw_delay(struct fc_netlat_cfg *c)
{
	__s64 d = c->delay_ns, j = c->jitter_ns;
	__u32 r = bpf_get_prandom_u32();

	if (c->dist == FC_NL_UNIFORM && j) {
		/* 24 bits of the draw: (2j + 1) × 2^24 cannot overflow for j below fq's horizon */
		d += (__s64)(((__u64)(r >> 8) * (__u64)(2 * j + 1)) >> 24) - j;
	} else if (c->dist == FC_NL_NORMAL && j) {
		d += (j * fc_nl_normal[r & (FC_NL_NTAB - 1)]) >> FC_NL_TSHIFT;
	}
	if (d < 0)
		d = 0;
	if ((__u64)d > c->max_ns) {
		fc_stat_add(NL_CAPPED, 1);
		d = c->max_ns;
	}
	return d;
}

/* The flow's latest departure time and ours, whichever is later; stored back atomically. */
static __always_inline __u64 flow_order(__u64 cookie, __u64 t)
{
	__u64 *last, old, prev;

	last = bpf_map_lookup_elem(&fc_netlat_flow, &cookie);
	if (!last) {
		bpf_map_update_elem(&fc_netlat_flow, &cookie, &t, BPF_NOEXIST);
		last = bpf_map_lookup_elem(&fc_netlat_flow, &cookie);
		if (!last)
			return t;
	}
	old = *last;
	for (int i = 0; i < 8; i++) {
		if (t <= old) {
			if (t < old)
				fc_stat_add(NL_FLOW_HELD, 1);
			return old;
		}
		prev = __sync_val_compare_and_swap(last, old, t);
		if (prev == old)
			return t;
		old = prev;
	}
	return t > old ? t : old;
}

SEC("tc")
int fc_netlat_egress(struct __sk_buff *skb)
{
	struct fc_netlat_cfg *c;
	struct fc_pkt p = {};
	__u64 now, base, t, cookie, d = 0;
	__u32 zero = 0;
	int err;

	fc_stat_add(NS_SEEN, 1);
	/* cell 0 only: a control cell (index 1) is measured, never faulted */
	if (fc_cell_skb(skb) != 0)
		return TC_ACT_UNSPEC;
	c = bpf_map_lookup_elem(&fc_netlat_cfg, &zero);
	if (!c)
		return TC_ACT_UNSPEC;
	err = fc_parse_tc(skb, &p);
	if (err > 0)
		err = fc_parse_skb(skb, &p);
	if (err || !fc_pkt_match(&c->m, &p, true))
		return TC_ACT_UNSPEC;
	fc_stat_add(NS_MATCHED, 1);
	if (!fc_armed_coarse())
		return TC_ACT_UNSPEC;
	cookie = bpf_get_socket_cookie(skb);
	if (!cookie) {
		fc_stat_add(NL_NOSOCK, 1);
		return TC_ACT_UNSPEC;
	}
	/* the fine clock: fq compares against ktime_get_ns(), the coarse one lags up to a tick */
	now = bpf_ktime_get_ns();
	base = now;
	/* TCP stamps its own departure time (pacing) on the same clock: delay from there */
	if (skb->tstamp_type == BPF_SKB_TSTAMP_DELIVERY_MONO && skb->tstamp > now &&
	    skb->tstamp - now < c->max_ns)
		base = skb->tstamp;
	if (fc_chance(c->p_delay) && fc_claim(&c->delayed, c->count_limit)) {
		d = draw_delay(c);
		fc_stat_add(NS_INJECTED, 1);
		fc_stat_first(FC_STAT_FIRST_HIT_NS);
	}
	t = flow_order(cookie, base + d);
	/* unchanged when it may leave now, or keeps the time TCP gave it */
	if (t > now && !(skb->tstamp_type == BPF_SKB_TSTAMP_DELIVERY_MONO && skb->tstamp == t))
		bpf_skb_set_tstamp(skb, t, BPF_SKB_TSTAMP_DELIVERY_MONO);
	return TC_ACT_UNSPEC;
}

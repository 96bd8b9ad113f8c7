// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test- and bench-only programs for the tracer; never loaded by the product.
 *  - fc_ts_drop_syn: cgroup_skb egress on a test cell that drops the cell's first N TCP SYNs,
 *    so the SYN retransmit and the handshake run in a timer (tests/host/trace_tcp_test.c);
 *  - empty raw_tp / tp programs: the baselines bench/p5 normalises by;
 *  - fc_ts_hist / fc_ts_gen: histogram updates driven by BPF_PROG_TEST_RUN repeat (P6), with the
 *    generator alone as its ceiling;
 *  - fc_ts_rb: a bpf_loop ring-buffer producer (P6), or the same loop filling a scratch record
 *    (its ceiling without the ring).
 */
#include "fc_common.bpf.h"
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "fc_hist.bpf.h"
#include "fc_metrics.h"

volatile __u32 syn_budget = 1; /* SYNs still to drop */
volatile __u32 syn_dropped = 0;

SEC("cgroup_skb/egress")
int fc_ts_drop_syn(struct __sk_buff *skb)
{
	__u8 vihl, proto, flags;
	__u32 off;

	if (skb->protocol != bpf_htons(0x0800))
		return 1;
	if (bpf_skb_load_bytes(skb, 0, &vihl, 1) || bpf_skb_load_bytes(skb, 9, &proto, 1))
		return 1;
	if (proto != 6)
		return 1;
	off = (vihl & 0xf) * 4 + 13;
	if (bpf_skb_load_bytes(skb, off, &flags, 1))
		return 1;
	/* SYN without ACK: the client's handshake opener */
	if ((flags & 0x12) != 0x02 || !syn_budget)
		return 1;
	if (__sync_fetch_and_add(&syn_budget, -1) == 0)
		return 1;
	__sync_fetch_and_add(&syn_dropped, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int fc_ts_empty_enter(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_exit")
int fc_ts_empty_exit(void *ctx)
{
	return 0;
}

/* The perf-event path bpftrace 0.17 uses; bench only (slow to detach, never in the product). */
SEC("tp/syscalls/sys_enter_getppid")
int fc_ts_empty_tp_enter(void *ctx)
{
	return 0;
}

SEC("tp/syscalls/sys_exit_getppid")
int fc_ts_empty_tp_exit(void *ctx)
{
	return 0;
}

const volatile struct fc_hist_slot fc_ts_slot = {};

/* A latency-like value: 2^(10 + r % 20) scaled by a random mantissa, spread over the range. */
static __always_inline __u64 gen_value(void)
{
	__u32 r = bpf_get_prandom_u32();

	return ((__u64)1 << (10 + (r & 15))) + (r >> 8);
}

SEC("tc")
int fc_ts_gen(struct __sk_buff *skb)
{
	volatile __u64 v = gen_value();

	(void)v;
	return 0;
}

SEC("tc")
int fc_ts_hist(struct __sk_buff *skb)
{
	struct fc_hist_slot s = fc_ts_slot;

	fc_hist_record(&s, 0, gen_value());
	return 0;
}

volatile __u32 rb_batch = 1024;
volatile __u64 rb_sent = 0;
volatile __u32 rb_gen_only = 0; /* 1: fill a scratch record, no ring: the generator's ceiling */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_event_hdr);
} rb_scratch SEC(".maps");

static long rb_one(__u64 i, void *ctx)
{
	struct fc_event_hdr *e;
	__u32 zero = 0;

	if (rb_gen_only) {
		e = bpf_map_lookup_elem(&rb_scratch, &zero);
		if (e) {
			fc_event_fill(e, FC_EV_TEST, 0);
			e->value = i;
			__sync_fetch_and_add(&rb_sent, 1);
		}
		return 0;
	}
	e = bpf_ringbuf_reserve(&fc_events, sizeof(*e), 0);
	if (!e) {
		fc_stat_add(FC_STAT_RB_FAIL, 1);
		return 0;
	}
	fc_event_fill(e, FC_EV_TEST, 0);
	e->value = i;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	__sync_fetch_and_add(&rb_sent, 1);
	return 0;
}

SEC("tc")
int fc_ts_rb(struct __sk_buff *skb)
{
	bpf_loop(rb_batch, rb_one, NULL, 0);
	return 0;
}

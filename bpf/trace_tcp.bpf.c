// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP connect latency and outcome, retransmits and resets (design.md §5), all attributed by the
 * socket's own cgroup: the handshake often completes, and retransmits always run, in softirq or
 * timer context where `current` is whoever was interrupted (design.md §3).
 *
 * tp_btf, never the perf-event tp/ path (52-83 ms to detach each, kernel-facts.md).
 */
#include "fc_common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "fc_hist.bpf.h"
#include "fc_metrics.h"

#define FC_TCP_ESTABLISHED 1
#define FC_TCP_SYN_SENT	   2
#define FC_TCP_CLOSE	   7
#define FC_IPPROTO_TCP	   6

const volatile struct fc_hist_slot fc_tcp_slot[FC_TCP_NSLOTS] = {};

/*
 * The connect's start and its owner, taken at SYN_SENT — always in the connecting task's own
 * connect() — so the outcome event names the right pid and comm even when it fires in a timer.
 */
struct conn_start {
	__u64 ts;
	__u32 pid, tid;
	__s32 cell;
	__u32 pad;
	char comm[FC_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct conn_start);
} fc_tcp_start SEC(".maps");

static __always_inline void emit_conn(const struct conn_start *c, __u16 type, const struct sock *sk,
				      __u32 slot, __u64 d, int err)
{
	struct fc_event_hdr *e = bpf_ringbuf_reserve(&fc_events, sizeof(*e), 0);

	if (!e) {
		fc_stat_add(FC_STAT_RB_FAIL, 1);
		return;
	}
	e->type = type;
	e->cell = c->cell;
	e->pid = c->pid;
	e->tid = c->tid;
	e->key = fc_tcp_slot[slot].id;
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = 0;
	e->value = d;
	e->metric = FC_M_TCP_CONNECT_LATENCY;
	e->err = err;
	__builtin_memcpy(e->comm, c->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(fc_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 key = (__u64)(unsigned long)sk, pt, d;
	struct conn_start *c, n = {};
	__u32 slot;
	int err = 0;

	if (BPF_CORE_READ(sk, sk_protocol) != FC_IPPROTO_TCP)
		return 0;
	if (newstate == FC_TCP_SYN_SENT) {
		n.cell = fc_cell_sock((struct sock *)sk);
		if (n.cell < 0)
			return 0;
		pt = bpf_get_current_pid_tgid();
		n.pid = pt >> 32;
		n.tid = (__u32)pt;
		bpf_get_current_comm(n.comm, sizeof(n.comm));
		n.ts = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&fc_tcp_start, &key, &n, BPF_ANY))
			fc_stat_add(FC_TS_STORE_FAIL, 1);
		return 0;
	}
	if (oldstate != FC_TCP_SYN_SENT)
		return 0;
	c = bpf_map_lookup_elem(&fc_tcp_start, &key);
	if (!c)
		return 0;
	d = bpf_ktime_get_ns() - c->ts;
	if (c->cell < 0 || c->cell >= FC_MAX_CELLS)
		goto out;
	slot = newstate == FC_TCP_ESTABLISHED ? FC_TCP_CONNECT_OK : FC_TCP_CONNECT_FAILED;
	if (slot == FC_TCP_CONNECT_FAILED) {
		/* tcp_done_with_error() stores sk_err before the CLOSE transition */
		err = BPF_CORE_READ(sk, sk_err);
		if (!err)
			err = BPF_CORE_READ(sk, sk_err_soft);
	}
	if (fc_tcp_slot[slot].stride) {
		struct fc_hist_slot s = fc_tcp_slot[slot];
		bool top = fc_hist_record(&s, c->cell, d);

		/* every failure is a state change worth a line; successes only as exemplars */
		if (slot == FC_TCP_CONNECT_FAILED)
			emit_conn(c, FC_EV_STATE, sk, slot, d, err);
		else if (top)
			emit_conn(c, FC_EV_EXEMPLAR, sk, slot, d, 0);
	}
out:
	bpf_map_delete_elem(&fc_tcp_start, &key);
	return 0;
}

static __always_inline void count_sock(const struct sock *sk, __u32 slot)
{
	int cell;

	if (!sk || slot >= FC_TCP_NSLOTS || !fc_tcp_slot[slot].stride)
		return;
	cell = fc_cell_sock((struct sock *)sk);
	if (cell < 0)
		return;
	struct fc_hist_slot s = fc_tcp_slot[slot];

	fc_hist_count(&s, cell, 1);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(fc_tcp_retrans, const struct sock *sk)
{
	count_sock(sk, FC_TCP_RETRANS);
	return 0;
}

/* sk is NULL for a reset answering a packet that matched no socket: not a cell's reset. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(fc_tcp_rst_sent, const struct sock *sk)
{
	count_sock(sk, FC_TCP_RST_SENT);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(fc_tcp_rst_recv, struct sock *sk)
{
	count_sock(sk, FC_TCP_RST_RECV);
	return 0;
}

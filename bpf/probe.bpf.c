// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `faultcell probe`: one tiny program per mechanism of design.md §4–5. Each counts its hits in
 * a .bss counter when triggered; user space loads one mechanism at a time (the others are set
 * to autoload=false), so a program this kernel refuses never hides the others. A mechanism is
 * available only when its program ran (hits > 0) and, where it acts, the caller saw the effect.
 */
#include "fc_common.bpf.h"
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define TC_ACT_OK	   0
#define ETH_P_IP	   0x0800
#define CLOCK_MONOTONIC	   1
#define SIGUSR1		   10
/* Errnos the caller must see; EREMOTEIO is one open("/dev/null") never returns by itself. */
#define PROBE_ECONNREFUSED 111
#define PROBE_ENETUNREACH  101
#define PROBE_EREMOTEIO	   121
/* What bpf_override_return makes getpid() return: no real pid looks like it. */
#define PROBE_OVERRIDE_RC  0x7ffc0de

/* Written by user space after load, before attach. */
__u32 target_tgid;
__u64 target_cgid;  /* the scratch cell */
__u32 target_level; /* its depth below the cgroup2 root */
__u32 shots;	    /* one-shot effects (deny, override, signal) left */
__u32 drops_left;   /* TCP data segments to drop at ingress (the retransmit trigger) */

/* One counter per program; user space reads them through the skeleton's bss. */
__u64 hit_cgroup_skb, hit_tc, hit_tc_anc, hit_tc_tstamp, hit_connect4, hit_sendmsg4;
__u64 hit_sockops, hit_sk_msg, hit_raw_tp, hit_tp_btf, hit_task_anc, hit_uprobe, hit_uretprobe;
__u64 hit_kprobe, hit_kretprobe, hit_fentry, hit_fexit, hit_fmod_ret, hit_lsm, hit_lsm_cgroup;
__u64 hit_override, hit_ringbuf, hit_timer, hit_timer_cb, hit_send_signal;
__u64 hit_tcp_state, hit_tcp_reset, hit_tcp_retrans, hit_drop;
__s64 tstamp_err; /* the last bpf_skb_set_tstamp error, 0 when none */

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline bool take_shot(void)
{
	if (!shots)
		return false;
	shots--;
	return true;
}

/* ---- cgroup and tc: triggered by UDP sends of a child in the scratch cell ---- */

SEC("cgroup_skb/egress")
int p_cgroup_skb(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&hit_cgroup_skb, 1);
	return 1;
}

/* tc clsact and TCX: the scratch netns is ours alone, so every packet counts. */
SEC("tc")
int p_tc(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&hit_tc, 1);
	return TC_ACT_OK;
}

/* The cell match every tc fault uses: the sending socket's ancestor at the cell's level. */
SEC("tc")
int p_tc_anc(struct __sk_buff *skb)
{
	if (bpf_skb_ancestor_cgroup_id(skb, target_level) == target_cgid)
		__sync_fetch_and_add(&hit_tc_anc, 1);
	return TC_ACT_OK;
}

/* EDT with a delivery-time clock that survives netns crossings (design.md §4). "Now": no delay. */
SEC("tc")
int p_tc_tstamp(struct __sk_buff *skb)
{
	long err = bpf_skb_set_tstamp(skb, bpf_ktime_get_ns(), 1 /* MONO / CLOCK_MONOTONIC */);

	if (err)
		tstamp_err = err;
	else
		__sync_fetch_and_add(&hit_tc_tstamp, 1);
	return TC_ACT_OK;
}

/* ---- sock_addr: the caller must get exactly the errno we set ---- */

SEC("cgroup/connect4")
int p_connect4(struct bpf_sock_addr *ctx)
{
	__sync_fetch_and_add(&hit_connect4, 1);
	bpf_set_retval(-PROBE_ECONNREFUSED);
	return 0;
}

/* Only unconnected UDP sends reach this hook. */
SEC("cgroup/sendmsg4")
int p_sendmsg4(struct bpf_sock_addr *ctx)
{
	__sync_fetch_and_add(&hit_sendmsg4, 1);
	bpf_set_retval(-PROBE_ENETUNREACH);
	return 0;
}

/* ---- sk_msg: sock_ops puts the cell's TCP sockets in a sockhash, sk_msg drops their sends ---- */

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} probe_socks SEC(".maps");

SEC("sockops")
int p_sockops(struct bpf_sock_ops *skops)
{
	__u32 key = skops->local_port;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (!bpf_sock_hash_update(skops, &probe_socks, &key, BPF_ANY))
		__sync_fetch_and_add(&hit_sockops, 1);
	return 1;
}

SEC("sk_msg")
int p_sk_msg(struct sk_msg_md *msg)
{
	__sync_fetch_and_add(&hit_sk_msg, 1);
	return SK_DROP;
}

/* ---- tracing: triggered by this process's own syscalls, calls and opens ---- */

SEC("raw_tp/sys_enter")
int p_raw_tp(void *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&hit_raw_tp, 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(p_tp_btf, struct pt_regs *regs, long id)
{
	if (is_target())
		__sync_fetch_and_add(&hit_tp_btf, 1);
	return 0;
}

/* The task-context cell match (syscall metrics, file faults): a child runs in the cell. */
SEC("raw_tp/sys_enter")
int p_task_anc(void *ctx)
{
	if (is_target() && bpf_get_current_ancestor_cgroup_id(target_level) == target_cgid)
		__sync_fetch_and_add(&hit_task_anc, 1);
	return 0;
}

/* Attached by offset to a function of our own binary. */
SEC("uprobe")
int p_uprobe(struct pt_regs *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&hit_uprobe, 1);
	return 0;
}

SEC("uretprobe")
int p_uretprobe(struct pt_regs *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&hit_uretprobe, 1);
	return 0;
}

/* Attached by name to the getpid syscall function found in kallsyms. */
SEC("kprobe")
int p_kprobe(struct pt_regs *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&hit_kprobe, 1);
	return 0;
}

SEC("kretprobe")
int p_kretprobe(struct pt_regs *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&hit_kretprobe, 1);
	return 0;
}

/* Error injection: getpid() returns our value once, so the effect is visible to the caller. */
SEC("kprobe")
int p_override(struct pt_regs *ctx)
{
	if (!is_target() || !take_shot())
		return 0;
	__sync_fetch_and_add(&hit_override, 1);
	bpf_override_return(ctx, PROBE_OVERRIDE_RC);
	return 0;
}

/* security_file_open exists in every kernel's BTF and is a legal fmod_ret target. */
SEC("fentry/security_file_open")
int BPF_PROG(p_fentry, struct file *file)
{
	if (is_target())
		__sync_fetch_and_add(&hit_fentry, 1);
	return 0;
}

SEC("fexit/security_file_open")
int BPF_PROG(p_fexit, struct file *file, int ret)
{
	if (is_target())
		__sync_fetch_and_add(&hit_fexit, 1);
	return 0;
}

SEC("fmod_ret/security_file_open")
int BPF_PROG(p_fmod_ret, struct file *file, int ret)
{
	if (!is_target())
		return 0;
	__sync_fetch_and_add(&hit_fmod_ret, 1);
	return take_shot() ? -PROBE_EREMOTEIO : 0;
}

/* An LSM program can attach and never run (bpf not in the active list): the errno tells. */
SEC("lsm/file_open")
int BPF_PROG(p_lsm, struct file *file, int ret)
{
	if (ret || !is_target())
		return ret;
	__sync_fetch_and_add(&hit_lsm, 1);
	return take_shot() ? -PROBE_EREMOTEIO : 0;
}

/* Per-cgroup LSM: 1 allows, 0 denies with EPERM. */
SEC("lsm_cgroup/file_open")
int BPF_PROG(p_lsm_cgroup, struct file *file)
{
	if (!is_target())
		return 1;
	__sync_fetch_and_add(&hit_lsm_cgroup, 1);
	return take_shot() ? 0 : 1;
}

SEC("raw_tp/sys_enter")
int p_send_signal(void *ctx)
{
	if (is_target() && take_shot() && !bpf_send_signal(SIGUSR1))
		__sync_fetch_and_add(&hit_send_signal, 1);
	return 0;
}

/* ---- TCP tracepoints (metrics): attributed by the socket's own cgroup, as §3 requires ---- */

static __always_inline void count_sock(const struct sock *sk, __u64 *ctr)
{
	struct cgroup *cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);

	if (fc_cgroup_ancestor(cg, target_level) == target_cgid)
		__sync_fetch_and_add(ctr, 1);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(p_tcp_state_btf, const struct sock *sk)
{
	count_sock(sk, &hit_tcp_state);
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(p_tcp_state_raw, const struct sock *sk)
{
	count_sock(sk, &hit_tcp_state);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(p_tcp_reset_btf, const struct sock *sk)
{
	count_sock(sk, &hit_tcp_reset);
	return 0;
}

SEC("raw_tp/tcp_receive_reset")
int BPF_PROG(p_tcp_reset_raw, const struct sock *sk)
{
	count_sock(sk, &hit_tcp_reset);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(p_tcp_retrans_btf, const struct sock *sk)
{
	count_sock(sk, &hit_tcp_retrans);
	return 0;
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(p_tcp_retrans_raw, const struct sock *sk)
{
	count_sock(sk, &hit_tcp_retrans);
	return 0;
}

/*
 * The retransmit trigger: drop the first TCP segment carrying data at the receiver's ingress.
 * An egress drop would be reported to the local stack, which resends without counting a
 * retransmit (kernel-facts); an ingress drop is a real loss.
 */
SEC("cgroup_skb/ingress")
int p_drop_data(struct __sk_buff *skb)
{
	struct iphdr iph;
	struct tcphdr th;
	__u32 ihl;
	int payload;

	if (!drops_left || skb->protocol != bpf_htons(ETH_P_IP))
		return 1;
	if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)) || iph.protocol != IPPROTO_TCP)
		return 1;
	ihl = iph.ihl * 4;
	if (ihl < sizeof(iph) || bpf_skb_load_bytes(skb, ihl, &th, sizeof(th)))
		return 1;
	payload = (int)bpf_ntohs(iph.tot_len) - (int)ihl - th.doff * 4;
	if (payload <= 0)
		return 1;
	drops_left--;
	__sync_fetch_and_add(&hit_drop, 1);
	return 0;
}

/* ---- run through BPF_PROG_TEST_RUN: no attach needed, a deterministic trigger ---- */

#define PROBE_RB_MAGIC 0xfc0be11ULL

SEC("tc")
int p_ringbuf(struct __sk_buff *skb)
{
	__u64 *e = bpf_ringbuf_reserve(&fc_events, sizeof(*e), 0);

	if (!e) {
		fc_stat_add(FC_STAT_RB_FAIL, 1);
		return TC_ACT_OK;
	}
	*e = PROBE_RB_MAGIC;
	bpf_ringbuf_submit(e, 0);
	__sync_fetch_and_add(&hit_ringbuf, 1);
	return TC_ACT_OK;
}

/* bpf_timer is refused in tracing programs: probe it where faults would use it (tc). */
struct probe_timer {
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_timer);
} probe_timers SEC(".maps");

static int timer_cb(void *map, __u32 *key, struct probe_timer *v)
{
	__sync_fetch_and_add(&hit_timer_cb, 1);
	return 0;
}

SEC("tc")
int p_timer(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct probe_timer *v = bpf_map_lookup_elem(&probe_timers, &key);

	if (!v || bpf_timer_init(&v->t, &probe_timers, CLOCK_MONOTONIC))
		return TC_ACT_OK;
	if (bpf_timer_set_callback(&v->t, timer_cb) || bpf_timer_start(&v->t, 0, 0))
		return TC_ACT_OK;
	__sync_fetch_and_add(&hit_timer, 1);
	return TC_ACT_OK;
}

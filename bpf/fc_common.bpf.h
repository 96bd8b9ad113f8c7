/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What every faultcell BPF object shares: the run-id tag, the control map and its check, the
 * per-object counters, the ring buffer and the cell match (design.md §3).
 *
 * Each object gets its own copy of these maps at open; the loader replaces the control map and
 * the ring buffer with core's through bpf_map__reuse_fd, so one write reaches every object.
 */
#ifndef FC_COMMON_BPF_H
#define FC_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "fc_control.h"
#include "fc_event.h"

/*
 * The run id, as program metadata: libbpf binds .rodata to every program it loads, and the
 * inventory reads this variable back through the map's BTF (bpftool shows it as metadata).
 */
const volatile char bpf_metadata_faultcell_run[FC_RUN_ID_LEN] SEC(".rodata") = "";

/* The cells this object matches: cgroup ids and their depth below the cgroup2 root. */
const volatile __u64 fc_cell_id[FC_MAX_CELLS] = {};
const volatile __u32 fc_cell_level[FC_MAX_CELLS] = {};
const volatile __u32 fc_ncells = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_control);
} fc_control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FC_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} fc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} fc_events SEC(".maps");

static __always_inline void fc_stat_add(__u32 slot, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&fc_stats, &slot);

	if (v)
		*v += n;
}

/*
 * Record CLOCK_MONOTONIC once per CPU (first writer wins; user space takes the minimum). The
 * fine clock is read only on that first time, so latency figures are not coarse-tick skewed.
 */
static __always_inline void fc_stat_first(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&fc_stats, &slot);

	if (v && !*v)
		*v = bpf_ktime_get_ns();
}

/*
 * The control check. Fault programs call it first and pass traffic untouched when it fails.
 * Comparisons are signed: see fc_control.h for why.
 */
static __always_inline bool fc_armed_at(__u64 now)
{
	__u32 zero = 0;
	struct fc_control *c = bpf_map_lookup_elem(&fc_control, &zero);

	if (!c) {
		fc_stat_add(FC_STAT_INERT_NOMAP, 1);
		return false;
	}
	if (!c->enabled) {
		fc_stat_add(FC_STAT_INERT_DISABLED, 1);
		fc_stat_first(FC_STAT_FIRST_INERT_NS);
		return false;
	}
	if ((__s64)(c->deadline_ns - now) <= 0) {
		fc_stat_add(FC_STAT_INERT_DEADLINE, 1);
		return false;
	}
	if ((__s64)(now - c->heartbeat_ns) >= (__s64)c->max_gap_ns) {
		fc_stat_add(FC_STAT_INERT_HEARTBEAT, 1);
		return false;
	}
	fc_stat_add(FC_STAT_ARMED, 1);
	fc_stat_first(FC_STAT_FIRST_ARMED_NS);
	return true;
}

/*
 * Clock by program type: cgroup, tc and sock_addr programs may use the cheap coarse clock;
 * tracing types (raw_tp, tp_btf, LSM, fentry, kprobe) are refused bpf_ktime_get_coarse_ns.
 */
#define fc_armed_coarse() fc_armed_at(bpf_ktime_get_coarse_ns())
#define fc_armed_fine()	  fc_armed_at(bpf_ktime_get_ns())

/*
 * Index of the first cell whose subtree holds @cg_at(level), or -1. Fault programs act on
 * index 0 only (the faulted cell); later indexes are measured, never faulted (a control).
 */
#define FC_CELL_MATCH(cg_at)                                                                       \
	({                                                                                         \
		int __idx = -1;                                                                    \
		for (int __i = 0; __i < FC_MAX_CELLS; __i++) {                                     \
			if (__i >= fc_ncells)                                                      \
				break;                                                             \
			if ((cg_at(fc_cell_level[__i])) == fc_cell_id[__i]) {                      \
				__idx = __i;                                                       \
				break;                                                             \
			}                                                                          \
		}                                                                                  \
		__idx;                                                                             \
	})

/* tc and cgroup_skb: the skb's socket cgroup. */
#define FC_SKB_ANC(l) bpf_skb_ancestor_cgroup_id(__fc_skb, (l))
static __always_inline int fc_cell_skb(struct __sk_buff *__fc_skb)
{
	return FC_CELL_MATCH(FC_SKB_ANC);
}

/* Task context (syscalls, sock_addr, uprobes): the current task's cgroup. */
#define FC_TASK_ANC(l) bpf_get_current_ancestor_cgroup_id(l)
static __always_inline int fc_cell_task(void)
{
	return FC_CELL_MATCH(FC_TASK_ANC);
}

/*
 * The id of @cg's ancestor at @level. cgroup->ancestors[] exists since 6.0 (commit
 * 7f203bc89eb6 replaced ancestor_ids[]); the oldest kernel we support is Debian 12's 6.1, and a
 * guarded fallback to ancestor_ids[] was hoisted by clang into an invalid CO-RE relocation, so
 * there is none: such a kernel fails the load and `probe` says so.
 */
static __always_inline u64 fc_cgroup_ancestor(struct cgroup *cg, u32 level)
{
	struct cgroup *anc = NULL;

	if (!cg || (u32)BPF_CORE_READ(cg, level) < level)
		return 0;
	bpf_core_read(&anc, sizeof(anc), &cg->ancestors[level]);
	return anc ? BPF_CORE_READ(anc, kn, id) : 0;
}

/*
 * Socket events (TCP state changes, retransmits) fire in softirq or timer context, where
 * `current` is whoever was interrupted: attribute them by the socket's own cgroup.
 */
#define FC_SK_ANC(l) fc_cgroup_ancestor(__fc_cg, (l))
static __always_inline int fc_cell_sock(struct sock *sk)
{
	struct cgroup *__fc_cg = NULL;

	if (!sk)
		return -1;
	__fc_cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	if (!__fc_cg)
		return -1;
	return FC_CELL_MATCH(FC_SK_ANC);
}

/* Fill the common event header; returns false when the ring is full (counted). */
static __always_inline void fc_event_fill(struct fc_event_hdr *e, __u16 type, int cell)
{
	__u64 pt = bpf_get_current_pid_tgid();

	e->type = type;
	e->cell = cell < 0 ? 0xffff : cell;
	e->pid = pt >> 32;
	e->tid = (__u32)pt;
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->metric = 0;
	e->err = 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#endif /* FC_COMMON_BPF_H */

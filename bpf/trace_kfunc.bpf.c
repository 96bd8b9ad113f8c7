// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kernel_function_latency (design.md §5): entry to return of a kernel function, per cell.
 * fentry/fexit where the kernel has BPF trampolines; a trampoline program has one target, set
 * at load, so there is one pair per function (FC_KF_MAX). Elsewhere kprobe/kretprobe, one
 * program pair attached once per function with the slot as its cookie. Attributed to the
 * calling task's cell (ancestor match): these run in the caller's context.
 */
#include "fc_common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "fc_hist.bpf.h"
#include "fc_metrics.h"

const volatile struct fc_hist_slot fc_kf_slot[FC_KF_MAX] = {};

struct kf_key {
	__u64 pid_tgid;
	__u64 slot;
};

struct kf_start {
	__u64 ts;
	__s32 cell;
	__u32 pad;
};

/* Keyed by thread and function; a recursive call overwrites (we time the innermost). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct kf_key);
	__type(value, struct kf_start);
} fc_kf_start SEC(".maps");

static __always_inline void kf_enter(__u64 slot)
{
	struct kf_key k = { .pid_tgid = bpf_get_current_pid_tgid(), .slot = slot };
	struct kf_start s = {};

	if (slot >= FC_KF_MAX)
		return;
	s.cell = fc_cell_task();
	if (s.cell < 0)
		return;
	s.ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&fc_kf_start, &k, &s, BPF_ANY))
		fc_stat_add(FC_TS_STORE_FAIL, 1);
}

static __always_inline void kf_exit(__u64 slot)
{
	struct kf_key k = { .pid_tgid = bpf_get_current_pid_tgid(), .slot = slot };
	struct fc_event_hdr *e;
	struct kf_start *s;
	__u64 d;
	int cell;

	if (slot >= FC_KF_MAX)
		return;
	s = bpf_map_lookup_elem(&fc_kf_start, &k);
	if (!s)
		return;
	d = bpf_ktime_get_ns() - s->ts;
	cell = s->cell;
	bpf_map_delete_elem(&fc_kf_start, &k);
	if (cell < 0 || cell >= FC_MAX_CELLS || !fc_kf_slot[slot & (FC_KF_MAX - 1)].stride)
		return;
	struct fc_hist_slot hs = fc_kf_slot[slot & (FC_KF_MAX - 1)];

	if (!fc_hist_record(&hs, cell, d))
		return;
	e = bpf_ringbuf_reserve(&fc_events, sizeof(*e), 0);
	if (!e) {
		fc_stat_add(FC_STAT_RB_FAIL, 1);
		return;
	}
	fc_event_fill(e, FC_EV_EXEMPLAR, cell);
	e->key = hs.id;
	e->value = d;
	e->metric = FC_M_KERNEL_FUNCTION_LATENCY;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* The target of each pair is set by the loader (bpf_program__set_attach_target). */
#define KF_PAIR(i)                                                                                 \
	SEC("fentry")                                                                              \
	int BPF_PROG(fc_kf_entry##i)                                                               \
	{                                                                                          \
		kf_enter(i);                                                                       \
		return 0;                                                                          \
	}                                                                                          \
	SEC("fexit")                                                                               \
	int BPF_PROG(fc_kf_exit##i)                                                                \
	{                                                                                          \
		kf_exit(i);                                                                        \
		return 0;                                                                          \
	}

KF_PAIR(0)
KF_PAIR(1)
KF_PAIR(2)
KF_PAIR(3)

SEC("kprobe")
int fc_kf_kprobe(struct pt_regs *ctx)
{
	kf_enter(bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("kretprobe")
int fc_kf_kretprobe(struct pt_regs *ctx)
{
	kf_exit(bpf_get_attach_cookie(ctx));
	return 0;
}

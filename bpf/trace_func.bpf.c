// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * function_latency for BINARY:SYMBOL (design.md §5): uprobe + uretprobe pairs, one pair per
 * asked function; the attach cookie says which slot a hit belongs to.
 */
#include "fc_common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "fc_hist.bpf.h"
#include "fc_metrics.h"

const volatile struct fc_hist_slot fc_fn_slot[FC_FN_MAX] = {};

struct fn_key {
	__u64 pid_tgid;
	__u64 cookie;
};

struct fn_start {
	__u64 ts;
	__s32 cell;
	__u32 pad;
};

/* Keyed by thread and function; a recursive call overwrites (we time the innermost). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct fn_key);
	__type(value, struct fn_start);
} fc_fn_start SEC(".maps");

SEC("uprobe")
int fc_fn_entry(struct pt_regs *ctx)
{
	struct fn_key k = { .pid_tgid = bpf_get_current_pid_tgid(),
			    .cookie = bpf_get_attach_cookie(ctx) };
	struct fn_start s = {};

	if (k.cookie >= FC_FN_MAX)
		return 0;
	s.cell = fc_cell_task();
	if (s.cell < 0)
		return 0;
	s.ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&fc_fn_start, &k, &s, BPF_ANY))
		fc_stat_add(FC_TS_STORE_FAIL, 1);
	return 0;
}

SEC("uretprobe")
int fc_fn_return(struct pt_regs *ctx)
{
	struct fn_key k = { .pid_tgid = bpf_get_current_pid_tgid(),
			    .cookie = bpf_get_attach_cookie(ctx) };
	struct fc_event_hdr *e;
	struct fn_start *s;
	__u64 d;
	int cell;

	if (k.cookie >= FC_FN_MAX)
		return 0;
	s = bpf_map_lookup_elem(&fc_fn_start, &k);
	if (!s)
		return 0;
	d = bpf_ktime_get_ns() - s->ts;
	cell = s->cell;
	bpf_map_delete_elem(&fc_fn_start, &k);
	if (cell < 0 || cell >= FC_MAX_CELLS || !fc_fn_slot[k.cookie & (FC_FN_MAX - 1)].stride)
		return 0;
	struct fc_hist_slot slot = fc_fn_slot[k.cookie & (FC_FN_MAX - 1)];

	if (!fc_hist_record(&slot, cell, d))
		return 0;
	e = bpf_ringbuf_reserve(&fc_events, sizeof(*e), 0);
	if (!e) {
		fc_stat_add(FC_STAT_RB_FAIL, 1);
		return 0;
	}
	fc_event_fill(e, FC_EV_EXEMPLAR, cell);
	e->key = slot.id;
	e->value = d;
	e->metric = FC_M_FUNCTION_LATENCY;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * syscall_latency and syscall_errors for the syscalls an experiment names (design.md §5).
 *
 * The raw sys_enter/sys_exit tracepoints are the only syscall hooks on this kernel (no fentry,
 * no kprobes) and they tax every syscall on the host (docs/TRACER.md, OVERHEAD). We attach as
 * tp_btf, not raw_tp: same dispatch, but the verifier trusts `regs`, so the exit path reads
 * the syscall number directly and rejects unwanted syscalls with two loads and no helper call,
 * exactly like the enter path.
 */
#include "fc_common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "fc_hist.bpf.h"
#include "fc_metrics.h"

/* Per syscall number: the latency and error slots, zero when not asked for. */
const volatile struct fc_sc_want fc_sc_want[FC_SC_MAX] = {};

struct sc_start {
	__u64 ts;
	__u32 nr;
	__s32 cell;
};

/* Task storage: no capacity to size, freed with the task, cheaper than a tid hash. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sc_start);
} fc_sc_start SEC(".maps");

static __always_inline void emit(__u16 type, int cell, const struct fc_hist_slot *s, __u64 value,
				 int err)
{
	struct fc_event_hdr *e = bpf_ringbuf_reserve(&fc_events, sizeof(*e), 0);

	if (!e) {
		fc_stat_add(FC_STAT_RB_FAIL, 1);
		return;
	}
	fc_event_fill(e, type, cell);
	e->key = s->id;
	e->value = value;
	e->metric = type == FC_EV_ERROR ? FC_M_SYSCALL_ERRORS : FC_M_SYSCALL_LATENCY;
	e->err = err;
	/* batched delivery: user space polls on a timer (design.md §5) */
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(fc_sc_enter, struct pt_regs *regs, long id)
{
	__u32 nr;
	struct sc_start *st;
	int cell;

	if ((unsigned long)id >= FC_SC_MAX)
		return 0;
	/* a mask, not only the test above: clang may index with the unchecked register */
	nr = (__u32)id & (FC_SC_MAX - 1);
	if (!fc_sc_want[nr].lat.stride && !fc_sc_want[nr].err.stride)
		return 0;
	cell = fc_cell_task();
	if (cell < 0)
		return 0;
	st = bpf_task_storage_get(&fc_sc_start, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		fc_stat_add(FC_TS_STORE_FAIL, 1);
		return 0;
	}
	st->nr = nr;
	st->cell = cell;
	st->ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(fc_sc_exit, struct pt_regs *regs, long ret)
{
	unsigned long id = regs->orig_ax;
	struct sc_start *st;
	__u64 now, d;
	__u32 nr;
	int cell;

	if (id >= FC_SC_MAX)
		return 0;
	nr = (__u32)id & (FC_SC_MAX - 1);
	if (!fc_sc_want[nr].lat.stride && !fc_sc_want[nr].err.stride)
		return 0;
	st = bpf_task_storage_get(&fc_sc_start, bpf_get_current_task_btf(), 0, 0);
	if (!st || !st->ts)
		return 0;
	now = bpf_ktime_get_ns();
	d = now - st->ts;
	st->ts = 0;
	/* the start belongs to this syscall: a signal can end one syscall and start another */
	if (st->nr != nr)
		return 0;
	cell = st->cell;
	if (cell < 0 || cell >= FC_MAX_CELLS)
		return 0;
	if (fc_sc_want[nr].lat.stride) {
		struct fc_hist_slot s = fc_sc_want[nr].lat;

		if (fc_hist_record(&s, cell, d))
			emit(FC_EV_EXEMPLAR, cell, &s, d, 0);
	}
	/* -4095..-1 is the kernel's error range; larger "negative" values are valid results */
	if (ret < 0 && ret >= -4095 && fc_sc_want[nr].err.stride) {
		struct fc_hist_slot s = fc_sc_want[nr].err;

		fc_hist_count(&s, cell, 1);
		emit(FC_EV_ERROR, cell, &s, (__u64)nr, (int)-ret);
	}
	return 0;
}

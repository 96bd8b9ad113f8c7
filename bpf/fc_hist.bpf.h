/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one histogram update of the tracer objects (design.md §5, style.md §8). Include after
 * fc_common.bpf.h. Each object owns:
 *  - fc_hist: a per-CPU array of 512-byte rows, sized by the loader to exactly the rows its
 *    asked-for (cell, metric, key) slots need (bpf_map__set_max_entries before load);
 *  - fc_hist_gen: the window generation, bumped by the loader at every snapshot through the
 *    mmap'ed .bss, which resets the per-window max without touching per-CPU memory.
 */
#ifndef FC_HIST_BPF_H
#define FC_HIST_BPF_H

#include "fc_hist.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_hist_row);
} fc_hist SEC(".maps");

volatile __u64 fc_hist_gen = 0;

static __always_inline struct fc_hist_row *fc_hist_row_at(__u32 idx)
{
	return bpf_map_lookup_elem(&fc_hist, &idx);
}

/*
 * Add one value to @s for @cell. Returns true when it is the largest this CPU has seen in the
 * current window: the caller then emits an exemplar event (expected ~ln(n) per window and CPU,
 * and user space keeps the largest).
 */
static __always_inline bool fc_hist_record(const struct fc_hist_slot *s, int cell, __u64 v)
{
	__u32 base = s->base + (__u32)cell * s->stride, row = 0, sub = 0, i;
	struct fc_hist_row *h, *r;
	__u64 gen = fc_hist_gen;
	bool top = false;
	int where;

	h = fc_hist_row_at(base);
	if (!h)
		return false;
	h->w[FC_HH_COUNT]++;
	h->w[FC_HH_SUM] += v;
	if (v > h->w[FC_HH_MAX])
		h->w[FC_HH_MAX] = v;
	/* a new generation resets only its own parity: the other one is the finished window */
	i = (__u32)(gen & 1);
	if (h->w[(FC_HH_WGEN0 + i) & 7] != gen) {
		h->w[(FC_HH_WGEN0 + i) & 7] = gen;
		h->w[(FC_HH_WMAX0 + i) & 7] = 0;
	}
	if (v > h->w[(FC_HH_WMAX0 + i) & 7]) {
		h->w[(FC_HH_WMAX0 + i) & 7] = v;
		top = true;
	}
	if (!s->npow)
		return top;
	where = fc_hist_place(v, s->lo_pow, s->npow, &row, &sub);
	if (where == FC_HP_UNDER) {
		h->w[FC_HH_UNDER]++;
		return top;
	}
	if (where == FC_HP_OVER) {
		h->w[FC_HH_OVER]++;
		return top;
	}
	r = fc_hist_row_at(base + 1 + row);
	if (r)
		r->w[sub & (FC_HIST_SUB - 1)]++;
	return top;
}

/* Counters: @n events for @cell (npow == 0 slots). */
static __always_inline void fc_hist_count(const struct fc_hist_slot *s, int cell, __u64 n)
{
	struct fc_hist_row *h = fc_hist_row_at(s->base + (__u32)cell * s->stride);

	if (h)
		h->w[FC_HH_COUNT] += n;
}

#endif /* FC_HIST_BPF_H */

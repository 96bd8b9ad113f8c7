/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control ABI shared by every fault program and the loader (design.md §3).
 *
 * One entry of struct fc_control lives in a single-slot array map created by core and reused
 * by every object (bpf_map__reuse_fd), so one map write turns every fault of a run inert.
 */
#ifndef FC_CONTROL_H
#define FC_CONTROL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FC_RUN_ID_LEN 40
#define FC_MAX_CELLS  8

/*
 * All times are CLOCK_MONOTONIC nanoseconds. User space writes them from CLOCK_MONOTONIC_COARSE,
 * which lags the fine clock by up to one tick, so BPF compares them signed (never unsigned: a
 * heartbeat "in the future" by a few ms must not wrap into a huge gap).
 */
struct fc_control {
	__u32 enabled;
	__u32 generation; /* bumped on every user-space write, for debugging */
	__u64 deadline_ns;
	__u64 heartbeat_ns;
	__u64 max_gap_ns;
	__u64 disabled_at_ns; /* set by whoever clears enabled: abort → inert latency (P4) */
};

/* Why a fault program let traffic or a call through untouched. */
enum fc_inert_reason {
	FC_INERT_DISABLED = 0,
	FC_INERT_DEADLINE = 1,
	FC_INERT_HEARTBEAT = 2,
	FC_INERT_NOMAP = 3,
	FC_INERT_MAX = 4,
};

/*
 * Per-object counters, a per-CPU array indexed by these slots. The first slots are the inert
 * reasons; each fault family adds its own from FC_STAT_FAMILY on.
 */
enum fc_stat_slot {
	FC_STAT_INERT_DISABLED = FC_INERT_DISABLED,
	FC_STAT_INERT_DEADLINE = FC_INERT_DEADLINE,
	FC_STAT_INERT_HEARTBEAT = FC_INERT_HEARTBEAT,
	FC_STAT_INERT_NOMAP = FC_INERT_NOMAP,
	FC_STAT_ARMED = 4,	    /* control check passed */
	FC_STAT_FIRST_ARMED_NS = 5, /* not a counter: time of the first armed call (P7) */
	FC_STAT_FIRST_INERT_NS = 6, /* first inert-disabled call after arming (P4) */
	FC_STAT_RB_FAIL = 7,	    /* failed bpf_ringbuf_reserve: the kernel keeps no count */
	FC_STAT_FIRST_HIT_NS = 8,   /* not a counter: time of the first injection (P7) */
	FC_STAT_FAMILY = 10,
	FC_STAT_MAX = 24,
};

#endif /* FC_CONTROL_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Metric ids and per-family layouts shared by the tracer's BPF objects and the loader
 * (design.md §5). The user-space registry (user/metrics/registry.h) gives each id its name,
 * unit, range and keys; this header only carries what the kernel side needs.
 */
#ifndef FC_METRICS_H
#define FC_METRICS_H

#include "fc_control.h"
#include "fc_hist.h"

/* ABI ids: stored in ring-buffer events (fc_event_hdr.metric). Never renumber. */
enum fc_metric_id {
	FC_M_SYSCALL_LATENCY = 1,
	FC_M_SYSCALL_ERRORS = 2,
	FC_M_TCP_CONNECT_LATENCY = 3,
	FC_M_TCP_RETRANSMITS = 4,
	FC_M_TCP_RESETS = 5,
	FC_M_FUNCTION_LATENCY = 6,
	FC_M_KERNEL_FUNCTION_LATENCY = 7,
};

/* Syscall family: one descriptor pair per syscall number, zero when not asked for. */
#define FC_SC_MAX 512
struct fc_sc_want {
	struct fc_hist_slot lat;
	struct fc_hist_slot err;
};

/* TCP family: fixed keys. */
enum fc_tcp_slot {
	FC_TCP_CONNECT_OK = 0,	   /* SYN_SENT -> ESTABLISHED */
	FC_TCP_CONNECT_FAILED = 1, /* SYN_SENT -> CLOSE (refused, timed out, aborted) */
	FC_TCP_RETRANS = 2,
	FC_TCP_RST_SENT = 3,
	FC_TCP_RST_RECV = 4,
	FC_TCP_NSLOTS = 5,
};

/* Function family: one slot per attached probe, found through the probe's BPF cookie. */
#define FC_FN_MAX 16

/* Kernel-function family: one fentry/fexit pair per function (a program has one target). */
#define FC_KF_MAX 4

/* Counter slots of the tracer objects' fc_stats (after FC_STAT_FAMILY). */
enum fc_trace_stat {
	FC_TS_STORE_FAIL = FC_STAT_FAMILY, /* could not record a start (storage or map full) */
};

#endif /* FC_METRICS_H */

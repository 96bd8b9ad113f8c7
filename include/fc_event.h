/* SPDX-License-Identifier: BSD-2-Clause */
/* Ring-buffer event records (design.md §5): one header, typed by fc_event_hdr.type. */
#ifndef FC_EVENT_H
#define FC_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FC_COMM_LEN 16

enum fc_event_type {
	FC_EV_FAULT_HIT = 1, /* a fault acted (sampled) */
	FC_EV_ERROR = 2,     /* a traced call failed: value = errno */
	FC_EV_EXEMPLAR = 3,  /* slowest call of a window: value = latency ns */
	FC_EV_STATE = 4,     /* a state change, e.g. TCP connect outcome */
	FC_EV_TEST = 100,    /* test-only programs */
};

struct fc_event_hdr {
	__u16 type;
	__u16 cell; /* index into the run's cells */
	__u32 pid;
	__u32 tid;
	__u32 key; /* metric-specific key: syscall nr, fault id, ... */
	__u64 ts_ns;
	__u64 cgroup_id;
	__u64 value;
	char comm[FC_COMM_LEN];
	/* appended for the tracer (issue 6): which metric an event belongs to, and its errno */
	__u32 metric; /* enum fc_metric_id, 0 for non-metric events */
	__s32 err;    /* errno (positive) for FC_EV_ERROR and failed-connect FC_EV_STATE */
};

#endif /* FC_EVENT_H */

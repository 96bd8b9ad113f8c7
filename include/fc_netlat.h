/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * network-latency's ABI (design.md §4): earliest departure times set at tc egress, honoured by
 * sch_fq on the same device. One array slot, so delay, jitter and the limit can change without
 * a reload.
 */
#ifndef FC_NETLAT_H
#define FC_NETLAT_H

#include "fc_net.h"

enum fc_netlat_dist { FC_NL_FIXED = 0, FC_NL_UNIFORM = 1, FC_NL_NORMAL = 2 };

/* Quantiles of N(0,1) at (i + 0.5) / FC_NL_NTAB, in units of 1/FC_NL_TSCALE (|z| < 3.2). */
#define FC_NL_NTAB   1024
#define FC_NL_TSHIFT 13
#define FC_NL_TSCALE (1 << FC_NL_TSHIFT)

struct fc_netlat_cfg {
	struct fc_net_match m;
	__u32 dist; /* enum fc_netlat_dist */
	__u32 pad;
	__u64 delay_ns;	   /* mean added delay */
	__u64 jitter_ns;   /* uniform: ± jitter; normal: σ */
	__u64 max_ns;	   /* cap on one packet's added delay: below fq's horizon */
	__u64 p_delay;	   /* fixed-point P × 2^32 (fc_prob_fixed) */
	__u64 count_limit; /* 0 = none: at most this many packets delayed */
	__u64 delayed;	   /* atomic running total, checked against count_limit */
};

/* Family counters after the network ones (fc_net.h NS_*). */
enum fc_netlat_slot {
	NL_FLOW_HELD = NS_MAX, /* a packet's time raised to keep its flow in order */
	NL_CAPPED,	       /* a drawn delay cut to max_ns */
	NL_NOSOCK,	       /* a cell packet with no socket cookie: sent in order, undelayed */
};

#endif

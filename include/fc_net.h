/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Network faults' ABI (design.md §4): the match every network fault shares, the loss models,
 * the connect/send error table. Lives in a one-slot array map, so probability, errno and
 * limits can change mid-experiment without a reload.
 */
#ifndef FC_NET_H
#define FC_NET_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FC_PROTO_ANY  0
#define FC_PROTO_TCP  6
#define FC_PROTO_UDP  17
#define FC_PROTO_ICMP 1 /* ICMP for v4, ICMPv6 (58) for v6 */

#define FC_MAX_ERRNOS 8

/* Bits of fc_net_match.flags */
#define FC_M_CIDR4    0x1 /* remote address must be in the cidr4 trie */
#define FC_M_CIDR6    0x2 /* remote address must be in the cidr6 trie */
#define FC_M_CIDR_ANY (FC_M_CIDR4 | FC_M_CIDR6)

#define FC_MAX_PORT_RANGES 8

struct fc_port_range {
	__u16 lo, hi; /* inclusive, host order */
};

struct fc_net_match {
	__u32 flags;
	__u8 proto;	     /* FC_PROTO_* */
	__u8 nlport, nrport; /* 0 = any port. "local" is the cell's side, "remote" the peer's */
	__u8 pad;
	struct fc_port_range lport[FC_MAX_PORT_RANGES];
	struct fc_port_range rport[FC_MAX_PORT_RANGES];
};

enum fc_loss_model { FC_LOSS_BERNOULLI = 0, FC_LOSS_GE = 1 };

/*
 * Probabilities are fixed-point: P × 2^32 as u64, so 100% (2^32) is exact and compares against
 * one bpf_get_prandom_u32().
 */
struct fc_netloss_cfg {
	struct fc_net_match m;
	__u32 model;
	__u32 tcx; /* egress runs under TCX: drop by redirecting to nowhere (see netloss.bpf.c) */
	__u64 p_loss;	    /* Bernoulli: loss probability */
	__u64 ge_p;	    /* Gilbert-Elliott: P(good → bad) per packet */
	__u64 ge_r;	    /* P(bad → good) per packet */
	__u64 ge_loss_good; /* 1 − k: loss probability in the good state */
	__u64 ge_loss_bad;  /* 1 − h: loss probability in the bad state */
	__u64 count_limit;  /* 0 = none: at most this many drops in total (exact, atomic) */
	__u64 dropped;	    /* atomic running total, checked against count_limit */
};

/* Gilbert-Elliott state per direction, shared by every CPU (one array slot each). */
enum fc_dir { FC_DIR_EGRESS = 0, FC_DIR_INGRESS = 1 };

struct fc_connerr_cfg {
	struct fc_net_match m;
	__u32 nerr;
	__u32 pad;
	__u64 p_fail;
	__u64 count_limit;
	__u64 failed;
	/* weighted errno list: pick the first i with rand32 < cum[i] (cum[nerr-1] = 2^32) */
	__s32 err[FC_MAX_ERRNOS];
	__u64 cum[FC_MAX_ERRNOS];
};

/* Family counter slots in fc_stats (after FC_STAT_FAMILY). */
enum fc_net_slot {
	NS_SEEN = 10,
	NS_MATCHED,
	NS_INJECTED,
	NS_COUNT_EXHAUSTED,
	NS_GE_TO_BAD,
	NS_MAX,
};

/* LPM trie keys. */
struct fc_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct fc_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

#endif

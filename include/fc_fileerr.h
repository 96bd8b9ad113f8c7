/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * file-error's ABI (design.md §4): which operations fail, how often, with which errno. One
 * array slot, so rate and errno can change mid-run; the path prefix is a load-time constant.
 */
#ifndef FC_FILEERR_H
#define FC_FILEERR_H

#include "fc_control.h"

#define FC_FE_PATH_MAX	 512 /* bpf_d_path buffer; a longer path is never matched */
#define FC_FE_MAX_ERRNOS 8

enum fc_fe_op { FC_FE_OPEN = 1, FC_FE_READ = 2, FC_FE_WRITE = 4 };

struct fc_fileerr_cfg {
	__u32 ops; /* enum fc_fe_op bits */
	__u32 nerr;
	__u64 p_fail;	   /* fixed-point P × 2^32 */
	__u64 count_limit; /* 0 = none */
	__u64 failed;	   /* atomic running total, checked against count_limit */
	/* weighted errno list: the first i with rand32 < cum[i] (cum[nerr-1] = 2^32) */
	__s32 err[FC_FE_MAX_ERRNOS];
	__u64 cum[FC_FE_MAX_ERRNOS];
};

enum fc_fe_slot {
	FE_SEEN = FC_STAT_FAMILY, /* hook calls looked at (every file of the host) */
	FE_MATCHED,		  /* the cell's, an asked operation, under the prefix */
	FE_INJECTED,
	FE_COUNT_EXHAUSTED,
	FE_NOPATH, /* the cell's, but bpf_d_path failed (too long): let through */
};

#endif

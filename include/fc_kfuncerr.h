/* SPDX-License-Identifier: BSD-2-Clause */
/* kernel-function-error's ABI (design.md §4): how often a kernel function fails, and how. */
#ifndef FC_KFUNCERR_H
#define FC_KFUNCERR_H

#include "fc_control.h"

#define FC_KFE_MAX_ERRNOS 8

struct fc_kfuncerr_cfg {
	__u32 nerr;
	__u32 pad;
	__u64 p_fail;	   /* fixed-point P × 2^32 */
	__u64 count_limit; /* 0 = none */
	__u64 failed;	   /* atomic running total */
	__s32 err[FC_KFE_MAX_ERRNOS];
	__u64 cum[FC_KFE_MAX_ERRNOS]; /* weighted pick: first i with rand32 < cum[i] */
};

enum fc_kfe_slot {
	KFE_SEEN = FC_STAT_FAMILY, /* calls of the function looked at */
	KFE_MATCHED,		   /* the cell's */
	KFE_INJECTED,
	KFE_COUNT_EXHAUSTED,
};

#endif

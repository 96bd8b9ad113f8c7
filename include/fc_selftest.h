/* SPDX-License-Identifier: BSD-2-Clause */
/* Counter slots of the test-only program bpf/selftest.bpf.c (after FC_STAT_FAMILY). */
#ifndef FC_SELFTEST_H
#define FC_SELFTEST_H

#include "fc_control.h"

enum fc_selftest_slot {
	ST_SEEN = FC_STAT_FAMILY,
	ST_CELL,
	ST_DROPPED,
	ST_TP_HITS,
	ST_SOCK_HITS,
};

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef FC_TEST_BPFSTAT_H
#define FC_TEST_BPFSTAT_H

#include <stdint.h>

/* Sum one slot of a per-CPU fc_stats map opened by id; 0 on error (the assertion fails). */
uint64_t tstat(uint32_t map_id, uint32_t slot);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Recovering a run whose loader is gone, with the record of it appended to that run's own
 * journal: the same for `faultcell recover`, the guard's call of it, and a new run that finds
 * a crashed run's state when it takes the lock.
 */
#ifndef FC_RECOVERY_H
#define FC_RECOVERY_H

#include <stddef.h>

/*
 * fc_recover_run() on @run_id, then a "recover" record in its journal (when it has one) saying
 * @by ("operator", "guard" or "next run ID") and what was undone. Returns as fc_recover_run.
 */
int fc_recover_journaled(const char *run_id, const char *by, char *log, size_t loglen);

#endif

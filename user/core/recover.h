/* SPDX-License-Identifier: BSD-2-Clause */
/* Undo exactly what a run recorded, and verify it with the inventory (design.md §3). */
#ifndef FC_RECOVER_H
#define FC_RECOVER_H

#include <stddef.h>

#include "core/state.h"

/*
 * Undo @st: clear `enabled`, thaw recorded freezes, remove recorded filters that carry our
 * programs, remove the clsact qdisc we created once it is empty. Never touches anything that
 * is not recorded. Appends a line per action to @log. 0 or the first -errno (it goes on).
 */
int fc_undo_state(const struct fc_state *st, char *log, size_t loglen);

/*
 * Verify nothing of the run is left: no recorded filter, qdisc or freeze, and no program or
 * link tagged with its id (polled up to @wait_ms, since the kernel frees programs after an RCU
 * grace period). Returns how many items remain (0 = verified), or -errno.
 */
int fc_verify_gone(const char *run_id, int wait_ms, char *left, size_t leftlen);
/*
 * How long a rollback waits for the kernel to free what it released before it says "not
 * verified". Freeing takes microseconds to milliseconds; the cap is generous because a false
 * "not verified" leaves a state file and exit 6 behind a rollback that in fact worked.
 */
#define FC_VERIFY_WAIT_MS 5000

/*
 * The whole recover of one run: undo, verify, remove the state file when verified.
 * Returns 0 when verified, -EAGAIN when something remains, -errno otherwise.
 */
int fc_recover_run(const char *run_id, char *log, size_t loglen);

#endif

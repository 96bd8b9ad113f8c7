/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sch_fq for network-latency (design.md §4), installed only over a root the kernel created
 * (handle 0:, whatever its kind) and recorded in the state file before the change:
 *
 * - single queue: replace the root with our fq; deleting ours makes the kernel re-create its
 *   default (noqueue, pfifo_fast, fq_codel…);
 * - mq 0: (multi-queue): its children cannot be addressed, so replace the root with our own
 *   `mq` and put fq on each of its children; deleting *our root* makes the kernel re-create
 *   mq 0: with its default children (an identical dump). Never one child: that tx queue would
 *   fall to noop and drop everything (measured, kernel-facts.md).
 *
 * Somebody else's root (any handle but 0:) is never touched: fc_qdisc_check says whose.
 */
#ifndef FC_QDISC_H
#define FC_QDISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/state.h"

struct fc_qdisc {
	uint32_t handle; /* the root's handle (major << 16); 0 = created by the kernel */
	char kind[16];
	uint32_t qlen;	 /* packets queued in the root (mq: summed over its children) */
	uint32_t nchild; /* qdiscs on the root's classes (mq: one per tx queue) */
};

/* fq's limits: sized so a delayed flow is not tail-dropped by fq's defaults (100/flow). */
struct fc_fq_opts {
	uint32_t plimit;
	uint32_t flow_plimit;
};

/* The root qdisc of @ifindex (in the current netns). -ENODEV when the device is gone. */
int fc_qdisc_root(int ifindex, struct fc_qdisc *q);

/* Our root's handle for @run_id: major 0xfc00-0xfcff, so a dump shows whose it is. */
uint32_t fc_qdisc_handle(const char *run_id);

/*
 * May we install on @ifindex? 0 when its root is the kernel's default; -EEXIST with @why
 * naming the owner's qdisc otherwise; -ENODEV when the device is gone.
 */
int fc_qdisc_check(int ifindex, char *why, size_t len);

/*
 * Record (REC_QDISC in @st, fsync'd), then replace the kernel's root of @ifindex by fq, or by
 * our mq with an fq per tx queue. @drain_ms: how long a packet may wait in it (for rollback).
 * Fills @how ("fq replaced noqueue", "mq + 4 fq replaced mq"). 0, -EEXIST (not the kernel's
 * root: nothing done), or -errno with @why.
 */
int fc_qdisc_install_fq(struct fc_state *st, int ifindex, const struct fc_fq_opts *o,
			uint32_t drain_ms, char *how, size_t howlen, char *why, size_t len);

/* Is the root that @rec records still ours (same device, handle and kind)? */
bool fc_qdisc_rec_present(const struct fc_rec *rec);

/*
 * Undo one REC_QDISC: when our root is still there, wait up to its drain time for the
 * delayed packets to leave, then delete it (the kernel re-creates its default root).
 * Appends what it did to @log. 0 when removed or no longer ours, else -errno.
 */
int fc_qdisc_restore(const struct fc_rec *rec, char *log, size_t loglen);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Showing windows to a person or a program: the per-window table with one row per cell, a
 * terminal histogram with the cells side by side, or one JSON object per window. Events
 * (errors, failed connects, exemplars) seen during a window are printed with it.
 */
#ifndef FC_METRICS_VIEW_H
#define FC_METRICS_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "metrics/tracer.h"

struct fc_core;

#define FC_VIEW_EVENTS 32

struct fc_view {
	const struct fc_core *core;
	FILE *out;
	bool json, hist;
	struct fc_event_hdr ev[FC_VIEW_EVENTS]; /* errors and state changes of this window */
	int nev;
	uint64_t ev_dropped; /* beyond FC_VIEW_EVENTS: counted, not shown */
};

void fc_view_init(struct fc_view *v, const struct fc_core *core, bool json, bool hist);
/* An fc_event_fn: keeps this window's error and state events for the next fc_view_window. */
void fc_view_event(void *ctx, const struct fc_event_hdr *e, size_t size);
void fc_view_window(struct fc_view *v, const struct fc_window *w);
void fc_view_free(struct fc_view *v);

/* "850ns", "12.3us", "4.56ms", "1.234s". */
void fc_fmt_ns(double ns, char *buf, size_t len);

#endif

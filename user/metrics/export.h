/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus export of the tracer's windows (design.md §5, docs/EXPORT.md): the text exposition
 * format, served on --metrics-listen and/or written atomically to --textfile.
 *
 * Histograms are cumulative since attach with the coarse export buckets (4 per power of two,
 * an exact coarsening of ours); the last window's percentiles are gauges beside them.
 */
#ifndef FC_METRICS_EXPORT_H
#define FC_METRICS_EXPORT_H

#include <stddef.h>

#include "metrics/tracer.h"

struct fc_label {
	char name[64];
	char value[256];
};

struct fc_export {
	int listen_fd;
	char textfile[4096];
	const struct fc_label *labels;
	int nlabels;
	const char *const *cell_names; /* per cell index, the "cell" label */
	char *buf;		       /* the last rendered exposition */
	size_t len, cap;
};

/* Parse "k=v" into a label; -EINVAL when the name is not a Prometheus label name. */
int fc_label_parse(const char *s, struct fc_label *l);

/* @listen "HOST:PORT" (":PORT" = all addresses, "[::1]:PORT") and/or @textfile; either NULL. */
int fc_export_open(struct fc_export *x, const char *listen, const char *textfile,
		   const struct fc_label *labels, int nlabels, const char *const *cell_names,
		   char *why, size_t whylen);
/* Render @w (and the tracer's totals it points to); rewrite the textfile (tmp + rename). */
int fc_export_update(struct fc_export *x, const struct fc_window *w);
/* Answer pending scrapes, waiting up to @timeout_ms for one. 0 or -errno. */
int fc_export_serve(struct fc_export *x, int timeout_ms);
void fc_export_close(struct fc_export *x);

/* The exposition of @w alone (for tests): into x->buf. */
int fc_export_render(struct fc_export *x, const struct fc_window *w);
/* The bound of export bucket in seconds as printed in `le` ("0.000001024"). */
void fc_export_le(uint64_t ns, char *buf, size_t len);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers of the tracer tests: an in-process tracer on test cells, and self-timing workers. */
#ifndef FC_TEST_TRACE_UTIL_H
#define FC_TEST_TRACE_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/control.h"
#include "metrics/tracer.h"
#include "lib/host.h"

struct ttracer {
	struct fc_core core;
	struct fc_tracer *t;
	bool open;
};

/* Trace @reqs on @a (and @b when non-NULL, as cell 1); asserts on failure. */
bool ttracer_start(struct ttracer *tt, const struct tcell *a, const struct tcell *b,
		   const struct fc_metric_req *reqs, int n, fc_event_fn fn, void *ctx);
void ttracer_stop(struct ttracer *tt);

/* What a self-timing worker printed: "n=N p50=.. p90=.. p99=.. p999=.. max=.. pid=P". */
struct wstats {
	uint64_t n, pct[4], max;
	uint32_t pid;
};

/*
 * Run worker @argv in cgroup @cg (and @argv2 in @cg2 at the same time, when non-NULL) to the
 * end and parse their reports. 0 or -errno.
 */
int trun_worker(const char *cg, char *const argv[], struct wstats *st, const char *cg2,
		char *const argv2[], struct wstats *st2);

#endif

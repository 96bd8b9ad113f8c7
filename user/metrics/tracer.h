/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The latency tracer (design.md §5), libbpf-style: new → load → attach → snapshot every window
 * → destroy. The engine and `faultcell trace` use only this header; the skeletons stay inside
 * user/metrics/.
 *
 *	struct fc_metric_req reqs[] = { { "syscall_latency", "read,openat" },
 *					{ "tcp_connect_latency", NULL } };
 *	struct fc_tracer_opts o = { .sz = sizeof(o), .core = &core, .reqs = reqs, .nreqs = 2 };
 *	t = fc_tracer__new(&o, why, sizeof(why));   // -EINVAL/-ENOENT: bad input (exit 2)
 *	err = fc_tracer__load(t);                    // -EOPNOTSUPP: kernel lacks it (exit 4)
 *	err = err ?: fc_tracer__attach(t);
 *	while (...) { fc_tracer__poll(t); ...; fc_tracer__snapshot(t, &w); }
 *	fc_tracer__destroy(t);
 *
 * Cells come from @core (fc_core_add_cell before new); every object goes through
 * fc_core_prepare, so it shares core's ring buffer and carries the run id for the inventory.
 */
#ifndef FC_METRICS_TRACER_H
#define FC_METRICS_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_event.h"
#include "metrics/hist.h"
#include "metrics/registry.h"

struct fc_core;
struct fc_tracer;

struct fc_metric_req {
	const char *kind; /* a registered kind: "syscall_latency" */
	const char *key;  /* "read,openat" | "BINARY:SYMBOL" | "ok" | NULL (all fixed keys) */
};

/* Every ring-buffer event of the run (the tracer's and any other object's sharing the ring). */
typedef void (*fc_event_fn)(void *ctx, const struct fc_event_hdr *e, size_t size);

struct fc_tracer_opts {
	size_t sz; /* sizeof(struct fc_tracer_opts), for additions */
	struct fc_core *core;
	const struct fc_metric_req *reqs;
	int nreqs;
	uint64_t min_samples; /* fewer samples in a window: every stat is "no data"; default 1 */
	fc_event_fn on_event;
	void *ctx;
};

/* One (cell, metric, key) in one window. */
struct fc_series {
	int cell; /* index into core->cells */
	const struct fc_metric_kind *kind;
	const char *key; /* the key's label value ("read"), "" for FC_KEYS_NONE */
	uint32_t id;	 /* the (metric, key) id events carry in fc_event_hdr.key */
	struct fc_summary sum;
	const struct fc_hsnap *win;   /* this window's histogram */
	const struct fc_hsnap *total; /* cumulative since attach (Prometheus export) */
	bool has_exemplar;
	struct fc_event_hdr exemplar; /* the window's slowest call, with its pid/tid/comm */
};

struct fc_window {
	uint64_t seq;	   /* 1 for the first window after attach */
	uint64_t t_ns;	   /* CLOCK_MONOTONIC at the snapshot */
	uint64_t wall_ns;  /* CLOCK_REALTIME at the snapshot */
	double interval_s; /* since the previous snapshot (or attach) */
	int n;
	struct fc_series *s; /* owned by the tracer, valid until the next snapshot */
	uint64_t rb_fail;    /* failed ring-buffer reserves in this window (all our objects) */
	uint64_t rb_fail_total;
	uint64_t store_fail; /* starts that could not be recorded in this window */
	uint64_t events;     /* ring-buffer events consumed in this window */
};

/* The series of (@kind, @key) for cell @cell in @w; NULL when the tracer has none. */
const struct fc_series *fc_window_find(const struct fc_window *w, const char *kind, const char *key,
				       int cell);

struct fc_tracer *fc_tracer__new(const struct fc_tracer_opts *opts, char *why, size_t whylen);
int fc_tracer__load(struct fc_tracer *t);
int fc_tracer__attach(struct fc_tracer *t);
/* Consume pending ring-buffer events (BPF_RB_NO_WAKEUP: call it on a timer). Events or -errno. */
int fc_tracer__poll(struct fc_tracer *t);
/* Close the current window: diff against the previous snapshot. 0 or -errno. */
int fc_tracer__snapshot(struct fc_tracer *t, struct fc_window *out);
void fc_tracer__destroy(struct fc_tracer *t);

/* Kernel memory of the histograms actually laid out (rows x 512 B x CPUs), for `plan`. */
uint64_t fc_tracer__hist_bytes(const struct fc_tracer *t);
/* Why the last call failed, in words (valid until the next call). */
const char *fc_tracer__error(const struct fc_tracer *t);
/* The bpf_objects loaded (for the inventory and tests); NULL past the last. */
struct bpf_object *fc_tracer__object(const struct fc_tracer *t, int i);

#endif

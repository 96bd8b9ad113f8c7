/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The loader's side of the histograms (design.md §5): snapshots of a slot's rows, window
 * differences, percentiles, the Prometheus export buckets and the memory formula. Pure
 * computation on the bucket math of include/fc_hist.h, unit-tested without a kernel.
 */
#ifndef FC_METRICS_HIST_H
#define FC_METRICS_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_hist.h"

/* One series' histogram: cumulative since attach, or one window's difference. */
struct fc_hsnap {
	uint8_t lo_pow, npow; /* npow == 0: a counter, only count is meaningful */
	uint64_t count, sum, under, over;
	uint64_t max; /* window: the window's max; cumulative: all-time max */
	uint64_t *b;  /* npow * FC_HIST_SUB buckets, power by power */
};

int fc_hsnap_init(struct fc_hsnap *h, unsigned int lo_pow, unsigned int npow);
void fc_hsnap_free(struct fc_hsnap *h);
void fc_hsnap_reset(struct fc_hsnap *h);
/* Record a value in user space with the kernel's bucket math (tests, offline data). */
void fc_hsnap_add(struct fc_hsnap *h, uint64_t v);
/* @out = @cur - @prev (counts and sums); max is left to the caller. Same geometry required. */
void fc_hsnap_diff(struct fc_hsnap *out, const struct fc_hsnap *cur, const struct fc_hsnap *prev);
void fc_hsnap_copy(struct fc_hsnap *dst, const struct fc_hsnap *src);

/* The percentiles every window reports, and how many samples each needs. */
enum { FC_P50, FC_P90, FC_P99, FC_P999, FC_NPCT };
extern const double fc_pct_q[FC_NPCT];
extern const char *const fc_pct_name[FC_NPCT];

/*
 * Fewest samples for a meaningful q-quantile: at least one sample must lie above it
 * (n * (1 - q) >= 1, so p99 needs 100) and at least @min_samples in all.
 */
uint64_t fc_pct_min_samples(double q, uint64_t min_samples);

/*
 * The q-quantile by nearest rank (rank ceil(q * n)), interpolated linearly inside its bucket and
 * never above the exact max. Values below the range report 2^lo_pow, above it the max. Returns
 * false when there are no samples.
 */
bool fc_hsnap_quantile(const struct fc_hsnap *h, double q, double *out);

struct fc_summary {
	uint64_t count;
	double rate; /* per second */
	double mean, max;
	double pct[FC_NPCT];
	unsigned int no_data; /* bit FC_P50.. set: too few samples; bit FC_NPCT: count == 0 */
};
#define FC_NODATA_ALL (1U << FC_NPCT)

void fc_hsnap_summary(const struct fc_hsnap *h, double interval_s, uint64_t min_samples,
		      struct fc_summary *s);

/*
 * Export buckets: upper bounds (value units) 2^lo, then 2^p * {1.25, 1.5, 1.75, 2} for each
 * kept power: 1 + 4 * npow bounds, +Inf implied. cum[i] counts values < bound[i] (underflow
 * included). Arrays must hold fc_export_nbounds() entries.
 */
unsigned int fc_export_nbounds(const struct fc_hsnap *h);
void fc_export_buckets(const struct fc_hsnap *h, uint64_t *bound, uint64_t *cum);

/*
 * Prometheus' histogram_quantile() over cumulative buckets (upper bounds ascending, the last
 * being +Inf), as Prometheus 2.x computes it: linear interpolation inside the bucket, the
 * first bucket starting at 0, a rank in +Inf returning the highest finite bound. NaN when
 * empty.
 */
double fc_prom_quantile(double q, const double *le, const double *cum, unsigned int n);

/* design.md §5: keys x buckets x 8 B x CPUs. */
static inline uint64_t fc_hist_mem_bytes(uint64_t keys, uint64_t buckets, unsigned int ncpus)
{
	return keys * buckets * 8 * ncpus;
}

/* Buckets of one slot as the kernel stores it: a header row plus 64 per kept power. */
static inline uint64_t fc_hist_slot_buckets(unsigned int npow)
{
	return (uint64_t)(1 + npow) * FC_HIST_ROW_WORDS;
}

#endif

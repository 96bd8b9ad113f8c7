/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram bucket math, compiled for BPF and for user space (design.md §5): the one place that
 * says which bucket a value falls in, so the kernel's update and the loader's percentiles can
 * never disagree.
 *
 * Log-linear buckets: values below 2^FC_HIST_SUB_BITS are exact; above, each power of two
 * [2^p, 2^(p+1)) is split into 64 linear sub-buckets of width 2^(p-6), so a bucket's width is at
 * most 1/64 (1.6%) of its lower bound.
 *
 * A metric keeps only the powers of its own value range, [2^lo_pow, 2^(lo_pow+npow)): one "row"
 * of 64 counters per power. Values below the range go to an underflow counter, above it to an
 * overflow counter, both in the slot's header row. A slot is one (cell, metric, key); its rows
 * live in one per-CPU array of rows, at base + cell * stride (see struct fc_hist_slot).
 */
#ifndef FC_HIST_H
#define FC_HIST_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FC_HIST_SUB_BITS  6
#define FC_HIST_SUB	  (1U << FC_HIST_SUB_BITS) /* linear sub-buckets per power of two */
#define FC_HIST_ROW_WORDS FC_HIST_SUB		   /* one row = 64 x u64 = 512 bytes */

/*
 * The words of a slot's header row (row 0 of every slot). The window max is kept per parity of
 * the window generation, each with the generation it belongs to, so the loader can bump the
 * generation and still read the finished window's max, whatever each CPU saw since.
 */
enum fc_hist_hdr {
	FC_HH_COUNT = 0, /* all values recorded, in range or not; counters use only this */
	FC_HH_SUM = 1,	 /* sum of values, for the mean */
	FC_HH_UNDER = 2, /* values below 2^lo_pow */
	FC_HH_OVER = 3,	 /* values at or above 2^(lo_pow + npow) */
	FC_HH_WGEN0 = 4, /* generation of WMAX0 (even generations) */
	FC_HH_WGEN1 = 5, /* generation of WMAX1 (odd generations) */
	FC_HH_WMAX0 = 6,
	FC_HH_WMAX1 = 7,
	FC_HH_MAX = 8, /* all-time max */
};

/*
 * Where one (metric, key)'s rows are. npow == 0: a counter (header row only). A zeroed
 * descriptor (stride 0) means "not asked for": the program returns at once.
 */
struct fc_hist_slot {
	__u32 base;   /* first row of cell 0 */
	__u16 stride; /* rows per cell: 1 + npow */
	__u8 lo_pow;  /* smallest power kept (>= FC_HIST_SUB_BITS) */
	__u8 npow;    /* powers kept */
	__u32 id;     /* the loader's series id for events: (metric, key) */
	__u32 pad;
};

struct fc_hist_row {
	__u64 w[FC_HIST_ROW_WORDS];
};

/* floor(log2(v)) for v > 0, 0 for v == 0; a branch-light binary search the verifier accepts. */
static inline __u32 fc_hist_log2(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xffffffffULL) << 5;
	v >>= s;
	r |= s;
	s = (v > 0xffff) << 4;
	v >>= s;
	r |= s;
	s = (v > 0xff) << 3;
	v >>= s;
	r |= s;
	s = (v > 0xf) << 2;
	v >>= s;
	r |= s;
	s = (v > 0x3) << 1;
	v >>= s;
	r |= s;
	r |= (__u32)(v >> 1);
	return r;
}

/* Outcome of placing a value in a slot's range. */
enum fc_hist_place { FC_HP_IN = 0, FC_HP_UNDER = 1, FC_HP_OVER = 2 };

/*
 * Place @v in the range [2^lo_pow, 2^(lo_pow+npow)): on FC_HP_IN, *row is the power's row
 * (0-based, add 1 for the header) and *sub the linear sub-bucket.
 */
static inline int fc_hist_place(__u64 v, __u32 lo_pow, __u32 npow, __u32 *row, __u32 *sub)
{
	__u32 p = fc_hist_log2(v);

	if (v < (1ULL << lo_pow))
		return FC_HP_UNDER;
	if (p >= lo_pow + npow)
		return FC_HP_OVER;
	*row = p - lo_pow;
	*sub = (__u32)(v >> (p - FC_HIST_SUB_BITS)) & (FC_HIST_SUB - 1);
	return FC_HP_IN;
}

/* Lower bound of sub-bucket @sub of power @p (p >= FC_HIST_SUB_BITS); the upper is the next. */
static inline __u64 fc_hist_bucket_lo(__u32 p, __u32 sub)
{
	return (1ULL << p) + ((__u64)sub << (p - FC_HIST_SUB_BITS));
}

static inline __u64 fc_hist_bucket_hi(__u32 p, __u32 sub)
{
	return fc_hist_bucket_lo(p, sub) + (1ULL << (p - FC_HIST_SUB_BITS));
}

/*
 * Export buckets (Prometheus, docs/EXPORT.md): 4 per power of two, boundaries
 * 2^p * {1, 1.25, 1.5, 1.75}, each the union of 16 of our sub-buckets, so the export is an exact
 * coarsening of the kernel's histogram.
 */
#define FC_EXPORT_PER_POW 4
#define FC_EXPORT_SUBS	  (FC_HIST_SUB / FC_EXPORT_PER_POW)

#endif /* FC_HIST_H */

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Histogram math (include/fc_hist.h, user/metrics/hist.c) against exact percentiles of known
 * samples (P9: error <= 2%), the export buckets and Prometheus' quantile, "no data", and the
 * metric registry's names and suggestions.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/export.h"
#include "metrics/hist.h"
#include "metrics/registry.h"
#include "lib/test.h"

/* splitmix64: a seeded generator so a failure reproduces */
static uint64_t rng_state = 0x5eed;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double unif(void)
{
	return ((rng() >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void)
{
	return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

static double lognormal(double median, double sigma)
{
	return median * exp(sigma * gauss());
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

FC_TEST(hist_bucket_math, TIER_UNIT)
{
	__u32 row, sub, p;
	uint64_t v, lo, hi;
	int i, bad = 0;

	for (i = 0; i < 64; i++)
		if (fc_hist_log2(1ULL << i) != (__u32)i ||
		    (i > 1 && fc_hist_log2((1ULL << i) - 1) != (__u32)i - 1))
			bad++;
	ASSERT_EQ(bad, 0, "log2 of powers of two and their predecessors");
	for (i = 0; i < 200000; i++) {
		v = (rng() >> (8 + rng() % 56)) | 128; /* 2^7 .. 2^56 */
		if (fc_hist_place(v, 7, 50, &row, &sub) != FC_HP_IN) {
			bad++;
			continue;
		}
		p = 7 + row;
		lo = fc_hist_bucket_lo(p, sub);
		hi = fc_hist_bucket_hi(p, sub);
		if (v < lo || v >= hi || (double)(hi - lo) / (double)lo > 1.0 / 64 + 1e-12)
			bad++;
	}
	ASSERT_EQ(bad, 0, "every value inside its bucket, bucket width <= 1/64 of its bound");
	ASSERT_EQ(fc_hist_place(127, 7, 30, &row, &sub), FC_HP_UNDER, "below range");
	ASSERT_EQ(fc_hist_place(1ULL << 37, 7, 30, &row, &sub), FC_HP_OVER, "above range");
	ASSERT_EQ(fc_hist_place((1ULL << 37) - 1, 7, 30, &row, &sub), FC_HP_IN, "top of range");
	ASSERT_EQ(row * 64 + sub, 29 * 64 + 63, "last bucket");
}

/* Fill a histogram and a sorted copy with @n samples of @gen; return the worst relative error. */
static double worst_error(uint64_t *v, size_t n, const char *what)
{
	struct fc_hsnap h;
	double worst = 0, got, want, e;
	size_t i, rank;
	int p;

	if (!ASSERT_OK(fc_hsnap_init(&h, 7, 30), "init"))
		return 1;
	for (i = 0; i < n; i++)
		fc_hsnap_add(&h, v[i]);
	qsort(v, n, sizeof(*v), cmp_u64);
	for (p = 0; p < FC_NPCT; p++) {
		if (n < fc_pct_min_samples(fc_pct_q[p], 1))
			continue;
		rank = (size_t)ceil(fc_pct_q[p] * n - 1e-9);
		want = (double)v[rank - 1];
		if (!ASSERT_TRUE(fc_hsnap_quantile(&h, fc_pct_q[p], &got), "quantile"))
			break;
		e = fabs(got - want) / want;
		if (e > worst)
			worst = e;
		if (e > 0.02)
			test__log("%s %s: exact %.0f, ours %.0f (%.2f%%)", what, fc_pct_name[p],
				  want, got, e * 100);
	}
	fc_hsnap_free(&h);
	return worst;
}

FC_TEST(hist_percentiles_p9, TIER_UNIT)
{
	size_t n = 200000, i, sizes[] = { 200, 2000, 20000 };
	uint64_t *v = calloc(n, sizeof(*v));
	double w, worst = 0;
	int s;

	if (!ASSERT_OK_PTR(v, "alloc"))
		return;
	if (test__start_subtest("lognormal")) {
		for (s = 0; s < 4; s++) {
			size_t m = s < 3 ? sizes[s] : n;

			for (i = 0; i < m; i++)
				v[i] = (uint64_t)lognormal(1e6, 1.0);
			w = worst_error(v, m, "lognormal");
			ASSERT_TRUE(w <= 0.02, "lognormal: every percentile within 2%");
			worst = w > worst ? w : worst;
		}
	}
	if (test__start_subtest("bimodal")) {
		for (s = 0; s < 4; s++) {
			size_t m = s < 3 ? sizes[s] : n;

			/* 70% fast path around 200 us, 30% slow path around 20 ms */
			for (i = 0; i < m; i++)
				v[i] = (uint64_t)(unif() < 0.7 ? lognormal(2e5, 0.3)
							       : lognormal(2e7, 0.2));
			w = worst_error(v, m, "bimodal");
			ASSERT_TRUE(w <= 0.02, "bimodal: every percentile within 2%");
			worst = w > worst ? w : worst;
		}
	}
	if (test__start_subtest("sub_microsecond")) {
		/* syscalls: a narrow distribution near the bottom of the range */
		for (i = 0; i < n; i++)
			v[i] = 150 + (uint64_t)lognormal(300, 0.4);
		w = worst_error(v, n, "sub-us");
		ASSERT_TRUE(w <= 0.02, "sub-microsecond within 2%");
		worst = w > worst ? w : worst;
	}
	test__record("p9_worst_percentile_error_pct", worst * 100, "%");
	free(v);
}

FC_TEST(hist_no_data_and_diff, TIER_UNIT)
{
	struct fc_hsnap a, b, d;
	struct fc_summary s;
	int i;

	ASSERT_EQ(fc_pct_min_samples(0.5, 1), 2, "p50 needs 2");
	ASSERT_EQ(fc_pct_min_samples(0.99, 1), 100, "p99 needs 100");
	ASSERT_EQ(fc_pct_min_samples(0.999, 1), 1000, "p999 needs 1000");
	ASSERT_EQ(fc_pct_min_samples(0.5, 50), 50, "the global minimum wins when larger");
	if (!ASSERT_OK(fc_hsnap_init(&a, 7, 30), "a") ||
	    !ASSERT_OK(fc_hsnap_init(&b, 7, 30), "b") || !ASSERT_OK(fc_hsnap_init(&d, 7, 30), "d"))
		return;
	fc_hsnap_summary(&a, 1, 1, &s);
	ASSERT_EQ(s.no_data & FC_NODATA_ALL, FC_NODATA_ALL, "empty window: no data");
	for (i = 0; i < 150; i++)
		fc_hsnap_add(&a, 1000 + i);
	fc_hsnap_summary(&a, 1, 1, &s);
	ASSERT_EQ(s.no_data, 1U << FC_P999, "150 samples: p999 only is no data");
	ASSERT_EQ(s.count, 150, "count");
	ASSERT_TRUE(fabs(s.mean - 1074.5) < 1e-9, "mean");
	fc_hsnap_summary(&a, 1, 200, &s);
	ASSERT_EQ(s.no_data & 0xf, 0xf, "below --min-samples: every percentile no data");
	fc_hsnap_copy(&b, &a);
	for (i = 0; i < 10; i++)
		fc_hsnap_add(&a, 5000000);
	fc_hsnap_diff(&d, &a, &b);
	ASSERT_EQ(d.count, 10, "window count");
	ASSERT_EQ(d.sum, 50000000, "window sum");
	d.max = 5000000;
	fc_hsnap_summary(&d, 0.5, 1, &s);
	ASSERT_TRUE(fabs(s.rate - 20) < 1e-9, "rate over the interval");
	ASSERT_TRUE(fabs(s.pct[FC_P50] - 5000000) / 5000000 < 0.016, "window p50 is the new value");
	fc_hsnap_free(&a);
	fc_hsnap_free(&b);
	fc_hsnap_free(&d);
}

FC_TEST(hist_export_buckets, TIER_UNIT)
{
	uint64_t bound[1 + 4 * 30], cum[1 + 4 * 30];
	double le[2 + 4 * 30], c[2 + 4 * 30], q;
	struct fc_hsnap h;
	unsigned int n, i;
	char s[32];
	int bad = 0;

	if (!ASSERT_OK(fc_hsnap_init(&h, 7, 30), "init"))
		return;
	for (i = 0; i < 100000; i++)
		fc_hsnap_add(&h, (uint64_t)lognormal(1e6, 1.0));
	fc_hsnap_add(&h, 50);	      /* underflow */
	fc_hsnap_add(&h, 1ULL << 40); /* overflow */
	n = fc_export_nbounds(&h);
	ASSERT_EQ(n, 121, "1 + 4 bounds per power");
	fc_export_buckets(&h, bound, cum);
	ASSERT_EQ(bound[0], 128, "first bound is the range's bottom");
	ASSERT_EQ(cum[0], 1, "underflow in the first bucket");
	ASSERT_EQ(bound[1], 160, "2^7 * 1.25");
	ASSERT_EQ(bound[4], 256, "2^8");
	ASSERT_EQ(cum[n - 1], h.count - 1, "everything but the overflow below the last bound");
	for (i = 1; i < n; i++)
		bad += bound[i] <= bound[i - 1] || cum[i] < cum[i - 1];
	ASSERT_EQ(bad, 0, "bounds ascending, counts cumulative");
	fc_export_le(1280, s, sizeof(s));
	ASSERT_STREQ(s, "0.00000128", "le printed as exact decimal seconds");
	fc_export_le(2000000000ULL, s, sizeof(s));
	ASSERT_STREQ(s, "2", "whole seconds");
	for (i = 0; i < n; i++) {
		fc_export_le(bound[i], s, sizeof(s));
		le[i] = strtod(s, NULL);
		c[i] = (double)cum[i];
	}
	le[n] = INFINITY;
	c[n] = (double)h.count;
	q = fc_prom_quantile(0.5, le, c, n + 1);
	/* the coarse buckets are 25% wide: the export median is near ours, not equal */
	ASSERT_TRUE(fabs(q - 1e-3) / 1e-3 < 0.15, "export median near the true one");
	/* hand-checked cases of Prometheus' algorithm */
	{
		double l[] = { 1, 2, 4, INFINITY }, k[] = { 10, 20, 40, 40 };

		ASSERT_TRUE(fabs(fc_prom_quantile(0.5, l, k, 4) - 2) < 1e-12, "rank at a bound");
		ASSERT_TRUE(fabs(fc_prom_quantile(0.75, l, k, 4) - 3) < 1e-12, "interpolated");
		ASSERT_TRUE(fabs(fc_prom_quantile(0.1, l, k, 4) - 0.4) < 1e-12, "first from 0");
		k[3] = 80;
		ASSERT_TRUE(fabs(fc_prom_quantile(0.99, l, k, 4) - 4) < 1e-12, "+Inf: top bound");
		k[0] = k[1] = k[2] = k[3] = 0;
		ASSERT_TRUE(isnan(fc_prom_quantile(0.5, l, k, 4)), "empty: NaN");
	}
	fc_hsnap_free(&h);
}

FC_TEST(metric_registry, TIER_UNIT)
{
	const struct fc_metric_kind *k;
	const char *const sys[] = { "read", "readv", "write", "openat", "open", "close" };
	struct fc_label l;
	char buf[256];
	int n = 0;

	fc_for_each_metric_kind (m) {
		n++;
		ASSERT_TRUE(m->name && m->unit && m->family && m->mechanism && m->range, m->name);
		ASSERT_TRUE(m->npow == 0 ||
				(m->lo_pow >= FC_HIST_SUB_BITS && m->lo_pow + m->npow < 63),
			    "range fits the bucket math");
		ASSERT_EQ(fc_metric_kind_by_id(m->id), m, "ids unique");
	}
	ASSERT_GE(n, 6, "syscall, tcp and function kinds registered");
	k = fc_metric_kind_find("syscall_latency");
	if (ASSERT_OK_PTR(k, "syscall_latency"))
		/* 31 rows of 512 B per key on 2 CPUs: the number `plan` prints */
		ASSERT_EQ(fc_metric_kind_key_bytes(k, 2), 31 * 64 * 8 * 2, "memory formula");
	fc_metric_kind_suggest("syscal_latency", buf, sizeof(buf));
	ASSERT_STRSTR(buf, "syscall_latency", "typo suggests the kind");
	fc_metric_kind_suggest("latency", buf, sizeof(buf));
	ASSERT_STRSTR(buf, "_latency", "a part suggests kinds containing it");
	fc_metric_kind_suggest("zzzzzzzzzzzz", buf, sizeof(buf));
	ASSERT_STREQ(buf, "", "nothing close: no suggestion");
	fc_suggest("opnat", sys, 6, 3, buf, sizeof(buf));
	ASSERT_TRUE(!strncmp(buf, "openat", 6), "nearest first");
	ASSERT_OK(fc_label_parse("service=pay ments", &l), "label");
	ASSERT_STREQ(l.value, "pay ments", "value kept");
	ASSERT_EQ(fc_label_parse("9x=1", &l), -EINVAL, "bad label name");
	ASSERT_EQ(fc_label_parse("__name__=x", &l), -EINVAL, "reserved label name");
	ASSERT_EQ(fc_label_parse("novalue", &l), -EINVAL, "no '='");
}

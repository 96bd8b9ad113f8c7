// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/hist.h"

const double fc_pct_q[FC_NPCT] = { 0.5, 0.9, 0.99, 0.999 };
const char *const fc_pct_name[FC_NPCT] = { "p50", "p90", "p99", "p999" };

int fc_hsnap_init(struct fc_hsnap *h, unsigned int lo_pow, unsigned int npow)
{
	memset(h, 0, sizeof(*h));
	if (npow && (lo_pow < FC_HIST_SUB_BITS || lo_pow + npow > 63))
		return -EINVAL;
	h->lo_pow = lo_pow;
	h->npow = npow;
	if (!npow)
		return 0;
	h->b = calloc((size_t)npow * FC_HIST_SUB, sizeof(*h->b));
	return h->b ? 0 : -ENOMEM;
}

void fc_hsnap_free(struct fc_hsnap *h)
{
	free(h->b);
	h->b = NULL;
}

void fc_hsnap_reset(struct fc_hsnap *h)
{
	h->count = h->sum = h->under = h->over = h->max = 0;
	if (h->b)
		memset(h->b, 0, (size_t)h->npow * FC_HIST_SUB * sizeof(*h->b));
}

void fc_hsnap_add(struct fc_hsnap *h, uint64_t v)
{
	__u32 row = 0, sub = 0;

	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	if (!h->npow)
		return;
	switch (fc_hist_place(v, h->lo_pow, h->npow, &row, &sub)) {
	case FC_HP_UNDER:
		h->under++;
		break;
	case FC_HP_OVER:
		h->over++;
		break;
	default:
		h->b[row * FC_HIST_SUB + sub]++;
	}
}

void fc_hsnap_diff(struct fc_hsnap *out, const struct fc_hsnap *cur, const struct fc_hsnap *prev)
{
	size_t i, n = (size_t)cur->npow * FC_HIST_SUB;

	/* per-CPU counters only grow, so a difference below zero means a torn read: clamp */
#define SUB(a, b) ((a) > (b) ? (a) - (b) : 0)
	out->count = SUB(cur->count, prev->count);
	out->sum = SUB(cur->sum, prev->sum);
	out->under = SUB(cur->under, prev->under);
	out->over = SUB(cur->over, prev->over);
	for (i = 0; i < n; i++)
		out->b[i] = SUB(cur->b[i], prev->b[i]);
#undef SUB
}

void fc_hsnap_copy(struct fc_hsnap *dst, const struct fc_hsnap *src)
{
	uint64_t *b = dst->b;

	*dst = *src;
	dst->b = b;
	if (b)
		memcpy(b, src->b, (size_t)src->npow * FC_HIST_SUB * sizeof(*b));
}

uint64_t fc_pct_min_samples(double q, uint64_t min_samples)
{
	uint64_t n = (uint64_t)ceil(1.0 / (1.0 - q) - 1e-9);

	return n > min_samples ? n : min_samples;
}

bool fc_hsnap_quantile(const struct fc_hsnap *h, double q, double *out)
{
	uint64_t rank, cum, c;
	unsigned int i, p, sub;
	double lo, w, v;

	if (!h->count || !h->npow)
		return false;
	rank = (uint64_t)ceil(q * (double)h->count - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	cum = h->under;
	if (rank <= cum) {
		*out = (double)(1ULL << h->lo_pow);
		return true;
	}
	for (i = 0; i < (unsigned int)h->npow * FC_HIST_SUB; i++) {
		c = h->b[i];
		if (!c || cum + c < rank) {
			cum += c;
			continue;
		}
		p = h->lo_pow + i / FC_HIST_SUB;
		sub = i % FC_HIST_SUB;
		lo = (double)fc_hist_bucket_lo(p, sub);
		w = (double)(fc_hist_bucket_hi(p, sub) - fc_hist_bucket_lo(p, sub));
		/* the j-th of c samples sits at the middle of the j-th c-th of the bucket */
		v = lo + w * ((double)(rank - cum) - 0.5) / (double)c;
		*out = h->max && v > (double)h->max ? (double)h->max : v;
		return true;
	}
	/* in the overflow: only the max is known */
	*out = (double)h->max;
	return true;
}

void fc_hsnap_summary(const struct fc_hsnap *h, double interval_s, uint64_t min_samples,
		      struct fc_summary *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	s->count = h->count;
	s->rate = interval_s > 0 ? (double)h->count / interval_s : 0;
	if (!h->count) {
		s->no_data = FC_NODATA_ALL | ((1U << FC_NPCT) - 1);
		return;
	}
	s->mean = (double)h->sum / (double)h->count;
	s->max = (double)h->max;
	for (i = 0; i < FC_NPCT; i++) {
		if (!h->npow || h->count < fc_pct_min_samples(fc_pct_q[i], min_samples) ||
		    !fc_hsnap_quantile(h, fc_pct_q[i], &s->pct[i]))
			s->no_data |= 1U << i;
	}
}

unsigned int fc_export_nbounds(const struct fc_hsnap *h)
{
	return h->npow ? 1 + FC_EXPORT_PER_POW * h->npow : 0;
}

void fc_export_buckets(const struct fc_hsnap *h, uint64_t *bound, uint64_t *cum)
{
	unsigned int p, k, j, n = 0;
	uint64_t acc = h->under;

	bound[n] = 1ULL << h->lo_pow;
	cum[n++] = acc;
	for (p = 0; p < h->npow; p++) {
		for (k = 0; k < FC_EXPORT_PER_POW; k++) {
			for (j = 0; j < FC_EXPORT_SUBS; j++)
				acc += h->b[p * FC_HIST_SUB + k * FC_EXPORT_SUBS + j];
			/* 2^P * (1 + (k+1)/4): the lower bound of sub-bucket 16(k+1), or 2^(P+1) */
			bound[n] = (k + 1 < FC_EXPORT_PER_POW)
				       ? fc_hist_bucket_lo(h->lo_pow + p, (k + 1) * FC_EXPORT_SUBS)
				       : 1ULL << (h->lo_pow + p + 1);
			cum[n++] = acc;
		}
	}
}

double fc_prom_quantile(double q, const double *le, const double *cum, unsigned int n)
{
	double rank, start, end, count;
	unsigned int b;

	if (n < 2 || !isinf(le[n - 1]))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	count = cum[n - 1];
	if (count == 0)
		return NAN;
	rank = q * count;
	/* sort.Search over all but +Inf: the first bucket whose count reaches the rank */
	for (b = 0; b < n - 1 && cum[b] < rank; b++)
		;
	if (b == n - 1)
		return le[n - 2];
	if (b == 0 && le[0] <= 0)
		return le[0];
	start = b == 0 ? 0 : le[b - 1];
	end = le[b];
	count = cum[b] - (b == 0 ? 0 : cum[b - 1]);
	rank -= b == 0 ? 0 : cum[b - 1];
	return start + (end - start) * (rank / count);
}

// SPDX-License-Identifier: BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/family.h"
#include "metrics/hist.h"
#include "metrics/registry.h"

const struct fc_metric_kind *fc_metric_kind_find(const char *name)
{
	fc_for_each_metric_kind (k)
		if (name && !strcmp(k->name, name))
			return k;
	return NULL;
}

const struct fc_metric_kind *fc_metric_kind_by_id(uint32_t id)
{
	fc_for_each_metric_kind (k)
		if (k->id == id)
			return k;
	return NULL;
}

void fc_metric_kind_suggest(const char *name, char *buf, size_t len)
{
	const char *names[64];
	size_t n = 0;

	fc_for_each_metric_kind (k)
		if (n < 64)
			names[n++] = k->name;
	fc_suggest(name, names, n, 3, buf, len);
}

int fc_metric_kind_check(const struct fc_metric_kind *k, char *why, size_t len)
{
	return k->family->check(why, len);
}

uint64_t fc_metric_kind_key_bytes(const struct fc_metric_kind *k, unsigned int ncpus)
{
	return fc_hist_mem_bytes(1, fc_hist_slot_buckets(k->npow), ncpus);
}

/* Levenshtein distance, case-insensitive, capped at 64 characters. */
static unsigned int edit_distance(const char *a, const char *b)
{
	unsigned int row[65], i, j, la = strlen(a), lb = strlen(b), prev, tmp;

	if (la > 64)
		la = 64;
	if (lb > 64)
		lb = 64;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] =
			    tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1])
				? prev
				: 1 + (prev < row[j] ? (prev < row[j - 1] ? prev : row[j - 1])
						     : (row[j] < row[j - 1] ? row[j] : row[j - 1]));
			prev = tmp;
		}
	}
	return row[lb];
}

struct cand {
	unsigned int d;
	const char *name;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->d != y->d ? (x->d < y->d ? -1 : 1) : strcmp(x->name, y->name);
}

void fc_suggest(const char *word, const char *const *cands, size_t n, unsigned int max, char *buf,
		size_t len)
{
	size_t w = strlen(word), off = 0, i, got = 0, shown = 0;
	struct cand *c;
	unsigned int d, lim;

	if (len)
		buf[0] = 0;
	c = calloc(n ?: 1, sizeof(*c));
	if (!c)
		return;
	/* a typo, not a different word: allow about a third of the word to differ */
	lim = w / 3 + 2;
	for (i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		d = edit_distance(word, cands[i]);
		/* a name that contains what was typed is close whatever its length */
		if (w >= 3 && strstr(cands[i], word) && d > 1)
			d = 1;
		if (d <= lim)
			c[got++] = (struct cand){ d, cands[i] };
	}
	qsort(c, got, sizeof(*c), cand_cmp);
	for (i = 0; i < got && shown < max && off < len; i++) {
		if (i && !strcmp(c[i].name, c[i - 1].name))
			continue;
		off += snprintf(buf + off, len - off, "%s%s", shown ? ", " : "", c[i].name);
		shown++;
	}
	free(c);
}

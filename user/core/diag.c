// SPDX-License-Identifier: BSD-2-Clause
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"

void fc_diag(struct fc_diags *d, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (d->n >= FC_DIAG_MAX) {
		d->dropped++;
		return;
	}
	d->d[d->n].line = line;
	d->d[d->n].col = col;
	va_start(ap, fmt);
	vsnprintf(d->d[d->n].msg, sizeof(d->d[d->n].msg), fmt, ap);
	va_end(ap);
	d->n++;
}

void fc_diags_print(const struct fc_diags *d, FILE *f)
{
	for (int i = 0; i < d->n; i++) {
		if (d->file && d->d[i].line)
			fprintf(f, "%s:%d:%d: %s\n", d->file, d->d[i].line, d->d[i].col,
				d->d[i].msg);
		else if (d->file)
			fprintf(f, "%s: %s\n", d->file, d->d[i].msg);
		else
			fprintf(f, "faultcell: %s\n", d->d[i].msg);
	}
	if (d->dropped)
		fprintf(f, "%s%s(and %d more errors)\n", d->file ?: "", d->file ? ": " : "",
			d->dropped);
}

static int lev(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int *row, prev, tmp, best;

	if (la > 64 || lb > 64)
		return 99;
	row = calloc(lb + 1, sizeof(*row));
	if (!row)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	best = row[lb];
	free(row);
	return best;
}

const char *fc_closest(const char *word, const char *const *choices)
{
	const char *best = NULL;
	int bd = 99, d, limit = strlen(word) / 3 + 1;

	for (; *choices; choices++) {
		d = lev(word, *choices);
		if (d < bd) {
			bd = d;
			best = *choices;
		}
	}
	return bd <= limit ? best : NULL;
}

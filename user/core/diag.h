/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Diagnostics for bad input: every error at once, each with its position when it came from a
 * file ("file:line:col: message", 1-based) or as one line naming the bad value when it came
 * from the command line (line 0).
 */
#ifndef FC_DIAG_H
#define FC_DIAG_H

#include <stdio.h>

#define FC_DIAG_MAX 64

struct fc_diag {
	int line, col;
	char msg[320];
};

struct fc_diags {
	const char *file; /* NULL for the command line */
	int n, dropped;
	struct fc_diag d[FC_DIAG_MAX];
};

void fc_diag(struct fc_diags *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void fc_diags_print(const struct fc_diags *d, FILE *f);

/* "did you mean": the closest of @choices (NULL-terminated) to @word, or NULL if none is close. */
const char *fc_closest(const char *word, const char *const *choices);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* `faultcell report`: the journal's lines rendered for humans (Markdown) and programs (JSON). */
#ifndef FC_REPORT_H
#define FC_REPORT_H

#include <stdio.h>

/* Read @path; 0, or -errno / -EINVAL (not a faultcell journal). */
int fc_report(const char *path, FILE *md, FILE *json);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers for the experiment-format tests. */
#ifndef FC_EXP_TESTLIB_H
#define FC_EXP_TESTLIB_H

#include <stddef.h>

#include "engine/experiment.h"

/* A file of the source tree: from the working directory, else next to the test binary's ../ */
const char *exp_repo_file(const char *rel, char *buf, size_t len);
/* Load YAML text (and an optional binding) as "test.yaml"; returns fc_experiment_load's code. */
int exp_load_str(const char *yaml, const char *bind, double scale, struct fc_experiment **out);
/* Does any diagnostic (of either file) contain @msg at @line:@col (0 = any column)? */
bool exp_has_diag(const struct fc_experiment *e, int line, int col, const char *msg);

#endif

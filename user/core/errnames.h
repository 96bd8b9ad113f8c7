/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef FC_ERRNAMES_H
#define FC_ERRNAMES_H

/* errno by name ("ECONNREFUSED") from one table built on <errno.h>; -1 when unknown. */
int fc_errno_by_name(const char *name);
const char *fc_errno_name(int err);
/* NULL-terminated list of the names, for "did you mean". */
const char *const *fc_errno_names(void);

#endif

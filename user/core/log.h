/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef FC_LOG_H
#define FC_LOG_H

#include <stdbool.h>

/* The only global mutable state besides the exit flag (design.md §2). */
extern int fc_verbosity;

void fc_log_init(void);
void fc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define FC_LOG_WARN  0
#define FC_LOG_INFO  1
#define FC_LOG_DEBUG 2

/* Messages git-style: lowercase, what failed, then why, then what to do. */
#define pr_warn(...)  fc_log(FC_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  fc_log(FC_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) fc_log(FC_LOG_DEBUG, __VA_ARGS__)

#endif

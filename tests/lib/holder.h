/* SPDX-License-Identifier: BSD-2-Clause */
/* Driving the holder worker (tests/host/holder.c) from tests. */
#ifndef FC_TEST_HOLDER_H
#define FC_TEST_HOLDER_H

#include <stdbool.h>
#include <sys/types.h>

#include "fc_control.h"

struct held {
	pid_t pid;
	int out;
	char run[FC_RUN_ID_LEN];
	unsigned int control, stats;
	int guard;
};

/* Start `holder EXTRA...` and wait for its ready line (asserts on failure). */
bool holder_start(struct held *h, char *const extra[]);
/* SIGCONT + SIGTERM, wait; SIGKILL when it does not end. */
void holder_end(struct held *h);

#endif

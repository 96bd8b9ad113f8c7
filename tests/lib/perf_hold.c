// SPDX-License-Identifier: BSD-2-Clause
/*
 * perf_hold: hold one task-bound perf event open until killed. The VM tier's guests start it
 * before the tests. A task-bound perf event (a uprobe attached to one pid is one) turns on the
 * perf_sched_events jump label, which patches __schedule; its last close turns it off again a
 * tick later, patching it back. Under QEMU's multi-threaded TCG that patching, done while the
 * other vCPU runs __schedule, once ended a 6.12 guest with an "int3" Oops. Held from boot, the
 * label flips once, while the guest is idle, instead of with every test that opens a uprobe.
 */
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/test.h"

static int perf_hold(int argc, char **argv)
{
	struct perf_event_attr attr;
	int fd;

	(void)argc;
	(void)argv;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.disabled = 1;
	/* pid 0, any CPU: bound to this task, which is what switches the label on */
	fd = syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd < 0) {
		perror("perf_hold: perf_event_open");
		return 1;
	}
	printf("perf_hold: a task-bound perf event held (fd %d)\n", fd);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}
FC_WORKER(perf_hold, perf_hold);

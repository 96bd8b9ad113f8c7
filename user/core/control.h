/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core's side of the safety contract (design.md §3): the run id, the control map and the ring
 * buffer every object shares, and the per-object counters.
 */
#ifndef FC_CORE_CONTROL_H
#define FC_CORE_CONTROL_H

#include <stdint.h>
#include <bpf/libbpf.h>

#include "fc_control.h"
#include "core/cgroup.h"

struct fc_core {
	char run_id[FC_RUN_ID_LEN];
	int control_fd;
	int events_fd;
	uint32_t control_map_id;
	struct fc_cell cells[FC_MAX_CELLS];
	int ncells;
	/* objects prepared through this core: their counters restart when the run arms */
	struct bpf_object *objs[16];
	int nobjs;
};

/* Create the control map (disabled) and the ring buffer. 0 or -errno. */
int fc_core_open(struct fc_core *core, const char *run_id, uint32_t ringbuf_bytes);
void fc_core_close(struct fc_core *core);
int fc_core_add_cell(struct fc_core *core, const struct fc_cell *cell);

/*
 * Between an object's open and load: share core's maps, stamp the run id and the cells into
 * its .rodata. Every object the run loads goes through here, so the inventory can find it.
 */
int fc_core_prepare(struct fc_core *core, struct bpf_object *obj);

/*
 * Arm: zero the prepared objects' counters (so first-hit and first-inert times belong to this
 * arming), heartbeat now, deadline and max gap as given (CLOCK_MONOTONIC ns), enabled = 1.
 */
int fc_core_arm(struct fc_core *core, uint64_t deadline_ns, uint64_t max_gap_ns);
int fc_core_heartbeat(struct fc_core *core);
int fc_core_disable(struct fc_core *core);
int fc_core_read(struct fc_core *core, struct fc_control *out);

/* Clear `enabled` through a map id (abort from outside, the guard). 0, -ENOENT when gone. */
int fc_control_disable_by_id(uint32_t map_id);
int fc_control_write(int fd, const struct fc_control *c);

/*
 * Sum an object's per-CPU fc_stats. Timestamp slots (FIRST_*) take the smallest non-zero
 * value instead of the sum.
 */
int fc_obj_stats(struct bpf_object *obj, uint64_t out[FC_STAT_MAX]);
int fc_obj_stats_reset(struct bpf_object *obj);

/* Write @size bytes at variable @name of the object's .rodata (before load). */
int fc_obj_set_rodata(struct bpf_object *obj, const char *name, const void *data, size_t size);

#endif

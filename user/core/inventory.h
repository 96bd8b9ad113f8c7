/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one inventory of what faultcell has in the kernel (design.md §3): programs tagged with a
 * run id, links to them, recorded tc filters and qdiscs, frozen cgroups, state files. Rollback
 * verification, `recover`, `status` and the tests all use it, comparing against a snapshot
 * taken before, never against "zero programs".
 */
#ifndef FC_INVENTORY_H
#define FC_INVENTORY_H

#include <stdint.h>
#include <limits.h>

#include "fc_control.h"

enum fc_inv_kind {
	INV_PROG = 1,
	INV_LINK,
	INV_TC_FILTER,
	INV_CLSACT,
	INV_FROZEN,
	INV_STATE,
	INV_QDISC, /* a recorded fq/mq root that is still ours */
};

struct fc_inv_item {
	enum fc_inv_kind kind;
	uint32_t id;  /* prog/link id; ifindex for tc; 0 otherwise */
	uint32_t aux; /* tc: handle << 16 | prio & 0xffff; link: prog id */
	char run[FC_RUN_ID_LEN];
	char desc[PATH_MAX];
};

struct fc_inventory {
	struct fc_inv_item *items;
	int n, cap;
};

/* Collect everything of ours (@run NULL) or of one run. 0 or -errno. */
int fc_inventory_collect(struct fc_inventory *inv, const char *run);
void fc_inventory_free(struct fc_inventory *inv);
/* Items in @after that are not in @before; prints each to @out when non-NULL. */
int fc_inventory_new_items(const struct fc_inventory *before, const struct fc_inventory *after,
			   char *out, size_t outlen);
const char *fc_inv_kind_name(enum fc_inv_kind k);
/* The run id a loaded program was tagged with; -ENOENT when it is not ours. */
int fc_prog_run_id(uint32_t prog_id, char *run, size_t len);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tc attachment for fault programs: a TCX link where the kernel has it (fd-bound, ≥ 6.6), else
 * a clsact qdisc and cls_bpf filter, both recorded in the state file before they exist.
 */
#ifndef FC_TC_H
#define FC_TC_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>

#include "core/state.h"

/* Not in Debian 12's 6.1 UAPI headers (kernel BTF: BPF_TCX_INGRESS = 46, EGRESS = 47). */
#define FC_BPF_TCX_INGRESS 46
#define FC_BPF_TCX_EGRESS  47

enum fc_tc_mode { FC_TC_AUTO = 0, FC_TC_TCX, FC_TC_CLSACT };

struct fc_tc_attach {
	int ifindex;
	bool egress;
	enum fc_tc_mode used;
	int link_fd;	       /* TCX */
	uint32_t handle, prio; /* clsact */
	bool created_qdisc;
};

/*
 * Attach @prog_fd on @ifindex. AUTO tries TCX first, then clsact (recorded in @st first).
 * Fills @at; 0 or -errno.
 */
int fc_tc_attach(struct fc_state *st, int prog_fd, int ifindex, bool egress, enum fc_tc_mode mode,
		 struct fc_tc_attach *at);
/* Undo one attachment made by fc_tc_attach (the TCX link fd or the recorded filter). */
int fc_tc_detach(struct fc_tc_attach *at);

/* Remove a recorded filter; 0 when it is gone (or never existed). */
int fc_tc_filter_remove(int ifindex, bool egress, uint32_t handle, uint32_t prio);
/* The program id behind a recorded filter: 0 when absent, -errno on error. */
int fc_tc_filter_prog_id(int ifindex, bool egress, uint32_t handle, uint32_t prio);
/* How many tc filters sit on the clsact hook (netlink dump), or -errno. */
int fc_tc_count_filters(int ifindex, bool egress);
/* Remove the clsact qdisc if it carries no filter any more. 0, -EBUSY when others remain. */
int fc_tc_clsact_remove_if_empty(int ifindex);
bool fc_tc_clsact_exists(int ifindex);

#endif

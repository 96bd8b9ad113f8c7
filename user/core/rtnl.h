/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tc requests over rtnetlink: one qdisc message, its attributes, and a send that returns the
 * kernel's own extended-ack message as the error text. Used by the fq installer (qdisc.c) and
 * the probe's qdisc checks (probe_net.c).
 */
#ifndef FC_RTNL_H
#define FC_RTNL_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

struct fc_nlreq {
	struct nlmsghdr n;
	struct tcmsg t;
	char buf[512];
};

/* A tc message of @type (RTM_NEWQDISC, ...) for @ifindex, @parent and @handle. */
void fc_nl_tcreq(struct fc_nlreq *req, int type, int flags, int ifindex, uint32_t parent,
		 uint32_t handle);
/* Append attribute @type (@len bytes of @data; 0 opens a nest such as TCA_OPTIONS). */
void fc_nl_attr(struct fc_nlreq *req, int type, const void *data, size_t len);
/*
 * One request. 0 or -errno, with the kernel's extended ack in @ext. For a dump, @cb sees every
 * message until NLMSG_DONE.
 */
int fc_nl_talk(struct fc_nlreq *req, char *ext, size_t extlen,
	       void (*cb)(struct nlmsghdr *h, void *arg), void *arg);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The `match` keys every network fault shares: match.proto, match.ports, match.local_ports,
 * match.cidrs. */
#ifndef FC_NETMATCH_H
#define FC_NETMATCH_H

#include <net/if.h>
#include <stdbool.h>

#include "fc_net.h"
#include "faults/fault.h"

#define FC_MAX_CIDRS 64

struct fc_cidr {
	bool v6;
	unsigned char prefix;
	unsigned char addr[16];
};

struct fc_netmatch {
	struct fc_net_match m;
	int ncidr;
	struct fc_cidr cidr[FC_MAX_CIDRS];
};

#define FC_NETMATCH_KEYS "match.proto", "match.ports", "match.local_ports", "match.cidrs"

/* Parse the match keys of @spec (all optional). Adds diagnostics; -EINVAL on a bad value. */
int fc_netmatch_parse(struct fc_fault_spec *spec, struct fc_netmatch *nm, struct fc_diags *d);
/* Fill the object's fc_cidr4/fc_cidr6 tries. */
int fc_netmatch_fill(const struct fc_netmatch *nm, int cidr4_fd, int cidr6_fd);
/*
 * Every device that is up in the current netns, loopback included: where a cell's packets
 * leave when the fault names no devices. The count, or -errno.
 */
int fc_up_devices(char devs[][IF_NAMESIZE], int max);
/* "tcp to ports 80,443 of 10.0.0.0/8" */
void fc_netmatch_describe(const struct fc_netmatch *nm, char *buf, size_t len);

#endif

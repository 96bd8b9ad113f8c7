/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers of the network-latency tests: is the mechanism here, qdisc dumps, RTT mixes. */
#ifndef FC_TEST_NETLAT_UTIL_H
#define FC_TEST_NETLAT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Does this kernel have what network-latency needs? Decided by the probe (sch_fq and the EDT
 * helper, loaded and triggered), never from the kernel's name. @why gets the probe's errors.
 */
bool tnl_available(char *why, size_t len);

/* `tc -n NETNS qdisc show dev DEV` into @buf (0 or -errno). */
int tnl_qdisc_dump(const char *netns, const char *dev, char *buf, size_t len);

/* One socket's result of the lat_mix worker. */
struct tnl_rtt {
	int n, lost, reorder;
	double p1, p50, p99, max; /* ms */
};

/*
 * Run `lat_mix N IVAL_US CPU SPECS...` in @netns_path (the worker joins each SPEC's cgroup
 * itself); fill @out[i] for each of @k specs. True when every line came back.
 */
bool tnl_mix(const char *netns_path, int n, int ival_us, char *const specs[], int k,
	     struct tnl_rtt *out);

/* The CPU the echo server and the mixes share (a cross-CPU wakeup is slow under TCG). */
int tnl_cpu(void);

#endif

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Empty programs of each type our faults use: the baseline of P2's per-packet cost. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tc")
int fc_bench_empty_tc(struct __sk_buff *skb)
{
	return -1; /* TC_ACT_UNSPEC, like a fault that lets the packet go */
}

SEC("cgroup_skb/ingress")
int fc_bench_empty_skb(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only programs under the control check: they "fault" (drop) the cell's packets while
 * armed, so a test sees each inert reason as traffic that passes again. Not a product fault.
 */
#include "fc_common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "fc_selftest.h"

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2

/* cgroup_skb egress on the test cell: armed → drop (the sender's UDP send gets EPERM). */
SEC("cgroup_skb/egress")
int fc_selftest_skb(struct __sk_buff *skb)
{
	fc_stat_add(ST_SEEN, 1);
	if (fc_cell_skb(skb) < 0)
		return 1;
	fc_stat_add(ST_CELL, 1);
	if (!fc_armed_coarse())
		return 1;
	fc_stat_add(ST_DROPPED, 1);
	return 0;
}

/* tc egress: armed and in the cell → drop. Attached through clsact or TCX by the tests. */
SEC("tc")
int fc_selftest_tc(struct __sk_buff *skb)
{
	fc_stat_add(ST_SEEN, 1);
	if (fc_cell_skb(skb) < 0)
		return TC_ACT_OK;
	fc_stat_add(ST_CELL, 1);
	if (!fc_armed_coarse())
		return TC_ACT_OK;
	fc_stat_add(ST_DROPPED, 1);
	return TC_ACT_SHOT;
}

/* The same check in a tracing program: fine clock (the coarse one is refused there). */
SEC("raw_tp/sys_enter")
int fc_selftest_rawtp(void *ctx)
{
	if (fc_cell_task() < 0)
		return 0;
	if (fc_armed_fine())
		fc_stat_add(ST_TP_HITS, 1);
	return 0;
}

/* Socket context: TCP state changes attributed by the socket's own cgroup. */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(fc_selftest_tpbtf, const struct sock *sk, int oldstate, int newstate)
{
	if (fc_cell_sock((struct sock *)sk) < 0)
		return 0;
	if (fc_armed_fine())
		fc_stat_add(ST_SOCK_HITS, 1);
	return 0;
}

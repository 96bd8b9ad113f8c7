// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * connect-error and send-error (design.md §4): cgroup sock_addr hooks on the cell make
 * connect() or an unconnected sendto() fail with a chosen errno. Returning 0 rejects the call
 * (EPERM by default); bpf_set_retval() replaces that errno with ours. The sendmsg hooks see only
 * unconnected UDP sends: connected UDP is hit at connect().
 */
#include "net.bpf.h"

#define AF_INET	 2
#define AF_INET6 10

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_connerr_cfg);
} fc_connerr_cfg SEC(".maps");

static __always_inline int pick_errno(const struct fc_connerr_cfg *c)
{
	__u32 r = bpf_get_prandom_u32();

	for (int i = 0; i < FC_MAX_ERRNOS; i++) {
		if (i >= c->nerr)
			break;
		if ((__u64)r < c->cum[i])
			return c->err[i];
	}
	return c->nerr ? c->err[0] : 1 /* EPERM */;
}

/* 1 = let the call through; 0 = fail it with the errno set through bpf_set_retval. */
static __always_inline int connerr(struct bpf_sock_addr *ctx, bool v6)
{
	struct fc_pkt p = {};
	struct fc_connerr_cfg *c;
	__u32 zero = 0;

	fc_stat_add(NS_SEEN, 1);
	c = bpf_map_lookup_elem(&fc_connerr_cfg, &zero);
	if (!c)
		return 1;
	p.v6 = v6;
	p.proto = ctx->protocol;
	p.dport = bpf_ntohs(ctx->user_port);
	if (v6) {
		__u32 a[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2],
			       ctx->user_ip6[3] };

		__builtin_memcpy(p.daddr, a, 16);
	} else {
		__u32 a = ctx->user_ip4;

		__builtin_memcpy(p.daddr, &a, 4);
	}
	/* the local port is not chosen yet at connect(): only remote ports can match */
	if (!fc_pkt_match(&c->m, &p, true))
		return 1;
	fc_stat_add(NS_MATCHED, 1);
	if (!fc_armed_coarse() || !fc_chance(c->p_fail) || !fc_claim(&c->failed, c->count_limit))
		return 1;
	fc_stat_add(NS_INJECTED, 1);
	fc_stat_first(FC_STAT_FIRST_HIT_NS);
	bpf_set_retval(-pick_errno(c));
	return 0;
}

SEC("cgroup/connect4")
int fc_connerr_connect4(struct bpf_sock_addr *ctx)
{
	return connerr(ctx, false);
}

SEC("cgroup/connect6")
int fc_connerr_connect6(struct bpf_sock_addr *ctx)
{
	return connerr(ctx, true);
}

SEC("cgroup/sendmsg4")
int fc_connerr_sendmsg4(struct bpf_sock_addr *ctx)
{
	return connerr(ctx, false);
}

SEC("cgroup/sendmsg6")
int fc_connerr_sendmsg6(struct bpf_sock_addr *ctx)
{
	return connerr(ctx, true);
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet and address matching shared by the network faults: parse an skb from its network
 * header (the same code in tc and cgroup_skb), match protocol, port ranges and remote CIDRs,
 * and draw fixed-point probabilities.
 */
#ifndef FC_NET_BPF_H
#define FC_NET_BPF_H

#include "fc_common.bpf.h"
#include <bpf/bpf_endian.h>
#include "fc_net.h"

#define ETH_P_IP       0x0800
#define ETH_P_IPV6     0x86DD
#define IPPROTO_ICMPV6 58

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct fc_lpm4);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} fc_cidr4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct fc_lpm6);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} fc_cidr6 SEC(".maps");

struct fc_pkt {
	__u8 proto; /* FC_PROTO_* (ICMPv6 folded into FC_PROTO_ICMP) */
	__u8 v6;
	__u16 sport, dport; /* host order; 0 when not TCP/UDP or a non-first fragment */
	__u8 saddr[16], daddr[16];
};

/*
 * tc sees the frame from its L2 header; cgroup_skb from the network header. Direct packet
 * access is several helper calls cheaper per packet than bpf_skb_load_bytes_relative (P2), so
 * tc reads the headers in place: Ethernet when the ethertype agrees with skb->protocol, else
 * an L3 device (tun, wireguard) whose frame starts at the IP header.
 */
static __always_inline int fc_parse_tc(struct __sk_buff *skb, struct fc_pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 off = 0, l3 = skb->protocol;
	__u16 *ports;

	/* one read of the field: clang otherwise folds two into a modified ctx pointer */
	barrier_var(l3);
	if (data + 14 <= end && *(__u16 *)(data + 12) == l3)
		off = 14;
	if (l3 == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > end)
			return -1;
		p->v6 = 0;
		p->proto = ip->protocol;
		__builtin_memcpy(p->saddr, &ip->saddr, 4);
		__builtin_memcpy(p->daddr, &ip->daddr, 4);
		if (ip->frag_off & bpf_htons(0x1fff))
			return 0;
		ports = (void *)ip + ip->ihl * 4;
	} else if (l3 == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > end)
			return -1;
		p->v6 = 1;
		p->proto = ip6->nexthdr == IPPROTO_ICMPV6 ? FC_PROTO_ICMP : ip6->nexthdr;
		__builtin_memcpy(p->saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->daddr, &ip6->daddr, 16);
		ports = (void *)(ip6 + 1);
	} else {
		return -1;
	}
	if (p->proto == FC_PROTO_TCP || p->proto == FC_PROTO_UDP) {
		/* headers not in the linear area: pull them, then fall back to the helper */
		if ((void *)(ports + 2) > end)
			return 1;
		p->sport = bpf_ntohs(ports[0]);
		p->dport = bpf_ntohs(ports[1]);
	}
	return 0;
}

/* Parse from the network header: works in tc (any L2) and cgroup_skb (no L2). */
static __always_inline int fc_parse_skb(struct __sk_buff *skb, struct fc_pkt *p)
{
	__u32 l4off;
	__u16 ports[2];

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes_relative(skb, 0, &ip, sizeof(ip), BPF_HDR_START_NET))
			return -1;
		p->v6 = 0;
		p->proto = ip.protocol;
		__builtin_memcpy(p->saddr, &ip.saddr, 4);
		__builtin_memcpy(p->daddr, &ip.daddr, 4);
		/* a later fragment carries no ports */
		if (ip.frag_off & bpf_htons(0x1fff))
			return 0;
		l4off = ip.ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes_relative(skb, 0, &ip6, sizeof(ip6), BPF_HDR_START_NET))
			return -1;
		p->v6 = 1;
		/* extension headers are not walked: their traffic matches only "proto: any" */
		p->proto = ip6.nexthdr == IPPROTO_ICMPV6 ? FC_PROTO_ICMP : ip6.nexthdr;
		__builtin_memcpy(p->saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->daddr, &ip6.daddr, 16);
		l4off = sizeof(ip6);
	} else {
		return -1;
	}
	if (p->proto == FC_PROTO_TCP || p->proto == FC_PROTO_UDP) {
		if (bpf_skb_load_bytes_relative(skb, l4off, ports, sizeof(ports),
						BPF_HDR_START_NET))
			return -1;
		p->sport = bpf_ntohs(ports[0]);
		p->dport = bpf_ntohs(ports[1]);
	}
	return 0;
}

static __always_inline bool fc_port_in(__u16 port, const struct fc_port_range *r, __u8 n)
{
	if (!n)
		return true;
	for (int i = 0; i < FC_MAX_PORT_RANGES; i++) {
		if (i >= n)
			break;
		if (port >= r[i].lo && port <= r[i].hi)
			return true;
	}
	return false;
}

/* Remote address in the configured CIDRs (when any were given). */
static __always_inline bool fc_cidr_match(const struct fc_net_match *m, bool v6, const __u8 *addr)
{
	if (!(m->flags & FC_M_CIDR_ANY))
		return true;
	if (v6) {
		struct fc_lpm6 k = { .prefixlen = 128 };

		if (!(m->flags & FC_M_CIDR6))
			return false;
		__builtin_memcpy(k.addr, addr, 16);
		return bpf_map_lookup_elem(&fc_cidr6, &k) != NULL;
	}
	struct fc_lpm4 k = { .prefixlen = 32 };

	if (!(m->flags & FC_M_CIDR4))
		return false;
	__builtin_memcpy(k.addr, addr, 4);
	return bpf_map_lookup_elem(&fc_cidr4, &k) != NULL;
}

/* @egress: the cell sends (local = source); else it receives (local = destination). */
static __always_inline bool fc_pkt_match(const struct fc_net_match *m, const struct fc_pkt *p,
					 bool egress)
{
	__u16 lport = egress ? p->sport : p->dport, rport = egress ? p->dport : p->sport;

	if (m->proto != FC_PROTO_ANY && m->proto != p->proto)
		return false;
	if (!fc_port_in(lport, m->lport, m->nlport) || !fc_port_in(rport, m->rport, m->nrport))
		return false;
	return fc_cidr_match(m, p->v6, egress ? p->daddr : p->saddr);
}

/* True with probability @p_fixed / 2^32 (2^32 = always, 0 = never). */
static __always_inline bool fc_chance(__u64 p_fixed)
{
	return (__u64)bpf_get_prandom_u32() < p_fixed;
}

/* Claim one of @limit injections (0 = unlimited) through an atomic running total. */
static __always_inline bool fc_claim(__u64 *total, __u64 limit)
{
	if (!limit)
		return true;
	if (__sync_fetch_and_add(total, 1) < limit)
		return true;
	fc_stat_add(NS_COUNT_EXHAUSTED, 1);
	return false;
}

#endif

// SPDX-License-Identifier: BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "faults/netmatch.h"

static int parse_ports(struct fc_kv *kv, struct fc_port_range *r, __u8 *n, struct fc_diags *d)
{
	char buf[sizeof(kv->val)], *save = NULL, *tok;
	unsigned long lo, hi;
	char *end;

	snprintf(buf, sizeof(buf), "%s", kv->val);
	*n = 0;
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		lo = strtoul(tok, &end, 10);
		hi = lo;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		if (*end || !lo || lo > 65535 || hi > 65535 || hi < lo || tok[0] == '-') {
			fc_diag(
			    d, kv->line, kv->col,
			    "%s: '%s' is not a port or port range (1-65535, e.g. 80 or 8000-8080)",
			    kv->key, tok);
			return -EINVAL;
		}
		if (*n >= FC_MAX_PORT_RANGES) {
			fc_diag(d, kv->line, kv->col, "%s: at most %d ports or ranges", kv->key,
				FC_MAX_PORT_RANGES);
			return -EINVAL;
		}
		r[*n].lo = lo;
		r[*n].hi = hi;
		(*n)++;
	}
	if (!*n) {
		fc_diag(d, kv->line, kv->col, "%s: empty port list", kv->key);
		return -EINVAL;
	}
	return 0;
}

static int parse_cidr(const char *tok, struct fc_cidr *c)
{
	char addr[64], *slash;
	unsigned long pl;
	char *end;
	int max;

	snprintf(addr, sizeof(addr), "%s", tok);
	slash = strchr(addr, '/');
	if (slash)
		*slash = 0;
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->v6 = true;
		max = 128;
	} else {
		return -EINVAL;
	}
	pl = max;
	if (slash) {
		pl = strtoul(slash + 1, &end, 10);
		if (*end || !slash[1] || pl > (unsigned long)max)
			return -EINVAL;
	}
	c->prefix = pl;
	return 0;
}

int fc_netmatch_parse(struct fc_fault_spec *spec, struct fc_netmatch *nm, struct fc_diags *d)
{
	struct fc_kv *kv;
	int err = 0;

	memset(nm, 0, sizeof(*nm));
	if ((kv = fc_spec_get(spec, "match.proto"))) {
		if (!strcmp(kv->val, "tcp"))
			nm->m.proto = FC_PROTO_TCP;
		else if (!strcmp(kv->val, "udp"))
			nm->m.proto = FC_PROTO_UDP;
		else if (!strcmp(kv->val, "icmp"))
			nm->m.proto = FC_PROTO_ICMP;
		else if (strcmp(kv->val, "any")) {
			fc_diag(d, kv->line, kv->col,
				"match.proto: unknown protocol '%s' (tcp, udp, icmp or any)",
				kv->val);
			err = -EINVAL;
		}
	}
	if ((kv = fc_spec_get(spec, "match.ports")))
		err = parse_ports(kv, nm->m.rport, &nm->m.nrport, d) ?: err;
	if ((kv = fc_spec_get(spec, "match.local_ports")))
		err = parse_ports(kv, nm->m.lport, &nm->m.nlport, d) ?: err;
	if ((kv = fc_spec_get(spec, "match.cidrs"))) {
		char buf[sizeof(kv->val)], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", kv->val);
		for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
			if (nm->ncidr >= FC_MAX_CIDRS) {
				fc_diag(d, kv->line, kv->col, "match.cidrs: at most %d",
					FC_MAX_CIDRS);
				err = -EINVAL;
				break;
			}
			if (parse_cidr(tok, &nm->cidr[nm->ncidr])) {
				fc_diag(d, kv->line, kv->col,
					"match.cidrs: '%s' is not an IPv4 or IPv6 address or CIDR "
					"(e.g. 10.0.0.0/8, fd00::/8)",
					tok);
				err = -EINVAL;
				continue;
			}
			nm->m.flags |= nm->cidr[nm->ncidr].v6 ? FC_M_CIDR6 : FC_M_CIDR4;
			nm->ncidr++;
		}
	}
	if ((nm->m.nrport || nm->m.nlport) && nm->m.proto == FC_PROTO_ICMP) {
		fc_diag(d, spec->line, spec->col, "match: ports given with proto icmp never match");
		err = -EINVAL;
	}
	return err;
}

int fc_netmatch_fill(const struct fc_netmatch *nm, int cidr4_fd, int cidr6_fd)
{
	__u8 one = 1;

	for (int i = 0; i < nm->ncidr; i++) {
		const struct fc_cidr *c = &nm->cidr[i];
		int err;

		if (c->v6) {
			struct fc_lpm6 k = { .prefixlen = c->prefix };

			memcpy(k.addr, c->addr, 16);
			err = bpf_map_update_elem(cidr6_fd, &k, &one, BPF_ANY);
		} else {
			struct fc_lpm4 k = { .prefixlen = c->prefix };

			memcpy(k.addr, c->addr, 4);
			err = bpf_map_update_elem(cidr4_fd, &k, &one, BPF_ANY);
		}
		if (err)
			return -errno;
	}
	return 0;
}

static size_t ports_str(const struct fc_port_range *r, int n, char *buf, size_t len)
{
	size_t u = 0;

	for (int i = 0; i < n && u < len; i++) {
		if (r[i].lo == r[i].hi)
			u += snprintf(buf + u, len - u, "%s%u", i ? "," : "", r[i].lo);
		else
			u += snprintf(buf + u, len - u, "%s%u-%u", i ? "," : "", r[i].lo, r[i].hi);
	}
	return u;
}

void fc_netmatch_describe(const struct fc_netmatch *nm, char *buf, size_t len)
{
	static const char *protos[256] = { [0] = "all", [6] = "tcp", [17] = "udp", [1] = "icmp" };
	char tmp[256];
	size_t u;

	u = snprintf(buf, len, "%s traffic", protos[nm->m.proto] ?: "?");
	if (nm->m.nrport && u < len) {
		ports_str(nm->m.rport, nm->m.nrport, tmp, sizeof(tmp));
		u += snprintf(buf + u, len - u, " to/from remote port %s", tmp);
	}
	if (nm->m.nlport && u < len) {
		ports_str(nm->m.lport, nm->m.nlport, tmp, sizeof(tmp));
		u += snprintf(buf + u, len - u, " on local port %s", tmp);
	}
	for (int i = 0; i < nm->ncidr && u < len; i++) {
		inet_ntop(nm->cidr[i].v6 ? AF_INET6 : AF_INET, nm->cidr[i].addr, tmp, sizeof(tmp));
		u += snprintf(buf + u, len - u, "%s%s/%u", i ? ", " : " with peers in ", tmp,
			      nm->cidr[i].prefix);
	}
}

int fc_up_devices(char devs[][IF_NAMESIZE], int max)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int n = 0, s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = -errno;

	if (!ifs || s < 0) {
		if (ifs)
			if_freenameindex(ifs);
		if (s >= 0)
			close(s);
		return err ? err : -ENOMEM;
	}
	for (i = ifs; i->if_index && n < max; i++) {
		struct ifreq ifr = {};

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
		if (ioctl(s, SIOCGIFFLAGS, &ifr) || !(ifr.ifr_flags & IFF_UP))
			continue;
		snprintf(devs[n++], IF_NAMESIZE, "%s", i->if_name);
	}
	if_freenameindex(ifs);
	close(s);
	return n;
}

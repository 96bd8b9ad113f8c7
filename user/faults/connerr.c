// SPDX-License-Identifier: BSD-2-Clause
/*
 * connect-error and send-error: cgroup sock_addr hooks on the cell with bpf_set_retval, so the
 * victim gets exactly the errno asked for (weighted list), at a rate, up to a count.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "core/errnames.h"
#include "faults/fault.h"
#include "faults/netmatch.h"
#include "connerr.skel.h"

struct connerr_cfg {
	bool send; /* send-error: sendmsg hooks (unconnected UDP) instead of connect */
	double prob;
	uint64_t count;
	int nerr;
	int err[FC_MAX_ERRNOS];
	unsigned int weight[FC_MAX_ERRNOS];
	struct fc_netmatch nm;
};

struct connerr_priv {
	struct connerr_bpf *skel;
	struct bpf_link *links[2];
	int cgfd;
};

static const char *const connerr_keys[] = { "probability", "errno", "count", FC_NETMATCH_KEYS,
					    NULL };

static int parse(struct fc_fault_spec *spec, struct connerr_cfg *c, struct fc_diags *d)
{
	struct fc_kv *kv;
	int err = fc_netmatch_parse(spec, &c->nm, d);

	c->prob = 1;
	if ((kv = fc_spec_get(spec, "probability")) && fc_kv_prob(kv, d, &c->prob))
		err = -EINVAL;
	if ((kv = fc_spec_get(spec, "count")) && fc_kv_u64(kv, d, 1, UINT32_MAX, &c->count))
		err = -EINVAL;
	if ((kv = fc_spec_get(spec, "errno"))) {
		if (fc_kv_errnos(kv, d, c->err, c->weight, FC_MAX_ERRNOS, &c->nerr,
				 "ECONNREFUSED, ETIMEDOUT"))
			err = -EINVAL;
	} else {
		c->nerr = 1;
		c->err[0] = c->send ? EPERM : ECONNREFUSED;
		c->weight[0] = 1;
	}
	if (c->send && c->nm.m.proto == FC_PROTO_TCP) {
		fc_diag(d, spec->line, spec->col,
			"send-error applies to unconnected UDP sends; for TCP use connect-error");
		err = -EINVAL;
	}
	return err;
}

static int connect_parse(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d)
{
	return parse(spec, cfg, d);
}

static int send_parse(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d)
{
	((struct connerr_cfg *)cfg)->send = true;
	return parse(spec, cfg, d);
}

static void describe(const void *cfg, char *buf, size_t len)
{
	const struct connerr_cfg *c = cfg;
	char m[512], errs[256];
	size_t u = 0;

	fc_netmatch_describe(&c->nm, m, sizeof(m));
	errs[0] = 0;
	for (int i = 0; i < c->nerr && u < sizeof(errs); i++)
		u += snprintf(errs + u, sizeof(errs) - u, "%s%s", i ? "/" : "",
			      fc_errno_name(c->err[i]));
	snprintf(buf, len, "fail %.4g%% of the cell's %s for %s with %s%s", c->prob * 100,
		 c->send ? "unconnected UDP sends" : "connect() calls", m, errs,
		 c->count ? " (count-limited)" : "");
}

static int connerr_open(struct fc_fault *f)
{
	struct connerr_cfg *c = f->cfg;
	struct connerr_priv *p;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cgfd = -1;
	f->priv = p;
	p->skel = connerr_bpf__open();
	if (!p->skel)
		return -errno;
	err = fc_core_prepare(f->core, p->skel->obj);
	if (err)
		return err;
	bpf_program__set_autoload(p->skel->progs.fc_connerr_connect4, !c->send);
	bpf_program__set_autoload(p->skel->progs.fc_connerr_connect6, !c->send);
	bpf_program__set_autoload(p->skel->progs.fc_connerr_sendmsg4, c->send);
	bpf_program__set_autoload(p->skel->progs.fc_connerr_sendmsg6, c->send);
	err = connerr_bpf__load(p->skel);
	if (err) {
		snprintf(
		    f->why, sizeof(f->why),
		    "the kernel refused the cgroup sock_addr programs with bpf_set_retval (%s)",
		    strerror(-err));
		return -EOPNOTSUPP;
	}
	return 0;
}

static int connerr_attach(struct fc_fault *f, struct fc_state *st)
{
	struct connerr_cfg *c = f->cfg;
	struct connerr_priv *p = f->priv;
	struct fc_connerr_cfg k = { .m = c->nm.m,
				    .p_fail = fc_prob_fixed(c->prob),
				    .count_limit = c->count,
				    .nerr = c->nerr };
	struct bpf_program *progs[2];
	__u32 zero = 0;
	int err;

	(void)st; /* cgroup links are fd-bound: nothing to record */
	for (int i = 0; i < c->nerr; i++)
		k.err[i] = c->err[i];
	fc_errno_thresholds(c->weight, c->nerr, k.cum);
	err = fc_netmatch_fill(&c->nm, bpf_map__fd(p->skel->maps.fc_cidr4),
			       bpf_map__fd(p->skel->maps.fc_cidr6));
	if (err)
		return err;
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.fc_connerr_cfg), &zero, &k, BPF_ANY))
		return -errno;
	p->cgfd = open(f->core->cells[0].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->cgfd < 0)
		return -errno;
	progs[0] =
	    c->send ? p->skel->progs.fc_connerr_sendmsg4 : p->skel->progs.fc_connerr_connect4;
	progs[1] =
	    c->send ? p->skel->progs.fc_connerr_sendmsg6 : p->skel->progs.fc_connerr_connect6;
	for (int i = 0; i < 2; i++) {
		p->links[i] = bpf_program__attach_cgroup(progs[i], p->cgfd);
		if (!p->links[i])
			return -errno;
	}
	snprintf(f->mechanism, sizeof(f->mechanism), "cgroup/%s4+6 with bpf_set_retval",
		 c->send ? "sendmsg" : "connect");
	return 0;
}

static int connerr_counters(struct fc_fault *f, struct fc_fault_counters *out)
{
	struct connerr_priv *p = f->priv;

	return p && p->skel ? fc_fault_obj_counters(p->skel->obj, out) : -ENOENT;
}

static void connerr_detach(struct fc_fault *f)
{
	struct connerr_priv *p = f->priv;

	if (!p)
		return;
	for (int i = 0; i < 2; i++) {
		bpf_link__destroy(p->links[i]);
		p->links[i] = NULL;
	}
	if (p->cgfd >= 0)
		close(p->cgfd);
	p->cgfd = -1;
}

static void connerr_close(struct fc_fault *f)
{
	struct connerr_priv *p = f->priv;

	connerr_detach(f);
	connerr_bpf__destroy(p->skel);
	free(p);
	f->priv = NULL;
}

#define CONNERR_HELP                                                                               \
	"  probability P      share of calls to fail (default 100%)\n"                             \
	"  errno E            ECONNREFUSED (default), or weighted: ECONNREFUSED:70,ETIMEDOUT:30\n" \
	"  count N            fail at most N calls in total (exact)\n"                             \
	"  match.proto        tcp, udp or any\n"                                                   \
	"  match.ports        destination ports: 5432,8000-8080\n"                                 \
	"  match.cidrs        destinations: 10.0.0.0/8,fd00::/8\n"

static const struct fc_fault_ops connect_ops = {
	.type = "connect-error",
	.aliases = { "connect-fail" },
	.summary = "make the cell's connect() calls fail with a chosen errno",
	.keys_help = CONNERR_HELP,
	.keys = connerr_keys,
	.cfg_size = sizeof(struct connerr_cfg),
	.parse = connect_parse,
	.describe = describe,
	.open = connerr_open,
	.attach = connerr_attach,
	.counters = connerr_counters,
	.detach = connerr_detach,
	.close = connerr_close,
};
FC_FAULT(connect_ops);

static const struct fc_fault_ops send_ops = {
	.type = "send-error",
	.summary = "make the cell's unconnected UDP sends fail with a chosen errno",
	.keys_help = CONNERR_HELP,
	.keys = connerr_keys,
	.cfg_size = sizeof(struct connerr_cfg),
	.parse = send_parse,
	.describe = describe,
	.open = connerr_open,
	.attach = connerr_attach,
	.counters = connerr_counters,
	.detach = connerr_detach,
	.close = connerr_close,
};
FC_FAULT(send_ops);

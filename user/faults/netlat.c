// SPDX-License-Identifier: BSD-2-Clause
/*
 * network-latency: earliest departure times stamped at tc egress (bpf/netlat.bpf.c), held by
 * sch_fq on the same device (user/core/qdisc.c), for the cell's packets only.
 */
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "core/probe.h"
#include "core/qdisc.h"
#include "core/tc.h"
#include "core/util.h"
#include "faults/fault.h"
#include "faults/netmatch.h"
#include "fc_netlat.h"
#include "netlat.skel.h"

#define MAX_DEVS	16
/* sch_fq drops what is due beyond its horizon (10 s by default): stay a second below */
#define NL_MAX_NS	(9 * NSEC_PER_SEC)
/* the normal table reaches ±3.1σ: the largest delay a draw can give */
#define NL_NORMAL_REACH 3.2

struct netlat_cfg {
	uint64_t delay_ns, jitter_ns, max_ns;
	int dist;
	double prob;
	uint64_t count;
	enum fc_tc_mode tc_mode;
	int ndev;
	char devs[MAX_DEVS][IF_NAMESIZE];
	struct fc_netmatch nm;
};

struct netlat_priv {
	struct netlat_bpf *skel;
	struct fc_tc_attach at[MAX_DEVS];
	int nat;
};

static const char *const netlat_keys[] = {
	"delay",     "jitter",	"distribution", "probability",	  "count",
	"direction", "devices", "tc",		FC_NETMATCH_KEYS, NULL,
};

static int parse_devices(struct fc_kv *kv, struct netlat_cfg *c, struct fc_diags *d)
{
	char buf[sizeof(kv->val)], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", kv->val);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (c->ndev >= MAX_DEVS || strlen(tok) >= IF_NAMESIZE) {
			fc_diag(d, kv->line, kv->col, "devices: too many or too long: '%s'", tok);
			return -EINVAL;
		}
		strcpy(c->devs[c->ndev++], tok);
	}
	return 0;
}

static int netlat_parse(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d)
{
	struct netlat_cfg *c = cfg;
	struct fc_kv *kv, *dist;
	int err = fc_netmatch_parse(spec, &c->nm, d);
	double reach;

	c->prob = 1;
	kv = fc_spec_get(spec, "delay");
	if (!kv) {
		fc_diag(d, spec->line, spec->col,
			"network-latency needs a delay (e.g. delay: 100ms)");
		return -EINVAL;
	}
	if (fc_kv_duration(kv, d, &c->delay_ns))
		err = -EINVAL;
	if ((kv = fc_spec_get(spec, "jitter")) && fc_kv_duration(kv, d, &c->jitter_ns))
		err = -EINVAL;
	c->dist = c->jitter_ns ? FC_NL_UNIFORM : FC_NL_FIXED;
	if ((dist = fc_spec_get(spec, "distribution"))) {
		if (!strcmp(dist->val, "normal"))
			c->dist = FC_NL_NORMAL;
		else if (strcmp(dist->val, "uniform")) {
			fc_diag(d, dist->line, dist->col,
				"distribution: '%s' is not uniform or normal", dist->val);
			err = -EINVAL;
		}
		if (!c->jitter_ns) {
			fc_diag(d, dist->line, dist->col,
				"distribution: needs a jitter (the spread it describes)");
			err = -EINVAL;
		}
	}
	if ((kv = fc_spec_get(spec, "probability")) && fc_kv_prob(kv, d, &c->prob))
		err = -EINVAL;
	if ((kv = fc_spec_get(spec, "count")) && fc_kv_u64(kv, d, 1, UINT32_MAX, &c->count))
		err = -EINVAL;
	if ((kv = fc_spec_get(spec, "direction")) && strcmp(kv->val, "out") &&
	    strcmp(kv->val, "egress")) {
		fc_diag(d, kv->line, kv->col,
			"direction: network-latency delays outgoing packets only (out); delay the "
			"peer's egress for the other way");
		err = -EINVAL;
	}
	if ((kv = fc_spec_get(spec, "devices")) && parse_devices(kv, c, d))
		err = -EINVAL;
	if ((kv = fc_spec_get(spec, "tc"))) {
		if (!strcmp(kv->val, "tcx"))
			c->tc_mode = FC_TC_TCX;
		else if (!strcmp(kv->val, "clsact"))
			c->tc_mode = FC_TC_CLSACT;
		else if (strcmp(kv->val, "auto")) {
			fc_diag(d, kv->line, kv->col, "tc: '%s' is not auto, tcx or clsact",
				kv->val);
			err = -EINVAL;
		}
	}
	reach = c->dist == FC_NL_NORMAL ? NL_NORMAL_REACH : c->dist == FC_NL_UNIFORM ? 1 : 0;
	c->max_ns = c->delay_ns + (uint64_t)(reach * c->jitter_ns);
	if (!err && c->max_ns > NL_MAX_NS) {
		fc_diag(d, spec->line, spec->col,
			"delay + jitter%s reaches %.3gs: sch_fq drops packets due beyond its 10s "
			"horizon, so network-latency stays below 9s",
			c->dist == FC_NL_NORMAL ? " (3.2σ)" : "", c->max_ns / 1e9);
		err = -EINVAL;
	}
	return err;
}

static void netlat_describe(const void *cfg, char *buf, size_t len)
{
	const struct netlat_cfg *c = cfg;
	char m[512], dl[32], jt[32], pr[48] = "";

	fc_netmatch_describe(&c->nm, m, sizeof(m));
	fc_format_duration(c->delay_ns, dl, sizeof(dl));
	fc_format_duration(c->jitter_ns, jt, sizeof(jt));
	if (c->prob < 1 || c->count)
		snprintf(pr, sizeof(pr), " (%.4g%%%s)", c->prob * 100,
			 c->count ? ", count-limited" : "");
	snprintf(buf, len,
		 "delay outgoing %s of the cell by %s%s%s%s%s, in flow order (EDT at tc egress + "
		 "sch_fq); outside unconnected traffic that fq hashes into a cell flow waits too; "
		 "a TCP stream slows beyond the delay (TCP Small Queues count what fq holds); "
		 "installing and removing fq resets the device's tx queues once",
		 m, dl, c->jitter_ns ? " ± " : "", c->jitter_ns ? jt : "",
		 c->dist == FC_NL_NORMAL    ? " (normal, σ)"
		 : c->dist == FC_NL_UNIFORM ? " (uniform)"
					    : "",
		 pr);
}

/* Φ⁻¹ by bisection on erfc: 1024 points once per load, no table to keep by hand. */
static double norm_quantile(double p)
{
	double lo = -8, hi = 8, mid;

	for (int i = 0; i < 80; i++) {
		mid = (lo + hi) / 2;
		if (0.5 * erfc(-mid / M_SQRT2) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

static int fill_normal(struct netlat_bpf *skel)
{
	__s16 *t = (__s16 *)skel->rodata->fc_nl_normal;

	for (int i = 0; i < FC_NL_NTAB; i++)
		t[i] = (__s16)lround(norm_quantile((i + 0.5) / FC_NL_NTAB) * FC_NL_TSCALE);
	return 0;
}

/* sch_fq exists when the probe can put one on a scratch device and count packets through it. */
static int have_fq(char *why, size_t len)
{
	struct fc_probe_opts o = { .sz = sizeof(o), .only = "sch_fq" };
	const struct fc_probe_result *r;
	struct fc_probe *p = fc_probe_new(&o);
	int err = 0;

	if (!p)
		return -errno;
	err = fc_probe_run(p);
	r = err ? NULL : fc_probe_find(p, "sch_fq");
	if (!err && (!r || !r->available)) {
		snprintf(why, len,
			 "this kernel has no sch_fq (%s%s%s): EDT delays need fq on the egress "
			 "device (see 'faultcell probe')",
			 r ? r->error : "not probed", r && r->detail[0] ? ": " : "",
			 r ? r->detail : "");
		err = -EOPNOTSUPP;
	}
	fc_probe_free(p);
	return err;
}

static int netlat_open(struct fc_fault *f)
{
	struct netlat_priv *p;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	f->priv = p;
	p->skel = netlat_bpf__open();
	if (!p->skel) {
		err = -errno;
		snprintf(f->why, sizeof(f->why), "cannot open the network-latency object: %s",
			 strerror(errno));
		return err;
	}
	err = fc_core_prepare(f->core, p->skel->obj);
	err = err ?: fill_normal(p->skel);
	if (err)
		return err;
	err = netlat_bpf__load(p->skel);
	if (err) {
		snprintf(f->why, sizeof(f->why),
			 "the kernel refused the network-latency program (%s): tc BPF with "
			 "bpf_skb_set_tstamp is missing (see 'faultcell probe')",
			 strerror(-err));
		return -EOPNOTSUPP;
	}
	err = have_fq(f->why, sizeof(f->why));
	if (err)
		return err;
	snprintf(f->mechanism, sizeof(f->mechanism),
		 "EDT: tc egress bpf_skb_set_tstamp(MONO) + sch_fq on the egress device");
	return 0;
}

static int write_cfg(struct fc_fault *f)
{
	struct netlat_cfg *c = f->cfg;
	struct netlat_priv *p = f->priv;
	struct fc_netlat_cfg k = {
		.m = c->nm.m,
		.dist = c->dist,
		.delay_ns = c->delay_ns,
		.jitter_ns = c->jitter_ns,
		.max_ns = c->max_ns,
		.p_delay = fc_prob_fixed(c->prob),
		.count_limit = c->count,
	};
	__u32 zero = 0;
	int err;

	err = fc_netmatch_fill(&c->nm, bpf_map__fd(p->skel->maps.fc_cidr4),
			       bpf_map__fd(p->skel->maps.fc_cidr6));
	if (err)
		return err;
	return bpf_map_update_elem(bpf_map__fd(p->skel->maps.fc_netlat_cfg), &zero, &k, BPF_ANY)
		   ? -errno
		   : 0;
}

static int netlat_attach(struct fc_fault *f, struct fc_state *st)
{
	struct netlat_cfg *c = f->cfg;
	struct netlat_priv *p = f->priv;
	struct fc_fq_opts fq = { .plimit = 20000, .flow_plimit = 10000 };
	char devs[MAX_DEVS][IF_NAMESIZE], how[96];
	int ifx[MAX_DEVS], n, i, err;
	uint32_t drain_ms = c->max_ns / NSEC_PER_MSEC + 10;
	size_t u = 0;

	err = write_cfg(f);
	if (err)
		return err;
	if (c->ndev) {
		memcpy(devs, c->devs, sizeof(devs));
		n = c->ndev;
	} else {
		n = fc_up_devices(devs, MAX_DEVS);
		if (n < 0)
			return n;
	}
	/* every device first: a refusal must leave nothing changed */
	for (i = 0; i < n; i++) {
		ifx[i] = if_nametoindex(devs[i]);
		if (!ifx[i]) {
			snprintf(f->why, sizeof(f->why), "device '%s' not found", devs[i]);
			return -ENODEV;
		}
		err = fc_qdisc_check(ifx[i], f->why, sizeof(f->why));
		if (err)
			return err == -EEXIST ? -FC_FAULT_REFUSED : err;
	}
	for (i = 0; i < n; i++) {
		/* fq first: a stamped packet on a device without it would just leave at once */
		err = fc_qdisc_install_fq(st, ifx[i], &fq, drain_ms, how, sizeof(how), f->why,
					  sizeof(f->why));
		if (err)
			return err == -EEXIST ? -FC_FAULT_REFUSED : err;
		err = fc_tc_attach(st, bpf_program__fd(p->skel->progs.fc_netlat_egress), ifx[i],
				   true, c->tc_mode, &p->at[p->nat]);
		if (err) {
			snprintf(f->why, sizeof(f->why), "cannot attach tc egress on %s: %s",
				 devs[i], strerror(-err));
			return err;
		}
		u += snprintf(
		    f->mechanism + u, sizeof(f->mechanism) - u, "%s%s %s (%s)", u ? "; " : "EDT: ",
		    p->at[p->nat].used == FC_TC_TCX ? "tcx egress" : "clsact egress", devs[i], how);
		if (u >= sizeof(f->mechanism))
			u = sizeof(f->mechanism) - 1;
		p->nat++;
	}
	return 0;
}

static int netlat_counters(struct fc_fault *f, struct fc_fault_counters *out)
{
	struct netlat_priv *p = f->priv;

	if (!p || !p->skel)
		return -ENOENT;
	return fc_fault_obj_counters(p->skel->obj, out);
}

static void netlat_detach(struct fc_fault *f)
{
	struct netlat_priv *p = f->priv;

	if (!p)
		return;
	/* the fq qdiscs are recorded state: fc_undo_state drains and removes them next */
	for (int i = 0; i < p->nat; i++)
		fc_tc_detach(&p->at[i]);
	p->nat = 0;
}

static void netlat_close(struct fc_fault *f)
{
	struct netlat_priv *p = f->priv;

	netlat_detach(f);
	netlat_bpf__destroy(p->skel);
	free(p);
	f->priv = NULL;
}

static const struct fc_fault_ops netlat_ops = {
	.type = "network-latency",
	.aliases = { "latency", "delay" },
	.summary = "delay the cell's outgoing packets (EDT + sch_fq), jitter without reordering",
	.keys_help = "  delay D            added delay, e.g. 100ms (required)\n"
		     "  jitter J           spread around the delay (default none)\n"
		     "  distribution X     uniform (± jitter, default) or normal (σ = jitter)\n"
		     "  probability P      share of packets delayed (default 100%)\n"
		     "  count N            delay at most N packets in total\n"
		     "  match.proto / .ports / .local_ports / .cidrs   which packets\n"
		     "  devices            egress devices (default: every device that is up);\n"
		     "                     each gets sch_fq over its kernel-created root qdisc\n",
	.keys = netlat_keys,
	.cfg_size = sizeof(struct netlat_cfg),
	.parse = netlat_parse,
	.describe = netlat_describe,
	.open = netlat_open,
	.attach = netlat_attach,
	.counters = netlat_counters,
	.detach = netlat_detach,
	.close = netlat_close,
};
FC_FAULT(netlat_ops);

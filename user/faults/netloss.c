// SPDX-License-Identifier: BSD-2-Clause
/*
 * network-loss and network-blackhole: tc egress (TCX link where the kernel has it, else a
 * clsact filter recorded in the state file) and cgroup_skb ingress on the cell.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "core/log.h"
#include "core/tc.h"
#include "faults/fault.h"
#include "faults/netmatch.h"
#include "netloss.skel.h"

_Static_assert((int)NS_SEEN == (int)FC_STAT_FAMILY, "family slots start at FC_STAT_FAMILY");

#define DIR_OUT	 1
#define DIR_IN	 2
#define MAX_DEVS 16

struct netloss_cfg {
	bool blackhole;
	double prob;
	uint64_t count;
	int dirs;
	int model;
	double ge_p, ge_r, ge_loss_good, ge_loss_bad;
	enum fc_tc_mode tc_mode;
	int ndev;
	char devs[MAX_DEVS][IF_NAMESIZE];
	struct fc_netmatch nm;
};

struct netloss_priv {
	struct netloss_bpf *skel;
	struct fc_tc_attach at[MAX_DEVS];
	int nat;
	struct bpf_link *ingress;
	int cgfd;
};

static const char *const netloss_keys[] = {
	"probability", "count",	    "direction",	 "model",
	"gilbert.p",   "gilbert.r", "gilbert.loss_good", "gilbert.loss_bad",
	"devices",     "tc",	    FC_NETMATCH_KEYS,	 NULL,
};

static int parse_common(struct fc_fault_spec *spec, struct netloss_cfg *c, struct fc_diags *d)
{
	struct fc_kv *kv;
	int err = fc_netmatch_parse(spec, &c->nm, d);

	c->dirs = DIR_OUT;
	if ((kv = fc_spec_get(spec, "direction"))) {
		if (!strcmp(kv->val, "out") || !strcmp(kv->val, "egress"))
			c->dirs = DIR_OUT;
		else if (!strcmp(kv->val, "in") || !strcmp(kv->val, "ingress"))
			c->dirs = DIR_IN;
		else if (!strcmp(kv->val, "both"))
			c->dirs = DIR_OUT | DIR_IN;
		else {
			fc_diag(d, kv->line, kv->col, "direction: '%s' is not in, out or both",
				kv->val);
			err = -EINVAL;
		}
	}
	if ((kv = fc_spec_get(spec, "count")) && fc_kv_u64(kv, d, 1, UINT32_MAX, &c->count))
		err = -EINVAL;
	if ((kv = fc_spec_get(spec, "devices"))) {
		char buf[sizeof(kv->val)], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", kv->val);
		for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
			if (c->ndev >= MAX_DEVS || strlen(tok) >= IF_NAMESIZE) {
				fc_diag(d, kv->line, kv->col, "devices: too many or too long: '%s'",
					tok);
				err = -EINVAL;
				break;
			}
			strcpy(c->devs[c->ndev++], tok);
		}
	}
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
	return err;
}

static int netloss_parse(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d)
{
	struct netloss_cfg *c = cfg;
	struct fc_kv *kv;
	int err = parse_common(spec, c, d);

	kv = fc_spec_get(spec, "probability");
	if (!kv) {
		fc_diag(d, spec->line, spec->col,
			"network-loss needs a probability (e.g. probability: 5%%)");
		return -EINVAL;
	}
	if (fc_kv_prob(kv, d, &c->prob))
		err = -EINVAL;
	c->model = FC_LOSS_BERNOULLI;
	if ((kv = fc_spec_get(spec, "model"))) {
		if (!strcmp(kv->val, "gilbert-elliott") || !strcmp(kv->val, "ge"))
			c->model = FC_LOSS_GE;
		else if (strcmp(kv->val, "bernoulli")) {
			fc_diag(d, kv->line, kv->col,
				"model: '%s' is not bernoulli or gilbert-elliott", kv->val);
			err = -EINVAL;
		}
	}
	if (c->model == FC_LOSS_GE) {
		static const char *const ge[] = { "gilbert.p", "gilbert.r", "gilbert.loss_good",
						  "gilbert.loss_bad" };
		double *dst[] = { &c->ge_p, &c->ge_r, &c->ge_loss_good, &c->ge_loss_bad };

		/* defaults: Gilbert's model (no loss when good, all lost when bad) */
		c->ge_loss_good = 0;
		c->ge_loss_bad = 1;
		for (int i = 0; i < 4; i++) {
			kv = fc_spec_get(spec, ge[i]);
			if (!kv && i < 2) {
				fc_diag(d, spec->line, spec->col,
					"model gilbert-elliott needs %s (transition probability)",
					ge[i]);
				err = -EINVAL;
			} else if (kv && fc_kv_prob(kv, d, dst[i])) {
				err = -EINVAL;
			}
		}
	}
	return err;
}

static int blackhole_parse(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d)
{
	struct netloss_cfg *c = cfg;
	int err = parse_common(spec, c, d);

	c->blackhole = true;
	c->prob = 1;
	c->dirs = fc_spec_get(spec, "direction") ? c->dirs : DIR_OUT | DIR_IN;
	/* a blackhole of everything is a cell-pause of the network: make it say where */
	if (!err && !c->nm.ncidr && !c->nm.m.nrport && !c->nm.m.nlport) {
		fc_diag(d, spec->line, spec->col,
			"network-blackhole needs match.cidrs or match.ports (what to partition "
			"the cell from); for all traffic use network-loss with probability 100%%");
		err = -EINVAL;
	}
	return err;
}

static void netloss_describe(const void *cfg, char *buf, size_t len)
{
	const struct netloss_cfg *c = cfg;
	char m[512];
	const char *dir = c->dirs == (DIR_IN | DIR_OUT) ? "in and out"
			  : c->dirs == DIR_IN		? "incoming"
							: "outgoing";

	fc_netmatch_describe(&c->nm, m, sizeof(m));
	if (c->blackhole)
		snprintf(buf, len, "drop all %s %s of the cell (blackhole)", dir, m);
	else if (c->model == FC_LOSS_GE)
		snprintf(buf, len,
			 "drop %s %s of the cell in bursts (Gilbert-Elliott p=%.4g r=%.4g, "
			 "loss %.4g good / %.4g bad)%s",
			 dir, m, c->ge_p, c->ge_r, c->ge_loss_good, c->ge_loss_bad,
			 c->count ? ", up to a count" : "");
	else
		snprintf(buf, len, "drop %.4g%% of %s %s of the cell%s", c->prob * 100, dir, m,
			 c->count ? " (count-limited)" : "");
}

static int netloss_open(struct fc_fault *f)
{
	struct netloss_cfg *c = f->cfg;
	struct netloss_priv *p;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cgfd = -1;
	f->priv = p;
	p->skel = netloss_bpf__open();
	if (!p->skel) {
		err = -errno;
		snprintf(f->why, sizeof(f->why), "cannot open the network-loss object: %s",
			 strerror(errno));
		return err;
	}
	err = fc_core_prepare(f->core, p->skel->obj);
	if (err)
		return err;
	bpf_program__set_autoload(p->skel->progs.fc_netloss_egress, c->dirs & DIR_OUT);
	bpf_program__set_autoload(p->skel->progs.fc_netloss_ingress, c->dirs & DIR_IN);
	bpf_program__set_autoload(p->skel->progs.fc_netloss_model, false);
	err = netloss_bpf__load(p->skel);
	if (err) {
		snprintf(f->why, sizeof(f->why),
			 "the kernel refused the network-loss programs (%s): tc or cgroup_skb "
			 "BPF is missing (see 'faultcell probe')",
			 strerror(-err));
		return -EOPNOTSUPP;
	}
	return 0;
}

static int write_cfg(struct fc_fault *f)
{
	struct netloss_cfg *c = f->cfg;
	struct netloss_priv *p = f->priv;
	struct fc_netloss_cfg k = {
		.m = c->nm.m,
		.model = c->model,
		.p_loss = fc_prob_fixed(c->prob),
		.ge_p = fc_prob_fixed(c->ge_p),
		.ge_r = fc_prob_fixed(c->ge_r),
		.ge_loss_good = fc_prob_fixed(c->ge_loss_good),
		.ge_loss_bad = fc_prob_fixed(c->ge_loss_bad),
		.count_limit = c->count,
	};
	__u32 zero = 0;
	int err;

	err = fc_netmatch_fill(&c->nm, bpf_map__fd(p->skel->maps.fc_cidr4),
			       bpf_map__fd(p->skel->maps.fc_cidr6));
	if (err)
		return err;
	return bpf_map_update_elem(bpf_map__fd(p->skel->maps.fc_netloss_cfg), &zero, &k, BPF_ANY)
		   ? -errno
		   : 0;
}

static int netloss_attach(struct fc_fault *f, struct fc_state *st)
{
	struct netloss_cfg *c = f->cfg;
	struct netloss_priv *p = f->priv;
	char devs[MAX_DEVS][IF_NAMESIZE];
	size_t u = 0;
	int n, err, ifindex;
	bool tcx = false;

	f->mechanism[0] = 0;
	err = write_cfg(f);
	if (err)
		return err;
	if (c->dirs & DIR_IN) {
		p->cgfd = open(f->core->cells[0].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (p->cgfd < 0)
			return -errno;
		p->ingress = bpf_program__attach_cgroup(p->skel->progs.fc_netloss_ingress, p->cgfd);
		if (!p->ingress)
			return -errno;
		u += snprintf(f->mechanism + u, sizeof(f->mechanism) - u, "cgroup_skb ingress");
	}
	if (!(c->dirs & DIR_OUT))
		return 0;
	if (c->ndev) {
		memcpy(devs, c->devs, sizeof(devs));
		n = c->ndev;
	} else {
		n = fc_up_devices(devs, MAX_DEVS);
		if (n < 0)
			return n;
	}
	for (int i = 0; i < n; i++) {
		ifindex = if_nametoindex(devs[i]);
		if (!ifindex) {
			snprintf(f->why, sizeof(f->why), "device '%s' not found", devs[i]);
			return -ENODEV;
		}
		err = fc_tc_attach(st, bpf_program__fd(p->skel->progs.fc_netloss_egress), ifindex,
				   true, c->tc_mode, &p->at[p->nat]);
		if (err) {
			snprintf(f->why, sizeof(f->why), "cannot attach tc egress on %s: %s",
				 devs[i], strerror(-err));
			return err;
		}
		tcx = p->at[p->nat].used == FC_TC_TCX;
		p->nat++;
		u += snprintf(f->mechanism + u, sizeof(f->mechanism) - u, "%s%s %s", u ? ", " : "",
			      tcx ? "tcx egress" : "clsact egress", devs[i]);
	}
	/* under TCX, STOLEN would mean "next": tell the program to redirect to nowhere instead */
	if (tcx) {
		struct fc_netloss_cfg k;
		__u32 zero = 0;
		int fd = bpf_map__fd(p->skel->maps.fc_netloss_cfg);

		if (bpf_map_lookup_elem(fd, &zero, &k))
			return -errno;
		k.tcx = 1;
		if (bpf_map_update_elem(fd, &zero, &k, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int netloss_counters(struct fc_fault *f, struct fc_fault_counters *out)
{
	struct netloss_priv *p = f->priv;

	return p && p->skel ? fc_fault_obj_counters(p->skel->obj, out) : -ENOENT;
}

static void netloss_detach(struct fc_fault *f)
{
	struct netloss_priv *p = f->priv;

	if (!p)
		return;
	for (int i = 0; i < p->nat; i++)
		fc_tc_detach(&p->at[i]);
	p->nat = 0;
	bpf_link__destroy(p->ingress);
	p->ingress = NULL;
	if (p->cgfd >= 0)
		close(p->cgfd);
	p->cgfd = -1;
}

static void netloss_close(struct fc_fault *f)
{
	struct netloss_priv *p = f->priv;

	netloss_detach(f);
	netloss_bpf__destroy(p->skel);
	free(p);
	f->priv = NULL;
}

static const struct fc_fault_ops netloss_ops = {
	.type = "network-loss",
	.aliases = { "packet-loss", "loss" },
	.summary = "drop a share of the cell's packets (TCP sees real loss)",
	.keys_help = "  probability P      share to drop: 0..1 or a percentage (required)\n"
		     "  count N            drop at most N packets in total (exact)\n"
		     "  direction D        out (default), in or both\n"
		     "  model M            bernoulli (default) or gilbert-elliott\n"
		     "  gilbert.p/.r       GE transition probabilities good→bad, bad→good\n"
		     "  gilbert.loss_good/.loss_bad  loss in each state (default 0 / 1)\n"
		     "  match.proto        tcp, udp, icmp or any\n"
		     "  match.ports        remote ports: 80,443,8000-8080\n"
		     "  match.local_ports  the cell's own ports\n"
		     "  match.cidrs        remote peers: 10.0.0.0/8,fd00::/8\n"
		     "  devices            egress devices (default: every device that is up)\n",
	.keys = netloss_keys,
	.cfg_size = sizeof(struct netloss_cfg),
	.parse = netloss_parse,
	.describe = netloss_describe,
	.open = netloss_open,
	.attach = netloss_attach,
	.counters = netloss_counters,
	.detach = netloss_detach,
	.close = netloss_close,
};
FC_FAULT(netloss_ops);

static const char *const blackhole_keys[] = { "direction", "count",	     "devices",
					      "tc",	   FC_NETMATCH_KEYS, NULL };

static const struct fc_fault_ops blackhole_ops = {
	.type = "network-blackhole",
	.aliases = { "blackhole", "partition" },
	.summary = "drop every packet to/from given peers or ports: a partition of the cell",
	.keys_help =
	    "  match.cidrs / match.ports / match.local_ports  what to cut off (one needed)\n"
	    "  match.proto        tcp, udp, icmp or any\n"
	    "  direction D        both (default), in or out\n",
	.keys = blackhole_keys,
	.cfg_size = sizeof(struct netloss_cfg),
	.parse = blackhole_parse,
	.describe = netloss_describe,
	.open = netloss_open,
	.attach = netloss_attach,
	.counters = netloss_counters,
	.detach = netloss_detach,
	.close = netloss_close,
};
FC_FAULT(blackhole_ops);

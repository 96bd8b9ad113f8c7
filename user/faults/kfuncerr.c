// SPDX-License-Identifier: BSD-2-Clause
/*
 * kernel-function-error: one kernel function returns an errno for the cell's calls
 * (bpf/kfuncerr.bpf.c). kprobe + bpf_override_return where the probe saw it work (kernels with
 * CONFIG_BPF_KPROBE_OVERRIDE; none of Debian's), else fmod_ret, which the verifier allows on
 * the error-injection list and on security_* functions only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "core/errnames.h"
#include "core/ksym.h"
#include "core/probe.h"
#include "faults/fault.h"
#include "fc_kfuncerr.h"
#include "kfuncerr.skel.h"

enum kfe_mech { KFE_AUTO = 0, KFE_KPROBE, KFE_FMOD_RET };

struct kfuncerr_cfg {
	char function[128];
	double prob;
	uint64_t count;
	int nerr;
	int err[FC_KFE_MAX_ERRNOS];
	unsigned int weight[FC_KFE_MAX_ERRNOS];
	enum kfe_mech mech;
};

struct kfuncerr_priv {
	struct kfuncerr_bpf *skel;
	enum kfe_mech mech;
	struct bpf_link *link;
};

static const char *const kfuncerr_keys[] = { "function", "errno",     "probability",
					     "count",	 "mechanism", NULL };

static int kfuncerr_parse(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d)
{
	struct kfuncerr_cfg *c = cfg;
	char near[128];
	struct fc_kv *kv;
	int err = 0;

	c->prob = 1;
	kv = fc_spec_get(spec, "function");
	if (!kv) {
		fc_diag(d, spec->line, spec->col,
			"kernel-function-error needs a function (e.g. function: "
			"security_socket_connect)");
		return -EINVAL;
	}
	if (strlen(kv->val) >= sizeof(c->function)) {
		fc_diag(d, kv->line, kv->col, "function: name too long");
		return -EINVAL;
	}
	snprintf(c->function, sizeof(c->function), "%s", kv->val);
	/* without BTF here (validating elsewhere), the target host's loader will check */
	if (fc_kernel_func_check(c->function, near, sizeof(near)) == -ENOENT) {
		fc_diag(d, kv->line, kv->col,
			"function: no kernel function '%s' in this kernel%s%s%s", c->function,
			near[0] ? " (did you mean '" : "", near, near[0] ? "'?)" : "");
		err = -EINVAL;
	}
	if ((kv = fc_spec_get(spec, "errno"))) {
		if (fc_kv_errnos(kv, d, c->err, c->weight, FC_KFE_MAX_ERRNOS, &c->nerr,
				 "EIO, ENOMEM, EAGAIN"))
			err = -EINVAL;
	} else {
		c->nerr = 1;
		c->err[0] = EIO;
		c->weight[0] = 1;
	}
	if ((kv = fc_spec_get(spec, "probability")) && fc_kv_prob(kv, d, &c->prob))
		err = -EINVAL;
	if ((kv = fc_spec_get(spec, "count")) && fc_kv_u64(kv, d, 1, UINT32_MAX, &c->count))
		err = -EINVAL;
	if ((kv = fc_spec_get(spec, "mechanism"))) {
		if (!strcmp(kv->val, "kprobe"))
			c->mech = KFE_KPROBE;
		else if (!strcmp(kv->val, "fmod_ret"))
			c->mech = KFE_FMOD_RET;
		else if (strcmp(kv->val, "auto")) {
			fc_diag(d, kv->line, kv->col,
				"mechanism: '%s' is not auto, kprobe or fmod_ret", kv->val);
			err = -EINVAL;
		}
	}
	return err;
}

static void kfuncerr_describe(const void *cfg, char *buf, size_t len)
{
	const struct kfuncerr_cfg *c = cfg;
	char errs[160] = "";
	size_t u = 0;

	for (int i = 0; i < c->nerr && u < sizeof(errs); i++)
		u += snprintf(errs + u, sizeof(errs) - u, "%s%s", i ? "/" : "",
			      fc_errno_name(c->err[i]));
	snprintf(buf, len,
		 "make %.4g%% of the cell's calls of %s() return %s%s (the function "
		 "does not run)",
		 c->prob * 100, c->function, errs, c->count ? " (count-limited)" : "");
}

/* The probe's verdict on one mechanism, its error in @err when missing. */
static bool have(const char *mech, char *err, size_t len)
{
	struct fc_probe_opts o = { .sz = sizeof(o), .only = mech };
	struct fc_probe *p = fc_probe_new(&o);
	const struct fc_probe_result *r = p && !fc_probe_run(p) ? fc_probe_find(p, mech) : NULL;
	bool ok = r && r->available;

	if (!ok)
		snprintf(err, len, "%s (%s%s%s)", mech, r ? r->error : "the probe failed",
			 r && r->detail[0] ? ": " : "", r ? r->detail : "");
	fc_probe_free(p);
	return ok;
}

static int kfuncerr_open(struct fc_fault *f)
{
	struct kfuncerr_cfg *c = f->cfg;
	struct kfuncerr_priv *p;
	char m1[160] = "", m2[160] = "";
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	f->priv = p;
	if (c->mech != KFE_FMOD_RET && have("override_return", m1, sizeof(m1)))
		p->mech = KFE_KPROBE;
	else if (c->mech != KFE_KPROBE && have("fmod_ret", m2, sizeof(m2)))
		p->mech = KFE_FMOD_RET;
	if (!p->mech) {
		snprintf(f->why, sizeof(f->why),
			 "this kernel cannot fail a function: missing %s%s%s", m1,
			 m1[0] && m2[0] ? "; " : "", m2);
		return -EOPNOTSUPP;
	}
	p->skel = kfuncerr_bpf__open();
	if (!p->skel)
		return -errno;
	err = fc_core_prepare(f->core, p->skel->obj);
	if (err)
		return err;
	bpf_program__set_autoload(p->skel->progs.fc_kfe_kprobe, p->mech == KFE_KPROBE);
	bpf_program__set_autoload(p->skel->progs.fc_kfe_fmod, p->mech == KFE_FMOD_RET);
	if (p->mech == KFE_FMOD_RET) {
		err = bpf_program__set_attach_target(p->skel->progs.fc_kfe_fmod, 0, c->function);
		if (err)
			return err;
	}
	err = kfuncerr_bpf__load(p->skel);
	if (err) {
		snprintf(f->why, sizeof(f->why),
			 p->mech == KFE_FMOD_RET
			     ? "the kernel refuses fmod_ret on %s(): without function error "
			       "injection only security_* functions can be modified (%s)"
			     : "the kernel refused the kprobe program on %s() (%s)",
			 c->function, strerror(-err));
		return -EOPNOTSUPP;
	}
	snprintf(f->mechanism, sizeof(f->mechanism), "%s %s(), filtered by cell",
		 p->mech == KFE_KPROBE ? "kprobe + bpf_override_return on" : "fmod_ret on",
		 c->function);
	return 0;
}

static int kfuncerr_attach(struct fc_fault *f, struct fc_state *st)
{
	struct kfuncerr_cfg *c = f->cfg;
	struct kfuncerr_priv *p = f->priv;
	struct fc_kfuncerr_cfg k = { .nerr = c->nerr, .count_limit = c->count };
	__u32 zero = 0;

	(void)st; /* the link is fd-bound: nothing to record */
	k.p_fail = fc_prob_fixed(c->prob);
	for (int i = 0; i < c->nerr; i++)
		k.err[i] = c->err[i];
	fc_errno_thresholds(c->weight, c->nerr, k.cum);
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.fc_kfuncerr_cfg), &zero, &k, BPF_ANY))
		return -errno;
	p->link = p->mech == KFE_KPROBE
		      ? bpf_program__attach_kprobe(p->skel->progs.fc_kfe_kprobe, false, c->function)
		      : bpf_program__attach_trace(p->skel->progs.fc_kfe_fmod);
	if (!p->link) {
		snprintf(f->why, sizeof(f->why), "cannot attach to %s(): %s", c->function,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

static int kfuncerr_counters(struct fc_fault *f, struct fc_fault_counters *out)
{
	struct kfuncerr_priv *p = f->priv;

	return p && p->skel ? fc_fault_obj_counters(p->skel->obj, out) : -ENOENT;
}

static void kfuncerr_detach(struct fc_fault *f)
{
	struct kfuncerr_priv *p = f->priv;

	if (!p)
		return;
	bpf_link__destroy(p->link);
	p->link = NULL;
}

static void kfuncerr_close(struct fc_fault *f)
{
	struct kfuncerr_priv *p = f->priv;

	kfuncerr_detach(f);
	kfuncerr_bpf__destroy(p->skel);
	free(p);
	f->priv = NULL;
}

static const struct fc_fault_ops kfuncerr_ops = {
	.type = "kernel-function-error",
	.aliases = { "kfunc-error" },
	.summary = "make a kernel function return an errno for the cell's calls",
	.keys_help = "  function F         the kernel function (required), e.g.\n"
		     "                     security_socket_connect\n"
		     "  errno E            EIO (default), or weighted: EIO:3,ENOMEM:1\n"
		     "  probability P      share of calls to fail (default 100%)\n"
		     "  count N            fail at most N calls in total\n"
		     "  mechanism M        auto (default), kprobe (bpf_override_return) or\n"
		     "                     fmod_ret (security_* and error-injectable only)\n",
	.keys = kfuncerr_keys,
	.cfg_size = sizeof(struct kfuncerr_cfg),
	.parse = kfuncerr_parse,
	.describe = kfuncerr_describe,
	.open = kfuncerr_open,
	.attach = kfuncerr_attach,
	.counters = kfuncerr_counters,
	.detach = kfuncerr_detach,
	.close = kfuncerr_close,
};
FC_FAULT(kfuncerr_ops);

// SPDX-License-Identifier: BSD-2-Clause
/*
 * file-error: the cell's open/read/write of files under a path prefix fail with a chosen errno
 * (bpf/fileerr.bpf.c). Opens through BPF LSM where the kernel runs it, else fmod_ret, else a
 * kprobe with bpf_override_return; reads and writes through fmod_ret/security_file_permission,
 * the one read/write hook where the verifier allows bpf_d_path. Every mechanism is chosen by
 * the probe (loaded and triggered), and a missing one is named (exit 4).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "core/errnames.h"
#include "core/probe.h"
#include "core/util.h"
#include "faults/fault.h"
#include "fc_fileerr.h"
#include "fileerr.skel.h"

enum fe_mech { FE_AUTO = 0, FE_LSM, FE_LSM_CGROUP, FE_FMOD_RET, FE_KPROBE };
static const char *const mech_names[] = { "auto", "lsm", "lsm_cgroup", "fmod_ret", "kprobe" };
/* the probe's mechanism behind each */
static const char *const mech_probe[] = { NULL, "lsm", "lsm_cgroup", "fmod_ret",
					  "override_return" };

struct fileerr_cfg {
	char path[FC_FE_PATH_MAX];
	bool all_paths;
	unsigned int ops;
	double prob;
	uint64_t count;
	int nerr;
	int err[FC_FE_MAX_ERRNOS];
	unsigned int weight[FC_FE_MAX_ERRNOS];
	enum fe_mech mech;
};

struct fileerr_priv {
	struct fileerr_bpf *skel;
	enum fe_mech open_mech; /* for opens; reads and writes are always fmod_ret */
	struct bpf_link *links[2];
	int cgfd;
};

static const char *const fileerr_keys[] = { "path",  "operations", "errno", "probability",
					    "count", "mechanism",  "force", NULL };

/* An absolute prefix, as the kernel will print it (symlinks resolved when it exists). */
static int parse_path(struct fc_kv *kv, struct fileerr_cfg *c, struct fc_diags *d)
{
	char real[PATH_MAX], *p = kv->val;
	size_t n;

	if (p[0] != '/' || strstr(p, "/../") || strstr(p, "/./") ||
	    !strcmp(p + strlen(p) - 2, "/.") ||
	    (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/.."))) {
		fc_diag(d, kv->line, kv->col,
			"path: '%s' is not an absolute path without . or .. components", p);
		return -EINVAL;
	}
	if (realpath(p, real))
		p = real;
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	if (n >= FC_FE_PATH_MAX - 1) {
		fc_diag(d, kv->line, kv->col, "path: longer than %d bytes", FC_FE_PATH_MAX - 2);
		return -EINVAL;
	}
	memcpy(c->path, p, n);
	c->path[n] = 0;
	return 0;
}

static int fileerr_parse(struct fc_fault_spec *spec, void *cfg, struct fc_diags *d)
{
	struct fileerr_cfg *c = cfg;
	struct fc_kv *kv;
	int err = 0;

	c->prob = 1;
	c->ops = FC_FE_OPEN | FC_FE_READ | FC_FE_WRITE;
	if ((kv = fc_spec_get(spec, "force")))
		c->all_paths = !strcmp(kv->val, "true") || !strcmp(kv->val, "yes");
	if ((kv = fc_spec_get(spec, "path"))) {
		if (parse_path(kv, c, d))
			err = -EINVAL;
		c->all_paths = false;
	} else if (!c->all_paths) {
		fc_diag(d, spec->line, spec->col,
			"file-error needs a path prefix (e.g. path: /var/lib/db): failing every "
			"file of the cell breaks exec and library loading; force: true "
			"(inject --force) if you mean it");
		err = -EINVAL;
	}
	if ((kv = fc_spec_get(spec, "operations"))) {
		char buf[sizeof(kv->val)], *save = NULL, *tok;

		c->ops = 0;
		snprintf(buf, sizeof(buf), "%s", kv->val);
		for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
			if (!strcmp(tok, "open"))
				c->ops |= FC_FE_OPEN;
			else if (!strcmp(tok, "read"))
				c->ops |= FC_FE_READ;
			else if (!strcmp(tok, "write"))
				c->ops |= FC_FE_WRITE;
			else {
				fc_diag(d, kv->line, kv->col,
					"operations: '%s' is not open, read or write", tok);
				err = -EINVAL;
			}
		}
	}
	if ((kv = fc_spec_get(spec, "errno"))) {
		if (fc_kv_errnos(kv, d, c->err, c->weight, FC_FE_MAX_ERRNOS, &c->nerr,
				 "EIO, ENOSPC, EACCES"))
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
		int i;

		for (i = 0; i < 5 && strcmp(kv->val, mech_names[i]); i++)
			;
		if (i == 5) {
			fc_diag(d, kv->line, kv->col,
				"mechanism: '%s' is not auto, lsm, lsm_cgroup, fmod_ret or kprobe",
				kv->val);
			err = -EINVAL;
		} else {
			c->mech = i;
		}
	}
	return err;
}

static void ops_str(unsigned int ops, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", ops & FC_FE_OPEN ? "open" : "",
		 ops & FC_FE_OPEN && ops & ~FC_FE_OPEN ? "/" : "", ops & FC_FE_READ ? "read" : "",
		 ops & FC_FE_READ && ops & FC_FE_WRITE ? "/" : "",
		 ops & FC_FE_WRITE ? "write" : "");
}

static void fileerr_describe(const void *cfg, char *buf, size_t len)
{
	const struct fileerr_cfg *c = cfg;
	char ops[32], errs[160];
	size_t u = 0;

	ops_str(c->ops, ops, sizeof(ops));
	errs[0] = 0;
	for (int i = 0; i < c->nerr && u < sizeof(errs); i++)
		u += snprintf(errs + u, sizeof(errs) - u, "%s%s", i ? "/" : "",
			      fc_errno_name(c->err[i]));
	if (c->all_paths)
		snprintf(buf, len,
			 "fail %.4g%% of the cell's %s calls on EVERY file with %s%s (forced: "
			 "exec and library loading in the cell fail too)",
			 c->prob * 100, ops, errs, c->count ? " (count-limited)" : "");
	else
		snprintf(buf, len, "fail %.4g%% of the cell's %s calls on files under %s with %s%s",
			 c->prob * 100, ops, c->path, errs, c->count ? " (count-limited)" : "");
}

/* The probe's verdict on one mechanism: loaded, attached and seen to act. */
static bool have(const char *mech, char *err, size_t len)
{
	struct fc_probe_opts o = { .sz = sizeof(o), .only = mech };
	struct fc_probe *p = fc_probe_new(&o);
	const struct fc_probe_result *r;
	bool ok = false;

	if (!p || fc_probe_run(p)) {
		snprintf(err, len, "%s (the probe failed)", mech);
		fc_probe_free(p);
		return false;
	}
	r = fc_probe_find(p, mech);
	ok = r && r->available;
	if (!ok)
		snprintf(err, len, "%s (%s%s%s)", mech, r ? r->error : "not probed",
			 r && r->detail[0] ? ": " : "", r ? r->detail : "");
	fc_probe_free(p);
	return ok;
}

/* Choose the mechanism for opens and check the one for reads/writes; -EOPNOTSUPP with why. */
static int choose(struct fc_fault *f, struct fileerr_priv *p)
{
	struct fileerr_cfg *c = f->cfg;
	char miss[4][200] = { "", "", "", "" }, *w = f->why;
	size_t wl = sizeof(f->why);
	int nmiss = 0;

	p->open_mech = FE_AUTO;
	if (c->ops & FC_FE_OPEN) {
		for (int m = FE_LSM; m <= FE_KPROBE; m++) {
			if (c->mech != FE_AUTO && (int)c->mech != m)
				continue;
			if (have(mech_probe[m], miss[nmiss], sizeof(miss[0]))) {
				p->open_mech = m;
				break;
			}
			nmiss++;
		}
		if (p->open_mech == FE_AUTO) {
			snprintf(w, wl,
				 "no way to fail opens on this kernel: missing %s%s%s%s%s%s%s",
				 miss[0], nmiss > 1 ? "; " : "", miss[1], nmiss > 2 ? "; " : "",
				 miss[2], nmiss > 3 ? "; " : "", miss[3]);
			return -EOPNOTSUPP;
		}
	}
	if ((c->ops & (FC_FE_READ | FC_FE_WRITE)) && p->open_mech != FE_FMOD_RET &&
	    !have("fmod_ret", miss[0], sizeof(miss[0]))) {
		snprintf(w, wl,
			 "reads and writes need fmod_ret/security_file_permission (bpf_d_path is "
			 "refused in lsm/file_permission), missing: %s",
			 miss[0]);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int fileerr_open(struct fc_fault *f)
{
	struct fileerr_cfg *c = f->cfg;
	struct fileerr_priv *p;
	__u32 len = strlen(c->path), all = c->all_paths;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cgfd = -1;
	f->priv = p;
	err = choose(f, p);
	if (err)
		return err;
	p->skel = fileerr_bpf__open();
	if (!p->skel) {
		err = -errno;
		snprintf(f->why, sizeof(f->why), "cannot open the file-error object: %s",
			 strerror(errno));
		return err;
	}
	err = fc_core_prepare(f->core, p->skel->obj);
	err = err ?: fc_obj_set_rodata(p->skel->obj, "fc_fe_prefix", c->path, len + 1);
	err = err ?: fc_obj_set_rodata(p->skel->obj, "fc_fe_prefix_len", &len, sizeof(len));
	err = err ?: fc_obj_set_rodata(p->skel->obj, "fc_fe_all_paths", &all, sizeof(all));
	if (err)
		return err;
	bpf_program__set_autoload(p->skel->progs.fc_fe_lsm_open, p->open_mech == FE_LSM);
	bpf_program__set_autoload(p->skel->progs.fc_fe_lsmcg_open, p->open_mech == FE_LSM_CGROUP);
	bpf_program__set_autoload(p->skel->progs.fc_fe_fmod_open, p->open_mech == FE_FMOD_RET);
	bpf_program__set_autoload(p->skel->progs.fc_fe_kprobe_open, p->open_mech == FE_KPROBE);
	bpf_program__set_autoload(p->skel->progs.fc_fe_fmod_perm,
				  !!(c->ops & (FC_FE_READ | FC_FE_WRITE)));
	err = fileerr_bpf__load(p->skel);
	if (err) {
		snprintf(f->why, sizeof(f->why),
			 "the kernel refused the file-error programs (%s) although the probe saw "
			 "%s work",
			 strerror(-err), mech_names[p->open_mech ?: FE_FMOD_RET]);
		return -EOPNOTSUPP;
	}
	snprintf(f->mechanism, sizeof(f->mechanism), "%s%s%s, filtered by cell and %s",
		 p->open_mech == FE_LSM		 ? "lsm/file_open"
		 : p->open_mech == FE_LSM_CGROUP ? "lsm_cgroup/file_open on the cell"
		 : p->open_mech == FE_FMOD_RET	 ? "fmod_ret/security_file_open"
		 : p->open_mech == FE_KPROBE	 ? "kprobe/openat + bpf_override_return"
						 : "",
		 p->open_mech && (c->ops & ~FC_FE_OPEN) ? " + " : "",
		 c->ops & ~FC_FE_OPEN ? "fmod_ret/security_file_permission" : "",
		 c->all_paths ? "nothing else (forced)" : "path prefix (bpf_d_path)");
	return 0;
}

static int write_cfg(struct fc_fault *f)
{
	struct fileerr_cfg *c = f->cfg;
	struct fileerr_priv *p = f->priv;
	struct fc_fileerr_cfg k = { .ops = c->ops, .nerr = c->nerr, .count_limit = c->count };
	__u32 zero = 0;

	k.p_fail = fc_prob_fixed(c->prob);
	for (int i = 0; i < c->nerr; i++)
		k.err[i] = c->err[i];
	fc_errno_thresholds(c->weight, c->nerr, k.cum);
	return bpf_map_update_elem(bpf_map__fd(p->skel->maps.fc_fileerr_cfg), &zero, &k, BPF_ANY)
		   ? -errno
		   : 0;
}

static int fileerr_attach(struct fc_fault *f, struct fc_state *st)
{
	struct fileerr_cfg *c = f->cfg;
	struct fileerr_priv *p = f->priv;
	struct fileerr_bpf *s = p->skel;
	int err, n = 0;

	(void)st; /* every link is fd-bound: nothing to record */
	err = write_cfg(f);
	if (err)
		return err;
	switch (p->open_mech) {
	case FE_LSM:
		p->links[n] = bpf_program__attach_lsm(s->progs.fc_fe_lsm_open);
		break;
	case FE_LSM_CGROUP:
		p->cgfd = open(f->core->cells[0].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (p->cgfd < 0)
			return -errno;
		p->links[n] = bpf_program__attach_cgroup(s->progs.fc_fe_lsmcg_open, p->cgfd);
		break;
	case FE_FMOD_RET:
		p->links[n] = bpf_program__attach_trace(s->progs.fc_fe_fmod_open);
		break;
	case FE_KPROBE:
		p->links[n] = bpf_program__attach(s->progs.fc_fe_kprobe_open);
		break;
	default:
		n--;
		break;
	}
	if (n >= 0 && !p->links[n]) {
		err = -errno;
		snprintf(f->why, sizeof(f->why), "cannot attach the open hook: %s", strerror(-err));
		return err;
	}
	n++;
	if (c->ops & (FC_FE_READ | FC_FE_WRITE)) {
		p->links[n] = bpf_program__attach_trace(s->progs.fc_fe_fmod_perm);
		if (!p->links[n]) {
			err = -errno;
			snprintf(f->why, sizeof(f->why),
				 "cannot attach fmod_ret/security_file_permission: %s",
				 strerror(-err));
			return err;
		}
	}
	return 0;
}

static int fileerr_counters(struct fc_fault *f, struct fc_fault_counters *out)
{
	struct fileerr_priv *p = f->priv;

	return p && p->skel ? fc_fault_obj_counters(p->skel->obj, out) : -ENOENT;
}

static void fileerr_detach(struct fc_fault *f)
{
	struct fileerr_priv *p = f->priv;

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

static void fileerr_close(struct fc_fault *f)
{
	struct fileerr_priv *p = f->priv;

	fileerr_detach(f);
	fileerr_bpf__destroy(p->skel);
	free(p);
	f->priv = NULL;
}

static const struct fc_fault_ops fileerr_ops = {
	.type = "file-error",
	.aliases = { "io-error", "file-errors" },
	.summary = "fail the cell's open/read/write of files under a path with an errno",
	.keys_help = "  path P             files under this prefix (required unless force)\n"
		     "  operations L       open,read,write (default all three)\n"
		     "  errno E            EIO (default), or weighted: EIO:3,ENOSPC:1\n"
		     "  probability P      share of calls to fail (default 100%)\n"
		     "  count N            fail at most N calls in total\n"
		     "  mechanism M        auto (default), lsm, lsm_cgroup, fmod_ret or kprobe\n"
		     "                     (for opens; reads/writes use fmod_ret)\n"
		     "  force true         no path: every file of the cell (breaks exec)\n",
	.keys = fileerr_keys,
	.cfg_size = sizeof(struct fileerr_cfg),
	.parse = fileerr_parse,
	.describe = fileerr_describe,
	.open = fileerr_open,
	.attach = fileerr_attach,
	.counters = fileerr_counters,
	.detach = fileerr_detach,
	.close = fileerr_close,
};
FC_FAULT(fileerr_ops);

// SPDX-License-Identifier: BSD-2-Clause
/*
 * kernel_function_latency for kernel functions: bpf/trace_kfunc.bpf.c. fentry/fexit where the
 * kernel loads BPF trampolines, else kprobe/kretprobe; "fentry:" or "kprobe:" before the names
 * forces one (tests force both in turn). Names are checked against the running kernel's BTF,
 * with the nearest names when one is unknown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "metrics/family.h"
#include "trace_kfunc.skel.h"

enum kf_mode { KF_AUTO = 0, KF_FENTRY = 1, KF_KPROBE = 2 };
#define KF_ARG(i, m) ((uint32_t)(i) | (uint32_t)(m) << 8)
#define KF_IDX(arg)  ((arg)&0xff)
#define KF_MODE(arg) ((arg) >> 8)

struct kf_skel {
	struct trace_kfunc_bpf *skel;
	enum kf_mode mode;
};

/* Up to 3 function names of @btf near @name: only candidates of about its length are scored. */
static void near_funcs(const struct btf *btf, const char *name, char *buf, size_t len)
{
	size_t w = strlen(name), n = 0, cap = 0;
	const char **c = NULL, **nc;
	int i, cnt = btf__type_cnt(btf);

	buf[0] = 0;
	for (i = 1; i < cnt; i++) {
		const struct btf_type *t = btf__type_by_id(btf, i);
		const char *s;
		size_t l;

		if (!btf_is_func(t))
			continue;
		s = btf__name_by_offset(btf, t->name_off);
		l = strlen(s);
		/* fc_suggest allows w/3 + 2 edits: longer or shorter names cannot be near */
		if ((l > w + w / 3 + 2 || l + w / 3 + 2 < w) && !strstr(s, name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nc = realloc(c, cap * sizeof(*c));
			if (!nc)
				break;
			c = nc;
		}
		c[n++] = s;
	}
	fc_suggest(name, c, n, 3, buf, len);
	free(c);
}

static int kf_parse(struct fc_tracer *t, const struct fc_metric_kind *k, const char *key, char *why,
		    size_t len)
{
	char buf[512], near[256], *save = NULL, *tok;
	const char *names = key;
	enum kf_mode mode = KF_AUTO;
	struct btf *btf;
	struct fc_tslot *s;
	int idx, err = 0;

	if (!key || !key[0]) {
		snprintf(why, len, "metric '%s' needs kernel function names (e.g. %s:do_nanosleep)",
			 k->name, k->name);
		return -EINVAL;
	}
	if (!strncmp(key, "fentry:", 7) || !strncmp(key, "kprobe:", 7)) {
		mode = key[0] == 'f' ? KF_FENTRY : KF_KPROBE;
		names = key + 7;
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		err = -errno;
		snprintf(why, len, "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s",
			 strerror(-err));
		return err == -ENOENT ? -EOPNOTSUPP : err;
	}
	snprintf(buf, sizeof(buf), "%s", names);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (btf__find_by_name_kind(btf, tok, BTF_KIND_FUNC) < 0) {
			near_funcs(btf, tok, near, sizeof(near));
			snprintf(why, len, "no kernel function '%s' in this kernel's BTF%s%s%s",
				 tok, near[0] ? " (did you mean: " : "", near, near[0] ? "?)" : "");
			err = -ENOENT;
			break;
		}
		idx = fc_tracer_count_slots(t, k);
		if (idx >= FC_KF_MAX) {
			snprintf(why, len, "at most %d kernel functions per run", FC_KF_MAX);
			err = -E2BIG;
			break;
		}
		s = fc_tracer_add_slot(t, k, tok, KF_ARG(idx, mode));
		if (!s || !(s->sym = strdup(tok))) {
			err = -ENOMEM;
			break;
		}
	}
	btf__free(btf);
	return err;
}

static int kf_open(struct fc_family *f)
{
	struct kf_skel *ks = calloc(1, sizeof(*ks));

	if (!ks)
		return -ENOMEM;
	ks->skel = trace_kfunc_bpf__open();
	if (!ks->skel) {
		free(ks);
		return -errno;
	}
	f->skel = ks;
	f->obj = ks->skel->obj;
	return 0;
}

static struct bpf_program *pair_prog(struct trace_kfunc_bpf *s, int i, bool exit)
{
	struct bpf_program *e[] = { s->progs.fc_kf_entry0, s->progs.fc_kf_entry1,
				    s->progs.fc_kf_entry2, s->progs.fc_kf_entry3 };
	struct bpf_program *x[] = { s->progs.fc_kf_exit0, s->progs.fc_kf_exit1,
				    s->progs.fc_kf_exit2, s->progs.fc_kf_exit3 };

	return exit ? x[i] : e[i];
}

/* Can this kernel load an fentry/fexit pair on @func? A throwaway object answers. */
static bool fentry_loads(const char *func)
{
	struct trace_kfunc_bpf *s = trace_kfunc_bpf__open();
	struct bpf_program *p;
	int err;

	if (!s)
		return false;
	bpf_object__for_each_program(p, s->obj) bpf_program__set_autoload(p, false);
	for (int x = 0; x < 2; x++) {
		p = pair_prog(s, 0, x);
		bpf_program__set_autoload(p, true);
		bpf_program__set_attach_target(p, 0, func);
	}
	err = trace_kfunc_bpf__load(s);
	trace_kfunc_bpf__destroy(s);
	return !err;
}

static int kf_configure(struct fc_family *f, struct fc_tslot *const *slots, int n)
{
	struct kf_skel *ks = f->skel;
	struct trace_kfunc_bpf *s = ks->skel;
	struct bpf_program *p;
	int i, err;

	ks->mode = KF_AUTO;
	for (i = 0; i < n; i++) {
		enum kf_mode m = KF_MODE(slots[i]->arg);

		if (m != KF_AUTO && ks->mode != KF_AUTO && m != ks->mode) {
			snprintf(f->why, sizeof(f->why),
				 "one mechanism per run (fentry or kprobe)");
			return -EINVAL;
		}
		if (m != KF_AUTO)
			ks->mode = m;
	}
	if (ks->mode == KF_AUTO)
		ks->mode = n && fentry_loads(slots[0]->sym) ? KF_FENTRY : KF_KPROBE;
	bpf_object__for_each_program(p, s->obj) bpf_program__set_autoload(p, false);
	for (i = 0; i < n; i++) {
		int idx = KF_IDX(slots[i]->arg);

		s->rodata->fc_kf_slot[idx] = slots[i]->hs;
		if (ks->mode != KF_FENTRY)
			continue;
		for (int x = 0; x < 2; x++) {
			p = pair_prog(s, idx, x);
			bpf_program__set_autoload(p, true);
			err = bpf_program__set_attach_target(p, 0, slots[i]->sym);
			if (err)
				return err;
		}
	}
	bpf_program__set_autoload(s->progs.fc_kf_kprobe, ks->mode == KF_KPROBE);
	bpf_program__set_autoload(s->progs.fc_kf_kretprobe, ks->mode == KF_KPROBE);
	return 0;
}

static int kf_load(struct fc_family *f)
{
	struct kf_skel *ks = f->skel;
	int err = trace_kfunc_bpf__load(ks->skel);

	if (err)
		return err;
	f->gen = &ks->skel->bss->fc_hist_gen;
	return 0;
}

static int kf_attach(struct fc_family *f, struct fc_tslot *const *slots, int n)
{
	struct kf_skel *ks = f->skel;
	struct trace_kfunc_bpf *s = ks->skel;
	int i, x, err;

	for (i = 0; i < n; i++) {
		int idx = KF_IDX(slots[i]->arg);

		for (x = 0; x < 2; x++) {
			LIBBPF_OPTS(bpf_kprobe_opts, ko, .bpf_cookie = idx, .retprobe = x == 1);

			f->links[f->nlinks] =
			    ks->mode == KF_FENTRY
				? bpf_program__attach_trace(pair_prog(s, idx, x))
				: bpf_program__attach_kprobe_opts(x ? s->progs.fc_kf_kretprobe
								    : s->progs.fc_kf_kprobe,
								  slots[i]->sym, &ko);
			if (!f->links[f->nlinks]) {
				err = -errno;
				snprintf(f->why, sizeof(f->why), "%s%s via %s",
					 x ? "return of " : "", slots[i]->sym,
					 ks->mode == KF_FENTRY ? "fentry/fexit"
							       : "kprobe/kretprobe");
				return err;
			}
			f->nlinks++;
		}
	}
	return 0;
}

static void kf_destroy(struct fc_family *f)
{
	struct kf_skel *ks = f->skel;

	for (int i = 0; i < f->nlinks; i++)
		bpf_link__destroy(f->links[i]);
	f->nlinks = 0;
	if (ks)
		trace_kfunc_bpf__destroy(ks->skel);
	free(ks);
	f->skel = NULL;
	f->obj = NULL;
}

/* Either mechanism will do: trampolines that load, or the kprobe PMU with programs that load. */
static int kf_check(char *why, size_t len)
{
	struct trace_kfunc_bpf *s;
	bool pmu;
	int err;

	if (fentry_loads("do_nanosleep") || fentry_loads("security_file_open"))
		return 0;
	pmu = !access("/sys/bus/event_source/devices/kprobe/type", R_OK);
	s = trace_kfunc_bpf__open();
	err = s ? 0 : -errno;
	if (s) {
		struct bpf_program *p;

		bpf_object__for_each_program(p, s->obj) bpf_program__set_autoload(
		    p, p == s->progs.fc_kf_kprobe || p == s->progs.fc_kf_kretprobe);
		err = trace_kfunc_bpf__load(s);
		trace_kfunc_bpf__destroy(s);
	}
	if (pmu && !err)
		return 0;
	snprintf(why, len,
		 "fentry/fexit do not load (no BPF trampolines) and %s (see 'faultcell probe')",
		 !pmu ? "there is no kprobe PMU (/sys/bus/event_source/devices/kprobe)"
		      : "kprobe programs do not load");
	return -EOPNOTSUPP;
}

static const struct fc_family_ops kf_ops = {
	.name = "kernel-function",
	.parse = kf_parse,
	.open = kf_open,
	.configure = kf_configure,
	.load = kf_load,
	.attach = kf_attach,
	.destroy = kf_destroy,
	.check = kf_check,
};

FC_METRIC_KIND(kind_kernel_function_latency) = {
	.name = "kernel_function_latency",
	.id = FC_M_KERNEL_FUNCTION_LATENCY,
	.unit = "ns",
	.summary = "entry to return of kernel functions, [fentry:|kprobe:]FUNC[,FUNC...]",
	.mechanism = "fentry + fexit, else kprobe + kretprobe (caller's cell)",
	.keys = FC_KEYS_FUNCTION,
	.key_label = "function",
	.lo_pow = 7,
	.npow = 30,
	.range = "128ns-137s",
	.family = &kf_ops,
};

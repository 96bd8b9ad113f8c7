// SPDX-License-Identifier: BSD-2-Clause
/* function_latency for BINARY:SYMBOL: bpf/trace_func.bpf.c, a uprobe/uretprobe pair per function.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/family.h"
#include "trace_func.skel.h"

/* Names in @dir (or every $PATH directory when NULL), for "did you mean". */
static void near_files(const char *dir, const char *base, char *near, size_t len)
{
	char *path = dir ? strdup(dir) : strdup(getenv("PATH") ?: "/usr/bin:/bin"), *d,
	     *save = NULL;
	char **names = NULL, **nv;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dh;

	near[0] = 0;
	if (!path)
		return;
	for (d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		dh = opendir(d);
		if (!dh)
			continue;
		while ((de = readdir(dh))) {
			if (de->d_name[0] == '.')
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				nv = realloc(names, cap * sizeof(*nv));
				if (!nv)
					break;
				names = nv;
			}
			if (!(names[n] = strdup(de->d_name)))
				break;
			n++;
		}
		closedir(dh);
	}
	fc_suggest(base, (const char *const *)names, n, 3, near, len);
	fc_strv_free(names, n);
	free(path);
}

/* Resolve @bin like a shell would (a path, or a name on $PATH) into @out. -ENOENT when absent. */
static int resolve_binary(const char *bin, char *out, size_t len, char *why, size_t wlen)
{
	char dir[PATH_MAX], cand[PATH_MAX * 2], near[256], *p, *save = NULL, *slash;
	char *path;

	if (strchr(bin, '/')) {
		if (realpath(bin, cand) && !access(cand, R_OK)) {
			snprintf(out, len, "%s", cand);
			return 0;
		}
		snprintf(dir, sizeof(dir), "%s", bin);
		slash = strrchr(dir, '/');
		*slash = 0;
		near_files(dir[0] ? dir : "/", slash + 1, near, sizeof(near));
		snprintf(why, wlen, "binary '%s' not found%s%s%s", bin,
			 near[0] ? " (did you mean: " : "", near, near[0] ? "?)" : "");
		return -ENOENT;
	}
	path = strdup(getenv("PATH") ?: "/usr/bin:/bin");
	if (!path)
		return -ENOMEM;
	for (p = strtok_r(path, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		snprintf(cand, sizeof(cand), "%s/%s", p, bin);
		if (!access(cand, X_OK) && realpath(cand, out)) {
			free(path);
			return 0;
		}
	}
	free(path);
	near_files(NULL, bin, near, sizeof(near));
	snprintf(why, wlen, "binary '%s' not found on $PATH%s%s%s", bin,
		 near[0] ? " (did you mean: " : "", near, near[0] ? "?)" : "");
	return -ENOENT;
}

static int fn_parse(struct fc_tracer *t, const struct fc_metric_kind *k, const char *key, char *why,
		    size_t len)
{
	char bin[PATH_MAX], path[PATH_MAX], near[512], **syms = NULL;
	const char *colon = key ? strrchr(key, ':') : NULL;
	struct fc_tslot *s;
	size_t n = 0, i;
	int err, cookie;

	if (!colon || colon == key || !colon[1]) {
		snprintf(why, len,
			 "metric '%s' needs BINARY:SYMBOL (e.g. %s:/usr/bin/python3:main)", k->name,
			 k->name);
		return -EINVAL;
	}
	snprintf(bin, sizeof(bin), "%.*s", (int)(colon - key), key);
	err = resolve_binary(bin, path, sizeof(path), why, len);
	if (err)
		return err;
	err = fc_elf_func_syms(path, &syms, &n);
	if (err) {
		snprintf(why, len, "cannot read symbols of '%s': %s", path,
			 err == -ENOEXEC ? "not an ELF file" : strerror(-err));
		return err == -ENOEXEC ? -EINVAL : err;
	}
	for (i = 0; i < n && strcmp(syms[i], colon + 1); i++)
		;
	if (i == n) {
		fc_suggest(colon + 1, (const char *const *)syms, n, 3, near, sizeof(near));
		snprintf(why, len, "symbol '%s' not found in '%s'%s%s%s%s", colon + 1, path,
			 n ? "" : " (it has no function symbols: stripped?)",
			 near[0] ? " (did you mean: " : "", near, near[0] ? "?)" : "");
		fc_strv_free(syms, n);
		return -ENOENT;
	}
	fc_strv_free(syms, n);
	/* the cookie numbers the functions of this run: one slot each */
	cookie = fc_tracer_count_slots(t, k);
	if (cookie >= FC_FN_MAX) {
		snprintf(why, len, "at most %d functions per run", FC_FN_MAX);
		return -E2BIG;
	}
	s = fc_tracer_add_slot(t, k, key, cookie);
	if (!s)
		return -E2BIG;
	s->path = strdup(path);
	s->sym = strdup(colon + 1);
	return s->path && s->sym ? 0 : -ENOMEM;
}

static int fn_open(struct fc_family *f)
{
	struct trace_func_bpf *skel = trace_func_bpf__open();

	if (!skel)
		return -errno;
	f->skel = skel;
	f->obj = skel->obj;
	return 0;
}

static int fn_configure(struct fc_family *f, struct fc_tslot *const *slots, int n)
{
	struct trace_func_bpf *skel = f->skel;
	int i;

	for (i = 0; i < n; i++)
		skel->rodata->fc_fn_slot[slots[i]->arg] = slots[i]->hs;
	return 0;
}

static int fn_load(struct fc_family *f)
{
	struct trace_func_bpf *skel = f->skel;
	int err = trace_func_bpf__load(skel);

	if (err)
		return err;
	f->gen = &skel->bss->fc_hist_gen;
	return 0;
}

static int fn_attach(struct fc_family *f, struct fc_tslot *const *slots, int n)
{
	struct trace_func_bpf *skel = f->skel;
	int i, r, err;

	for (i = 0; i < n; i++) {
		for (r = 0; r < 2; r++) {
			LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = slots[i]->sym,
				    .bpf_cookie = slots[i]->arg, .retprobe = r == 1);
			struct bpf_program *p =
			    r ? skel->progs.fc_fn_return : skel->progs.fc_fn_entry;

			/* pid -1: every process running the binary; the cell filter is in BPF */
			f->links[f->nlinks] =
			    bpf_program__attach_uprobe_opts(p, -1, slots[i]->path, 0, &uo);
			if (!f->links[f->nlinks]) {
				err = -errno;
				snprintf(f->why, sizeof(f->why), "%s:%s", slots[i]->path,
					 slots[i]->sym);
				return err;
			}
			f->nlinks++;
		}
	}
	return 0;
}

static void fn_destroy(struct fc_family *f)
{
	int i;

	for (i = 0; i < f->nlinks; i++)
		bpf_link__destroy(f->links[i]);
	f->nlinks = 0;
	trace_func_bpf__destroy(f->skel);
	f->skel = NULL;
	f->obj = NULL;
}

static int fn_check(char *why, size_t len)
{
	struct trace_func_bpf *skel;
	int err;

	/* uprobes are perf events of the "uprobe" PMU: without it nothing can attach */
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK)) {
		snprintf(why, len,
			 "no uprobe PMU (/sys/bus/event_source/devices/uprobe): the "
			 "kernel lacks CONFIG_UPROBE_EVENTS");
		return -EOPNOTSUPP;
	}
	skel = trace_func_bpf__open_and_load();
	err = skel ? 0 : -errno;
	trace_func_bpf__destroy(skel);
	if (err)
		snprintf(why, len, "uprobe programs did not load: %s", strerror(-err));
	return err ? -EOPNOTSUPP : 0;
}

static const struct fc_family_ops fn_ops = {
	.name = "function",
	.parse = fn_parse,
	.open = fn_open,
	.configure = fn_configure,
	.load = fn_load,
	.attach = fn_attach,
	.destroy = fn_destroy,
	.check = fn_check,
};

FC_METRIC_KIND(kind_function_latency) = {
	.name = "function_latency",
	.id = FC_M_FUNCTION_LATENCY,
	.unit = "ns",
	.summary = "entry to return of a user-space function, BINARY:SYMBOL",
	.mechanism = "uprobe + uretprobe (every process running BINARY; cell filter in BPF)",
	.keys = FC_KEYS_FUNCTION,
	.key_label = "function",
	.lo_pow = 7,
	.npow = 30,
	.range = "128ns-137s",
	.family = &fn_ops,
};

// SPDX-License-Identifier: BSD-2-Clause
/* syscall_latency and syscall_errors: bpf/trace_syscall.bpf.c (raw_tp sys_enter/sys_exit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "metrics/family.h"
#include "trace_syscall.skel.h"

struct sc_name {
	const char *name;
	unsigned int nr;
};

static const struct sc_name sc_table[] = {
#define FC_SYSCALL(n, nr) { #n, nr },
#include "metrics/syscall_table.h"
#undef FC_SYSCALL
};

static int sc_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sc_table) / sizeof(sc_table[0]); i++)
		if (!strcmp(sc_table[i].name, name))
			return sc_table[i].nr;
	return -1;
}

static int sc_parse(struct fc_tracer *t, const struct fc_metric_kind *k, const char *key, char *why,
		    size_t len)
{
	const char *names[sizeof(sc_table) / sizeof(sc_table[0])];
	char *dup, *tok, *save = NULL, near[256];
	int nr, err = 0;
	size_t i;

	if (!key || !key[0]) {
		snprintf(why, len, "metric '%s' needs syscall names: %s:read,openat", k->name,
			 k->name);
		return -EINVAL;
	}
	dup = strdup(key);
	if (!dup)
		return -ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		nr = sc_lookup(tok);
		if (nr < 0 || nr >= FC_SC_MAX) {
			for (i = 0; i < sizeof(sc_table) / sizeof(sc_table[0]); i++)
				names[i] = sc_table[i].name;
			fc_suggest(tok, names, i, 3, near, sizeof(near));
			snprintf(why, len, "metric '%s': unknown syscall '%s'%s%s%s", k->name, tok,
				 near[0] ? " (did you mean: " : "", near, near[0] ? "?)" : "");
			err = -EINVAL;
			break;
		}
		if (!fc_tracer_add_slot(t, k, tok, nr)) {
			snprintf(why, len, "too many metric keys");
			err = -E2BIG;
			break;
		}
	}
	free(dup);
	return err;
}

static int sc_open(struct fc_family *f)
{
	struct trace_syscall_bpf *skel = trace_syscall_bpf__open();

	if (!skel)
		return -errno;
	f->skel = skel;
	f->obj = skel->obj;
	return 0;
}

static int sc_configure(struct fc_family *f, struct fc_tslot *const *slots, int n)
{
	struct trace_syscall_bpf *skel = f->skel;
	int i;

	for (i = 0; i < n; i++) {
		struct fc_sc_want *w = &skel->rodata->fc_sc_want[slots[i]->arg];

		if (slots[i]->kind->id == FC_M_SYSCALL_LATENCY)
			w->lat = slots[i]->hs;
		else
			w->err = slots[i]->hs;
	}
	return 0;
}

static int sc_load(struct fc_family *f)
{
	struct trace_syscall_bpf *skel = f->skel;
	int err = trace_syscall_bpf__load(skel);

	if (err)
		return err;
	f->gen = &skel->bss->fc_hist_gen;
	return 0;
}

static int sc_attach(struct fc_family *f, struct fc_tslot *const *slots, int n)
{
	struct trace_syscall_bpf *skel = f->skel;
	struct bpf_program *progs[] = { skel->progs.fc_sc_enter, skel->progs.fc_sc_exit };
	int i;

	(void)slots;
	(void)n;
	for (i = 0; i < 2; i++) {
		f->links[f->nlinks] = bpf_program__attach(progs[i]);
		if (!f->links[f->nlinks])
			return -errno;
		f->nlinks++;
	}
	return 0;
}

static void sc_destroy(struct fc_family *f)
{
	int i;

	for (i = 0; i < f->nlinks; i++)
		bpf_link__destroy(f->links[i]);
	f->nlinks = 0;
	trace_syscall_bpf__destroy(f->skel);
	f->skel = NULL;
	f->obj = NULL;
}

static int sc_check(char *why, size_t len)
{
	struct trace_syscall_bpf *skel = trace_syscall_bpf__open_and_load();
	int err = skel ? 0 : -errno;

	trace_syscall_bpf__destroy(skel);
	if (err)
		snprintf(why, len, "tp_btf sys_enter/sys_exit with task storage did not load: %s",
			 strerror(-err));
	return err ? -EOPNOTSUPP : 0;
}

static const struct fc_family_ops sc_ops = {
	.name = "syscall",
	.parse = sc_parse,
	.open = sc_open,
	.configure = sc_configure,
	.load = sc_load,
	.attach = sc_attach,
	.destroy = sc_destroy,
	.check = sc_check,
};

/* 128 ns .. 137 s: syscalls are often sub-microsecond, so the range starts below 1 µs. */
FC_METRIC_KIND(kind_syscall_latency) = {
	.name = "syscall_latency",
	.id = FC_M_SYSCALL_LATENCY,
	.unit = "ns",
	.summary = "time from entry to exit of the named syscalls, per syscall",
	.mechanism = "tp_btf sys_enter/sys_exit (taxes every syscall on the host: docs/TRACER.md)",
	.keys = FC_KEYS_SYSCALLS,
	.key_label = "syscall",
	.lo_pow = 7,
	.npow = 30,
	.range = "128ns-137s",
	.family = &sc_ops,
};

FC_METRIC_KIND(kind_syscall_errors) = {
	.name = "syscall_errors",
	.id = FC_M_SYSCALL_ERRORS,
	.unit = "count",
	.summary = "calls of the named syscalls that returned an error (events carry the errno)",
	.mechanism = "tp_btf sys_enter/sys_exit",
	.keys = FC_KEYS_SYSCALLS,
	.key_label = "syscall",
	.range = "count",
	.family = &sc_ops,
};

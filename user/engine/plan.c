// SPDX-License-Identifier: BSD-2-Clause
/* `plan`: the probe, a verifier load of every object without attaching, the blast radius. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "core/control.h"
#include "core/inventory.h"
#include "core/probe.h"
#include "core/util.h"
#include "engine/plan.h"
#include "metrics/tracer.h"

/* Known ways a fault reaches past its cell (design.md §4), said in plan and the journal. */
static const struct {
	const char *type, *leak;
} scope_leaks[] = {
	{ "network-latency",
	  "unconnected traffic from outside the cell (ping, unconnected UDP) to the same "
	  "destination can share an fq flow with the cell and be delayed too (seen on 6.1 by "
	  "hand; not reproduced in our guests)" },
};

static void fail(struct fc_plan *p, int code, const char *fmt, const char *a, const char *b)
{
	if (p->exit)
		return; /* the first reason is the one a run would stop at */
	p->exit = code;
	snprintf(p->why, sizeof(p->why), fmt, a, b);
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	int n;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	n = fc_read_file(path, buf, len);
	if (n <= 0)
		snprintf(buf, len, "?");
	else if (buf[n - 1] == '\n')
		buf[n - 1] = 0;
}

static int count_pods(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_type == DT_DIR && de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void cell_facts(const struct fc_cellref *ref, struct fc_plan_cell *pc, bool guard,
		       bool force)
{
	char spec[600], why[256];
	pid_t *pids;
	int n;

	if (fc_cellref_spec(ref, spec, sizeof(spec))) {
		snprintf(pc->why, sizeof(pc->why), "no cell");
		return;
	}
	if (fc_cell_resolve(spec, &pc->cell, pc->why, sizeof(pc->why)))
		return;
	pc->resolved = true;
	if (guard && fc_cell_guard(&pc->cell, why, sizeof(why))) {
		pc->guard_refuses = !force;
		snprintf(pc->why, sizeof(pc->why), "%s%s", why,
			 force ? " (planned anyway: --force)" : "");
	}
	pids = calloc(65536, sizeof(*pids));
	n = pids ? fc_cell_pids(&pc->cell, pids, 65536) : -ENOMEM;
	pc->nprocs = n > 0 ? n : 0;
	for (int i = 0; i < pc->nprocs && i < FC_PLAN_PROCS; i++) {
		pc->pids[i] = pids[i];
		comm_of(pids[i], pc->comms[i], sizeof(pc->comms[i]));
	}
	free(pids);
	pc->npods = count_pods(pc->cell.path);
}

/* One inside the other (or the same): a fault on the cell reaches the control. */
static bool nested(const struct fc_cell *a, const struct fc_cell *b)
{
	size_t la = strlen(a->path), lb = strlen(b->path);
	const struct fc_cell *in = la <= lb ? b : a, *out = la <= lb ? a : b;
	size_t lo = strlen(out->path);

	return !strncmp(in->path, out->path, lo) && (in->path[lo] == '/' || !in->path[lo]);
}

static const struct fc_verdict *verdict(const struct fc_verdict *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (v[i].name && !strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static void load_faults(const struct fc_experiment *e, struct fc_plan *p, struct fc_probe *pr,
			struct fc_core *core)
{
	for (int i = 0; i < e->nfaults; i++) {
		struct fc_plan_fault *pf = &p->faults[p->nfaults++];
		struct fc_fault_spec *spec = malloc(sizeof(*spec));
		const struct fc_verdict *v = NULL;
		struct fc_diags d = {};
		struct fc_fault *f = NULL;
		int err;

		snprintf(pf->type, sizeof(pf->type), "%s", e->faults[i].type);
		if (!spec) {
			fail(p, FC_EXIT_INTERNAL, "out of memory%s%s", "", "");
			return;
		}
		*spec = e->faults[i].spec;
		if (fc_fault_new(spec, core, &d, &f)) {
			snprintf(pf->load, sizeof(pf->load), "%s", d.n ? d.d[0].msg : "invalid");
			fail(p, FC_EXIT_USAGE, "fault %s: %s", pf->type, pf->load);
			free(spec);
			continue;
		}
		f->ops->describe(f->cfg, pf->describe, sizeof(pf->describe));
		if (pr)
			v = verdict(pr->faults, FC_PROBE_NFAULTS, pf->type)
				?: verdict(pr->faults, FC_PROBE_NFAULTS, f->ops->type);
		if (v)
			snprintf(pf->mechanism, sizeof(pf->mechanism), "%s", v->how);
		if (!p->cell.resolved) {
			snprintf(pf->load, sizeof(pf->load), "not loaded: the cell is not here");
		} else {
			err = f->ops->open(f);
			if (!err) {
				pf->available = true;
				snprintf(pf->load, sizeof(pf->load),
					 "loaded by the verifier, not attached");
				if (f->mechanism[0])
					snprintf(pf->mechanism, sizeof(pf->mechanism), "%s",
						 f->mechanism);
			} else {
				snprintf(pf->load, sizeof(pf->load), "%s",
					 f->why[0] ? f->why : strerror(-err));
				fail(p, err == -EOPNOTSUPP ? FC_EXIT_KERNEL : FC_EXIT_INTERNAL,
				     "cannot load %s: %s", pf->type, pf->load);
			}
		}
		fc_fault_free(f);
		free(spec);
	}
}

/* The tracer with the metrics the experiment reads from the kernel, for the cell and control. */
static void load_tracer(const struct fc_experiment *e, struct fc_plan *p, struct fc_probe *pr,
			struct fc_core *core)
{
	struct fc_metric_req reqs[FC_EXP_MAX_METRICS];
	struct fc_tracer_opts o = { .sz = sizeof(o), .core = core, .reqs = reqs };
	struct fc_tracer *t;
	char why[512];
	int err;

	for (int i = 0; i < e->nmetrics; i++) {
		const struct fc_metric *m = &e->metrics[i];
		struct fc_plan_metric *pm;
		const struct fc_verdict *v;

		if (!m->used)
			continue;
		pm = &p->metrics[p->nmetrics++];
		pm->metric = i;
		if (m->source != FC_MSRC_BPF) {
			snprintf(pm->mechanism, sizeof(pm->mechanism), "%s probe every window%s%s",
				 fc_msrc_name(m->source), m->url ? ": " : "", m->url ?: "");
			snprintf(pm->load, sizeof(pm->load), "not started by plan");
			continue;
		}
		reqs[o.nreqs] = (struct fc_metric_req){ .kind = m->kind };
		for (int k = 0; k < m->nparams; k++) {
			if (!strcmp(m->params[k].key, "min_samples"))
				o.min_samples = strtoull(m->params[k].val, NULL, 10);
			else
				reqs[o.nreqs].key = m->params[k].val;
		}
		o.nreqs++;
		v = pr ? verdict(pr->metrics, FC_PROBE_NMETRICS, m->kind) : NULL;
		snprintf(pm->mechanism, sizeof(pm->mechanism), "%s",
			 v ? v->how : fc_metric_kind_find(m->kind)->mechanism);
		snprintf(pm->load, sizeof(pm->load), "%s",
			 p->cell.resolved ? "loaded by the verifier, not attached"
					  : "not loaded: the cell is not here");
	}
	if (!o.nreqs || !p->cell.resolved)
		return;
	t = fc_tracer__new(&o, why, sizeof(why));
	if (!t) {
		fail(p, errno == ENOMEM ? FC_EXIT_INTERNAL : FC_EXIT_USAGE, "metrics: %s%s", why,
		     "");
		goto mark;
	}
	err = fc_tracer__load(t);
	if (err) {
		snprintf(why, sizeof(why), "%s", fc_tracer__error(t));
		fail(p, err == -EOPNOTSUPP ? FC_EXIT_KERNEL : FC_EXIT_INTERNAL, "metrics: %s%s",
		     why, "");
	} else {
		p->hist_bytes = fc_tracer__hist_bytes(t);
	}
	fc_tracer__destroy(t);
	if (!err)
		return;
mark:
	for (int i = 0; i < p->nmetrics; i++)
		if (e->metrics[p->metrics[i].metric].source == FC_MSRC_BPF)
			snprintf(p->metrics[i].load, sizeof(p->metrics[i].load), "%s", why);
}

static double spec_prob(const struct fc_fault_spec *s)
{
	for (int i = 0; i < s->nkv; i++) {
		char *end;
		double v;

		if (strcmp(s->kv[i].key, "probability"))
			continue;
		v = strtod(s->kv[i].val, &end);
		return *end == '%' ? v / 100 : v;
	}
	return -1;
}

/* The worst case in one sentence, like the seed's "at 1% ... for up to 5 minutes". */
static void worst_case(const struct fc_experiment *e, struct fc_plan *p)
{
	char dur[32], what[640] = "", share[160] = "";
	size_t pos = 0;
	double prob = -1;

	fc_format_duration(e->blast.max_duration.ns, dur, sizeof(dur));
	for (int i = 0; i < p->nfaults && pos < sizeof(what); i++) {
		pos +=
		    snprintf(what + pos, sizeof(what) - pos, "%s%s", i ? "; " : "",
			     p->faults[i].describe[0] ? p->faults[i].describe : p->faults[i].type);
		if (spec_prob(&e->faults[i].spec) > prob)
			prob = spec_prob(&e->faults[i].spec);
	}
	if (e->blast.traffic_set && prob >= 0)
		snprintf(share, sizeof(share),
			 "; the cell takes %.3g%% of the service's traffic, so about %.3g%% of all "
			 "of it is hit",
			 e->blast.traffic * 100, e->blast.traffic * prob * 100);
	else if (e->blast.traffic_set)
		snprintf(share, sizeof(share), "; the cell takes %.3g%% of the service's traffic",
			 e->blast.traffic * 100);
	else
		snprintf(
		    share, sizeof(share),
		    "; its share of the service's traffic is not stated (blast_radius.traffic)");
	snprintf(p->worst, sizeof(p->worst),
		 "for up to %s (the deadline holds even if faultcell dies): %s, in %s (%d "
		 "process%s, %d pod%s now)%s",
		 dur, what, p->cell.resolved ? p->cell.cell.rel : e->cell.value, p->cell.nprocs,
		 p->cell.nprocs == 1 ? "" : "es", p->cell.npods, p->cell.npods == 1 ? "" : "s",
		 share);
}

int fc_plan_build(const struct fc_experiment *e, const struct fc_plan_opts *o, struct fc_plan *p)
{
	struct fc_core core = { .control_fd = -1, .events_fd = -1 };
	struct fc_core tcore = { .control_fd = -1, .events_fd = -1 };
	struct fc_inventory inv = {};
	struct fc_probe *pr;
	int err;

	memset(p, 0, sizeof(*p));
	fc_make_run_id(p->run_id, sizeof(p->run_id));
	err = libbpf_num_possible_cpus();
	p->ncpus = err > 0 ? err : 1;
	err = 0;
	cell_facts(&e->cell, &p->cell, true, o && o->force);
	if (!p->cell.resolved)
		fail(p, FC_EXIT_REFUSED, "cell not found: %s%s", p->cell.why, "");
	else if (p->cell.guard_refuses)
		fail(p, FC_EXIT_REFUSED, "the guard refuses the cell: %s%s", p->cell.why, "");
	if (e->control.kind) {
		cell_facts(&e->control, &p->control, false, false);
		if (!p->control.resolved)
			fail(p, FC_EXIT_REFUSED, "control cell not found: %s%s", p->control.why,
			     "");
		else if (p->cell.resolved && nested(&p->cell.cell, &p->control.cell))
			fail(p, FC_EXIT_REFUSED,
			     "the control %s and the cell %s are nested: cgroup "
			     "hooks reach the whole subtree, so the control would "
			     "be faulted too",
			     p->control.cell.rel, p->cell.cell.rel);
	}
	for (size_t i = 0; i < ARRAY_SIZE(scope_leaks); i++)
		for (int k = 0; k < e->nfaults; k++)
			if (!strcmp(e->faults[k].type, scope_leaks[i].type))
				snprintf(p->leaks, sizeof(p->leaks), "%s", scope_leaks[i].leak);
	pr = fc_probe_new(NULL);
	if (pr && fc_probe_run(pr)) {
		fc_probe_free(pr);
		pr = NULL;
	}
	if (pr)
		snprintf(p->kernel, sizeof(p->kernel), "%s", pr->kernel);
	if (p->cell.resolved) {
		/* two cores: the faults see only the cell, the tracer the control too */
		err = fc_core_open(&core, p->run_id, 0);
		err = err ?: fc_core_add_cell(&core, &p->cell.cell);
		err = err ?: fc_core_open(&tcore, p->run_id, 0);
		err = err ?: fc_core_add_cell(&tcore, &p->cell.cell);
		if (!err && p->control.resolved)
			err = fc_core_add_cell(&tcore, &p->control.cell);
		if (err)
			fail(p, FC_EXIT_INTERNAL, "cannot create the control map: %s%s",
			     strerror(-err), "");
	}
	load_faults(e, p, pr, p->cell.resolved && !err ? &core : NULL);
	if (!err)
		load_tracer(e, p, pr, &tcore);
	fc_probe_free(pr);
	fc_core_close(&core);
	fc_core_close(&tcore);
	worst_case(e, p);
	/* everything was fd-bound: with the fds closed, nothing of this run may remain */
	if (!fc_inventory_collect(&inv, p->run_id)) {
		p->leftover = inv.n;
		if (inv.n)
			fail(p, FC_EXIT_ROLLBACK,
			     "%s of the plan's objects remain (see 'faultcell "
			     "status')%s",
			     inv.n == 1 ? "one" : "some", "");
		fc_inventory_free(&inv);
	}
	return p->exit;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * faultcell plan FILE [--bind FILE] [--time-scale F] [--json] [--force]: what a run would do
 * here — mechanisms, a verifier load without attaching, the blast radius and its worst case,
 * the abort conditions in words, every default. Nothing is attached.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/experiment.h"
#include "engine/plan.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: faultcell plan FILE [--bind FILE] [--time-scale F] [--json] [--force]\n"
		"Say what a run of FILE would do on this host, without attaching anything:\n"
		"the mechanism per fault (probed), a verifier load of the real fault and\n"
		"tracer objects, the cell's processes and pods now, the blast radius and its\n"
		"worst case, the abort conditions with their N, max_gap, histogram memory and\n"
		"every default used.\n"
		"  --bind FILE       resolve service: names and metrics through FILE\n"
		"  --time-scale F    scale every duration of the experiment by F\n"
		"  --json            one JSON object\n"
		"  --force           plan a cell the guard would refuse (PID 1, our ancestors)\n"
		"Exit: 0 would run, 2 invalid file, 3 refused (cell, guard, root), 4 this kernel\n"
		"lacks a mechanism (named), 6 something of the plan remained, 7 internal.\n"
		"Examples:\n"
		"  faultcell plan experiments/rollback-controller.yaml\n"
		"  faultcell plan experiments/seed-game-day.yaml --bind "
		"experiments/seed-game-day.bind.yaml --json\n");
}

static const char *dur(uint64_t ns, char *buf)
{
	fc_format_duration(ns, buf, 32);
	return buf;
}

static void print_cell(const char *what, const struct fc_plan_cell *c, const char *written)
{
	printf("  %-13s ", what);
	if (!c->resolved) {
		printf("%s: %s\n", written, c->why);
		return;
	}
	printf("%s (id %llu)\n", c->cell.path, (unsigned long long)c->cell.id);
	printf("  %-13s %d process%s, %d pod%s (child cgroups)", "", c->nprocs,
	       c->nprocs == 1 ? "" : "es", c->npods, c->npods == 1 ? "" : "s");
	for (int i = 0; i < c->nprocs && i < FC_PLAN_PROCS; i++)
		printf("%s%d %s", i ? ", " : ": ", c->pids[i], c->comms[i]);
	printf("%s\n", c->nprocs > FC_PLAN_PROCS ? ", ..." : "");
	if (c->why[0])
		printf("  %-13s guard: %s\n", "", c->why);
}

static void print_rules(const struct fc_experiment *e)
{
	char buf[1024], a[32], b[32];

	for (int i = 0; i < e->nrules; i++) {
		const struct fc_exp_rule *r = &e->rules[i];

		fc_cond_format(r->cond, buf, sizeof(buf));
		printf("  %-13s %s%s%s\n", i ? "" : "abort when", e->nrules > 1 ? r->name : "",
		       e->nrules > 1 ? ": " : "", buf);
		printf("  %-13s   breach after %d consecutive window%s of %s (%s)%s; as many "
		       "windows with missing data and no false one abort too (fail closed)\n",
		       "", r->nwin, r->nwin == 1 ? "" : "s", dur(e->window.ns, a),
		       dur(r->nwin * e->window.ns, b), r->default_for ? ", N by default" : "");
	}
}

static void print_text(const struct fc_experiment *e, const struct fc_plan *p)
{
	char buf[1024], a[32], b[32], c[32], d[32], w[32];

	printf("plan: %s%s%s (run id %s, kernel %s; nothing attached)\n", e->path,
	       e->bind_path ? " --bind " : "", e->bind_path ?: "", p->run_id, p->kernel);
	printf("  %-13s %s\n", "title", e->title);
	print_cell("cell", &p->cell, e->cell.value);
	if (e->control.kind)
		print_cell("control", &p->control, e->control.value);
	for (int i = 0; i < p->nfaults; i++) {
		const struct fc_plan_fault *f = &p->faults[i];

		printf("  %-13s %s: %s\n", i ? "" : "faults", f->type, f->describe);
		printf("  %-13s   mechanism: %s\n", "", f->mechanism[0] ? f->mechanism : "?");
		printf("  %-13s   %s\n", "", f->load);
	}
	for (int i = 0; i < p->nmetrics; i++) {
		const struct fc_metric *m = &e->metrics[p->metrics[i].metric];

		printf("  %-13s %s: %s%s%s%s%s — %s; %s\n", i ? "" : "metrics", m->name,
		       fc_msrc_name(m->source), m->kind[0] ? " " : "", m->kind,
		       m->stat[0] ? " " : "", m->stat, p->metrics[i].mechanism, p->metrics[i].load);
	}
	if (p->hist_bytes)
		printf("  %-13s %llu bytes of kernel memory (keys x buckets x 8 B x %u CPUs)\n",
		       "histograms", (unsigned long long)p->hist_bytes, p->ncpus);
	else
		printf("  %-13s none: no metric is read from the kernel\n", "histograms");
	printf("  %-13s %s\n", "blast radius", e->blast.scope ?: "(no scope given)");
	printf("  %-13s worst case %s\n", "", p->worst);
	if (e->steady.cond) {
		fc_cond_format(e->steady.cond, buf, sizeof(buf));
		printf("  %-13s %s, checked at the end of the %s baseline: false or unknown "
		       "refuses the run (exit 3)\n",
		       "steady state", buf, dur(e->baseline.ns, a));
	}
	print_rules(e);
	printf("  %-13s max_gap %s: a fault whose loader stops evaluating goes inert within it\n",
	       "heartbeat", dur(e->max_gap.ns, a));
	printf("  %-13s baseline %s, inject %s (at most %s), recovery %s; window %s\n", "timeline",
	       dur(e->baseline.ns, a), dur(e->duration.ns, b), dur(e->blast.max_duration.ns, c),
	       dur(e->recovery.ns, d), dur(e->window.ns, w));
	if (e->on_abort.argc || e->on_abort.freeze)
		printf("  %-13s roll back, then%s%s%s\n", "on abort",
		       e->on_abort.argc ? " notify " : "",
		       e->on_abort.argc ? e->on_abort.argv[0] : "",
		       e->on_abort.freeze ? ", then freeze further runs" : "");
	printf("  %-13s %s\n", "scope leaks",
	       p->leaks[0] ? p->leaks : "none known for these faults");
	for (int i = 0; i < e->ndeviations; i++)
		printf("  %-13s %s %s: %s\n", i ? "" : "deviations", e->deviations[i].what,
		       e->deviations[i].value, e->deviations[i].why);
	for (int i = 0; i < e->ndefaults; i++)
		printf("  %-13s %s = %s (%s)\n", i ? "" : "defaults", e->defaults[i].what,
		       e->defaults[i].value, e->defaults[i].why);
	if (p->exit)
		printf("plan: would not run: %s\n", p->why);
	else
		printf("plan: would run; %s\n",
		       p->leftover ? "objects remain!"
				   : "everything loaded was closed, nothing remains");
}

static void json_cell(const char *key, const struct fc_plan_cell *c)
{
	printf(",\"%s\":{\"resolved\":%s,\"path\":", key, c->resolved ? "true" : "false");
	fc_json_str(stdout, c->resolved ? c->cell.path : "");
	printf(",\"id\":%llu,\"processes\":%d,\"pods\":%d,\"why\":", (unsigned long long)c->cell.id,
	       c->nprocs, c->npods);
	fc_json_str(stdout, c->why);
	printf(",\"guard_refuses\":%s}", c->guard_refuses ? "true" : "false");
}

static void print_json(const struct fc_experiment *e, const struct fc_plan *p)
{
	char buf[1024];

	printf("{\"file\":");
	fc_json_str(stdout, e->path);
	printf(",\"run_id\":\"%s\",\"exit\":%d,\"why\":", p->run_id, p->exit);
	fc_json_str(stdout, p->why);
	json_cell("cell", &p->cell);
	if (e->control.kind)
		json_cell("control", &p->control);
	printf(",\"faults\":[");
	for (int i = 0; i < p->nfaults; i++) {
		printf("%s{\"type\":", i ? "," : "");
		fc_json_str(stdout, p->faults[i].type);
		printf(",\"describe\":");
		fc_json_str(stdout, p->faults[i].describe);
		printf(",\"mechanism\":");
		fc_json_str(stdout, p->faults[i].mechanism);
		printf(",\"load\":");
		fc_json_str(stdout, p->faults[i].load);
		printf(",\"available\":%s}", p->faults[i].available ? "true" : "false");
	}
	printf("],\"metrics\":[");
	for (int i = 0; i < p->nmetrics; i++) {
		printf("%s{\"name\":", i ? "," : "");
		fc_json_str(stdout, e->metrics[p->metrics[i].metric].name);
		printf(",\"mechanism\":");
		fc_json_str(stdout, p->metrics[i].mechanism);
		printf(",\"load\":");
		fc_json_str(stdout, p->metrics[i].load);
		printf("}");
	}
	printf("],\"hist_bytes\":%llu,\"worst_case\":", (unsigned long long)p->hist_bytes);
	fc_json_str(stdout, p->worst);
	printf(",\"scope\":");
	fc_json_str(stdout, e->blast.scope);
	printf(",\"abort_when\":[");
	for (int i = 0; i < e->nrules; i++) {
		fc_cond_format(e->rules[i].cond, buf, sizeof(buf));
		printf("%s{\"name\":", i ? "," : "");
		fc_json_str(stdout, e->rules[i].name);
		printf(",\"condition\":");
		fc_json_str(stdout, buf);
		printf(",\"windows\":%d,\"default_windows\":%s}", e->rules[i].nwin,
		       e->rules[i].default_for ? "true" : "false");
	}
	printf("],\"max_gap_ns\":%llu,\"window_ns\":%llu,\"time_scale\":%g,\"scope_leaks\":",
	       (unsigned long long)e->max_gap.ns, (unsigned long long)e->window.ns, e->time_scale);
	fc_json_str(stdout, p->leaks);
	printf(",\"defaults\":[");
	for (int i = 0; i < e->ndefaults; i++) {
		printf("%s{\"what\":", i ? "," : "");
		fc_json_str(stdout, e->defaults[i].what);
		printf(",\"value\":");
		fc_json_str(stdout, e->defaults[i].value);
		printf(",\"why\":");
		fc_json_str(stdout, e->defaults[i].why);
		printf("}");
	}
	printf("],\"leftover\":%d}\n", p->leftover);
}

static int do_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "time-scale", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct fc_plan_opts po = {};
	struct fc_exp_opts o = {};
	struct fc_experiment *e = NULL;
	struct fc_plan *p = NULL;
	bool json = false;
	int c, err, rc;

	while ((c = getopt_long(argc, argv, "b:s:jFh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.bind_path = optarg;
			break;
		case 's':
			if (cli_time_scale(optarg, &o.time_scale))
				return FC_EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		case 'F':
			po.force = true;
			break;
		case 'h':
			usage(stdout);
			return FC_EXIT_OK;
		default:
			usage(stderr);
			return FC_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return FC_EXIT_USAGE;
	}
	o.path = argv[optind];
	err = fc_experiment_load(&o, &e);
	if (err == -ENOMEM)
		return FC_EXIT_INTERNAL;
	if (err) {
		if (json)
			fc_experiment_json(e, stdout);
		else
			fc_experiment_print_diags(e, stderr);
		fc_experiment_free(e);
		return FC_EXIT_USAGE;
	}
	rc = cli_require_root("plan (the verifier loads need CAP_BPF)");
	if (rc)
		goto out;
	p = calloc(1, sizeof(*p));
	if (!p) {
		rc = FC_EXIT_INTERNAL;
		goto out;
	}
	rc = fc_plan_build(e, &po, p);
	if (json)
		print_json(e, p);
	else
		print_text(e, p);
out:
	free(p);
	fc_experiment_free(e);
	return rc;
}

FC_COMMAND(plan, "say what a run would do here: mechanisms, blast radius (nothing attached)",
	   do_plan);

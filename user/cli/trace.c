// SPDX-License-Identifier: BSD-2-Clause
/*
 * faultcell trace METRIC[:KEYS]... --cell CELL...: the latency tracer alone (design.md §5), like
 * bcc's runqlat/tcpconnlat but per cell and per window, several cells side by side.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/control.h"
#include "core/log.h"
#include "core/util.h"
#include "metrics/export.h"
#include "metrics/tracer.h"
#include "metrics/view.h"

#define MAX_REQS   32
#define MAX_LABELS 16

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: faultcell trace METRIC[:KEYS]... --cell CELL [--cell CELL2]... [--interval "
	    "1s]\n"
	    "                       [--count N] [--json] [--min-samples N] [--no-hist]\n"
	    "                       [--metrics-listen ADDR] [--textfile PATH] [--label K=V]...\n"
	    "       faultcell trace --list\n"
	    "Measure a cell from inside the kernel: per-window count, rate, mean, max and\n"
	    "p50/p90/p99/p999 of each metric, one row per cell, with a histogram per metric.\n"
	    "\n"
	    "  METRIC[:KEYS]       a metric kind (see --list) and its keys:\n"
	    "                        syscall_latency:read,openat   syscall_errors:connect\n"
	    "                        function_latency:BINARY:SYMBOL\n"
	    "                        tcp_connect_latency[:ok|failed]  tcp_resets[:sent|received]\n"
	    "                        tcp_retransmits\n"
	    "  -c, --cell CELL     a cgroup path (absolute or below the cgroup2 mount), pid:N or\n"
	    "                      unit:NAME; repeat for side-by-side cells (up to 8)\n"
	    "  -i, --interval D    window length (default 1s)\n"
	    "  -n, --count N       stop after N windows (default: until SIGINT/SIGTERM)\n"
	    "  -j, --json          one JSON object per window on stdout\n"
	    "  -m, --min-samples N below N samples in a window every stat is \"no data\"\n"
	    "                      (each percentile also needs 1/(1-q) samples: p99 needs 100)\n"
	    "      --no-hist       table only\n"
	    "      --metrics-listen ADDR  serve Prometheus text on HOST:PORT (/metrics)\n"
	    "      --textfile PATH  write the same text to PATH each window (atomic rename)\n"
	    "  -l, --label K=V     a label on every exported series (repeatable)\n"
	    "      --list          the metric kinds this build has, with range and mechanism\n"
	    "\n"
	    "Exit codes: 0 done (N windows, or SIGINT/SIGTERM: a trace has nothing to roll\n"
	    "back), 2 bad input, 3 cell not found or not root, 4 kernel lacks the mechanism.\n"
	    "Examples:\n"
	    "  faultcell trace syscall_latency:read,write --cell system.slice/app.service\n"
	    "  faultcell trace tcp_connect_latency tcp_retransmits --cell /sys/fs/cgroup/a \\\n"
	    "      --cell /sys/fs/cgroup/b --interval 5s\n"
	    "  faultcell trace function_latency:/usr/bin/app:handle_request --cell pid:4242 \\\n"
	    "      --json --count 10\n"
	    "  faultcell trace syscall_latency:openat --cell unit:db.service \\\n"
	    "      --metrics-listen 127.0.0.1:9464 --label service=db\n");
}

static int list_kinds(void)
{
	printf("%-20s %-6s %-11s %-9s %s\n", "METRIC", "UNIT", "RANGE", "KEYS", "MECHANISM");
	fc_for_each_metric_kind (k) {
		static const char *const kt[] = { "none", "syscalls", "BIN:SYM", "fixed" };

		printf("%-20s %-6s %-11s %-9s %s\n", k->name, k->unit, k->range, kt[k->keys],
		       k->mechanism);
	}
	return FC_EXIT_OK;
}

struct trace_opts {
	struct fc_metric_req reqs[MAX_REQS];
	int nreqs;
	const char *cells[FC_MAX_CELLS];
	int ncells;
	uint64_t interval_ns, count, min_samples;
	bool json, hist;
	const char *listen, *textfile;
	struct fc_label labels[MAX_LABELS];
	int nlabels;
};

/* "kind:keys" → request; the key keeps its own colons (BINARY:SYMBOL). */
static int add_req(struct trace_opts *o, char *arg)
{
	char *colon = strchr(arg, ':');

	if (o->nreqs >= MAX_REQS)
		return -E2BIG;
	if (colon)
		*colon = 0;
	o->reqs[o->nreqs].kind = arg;
	o->reqs[o->nreqs].key = colon ? colon + 1 : NULL;
	o->nreqs++;
	return 0;
}

static int parse(int argc, char **argv, struct trace_opts *o)
{
	static const struct option opts[] = {
		{ "cell", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "min-samples", required_argument, NULL, 'm' },
		{ "no-hist", no_argument, NULL, 'H' },
		{ "metrics-listen", required_argument, NULL, 'L' },
		{ "textfile", required_argument, NULL, 'T' },
		{ "label", required_argument, NULL, 'l' },
		{ "list", no_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char *end;
	int c;

	o->interval_ns = NSEC_PER_SEC;
	o->hist = true;
	o->min_samples = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:i:n:jm:l:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (o->ncells >= FC_MAX_CELLS) {
				pr_warn("too many cells: at most %d", FC_MAX_CELLS);
				return FC_EXIT_USAGE;
			}
			o->cells[o->ncells++] = optarg;
			break;
		case 'i':
			if (fc_parse_duration(optarg, &o->interval_ns) ||
			    o->interval_ns < 10 * NSEC_PER_MSEC) {
				pr_warn("bad --interval '%s': a duration of at least 10ms, e.g. 1s",
					optarg);
				return FC_EXIT_USAGE;
			}
			break;
		case 'n':
		case 'm':
			errno = 0;
			if (c == 'n')
				o->count = strtoull(optarg, &end, 10);
			else
				o->min_samples = strtoull(optarg, &end, 10);
			if (errno || *end || optarg[0] == '-' || !optarg[0]) {
				pr_warn("bad --%s '%s': a non-negative integer",
					c == 'n' ? "count" : "min-samples", optarg);
				return FC_EXIT_USAGE;
			}
			break;
		case 'j':
			o->json = true;
			break;
		case 'H':
			o->hist = false;
			break;
		case 'L':
			o->listen = optarg;
			break;
		case 'T':
			o->textfile = optarg;
			break;
		case 'l':
			if (o->nlabels >= MAX_LABELS ||
			    fc_label_parse(optarg, &o->labels[o->nlabels])) {
				pr_warn("bad --label '%s': NAME=VALUE with NAME like "
					"[a-zA-Z_][a-zA-Z0-9_]*",
					optarg);
				return FC_EXIT_USAGE;
			}
			o->nlabels++;
			break;
		case 'K':
			return -1;
		case 'h':
			usage(stdout);
			return -2;
		default:
			if (cli_common_opt(c))
				break;
			usage(stderr);
			return FC_EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++)
		if (add_req(o, argv[optind])) {
			pr_warn("too many metrics: at most %d", MAX_REQS);
			return FC_EXIT_USAGE;
		}
	if (!o->nreqs || !o->ncells) {
		pr_warn("trace needs %s (see 'faultcell trace --help')",
			!o->nreqs ? "at least one METRIC" : "--cell CELL");
		return FC_EXIT_USAGE;
	}
	return 0;
}

static int run(struct trace_opts *o)
{
	const char *names[FC_MAX_CELLS];
	struct fc_core core = { .control_fd = -1, .events_fd = -1 };
	struct fc_tracer_opts to = { .sz = sizeof(to) };
	struct fc_export x = { .listen_fd = -1 };
	struct fc_tracer *t = NULL;
	struct fc_view view = {};
	struct fc_cell cell;
	char run_id[FC_RUN_ID_LEN], why[1024];
	uint64_t start, next, now, n = 0;
	int i, err, rc = FC_EXIT_OK;

	fc_make_run_id(run_id, sizeof(run_id));
	err = fc_core_open(&core, run_id, 0);
	if (err) {
		pr_warn("cannot start the tracer: %s", strerror(-err));
		return FC_EXIT_INTERNAL;
	}
	for (i = 0; i < o->ncells; i++) {
		err = fc_cell_resolve(o->cells[i], &cell, why, sizeof(why));
		if (err) {
			pr_warn("cannot trace cell '%s': %s", o->cells[i], why);
			rc = FC_EXIT_REFUSED;
			goto out;
		}
		fc_core_add_cell(&core, &cell);
		names[i] = core.cells[i].rel;
	}
	to.core = &core;
	to.reqs = o->reqs;
	to.nreqs = o->nreqs;
	to.min_samples = o->min_samples;
	to.on_event = fc_view_event;
	to.ctx = &view;
	t = fc_tracer__new(&to, why, sizeof(why));
	if (!t) {
		pr_warn("cannot trace: %s", why);
		rc = errno == ENOMEM ? FC_EXIT_INTERNAL : FC_EXIT_USAGE;
		goto out;
	}
	err = fc_tracer__load(t);
	err = err ?: fc_tracer__attach(t);
	if (err) {
		pr_warn("%s", fc_tracer__error(t));
		rc = err == -EOPNOTSUPP ? FC_EXIT_KERNEL : FC_EXIT_INTERNAL;
		goto out;
	}
	err = fc_export_open(&x, o->listen, o->textfile, o->labels, o->nlabels, names, why,
			     sizeof(why));
	if (err) {
		pr_warn("%s", why);
		rc = err == -EINVAL ? FC_EXIT_USAGE : FC_EXIT_REFUSED;
		goto out;
	}
	fc_view_init(&view, &core, o->json, o->hist);
	pr_info("tracing %d cell(s), window %.3gs; Ctrl-C to stop", core.ncells,
		(double)o->interval_ns / 1e9);
	start = fc_now_ns();
	while (!fc_exiting && (!o->count || n < o->count)) {
		next = start + (n + 1) * o->interval_ns;
		/* BPF_RB_NO_WAKEUP: nothing wakes us, so drain the ring every 100 ms */
		while (!fc_exiting && (now = fc_now_ns()) < next) {
			uint64_t left = (next - now) / NSEC_PER_MSEC;

			fc_export_serve(&x, left > 100 ? 100 : (int)left + 1);
			fc_tracer__poll(t);
		}
		if (fc_exiting)
			break;
		struct fc_window w;

		err = fc_tracer__snapshot(t, &w);
		if (err) {
			pr_warn("%s", fc_tracer__error(t));
			rc = FC_EXIT_INTERNAL;
			goto out;
		}
		n++;
		fc_view_window(&view, &w);
		if ((x.listen_fd >= 0 || x.textfile[0]) && (err = fc_export_update(&x, &w)))
			pr_warn("cannot export window %llu: %s", (unsigned long long)w.seq,
				strerror(-err));
	}
out:
	fc_export_close(&x);
	fc_view_free(&view);
	fc_tracer__destroy(t);
	fc_core_close(&core);
	return rc;
}

static int do_trace(int argc, char **argv)
{
	struct trace_opts *o = calloc(1, sizeof(*o));
	int rc;

	if (!o)
		return FC_EXIT_INTERNAL;
	rc = parse(argc, argv, o);
	if (rc == -1)
		rc = list_kinds();
	else if (rc == -2)
		rc = FC_EXIT_OK;
	else if (!rc && !(rc = cli_require_root("trace"))) {
		fc_install_exit_handlers();
		rc = run(o);
	}
	free(o);
	return rc;
}

FC_COMMAND(trace, "measure a cell: per-window latency percentiles and counts", do_trace);

// SPDX-License-Identifier: BSD-2-Clause
/* faultcell demo: a real game day against a bundled payments service, set up and torn down. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "demo/demo.h"
#include "engine/experiment.h"
#include "engine/report.h"
#include "engine/runner.h"

#define DEFAULT_EXPERIMENT "pod-kill.yaml"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: faultcell demo [--time-scale F] [--experiment FILE] [--bind FILE]\n"
	    "                      [--journal DIR] [--keep | --serve]\n"
	    "Set up a small payments service on 127.0.0.1 in cgroups below faultcell-demo/ (3\n"
	    "pods in cell-3 under test, 3 in cell-1 as the control, a supervisor restarting\n"
	    "dead pods, a ledger they call, a load generator with Prometheus-style metrics),\n"
	    "run a game day against it with the live view, print the journal's summary, and\n"
	    "tear everything down (also on Ctrl-C, SIGTERM or a failure). See docs/demo.md.\n"
	    "\nOptions:\n"
	    "  --time-scale F     scale the experiment's durations (and the service's timings)\n"
	    "  --experiment FILE  the game day (default experiments/" DEFAULT_EXPERIMENT
	    ", 80 s: the\n"
	    "                     seed's single-pod loss); FILE.demo.bind.yaml next to it is used\n"
	    "                     as its binding when present\n"
	    "  --bind FILE        the binding for FILE (services and metrics it names)\n"
	    "  --journal DIR      where the journal goes (default %s)\n"
	    "  --keep             after the game day, keep the demo up until Ctrl-C\n"
	    "  --serve            no game day: keep the demo up until Ctrl-C, and run\n"
	    "                     experiments/*.yaml against it from another terminal\n"
	    "Exit: 0 a verdict was reached (held or disproved) and rollback verified; otherwise\n"
	    "the run's code (3 refused, 5 interrupted, 6 something remains, 7 internal).\n"
	    "Examples:\n"
	    "  make demo\n"
	    "  faultcell demo --time-scale 0.25\n"
	    "  faultcell demo --experiment experiments/seed-game-day.yaml --time-scale 0.1\n"
	    "  faultcell demo --serve    # then: faultcell run experiments/packet-loss.yaml "
	    "--yes\n",
	    getenv("FAULTCELL_JOURNAL_DIR") ?: "/var/lib/faultcell/journal");
}

static void on_hangup(int sig)
{
	(void)sig;
	fc_exiting = 1;
}

/* experiments/pod-kill.yaml next to the binary (build/ in the tree), here, or installed. */
static int find_default(char *buf, size_t len)
{
	char exe[PATH_MAX] = "", cand[3][PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	snprintf(cand[0], sizeof(cand[0]), "%s/../experiments/" DEFAULT_EXPERIMENT, dirname(exe));
	snprintf(cand[1], sizeof(cand[1]), "experiments/" DEFAULT_EXPERIMENT);
	snprintf(cand[2], sizeof(cand[2]), "/usr/share/faultcell/experiments/" DEFAULT_EXPERIMENT);
	for (int i = 0; i < 3; i++) {
		if (!access(cand[i], R_OK) && realpath(cand[i], exe)) {
			snprintf(buf, len, "%s", exe);
			return 0;
		}
	}
	return -ENOENT;
}

/* X.yaml → X.demo.bind.yaml, when it exists. */
static bool find_binding(const char *exp, char *buf, size_t len)
{
	size_t n = strlen(exp);

	if (n < 5 || strcmp(exp + n - 5, ".yaml"))
		return false;
	snprintf(buf, len, "%.*s.demo.bind.yaml", (int)(n - 5), exp);
	return !access(buf, R_OK);
}

static void intro(const struct fc_demo *d, const char *exp, const char *bind)
{
	printf("faultcell demo: a game day against a bundled payments service (127.0.0.1 only;\n"
	       "all of it is removed at the end, also on Ctrl-C)\n"
	       "  cell under test  " FC_DEMO_CGROUP "/cell-3: payments pods pod-1..%d on "
	       "127.0.0.1:%d\n"
	       "  control          " FC_DEMO_CGROUP "/cell-1: the same service on 127.0.0.1:%d\n"
	       "  outside cells    " FC_DEMO_CGROUP
	       "/supervisor (restarts a dead pod after %.1fs),\n"
	       "                   ledger (127.0.0.1:%d, called once per checkout), loadgen (%u\n"
	       "                   checkouts/s per cell, %.1fs timeout; metrics on "
	       "http://127.0.0.1:%d)\n",
	       FC_DEMO_PODS, FC_DEMO_PORT_CELL3, FC_DEMO_PORT_CELL1, d->restart_ms / 1e3,
	       FC_DEMO_PORT_LEDGER, d->rate, d->timeout_ms / 1e3, FC_DEMO_PORT_METRICS);
	if (exp)
		printf("  experiment       %s\n", exp);
	if (bind)
		printf("  binding          %s\n", bind);
	printf("\n");
	fflush(stdout);
}

/* --keep / --serve: until Ctrl-C, or until the service dies under us. */
static int stay_up(struct fc_demo *d)
{
	const char *gone = NULL;
	int status;

	printf("demo: up; run experiments against it from another terminal, e.g.\n"
	       "  faultcell run experiments/packet-loss.yaml --yes\n"
	       "demo: Ctrl-C here tears it down\n");
	fflush(stdout);
	while (!fc_exiting) {
		if (waitpid(d->supervisor, &status, WNOHANG) == d->supervisor)
			gone = "supervisor";
		else if (waitpid(d->loadgen, &status, WNOHANG) == d->loadgen)
			gone = "load generator";
		if (gone) {
			pr_warn("demo: the %s stopped by itself (%s %d); tearing down", gone,
				WIFEXITED(status) ? "exit" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			return FC_EXIT_INTERNAL;
		}
		usleep(100000);
	}
	return FC_EXIT_OK;
}

static int game_day(struct fc_experiment *e, const char *journal)
{
	struct fc_run_opts ro = { .journal_dir = journal, .yes = true };
	int rc;

	/* the demo's own cells: no confirmation; a terminal gets the live view */
	ro.interactive = isatty(0) && isatty(1);
	rc = fc_run(e, &ro);
	if (ro.journal_path[0]) {
		printf("\n---- journal summary (faultcell report %s) ----\n", ro.journal_path);
		fflush(stdout);
		if (fc_report(ro.journal_path, stdout, NULL))
			pr_warn("demo: cannot render %s", ro.journal_path);
		printf("----\ndemo: the full journal is %s\n", ro.journal_path);
	}
	return rc;
}

static int do_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time-scale", 1, NULL, 't' },
		{ "experiment", 1, NULL, 'e' },
		{ "bind", 1, NULL, 'b' },
		{ "journal", 1, NULL, 'J' },
		{ "keep", 0, NULL, 'k' },
		{ "serve", 0, NULL, 's' },
		{ "help", 0, NULL, 'h' },
		{ "verbose", 0, NULL, 'v' },
		{},
	};
	char exp_path[PATH_MAX], bind_path[PATH_MAX + 32], what[PATH_MAX + 128];
	struct sigaction sa = { .sa_handler = on_hangup };
	struct fc_demo_opts dopt = { .self_exe = "/proc/self/exe" };
	struct fc_exp_opts eo = {};
	struct fc_experiment *e = NULL;
	const char *journal = NULL;
	bool keep = false, serve = false;
	struct fc_demo d = {};
	int c, rc, down;

	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		if (cli_common_opt(c))
			continue;
		switch (c) {
		case 't':
			if (cli_time_scale(optarg, &eo.time_scale))
				return FC_EXIT_USAGE;
			break;
		case 'e':
			eo.path = optarg;
			break;
		case 'b':
			eo.bind_path = optarg;
			break;
		case 'J':
			journal = optarg;
			break;
		case 'k':
			keep = true;
			break;
		case 's':
			serve = true;
			break;
		case 'h':
			usage(stdout);
			return FC_EXIT_OK;
		default:
			usage(stderr);
			return FC_EXIT_USAGE;
		}
	}
	if (optind != argc || (serve && (eo.path || eo.bind_path))) {
		pr_warn("demo: %s (see 'faultcell demo --help')",
			optind != argc ? "no arguments beyond the options"
				       : "--serve runs no experiment: drop --experiment/--bind");
		return FC_EXIT_USAGE;
	}
	if (!serve && !eo.path) {
		if (find_default(exp_path, sizeof(exp_path))) {
			pr_warn("demo: cannot find experiments/%s (run from the source tree, or "
				"give --experiment FILE)",
				DEFAULT_EXPERIMENT);
			return FC_EXIT_USAGE;
		}
		eo.path = exp_path;
	}
	if (eo.path && !eo.bind_path && find_binding(eo.path, bind_path, sizeof(bind_path)))
		eo.bind_path = bind_path;
	/* invalid input touches nothing: load before setting anything up */
	if (eo.path && (rc = cli_load_experiment(&eo, &e)))
		return rc;
	/* the supervisor writes to stderr as things happen: keep our lines in the same order */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = cli_require_root("run the demo"))) {
		fc_experiment_free(e);
		return rc;
	}
	fc_install_exit_handlers();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	dopt.time_scale = eo.time_scale;
	dopt.window_ns = e ? e->window.ns : (uint64_t)(NSEC_PER_SEC * (eo.time_scale ?: 1));
	rc = fc_demo_up(&d, &dopt);
	if (!rc) {
		intro(&d, eo.path, eo.bind_path);
		if (serve)
			rc = stay_up(&d);
		else
			rc = game_day(e, journal);
		/* a verdict either way is what the demo is for */
		if (rc == FC_EXIT_DISPROVED)
			rc = FC_EXIT_OK;
		if (keep && !fc_exiting && (rc == FC_EXIT_OK || rc == FC_EXIT_REFUSED))
			rc = stay_up(&d) ?: rc;
	}
	down = fc_demo_down(&d, what, sizeof(what));
	if (down)
		pr_warn("demo: teardown incomplete: %s", what);
	else
		printf("demo: torn down: %s\n", what);
	fc_experiment_free(e);
	if (down && rc == FC_EXIT_OK)
		rc = FC_EXIT_ROLLBACK;
	return rc;
}

FC_COMMAND(demo, "set up a payments service in cells, run a game day on it, tear down", do_demo);

/* `faultcell demo-role NAME ...`: the demo's processes, re-executed from this binary. */
static int do_demo_role(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} roles[] = {
		{ "supervisor", fc_demo_supervisor },
		{ "worker", fc_demo_worker },
		{ "ledger", fc_demo_ledger },
		{ "loadgen", fc_demo_loadgen },
	};

	for (size_t i = 0; argc > 1 && i < ARRAY_SIZE(roles); i++)
		if (!strcmp(argv[1], roles[i].name))
			return roles[i].fn(argc - 1, argv + 1);
	pr_warn("demo-role: internal to 'faultcell demo' (supervisor, worker, ledger, loadgen)");
	return FC_EXIT_USAGE;
}

static const struct fc_command __fc_cmd_demo_role
    __attribute__((section("fc_cmds"), used, aligned(8))) = {
	    .name = "demo-role",
	    .summary = "internal: a process of the demo",
	    .fn = do_demo_role,
	    .hidden = true,
    };

// SPDX-License-Identifier: BSD-2-Clause
/* faultcell run FILE: the game day. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/experiment.h"
#include "engine/runner.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: faultcell run FILE [--bind FILE] [--yes] [--non-interactive] [--journal DIR]\n"
	    "                     [--time-scale F] [--netns PATH] [--metrics-listen ADDR]\n"
	    "                     [--textfile PATH] [--force]\n"
	    "Run a game day: measure the steady state (baseline), refuse if it does not hold,\n"
	    "inject the fault into the cell, evaluate the abort conditions every window, roll\n"
	    "back the moment one holds (or is unknown for its N windows: fail closed), verify\n"
	    "nothing is left, watch recovery, and write a journal a human reads the next\n"
	    "morning. Supervised (a terminal): type the cell's name to start. Unattended: --yes.\n"
	    "\nOptions:\n"
	    "  --bind FILE          services and metrics the file names (cells:, metrics:)\n"
	    "  --yes                no confirmation (timers, CI); without a terminal it is "
	    "required\n"
	    "  --non-interactive    no live view or prompt, even on a terminal (needs --yes)\n"
	    "  --journal DIR        where the journal goes (default %s)\n"
	    "  --time-scale F       scale every duration by F (rehearsals, tests; journaled)\n"
	    "  --netns PATH         attach network faults in this network namespace\n"
	    "  --metrics-listen A   serve the cell's metrics for Prometheus on A (127.0.0.1:9464)\n"
	    "  --textfile PATH      write them for node_exporter's textfile collector\n"
	    "  --force              allow a cell holding PID 1 or faultcell's own ancestors\n"
	    "Exit: 0 hypothesis held, 1 disproved (aborted, not recovered, restore failed),\n"
	    "2 invalid input, 3 refused (cell, steady state, lock, freeze, no terminal),\n"
	    "4 kernel lacks a mechanism, 5 aborted by the operator, 6 rollback incomplete,\n"
	    "7 internal error (its own heartbeat lapsed).\n"
	    "Examples:\n"
	    "  faultcell run experiments/packet-loss.yaml\n"
	    "  faultcell run game-day.yaml --bind payments.bind.yaml --yes\n"
	    "  faultcell run experiments/cell-pause.yaml --time-scale 0.1 --yes\n",
	    getenv("FAULTCELL_JOURNAL_DIR") ?: "/var/lib/faultcell/journal");
}

static int do_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bind", 1, NULL, 'b' },
		{ "yes", 0, NULL, 'y' },
		{ "non-interactive", 0, NULL, 'N' },
		{ "journal", 1, NULL, 'J' },
		{ "time-scale", 1, NULL, 't' },
		{ "netns", 1, NULL, 'n' },
		{ "metrics-listen", 1, NULL, 'l' },
		{ "textfile", 1, NULL, 'T' },
		{ "force", 0, NULL, 'F' },
		{ "help", 0, NULL, 'h' },
		{ "verbose", 0, NULL, 'v' },
		{},
	};
	struct fc_exp_opts eo = {};
	struct fc_run_opts ro = {};
	struct fc_experiment *e = NULL;
	bool noninteractive = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "b:yhv", opts, NULL)) != -1) {
		if (cli_common_opt(c))
			continue;
		switch (c) {
		case 'b':
			eo.bind_path = optarg;
			break;
		case 'y':
			ro.yes = true;
			break;
		case 'N':
			noninteractive = true;
			break;
		case 'J':
			ro.journal_dir = optarg;
			break;
		case 't':
			if (cli_time_scale(optarg, &eo.time_scale))
				return FC_EXIT_USAGE;
			break;
		case 'n':
			ro.netns = optarg;
			break;
		case 'l':
			ro.metrics_listen = optarg;
			break;
		case 'T':
			ro.textfile = optarg;
			break;
		case 'F':
			ro.force = true;
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
		pr_warn("run: give one experiment file (see 'faultcell run --help')");
		return FC_EXIT_USAGE;
	}
	eo.path = argv[optind];
	if ((rc = cli_load_experiment(&eo, &e)))
		return rc;
	if ((rc = cli_require_root("run an experiment"))) {
		fc_experiment_free(e);
		return rc;
	}
	ro.interactive = !noninteractive && isatty(0) && isatty(1);
	if (!ro.yes && !ro.interactive) {
		pr_warn(
		    "refusing a supervised run without a terminal: pass --yes for an unattended "
		    "run");
		fc_experiment_free(e);
		return FC_EXIT_REFUSED;
	}
	fc_install_exit_handlers();
	rc = fc_run(e, &ro);
	fc_experiment_free(e);
	return rc;
}

FC_COMMAND(run, "run a game-day experiment: baseline, inject, watch, roll back, report", do_run);

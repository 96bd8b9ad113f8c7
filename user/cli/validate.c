// SPDX-License-Identifier: BSD-2-Clause
/* faultcell validate FILE [--bind FILE] [--time-scale F] [--json]: check, touch nothing. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/experiment.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: faultcell validate FILE [--bind FILE] [--time-scale F] [--json]\n"
		"Check an experiment file without touching the kernel: YAML, every key, units,\n"
		"conditions, bindings, the fault parameters. Every error is printed at once as\n"
		"FILE:LINE:COL: message. Exit 0 when valid, 2 when not.\n"
		"  --bind FILE       resolve service: names and metrics through FILE (cells:,\n"
		"                    metrics:)\n"
		"  --time-scale F    scale every duration of the experiment by F (rehearsals)\n"
		"  --json            one JSON object: errors, or the experiment as understood\n"
		"Examples:\n"
		"  faultcell validate experiments/rollback-controller.yaml\n"
		"  faultcell validate game-day.yaml --bind game-day.bind.yaml --time-scale 0.01\n");
}

/* Shared with plan: 0, or a usage error already printed. */
int cli_time_scale(const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end || errno || !isfinite(v) || v <= 0 || v > 1000) {
		pr_warn("--time-scale: '%s' is not a factor above 0 and at most 1000", arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int cli_load_experiment(const struct fc_exp_opts *o, struct fc_experiment **e)
{
	int rc = fc_experiment_load(o, e);

	if (rc == -ENOMEM || !*e) {
		pr_warn("cannot load %s: out of memory", o->path);
		return FC_EXIT_INTERNAL;
	}
	if (rc) {
		fc_experiment_print_diags(*e, stderr);
		fc_experiment_free(*e);
		*e = NULL;
		return FC_EXIT_USAGE;
	}
	return 0;
}

static int do_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "time-scale", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct fc_exp_opts o = {};
	struct fc_experiment *e = NULL;
	bool json = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "b:s:jh", opts, NULL)) != -1) {
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
	if (err == -ENOMEM) {
		pr_warn("cannot validate %s: out of memory", o.path);
		return FC_EXIT_INTERNAL;
	}
	if (json)
		fc_experiment_json(e, stdout);
	else if (err)
		fc_experiment_print_diags(e, stderr);
	else
		fc_experiment_summary(e, stdout);
	fc_experiment_free(e);
	return err ? FC_EXIT_USAGE : FC_EXIT_OK;
}

FC_COMMAND(validate, "check an experiment file (nothing touched)", do_validate);

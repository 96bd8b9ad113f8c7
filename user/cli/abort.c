// SPDX-License-Identifier: BSD-2-Clause
/*
 * faultcell abort [--run ID]: stop a live run from another shell. It clears `enabled` itself
 * through the control map id in the state file — so even a wedged loader's faults go inert at
 * once — and only then signals the loader, which rolls back and exits 5.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/control.h"
#include "core/log.h"
#include "core/state.h"
#include "core/util.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: faultcell abort [--run ID]\n"
		   "Abort the running experiment or inject: make its faults inert now (one map\n"
		   "write, from this process), then ask the loader to roll back (SIGTERM).\n"
		   "Exit: 0 aborted, 3 nothing is running.\n"
		   "Examples:\n"
		   "  faultcell abort\n"
		   "  faultcell abort --run 20261128T120000-a1b2c3\n");
}

static int do_abort(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static char ids[64][FC_RUN_ID_LEN];
	struct fc_state st;
	const char *run = NULL;
	int c, n, i, done = 0, err;

	while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			run = optarg;
			break;
		case 'h':
			usage(stdout);
			return FC_EXIT_OK;
		default:
			usage(stderr);
			return FC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pr_warn("unexpected argument '%s' (see 'faultcell abort --help')", argv[optind]);
		return FC_EXIT_USAGE;
	}
	if ((err = cli_require_root("abort")))
		return err;
	n = fc_state_list(ids, 64);
	for (i = 0; i < n; i++) {
		if (run && strcmp(run, ids[i]))
			continue;
		if (fc_state_load(ids[i], &st) || !fc_pid_alive(st.pid))
			continue;
		err = st.control_map_id ? fc_control_disable_by_id(st.control_map_id) : -ENOENT;
		if (err)
			pr_warn("run %s: could not clear its control flag (%s); signalling anyway",
				ids[i], strerror(-err));
		else
			printf("abort: run %s: faults inert (control map %u cleared)\n", ids[i],
			       st.control_map_id);
		if (kill(st.pid, SIGTERM)) {
			pr_warn("run %s: cannot signal its loader (pid %d): %s", ids[i], st.pid,
				strerror(errno));
			continue;
		}
		printf("abort: run %s: loader (pid %d) asked to roll back\n", ids[i], st.pid);
		done++;
	}
	if (!done) {
		pr_warn("nothing to abort: no live run%s%s", run ? " with id " : "", run ?: "");
		return FC_EXIT_REFUSED;
	}
	return FC_EXIT_OK;
}

FC_COMMAND(abort, "make a running experiment's faults inert now and roll it back", do_abort);

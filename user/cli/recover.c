// SPDX-License-Identifier: BSD-2-Clause
/* faultcell recover [--run ID]: undo what crashed runs left, exactly as recorded. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/recover.h"
#include "core/state.h"
#include "core/util.h"
#include "engine/recovery.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: faultcell recover [--run ID] [-v]\n"
	    "Undo what a faultcell run recorded in %s and verify nothing of it remains:\n"
	    "clear its control flag, thaw its frozen cgroups, remove its tc filters and the\n"
	    "clsact qdisc it created. Nothing that is not recorded is touched. Refuses while a\n"
	    "live run holds the lock (use 'faultcell abort' for a live run).\n"
	    "Exit: 0 verified (or nothing to do), 3 a live run holds the lock, 6 something\n"
	    "remains (a human is needed).\n"
	    "Examples:\n"
	    "  faultcell recover                 # every run whose loader is gone\n"
	    "  faultcell recover --run 20261128T120000-a1b2c3\n",
	    fc_run_dir());
}

static int do_recover(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "from-guard", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{},
	};
	static char ids[64][FC_RUN_ID_LEN];
	const char *run = NULL;
	bool from_guard = false;
	char log[8192];
	int c, n, i, lock, holder = 0, rc = FC_EXIT_OK, err;

	while ((c = getopt_long(argc, argv, "r:hv", opts, NULL)) != -1) {
		if (cli_common_opt(c))
			continue;
		switch (c) {
		case 'r':
			run = optarg;
			break;
		case 'g':
			from_guard = true; /* the guard's call: same work, marked in the journal */
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
		pr_warn("unexpected argument '%s' (see 'faultcell recover --help')", argv[optind]);
		return FC_EXIT_USAGE;
	}
	if ((rc = cli_require_root("recover")))
		return rc;
	lock = fc_lock_take(&holder);
	if (lock == -EBUSY && from_guard && run) {
		/*
		 * The guard's call while a run holds the lock: one started after our loader died
		 * (it recovers runs it finds left, session.c), or an operator's recover. Do not
		 * wait: a crashed run's cell must not stay frozen behind somebody else's lock. The
		 * loader is dead and everything recorded carries this run's id, so undo it now;
		 * the undo is idempotent should the lock holder be recovering the same run.
		 */
		printf("recover: the lock is held (pid %d): recovering run %s without it (its "
		       "records only)\n",
		       holder, run);
	} else if (lock < 0) {
		pr_warn("cannot recover: a live run (pid %d) holds the lock (stop it with "
			"'faultcell abort', or wait for it to end)",
			holder);
		return FC_EXIT_REFUSED;
	}
	n = run ? 1 : fc_state_list(ids, 64);
	if (run)
		snprintf(ids[0], sizeof(ids[0]), "%s", run);
	if (run && strlen(run) >= FC_RUN_ID_LEN) {
		pr_warn("run id '%s' is too long", run);
		fc_lock_release(lock);
		return FC_EXIT_USAGE;
	}
	if (!n)
		printf("recover: nothing recorded in %s: nothing to do\n", fc_run_dir());
	for (i = 0; i < n; i++) {
		err = fc_recover_journaled(ids[i], from_guard ? "guard" : "operator", log,
					   sizeof(log));
		if (err == -ENOENT && run) {
			printf("recover: run %s has no state file: nothing to do\n", ids[i]);
			continue;
		}
		printf("recover: run %s\n%s", ids[i], log);
		if (err == -EAGAIN || err) {
			pr_warn(
			    "recover of run %s incomplete: %s (inspect with 'faultcell status')",
			    ids[i], err == -EAGAIN ? "items remain" : strerror(-err));
			rc = FC_EXIT_ROLLBACK;
		}
	}
	fc_lock_release(lock);
	return rc;
}

FC_COMMAND(recover, "undo what a crashed run left behind, exactly as recorded", do_recover);

// SPDX-License-Identifier: BSD-2-Clause
/* faultcell status [--json]: the running experiment (if any) and everything of ours in the kernel.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/inventory.h"
#include "core/log.h"
#include "core/state.h"
#include "core/util.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: faultcell status [--json]\n"
		   "Show the run holding the lock and the inventory of what faultcell has in the\n"
		   "kernel: tagged programs and links, recorded tc filters and qdiscs, frozen\n"
		   "cgroups, state files.\n"
		   "Examples:\n"
		   "  faultcell status\n"
		   "  faultcell status --json | jq .items\n");
}

static int do_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct fc_inventory inv;
	bool json = false;
	int c, err, holder, i;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
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
	if ((err = cli_require_root("read the inventory")))
		return err;
	err = fc_inventory_collect(&inv, NULL);
	if (err) {
		pr_warn("cannot read the inventory: %s", strerror(-err));
		return FC_EXIT_INTERNAL;
	}
	holder = fc_lock_holder();
	if (json) {
		printf("{\"lock_holder\":%d,\"items\":[", holder > 0 ? holder : 0);
		for (i = 0; i < inv.n; i++)
			printf("%s{\"kind\":\"%s\",\"id\":%u,\"run\":\"%s\",\"desc\":\"%s\"}",
			       i ? "," : "", fc_inv_kind_name(inv.items[i].kind), inv.items[i].id,
			       inv.items[i].run, inv.items[i].desc);
		printf("]}\n");
	} else {
		static char ids[64][FC_RUN_ID_LEN];
		int n = fc_state_list(ids, 64);

		if (holder > 0)
			printf("running: pid %d holds the run lock\n", holder);
		else
			printf("running: nothing\n");
		/* every recorded run: live ones, and what a crash left for `recover` */
		for (i = 0; i < n; i++) {
			struct fc_state st;
			int64_t left;

			if (fc_state_load(ids[i], &st))
				continue;
			left = (int64_t)(st.deadline_ns - fc_now_coarse_ns());
			printf("run %s: pid %d (%s), cell %s, deadline %s%.1fs%s\n", ids[i], st.pid,
			       fc_pid_alive(st.pid) ? "alive" : "gone: run 'faultcell recover'",
			       st.cell, left < 0 ? "passed " : "in ",
			       (left < 0 ? -left : left) / 1e9, left < 0 ? " ago" : "");
			if (st.journal[0])
				printf("  journal %s\n", st.journal);
		}
		printf("inventory: %d item(s)\n", inv.n);
		for (i = 0; i < inv.n; i++)
			printf("  %-9s %-6u run %-24s %s\n", fc_inv_kind_name(inv.items[i].kind),
			       inv.items[i].id, inv.items[i].run, inv.items[i].desc);
	}
	fc_inventory_free(&inv);
	return FC_EXIT_OK;
}

FC_COMMAND(status, "show the running experiment and what faultcell has in the kernel", do_status);

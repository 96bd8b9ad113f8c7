// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"

extern const struct fc_command __start_fc_cmds[], __stop_fc_cmds[];

static void usage(FILE *f)
{
	const struct fc_command *c;

	fprintf(f,
		"Usage: faultcell [-v|-q] COMMAND [ARGS...]\n"
		"Inject faults into one cgroup (a cell) from inside the kernel, measure it, and\n"
		"roll back the moment an abort condition holds.\n\nCommands:\n");
	for (c = __start_fc_cmds; c < __stop_fc_cmds; c++)
		if (!c->hidden)
			fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f,
		"\nRun 'faultcell COMMAND --help' for a command's options and examples.\n"
		"Exit codes: 0 ok, 1 hypothesis disproved, 2 usage, 3 refused, 4 kernel lacks a\n"
		"mechanism, 5 aborted by operator, 6 rollback incomplete, 7 internal error.\n"
		"Examples:\n"
		"  faultcell probe\n"
		"  faultcell recover\n");
}

bool cli_common_opt(int c)
{
	switch (c) {
	case 'v':
		fc_verbosity++;
		return true;
	case 'q':
		fc_verbosity = FC_LOG_WARN;
		return true;
	}
	return false;
}

int cli_require_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	pr_warn("cannot %s: not root (BPF programs, cgroups and qdiscs need CAP_SYS_ADMIN, "
		"CAP_BPF, CAP_NET_ADMIN; run with sudo)",
		what);
	return FC_EXIT_REFUSED;
}

int fc_main(int argc, char **argv)
{
	const struct fc_command *c;
	int i = 1;

	fc_log_init();
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			fc_verbosity++;
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			fc_verbosity = FC_LOG_WARN;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return FC_EXIT_OK;
		} else {
			pr_warn("unknown option '%s' (see 'faultcell --help')", argv[i]);
			return FC_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return FC_EXIT_USAGE;
	}
	for (c = __start_fc_cmds; c < __stop_fc_cmds; c++)
		if (!strcmp(c->name, argv[i]))
			return c->fn(argc - i, argv + i);
	pr_warn("unknown command '%s' (see 'faultcell --help')", argv[i]);
	return FC_EXIT_USAGE;
}

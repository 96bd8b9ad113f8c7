/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The command table (bpftool/xdp-tools style): each command is one file in user/cli/ that
 * registers itself with FC_COMMAND; main() dispatches without a hand-kept list.
 */
#ifndef FC_CLI_H
#define FC_CLI_H

#include <stdbool.h>
#include <stdio.h>

struct fc_command {
	const char *name;
	const char *summary;
	int (*fn)(int argc, char **argv); /* argv[0] is the command name; returns an exit code */
	bool hidden;
};

#define FC_COMMAND(cname, csummary, cfn)                                                           \
	static const struct fc_command __fc_cmd_##cname                                            \
	    __attribute__((section("fc_cmds"), used,                                               \
			   aligned(8))) = { .name = #cname, .summary = csummary, .fn = cfn }

int fc_main(int argc, char **argv);
/* Common option handling: -v/--verbose and -q; returns true when the option was one of them. */
bool cli_common_opt(int c);
/* --time-scale F (0 < F <= 1000): 0, or -EINVAL after saying why. Shared by run, validate, plan. */
int cli_time_scale(const char *arg, double *out);
/* "needs root" check with the design's exit code; prints the reason. */
int cli_require_root(const char *what);

struct fc_exp_opts;
struct fc_experiment;
/*
 * Load and validate an experiment for a command that then acts on it (run, demo): 0 with *@e,
 * or the exit code after printing why (2 invalid, with every diagnostic; 7 out of memory).
 */
int cli_load_experiment(const struct fc_exp_opts *o, struct fc_experiment **e);

#endif

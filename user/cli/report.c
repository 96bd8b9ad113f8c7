// SPDX-License-Identifier: BSD-2-Clause
/* faultcell report JOURNAL [--json] [--out PREFIX]: the journal for humans and programs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/report.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: faultcell report JOURNAL [--json] [--out PREFIX]\n"
		"Render a run's journal (one JSON line per window, fsync'd as it ran) as\n"
		"Markdown for the humans, or as one JSON summary. A journal cut short by a crash\n"
		"renders too, and says so.\n"
		"  --json         the JSON summary on stdout instead of Markdown\n"
		"  --out PREFIX   write PREFIX.md and PREFIX.json\n"
		"Examples:\n"
		"  faultcell report /var/lib/faultcell/journal/20261128T120000-a1b2c3.jsonl\n"
		"  faultcell report run.jsonl --out /tmp/gameday\n");
}

static int do_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", 0, NULL, 'j' },
		{ "out", 1, NULL, 'o' },
		{ "help", 0, NULL, 'h' },
		{},
	};
	const char *out = NULL;
	bool json = false;
	char p1[4200], p2[4200];
	FILE *md = stdout, *js = NULL;
	int c, err;

	while ((c = getopt_long(argc, argv, "jo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'o':
			out = optarg;
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
		pr_warn("report: give one journal file (see 'faultcell report --help')");
		return FC_EXIT_USAGE;
	}
	if (json) {
		md = NULL;
		js = stdout;
	}
	if (out) {
		snprintf(p1, sizeof(p1), "%s.md", out);
		snprintf(p2, sizeof(p2), "%s.json", out);
		md = fopen(p1, "we");
		js = fopen(p2, "we");
		if (!md || !js) {
			pr_warn("cannot write %s: %s", out, strerror(errno));
			return FC_EXIT_USAGE;
		}
	}
	err = fc_report(argv[optind], md, js);
	if (out) {
		fclose(md);
		fclose(js);
	}
	if (err == -EINVAL) {
		pr_warn("%s is not a faultcell journal (no start record)", argv[optind]);
		return FC_EXIT_USAGE;
	}
	if (err) {
		pr_warn("cannot read %s: %s", argv[optind], strerror(-err));
		return FC_EXIT_USAGE;
	}
	if (out)
		printf("report: wrote %s and %s\n", p1, p2);
	return FC_EXIT_OK;
}

FC_COMMAND(report, "render a run's journal as Markdown or JSON", do_report);

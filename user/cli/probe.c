// SPDX-License-Identifier: BSD-2-Clause
/* faultcell probe [--json] [--only NAME]: what this kernel can do, by loading and triggering. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/probe.h"
#include "core/util.h"

static void usage(FILE *f)
{
	const char *const *n = fc_probe_mech_names();

	fprintf(f,
		"Usage: faultcell probe [--json] [--only MECHANISM] [-v]\n"
		"Load and trigger one tiny BPF program per kernel mechanism, count its hits, and\n"
		"report which mechanisms work (with the kernel's own error when one does not),\n"
		"then which fault types and metric sources this host can run, and how.\n"
		"Everything happens in a scratch cgroup and a scratch network namespace; nothing\n"
		"is left behind. Exit: 0 the probe ran (even with mechanisms missing), 2 usage,\n"
		"3 not root.\n"
		"Mechanisms:");
	for (int i = 0; n[i]; i++)
		fprintf(f, "%s%s", i % 4 ? " " : "\n  ", n[i]);
	fprintf(f, "\nExamples:\n"
		   "  faultcell probe\n"
		   "  faultcell probe --only tcx\n"
		   "  faultcell probe --json | jq '.faults[] | select(.available)'\n");
}

static void ms(uint64_t ns, char *buf, size_t len)
{
	if (!ns)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2fms", ns / 1e6);
}

/* Print @s from column @col, wrapping at 100 columns on spaces, continuing at @indent. */
static void wrapped(const char *s, int col, int indent)
{
	int width = 100 - col, n;

	while ((int)strlen(s) > width) {
		for (n = width; n > 0 && s[n] != ' '; n--)
			;
		if (!n)
			n = width;
		printf("%.*s\n%*s", n, s, indent, "");
		s += n + (s[n] == ' ');
		width = 100 - indent;
	}
	printf("%s\n", s);
}

static void print_verdicts(const char *title, const struct fc_verdict *v, int n)
{
	bool any = false;

	for (int i = 0; i < n; i++)
		any |= v[i].probed;
	if (!any)
		return;
	printf("\n%s\n", title);
	for (int i = 0; i < n; i++) {
		if (!v[i].probed)
			continue;
		printf("  %-24s %-3s ", v[i].name, v[i].available ? "yes" : "no");
		wrapped(v[i].how, 31, 31);
	}
}

static void print_text(const struct fc_probe *p)
{
	char at[16], dt[16], hits[24];

	printf("kernel %s, active LSMs: %s; probed in %.2f s\n\n", p->kernel,
	       p->lsm[0] ? p->lsm : p->lsm_err, p->total_ns / 1e9);
	printf("%-26s %-3s %6s %9s %9s  %s\n", "MECHANISM", "OK", "HITS", "ATTACH", "DETACH",
	       "VIA / ERROR");
	for (int i = 0; i < p->nmech; i++) {
		const struct fc_probe_result *r = &p->mech[i];

		if (!r->probed)
			continue;
		ms(r->attach_ns, at, sizeof(at));
		ms(r->detach_ns, dt, sizeof(dt));
		snprintf(hits, sizeof(hits), "%llu", (unsigned long long)r->hits);
		printf("%-26s %-3s %6s %9s %9s  ", r->name, r->available ? "yes" : "no",
		       r->hits ? hits : "-", at, dt);
		wrapped(r->available ? r->via : r->error, 59, 61);
		/* the kernel's or libbpf's own words, indented under the error */
		if (!r->available && r->detail[0]) {
			printf("%*s", 61, "");
			wrapped(r->detail, 61, 61);
		}
	}
	print_verdicts("fault types (design.md §4):", p->faults, FC_PROBE_NFAULTS);
	print_verdicts("metric sources (design.md §5):", p->metrics, FC_PROBE_NMETRICS);
}

/* A JSON string, or null for an empty one. */
static void jstr(const char *s)
{
	if (!s || !*s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_verdicts(const char *key, const struct fc_verdict *v, int n)
{
	printf(",\"%s\":[", key);
	for (int i = 0; i < n; i++) {
		printf("%s{\"name\":", i ? "," : "");
		jstr(v[i].name);
		printf(",\"probed\":%s,\"available\":%s,\"how\":", v[i].probed ? "true" : "false",
		       v[i].available ? "true" : "false");
		jstr(v[i].how);
		putchar('}');
	}
	putchar(']');
}

static void print_json(const struct fc_probe *p)
{
	printf("{\"kernel\":");
	jstr(p->kernel);
	printf(",\"run_id\":");
	jstr(p->run_id);
	printf(",\"lsm\":");
	jstr(p->lsm);
	printf(",\"duration_ms\":%.3f,\"leftover\":%d,\"mechanisms\":[", p->total_ns / 1e6,
	       p->leftover);
	for (int i = 0, n = 0; i < p->nmech; i++) {
		const struct fc_probe_result *r = &p->mech[i];

		if (!r->probed)
			continue;
		printf("%s{\"name\":", n++ ? "," : "");
		jstr(r->name);
		printf(",\"what\":");
		jstr(r->what);
		printf(",\"available\":%s,\"hits\":%llu,\"attach_ms\":%.3f,\"detach_ms\":%.3f,"
		       "\"via\":",
		       r->available ? "true" : "false", (unsigned long long)r->hits,
		       r->attach_ns / 1e6, r->detach_ns / 1e6);
		jstr(r->via);
		printf(",\"error\":");
		jstr(r->error);
		printf(",\"detail\":");
		jstr(r->detail);
		putchar('}');
	}
	putchar(']');
	json_verdicts("faults", p->faults, FC_PROBE_NFAULTS);
	json_verdicts("metrics", p->metrics, FC_PROBE_NMETRICS);
	printf("}\n");
}

static int do_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },  { "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },  { "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' }, {},
	};
	struct fc_probe_opts popts = { .sz = sizeof(popts) };
	struct fc_probe *p;
	bool json = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "jo:hvq", opts, NULL)) != -1) {
		if (cli_common_opt(c))
			continue;
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'o':
			popts.only = optarg;
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
		pr_warn("unexpected argument '%s' (see 'faultcell probe --help')", argv[optind]);
		return FC_EXIT_USAGE;
	}
	if (popts.only && !fc_probe_known(popts.only)) {
		pr_warn("unknown mechanism '%s' (see 'faultcell probe --help' for the list)",
			popts.only);
		return FC_EXIT_USAGE;
	}
	if ((err = cli_require_root("probe the kernel")))
		return err;
	p = fc_probe_new(&popts);
	if (!p) {
		pr_warn("cannot probe: %s", strerror(errno));
		return FC_EXIT_INTERNAL;
	}
	err = fc_probe_run(p);
	if (err) {
		pr_warn("cannot probe: %s", strerror(-err));
		fc_probe_free(p);
		return FC_EXIT_INTERNAL;
	}
	if (p->leftover)
		pr_warn("%d program(s) of probe run %s still alive after 2 s (see 'faultcell "
			"status')",
			p->leftover, p->run_id);
	if (json)
		print_json(p);
	else
		print_text(p);
	fc_probe_free(p);
	return FC_EXIT_OK;
}

FC_COMMAND(probe, "decide which mechanisms and faults this kernel supports, by trying them",
	   do_probe);

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The bad-input corpus (tests/bad-input/README.md): `faultcell validate` on each file exits 2
 * with the expected `line:col: message` lines, and leaves the kernel as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/inventory.h"
#include "core/util.h"
#include "lib/host.h"
#include "lib/test.h"
#include "unit/exp_testlib.h"

#define OUT_MAX 65536

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

/*
 * Take the file names off the output: "PATH:1:2: msg" → "1:2: msg", "PATH: msg" → "msg",
 * "BIND:1:2: msg" → "bind 1:2: msg". Any other line is output we did not expect.
 */
static void strip(const char *out, const char *path, const char *bind, char *res, size_t len,
		  int *stray)
{
	const char *line = out, *nl;
	size_t pos = 0, pl = strlen(path), bl = bind ? strlen(bind) : 0;

	*stray = 0;
	res[0] = 0;
	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n') ?: line + strlen(line);
		if (!strncmp(line, path, pl) && line[pl] == ':') {
			line += pl + 1 + (line[pl + 1] == ' ');
			pos += snprintf(res + pos, pos < len ? len - pos : 0, "%.*s\n",
					(int)(nl - line), line);
		} else if (bind && !strncmp(line, bind, bl) && line[bl] == ':') {
			line += bl + 1;
			pos += snprintf(res + pos, pos < len ? len - pos : 0, "bind %.*s\n",
					(int)(nl - line), line);
		} else if (nl > line) {
			(*stray)++;
		}
		if (!*nl)
			break;
	}
}

static void run_case(const char *dir, const char *name)
{
	char path[PATH_MAX], bind[PATH_MAX], exp[PATH_MAX], args[256] = "", *argv[16];
	char *out = malloc(OUT_MAX), *got = malloc(OUT_MAX), *want = malloc(OUT_MAX);
	char *line, *save = NULL, *tok;
	int argc = 0, rc, stray, n;
	bool have_bind;

	if (!ASSERT_TRUE(out && got && want, "alloc"))
		goto out;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(bind, sizeof(bind), "%s/%.*s.bind.yaml", dir, (int)strlen(name) - 5, name);
	snprintf(exp, sizeof(exp), "%s/%.*s.expect", dir, (int)strlen(name) - 5, name);
	have_bind = !access(bind, R_OK);
	argv[argc++] = "validate";
	argv[argc++] = path;
	if (have_bind) {
		argv[argc++] = "--bind";
		argv[argc++] = bind;
	}
	snprintf(want, PATH_MAX, "%s/%.*s.args", dir, (int)strlen(name) - 5, name);
	if (fc_read_file(want, args, sizeof(args)) > 0)
		for (tok = strtok_r(args, " \n", &save); tok && argc < 14;
		     tok = strtok_r(NULL, " \n", &save))
			argv[argc++] = tok;
	argv[argc] = NULL;
	n = fc_read_file(exp, want, OUT_MAX);
	if (!ASSERT_GT(n, 0, "the .expect file"))
		goto out;
	rc = trun_fc(out, OUT_MAX, argv);
	if (!ASSERT_EQ(rc, FC_EXIT_USAGE, "exit 2 for invalid input"))
		test__log("output:\n%s", out);
	strip(out, path, have_bind ? bind : NULL, got, OUT_MAX, &stray);
	ASSERT_EQ(stray, 0, "every line names the file");
	save = NULL;
	for (line = strtok_r(want, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!ASSERT_STRSTR(got, line, name))
			break;
out:
	free(out);
	free(got);
	free(want);
}

/* The size cap: generated, not checked in (a 1 MiB file in git helps nobody). */
static void size_cap(void)
{
	char path[] = "/tmp/fc-bad-input-XXXXXX", out[4096], *argv[] = { "validate", path, NULL };
	FILE *f;
	int fd = mkstemp(path);

	if (!ASSERT_GE(fd, 0, "mkstemp"))
		return;
	f = fdopen(fd, "w");
	fprintf(f, "title: \"big\"\n");
	for (int i = 0; i < 30000; i++)
		fprintf(f, "# %036d\n", i); /* 40 bytes a line: 1.2 MB of comments */
	fclose(f);
	ASSERT_EQ(trun_fc(out, sizeof(out), argv), FC_EXIT_USAGE, "exit 2");
	ASSERT_STRSTR(out, ": file larger than 1048576 bytes", "size cap");
	unlink(path);
}

FC_TEST(bad_input_corpus, TIER_UNIT)
{
	struct fc_inventory before = {}, after = {};
	char dir[PATH_MAX], left[1024];
	struct dirent **ents = NULL;
	bool root = geteuid() == 0;
	int n, cases = 0;

	exp_repo_file("tests/bad-input", dir, sizeof(dir));
	if (root && !ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before"))
		return;
	n = scandir(dir, &ents, NULL, alphasort);
	if (!ASSERT_GT(n, 0, "tests/bad-input"))
		goto out;
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		if (!has_suffix(name, ".yaml") || has_suffix(name, ".bind.yaml"))
			continue;
		cases++;
		if (test__start_subtest(name))
			run_case(dir, name);
	}
	if (test__start_subtest("size-cap--file"))
		size_cap();
	ASSERT_GE(cases, 60, "the corpus is there");
	/* validate never touches the kernel: nothing of ours appeared */
	if (root && ASSERT_OK(fc_inventory_collect(&after, NULL), "inventory after") &&
	    !ASSERT_EQ(fc_inventory_new_items(&before, &after, left, sizeof(left)), 0,
		       "inventory unchanged"))
		test__log("new: %s", left);
out:
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	fc_inventory_free(&before);
	fc_inventory_free(&after);
}

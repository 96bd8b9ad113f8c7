// SPDX-License-Identifier: BSD-2-Clause
/*
 * The unit tier's fuzzing run (issue 7): build the libFuzzer targets (make fuzz-build, cached)
 * and run them for FC_FUZZ_TIME seconds in all, 60 by default, 0 to skip. Any crash, leak,
 * sanitizer report or timeout fails the test; the input is kept in $OUT/fuzz/crash-*.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/host.h"
#include "lib/test.h"

/* The last @len - 1 bytes of @path: what went wrong is at the end of a log. */
static int read_tail(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	long size;
	size_t n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > (long)len - 1 ? size - (long)len + 1 : 0, SEEK_SET);
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return (int)n;
}

FC_TEST(exp_fuzz_smoke, TIER_UNIT)
{
	char self[PATH_MAX], out[PATH_MAX], root[PATH_MAX], log[8192];
	const char *t = getenv("FC_FUZZ_TIME");
	int secs = t ? atoi(t) : 60, rc;

	if (secs <= 0) {
		test__skip("FC_FUZZ_TIME=%s", t);
		return;
	}
	if (tsh("command -v clang >/dev/null")) {
		test__skip("no clang: the fuzzers need clang and libclang-rt-14-dev");
		return;
	}
	/* $OUT is where this binary lives; the tree is its parent */
	snprintf(self, sizeof(self), "%s", test__self());
	snprintf(out, sizeof(out), "%s", dirname(self));
	snprintf(self, sizeof(self), "%s", out);
	snprintf(root, sizeof(root), "%s", dirname(self));
	rc = tsh("cd '%s' && mkdir -p '%s/fuzz' && make -s -j2 OUT='%s' fuzz-build "
		 ">'%s/fuzz/build.log' 2>&1",
		 root, out, out, out);
	if (!ASSERT_EQ(rc, 0, "make fuzz-build")) {
		snprintf(self, sizeof(self), "%s/fuzz/build.log", out);
		if (read_tail(self, log, sizeof(log)) > 0)
			test__log("%s", log);
		return;
	}
	rc = tsh("cd '%s' && OUT='%s' FUZZ_TIME=%d tests/fuzz/run.sh >'%s/fuzz/run.log' 2>&1", root,
		 out, secs, out);
	snprintf(self, sizeof(self), "%s/fuzz/run.log", out);
	if (read_tail(self, log, sizeof(log)) > 0)
		test__log("%s", log);
	if (rc == 77) {
		test__skip("fuzzers not built here");
		return;
	}
	ASSERT_EQ(rc, 0, "no crash, leak or sanitizer report");
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * `make install` and the systemd units for scheduled game days (docs/scheduling.md): the
 * installed binary runs, every library experiment is there and validates, the units carry
 * real paths and pass `systemd-analyze verify`, and they keep the two lines the guard's
 * promise depends on under systemd (KillMode=process, ExecStopPost recover).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "lib/host.h"
#include "lib/test.h"

static char out[65536];

/* Run @cmd through sh, output (stdout+stderr) into out; its exit status. */
static int sh_out(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	int st;

	out[n] = 0;
	if (!p)
		return -1;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

FC_TEST(packaging_install_and_units, TIER_HOST)
{
	char dir[] = "/tmp/fc-test-install-XXXXXX", outdir[PATH_MAX], cmd[4096],
	     unit[PATH_MAX + 64];
	char text[8192], *slash;
	int rc;

	if (access("/usr/bin/systemd-analyze", X_OK)) {
		test__skip("systemd-analyze not installed (the systemd package)");
		return;
	}
	if (!ASSERT_OK_PTR(mkdtemp(dir), "tmpdir"))
		return;
	/* the build directory of the running fc-test: install what this run tests */
	snprintf(outdir, sizeof(outdir), "%s", test__self());
	slash = strrchr(outdir, '/');
	*slash = 0;
	snprintf(cmd, sizeof(cmd), "make -s --no-print-directory install PREFIX=%s OUT=%s 2>&1",
		 dir, outdir);
	rc = sh_out(cmd);
	if (!ASSERT_EQ(rc, 0, "make install")) {
		test__log("%s", out);
		goto out;
	}
	snprintf(cmd, sizeof(cmd), "%s/sbin/faultcell --help >/dev/null 2>&1", dir);
	ASSERT_EQ(tsh("%s", cmd), 0, "the installed binary runs");
	snprintf(cmd, sizeof(cmd),
		 "test $(ls %s/share/faultcell/experiments/*.yaml | wc -l) = "
		 "$(ls experiments/*.yaml | wc -l)",
		 dir);
	ASSERT_EQ(tsh("%s", cmd), 0, "the whole experiment library");
	snprintf(cmd, sizeof(cmd), "%s/sbin/faultcell validate %s/share/faultcell/experiments/%s",
		 dir, dir, "packet-loss.yaml >/dev/null 2>&1");
	ASSERT_EQ(tsh("%s", cmd), 0, "an installed experiment validates");

	snprintf(unit, sizeof(unit), "%s/lib/systemd/system/faultcell-gameday@.service", dir);
	ASSERT_GT(fc_read_file(unit, text, sizeof(text)), 0, "service unit installed");
	ASSERT_TRUE(!strstr(text, "@SBINDIR@") && !strstr(text, "@DOCDIR@"), "paths filled in");
	ASSERT_STRSTR(text, "KillMode=process", "systemd never kills the guard with the loader");
	ASSERT_STRSTR(text, "ExecStopPost=-", "a recover after every run");
	ASSERT_STRSTR(text, "--yes --non-interactive", "unattended");
	/* an instance of each template, as `systemctl enable faultcell-gameday@x.timer` makes */
	snprintf(cmd, sizeof(cmd),
		 "cd %s/lib/systemd/system && cp faultcell-gameday@.service "
		 "faultcell-gameday@x.service && cp faultcell-gameday@.timer "
		 "faultcell-gameday@x.timer && systemd-analyze verify faultcell-gameday@x.service "
		 "faultcell-gameday@x.timer 2>&1",
		 dir);
	rc = sh_out(cmd);
	ASSERT_EQ(rc, 0, "systemd-analyze verify");
	ASSERT_STREQ(out, "", "and it has nothing to say");
out:
	tsh("rm -rf %s", dir);
}

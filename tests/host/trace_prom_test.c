// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Prometheus export against a real Prometheus (design.md §5): `promtool check metrics`
 * accepts our text, a Prometheus on a free loopback port scrapes `faultcell trace
 * --metrics-listen`, and once the workload has stopped its histogram_quantile(0.99, ...) over
 * our buckets equals the p99 we compute from the same exported buckets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include "core/util.h"
#include "metrics/hist.h"
#include "lib/host.h"
#include "lib/prom.h"
#include "lib/test.h"

/* Our p99 from the exported buckets of the series whose line contains @match. */
static double our_p99(const char *text, const char *match)
{
	double le[512], cum[512];
	const char *p = text;
	unsigned int n = 0;
	char *l;

	while ((l = strstr(p, "faultcell_syscall_latency_seconds_bucket{")) && n < 512) {
		char *eol = strchr(l, '\n'), *lev = strstr(l, "le=\"");

		p = eol ? eol + 1 : l + 1;
		if (!lev || (eol && lev > eol) || !strstr(l, match) || strstr(l, match) > eol)
			continue;
		le[n] = !strncmp(lev + 4, "+Inf", 4) ? INFINITY : strtod(lev + 4, NULL);
		cum[n] = strtod(strchr(lev + 4, '}') + 1, NULL);
		n++;
	}
	return fc_prom_quantile(0.99, le, cum, n);
}

FC_TEST(trace_prometheus, TIER_HOST | FC_T_ROOT)
{
	char dir[] = "/tmp/fc-test-prom-XXXXXX", textfile[256], addr[64];
	char line[8192], cmd[600];
	char *w[] = { "sleeplat", "1500", "500", "0.7", NULL };
	static char text[1 << 20], ans[1 << 16];
	struct tcell cell = {};
	int fd = -1, wfd = -1, mport, i, st;
	pid_t tp = -1, wp = -1;
	struct tprom prom = { .pid = -1 };
	double ours = NAN, theirs = NAN;

	if (!tprom_available()) {
		test__skip("prometheus/promtool not installed (packaging/deps.txt: make deps)");
		return;
	}
	if (!ASSERT_OK_PTR(mkdtemp(dir), "tmpdir") ||
	    !ASSERT_OK(tcell_create(&cell, "prom", NULL), "cell"))
		goto out;
	mport = tfree_port();
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", mport);
	snprintf(textfile, sizeof(textfile), "%s/faultcell.prom", dir);
	char *a[] = { "trace",
		      "syscall_latency:nanosleep",
		      "syscall_errors:nanosleep",
		      "--cell",
		      cell.parent,
		      "--interval",
		      "500ms",
		      "--json",
		      "--metrics-listen",
		      addr,
		      "--textfile",
		      textfile,
		      "--label",
		      "service=demo",
		      NULL };

	tp = tspawn_fc(a, &fd, NULL);
	if (!ASSERT_GT(tp, 0, "trace") ||
	    !ASSERT_OK(tread_line(fd, line, sizeof(line), 10000), "first window"))
		goto out;
	/* the workload runs to its end: afterwards the cumulative buckets no longer move */
	wp = tspawn(cell.child, NULL, w, &wfd);
	if (!ASSERT_OK(tread_line(wfd, line, sizeof(line), 60000), "workload"))
		goto out;
	twait(wp, 10000);
	wp = -1;
	for (i = 0; i < 3; i++)
		tread_line(fd, line, sizeof(line), 5000);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s >%s/promtool.out 2>&1", textfile,
		 dir);
	st = tsh("%s", cmd);
	if (!ASSERT_EQ(st, 0, "promtool check metrics")) {
		snprintf(cmd, sizeof(cmd), "%s/promtool.out", dir);
		fc_read_file(cmd, ans, sizeof(ans));
		test__log("promtool: %s", ans);
	}
	if (!ASSERT_GT(fc_read_file(textfile, text, sizeof(text)), 0, "textfile"))
		goto out;
	ASSERT_STRSTR(text, "service=\"demo\"", "labels from --label");
	ASSERT_STRSTR(text, "# TYPE faultcell_syscall_latency_window_p99_seconds gauge",
		      "percentile gauges");
	ASSERT_STRSTR(text, "faultcell_syscall_errors_total{", "counter");
	ours = our_p99(text, "syscall=\"nanosleep\"");
	ASSERT_TRUE(ours > 0, "our p99 from the exported buckets");
	/* the scrape serves the same text as the file */
	if (ASSERT_GT(thttp_get(mport, "/metrics", ans, sizeof(ans)), 0, "scrape"))
		ASSERT_STRSTR(ans, "faultcell_syscall_latency_seconds_bucket{", "served");

	if (!ASSERT_OK(tprom_start(&prom, dir, addr), "prometheus"))
		goto out;
	/* poll: Prometheus starts, scrapes once a second; the value settles on ours */
	for (i = 0; i < 600; i++) {
		if (thttp_get(prom.port,
			      "/api/v1/query?query=histogram_quantile(0.99,"
			      "faultcell_syscall_latency_seconds_bucket%7Bservice=%22demo%22,"
			      "syscall=%22nanosleep%22%7D)",
			      ans, sizeof(ans)) > 0) {
			theirs = tprom_value(ans);
			if (!isnan(theirs) && fabs(theirs - ours) <= 1e-9 * ours)
				break;
		}
		usleep(100000);
	}
	test__log("p99 from the exported buckets: ours %.9f s, Prometheus %.9f s", ours, theirs);
	ASSERT_TRUE(!isnan(theirs), "Prometheus answered the query");
	ASSERT_TRUE(fabs(theirs - ours) <= 1e-9 * ours, "Prometheus' p99 equals ours");
	kill(tp, SIGINT);
	ASSERT_EQ(twait(tp, 10000), 0, "trace exits 0 on SIGINT");
	tp = -1;
out:
	tprom_stop(&prom);
	if (tp > 0) {
		kill(tp, SIGKILL);
		twait(tp, 5000);
	}
	if (wp > 0)
		twait(wp, 30000);
	if (fd >= 0)
		close(fd);
	if (wfd >= 0)
		close(wfd);
	tsh("rm -rf %s", dir);
	tcell_destroy(&cell);
}

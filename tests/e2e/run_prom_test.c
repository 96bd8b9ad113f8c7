// SPDX-License-Identifier: BSD-2-Clause
/*
 * `faultcell run` with Prometheus metrics against a real Prometheus: instant queries as the
 * steady state, and burn(1h) answered by Prometheus over its own history (design.md §6). The
 * scrape target's counters grow at fixed rates (5 errors in 100 requests), so with objective
 * 0.99 the burn rate has one right answer, 5. A run of a few seconds has far less than an hour
 * of windows: from the window history burn(1h) would be unknown, and an abort rule unknown for
 * its N windows aborts (fail closed). So a run that holds under `burn(1h) > 10` shows the
 * value came from Prometheus, and one that aborts under `burn(1h) > 3` shows it is used.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/inventory.h"
#include "core/util.h"
#include "lib/host.h"
#include "lib/prom.h"
#include "lib/test.h"

static char out[65536], jbuf[262144];

static int count_str(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Every "3600s": value in the journal's window lines: how many, and the extremes. */
static int burn_values(const char *j, double *lo, double *hi)
{
	const char *p = j;
	int n = 0;

	*lo = INFINITY;
	*hi = -INFINITY;
	while ((p = strstr(p, "\"burn\":{\"3600s\":"))) {
		double v;

		p += strlen("\"burn\":{\"3600s\":");
		if (!strncmp(p, "null", 4))
			continue;
		v = atof(p);
		*lo = v < *lo ? v : *lo;
		*hi = v > *hi ? v : *hi;
		n++;
	}
	return n;
}

static int run_with(const char *dir, const struct tcell *cell, int pport, const char *rule)
{
	char yaml[256], jdir[256], cmd[512];
	char *a[] = { "run", yaml, "--yes", "--journal", jdir, NULL };
	FILE *f;
	int rc;

	snprintf(yaml, sizeof(yaml), "%s/exp.yaml", dir);
	snprintf(jdir, sizeof(jdir), "%s/journal", dir);
	tsh("rm -rf %s; mkdir -p %s", jdir, jdir);
	f = fopen(yaml, "w");
	if (!f)
		return -1;
	fprintf(f,
		"title: \"burn from prometheus\"\n"
		"hypothesis: \"the error budget holds\"\n"
		"cell: { cgroup: %s }\n"
		"metrics:\n"
		"  total: { source: prometheus, url: \"http://127.0.0.1:%d\", timeout: 400ms,\n"
		"           query: 'sum(rate(fc_test_requests_total[3s]))' }\n"
		"  errors: { source: prometheus, url: \"http://127.0.0.1:%d\", timeout: 400ms,\n"
		"            query: 'sum(rate(fc_test_errors_total[3s]))' }\n"
		"slo: { objective: 0.99, errors: errors, total: total }\n"
		"steady_state: { metric: total, expected: \">= 1\" }\n"
		"fault: { type: connect-error, probability: 100%%, errno: ECONNREFUSED,\n"
		"         match: { proto: tcp, ports: [9] } }\n"
		"window: 500ms\nbaseline: 1s\nduration: 3s\nrecovery: 1s\n"
		"abort_when: \"%s\"\n",
		cell->parent, pport, pport, rule);
	fclose(f);
	rc = trun_fc(out, sizeof(out), a);
	snprintf(cmd, sizeof(cmd), "cat %s/*.jsonl > %s/j.txt 2>/dev/null", jdir, dir);
	tsh("%s", cmd);
	snprintf(cmd, sizeof(cmd), "%s/j.txt", dir);
	if (fc_read_file(cmd, jbuf, sizeof(jbuf)) < 0)
		jbuf[0] = 0;
	return rc;
}

FC_TEST(run_prometheus_burn, TIER_E2E | FC_T_ROOT)
{
	char dir[64], target[64], port[16], line[64], ans[8192];
	char *w[] = { "counters_http", port, "100", "5", NULL };
	struct tprom prom = { .pid = -1 };
	struct fc_inventory before = {};
	struct tcell cell = {};
	double v = NAN, lo, hi;
	pid_t wp = -1;
	int wfd = -1, rc, i, n;

	if (!tprom_available()) {
		test__skip("prometheus not installed (packaging/deps.txt: make deps)");
		return;
	}
	snprintf(dir, sizeof(dir), "/tmp/fc-test-%d-promburn", getpid());
	snprintf(port, sizeof(port), "%d", tfree_port());
	snprintf(target, sizeof(target), "127.0.0.1:%s", port);
	if (!ASSERT_OK(fc_mkdir_p(dir, 0755), "dir") ||
	    !ASSERT_OK(tcell_create(&cell, "promburn", NULL), "cell") ||
	    !ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before"))
		goto out;
	wp = tspawn(NULL, NULL, w, &wfd);
	if (!ASSERT_OK(tread_line(wfd, line, sizeof(line), 10000), "scrape target") ||
	    !ASSERT_OK(tprom_start(&prom, dir, target), "prometheus"))
		goto out;
	/*
	 * Poll (a cap, not a sleep) until Prometheus has history for the span: rate() needs two
	 * scrapes, and the subquery's steps (W/1000 = 3.6 s) sit at multiples of the step, so
	 * the newest one must fall after the first rate. A Prometheus in service has that.
	 */
	for (i = 0; i < 600 && !(v > 0); i++) {
		if (thttp_get(prom.port,
			      "/api/v1/query?query=sum(sum_over_time((sum(rate("
			      "fc_test_requests_total%5B3s%5D)))%5B3600000ms:3600ms%5D))",
			      ans, sizeof(ans)) > 0)
			v = tprom_value(ans);
		if (!(v > 0))
			usleep(100000);
	}
	if (!ASSERT_TRUE(v > 0, "Prometheus has history for burn(1h)"))
		goto out;

	if (test__start_subtest("holds_below_threshold")) {
		rc = run_with(dir, &cell, prom.port, "burn(1h) > 10");
		if (!ASSERT_EQ(rc, 0, "burn 5 < 10: the hypothesis held (exit 0)"))
			test__log("%s", out);
		ASSERT_STRSTR(out, "burn(): from Prometheus", "says where burn() comes from");
		ASSERT_STRSTR(jbuf, "\"type\":\"burn_source\",", "journal: burn_source");
		ASSERT_STRSTR(jbuf, "\"source\":\"prometheus\"", "journal: from prometheus");
		n = burn_values(jbuf, &lo, &hi);
		test__log("burn(1h) from Prometheus in %d windows: %.3f .. %.3f (5 expected)", n,
			  lo, hi);
		if (!ASSERT_GE(n, 9, "a burn value in every window after the first"))
			test__log("%s", out);
		/* rate() extrapolates the two counters a little differently: 4.95 seen */
		ASSERT_TRUE(lo >= 4.5 && hi <= 5.5,
			    "burn(1h) = 5 ± 0.5 (5 errors per 100, objective 0.99)");
		ASSERT_STRSTR(jbuf, "\"verified\":true", "rollback verified");
	}
	if (test__start_subtest("aborts_above_threshold")) {
		rc = run_with(dir, &cell, prom.port, "burn(1h) > 3 for 2 windows");
		if (!ASSERT_EQ(rc, 1, "burn 5 > 3: the abort rule held (exit 1)"))
			test__log("%s", out);
		ASSERT_STRSTR(out, "abort rule 'abort_when' held", "the rule held, not unknown");
		ASSERT_EQ(count_str(jbuf, "\"phase\":\"inject\""), 2, "aborted on the 2nd window");
		ASSERT_STRSTR(jbuf, "\"verified\":true", "rollback verified");
	}
	tinventory_as_before(&before, "inventory as before");
out:
	tprom_stop(&prom);
	if (wp > 0) {
		kill(wp, SIGKILL);
		twait(wp, 5000);
	}
	if (wfd >= 0)
		close(wfd);
	fc_inventory_free(&before);
	tcell_destroy(&cell);
	tsh("rm -rf %s", dir);
}

/*
 * http probes in a run: `up` and `latency` of a live endpoint for the cell, and the control
 * side through control_url pointing at a port nothing listens on — down is a value for `up`
 * (0), not "no data". The rule "up < 1 OR control.up > 0" is false only when both sides have
 * their value, so the run holds (exit 0) only if the control side was measured.
 */
FC_TEST(run_http_probe, TIER_E2E | FC_T_ROOT)
{
	char dir[64], port[16], yaml[128], jdir[128], line[64], cmd[512];
	char *w[] = { "counters_http", port, "100", "5", NULL };
	char *a[] = { "run", yaml, "--yes", "--journal", jdir, NULL };
	struct fc_inventory before = {};
	struct tcell cell = {}, ctl = {};
	int wfd = -1, rc, down;
	pid_t wp = -1;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/fc-test-%d-http", getpid());
	snprintf(yaml, sizeof(yaml), "%s/exp.yaml", dir);
	snprintf(jdir, sizeof(jdir), "%s/journal", dir);
	snprintf(port, sizeof(port), "%d", tfree_port());
	down = tfree_port();
	if (!ASSERT_OK(fc_mkdir_p(jdir, 0755), "dir") ||
	    !ASSERT_OK(tcell_create(&cell, "http", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&ctl, "httpk", NULL), "control cell") ||
	    !ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before"))
		goto out;
	wp = tspawn(NULL, NULL, w, &wfd);
	if (!ASSERT_OK(tread_line(wfd, line, sizeof(line), 10000), "endpoint ready"))
		goto out;
	f = fopen(yaml, "w");
	if (!ASSERT_OK_PTR(f, "experiment"))
		goto out;
	fprintf(f,
		"title: \"http probes\"\n"
		"cell: { cgroup: %s }\n"
		"control: { cgroup: %s }\n"
		"metrics:\n"
		"  up: { source: http, url: \"http://127.0.0.1:%s/metrics\", timeout: 300ms,\n"
		"        control_url: \"http://127.0.0.1:%d/metrics\" }\n"
		"  lat: { source: http, stat: latency, url: \"http://127.0.0.1:%s/\", "
		"timeout: 300ms }\n"
		"steady_state: { metric: up, expected: \">= 1\" }\n"
		"fault: { type: connect-error, probability: 100%%, errno: ECONNREFUSED,\n"
		"         match: { proto: tcp, ports: [9] } }\n"
		"window: 500ms\nbaseline: 1s\nduration: 2s\nrecovery: 1s\n"
		"abort_when: \"up < 1 OR control.up > 0 OR lat > 250ms\"\n",
		cell.parent, ctl.parent, port, down, port);
	fclose(f);
	rc = trun_fc(out, sizeof(out), a);
	if (!ASSERT_EQ(rc, 0, "both sides measured, the rule false: exit 0"))
		test__log("%s", out);
	snprintf(cmd, sizeof(cmd), "cat %s/*.jsonl > %s/j.txt 2>/dev/null", jdir, dir);
	tsh("%s", cmd);
	snprintf(cmd, sizeof(cmd), "%s/j.txt", dir);
	if (fc_read_file(cmd, jbuf, sizeof(jbuf)) < 0)
		jbuf[0] = 0;
	ASSERT_STRSTR(jbuf, "\"cell\":{\"up\":1,\"lat\":0.", "cell: up, latency in seconds");
	ASSERT_STRSTR(jbuf, "\"control\":{\"up\":0,\"lat\":null}",
		      "control: down is 0, and lat has no control side");
	ASSERT_STRSTR(jbuf, "\"verified\":true", "rollback verified");
	tinventory_as_before(&before, "inventory as before");
out:
	if (wp > 0) {
		kill(wp, SIGKILL);
		twait(wp, 5000);
	}
	if (wfd >= 0)
		close(wfd);
	fc_inventory_free(&before);
	tcell_destroy(&ctl);
	tcell_destroy(&cell);
	tsh("rm -rf %s", dir);
}

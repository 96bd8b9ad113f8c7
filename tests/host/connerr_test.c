// SPDX-License-Identifier: BSD-2-Clause
/*
 * connect-error and send-error: the victim gets exactly the configured errno, at the configured
 * rate; outside the cell every call succeeds; connected and unconnected UDP behave as the
 * kernel's hooks dictate (sendmsg hooks see only unconnected sends).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/host.h"
#include "lib/net.h"
#include "lib/test.h"

#define Z 3.89

/* count of errno E in a connect_many line ("ok=12 e111=3"), or of successes for E = 0 */
static int field(const char *line, int e)
{
	char key[16];
	const char *p;

	snprintf(key, sizeof(key), e ? "e%d=" : "ok=", e);
	p = strstr(line, key);
	return p ? atoi(p + strlen(key)) : 0;
}

static int connects(const char *cg, const char *netns, const char *host, const char *port, int n,
		    bool udp, char *line, size_t len)
{
	char cnt[16],
	    *a[] = { "connect_many", (char *)host, (char *)port, cnt, udp ? "udp" : NULL, NULL };
	int fd, err;
	pid_t p;

	snprintf(cnt, sizeof(cnt), "%d", n);
	p = tspawn(cg, netns, a, &fd);
	err = tread_line(fd, line, len, 120000);
	close(fd);
	twait(p, 10000);
	return err;
}

FC_TEST(connerr_errno_and_rate, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	char *sink[] = { "tcp_sink", "10.200.0.2", "7400", NULL }, line[256];
	struct tcell cell = {}, out = {};
	struct tnet net = {};
	struct tinject t;
	int kfd = -1;
	pid_t kp = 0;

	if (!ASSERT_OK(tcell_create(&cell, "ce", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&out, "ceout", NULL), "outside") ||
	    !ASSERT_OK(tnet_create(&net, "ce"), "netns"))
		goto out;
	kp = tspawn(NULL, net.peer_path, sink, &kfd);
	if (!ASSERT_OK(tread_line(kfd, line, sizeof(line), 10000), "listener ready"))
		goto out;
	if (test__start_subtest("rate_30pct")) {
		char *a[] = { "connect-error", "--cell",	cell.parent, "--errno",
			      "ETIMEDOUT",     "--probability", "30%",	     "--ports",
			      "7400",	       "--duration",	"5m",	     NULL };
		const int n = 2000;
		int fails;

		if (tinject_start(&t, a)) {
			connects(cell.child, net.path, "10.200.0.2", "7400", n, false, line,
				 sizeof(line));
			tinject_stop(&t, SIGTERM);
			fails = field(line, ETIMEDOUT);
			test__log("%s (expected %d ± %.0f ETIMEDOUT)", line, n * 3 / 10,
				  Z * sqrt(n * 0.3 * 0.7));
			ASSERT_EQ(field(line, 0) + fails, n, "only successes and ETIMEDOUT");
			ASSERT_LE(fabs(fails - n * 0.3), Z * sqrt(n * 0.3 * 0.7), "rate at α=1e-4");
			ASSERT_EQ(t.injected, fails, "counter = errors the victims saw");
		}
	}
	if (test__start_subtest("weighted_errnos")) {
		char *a[] = { "connect-error",
			      "--cell",
			      cell.parent,
			      "--errno",
			      "ECONNREFUSED:3,EHOSTUNREACH:1",
			      "--duration",
			      "5m",
			      NULL };
		const int n = 2000;
		int refused, unreach;

		if (tinject_start(&t, a)) {
			connects(cell.child, net.path, "10.200.0.2", "7400", n, false, line,
				 sizeof(line));
			tinject_stop(&t, SIGTERM);
			refused = field(line, ECONNREFUSED);
			unreach = field(line, EHOSTUNREACH);
			test__log("%s", line);
			ASSERT_EQ(refused + unreach, n, "every connect failed with one of the two");
			ASSERT_LE(fabs(refused - n * 0.75), Z * sqrt(n * 0.75 * 0.25),
				  "weights 3:1 at α=1e-4");
		}
	}
	if (test__start_subtest("outside_succeeds")) {
		char *a[] = { "connect-error", "--cell", cell.parent, "--duration", "5m", NULL };

		if (tinject_start(&t, a)) {
			connects(out.child, net.path, "10.200.0.2", "7400", 200, false, line,
				 sizeof(line));
			tinject_stop(&t, SIGTERM);
			ASSERT_EQ(field(line, 0), 200, "outside the cell: every connect succeeds");
			ASSERT_EQ(t.injected, 0, "nothing injected");
		}
	}
	if (test__start_subtest("ipv6_and_cidr")) {
		char *a[] = {
			"connect-error", "--cell",	 cell.parent,  "--errno", "ENETUNREACH",
			"--cidrs",	 "fd00:fc::/64", "--duration", "5m",	  NULL
		};
		char v6[256];

		if (tinject_start(&t, a)) {
			connects(cell.child, net.path, "fd00:fc::2", "7400", 50, false, v6,
				 sizeof(v6));
			connects(cell.child, net.path, "10.200.0.2", "7400", 50, false, line,
				 sizeof(line));
			tinject_stop(&t, SIGTERM);
			ASSERT_EQ(field(v6, ENETUNREACH), 50, "v6 in the CIDR: ENETUNREACH");
			ASSERT_EQ(field(line, 0), 50, "v4 outside the CIDRs: connects");
		}
	}
	if (test__start_subtest("udp_connect_and_send")) {
		char *ce[] = { "connect-error", "--cell", cell.parent,	"--proto", "udp",
			       "--errno",	"EACCES", "--duration", "5m",	   NULL };
		char *se[] = { "send-error", "--cell",	   cell.parent, "--errno",
			       "ENETDOWN",   "--duration", "5m",	NULL };
		char *uns[] = { "udp_seq_send", "10.200.0.2", "7500", "20", NULL };
		char *con[] = { "udp_seq_send", "10.200.0.2", "7500", "20", "connected", NULL };
		char *rcv[] = { "udp_seq_recv", "10.200.0.2", "7500", NULL };
		int fd, rfd, sent, fails, e;
		pid_t p, rp;

		/* a receiver, so no ICMP port-unreachable turns connected sends into errors */
		rp = tspawn(NULL, net.peer_path, rcv, &rfd);
		ASSERT_OK(tread_line(rfd, line, sizeof(line), 10000), "udp receiver ready");
		/* connected UDP is refused at connect() */
		if (tinject_start(&t, ce)) {
			connects(cell.child, net.path, "10.200.0.2", "7500", 10, true, line,
				 sizeof(line));
			tinject_stop(&t, SIGTERM);
			ASSERT_EQ(field(line, EACCES), 10, "UDP connect() gets EACCES");
		}
		/* send-error: unconnected sends fail, a connected socket's sends are not seen */
		if (tinject_start(&t, se)) {
			p = tspawn(cell.child, net.path, uns, &fd);
			tread_line(fd, line, sizeof(line), 30000);
			close(fd);
			twait(p, 10000);
			sent = fails = e = -1;
			sscanf(line, "sent=%d fails=%d errno=%d", &sent, &fails, &e);
			ASSERT_EQ(fails, 20, "every unconnected send failed");
			ASSERT_EQ(e, ENETDOWN, "with ENETDOWN");
			p = tspawn(cell.child, net.path, con, &fd);
			tread_line(fd, line, sizeof(line), 30000);
			close(fd);
			twait(p, 10000);
			sscanf(line, "sent=%d fails=%d", &sent, &fails);
			ASSERT_EQ(sent, 20, "connected UDP sends are not hooked by sendmsg");
			tinject_stop(&t, SIGTERM);
		}
		kill(rp, SIGTERM);
		twait(rp, 5000);
		close(rfd);
	}
out:
	if (kp > 0) {
		kill(kp, SIGTERM);
		twait(kp, 5000);
		close(kfd);
	}
	tnet_destroy(&net);
	tcell_destroy(&cell);
	tcell_destroy(&out);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * network-loss and network-blackhole with real traffic through `faultcell inject`: a cell (the
 * workload in a child cgroup) in netns A, a receiver in netns B across a veth pair, and a
 * sender outside the cell in the same netns. Loss is counted end to end by sequence numbers
 * and must equal the fault's own drop counter exactly; buffers never overflow (RcvbufErrors
 * Δ 0), so nothing else can pass for injected loss.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/inventory.h"
#include "lib/host.h"
#include "lib/net.h"
#include "lib/test.h"

#define PORT 7000
#define Z    3.89 /* two-sided α = 1e-4 per assertion: a run of ~20 stays green by chance */

struct env {
	struct tcell cell, out;
	struct tnet net;
};

static bool env_setup(struct env *e, const char *name)
{
	memset(e, 0, sizeof(*e));
	return ASSERT_OK(tcell_create(&e->cell, name, NULL), "cell") &&
	       ASSERT_OK(tcell_create(&e->out, "outside", NULL), "outside cgroup") &&
	       ASSERT_OK(tnet_create(&e->net, name), "netns pair");
}

static void env_teardown(struct env *e)
{
	tnet_destroy(&e->net);
	tcell_destroy(&e->cell);
	tcell_destroy(&e->out);
}

struct udp_res {
	int sent, uniq, reorder;
	long long rcvbuf_d, inerr_d;
};

/* COUNT sequence-numbered datagrams from (cg, netns) to host:PORT in the other netns. */
static bool udp_run(const char *snd_cg, const char *snd_ns, const char *rcv_cg, const char *rcv_ns,
		    const char *host, int count, const char *mode, struct udp_res *r)
{
	char port[16], n[16], line[128];
	char *rargv[] = { "udp_seq_recv", (char *)host, port, NULL };
	char *sargv[] = { "udp_seq_send", (char *)host, port, n, (char *)mode, NULL };
	long long rb0, ie0;
	int rfd, sfd, fails = 0, err;
	pid_t rp, sp;

	memset(r, 0, sizeof(*r));
	snprintf(port, sizeof(port), "%d", PORT);
	snprintf(n, sizeof(n), "%d", count);
	rp = tspawn(rcv_cg, rcv_ns, rargv, &rfd);
	if (!ASSERT_OK(tread_line(rfd, line, sizeof(line), 10000), "receiver ready"))
		return false;
	rb0 = tsnmp(rcv_ns, "Udp", "RcvbufErrors");
	ie0 = tsnmp(rcv_ns, "Udp", "InErrors");
	sp = tspawn(snd_cg, snd_ns, sargv, &sfd);
	err = tread_line(sfd, line, sizeof(line), 60000);
	sscanf(line, "sent=%d fails=%d", &r->sent, &fails);
	close(sfd);
	twait(sp, 10000);
	if (!ASSERT_OK(err, "sender finished") || !ASSERT_EQ(fails, 0, "sends refused locally"))
		goto out;
	/* the receiver stops on the end marker that follows the data on the same path */
	err = tread_line(rfd, line, sizeof(line), 20000);
	ASSERT_OK(err, "receiver saw the end marker");
	sscanf(line, "total=%*d uniq=%d reorder=%d", &r->uniq, &r->reorder);
	r->rcvbuf_d = tsnmp(rcv_ns, "Udp", "RcvbufErrors") - rb0;
	r->inerr_d = tsnmp(rcv_ns, "Udp", "InErrors") - ie0;
out:
	kill(rp, SIGTERM);
	twait(rp, 5000);
	close(rfd);
	return !err;
}

/* Binomial check at α = 1e-4. */
static void assert_binomial(long long k, long long n, double p, const char *what)
{
	double mean = n * p, sd = sqrt(n * p * (1 - p));

	test__log("%s: %lld of %lld (expected %.1f ± %.1f)", what, k, n, mean, Z * sd);
	ASSERT_LE(fabs(k - mean), Z * sd + 0.5, what);
}

static void udp_loss_case(struct env *e, const char *prob, double p, const char *dir)
{
	char port[16];
	bool ingress = !strcmp(dir, "in");
	/* the cell's own port when it receives, the peer's when it sends */
	char *a[] = { "network-loss", "--cell",
		      e->cell.parent, "--netns",
		      e->net.path,    "--probability",
		      (char *)prob,   "--direction",
		      (char *)dir,    "--proto",
		      "udp",	      ingress ? "--local-ports" : "--ports",
		      port,	      "--duration",
		      "5m",	      NULL };
	struct udp_res r;
	struct tinject t;
	int lost;

	/* ingress: the cell receives in netns A, the peer sends from netns B */
	snprintf(port, sizeof(port), "%d", PORT);
	if (!tinject_start(&t, a))
		return;
	if (ingress)
		udp_run(NULL, e->net.peer_path, e->cell.child, e->net.path, "10.200.0.1", 20000,
			NULL, &r);
	else
		udp_run(e->cell.child, e->net.path, NULL, e->net.peer_path, "10.200.0.2", 20000,
			NULL, &r);
	tinject_stop(&t, SIGTERM);
	ASSERT_EQ(t.status, 5, "inject exits 5 when stopped by SIGTERM");
	lost = r.sent - r.uniq;
	ASSERT_EQ(r.sent, 20000, "all sent");
	ASSERT_EQ(lost, t.injected, "end-to-end loss equals the drop counter exactly");
	ASSERT_EQ(r.rcvbuf_d, 0, "no receive-buffer overflow (RcvbufErrors Δ)");
	ASSERT_EQ(r.inerr_d, ingress ? t.injected : 0,
		  ingress ? "InErrors Δ = drops at ingress" : "InErrors Δ = 0 at egress");
	ASSERT_EQ(t.inert_heartbeat, 0, "heartbeat never lapsed during the measurement");
	if (t.first_hit_ms > 0)
		test__record("p7_arm_to_first_drop_ms", t.first_hit_ms, "ms");
	assert_binomial(lost, r.sent, p, "loss within the α=1e-4 binomial interval");
}

FC_TEST(netloss_udp_egress, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct env e;

	if (!env_setup(&e, "nle"))
		goto out;
	if (test__start_subtest("p10"))
		udp_loss_case(&e, "10%", 0.10, "out");
	if (test__start_subtest("p50"))
		udp_loss_case(&e, "0.5", 0.50, "out");
	if (test__start_subtest("ingress_p10"))
		udp_loss_case(&e, "10%", 0.10, "in");
	if (test__start_subtest("outside_loses_nothing")) {
		char *a[] = { "network-loss", "--cell",	       e.cell.parent, "--netns",
			      e.net.path,     "--probability", "100%",	      "--proto",
			      "udp",	      "--duration",    "5m",	      NULL };
		struct udp_res r;
		struct tinject t;

		if (tinject_start(&t, a)) {
			udp_run(e.out.child, e.net.path, NULL, e.net.peer_path, "10.200.0.2", 2000,
				NULL, &r);
			tinject_stop(&t, SIGTERM);
			ASSERT_EQ(r.uniq, 2000, "outside the cell: every packet arrives");
			ASSERT_EQ(t.injected, 0, "nothing injected");
		}
	}
out:
	env_teardown(&e);
}

/* 100% loss with a filter: matching traffic all lost, the rest all delivered. */
static void filter_case(struct env *e, char *const extra[], const char *cg, const char *host,
			int expect_lost, const char *what)
{
	char *a[40] = { "network-loss", "--cell", e->cell.parent, "--netns", e->net.path,
			"--duration",	"5m" };
	struct udp_res r;
	struct tinject t;
	int n = 7;

	for (int i = 0; extra[i] && n < 38; i++)
		a[n++] = extra[i];
	a[n] = NULL;
	if (!tinject_start(&t, a))
		return;
	udp_run(cg, e->net.path, NULL, e->net.peer_path, host, 500, NULL, &r);
	tinject_stop(&t, SIGTERM);
	ASSERT_EQ(r.sent - r.uniq, expect_lost, what);
	ASSERT_EQ(t.injected, expect_lost, "drop counter agrees");
}

FC_TEST(netloss_filters, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct env e;

	if (!env_setup(&e, "nlf"))
		goto out;
	if (test__start_subtest("port_other")) {
		char *x[] = { "--probability", "100%", "--ports", "7100-7200", NULL };

		filter_case(&e, x, e.cell.child, "10.200.0.2", 0, "other remote port: untouched");
	}
	if (test__start_subtest("port_match")) {
		char *x[] = { "--probability", "100%", "--ports", "80,6990-7000", NULL };

		filter_case(&e, x, e.cell.child, "10.200.0.2", 500,
			    "matching port range: all lost");
	}
	if (test__start_subtest("local_port_other")) {
		char *x[] = { "--probability", "100%", "--local-ports", "7000", NULL };

		/* the sender's ephemeral port is not 7000 */
		filter_case(&e, x, e.cell.child, "10.200.0.2", 0, "other local port: untouched");
	}
	if (test__start_subtest("proto")) {
		char *x[] = { "--probability", "100%", "--proto", "tcp", NULL };

		filter_case(&e, x, e.cell.child, "10.200.0.2", 0, "tcp-only fault: udp untouched");
	}
	if (test__start_subtest("cidr4")) {
		char *x[] = { "--probability", "100%",		"--ports", "7000",
			      "--cidrs",       "10.200.0.0/30", NULL };
		char *y[] = { "--probability",
			      "100%",
			      "--ports",
			      "7000",
			      "--cidrs",
			      "10.200.0.9/32,fd00:fc::2/128",
			      NULL };

		filter_case(&e, x, e.cell.child, "10.200.0.2", 500, "peer inside the CIDR: lost");
		filter_case(&e, y, e.cell.child, "10.200.0.2", 0, "peer outside the CIDRs: kept");
	}
	if (test__start_subtest("cidr6")) {
		char *x[] = { "--probability", "100%",	       "--ports", "7000",
			      "--cidrs",       "fd00:fc::/64", NULL };

		filter_case(&e, x, e.cell.child, "fd00:fc::2", 500, "v6 peer in the v6 CIDR: lost");
		filter_case(&e, x, e.cell.child, "10.200.0.2", 0, "v4 peer, v6-only CIDRs: kept");
	}
	if (test__start_subtest("direction_in_only")) {
		char *x[] = { "--probability", "100%", "--direction", "in", NULL };

		filter_case(&e, x, e.cell.child, "10.200.0.2", 0, "ingress-only fault: sends kept");
	}
	if (test__start_subtest("count_exact")) {
		char *x[] = { "--probability", "100%", "--ports", "7000", "--count", "37", NULL };

		filter_case(&e, x, e.cell.child, "10.200.0.2", 37, "count: exactly 37 lost");
	}
	if (test__start_subtest("blackhole")) {
		char *a[] = {
			"network-blackhole", "--cell",	   e.cell.parent, "--netns", e.net.path,
			"--cidrs",	     "10.200.0.2", "--duration",  "5m",	     NULL
		};
		struct udp_res r;
		struct tinject t;

		/* both directions by default: the cell's sends vanish, and so would replies */
		if (tinject_start(&t, a)) {
			udp_run(e.cell.child, e.net.path, NULL, e.net.peer_path, "fd00:fc::2", 200,
				NULL, &r);
			ASSERT_EQ(r.uniq, 200, "v6 peer not in the blackhole: all delivered");
			tinject_stop(&t, SIGTERM);
			ASSERT_EQ(t.injected, 0, "nothing dropped for it");
		}
	}
out:
	env_teardown(&e);
}

/* TCP from the cell with egress loss: the sender retransmits what was stolen. */
static void tcp_case(struct env *e, const char *cg, const char *prob, long long *retrans,
		     long long *probes, long long *injected)
{
	char *a[] = { "network-loss",  "--cell",     e->cell.parent, "--netns", e->net.path,
		      "--probability", (char *)prob, "--proto",	     "tcp",	"--ports",
		      "7300",	       "--duration", "5m",	     NULL };
	/* both ends on one CPU: veth's per-CPU backlogs would reorder on their own (pin_cpu0) */
	char *sink[] = { "tcp_sink", "10.200.0.2", "7300", "pin", NULL };
	char *snd[] = { "tcp_send", "10.200.0.2", "7300", "8000000", "pin", NULL };
	char line[128];
	long long r0, p0, d0, d1, d2;
	struct tinject t;
	int kfd, sfd;
	pid_t kp, sp;

	*retrans = *probes = *injected = -1;
	kp = tspawn(NULL, e->net.peer_path, sink, &kfd);
	if (!ASSERT_OK(tread_line(kfd, line, sizeof(line), 10000), "sink ready"))
		goto out;
	if (!tinject_start(&t, a))
		goto out;
	r0 = tsnmp(e->net.path, "Tcp", "RetransSegs");
	p0 = tnetstat(e->net.path, "TcpExt", "TCPLossProbes");
	d0 = tnetstat(e->net.path, "TcpExt", "TCPDSACKRecvSegs");
	d1 = tnetstat(e->net.path, "TcpExt", "TCPTimeouts");
	d2 = tnetstat(e->net.path, "TcpExt", "TCPSpuriousRTOs");
	sp = tspawn(cg, e->net.path, snd, &sfd);
	ASSERT_OK(tread_line(sfd, line, sizeof(line), 120000), "transfer done");
	ASSERT_STREQ(line, "sent 8000000", "sender finished");
	close(sfd);
	twait(sp, 10000);
	ASSERT_OK(tread_line(kfd, line, sizeof(line), 60000), "sink finished");
	ASSERT_STREQ(line, "got 8000000", "every byte arrived despite the loss");
	*retrans = tsnmp(e->net.path, "Tcp", "RetransSegs") - r0;
	*probes = tnetstat(e->net.path, "TcpExt", "TCPLossProbes") - p0;
	/* what kind of retransmits they were, for whoever reads a failure */
	test__log("TcpExt Δ: TCPDSACKRecvSegs %lld (spurious, the peer had them), TCPTimeouts "
		  "%lld, TCPSpuriousRTOs %lld",
		  tnetstat(e->net.path, "TcpExt", "TCPDSACKRecvSegs") - d0,
		  tnetstat(e->net.path, "TcpExt", "TCPTimeouts") - d1,
		  tnetstat(e->net.path, "TcpExt", "TCPSpuriousRTOs") - d2);
	tinject_stop(&t, SIGTERM);
	*injected = t.injected;
out:
	kill(kp, SIGTERM);
	twait(kp, 5000);
	close(kfd);
}

FC_TEST(netloss_tcp_retransmits, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	long long retrans, probes, injected;
	struct env e;

	if (!env_setup(&e, "nlt"))
		goto out;
	if (test__start_subtest("cell_5pct")) {
		tcp_case(&e, e.cell.child, "5%", &retrans, &probes, &injected);
		test__log("dropped %lld, TcpRetransSegs Δ %lld", injected, retrans);
		ASSERT_GT(injected, 0, "segments dropped");
		/* a stolen segment is a real loss: TCP retransmits (a local drop would not) */
		ASSERT_GE(retrans * 2, injected, "TcpRetransSegs Δ ≥ 0.5 × drops");
	}
	/*
	 * Without loss the only retransmits are tail-loss probes: TCP sends one when an ACK is
	 * late (a slow emulated CPU), not because a segment was lost, and it counts in
	 * RetransSegs. So: no retransmit beyond the probes sent (TcpExt TCPLossProbes).
	 */
	if (test__start_subtest("cell_0pct")) {
		tcp_case(&e, e.cell.child, "0%", &retrans, &probes, &injected);
		test__log("TcpRetransSegs Δ %lld, TCPLossProbes Δ %lld", retrans, probes);
		ASSERT_EQ(injected, 0, "nothing dropped at 0%");
		ASSERT_GE(probes, 0, "TcpExt TCPLossProbes read");
		ASSERT_LE(retrans, probes, "no retransmits beyond tail-loss probes");
	}
	if (test__start_subtest("outside_5pct")) {
		tcp_case(&e, e.out.child, "5%", &retrans, &probes, &injected);
		test__log("TcpRetransSegs Δ %lld, TCPLossProbes Δ %lld", retrans, probes);
		ASSERT_EQ(injected, 0, "outside the cell: nothing dropped");
		ASSERT_GE(probes, 0, "TcpExt TCPLossProbes read");
		ASSERT_LE(retrans, probes,
			  "outside the cell: no retransmits beyond tail-loss probes");
	}
out:
	env_teardown(&e);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * network-latency through `faultcell inject`, measured with our own µs-timestamped echo.
 *
 * Netns A holds the cell and an outside cgroup; netns B an echo server. Three veth pairs join
 * them: the fault's device (10.200.0.0/24), a twin with netem (10.201.0.0/24) and an untouched
 * twin (10.202.0.0/24). One worker sends a probe on every path per tick, so the faulted, the
 * netem and the clean paths are measured in the same moments: under QEMU/TCG on a shared host
 * the noise moves in time, and only an interleaved comparison is fair.
 *
 * Decided from the probe, never from the kernel's name: where sch_fq or the EDT helper is
 * missing, inject must exit 4 naming it; where they exist, the delays are measured.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "host/netlat_util.h"
#include "lib/host.h"
#include "lib/net.h"
#include "lib/test.h"

#define PORT 7300

/* 200 probes per path keep the VM tier lean; bench/p3-netlat.sh asks for more */
static int nprobe(void)
{
	const char *e = getenv("FC_NL_PROBES");

	return e && atoi(e) > 0 ? atoi(e) : 200;
}

struct nlenv {
	struct tcell cell, out;
	struct tnet net;
	pid_t echo;
	int echo_fd;
	char base_dump[512];
};

static bool env_setup(struct nlenv *e)
{
	char port[16], cpu[16], line[64];
	char *argv[] = { "lat_echo", "0.0.0.0", port, cpu, NULL };

	memset(e, 0, sizeof(*e));
	e->echo_fd = -1;
	snprintf(port, sizeof(port), "%d", PORT);
	snprintf(cpu, sizeof(cpu), "%d", tnl_cpu());
	if (!ASSERT_OK(tcell_create(&e->cell, "nlc", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&e->out, "nlo", NULL), "outside cgroup") ||
	    !ASSERT_OK(tnet_create(&e->net, "nl"), "netns pair"))
		return false;
	/* the netem twin and the clean twin, in the same two namespaces */
	if (!ASSERT_OK(
		tsh("set -e; for i in 1 2; do ip -n %s link add nl$i type veth peer name "
		    "nl${i}p netns %s; ip -n %s addr add 10.20$i.0.1/24 dev nl$i;"
		    "ip -n %s addr add 10.20$i.0.2/24 dev nl${i}p; ip -n %s link set nl$i up;"
		    "ip -n %s link set nl${i}p up; done",
		    e->net.name, e->net.peer_name, e->net.name, e->net.peer_name, e->net.name,
		    e->net.peer_name),
		"twin veth pairs"))
		return false;
	e->echo = tspawn(NULL, e->net.peer_path, argv, &e->echo_fd);
	if (!ASSERT_GT(e->echo, 0, "echo") ||
	    !ASSERT_OK(tread_line(e->echo_fd, line, sizeof(line), 20000), "echo ready"))
		return false;
	return ASSERT_OK(
	    tnl_qdisc_dump(e->net.name, e->net.dev_a, e->base_dump, sizeof(e->base_dump)),
	    "qdisc dump before");
}

static void env_teardown(struct nlenv *e)
{
	if (e->echo > 0) {
		kill(e->echo, SIGKILL);
		twait(e->echo, 5000);
	}
	if (e->echo_fd >= 0)
		close(e->echo_fd);
	tnet_destroy(&e->net);
	tcell_destroy(&e->cell);
	tcell_destroy(&e->out);
}

/* "CGROUP:MODE:HOST:PORT" for lat_mix; @path: 0 faulted, 1 netem twin, 2 clean twin. */
static char *spec(char *buf, size_t len, const char *cg, const char *mode, int path)
{
	snprintf(buf, len, "%s:%s:10.20%d.0.2:%d", cg, mode, path, PORT);
	return buf;
}

static bool start_fault(struct nlenv *e, struct tinject *t, const char *delay)
{
	char *a[] = { "network-latency", "--cell",     e->cell.parent, "--netns",
		      e->net.path,	 "--delay",    (char *)delay,  "--devices",
		      e->net.dev_a,	 "--duration", "5m",	       NULL };

	return tinject_start(t, a);
}

static void stop_fault(struct nlenv *e, struct tinject *t)
{
	char dump[512];

	tinject_stop(t, SIGTERM);
	ASSERT_EQ(t->status, 5, "inject exits 5 on SIGTERM");
	ASSERT_STRSTR(t->text, "rollback: verified", "rollback verified");
	if (ASSERT_OK(tnl_qdisc_dump(e->net.name, e->net.dev_a, dump, sizeof(dump)), "dump"))
		ASSERT_STREQ(dump, e->base_dump, "qdisc dump as before");
}

static void log_rtt(const char *what, const struct tnl_rtt *r)
{
	test__log("%-24s n=%d lost=%d p1=%.3f p50=%.3f p99=%.3f max=%.3f ms reorder=%d", what, r->n,
		  r->lost, r->p1, r->p50, r->p99, r->max, r->reorder);
}

/*
 * One interleaved measurement of @k paths, the untouched reference at @clean. The assertions
 * resolve 0.5 ms; when the reference itself spreads by more than 1.5 ms between p1 and p50
 * (quiet guests: 0.3-0.5 ms; a starved TCG guest: 5 ms and more) the instrument cannot resolve
 * them, so measure again, up to three times in all, and keep the last.
 */
static bool mix_quiet(struct nlenv *e, char *const specs[], int k, struct tnl_rtt *r, int clean)
{
	bool ok = false;

	for (int attempt = 1; attempt <= 3; attempt++) {
		ok = tnl_mix(e->net.path, nprobe(), 1000, specs, k, r);
		if (!ok || r[clean].p50 - r[clean].p1 <= 1.5)
			break;
		test__log("attempt %d of 3: the guest was starved (untouched path p1 %.3f, p50 "
			  "%.3f ms)",
			  attempt, r[clean].p1, r[clean].p50);
	}
	return ok;
}

/* One requested delay: the UDP paths interleaved, then (at 10 ms) TCP and the leak. */
static void delay_case(struct nlenv *e, int ms)
{
	char s[6][4200], d[16], name[64];
	char *specs[6];
	struct tnl_rtt r[6];
	struct tinject t;
	double want = ms, ours, netem;

	snprintf(d, sizeof(d), "%dms", ms);
	if (!ASSERT_OK(tsh("tc -n %s qdisc add dev nl1 root netem delay %dms limit 10000",
			   e->net.name, ms),
		       "netem on the twin"))
		return;
	if (!start_fault(e, &t, d))
		goto out_netem;
	specs[0] = spec(s[0], sizeof(s[0]), e->cell.child, "udpc", 0);
	specs[1] = spec(s[1], sizeof(s[1]), e->out.child, "udpc", 0);
	specs[2] = spec(s[2], sizeof(s[2]), e->out.child, "udpc", 1);
	specs[3] = spec(s[3], sizeof(s[3]), e->out.child, "udpc", 2);
	/* warm up fq's, netem's and the program's paths: TCG translates code on first use */
	tnl_mix(e->net.path, 30, 1000, specs, 4, r);
	if (mix_quiet(e, specs, 4, r, 3)) {
		log_rtt("cell udp, ours", &r[0]);
		log_rtt("outside udp, same dev", &r[1]);
		log_rtt("outside udp, netem", &r[2]);
		log_rtt("outside udp, clean", &r[3]);
		ours = r[0].p50 - r[3].p50;
		netem = r[2].p50 - r[3].p50;
		test__log("added p50: ours %.3f ms, netem %.3f ms (requested %d ms)", ours, netem,
			  ms);
		ASSERT_EQ(r[0].lost + r[1].lost + r[2].lost + r[3].lost, 0, "no probe lost");
		ASSERT_LE((long long)(1000 * (ours > want ? ours - want : want - ours)),
			  (long long)(1000 * ((netem > want ? netem - want : want - netem) + 0.5)),
			  "|ours - requested| <= |netem - requested| + 0.5 ms at p50 (µs)");
		ASSERT_GE((long long)(1000 * (r[0].p1 - r[3].p1)), (long long)(1000 * (want - 0.1)),
			  "faulted p1 - unfaulted p1 >= requested - 0.1 ms (µs)");
		ASSERT_LE((long long)(1000 * (r[1].p50 - r[3].p50 > 0 ? r[1].p50 - r[3].p50
								      : r[3].p50 - r[1].p50)),
			  500, "outside the cell: p50 within 0.5 ms of the clean path (µs)");
		snprintf(name, sizeof(name), "p3_%dms_ours_added_p50", ms);
		test__record(name, ours, "ms");
		snprintf(name, sizeof(name), "p3_%dms_netem_added_p50", ms);
		test__record(name, netem, "ms");
		snprintf(name, sizeof(name), "p3_%dms_ours_added_p1", ms);
		test__record(name, r[0].p1 - r[3].p1, "ms");
		snprintf(name, sizeof(name), "p3_%dms_netem_added_p1", ms);
		test__record(name, r[2].p1 - r[3].p1, "ms");
	}
	if (ms == 10) {
		/* TCP: the cell's connection delayed, an outside one on the same device not */
		specs[0] = spec(s[0], sizeof(s[0]), e->cell.child, "tcp", 0);
		specs[1] = spec(s[1], sizeof(s[1]), e->out.child, "tcp", 0);
		specs[2] = spec(s[2], sizeof(s[2]), e->out.child, "tcp", 2);
		if (mix_quiet(e, specs, 3, r, 2)) {
			log_rtt("cell tcp, ours", &r[0]);
			log_rtt("outside tcp, same dev", &r[1]);
			log_rtt("outside tcp, clean", &r[2]);
			/* EDT never sends early: every RTT of the cell is at least the delay */
			ASSERT_GE((long long)(1000 * r[0].p1), (long long)(1000 * want),
				  "cell TCP p1 >= requested (µs)");
			ASSERT_LE(
			    (long long)(1000 * (r[1].p50 - r[2].p50 > 0 ? r[1].p50 - r[2].p50
									: r[2].p50 - r[1].p50)),
			    500, "outside TCP: p50 within 0.5 ms of the clean path (µs)");
			test__record("p3_10ms_ours_tcp_added_p50", r[0].p50 - r[2].p50, "ms");
		}
		/*
		 * Unconnected traffic shares fq flows by hash: ICMP from outside with the cell's
		 * echo id lands in the cell's flow, unconnected UDP (other ports) should not.
		 * Measured and reported (describe says so), not asserted: it is fq's behaviour.
		 */
		specs[0] = spec(s[0], sizeof(s[0]), e->cell.child, "icmpx", 0);
		specs[1] = spec(s[1], sizeof(s[1]), e->out.child, "icmpx", 0);
		specs[2] = spec(s[2], sizeof(s[2]), e->out.child, "icmpx", 2);
		specs[3] = spec(s[3], sizeof(s[3]), e->cell.child, "udp", 0);
		specs[4] = spec(s[4], sizeof(s[4]), e->out.child, "udp", 0);
		specs[5] = spec(s[5], sizeof(s[5]), e->out.child, "udp", 2);
		if (tnl_mix(e->net.path, nprobe(), 1000, specs, 6, r)) {
			log_rtt("cell icmp, ours", &r[0]);
			log_rtt("outside icmp same id", &r[1]);
			log_rtt("outside icmp, clean", &r[2]);
			log_rtt("cell udp unconn, ours", &r[3]);
			log_rtt("outside udp unconn", &r[4]);
			log_rtt("outside udp unconn, clean", &r[5]);
			ASSERT_GE((long long)(1000 * r[0].p1), (long long)(1000 * want),
				  "cell ICMP p1 >= requested (µs)");
			test__record("leak_10ms_outside_icmp_same_flow_added_p50",
				     r[1].p50 - r[2].p50, "ms");
			test__record("leak_10ms_outside_udp_unconnected_added_p50",
				     r[4].p50 - r[5].p50, "ms");
		}
	}
	stop_fault(e, &t);
out_netem:
	tsh("tc -n %s qdisc del dev nl1 root 2>/dev/null", e->net.name);
}

FC_TEST(netlat_delay, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	char why[512], s[4][4200], *specs[4];
	struct tnl_rtt r[4];
	struct nlenv e;

	if (!tnl_available(why, sizeof(why))) {
		test__skip("this kernel lacks %s: netlat_refusal checks the exit 4", why);
		return;
	}
	if (!env_setup(&e))
		goto out;
	/* warm up: TCG translates each new kernel path the first time it runs (slowly) */
	specs[0] = spec(s[0], sizeof(s[0]), e.cell.child, "udpc", 0);
	specs[1] = spec(s[1], sizeof(s[1]), e.out.child, "tcp", 1);
	specs[2] = spec(s[2], sizeof(s[2]), e.out.child, "icmp", 2);
	specs[3] = spec(s[3], sizeof(s[3]), e.cell.child, "udp", 2);
	tnl_mix(e.net.path, 50, 1000, specs, 4, r);
	if (test__start_subtest("1ms"))
		delay_case(&e, 1);
	if (test__start_subtest("10ms"))
		delay_case(&e, 10);
	if (test__start_subtest("100ms"))
		delay_case(&e, 100);
out:
	env_teardown(&e);
}

FC_TEST(netlat_refusal, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	char why[512], out[8192];
	struct tcell cell = {};
	struct tnet net = {};
	bool avail = tnl_available(why, sizeof(why));
	int st;

	if (!ASSERT_OK(tcell_create(&cell, "nlr", NULL), "cell") ||
	    !ASSERT_OK(tnet_create(&net, "nlr"), "netns"))
		goto out;
	char *a[] = { "inject",	   "network-latency", "--cell",	    cell.parent,
		      "--netns",   net.path,	      "--delay",    "10ms",
		      "--devices", net.dev_a,	      "--duration", "30s",
		      NULL };

	if (test__start_subtest("bad_input")) {
		char *b[] = { "inject", "network-latency", "--cell", cell.parent,  "--delay",
			      "10ms",	"--direction",	   "in",     "--duration", "30s",
			      NULL };
		char *c[] = { "inject", "network-latency", "--cell", cell.parent,  "--delay",
			      "8s",	"--jitter",	   "2s",     "--duration", "30s",
			      NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), b), 2, "direction in: exit 2");
		ASSERT_STRSTR(out, "outgoing packets only", "says why");
		ASSERT_EQ(trun_fc(out, sizeof(out), c), 2, "beyond fq's horizon: exit 2");
		ASSERT_STRSTR(out, "horizon", "says why");
	}
	if (!avail) {
		if (test__start_subtest("kernel_lacks_it")) {
			test__log("probe: %s", why);
			st = trun_fc(out, sizeof(out), a);
			ASSERT_EQ(st, 4, "exit 4: this kernel cannot do it");
			/* the probe's first missing mechanism is named in the message */
			ASSERT_TRUE(strstr(out, "sch_fq") || strstr(out, "bpf_skb_set_tstamp"),
				    "names what is missing");
			test__log("%s", out);
		}
		goto out;
	}
	if (test__start_subtest("others_qdisc")) {
		char before[512], after[512];

		/* somebody else's root (a handle of theirs): never replaced, exit 3 */
		if (!ASSERT_OK(tsh("tc -n %s qdisc add dev %s root handle 7: pfifo limit 77",
				   net.name, net.dev_a),
			       "a root qdisc of others"))
			goto out;
		tnl_qdisc_dump(net.name, net.dev_a, before, sizeof(before));
		st = trun_fc(out, sizeof(out), a);
		ASSERT_EQ(st, 3, "exit 3: refused");
		ASSERT_STRSTR(out, "somebody else's", "says whose");
		tnl_qdisc_dump(net.name, net.dev_a, after, sizeof(after));
		ASSERT_STREQ(after, before, "their qdisc untouched");
		ASSERT_STRSTR(after, "pfifo 7:", "theirs still there");
	}
out:
	tnet_destroy(&net);
	tcell_destroy(&cell);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * network-latency's ordering and its qdisc bookkeeping: jitter never reorders a connected
 * UDP flow (netem's does, as a check that the test can see it); on a multi-queue device
 * (ifb with 4 tx queues, default_qdisc fq_codel → mq 0: root) our mq + fq is installed and
 * removed so that the qdisc dump is identical afterwards — after a normal rollback and after
 * SIGKILL of inject, when the guard restores it with no command run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/inventory.h"
#include "core/state.h"
#include "core/util.h"
#include "host/netlat_util.h"
#include "lib/host.h"
#include "lib/net.h"
#include "lib/test.h"

#define PORT 7400

/*
 * 2000 sequence-numbered datagrams on one connected socket from the cell, the sender on one CPU
 * (pin_cpu0 in net_workers.c: veth's per-CPU backlogs reorder on their own); reorders seen.
 */
static bool seq_flow(struct tcell *cell, struct tnet *net, int *sent, int *uniq, int *reorder)
{
	char port[16], line[128];
	char *rargv[] = { "udp_seq_recv", "10.200.0.2", port, NULL };
	char *sargv[] = { "udp_seq_send", "10.200.0.2", port, "2000", "connected", "pin", NULL };
	int rfd, sfd, fails = -1;
	bool ok = false;
	pid_t rp, sp;

	snprintf(port, sizeof(port), "%d", PORT);
	rp = tspawn(NULL, net->peer_path, rargv, &rfd);
	if (!ASSERT_OK(tread_line(rfd, line, sizeof(line), 20000), "receiver ready"))
		goto out;
	sp = tspawn(cell->child, net->path, sargv, &sfd);
	if (ASSERT_OK(tread_line(sfd, line, sizeof(line), 60000), "sender done"))
		sscanf(line, "sent=%d fails=%d", sent, &fails);
	close(sfd);
	twait(sp, 10000);
	/* the end markers share the socket, so they leave after the delayed data */
	if (ASSERT_OK(tread_line(rfd, line, sizeof(line), 30000), "receiver saw the end") &&
	    sscanf(line, "total=%*d uniq=%d reorder=%d", uniq, reorder) == 2)
		ok = ASSERT_EQ(fails, 0, "no send failed");
out:
	kill(rp, SIGTERM);
	twait(rp, 5000);
	close(rfd);
	return ok;
}

static void jitter_case(struct tcell *cell, struct tnet *net, const char *dist)
{
	char *a[] = { "network-latency",
		      "--cell",
		      cell->parent,
		      "--netns",
		      net->path,
		      "--delay",
		      "5ms",
		      "--jitter",
		      !strcmp(dist, "normal") ? "2ms" : "4ms",
		      "--distribution",
		      (char *)dist,
		      "--devices",
		      net->dev_a,
		      "--duration",
		      "5m",
		      NULL };
	int sent = 0, uniq = 0, reorder = -1;
	struct tinject t;

	if (!tinject_start(&t, a))
		return;
	seq_flow(cell, net, &sent, &uniq, &reorder);
	tinject_stop(&t, SIGTERM);
	test__log("%s jitter: sent %d, received %d, reordered %d, delayed %lld", dist, sent, uniq,
		  reorder, t.injected);
	ASSERT_EQ(sent, 2000, "all sent");
	ASSERT_EQ(uniq, sent, "nothing lost in fq");
	ASSERT_EQ(reorder, 0, "no reordering with jitter");
	ASSERT_GE(t.injected, 2000, "every packet of the flow delayed");
	ASSERT_EQ(t.status, 5, "inject exits 5 on SIGTERM");
}

FC_TEST(netlat_no_reorder, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct tcell cell = {};
	struct tnet net = {};
	char why[512];

	if (!tnl_available(why, sizeof(why))) {
		test__skip("this kernel lacks %s: netlat_refusal checks the exit 4", why);
		return;
	}
	if (!ASSERT_OK(tcell_create(&cell, "nlj", NULL), "cell") ||
	    !ASSERT_OK(tnet_create(&net, "nlj"), "netns"))
		goto out;
	if (test__start_subtest("netem_reorders")) {
		int sent = 0, uniq = 0, reorder = 0;

		/* the control: per-packet jitter without flow order does reorder on this path */
		if (ASSERT_OK(tsh("tc -n %s qdisc add dev %s root netem delay 5ms 4ms", net.name,
				  net.dev_a),
			      "netem with jitter")) {
			seq_flow(&cell, &net, &sent, &uniq, &reorder);
			test__log("netem 5ms ± 4ms: %d of %d reordered", reorder, uniq);
			ASSERT_GT(reorder, 0, "netem's jitter reorders (the test can see it)");
			tsh("tc -n %s qdisc del dev %s root", net.name, net.dev_a);
		}
	}
	if (test__start_subtest("uniform"))
		jitter_case(&cell, &net, "uniform");
	if (test__start_subtest("normal"))
		jitter_case(&cell, &net, "normal");
out:
	tnet_destroy(&net);
	tcell_destroy(&cell);
}

struct dump_arg {
	const char *ns, *dev, *want;
};

static bool dump_is(void *p)
{
	struct dump_arg *a = p;
	char now[2048];

	return !tnl_qdisc_dump(a->ns, a->dev, now, sizeof(now)) && !strcmp(now, a->want);
}

static bool state_gone(void *p)
{
	char path[PATH_MAX];

	fc_state_path(p, path, sizeof(path));
	return access(path, F_OK) != 0;
}

FC_TEST(netlat_mq_restore, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct fc_inventory before = {};
	char why[512], saved[64] = "", dump0[2048], dump[2048];
	struct tcell cell = {};
	struct tnet net = {};
	struct dump_arg da;
	struct tinject t;
	uint64_t t0;
	int ms;

	if (!tnl_available(why, sizeof(why))) {
		test__skip("this kernel lacks %s: netlat_refusal checks the exit 4", why);
		return;
	}
	fc_read_file("/proc/sys/net/core/default_qdisc", saved, sizeof(saved));
	saved[strcspn(saved, "\n")] = 0;
	if (!ASSERT_OK(tcell_create(&cell, "nlm", NULL), "cell") ||
	    !ASSERT_OK(tnet_create(&net, "nlm"), "netns") ||
	    !ASSERT_OK(fc_write_file("/proc/sys/net/core/default_qdisc", "fq_codel"), "sysctl") ||
	    !ASSERT_OK(tsh("ip -n %s link add nlifb numtxqueues 4 type ifb && ip -n %s link set "
			   "nlifb up",
			   net.name, net.name),
		       "ifb with 4 tx queues") ||
	    !ASSERT_OK(tnl_qdisc_dump(net.name, "nlifb", dump0, sizeof(dump0)), "dump before"))
		goto out;
	test__log("before:\n%s", dump0);
	if (!ASSERT_STRSTR(dump0, "qdisc mq 0: root", "the kernel made an mq root"))
		goto out;
	ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before");
	char *a[] = { "network-latency", "--cell",     cell.parent, "--netns",
		      net.path,		 "--delay",    "10ms",	    "--devices",
		      "nlifb",		 "--duration", "5m",	    NULL };

	if (test__start_subtest("rollback") && tinject_start(&t, a)) {
		tnl_qdisc_dump(net.name, "nlifb", dump, sizeof(dump));
		test__log("during:\n%s", dump);
		ASSERT_STRSTR(dump, "qdisc mq fc", "our own mq root");
		ASSERT_STRSTR(dump, "qdisc fq ", "fq on its children");
		ASSERT_FALSE(strstr(dump, "fq_codel"), "no kernel child left under ours");
		tinject_stop(&t, SIGTERM);
		ASSERT_EQ(t.status, 5, "inject exits 5 on SIGTERM");
		tnl_qdisc_dump(net.name, "nlifb", dump, sizeof(dump));
		ASSERT_STREQ(dump, dump0, "qdisc dump identical after rollback");
		tinventory_as_before(&before, "inventory as before after rollback");
	}
	if (test__start_subtest("sigkill_guard") && tinject_start(&t, a)) {
		ASSERT_FALSE(dump_is(&(struct dump_arg){ net.name, "nlifb", dump0 }),
			     "ours in place");
		t0 = fc_now_ns();
		kill(t.pid, SIGKILL);
		twait(t.pid, 5000);
		close(t.out);
		da = (struct dump_arg){ net.name, "nlifb", dump0 };
		ms = tpoll(dump_is, &da, 15000);
		ASSERT_GE(ms, 0, "the guard restored the kernel's mq with no command run");
		test__record("netlat_sigkill_to_qdisc_restored_ms", (fc_now_ns() - t0) / 1e6, "ms");
		ASSERT_GE(tpoll(state_gone, t.run, 10000), 0, "state file removed by recover");
		tinventory_as_before(&before, "inventory as before after SIGKILL");
	}
out:
	if (saved[0])
		fc_write_file("/proc/sys/net/core/default_qdisc", saved);
	fc_inventory_free(&before);
	tnet_destroy(&net);
	tcell_destroy(&cell);
}

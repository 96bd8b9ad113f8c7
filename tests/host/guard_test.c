// SPDX-License-Identifier: BSD-2-Clause
/*
 * Cells are subtrees, and nothing outlives its loader: the cell match in skb, task and socket
 * context; the guard after SIGKILL (clsact filter, frozen cell) and after a wedged loader's
 * deadline; TCX links vanishing with their process; the lock released on death.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/inventory.h"
#include "core/state.h"
#include "core/tc.h"
#include "core/util.h"
#include "fc_selftest.h"
#include "lib/bpfstat.h"
#include "lib/holder.h"
#include "lib/host.h"
#include "lib/test.h"

static int run_worker_in(const char *cg, char *const argv[], char *line, size_t len)
{
	int fd, err;
	pid_t p = tspawn(cg, NULL, argv, &fd);

	if (p < 0)
		return p;
	err = tread_line(fd, line, len, 10000);
	close(fd);
	twait(p, 10000);
	return err;
}

FC_TEST(cell_match_subtree, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct tcell top = {};
	char cellp[PATH_MAX + 16], gc[PATH_MAX + 32], sib[PATH_MAX + 16], line[128];
	char *udp[] = { "udp_send", "127.0.0.1", "9", "10", NULL };
	char *sys[] = { "syscalls", "500", NULL };
	struct held h = {};
	int ok = -1, eperm = -1, other;
	uint64_t before;

	/* top/{P/a/b, S}: the cell is P, attached at top; b is a grandchild, S a sibling */
	if (!ASSERT_OK(tcell_create(&top, "match", NULL), "top"))
		return;
	snprintf(cellp, sizeof(cellp), "%s/P", top.parent);
	snprintf(gc, sizeof(gc), "%s/P/a/b", top.parent);
	snprintf(sib, sizeof(sib), "%s/S", top.parent);
	if (!ASSERT_OK(fc_mkdir_p(gc, 0755), "grandchild") ||
	    !ASSERT_OK(fc_mkdir_p(sib, 0755), "sibling"))
		goto out;
	if (test__start_subtest("skb")) {
		char *a[] = { "--cell", cellp, "--attach-cg", top.parent, "--mode", "skb", NULL };

		if (holder_start(&h, a)) {
			run_worker_in(gc, udp, line, sizeof(line));
			sscanf(line, "ok=%d eperm=%d other=%d", &ok, &eperm, &other);
			ASSERT_EQ(eperm, 10, "grandchild's packets match the cell");
			run_worker_in(sib, udp, line, sizeof(line));
			sscanf(line, "ok=%d eperm=%d other=%d", &ok, &eperm, &other);
			ASSERT_EQ(ok, 10, "sibling's packets do not");
		}
		holder_end(&h);
	}
	if (test__start_subtest("task")) {
		char *a[] = { "--cell", cellp, "--mode", "rawtp", NULL };

		if (holder_start(&h, a)) {
			before = tstat(h.stats, ST_TP_HITS);
			run_worker_in(sib, sys, line, sizeof(line));
			ASSERT_EQ(tstat(h.stats, ST_TP_HITS), before,
				  "sibling's syscalls not matched");
			run_worker_in(gc, sys, line, sizeof(line));
			ASSERT_GE(tstat(h.stats, ST_TP_HITS) - before, 500, "grandchild's matched");
		}
		holder_end(&h);
	}
	if (test__start_subtest("socket")) {
		/* a listener outside every cell; connects from the grandchild and the sibling */
		char *a[] = { "--cell", cellp, "--mode", "tpbtf", NULL };
		char *tcp[] = { "tcp_connect", "127.0.0.1", "0", NULL }, port[16];
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(0x7f000001) };
		socklen_t sl = sizeof(sa);
		int lfd = socket(AF_INET, SOCK_STREAM, 0);

		if (!ASSERT_OK(bind(lfd, (void *)&sa, sizeof(sa)), "bind") ||
		    !ASSERT_OK(listen(lfd, 16), "listen") ||
		    !ASSERT_OK(getsockname(lfd, (void *)&sa, &sl), "getsockname")) {
			close(lfd);
			goto out;
		}
		snprintf(port, sizeof(port), "%d", ntohs(sa.sin_port));
		tcp[2] = port;
		if (holder_start(&h, a)) {
			before = tstat(h.stats, ST_SOCK_HITS);
			run_worker_in(sib, tcp, line, sizeof(line));
			ASSERT_STREQ(line, "ok", "sibling connect");
			ASSERT_EQ(tstat(h.stats, ST_SOCK_HITS), before,
				  "sibling's socket not matched");
			run_worker_in(gc, tcp, line, sizeof(line));
			ASSERT_STREQ(line, "ok", "grandchild connect");
			/* SYN_SENT, ESTABLISHED, then FIN_WAIT1... on close: at least two */
			ASSERT_GE(tstat(h.stats, ST_SOCK_HITS) - before, 2, "grandchild's matched");
		}
		holder_end(&h);
		close(lfd);
	}
out:
	tcell_destroy(&top);
}

struct filt_arg {
	const char *netns;
	int ifindex;
};

static bool clsact_gone(void *p)
{
	struct filt_arg *a = p;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	bool gone;

	tnet_enter(a->netns);
	gone = !fc_tc_clsact_exists(a->ifindex);
	setns(self, CLONE_NEWNET);
	close(self);
	return gone;
}

static bool filters_gone(void *p)
{
	struct filt_arg *a = p;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), n;

	tnet_enter(a->netns);
	n = fc_tc_count_filters(a->ifindex, true);
	setns(self, CLONE_NEWNET);
	close(self);
	return n == 0;
}

static bool state_gone(void *p)
{
	char path[PATH_MAX];

	fc_state_path(p, path, sizeof(path));
	return access(path, F_OK) != 0;
}

FC_TEST(guard_sigkill_clsact, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct fc_inventory before = {};
	struct tcell cell = {};
	struct tnet net = {};
	struct held h = {};
	struct filt_arg fa;
	uint64_t t0;
	int ms;

	if (!ASSERT_OK(tcell_create(&cell, "gk", NULL), "cell") ||
	    !ASSERT_OK(tnet_create(&net, "gk"), "netns"))
		goto out;
	ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before");
	char *a[] = { "--cell",	  cell.parent, "--mode",  "clsact", "--netns", net.path,
		      "--ifname", net.dev_a,   "--guard", "--lock", NULL };

	if (!holder_start(&h, a))
		goto out;
	fa = (struct filt_arg){ net.path, net.ifindex_a };
	ASSERT_FALSE(filters_gone(&fa), "filter attached");
	ASSERT_FALSE(state_gone(h.run), "state file written");
	t0 = fc_now_ns();
	kill(h.pid, SIGKILL);
	twait(h.pid, 5000);
	close(h.out);
	h.pid = 0;
	ms = tpoll(clsact_gone, &fa, 10000);
	ASSERT_GE(ms, 0, "guard removed filter and clsact with no command run");
	test__record("guard_sigkill_to_clsact_gone_ms", (fc_now_ns() - t0) / 1e6, "ms");
	ASSERT_GE(tpoll(state_gone, h.run, 10000), 0, "state file removed by recover");
	tinventory_as_before(&before, "inventory as before");
out:
	holder_end(&h);
	fc_inventory_free(&before);
	tnet_destroy(&net);
	tcell_destroy(&cell);
}

FC_TEST(guard_deadline_wedged, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct fc_inventory before = {};
	struct tcell cell = {};
	struct tnet net = {};
	struct held h = {};
	struct filt_arg fa;
	uint64_t t0;
	int ms;

	if (!ASSERT_OK(tcell_create(&cell, "gw", NULL), "cell") ||
	    !ASSERT_OK(tnet_create(&net, "gw"), "netns"))
		goto out;
	ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before");
	char *a[] = { "--cell",	       cell.parent, "--mode",  "clsact",  "--netns",
		      net.path,	       "--ifname",  net.dev_a, "--guard", "--lock",
		      "--deadline-ms", "1000",	    NULL };

	if (!holder_start(&h, a))
		goto out;
	kill(h.pid, SIGSTOP);
	t0 = fc_now_ns();
	fa = (struct filt_arg){ net.path, net.ifindex_a };
	ms = tpoll(clsact_gone, &fa, 10000);
	ASSERT_GE(ms, 0, "guard undid the stopped loader's state after the deadline");
	test__record("guard_wedged_deadline_to_undo_ms", (fc_now_ns() - t0) / 1e6 - 1000, "ms");
	ASSERT_FALSE(state_gone(h.run), "state kept while the loader lives");
	kill(h.pid, SIGKILL);
	twait(h.pid, 5000);
	close(h.out);
	h.pid = 0;
	ASSERT_GE(tpoll(state_gone, h.run, 10000), 0, "recover after death removed the state");
	tinventory_as_before(&before, "inventory as before");
out:
	holder_end(&h);
	fc_inventory_free(&before);
	tnet_destroy(&net);
	tcell_destroy(&cell);
}

static bool thawed(void *p)
{
	return fc_cgroup_is_frozen(p) == 0;
}

FC_TEST(guard_sigkill_thaws, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct fc_inventory before = {};
	char *sl[] = { "sleeper", NULL }, line[32];
	struct tcell cell = {};
	struct held h = {};
	int fd = -1, ms;
	uint64_t t0;
	pid_t w = 0;

	if (!ASSERT_OK(tcell_create(&cell, "gf", NULL), "cell"))
		goto out;
	w = tspawn(cell.child, NULL, sl, &fd);
	ASSERT_OK(tread_line(fd, line, sizeof(line), 10000), "workload ready");
	ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before");
	char *a[] = { "--cell", cell.parent, "--mode", "freeze", "--guard", "--lock", NULL };

	if (!holder_start(&h, a))
		goto out;
	ASSERT_EQ(fc_cgroup_is_frozen(cell.parent), 1, "cell frozen");
	t0 = fc_now_ns();
	kill(h.pid, SIGKILL);
	twait(h.pid, 5000);
	close(h.out);
	h.pid = 0;
	ms = tpoll(thawed, cell.parent, 10000);
	ASSERT_GE(ms, 0, "guard thawed the cell with no command run");
	test__record("guard_sigkill_to_thaw_ms", (fc_now_ns() - t0) / 1e6, "ms");
	ASSERT_GE(tpoll(state_gone, h.run, 10000), 0, "state removed");
	tinventory_as_before(&before, "inventory as before");
out:
	holder_end(&h);
	if (w > 0) {
		kill(w, SIGKILL);
		twait(w, 5000);
		close(fd);
	}
	fc_inventory_free(&before);
	tcell_destroy(&cell);
}

FC_TEST(tcx_link_dies_with_loader, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct fc_inventory before = {};
	struct tcell cell = {};
	struct tnet net = {};
	struct held h = {};
	struct fc_inventory mid;
	char *a[16];
	int n = 0, links = 0;

	if (!ASSERT_OK(tcell_create(&cell, "tcx", NULL), "cell") ||
	    !ASSERT_OK(tnet_create(&net, "tcx"), "netns"))
		goto out;
	ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before");
	a[n++] = "--cell", a[n++] = cell.parent, a[n++] = "--mode", a[n++] = "tcx";
	a[n++] = "--netns", a[n++] = net.path, a[n++] = "--ifname", a[n++] = net.dev_a;
	a[n] = NULL;
	/* kernels before 6.6 have no TCX: the holder fails and that is the skip */
	char *argv[20] = { "holder" }, line[256];
	int fd;

	for (int i = 0; i <= n; i++)
		argv[i + 1] = a[i];
	h.pid = tspawn(NULL, NULL, argv, &fd);
	h.out = fd;
	if (tread_line(fd, line, sizeof(line), 20000) || strncmp(line, "ready", 5)) {
		test__skip("kernel has no TCX (attach type 47): %s", line);
		goto out;
	}
	sscanf(line, "ready run=%39s", h.run);
	if (!fc_inventory_collect(&mid, h.run)) {
		for (int i = 0; i < mid.n; i++)
			links += mid.items[i].kind == INV_LINK;
		fc_inventory_free(&mid);
	}
	ASSERT_EQ(links, 1, "one TCX link of the run in the inventory");
	kill(h.pid, SIGKILL);
	twait(h.pid, 5000);
	close(h.out);
	h.pid = 0;
	/* no guard, no command: the fd-bound link goes with the process; only the file stays */
	char path[PATH_MAX];

	fc_state_path(h.run, path, sizeof(path));
	unlink(path);
	tinventory_as_before(&before, "TCX link and program gone with the process");
out:
	holder_end(&h);
	fc_inventory_free(&before);
	tnet_destroy(&net);
	tcell_destroy(&cell);
}

static bool lock_free(void *p)
{
	(void)p;
	return fc_lock_holder() == 0;
}

FC_TEST(lock_released_on_death, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	char *rec[] = { "recover", NULL }, out[2048];
	struct tcell cell = {};
	struct held h = {};
	int holder = 0, fd, ms;

	if (!ASSERT_OK(tcell_create(&cell, "lk", NULL), "cell"))
		return;
	char *a[] = { "--cell", cell.parent, "--mode", "skb", "--lock", NULL };

	if (!holder_start(&h, a))
		goto out;
	fd = fc_lock_take(&holder);
	ASSERT_EQ(fd, -EBUSY, "second taker refused");
	ASSERT_EQ(holder, h.pid, "holder pid reported");
	ASSERT_EQ(trun_fc(out, sizeof(out), rec), 3, "recover refuses while a live run holds it");
	ASSERT_STRSTR(out, "holds the lock", "recover says why");
	kill(h.pid, SIGKILL);
	twait(h.pid, 5000);
	close(h.out);
	h.pid = 0;
	ms = tpoll(lock_free, NULL, 10000);
	ASSERT_GE(ms, 0, "lock released by the kernel when its holder died");
	/* the killed holder had no guard: recover cleans its state (nothing else to undo) */
	ASSERT_EQ(trun_fc(out, sizeof(out), rec), 0, "recover after death");
	ASSERT_STRSTR(out, "verified", out);
out:
	holder_end(&h);
	tcell_destroy(&cell);
}

/*
 * A loader dies without a guard, leaving a frozen cell recorded: the next run that takes the
 * lock finishes that recovery before it starts (and says so), so nothing of a crashed run
 * stays behind a new one.
 */
FC_TEST(next_run_recovers_left_state, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct tcell cell = {}, other = {};
	struct held h = {};
	char out[8192];

	if (!ASSERT_OK(tcell_create(&cell, "nxf", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&other, "nxo", NULL), "the next run's cell"))
		goto out;
	char *a[] = { "--cell", cell.parent, "--mode", "freeze", "--lock", NULL };
	char *inj[] = { "connect-error", "--cell", other.parent, "--errno", "ECONNREFUSED",
			"--ports",	 "9",	   "--duration", "1s",	    NULL };

	if (!holder_start(&h, a))
		goto out;
	kill(h.pid, SIGKILL);
	twait(h.pid, 5000);
	close(h.out);
	h.pid = 0;
	ASSERT_FALSE(state_gone(h.run), "no guard: the crashed run's state stays");
	ASSERT_EQ(fc_cgroup_is_frozen(cell.parent), 1, "and its cell stays frozen");
	{
		char *argv[16] = { "inject" };

		for (int i = 0; inj[i]; i++)
			argv[i + 1] = inj[i];
		ASSERT_EQ(trun_fc(out, sizeof(out), argv), 0, "the next run ran");
	}
	ASSERT_STRSTR(out, "left state behind (its loader is gone): recovering it first",
		      "says it recovered the crashed run first");
	ASSERT_TRUE(state_gone(h.run), "the crashed run's state is gone");
	ASSERT_EQ(fc_cgroup_is_frozen(cell.parent), 0, "its cell thawed");
out:
	holder_end(&h);
	tcell_destroy(&other);
	tcell_destroy(&cell);
}

/*
 * A loader with a guard dies while another run holds the lock: the guard's recovery does not
 * wait behind that lock — the crashed run's cell is thawed and its state removed while the
 * other run still holds it.
 */
FC_TEST(guard_recovers_behind_a_held_lock, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct tcell cell = {}, other = {};
	struct held h = {}, l = {};

	if (!ASSERT_OK(tcell_create(&cell, "glf", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&other, "glo", NULL), "the lock holder's cell"))
		goto out;
	char *a[] = { "--cell", cell.parent, "--mode", "freeze", "--guard", NULL };
	char *b[] = { "--cell", other.parent, "--mode", "skb", "--lock", "--linger", NULL };

	if (!holder_start(&h, a) || !holder_start(&l, b))
		goto out;
	ASSERT_EQ(fc_cgroup_is_frozen(cell.parent), 1, "cell frozen");
	kill(h.pid, SIGKILL);
	twait(h.pid, 5000);
	close(h.out);
	h.pid = 0;
	ASSERT_GE(tpoll(thawed, cell.parent, 10000), 0, "the guard thawed the cell");
	ASSERT_GE(tpoll(state_gone, h.run, 10000), 0, "and removed the state");
	ASSERT_EQ(fc_lock_holder(), l.pid, "while the other run still holds the lock");
out:
	holder_end(&l);
	holder_end(&h);
	tcell_destroy(&other);
	tcell_destroy(&cell);
}

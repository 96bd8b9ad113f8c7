// SPDX-License-Identifier: BSD-2-Clause
/*
 * The safety core with real packets and real processes (design.md §3): each inert reason, the
 * control check in a tracing program, the cell match for skb, task and socket contexts, the
 * guard after SIGKILL and after a wedged loader's deadline, the lock released on death.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "core/control.h"
#include "core/inventory.h"
#include "core/state.h"
#include "core/tc.h"
#include "core/util.h"
#include "fc_selftest.h"
#include "lib/bpfstat.h"
#include "lib/holder.h"
#include "lib/host.h"
#include "lib/test.h"

/* Send @n UDP datagrams from a process in @cg; returns how many got EPERM (or -1). */
static int udp_eperm(const char *cg, int n, int *ok)
{
	char count[16], line[128], *argv[] = { "udp_send", "127.0.0.1", "9", count, NULL };
	int fd, e = -1, o = -1, other;
	pid_t pid;

	snprintf(count, sizeof(count), "%d", n);
	pid = tspawn(cg, NULL, argv, &fd);
	if (pid < 0)
		return -1;
	if (!tread_line(fd, line, sizeof(line), 10000))
		sscanf(line, "ok=%d eperm=%d other=%d", &o, &e, &other);
	close(fd);
	twait(pid, 10000);
	if (ok)
		*ok = o;
	return e;
}

FC_TEST(control_inert_reasons, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct tcell cell = {};
	struct held h = {};
	uint64_t before, hb_before;
	int ok, i;

	if (!ASSERT_OK(tcell_create(&cell, "inert", NULL), "cell"))
		return;
	if (test__start_subtest("armed_drops")) {
		char *a[] = { "--cell", cell.parent, "--mode", "skb", NULL };

		if (holder_start(&h, a)) {
			ASSERT_EQ(udp_eperm(cell.child, 20, &ok), 20, "armed: every send refused");
			ASSERT_EQ(tstat(h.stats, ST_DROPPED), 20, "drop counter");
			/* disabled: one map write, traffic passes, counted as inert_disabled */
			ASSERT_OK(fc_control_disable_by_id(h.control), "disable");
			before = tstat(h.stats, FC_STAT_INERT_DISABLED);
			ASSERT_EQ(udp_eperm(cell.child, 20, &ok), 0, "disabled: nothing refused");
			ASSERT_EQ(ok, 20, "disabled: all sent");
			ASSERT_EQ(tstat(h.stats, FC_STAT_INERT_DISABLED) - before, 20,
				  "inert_disabled counted per packet");
		}
		holder_end(&h);
	}
	if (test__start_subtest("deadline_links_kept")) {
		/* deadline 300 ms, heartbeat fresh, links kept (--linger): the kernel check alone
		 */
		char *a[] = { "--cell",	       cell.parent, "--mode",	"skb",
			      "--deadline-ms", "300",	    "--linger", NULL };

		if (holder_start(&h, a)) {
			for (i = 0; i < 500 && udp_eperm(cell.child, 1, &ok) != 0; i++)
				usleep(10000);
			hb_before = tstat(h.stats, FC_STAT_INERT_HEARTBEAT);
			before = tstat(h.stats, FC_STAT_INERT_DEADLINE);
			ASSERT_EQ(udp_eperm(cell.child, 20, &ok), 0, "past deadline: passes");
			ASSERT_EQ(tstat(h.stats, FC_STAT_INERT_DEADLINE) - before, 20,
				  "inert_deadline rises while traffic passes");
			ASSERT_EQ(tstat(h.stats, FC_STAT_INERT_HEARTBEAT) - hb_before, 0,
				  "heartbeat stayed fresh");
		}
		holder_end(&h);
	}
	if (test__start_subtest("heartbeat_lapsed_sigstop")) {
		char *a[] = { "--cell", cell.parent, "--mode", "skb", "--max-gap-ms", "300", NULL };
		uint64_t t0;

		if (holder_start(&h, a)) {
			ASSERT_EQ(udp_eperm(cell.child, 5, &ok), 5, "armed before the stop");
			kill(h.pid, SIGSTOP);
			t0 = fc_now_ns();
			for (i = 0; i < 1000 && udp_eperm(cell.child, 1, &ok) != 0; i++)
				usleep(10000);
			test__record("heartbeat_lapse_to_inert_ms", (fc_now_ns() - t0) / 1e6, "ms");
			before = tstat(h.stats, FC_STAT_INERT_HEARTBEAT);
			ASSERT_EQ(udp_eperm(cell.child, 20, &ok), 0, "stopped loader: passes");
			ASSERT_EQ(tstat(h.stats, FC_STAT_INERT_HEARTBEAT) - before, 20,
				  "inert_heartbeat counted");
		}
		holder_end(&h);
	}
	tcell_destroy(&cell);
}

/* Same check compiled into a raw_tp program: it loads and gates by the fine clock. */
FC_TEST(control_check_rawtp, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	char *w[] = { "syscalls", "2000", NULL }, line[64];
	struct tcell cell = {};
	struct held h = {};
	uint64_t hits;
	int fd;
	pid_t p;

	if (!ASSERT_OK(tcell_create(&cell, "rawtp", NULL), "cell"))
		return;
	char *a[] = { "--cell", cell.parent, "--mode", "rawtp", NULL };

	if (holder_start(&h, a)) {
		p = tspawn(cell.child, NULL, w, &fd);
		tread_line(fd, line, sizeof(line), 10000);
		close(fd);
		twait(p, 10000);
		hits = tstat(h.stats, ST_TP_HITS);
		ASSERT_GE(hits, 2000, "armed raw_tp counted the cell's syscalls");
		ASSERT_OK(fc_control_disable_by_id(h.control), "disable");
		p = tspawn(cell.child, NULL, w, &fd);
		tread_line(fd, line, sizeof(line), 10000);
		close(fd);
		twait(p, 10000);
		ASSERT_EQ(tstat(h.stats, ST_TP_HITS), hits, "disabled: no more hits");
		ASSERT_GE(tstat(h.stats, FC_STAT_INERT_DISABLED), 2000, "inert_disabled in raw_tp");
	}
	holder_end(&h);
	tcell_destroy(&cell);
}

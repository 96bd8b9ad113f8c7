// SPDX-License-Identifier: BSD-2-Clause
/*
 * TCP events attributed by the socket's cgroup, in timer context (design.md §3): the cell's
 * first SYN is dropped once (test-only cgroup_skb program), so the retransmitted SYN and the
 * whole handshake run from the retransmit timer, while a busy loop from *another* traced cell
 * runs on the same CPU and is `current` when the timer fires. The ~1 s connect must be counted
 * for the cell with the connecting process's pid and comm, and nothing for the busy loop's cell.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fc_metrics.h"
#include "host/trace_util.h"
#include "lib/test.h"
#include "trace_selftest.skel.h"

struct conn_events {
	int n, state, exemplar;
	struct fc_event_hdr last_state, last_exemplar;
};

static void on_conn(void *ctx, const struct fc_event_hdr *e, size_t size)
{
	struct conn_events *c = ctx;

	(void)size;
	if (e->metric != FC_M_TCP_CONNECT_LATENCY)
		return;
	c->n++;
	if (e->type == FC_EV_STATE) {
		c->state++;
		c->last_state = *e;
	} else if (e->type == FC_EV_EXEMPLAR) {
		c->exemplar++;
		c->last_exemplar = *e;
	}
}

static int listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static const struct fc_series *find(const struct fc_window *w, const char *kind, const char *key,
				    int cell)
{
	for (int i = 0; i < w->n; i++)
		if (!strcmp(w->s[i].kind->name, kind) && !strcmp(w->s[i].key, key) &&
		    w->s[i].cell == cell)
			return &w->s[i];
	return NULL;
}

FC_TEST(trace_tcp_timer_context, TIER_HOST | FC_T_ROOT)
{
	struct fc_metric_req req[] = { { "tcp_connect_latency", NULL },
				       { "tcp_retransmits", NULL },
				       { "tcp_resets", NULL } };
	char port_s[16], line[128], *spin[] = { "spin", "0", NULL };
	char *cw[] = { "conn", port_s, "0", NULL };
	struct trace_selftest_bpf *skel = NULL;
	const struct fc_series *s;
	struct conn_events ev = {};
	struct bpf_link *link = NULL;
	struct tcell cell = {}, out = {};
	struct ttracer tt = {};
	struct fc_window w;
	unsigned long long ns = 0;
	int lfd = -1, cgfd = -1, sfd = -1, cfd = -1, port = 0, cpid = 0, i;
	pid_t sp = -1, cp = -1;

	if (!ASSERT_OK(tcell_create(&cell, "tcp", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&out, "tcpout", NULL), "outside cell"))
		goto out;
	lfd = listener(&port);
	if (!ASSERT_GE(lfd, 0, "listener"))
		goto out;
	skel = trace_selftest_bpf__open();
	if (!ASSERT_OK_PTR(skel, "selftest open"))
		goto out;
	for (struct bpf_program *p = bpf_object__next_program(skel->obj, NULL); p;
	     p = bpf_object__next_program(skel->obj, p))
		bpf_program__set_autoload(p, p == skel->progs.fc_ts_drop_syn);
	if (!ASSERT_OK(trace_selftest_bpf__load(skel), "selftest load"))
		goto out;
	skel->data->syn_budget = 1;
	cgfd = open(cell.parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	link = bpf_program__attach_cgroup(skel->progs.fc_ts_drop_syn, cgfd);
	if (!ASSERT_OK_PTR(link, "drop the cell's first SYN"))
		goto out;
	if (!ttracer_start(&tt, &cell, &out, req, 3, on_conn, &ev))
		goto out;
	/* the outside busy loop owns CPU 0 when the retransmit timer fires there */
	sp = tspawn(out.child, NULL, spin, &sfd);
	if (!ASSERT_GT(sp, 0, "spin") ||
	    !ASSERT_OK(tread_line(sfd, line, sizeof(line), 10000), "spin ready"))
		goto out;
	snprintf(port_s, sizeof(port_s), "%d", port);
	cp = tspawn(cell.child, NULL, cw, &cfd);
	if (!ASSERT_GT(cp, 0, "conn") ||
	    !ASSERT_OK(tread_line(cfd, line, sizeof(line), 30000), "connect finished"))
		goto out;
	if (!ASSERT_EQ(sscanf(line, "ok ns=%llu pid=%d", &ns, &cpid), 2, line))
		goto out;
	ASSERT_EQ(skel->bss->syn_dropped, 1, "exactly the first SYN dropped");
	ASSERT_GE(ns, 900000000ULL, "the connect waited for the retransmit timer (~1 s)");
	/* then a refused connect: the RST arrives for a SYN_SENT socket */
	close(lfd);
	lfd = -1;
	twait(cp, 10000);
	close(cfd);
	cp = tspawn(cell.child, NULL, cw, &cfd);
	if (!ASSERT_GT(cp, 0, "conn2") ||
	    !ASSERT_OK(tread_line(cfd, line, sizeof(line), 30000), "refused connect"))
		goto out;
	ASSERT_STRSTR(line, "err=111", "ECONNREFUSED");
	for (i = 0; i < 10; i++)
		fc_tracer__poll(tt.t);
	if (!ASSERT_OK(fc_tracer__snapshot(tt.t, &w), "snapshot"))
		goto out;
	s = find(&w, "tcp_connect_latency", "ok", 0);
	if (ASSERT_OK_PTR(s, "cell ok series") && ASSERT_EQ(s->sum.count, 1, "cell: one connect")) {
		ASSERT_TRUE(fabs(s->sum.max - (double)ns) / (double)ns < 0.02,
			    "cell: the connect's latency as the client saw it");
		test__record("timer_connect_latency_ms", s->sum.max / 1e6, "ms");
	}
	s = find(&w, "tcp_connect_latency", "failed", 0);
	if (ASSERT_OK_PTR(s, "cell failed series"))
		ASSERT_EQ(s->sum.count, 1, "cell: one refused connect");
	s = find(&w, "tcp_retransmits", "", 0);
	if (ASSERT_OK_PTR(s, "cell retrans series"))
		ASSERT_GE(s->sum.count, 1, "cell: the SYN retransmit, from the timer");
	s = find(&w, "tcp_resets", "received", 0);
	if (ASSERT_OK_PTR(s, "cell resets series"))
		/* the refusal, and the abort of the first connection when the listener closed */
		ASSERT_GE(s->sum.count, 1, "cell: the RSTs it received");
	for (i = 0; i < w.n; i++)
		if (w.s[i].cell == 1)
			ASSERT_EQ(w.s[i].sum.count, 0, "outside cell (the busy loop): nothing");
	/* events name the connecting process even though the handshake ran in a timer */
	if (ASSERT_GE(ev.exemplar, 1, "exemplar of the slow connect")) {
		ASSERT_EQ(ev.last_exemplar.cell, 0, "exemplar cell");
		ASSERT_EQ(ev.last_exemplar.pid, (uint32_t)cpid, "pid of the connecting process");
		ASSERT_TRUE(fabs((double)ev.last_exemplar.value - (double)ns) / (double)ns < 0.02,
			    "exemplar value");
		ASSERT_STREQ(ev.last_exemplar.comm, "fcw-conn", "exemplar comm");
	}
	if (ASSERT_EQ(ev.state, 1, "one state event: the refused connect")) {
		ASSERT_EQ(ev.last_state.err, ECONNREFUSED, "errno of the outcome");
		ASSERT_EQ(ev.last_state.pid, (uint32_t)cp, "pid of the connecting process");
		ASSERT_STREQ(ev.last_state.comm, "fcw-conn", "comm");
	}
	ASSERT_EQ(w.rb_fail_total, 0, "no failed reserves");
out:
	if (sp > 0) {
		kill(sp, SIGKILL);
		twait(sp, 5000);
	}
	if (cp > 0)
		twait(cp, 5000);
	if (sfd >= 0)
		close(sfd);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	ttracer_stop(&tt);
	bpf_link__destroy(link);
	trace_selftest_bpf__destroy(skel);
	if (cgfd >= 0)
		close(cgfd);
	tcell_destroy(&out);
	tcell_destroy(&cell);
}

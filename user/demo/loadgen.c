// SPDX-License-Identifier: BSD-2-Clause
/*
 * The demo's load generator: checkouts to cell-3 and cell-1 at a steady rate (open loop: a
 * slow cell does not slow the offered load), one TCP connection per request, each with a
 * timeout. It answers the instant-query API of Prometheus for its own series, so the demo's
 * experiments read it with the `prometheus` source as they would read production:
 *
 *   GET /api/v1/query?query=checkout_success_rate{cell="3"}   ok / finished, last window
 *   checkout_latency_p50{cell="N"}, checkout_latency_p99{...}  seconds, last window
 *   checkout_requests{cell="N"}, checkout_errors{cell="N"}     finished / failed, last window
 *   GET /metrics                                               counters, text exposition
 *
 * "Last window" is the experiment's window, given at start. A window in which nothing
 * finished has no success rate (an empty vector: no data, so a guardrail fails closed), and a
 * dead load generator answers nothing at all — never a stale value.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "demo/demo.h"

#define RING	  65536 /* results kept per cell: > 500/s × the longest window we answer for */
#define MAX_FDS	  8192
#define MAX_QUEUE 2000 /* in flight per cell; above that a request fails at once (overload) */

enum { C_FREE, C_REQ, C_HTTP };

struct result {
	uint64_t t;
	uint32_t lat_us;
	uint8_t ok;
};

struct cellgen {
	int cell, port;
	uint64_t issued, ok_total, fail_total, inflight;
	uint64_t head;
	struct result ring[RING];
};

struct conn {
	int kind, cell;
	bool sent;
	uint64_t t0;
	char buf[2048];
	int len;
};

struct lg {
	int ep, http;
	unsigned int rate;
	uint64_t timeout_ns, window_ns, start_ns;
	struct cellgen cells[2];
	struct conn *conns;
	int maxfd;
	bool ready[2];
};

static void record(struct lg *g, struct cellgen *c, bool ok, uint64_t t0)
{
	uint64_t now = fc_now_ns();
	struct result *r = &c->ring[c->head++ & (RING - 1)];

	r->t = now;
	r->lat_us = (now - t0) / 1000 > UINT32_MAX ? UINT32_MAX : (now - t0) / 1000;
	r->ok = ok;
	if (ok)
		c->ok_total++;
	else
		c->fail_total++;
	if (ok && !g->ready[c == &g->cells[1]]) {
		g->ready[c == &g->cells[1]] = true;
		if (g->ready[0] && g->ready[1])
			fc_demo_ready();
	}
}

static void drop(struct lg *g, int fd)
{
	struct conn *k = &g->conns[fd];

	if (k->kind == C_REQ)
		g->cells[k->cell].inflight--;
	k->kind = C_FREE;
	close(fd);
}

static void finish(struct lg *g, int fd, bool ok)
{
	struct conn *k = &g->conns[fd];

	record(g, &g->cells[k->cell], ok, k->t0);
	drop(g, fd);
}

static void start_request(struct lg *g, int ci)
{
	struct cellgen *c = &g->cells[ci];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(c->port) };
	struct epoll_event ev = { .events = EPOLLOUT };
	uint64_t t0 = fc_now_ns();
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->issued++;
	if (c->inflight >= MAX_QUEUE) {
		record(g, c, false, t0);
		return;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || fd >= MAX_FDS) {
		if (fd >= 0)
			close(fd);
		record(g, c, false, t0);
		return;
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
		close(fd);
		record(g, c, false, t0);
		return;
	}
	g->conns[fd] = (struct conn){ .kind = C_REQ, .cell = ci, .t0 = t0 };
	c->inflight++;
	if (fd > g->maxfd)
		g->maxfd = fd;
	ev.data.fd = fd;
	epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void on_request(struct lg *g, int fd, uint32_t events)
{
	struct conn *k = &g->conns[fd];
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	int soerr = 0, n;
	socklen_t l = sizeof(soerr);
	ssize_t r;

	if (!k->sent) {
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
		if (soerr || (events & (EPOLLERR | EPOLLHUP))) {
			finish(g, fd, false);
			return;
		}
		n = snprintf(k->buf, sizeof(k->buf), "PAY %llu\n",
			     (unsigned long long)g->cells[k->cell].issued);
		if (send(fd, k->buf, n, MSG_NOSIGNAL) != n) {
			finish(g, fd, false);
			return;
		}
		k->sent = true;
		epoll_ctl(g->ep, EPOLL_CTL_MOD, fd, &ev);
		return;
	}
	r = read(fd, k->buf + k->len, sizeof(k->buf) - 1 - k->len);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r > 0) {
		k->len += r;
		if (k->len + 1 < (int)sizeof(k->buf))
			return; /* the worker closes after its answer: read to EOF */
	}
	k->buf[k->len] = 0;
	finish(g, fd, r == 0 && !strncmp(k->buf, "OK ", 3));
}

/* ---- the Prometheus-shaped answers ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* @what over the last window for @c; false when there is no value (nothing finished). */
static bool series_value(struct lg *g, struct cellgen *c, const char *what, double *out)
{
	static uint32_t lat[RING];
	uint64_t now = fc_now_ns(), from = now > g->window_ns ? now - g->window_ns : 0;
	uint64_t n = 0, ok = 0;

	for (uint64_t i = 0; i < RING && i < c->head; i++) {
		const struct result *r = &c->ring[(c->head - 1 - i) & (RING - 1)];

		if (r->t < from)
			break;
		lat[n++] = r->lat_us;
		ok += r->ok;
	}
	if (!strcmp(what, "checkout_requests") || !strcmp(what, "checkout_errors")) {
		*out = what[9] == 'r' ? n : n - ok;
		return true;
	}
	if (!n)
		return false;
	if (!strcmp(what, "checkout_success_rate")) {
		*out = (double)ok / n;
		return true;
	}
	qsort(lat, n, sizeof(lat[0]), cmp_u32);
	/* nearest rank: the smallest value with at least q of the samples at or below it */
	*out = lat[(uint64_t)ceil((what[18] == '5' ? 0.50 : 0.99) * n) - 1] / 1e6;
	return true;
}

static void url_decode(const char *s, char *out, size_t len)
{
	size_t u = 0;
	unsigned int x;

	for (; *s && *s != ' ' && *s != '&' && u + 1 < len; s++) {
		if (*s == '%' && sscanf(s + 1, "%2x", &x) == 1) {
			out[u++] = x;
			s += 2;
		} else if (*s != '+') {
			out[u++] = *s;
		}
	}
	out[u] = 0;
}

static const char *const series[] = { "checkout_success_rate", "checkout_latency_p50",
				      "checkout_latency_p99", "checkout_requests",
				      "checkout_errors" };

/* `name{cell="N"}`, spaces ignored. 0 with the cell's index, or -EINVAL. */
static int parse_query(const char *q, char *name, size_t len, int *ci)
{
	char s[256];
	size_t u = 0;
	int cell;

	for (; *q && u + 1 < sizeof(s); q++)
		if (*q != ' ')
			s[u++] = *q;
	s[u] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(series); i++) {
		size_t l = strlen(series[i]);

		if (strncmp(s, series[i], l) || sscanf(s + l, "{cell=\"%d\"}", &cell) != 1)
			continue;
		if (strcmp(strchr(s, '}'), "}") || (cell != 1 && cell != 3))
			return -EINVAL;
		snprintf(name, len, "%s", series[i]);
		*ci = cell == 3 ? 0 : 1;
		return 0;
	}
	return -EINVAL;
}

static void answer(struct lg *g, int fd)
{
	struct conn *k = &g->conns[fd];
	char body[1024], q[256], name[64], head[256], *p;
	int code = 200, ci, n;
	double v;

	if (!strncmp(k->buf, "GET /metrics", 12)) {
		n = 0;
		for (int c = 0; c < 2; c++)
			n += snprintf(
			    body + n, sizeof(body) - n,
			    "checkout_requests_total{cell=\"%d\",outcome=\"success\"} %llu\n"
			    "checkout_requests_total{cell=\"%d\",outcome=\"failure\"} %llu\n",
			    g->cells[c].cell, (unsigned long long)g->cells[c].ok_total,
			    g->cells[c].cell, (unsigned long long)g->cells[c].fail_total);
	} else if ((p = strstr(k->buf, "query=")) && !strncmp(k->buf, "GET /api/v1/query?", 18)) {
		url_decode(p + 6, q, sizeof(q));
		if (parse_query(q, name, sizeof(name), &ci)) {
			code = 400;
			n = snprintf(body, sizeof(body),
				     "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
				     "\"the faultcell demo answers NAME{cell=\\\"3\\\"} (or 1) for "
				     "checkout_success_rate, checkout_latency_p50, "
				     "checkout_latency_p99, checkout_requests, checkout_errors\"}");
		} else if (series_value(g, &g->cells[ci], name, &v)) {
			n = snprintf(
			    body, sizeof(body),
			    "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
			    "\"result\":[{\"metric\":{\"__name__\":\"%s\",\"cell\":\"%d\"},"
			    "\"value\":[%.3f,\"%.6g\"]}]}}",
			    name, g->cells[ci].cell, fc_wall_ns() / 1e9, v);
		} else {
			n = snprintf(body, sizeof(body),
				     "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
				     "\"result\":[]}}");
		}
	} else {
		code = 404;
		n = snprintf(body, sizeof(body), "GET /api/v1/query?query=... or GET /metrics\n");
	}
	snprintf(head, sizeof(head),
		 "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
		 "Connection: close\r\n\r\n",
		 code,
		 code == 200   ? "OK"
		 : code == 400 ? "Bad Request"
			       : "Not Found",
		 body[0] == '{' ? "application/json" : "text/plain; version=0.0.4", n);
	/* small answers to a local reader: they fit the socket buffer at once */
	(void)!send(fd, head, strlen(head), MSG_NOSIGNAL);
	(void)!send(fd, body, n, MSG_NOSIGNAL);
	drop(g, fd);
}

static void on_http(struct lg *g, int fd)
{
	struct conn *k = &g->conns[fd];
	ssize_t r = read(fd, k->buf + k->len, sizeof(k->buf) - 1 - k->len);

	if (r < 0 && errno == EAGAIN)
		return;
	if (r <= 0) {
		drop(g, fd);
		return;
	}
	k->len += r;
	k->buf[k->len] = 0;
	if (strstr(k->buf, "\r\n\r\n") || strstr(k->buf, "\n\n") ||
	    k->len + 1 >= (int)sizeof(k->buf))
		answer(g, fd);
}

static void on_accept(struct lg *g)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	while ((fd = accept4(g->http, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (fd >= MAX_FDS) {
			close(fd);
			continue;
		}
		g->conns[fd] = (struct conn){ .kind = C_HTTP, .t0 = fc_now_ns() };
		if (fd > g->maxfd)
			g->maxfd = fd;
		ev.data.fd = fd;
		epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

/* Issue what is due (open loop) and fail what has timed out. */
static void tick(struct lg *g)
{
	uint64_t now = fc_now_ns(), due = (now - g->start_ns) * g->rate / NSEC_PER_SEC;

	for (int c = 0; c < 2; c++) {
		/* after a stall of ours, skip ahead rather than burst */
		if (due > g->cells[c].issued + g->rate)
			g->cells[c].issued = due - g->rate / 10;
		while (g->cells[c].issued < due)
			start_request(g, c);
	}
	for (int fd = 0; fd <= g->maxfd; fd++) {
		struct conn *k = &g->conns[fd];

		/* just started ones have t0 after @now */
		if (k->kind == C_FREE || k->t0 > now)
			continue;
		if (k->kind == C_REQ && now - k->t0 > g->timeout_ns)
			finish(g, fd, false);
		else if (k->kind == C_HTTP && now - k->t0 > 2 * NSEC_PER_SEC)
			drop(g, fd);
	}
}

/* argv: loadgen RATE TIMEOUT_MS WINDOW_MS */
int fc_demo_loadgen(int argc, char **argv)
{
	struct epoll_event ev, evs[256];
	struct rlimit rl;
	struct lg *g;
	int n;

	if (argc < 4)
		return FC_EXIT_USAGE;
	prctl(PR_SET_NAME, "demo-loadgen");
	/* a probe that gave up (its window ended) closes first: EPIPE, not death */
	signal(SIGPIPE, SIG_IGN);
	g = calloc(1, sizeof(*g));
	if (!g || !(g->conns = calloc(MAX_FDS, sizeof(*g->conns))))
		return FC_EXIT_INTERNAL;
	g->rate = strtoul(argv[1], NULL, 10) ?: 100;
	g->timeout_ns = strtoull(argv[2], NULL, 10) * NSEC_PER_MSEC;
	g->window_ns = strtoull(argv[3], NULL, 10) * NSEC_PER_MSEC;
	g->cells[0] = (struct cellgen){ .cell = 3, .port = FC_DEMO_PORT_CELL3 };
	g->cells[1] = (struct cellgen){ .cell = 1, .port = FC_DEMO_PORT_CELL1 };
	/* a paused cell holds rate × timeout connections open */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < MAX_FDS) {
		rl.rlim_cur = rl.rlim_max < MAX_FDS ? rl.rlim_max : MAX_FDS;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	g->http = fc_demo_listen(FC_DEMO_PORT_METRICS, 64, FC_DEMO_NONBLOCK);
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	if (g->http < 0 || g->ep < 0) {
		fprintf(stderr, "demo load generator: cannot listen on 127.0.0.1:%d: %s\n",
			FC_DEMO_PORT_METRICS, strerror(g->http < 0 ? -g->http : errno));
		return FC_EXIT_INTERNAL;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = g->http };
	epoll_ctl(g->ep, EPOLL_CTL_ADD, g->http, &ev);
	g->start_ns = fc_now_ns();
	for (;;) {
		n = epoll_wait(g->ep, evs, ARRAY_SIZE(evs), 2);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == g->http)
				on_accept(g);
			else if (g->conns[fd].kind == C_REQ)
				on_request(g, fd, evs[i].events);
			else if (g->conns[fd].kind == C_HTTP)
				on_http(g, fd);
		}
		tick(g);
	}
	return 0;
}

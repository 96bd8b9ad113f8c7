// SPDX-License-Identifier: BSD-2-Clause
/*
 * Round-trip workloads for the network-latency tests and bench P3: `fc-test --worker NAME`.
 * Every probe carries its own CLOCK_MONOTONIC send time, so an RTT is measured to the
 * microsecond on the sender (ping rounds to 1 ms above 100 ms, kernel-facts.md).
 */
#include <errno.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "lib/net.h"
#include "lib/test.h"

struct probe_msg {
	uint32_t seq, magic;
	uint64_t t_ns;
};

#define MSG_MAGIC 0xfc1a7e00u

/* lat_echo HOST PORT [CPU]: echo UDP datagrams and TCP streams on PORT; "ready" first. */
static int lat_echo(int argc, char **argv)
{
	struct sockaddr_storage ss, from;
	struct pollfd p[66];
	socklen_t len, flen;
	int udp, lfd, n = 2, one = 1;
	char buf[2048];
	ssize_t r;

	if (argc < 3)
		return 2;
	udp = socket(tnet_addr(argv[1], atoi(argv[2]), &ss, &len), SOCK_DGRAM, 0);
	lfd = socket(ss.ss_family, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (udp < 0 || lfd < 0 || bind(udp, (void *)&ss, len) || bind(lfd, (void *)&ss, len) ||
	    listen(lfd, 16))
		return 1;
	if (argc > 3 && atoi(argv[3]) >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(atoi(argv[3]), &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	p[0] = (struct pollfd){ .fd = udp, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(p, n, -1) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			flen = sizeof(from);
			r = recvfrom(udp, buf, sizeof(buf), 0, (void *)&from, &flen);
			if (r > 0)
				sendto(udp, buf, r, 0, (void *)&from, flen);
		}
		if ((p[1].revents & POLLIN) && n < 66) {
			int fd = accept(lfd, NULL, NULL);

			if (fd >= 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				p[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
			}
		}
		for (int i = 2; i < n; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(p[i].fd, buf, sizeof(buf));
			if (r > 0 && write(p[i].fd, buf, r) == r)
				continue;
			close(p[i].fd);
			p[i--] = p[--n];
		}
	}
	return 0;
}
FC_WORKER(lat_echo, lat_echo);

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint16_t icmp_sum(const void *data, size_t len)
{
	const uint16_t *w = data;
	uint32_t s = 0;

	for (; len > 1; len -= 2)
		s += *w++;
	if (len)
		s += *(const uint8_t *)w;
	s = (s >> 16) + (s & 0xffff);
	s += s >> 16;
	return ~s;
}

struct rtt {
	int fd, mode, fam;
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t id;
	uint32_t tag; /* which socket a probe is from: icmpx sockets share their id */
	uint64_t *rtt;
	int got, cap, reorder;
	uint32_t last_seq;
	char rx[4096];
	size_t rxlen;
};

enum { M_UDP, M_UDPC, M_TCP, M_ICMP, M_ICMPX };

static int rtt_send(struct rtt *r, uint32_t seq)
{
	struct probe_msg m = { .seq = seq, .magic = MSG_MAGIC | r->tag, .t_ns = fc_now_ns() };
	struct {
		struct icmphdr h;
		struct probe_msg m;
	} ic = { .h = { .type = ICMP_ECHO, .un.echo = { htons(r->id), htons(seq) } }, .m = m };

	switch (r->mode) {
	case M_UDP:
		return sendto(r->fd, &m, sizeof(m), 0, (void *)&r->ss, r->len) == sizeof(m)
			   ? 0
			   : -errno;
	case M_ICMP:
	case M_ICMPX:
		ic.h.checksum = icmp_sum(&ic, sizeof(ic));
		return sendto(r->fd, &ic, sizeof(ic), 0, (void *)&r->ss, r->len) == sizeof(ic)
			   ? 0
			   : -errno;
	default:
		return send(r->fd, &m, sizeof(m), 0) == sizeof(m) ? 0 : -errno;
	}
}

static void rtt_take(struct rtt *r, const struct probe_msg *m, uint64_t now)
{
	if (m->magic != (MSG_MAGIC | r->tag) || r->got >= r->cap)
		return;
	r->rtt[r->got++] = now - m->t_ns;
	r->reorder += r->got > 1 && m->seq < r->last_seq;
	r->last_seq = m->seq;
}

/* Read everything queued: a raw ICMP socket gets every echo reply of the host, not just its own. */
static void rtt_recv(struct rtt *r)
{
	uint64_t now;
	ssize_t n;

	if (r->mode == M_TCP) {
		n = read(r->fd, r->rx + r->rxlen, sizeof(r->rx) - r->rxlen);
		if (n <= 0)
			return;
		now = fc_now_ns();
		r->rxlen += n;
		while (r->rxlen >= sizeof(struct probe_msg)) {
			rtt_take(r, (struct probe_msg *)r->rx, now);
			r->rxlen -= sizeof(struct probe_msg);
			memmove(r->rx, r->rx + sizeof(struct probe_msg), r->rxlen);
		}
		return;
	}
	while ((n = recv(r->fd, r->rx, sizeof(r->rx), MSG_DONTWAIT)) > 0) {
		now = fc_now_ns();
		if (r->mode >= M_ICMP) {
			struct iphdr *ip = (struct iphdr *)r->rx;
			struct icmphdr *h = (struct icmphdr *)(r->rx + ip->ihl * 4);

			if (n < (ssize_t)(ip->ihl * 4 + sizeof(*h) + sizeof(struct probe_msg)) ||
			    h->type != ICMP_ECHOREPLY || ntohs(h->un.echo.id) != r->id)
				continue;
			rtt_take(r, (struct probe_msg *)(h + 1), now);
		} else if (n == sizeof(struct probe_msg)) {
			rtt_take(r, (struct probe_msg *)r->rx, now);
		}
	}
}

/* Join cgroup @cg (absolute path) so the next socket carries it: a socket keeps the cgroup of
 * the task that created it (sk_cgrp_data), whatever the task does afterwards. */
static int join_cgroup(const char *cg)
{
	char path[4200], pid[16];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return fc_write_file(path, pid);
}

static int rtt_open(struct rtt *r, const char *spec, int idx)
{
	static const char *const modes[] = { "udp", "udpc", "tcp", "icmp", "icmpx" };
	char buf[4200], *cg, *mode, *host, *port;
	int one = 1;

	snprintf(buf, sizeof(buf), "%s", spec);
	cg = strtok(buf, ":");
	mode = strtok(NULL, ":");
	host = strtok(NULL, ":");
	port = strtok(NULL, ":");
	if (!cg || !mode || !host || !port)
		return -EINVAL;
	r->mode = -1;
	for (int i = 0; i < 5; i++)
		if (!strcmp(mode, modes[i]))
			r->mode = i;
	r->fam = tnet_addr(host, atoi(port), &r->ss, &r->len);
	if (r->mode < 0 || r->fam != AF_INET)
		return -EINVAL;
	if (strcmp(cg, "-") && join_cgroup(cg))
		return -errno;
	/* icmpx: one id for every such socket, so fq hashes them into one flow (the leak) */
	r->id = r->mode == M_ICMPX ? 0xfc1a : (getpid() + idx) & 0xffff;
	r->tag = idx;
	r->fd = socket(AF_INET,
		       r->mode == M_TCP	   ? SOCK_STREAM
		       : r->mode >= M_ICMP ? SOCK_RAW
					   : SOCK_DGRAM,
		       r->mode >= M_ICMP ? IPPROTO_ICMP : 0);
	if (r->fd < 0)
		return -errno;
	if (r->mode == M_TCP)
		setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((r->mode == M_UDPC || r->mode == M_TCP) && connect(r->fd, (void *)&r->ss, r->len))
		return -errno;
	return 0;
}

#define MIX_MAX 6

/*
 * lat_mix N INTERVAL_US CPU SPEC...: one probe on every SPEC socket per tick, N ticks, one
 * tick every INTERVAL_US, without waiting for echoes (a 100 ms delay costs 100 ms, not
 * N × 100 ms). Interleaving puts the faulted, the untouched and the netem paths under the same
 * moment's noise (QEMU/TCG shares 2 host cores). SPEC is CGROUP:MODE:HOST:PORT, CGROUP an
 * absolute path or "-" (stay), MODE udp (unconnected), udpc (connected), tcp or icmp (raw echo
 * requests, PORT unused). CPU >= 0 pins the worker (a cross-CPU wakeup costs milliseconds
 * under TCG). Prints per socket "sI n=N lost=L p1=.. p50=.. p99=.. max=.. reorder=R" (ns).
 */
static int lat_mix(int argc, char **argv)
{
	struct rtt r[MIX_MAX] = {};
	struct pollfd p[MIX_MAX];
	uint64_t next, end = 0, now, ival, wait;
	int n, k, cpu, sent = 0, done;

	if (argc < 5 || argc - 4 > MIX_MAX)
		return 2;
	n = atoi(argv[1]);
	ival = strtoull(argv[2], NULL, 10) * 1000;
	cpu = atoi(argv[3]);
	k = argc - 4;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	for (int i = 0; i < k; i++) {
		r[i].rtt = calloc(n + 1, sizeof(*r[i].rtt));
		r[i].cap = n;
		if (!r[i].rtt || rtt_open(&r[i], argv[4 + i], i)) {
			printf("err=%d socket %d (%s)\n", errno, i, argv[4 + i]);
			return 1;
		}
		p[i] = (struct pollfd){ .fd = r[i].fd, .events = POLLIN };
	}
	next = fc_now_ns();
	for (;;) {
		struct timespec ts;

		now = fc_now_ns();
		if (sent < n && now >= next) {
			/* rotate who goes first: a path sent later in a tick would also be echoed
			 * later, a bias of one echo's cost under TCG */
			for (int i = 0; i < k; i++)
				rtt_send(&r[(i + sent) % k], sent);
			if (++sent == n)
				end = now + 3 * NSEC_PER_SEC; /* the last echoes' grace */
			next += ival;
			continue;
		}
		done = 0;
		for (int i = 0; i < k; i++)
			done += r[i].got >= n;
		if (done == k || (sent == n && now > end))
			break;
		/* sleep to the next send in ns: a 0 ms poll would spin and starve the echo */
		wait = sent < n ? next - now : 10 * NSEC_PER_MSEC;
		ts = (struct timespec){ .tv_sec = wait / NSEC_PER_SEC,
					.tv_nsec = wait % NSEC_PER_SEC };
		if (ppoll(p, k, &ts, NULL) <= 0)
			continue;
		for (int i = 0; i < k; i++)
			if (p[i].revents & POLLIN)
				rtt_recv(&r[i]);
	}
	for (int i = 0; i < k; i++) {
		struct rtt *x = &r[i];

		qsort(x->rtt, x->got, sizeof(*x->rtt), cmp_u64);
#define PCT(q) (x->got ? x->rtt[(size_t)((q) * (x->got - 1) + 0.5)] : 0)
		printf("s%d n=%d lost=%d p1=%llu p50=%llu p99=%llu max=%llu reorder=%d\n", i,
		       x->got, n - x->got, (unsigned long long)PCT(0.01),
		       (unsigned long long)PCT(0.5), (unsigned long long)PCT(0.99),
		       (unsigned long long)PCT(1.0), x->reorder);
#undef PCT
	}
	fflush(stdout);
	return 0;
}
FC_WORKER(lat_mix, lat_mix);

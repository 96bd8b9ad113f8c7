// SPDX-License-Identifier: BSD-2-Clause
/* Traffic workloads for the network-fault tests: `fc-test --worker NAME ARGS`. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/net.h"
#include "lib/test.h"

int tnet_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (void *)ss;
	struct sockaddr_in6 *a6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	return -1;
}

/*
 * Run on CPU 0 only. A veth hands each packet to the backlog of the CPU that sent it, so a flow
 * whose packets leave from two CPUs (a migrating sender, ACK processing or a timer elsewhere)
 * can be reordered between two backlogs — which TCP may answer with spurious retransmits, and
 * a sequence check counts as reordering. The test topology's doing, not the fault's: the
 * workers that measure exact counts pin both ends to one CPU.
 */
static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * udp_seq_send HOST PORT COUNT [connected [pin]]: COUNT datagrams carrying their sequence
 * number, paced (a pause every 32 packets) so the receiver's buffer never overflows. "pin":
 * on CPU 0 (pin_cpu0; with fq, its dequeue and timer then run there too).
 */
static int udp_seq_send(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, n, fails = 0, connected = argc > 4 && !strcmp(argv[4], "connected");
	uint32_t seq;

	if (argc < 4)
		return 2;
	if (argc > 5 && !strcmp(argv[5], "pin"))
		pin_cpu0();
	fd = socket(tnet_addr(argv[1], atoi(argv[2]), &ss, &len), SOCK_DGRAM, 0);
	n = atoi(argv[3]);
	if (fd < 0 || (connected && connect(fd, (void *)&ss, len)))
		return 1;
	for (seq = 0; seq < (uint32_t)n; seq++) {
		ssize_t r = connected ? send(fd, &seq, sizeof(seq), 0)
				      : sendto(fd, &seq, sizeof(seq), 0, (void *)&ss, len);

		if (r != sizeof(seq))
			fails++;
		if (seq % 32 == 31)
			usleep(1000);
	}
	/*
	 * End markers go to PORT+1, which the tests' faults never match: same path, same order,
	 * so the receiver knows every data packet has arrived once a marker does.
	 */
	tnet_addr(argv[1], atoi(argv[2]) + 1, &ss, &len);
	for (int i = 0; i < 20; i++) {
		seq = UINT32_MAX;
		sendto(fd, &seq, sizeof(seq), 0, (void *)&ss, len);
		usleep(2000);
	}
	printf("sent=%d fails=%d errno=%d\n", n - fails, fails, fails ? errno : 0);
	return 0;
}
FC_WORKER(udp_seq_send, udp_seq_send);

static volatile sig_atomic_t stop;
static void on_term(int s)
{
	(void)s;
	stop = 1;
}

/*
 * udp_seq_recv HOST PORT: count distinct sequence numbers on PORT until an end marker arrives
 * on PORT+1 (or SIGTERM); "ready" first.
 */
static int udp_seq_recv(int argc, char **argv)
{
	struct sockaddr_storage ss, cs;
	socklen_t len, clen;
	int fd, cfd, buf = 8 << 20, uniq = 0, total = 0, reorder = 0;
	static unsigned char seen[1 << 20];
	uint32_t seq, last = 0;
	struct sigaction sa = { .sa_handler = on_term };

	if (argc < 3)
		return 2;
	sigaction(SIGTERM, &sa, NULL);
	fd = socket(tnet_addr(argv[1], atoi(argv[2]), &ss, &len), SOCK_DGRAM, 0);
	/* FORCE: above rmem_max as root, so a burst never overflows into fake "loss" */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	if (fd < 0 || bind(fd, (void *)&ss, len))
		return 1;
	cfd = socket(tnet_addr(argv[1], atoi(argv[2]) + 1, &cs, &clen), SOCK_DGRAM, 0);
	if (cfd < 0 || bind(cfd, (void *)&cs, clen))
		return 1;
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = cfd, .events = POLLIN } };

		if (poll(p, 2, 100) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			/* drain data before honouring a marker */
		} else if (p[1].revents & POLLIN) {
			break;
		}
		if (recv(fd, &seq, sizeof(seq), MSG_DONTWAIT) != sizeof(seq))
			continue;
		total++;
		if (seq < (1u << 20) && !seen[seq]++)
			uniq++;
		reorder += seq < last;
		last = seq;
	}
	printf("total=%d uniq=%d reorder=%d\n", total, uniq, reorder);
	return 0;
}
FC_WORKER(udp_seq_recv, udp_seq_recv);

/*
 * tcp_sink HOST PORT [pin]: accept connections, read to EOF; "ready", then "got N" per
 * connection. "pin": on CPU 0 (pin_cpu0).
 */
static int tcp_sink(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, one = 1;
	static char buf[65536];
	struct sigaction sa = { .sa_handler = on_term };

	if (argc < 3)
		return 2;
	if (argc > 3 && !strcmp(argv[3], "pin"))
		pin_cpu0();
	sigaction(SIGTERM, &sa, NULL);
	lfd = socket(tnet_addr(argv[1], atoi(argv[2]), &ss, &len), SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (void *)&ss, len) || listen(lfd, 64))
		return 1;
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		long long got = 0;
		ssize_t n;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			got += n;
		close(fd);
		printf("got %lld\n", got);
		fflush(stdout);
	}
	return 0;
}
FC_WORKER(tcp_sink, tcp_sink);

/*
 * tcp_send HOST PORT BYTES [pin]: one connection, BYTES sent, closed; prints "sent N" or
 * "err=E". "pin": on CPU 0 (pin_cpu0).
 */
static int tcp_send(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long long left;
	static char buf[65536];
	int fd;

	if (argc < 4)
		return 2;
	if (argc > 4 && !strcmp(argv[4], "pin"))
		pin_cpu0();
	fd = socket(tnet_addr(argv[1], atoi(argv[2]), &ss, &len), SOCK_STREAM, 0);
	left = atoll(argv[3]);
	if (fd < 0 || connect(fd, (void *)&ss, len)) {
		printf("err=%d\n", errno);
		return 0;
	}
	while (left > 0) {
		ssize_t n =
		    write(fd, buf, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf));

		if (n <= 0) {
			printf("err=%d\n", errno);
			return 0;
		}
		left -= n;
	}
	close(fd);
	printf("sent %s\n", argv[3]);
	return 0;
}
FC_WORKER(tcp_send, tcp_send);

/*
 * connect_many HOST PORT N [udp]: N connects; prints "ok=N" then "eNN=count" per errno, one
 * line: "ok=12 e111=3 e110=1".
 */
static int connect_many(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int n, ok = 0, udp = argc > 4 && !strcmp(argv[4], "udp");
	static int errs[256];

	if (argc < 4)
		return 2;
	n = atoi(argv[3]);
	for (int i = 0; i < n; i++) {
		int fd = socket(tnet_addr(argv[1], atoi(argv[2]), &ss, &len),
				udp ? SOCK_DGRAM : SOCK_STREAM, 0);

		if (fd < 0)
			return 1;
		if (connect(fd, (void *)&ss, len) == 0)
			ok++;
		else if (errno < 256)
			errs[errno]++;
		close(fd);
	}
	printf("ok=%d", ok);
	for (int e = 0; e < 256; e++)
		if (errs[e])
			printf(" e%d=%d", e, errs[e]);
	printf("\n");
	return 0;
}
FC_WORKER(connect_many, connect_many);

/* udp_echo HOST PORT: echo every datagram back; "ready" first. */
static int udp_echo(int argc, char **argv)
{
	struct sockaddr_storage ss, from;
	socklen_t len, flen;
	char buf[512];
	ssize_t n;
	int fd;

	if (argc < 3)
		return 2;
	fd = socket(tnet_addr(argv[1], atoi(argv[2]), &ss, &len), SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (void *)&ss, len))
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (void *)&from, &flen);
		if (n > 0)
			sendto(fd, buf, n, 0, (void *)&from, flen);
	}
	return 0;
}
FC_WORKER(udp_echo, udp_echo);

/*
 * udp_ping HOST PORT CAP_MS: a datagram every millisecond until one echo comes back; prints
 * "ready" at once, then "echo NS" with the CLOCK_MONOTONIC time of the first echo (or
 * "timeout"). The tests use it to time "traffic normal again".
 */
static int udp_ping(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct timespec ts;
	socklen_t len;
	char buf[8] = "ping";
	int fd, cap;

	if (argc < 4)
		return 2;
	cap = atoi(argv[3]);
	fd = socket(tnet_addr(argv[1], atoi(argv[2]), &ss, &len), SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (void *)&ss, len))
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < cap; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		send(fd, buf, sizeof(buf), 0);
		if (poll(&p, 1, 1) == 1 && recv(fd, buf, sizeof(buf), 0) > 0) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			printf("echo %lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
			return 0;
		}
	}
	printf("timeout\n");
	return 0;
}
FC_WORKER(udp_ping, udp_ping);

/* SPDX-License-Identifier: BSD-2-Clause */
/* Network test helpers: addresses, /proc/PID/net/snmp counters, driving `faultcell inject`. */
#ifndef FC_TEST_NET_H
#define FC_TEST_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

int tnet_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len);

/* A counter of /proc/net/snmp in @netns (NULL: ours): "Udp" "RcvbufErrors", "Tcp" ... */
long long tsnmp(const char *netns, const char *proto, const char *field);
/* The same from /proc/net/netstat (TcpExt, IpExt); -1 when absent. */
long long tnetstat(const char *netns, const char *proto, const char *field);

/* A running `faultcell inject ... --json` */
struct tinject {
	pid_t pid;
	int out;
	char run[64];
	char text[16384]; /* everything it printed */
	int status;
	/* the final counter line */
	long long seen, matched, injected, inert_disabled, inert_deadline, inert_heartbeat;
	double first_inert_us, links_gone_ms, first_hit_ms;
};

/* Start inject with argv (after "inject"), wait until it is armed. */
bool tinject_start(struct tinject *t, char *const argv[]);
/* SIGTERM (or let it end on its own with @signal 0), collect output, parse the final line. */
bool tinject_stop(struct tinject *t, int signal);

#endif

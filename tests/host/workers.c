// SPDX-License-Identifier: BSD-2-Clause
/* Small workloads the host tests run inside cells: `fc-test --worker NAME ARGS`. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/net.h"
#include "lib/test.h"

/* udp_send HOST PORT COUNT: unconnected sends; prints "ok=N eperm=N other=N". */
static int udp_send(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam, fd, i, n, ok = 0, eperm = 0, other = 0;

	if (argc < 4)
		return 2;
	fam = tnet_addr(argv[1], atoi(argv[2]), &ss, &len);
	n = atoi(argv[3]);
	fd = socket(fam, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1;
	for (i = 0; i < n; i++) {
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) == 1)
			ok++;
		else if (errno == EPERM)
			eperm++;
		else
			other++;
	}
	printf("ok=%d eperm=%d other=%d\n", ok, eperm, other);
	return 0;
}
FC_WORKER(udp_send, udp_send);

/* syscalls N: N getppid() calls, then exit. */
static int syscalls(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;

	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("done\n");
	return 0;
}
FC_WORKER(syscalls, syscalls);

/* tcp_connect HOST PORT: one connect; prints "ok" or "err=ERRNO". */
static int tcp_connect(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam, fd;

	if (argc < 3)
		return 2;
	fam = tnet_addr(argv[1], atoi(argv[2]), &ss, &len);
	fd = socket(fam, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	if (connect(fd, (struct sockaddr *)&ss, len))
		printf("err=%d\n", errno);
	else
		printf("ok\n");
	close(fd);
	return 0;
}
FC_WORKER(tcp_connect, tcp_connect);

/* sleeper: say "ready", then sleep until killed. */
static int sleeper(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}
FC_WORKER(sleeper, sleeper);

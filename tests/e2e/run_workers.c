// SPDX-License-Identifier: BSD-2-Clause
/* Probes the run tests use as `command` metrics. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "lib/test.h"

/*
 * cell_connect CGROUP PORT: join the cell, connect to 127.0.0.1:PORT, print 1 on success and
 * 0 on failure: the cell's connect success as the service would see it.
 */
static int cell_connect(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char path[4200], pid[32];
	int fd, ok;

	if (argc < 3)
		return 2;
	snprintf(path, sizeof(path), "%s/cgroup.procs", argv[1]);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (fc_write_file(path, pid))
		return 3;
	a.sin_port = htons(atoi(argv[2]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ok = fd >= 0 && connect(fd, (void *)&a, sizeof(a)) == 0;
	printf("%d\n", ok);
	return 0;
}
FC_WORKER(cell_connect, cell_connect);

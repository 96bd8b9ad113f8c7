// SPDX-License-Identifier: BSD-2-Clause
/* Probes the run tests use as `command` metrics, and a scrape target for Prometheus. */
#include <arpa/inet.h>
#include <math.h>
#include <signal.h>
#include <sys/prctl.h>
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

/*
 * counters_http PORT TOTAL_PER_S ERRORS_PER_S: a scrape target whose two counters grow at
 * fixed rates from its start (fc_test_requests_total, fc_test_errors_total), so a burn rate
 * computed by Prometheus has one right answer: ERRORS/TOTAL. Prints "ready" once listening;
 * dies with its parent.
 */
static int counters_http(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	double total, errs, t;
	uint64_t t0 = fc_now_ns();
	char req[1024], body[256], head[128];
	int ls, fd, one = 1, n;

	if (argc < 4)
		return 2;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	total = atof(argv[2]);
	errs = atof(argv[3]);
	a.sin_port = htons(atoi(argv[1]));
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (void *)&a, sizeof(a)) || listen(ls, 64))
		return 3;
	printf("ready\n");
	fflush(stdout);
	while ((fd = accept(ls, NULL, NULL)) >= 0) {
		(void)!read(fd, req, sizeof(req));
		t = (fc_now_ns() - t0) / 1e9;
		n = snprintf(body, sizeof(body),
			     "fc_test_requests_total %.0f\nfc_test_errors_total %.0f\n",
			     floor(total * t), floor(errs * t));
		snprintf(head, sizeof(head),
			 "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			 "Content-Length: %d\r\n\r\n",
			 n);
		(void)!write(fd, head, strlen(head));
		(void)!write(fd, body, n);
		close(fd);
	}
	return 0;
}
FC_WORKER(counters_http, counters_http);

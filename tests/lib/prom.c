// SPDX-License-Identifier: BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/host.h"
#include "lib/prom.h"

bool tprom_available(void)
{
	return !access("/usr/bin/prometheus", X_OK) && !access("/usr/bin/promtool", X_OK);
}

int tfree_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int thttp_get(int port, const char *path, char *buf, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	char req[2048], *body;
	int fd, n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		n = -errno;
		close(fd);
		return n;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, req, n) != n) {
		close(fd);
		return -EIO;
	}
	n = tread_all(fd, buf, len, 5000);
	close(fd);
	body = n > 0 ? strstr(buf, "\r\n\r\n") : NULL;
	if (!body)
		return -EPROTO;
	memmove(buf, body + 4, strlen(body + 4) + 1);
	return strlen(buf);
}

int tprom_start(struct tprom *p, const char *dir, const char *target)
{
	char cfg[256], cfgarg[300], tsdbarg[300], webarg[100];
	FILE *f;

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	p->port = tfree_port();
	if (p->port < 0)
		return -EADDRNOTAVAIL;
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
	f = fopen(cfg, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
		"  - job_name: faultcell\n    static_configs:\n      - targets: ['%s']\n",
		target);
	fclose(f);
	snprintf(cfgarg, sizeof(cfgarg), "--config.file=%s", cfg);
	snprintf(tsdbarg, sizeof(tsdbarg), "--storage.tsdb.path=%s/tsdb", dir);
	snprintf(webarg, sizeof(webarg), "--web.listen-address=127.0.0.1:%d", p->port);
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (p->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl("/usr/bin/prometheus", "prometheus", cfgarg, tsdbarg, webarg, NULL);
		_exit(127);
	}
	return 0;
}

void tprom_stop(struct tprom *p)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGTERM);
	if (twait(p->pid, 10000) < 0) {
		kill(p->pid, SIGKILL);
		twait(p->pid, 5000);
	}
	p->pid = -1;
}

double tprom_value(const char *json)
{
	const char *v = strstr(json, "\"value\":[");

	if (!v || !(v = strchr(v, ',')) || v[1] != '"')
		return NAN;
	return strtod(v + 2, NULL);
}

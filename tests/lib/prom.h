/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A real Prometheus for tests: started on a free loopback port with its TSDB in a scratch
 * directory, scraping the given targets once a second; plus the small HTTP GET the tests use
 * to ask it (and the targets) things.
 */
#ifndef FC_TEST_PROM_H
#define FC_TEST_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tprom {
	pid_t pid;
	int port;
	char dir[128];
};

/* Both binaries installed (packaging/deps.txt); else the caller skips, saying so. */
bool tprom_available(void);
/* A free TCP port on 127.0.0.1 (bound and released: good enough for a test). */
int tfree_port(void);
/* GET http://127.0.0.1:port/path; the body into @buf. Its length or -errno. */
int thttp_get(int port, const char *path, char *buf, size_t len);
/* Start Prometheus in @dir scraping @target ("127.0.0.1:PORT") every second. 0 or -errno. */
int tprom_start(struct tprom *p, const char *dir, const char *target);
void tprom_stop(struct tprom *p);
/* The first sample's value of an instant-query answer; NaN when there is none. */
double tprom_value(const char *json);

#endif

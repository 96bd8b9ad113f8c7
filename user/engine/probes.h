/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * External metric sources (design.md §5): `command`, `http`, `prometheus`. Each window the run
 * starts every probe and collects it at the window's end; one that has not answered by its
 * timeout (kept below max_gap/2 by validation) is killed and counts as "no data", so a hung
 * probe can never keep a fault armed unmonitored. Commands are exec'd at once after the fork
 * (a forked child holds the loader's link fds until exec); HTTP is non-blocking sockets in
 * the loader itself.
 */
#ifndef FC_PROBES_H
#define FC_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/experiment.h"

struct fc_probe {
	const struct fc_metric *m;
	/* in flight */
	bool running;
	uint64_t started_ns, deadline_ns;
	uint64_t done_ns; /* when the answer was complete (a command: reaped); 0 while not */
	int status;	  /* a command's wait status, once reaped */
	pid_t pid;	  /* command */
	int fd;		  /* command stdout, or the HTTP socket */
	int phase;	  /* http: 0 connecting, 1 sent, 2 reading */
	char req[8192];
	size_t reqlen, reqsent;
	char buf[8192];
	size_t len;
	/* result of the last finished run */
	bool ok;
	double value;
	char err[160];
};

void fc_probe_init(struct fc_probe *p, const struct fc_metric *m);
/* Start a run (a previous one still in flight is killed first). */
int fc_probe_start(struct fc_probe *p);
/* Make progress without blocking; true once the run has finished or its timeout passed. */
bool fc_probe_poll(struct fc_probe *p);
/*
 * End the run: an answer complete within the timeout → its result; else killed, and "no data:
 * timed out" (for http `up`: 0, down).
 */
void fc_probe_finish(struct fc_probe *p);
void fc_probe_close(struct fc_probe *p);

/* Parse a Prometheus instant-query answer: the first sample's value. 0 or -ENODATA. */
int fc_prom_parse(const char *body, double *out);
/* "http://host:port/path" → host, port, path. 0 or -EINVAL (only http://). */
int fc_url_split(const char *url, char *host, size_t hl, int *port, char *path, size_t pl);
/* An IPv4 or IPv6 address, or "localhost": what a probe connects to without a lookup. */
bool fc_url_host_ok(const char *host);

/* Longest PromQL query accepted (validation); a request holds two of them, URL-encoded. */
#define FC_PROM_MAX_QUERY 1000

#endif

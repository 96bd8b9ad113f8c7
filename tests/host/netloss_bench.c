// SPDX-License-Identifier: BSD-2-Clause
/*
 * Bench workers for the network faults (bench/p1-rr.sh, bench/p2-prog-cost.sh):
 *   fc-test --worker bench_p2 [ROUNDS]   per-packet cost of the loss program vs an empty one
 *   fc-test --worker rr_server PORT      TCP request/response server on 127.0.0.1
 *   fc-test --worker rr_client PORT SECS transactions per second over one connection
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "core/control.h"
#include "core/util.h"
#include "faults/netmatch.h"
#include "fc_net.h"
#include "lib/test.h"
#include "bench.skel.h"
#include "netloss.skel.h"

/* An IPv4/UDP frame to 10.0.0.2:9999 from 10.0.0.1:5555, Ethernet framed. */
static void make_pkt(unsigned char *p, size_t len)
{
	memset(p, 0, len);
	p[12] = 0x08; /* ETH_P_IP */
	p[14] = 0x45;
	p[16] = 0;
	p[17] = len - 14;
	p[22] = 64;
	p[23] = 17; /* UDP */
	p[26] = 10, p[29] = 1;
	p[30] = 10, p[33] = 2;
	p[34] = 5555 >> 8, p[35] = 5555 & 0xff;
	p[36] = 9999 >> 8, p[37] = 9999 & 0xff;
}

static double ns_per_run(int prog_fd, int repeat)
{
	unsigned char pkt[64];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = repeat);

	make_pkt(pkt, sizeof(pkt));
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return NAN;
	return o.duration; /* the kernel reports the mean ns per repetition */
}

struct p2_case {
	const char *name;
	const char *ports;
	const char *cidrs;
};

static int load_case(struct fc_core *core, const struct p2_case *c, struct netloss_bpf **out)
{
	struct fc_netmatch nm = {};
	struct fc_netloss_cfg k = {};
	struct fc_diags d = {};
	struct fc_fault_spec spec = { .type = "network-loss" };
	struct netloss_bpf *s = netloss_bpf__open();
	__u32 zero = 0;
	int err;

	if (!s)
		return -errno;
	err = fc_core_prepare(core, s->obj);
	s->rodata->fc_bench_no_cell = 1;
	bpf_program__set_autoload(s->progs.fc_netloss_ingress, false);
	bpf_program__set_autoload(s->progs.fc_netloss_model, false);
	err = err ?: netloss_bpf__load(s);
	if (err)
		goto fail;
	fc_spec_set(&spec, "match.proto", "udp", 0, 0);
	if (c->ports)
		fc_spec_set(&spec, "match.ports", c->ports, 0, 0);
	if (c->cidrs)
		fc_spec_set(&spec, "match.cidrs", c->cidrs, 0, 0);
	err = fc_netmatch_parse(&spec, &nm, &d);
	err = err
		  ?: fc_netmatch_fill(&nm, bpf_map__fd(s->maps.fc_cidr4),
				      bpf_map__fd(s->maps.fc_cidr6));
	if (err)
		goto fail;
	k.m = nm.m;
	k.p_loss = 0; /* matched and armed, never dropped: test_run keeps the same packet */
	if (bpf_map_update_elem(bpf_map__fd(s->maps.fc_netloss_cfg), &zero, &k, 0)) {
		err = -errno;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	netloss_bpf__destroy(s);
	return err;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* bench_p2 [ROUNDS]: prints one line per case: name median_ns_above_empty lo hi */
static int bench_p2(int argc, char **argv)
{
	static const struct p2_case cases[] = {
		{ "no_match_port", "80", NULL },
		{ "match_port", "9999", NULL },
		{ "match_lpm", "9999", "10.0.0.0/8" },
		{ "no_match_lpm", "9999", "192.168.0.0/16" },
	};
	int rounds = argc > 1 ? atoi(argv[1]) : 11, repeat = 1000000;
	struct netloss_bpf *skel[4] = {};
	struct bench_bpf *empty = NULL;
	struct fc_core core;
	double diff[4][64];
	int err, rc = 1;

	if (rounds > 64)
		rounds = 64;
	err = fc_core_open(&core, "bench-p2", 0);
	if (err)
		return 1;
	/* armed for the whole bench: the match path includes the control check */
	fc_core_arm(&core, fc_now_coarse_ns() + 3600 * NSEC_PER_SEC, 3600 * NSEC_PER_SEC);
	empty = bench_bpf__open_and_load();
	if (!empty) {
		fprintf(stderr, "bench_p2: cannot load the empty programs\n");
		goto out;
	}
	for (int c = 0; c < 4; c++) {
		if (load_case(&core, &cases[c], &skel[c])) {
			fprintf(stderr, "bench_p2: cannot load case %s\n", cases[c].name);
			goto out;
		}
	}
	/* interleave the cases round by round, so drift hits every case alike */
	for (int r = 0; r < rounds; r++) {
		for (int c = 0; c < 4; c++) {
			double e =
			    ns_per_run(bpf_program__fd(empty->progs.fc_bench_empty_tc), repeat);
			double f =
			    ns_per_run(bpf_program__fd(skel[c]->progs.fc_netloss_egress), repeat);

			diff[c][r] = f - e;
		}
	}
	for (int c = 0; c < 4; c++) {
		qsort(diff[c], rounds, sizeof(double), cmp_d);
		/* median with a distribution-free ~95% interval (order statistics) */
		int lo = rounds / 2 - (int)(0.98 * sqrt(rounds)),
		    hi = rounds / 2 + (int)(0.98 * sqrt(rounds));

		lo = lo < 0 ? 0 : lo;
		hi = hi >= rounds ? rounds - 1 : hi;
		printf("%s %.1f %.1f %.1f\n", cases[c].name, diff[c][rounds / 2], diff[c][lo],
		       diff[c][hi]);
	}
	rc = 0;
out:
	for (int c = 0; c < 4; c++)
		netloss_bpf__destroy(skel[c]);
	bench_bpf__destroy(empty);
	fc_core_close(&core);
	return rc;
}
FC_WORKER(bench_p2, bench_p2);

/* rr_server PORT: 1-byte request/response over TCP on 127.0.0.1, one client at a time. */
static int rr_server(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	char b;

	if (argc < 2)
		return 2;
	a.sin_port = htons(atoi(argv[1]));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (void *)&a, sizeof(a)) || listen(lfd, 8))
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (read(fd, &b, 1) == 1 && write(fd, &b, 1) == 1)
			;
		close(fd);
	}
	return 0;
}
FC_WORKER(rr_server, rr_server);

/* rr_client PORT SECS: prints transactions per second. */
static int rr_client(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	uint64_t end, t0, n = 0;
	char b = 'x';

	if (argc < 3)
		return 2;
	a.sin_port = htons(atoi(argv[1]));
	if (connect(fd, (void *)&a, sizeof(a)))
		return 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t0 = fc_now_ns();
	end = t0 + atof(argv[2]) * NSEC_PER_SEC;
	while (fc_now_ns() < end) {
		if (write(fd, &b, 1) != 1 || read(fd, &b, 1) != 1)
			return 1;
		n++;
	}
	printf("%.1f\n", n / ((fc_now_ns() - t0) / 1e9));
	return 0;
}
FC_WORKER(rr_client, rr_client);

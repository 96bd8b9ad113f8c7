// SPDX-License-Identifier: BSD-2-Clause
/*
 * Workloads for the tracer tests, run inside cells as `fc-test --worker NAME ...`. Each times
 * its own calls with clock_gettime and prints what it saw, so the tests compare the kernel's
 * histograms against the workload's own exact percentiles.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/test.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t seed = 42;

static double unif(void)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((seed >> 11) + 0.5) / 9007199254740992.0;
}

static double lognormal(double median, double sigma)
{
	return median * exp(sigma * sqrt(-2 * log(unif())) * cos(2 * M_PI * unif()));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* "n=N p50=.. p90=.. p99=.. p999=.. max=.. pid=P" by nearest rank, in ns. */
static void report(uint64_t *d, size_t n)
{
	static const double q[] = { 0.5, 0.9, 0.99, 0.999 };
	static const char *const name[] = { "p50", "p90", "p99", "p999" };
	size_t i, r;

	qsort(d, n, sizeof(*d), cmp_u64);
	printf("n=%zu", n);
	for (i = 0; i < 4; i++) {
		r = (size_t)ceil(q[i] * n - 1e-9);
		printf(" %s=%llu", name[i], (unsigned long long)d[r ? r - 1 : 0]);
	}
	printf(" max=%llu pid=%d\n", (unsigned long long)d[n - 1], getpid());
	fflush(stdout);
}

/* sleeplat N MEDIAN_US SIGMA: N nanosleep syscalls of lognormal length, timed. */
static int sleeplat(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000, i;
	double med = argc > 2 ? atof(argv[2]) : 300, sig = argc > 3 ? atof(argv[3]) : 0.5;
	uint64_t *d = calloc(n, sizeof(*d)), t0;
	struct timespec ts;

	if (!d)
		return 1;
	prctl(PR_SET_NAME, "fcw-sleep");
	/* default timer slack (50 us) would dominate short sleeps */
	prctl(PR_SET_TIMERSLACK, 1);
	seed ^= getpid();
	for (i = 0; i < n; i++) {
		uint64_t ns = (uint64_t)(lognormal(med, sig) * 1000);

		ts.tv_sec = ns / 1000000000ULL;
		ts.tv_nsec = ns % 1000000000ULL;
		t0 = now_ns();
		/* the syscall itself: glibc's nanosleep() would use clock_nanosleep */
		syscall(SYS_nanosleep, &ts, NULL);
		d[i] = now_ns() - t0;
	}
	report(d, n);
	free(d);
	return 0;
}
FC_WORKER(sleeplat, sleeplat);

/* The function function_latency traces: spins for @ns (exported, never inlined). */
__attribute__((noinline, used)) uint64_t fc_trace_test_fn(uint64_t ns)
{
	uint64_t t0 = now_ns(), t;

	while ((t = now_ns()) - t0 < ns)
		;
	return t - t0;
}

/* fnlat N MEDIAN_US SIGMA: N calls of fc_trace_test_fn of lognormal length, timed. */
static int fnlat(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000, i;
	double med = argc > 2 ? atof(argv[2]) : 50, sig = argc > 3 ? atof(argv[3]) : 0.5;
	uint64_t *d = calloc(n, sizeof(*d)), t0;

	if (!d)
		return 1;
	prctl(PR_SET_NAME, "fcw-func");
	seed ^= getpid();
	for (i = 0; i < n; i++) {
		uint64_t ns = (uint64_t)(lognormal(med, sig) * 1000);

		t0 = now_ns();
		fc_trace_test_fn(ns);
		d[i] = now_ns() - t0;
	}
	report(d, n);
	free(d);
	return 0;
}
FC_WORKER(fnlat, fnlat);

/* errs N GAP_US: N openat() calls that fail with ENOENT, GAP_US apart; "pid=P n=N". */
static int errs(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100, gap = argc > 2 ? atol(argv[2]) : 0, i, bad = 0;

	prctl(PR_SET_NAME, "fcw-errs");
	for (i = 0; i < n; i++) {
		if (syscall(SYS_openat, AT_FDCWD, "/nonexistent/faultcell", O_RDONLY) >= 0 ||
		    errno != ENOENT)
			bad++;
		if (gap)
			usleep(gap);
	}
	printf("pid=%d n=%ld bad=%ld\n", getpid(), n, bad);
	return 0;
}
FC_WORKER(errs, errs);

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* conn PORT CPU: one timed connect to 127.0.0.1:PORT from CPU; "ok ns=D pid=P" or "err=E". */
static int conn(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint64_t t0;
	int fd;

	if (argc < 3)
		return 2;
	prctl(PR_SET_NAME, "fcw-conn");
	pin(atoi(argv[2]));
	a.sin_port = htons(atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	t0 = now_ns();
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		printf("err=%d pid=%d\n", errno, getpid());
	else
		printf("ok ns=%llu pid=%d\n", (unsigned long long)(now_ns() - t0), getpid());
	close(fd);
	return 0;
}
FC_WORKER(conn, conn);

/* spin CPU: say "ready", then burn CPU pinned to CPU until killed (the "outside" load). */
static int spin(int argc, char **argv)
{
	volatile uint64_t x = 0;

	prctl(PR_SET_NAME, "fcw-spin");
	pin(argc > 1 ? atoi(argv[1]) : 0);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		x++;
	return 0;
}
FC_WORKER(spin, spin);

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The test runner: fc-test [--tier unit,host,e2e] [--vm] [-f FILTER] [--list]
 *                  fc-test --worker NAME [args]
 * Each test runs in its own forked child with a time cap, so a crash or a hang fails that test
 * alone and the cleanup of the others still runs. Results come back through shared memory.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "lib/host.h"
#include "lib/test.h"

extern const struct fc_test __start_fc_tests[], __stop_fc_tests[];
extern const struct fc_worker __start_fc_workers[], __stop_fc_workers[];

struct result {
	int passed, failed, skipped;
	/* state of the running test, in the child */
	int sub_active, sub_failed, sub_skipped, any_sub, top_failed, top_skipped;
	char sub_name[128];
	/* names of what failed, printed again just before the closing line */
	char failed_names[2048];
};

static struct result *res;
static const struct fc_test *cur;
static const char *filter;
static bool private_dirs;
static char self_path[PATH_MAX], fc_path[PATH_MAX];

const char *test__faultcell(void)
{
	return fc_path;
}

const char *test__self(void)
{
	return self_path;
}

/* A filter "name" or "name/sub" (globs allowed) selects tests and subtests. */
static bool match_test(const char *name)
{
	char pat[256], *slash;

	if (!filter)
		return true;
	snprintf(pat, sizeof(pat), "%s", filter);
	slash = strchr(pat, '/');
	if (slash)
		*slash = 0;
	return !fnmatch(pat, name, 0) || (!slash && strstr(name, pat));
}

static bool match_sub(const char *sub)
{
	const char *slash = filter ? strchr(filter, '/') : NULL;

	return !slash || !fnmatch(slash + 1, sub, 0) || strstr(sub, slash + 1);
}

static void note_failed(const char *name, const char *sub)
{
	size_t n = strlen(res->failed_names);

	if (n + strlen(name) + 40 >= sizeof(res->failed_names))
		return;
	snprintf(res->failed_names + n, sizeof(res->failed_names) - n, " %s%s%s", name,
		 sub ? "/" : "", sub ? sub : "");
}

static void end_subtest(void)
{
	if (!res->sub_active)
		return;
	if (res->sub_failed) {
		printf("  FAIL %s/%s\n", cur->name, res->sub_name);
		note_failed(cur->name, res->sub_name);
		res->failed++;
	} else if (res->sub_skipped) {
		res->skipped++;
	} else {
		printf("  ok   %s/%s\n", cur->name, res->sub_name);
		res->passed++;
	}
	fflush(stdout);
	res->sub_active = 0;
}

bool test__start_subtest(const char *name)
{
	end_subtest();
	if (!match_sub(name))
		return false;
	res->any_sub = 1;
	res->sub_active = 1;
	res->sub_failed = res->sub_skipped = 0;
	snprintf(res->sub_name, sizeof(res->sub_name), "%s", name);
	return true;
}

void test__skip(const char *fmt, ...)
{
	va_list ap;

	printf("  SKIP %s%s%s: ", cur->name, res->sub_active ? "/" : "",
	       res->sub_active ? res->sub_name : "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (res->sub_active)
		res->sub_skipped = 1;
	else
		res->top_skipped = 1;
}

void test__fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("    %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (res->sub_active)
		res->sub_failed = 1;
	else
		res->top_failed = 1;
}

void test__log(const char *fmt, ...)
{
	va_list ap;

	fputs("    ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void test__record(const char *name, double value, const char *unit)
{
	const char *path = getenv("FC_TEST_RECORD");
	FILE *f;

	test__log("measured %s = %.6g %s", name, value, unit);
	if (!path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "%s %.9g %s\n", name, value, unit);
	fclose(f);
}

/*
 * A state file in the private run directory after a test means a run that was not rolled back
 * and finished. A guard's recovery runs asynchronously after its loader dies, so allow it time
 * (polling, generous on slow TCG guests); then fail this test, name the file, and recover it so
 * the next test starts clean.
 */
static void check_state_leak(const struct fc_test *t)
{
	const char *dir = getenv("FAULTCELL_RUN_DIR");
	int i;

	if (!private_dirs || !dir)
		return;
	for (i = 0; i < 300; i++) {
		glob_t g;
		char pat[PATH_MAX];
		int r;

		snprintf(pat, sizeof(pat), "%s/*.state", dir);
		r = glob(pat, 0, NULL, &g);
		globfree(&g);
		if (r)
			return;
		usleep(50000);
	}
	if (res->sub_active)
		end_subtest();
	test__fail(t->file, 0, "%s: left a state file after 15 s (a run not rolled back)", t->name);
	tsh("for f in %s/*.state; do echo \"    leaked $f:\"; head -c 600 \"$f\" | sed 's/^/      "
	    "/';"
	    " done; %s recover >/dev/null 2>&1; rm -f %s/*.state",
	    dir, fc_path, dir);
}

static void run_one(const struct fc_test *t, int timeout_s)
{
	struct timespec t0, t1;
	int status = 0, waited = 0;
	pid_t pid;

	cur = t;
	res->sub_active = res->any_sub = res->top_failed = res->top_skipped = 0;
	if ((t->flags & FC_T_ROOT) && geteuid() != 0) {
		test__skip("needs root");
		res->skipped++;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* The test's own process group, so a hung test's workers die with it. */
		setpgid(0, 0);
		t->fn();
		end_subtest();
		fflush(stdout);
		_exit(0);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited++ > timeout_s * 20) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			test__fail(t->file, 0, "%s: timed out after %d s", t->name, timeout_s);
			break;
		}
		usleep(50000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* whatever the test left (it crashed, or its cleanup failed) goes now */
	tsweep(pid);
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		test__fail(t->file, 0, "%s: crashed with signal %d", t->name, WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		test__fail(t->file, 0, "%s: exited %d", t->name, WEXITSTATUS(status));
	if (res->sub_active) {
		/* the child died inside a subtest: count it as failed there */
		res->sub_failed = 1;
		end_subtest();
	}
	check_state_leak(t);
	if (res->top_failed) {
		printf("FAIL %s\n", t->name);
		note_failed(t->name, NULL);
		res->failed++;
	} else if (res->top_skipped) {
		res->skipped++;
	} else if (!res->any_sub) {
		printf("ok   %s (%.2fs)\n", t->name,
		       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
		res->passed++;
	}
	fflush(stdout);
}

static unsigned int parse_tiers(const char *s)
{
	unsigned int m = 0;

	if (strstr(s, "unit"))
		m |= TIER_UNIT;
	if (strstr(s, "host"))
		m |= TIER_HOST;
	if (strstr(s, "e2e"))
		m |= TIER_E2E;
	return m;
}

static int run_worker(int argc, char **argv)
{
	const struct fc_worker *w;

	for (w = __start_fc_workers; w < __stop_fc_workers; w++)
		if (!strcmp(w->name, argv[0]))
			return w->fn(argc, argv);
	fprintf(stderr, "fc-test: no worker '%s'\n", argv[0]);
	return 2;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: fc-test [--tier unit,host,e2e] [--vm] [-f NAME[/SUB]] [--list]\n"
		   "       fc-test --worker NAME [ARGS...]\n"
		   "Runs faultcell's tests; prints 'N passed, N failed, N skipped' last.\n"
		   "Examples:\n"
		   "  fc-test --tier unit\n"
		   "  fc-test -f 'control_*'      # tests whose name matches\n"
		   "  fc-test -f probe/cgroup_skb # one subtest\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tier", required_argument, NULL, 't' },
		{ "vm", no_argument, NULL, 'm' },
		{ "filter", required_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ "worker", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned int tiers = TIER_UNIT | TIER_HOST | TIER_E2E;
	bool vm_only = false, list = false;
	int timeout_s = 300, c;
	const struct fc_test *t;
	char *slash;

	if (!realpath("/proc/self/exe", self_path))
		snprintf(self_path, sizeof(self_path), "%s", argv[0]);
	if (getenv("FAULTCELL"))
		snprintf(fc_path, sizeof(fc_path), "%s", getenv("FAULTCELL"));
	else {
		snprintf(fc_path, sizeof(fc_path), "%s", self_path);
		slash = strrchr(fc_path, '/');
		snprintf(slash + 1, sizeof(fc_path) - (slash + 1 - fc_path), "faultcell");
	}
	fc_log_init();
	fc_verbosity = getenv("FC_VERBOSE") ? atoi(getenv("FC_VERBOSE")) : FC_LOG_WARN;
	if (argc > 2 && !strcmp(argv[1], "--worker"))
		return run_worker(argc - 2, argv + 2);

	while ((c = getopt_long(argc, argv, "t:mf:lT:vh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tiers = parse_tiers(optarg);
			break;
		case 'm':
			vm_only = true;
			break;
		case 'f':
			filter = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'T':
			timeout_s = atoi(optarg);
			break;
		case 'v':
			fc_verbosity++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/*
	 * Private run, state and journal directories for this test process and everything it
	 * starts (the env is inherited): tests never contend for, or leave a freeze file in, the
	 * host's real /run/faultcell and /var/lib/faultcell.
	 */
	if (!getenv("FAULTCELL_RUN_DIR")) {
		char d[64];

		snprintf(d, sizeof(d), "/run/faultcell-test/%d", getpid());
		setenv("FAULTCELL_RUN_DIR", d, 1);
		snprintf(d, sizeof(d), "/tmp/faultcell-test-%d/state", getpid());
		setenv("FAULTCELL_STATE_DIR", d, 1);
		snprintf(d, sizeof(d), "/tmp/faultcell-test-%d/journal", getpid());
		setenv("FAULTCELL_JOURNAL_DIR", d, 1);
		private_dirs = true;
	}
	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		perror("mmap");
		return 7;
	}
	memset(res, 0, sizeof(*res));
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (t = __start_fc_tests; t < __stop_fc_tests; t++) {
		if (!(t->flags & tiers) || (vm_only && !(t->flags & FC_T_VM)) ||
		    !match_test(t->name))
			continue;
		if (list) {
			printf("%s\n", t->name);
			continue;
		}
		run_one(t, timeout_s);
	}
	if (list)
		return 0;
	if (private_dirs) {
		/* a state file left here is a test that leaked: say so, it fails the run */
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "ls %s/*.state 2>/dev/null",
			 getenv("FAULTCELL_RUN_DIR"));
		if (tsh("%s | grep -q .", cmd) == 0) {
			printf("FAIL leftover state files in %s\n", getenv("FAULTCELL_RUN_DIR"));
			res->failed++;
		}
		tsh("rm -rf %s /tmp/faultcell-test-%d; rmdir /run/faultcell-test 2>/dev/null",
		    getenv("FAULTCELL_RUN_DIR"), getpid());
	}
	if (res->failed_names[0])
		printf("failed:%s\n", res->failed_names);
	printf("%d passed, %d failed, %d skipped\n", res->passed, res->failed, res->skipped);
	return res->failed ? 1 : 0;
}

/* The trivial worker: also keeps the fc_workers section present. */
static int worker_true(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}
FC_WORKER(true, worker_true);

// SPDX-License-Identifier: BSD-2-Clause
/*
 * `faultcell probe` (issue 2). Written not to know this kernel: every mechanism the probe
 * calls available is probed again on its own and must run again (hits > 0); every one it calls
 * missing must carry the kernel's error. Only probe_this_host states what this sandbox kernel
 * ("-fc-" in its release) has, so the same tests pass in the Debian guests.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/inventory.h"
#include "core/probe.h"
#include "core/util.h"
#include "lib/host.h"
#include "lib/test.h"
#include "probe.skel.h"

/* Our network namespace, by inode: the probe must come back to it. */
static ino_t netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

static bool scratch_cell_exists(pid_t pid)
{
	char mnt[PATH_MAX], path[PATH_MAX + 32];
	struct stat st;

	if (fc_cgroup2_mount(mnt, sizeof(mnt)))
		return false;
	snprintf(path, sizeof(path), "%s/fc-probe-%d", mnt, pid);
	return !stat(path, &st);
}

static bool has_stage(const char *error)
{
	const char *colon = strchr(error, ':');

	/* "stage: reason", both non-empty */
	return colon && colon > error && colon[1] == ' ' && colon[2];
}

/*
 * Keep only the items of our probe runs: other sessions may load their own programs on this
 * machine while we run, and their items are not ours to judge.
 */
static void keep_runs(struct fc_inventory *inv, char runs[][FC_RUN_ID_LEN], int nruns)
{
	int n = 0;

	for (int i = 0; i < inv->n; i++)
		for (int j = 0; j < nruns; j++)
			if (!strcmp(inv->items[i].run, runs[j])) {
				inv->items[n++] = inv->items[i];
				break;
			}
	inv->n = n;
}

FC_TEST(probe_mechanisms, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	static char runs[64][FC_RUN_ID_LEN];
	struct fc_inventory before = {}, after = {};
	struct fc_probe *p = NULL;
	ino_t ns = netns_ino();
	char diff[2048];
	int err, i, nruns = 0;

	if (!ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before"))
		return;
	p = fc_probe_new(NULL);
	if (!ASSERT_OK_PTR(p, "fc_probe_new"))
		goto out;
	err = fc_probe_run(p);
	if (!ASSERT_OK(err, "fc_probe_run"))
		goto out;
	test__record("probe_total", p->total_ns / 1e6, "ms");
	snprintf(runs[nruns++], FC_RUN_ID_LEN, "%s", p->run_id);

	for (i = 0; i < p->nmech; i++) {
		const struct fc_probe_result *r = &p->mech[i], *again;
		struct fc_probe_opts o = { .sz = sizeof(o), .only = r->name };
		struct fc_probe *p1;

		if (!test__start_subtest(r->name))
			continue;
		ASSERT_TRUE(r->probed, "probed in a full run");
		if (!r->available) {
			test__log("%s missing: %s%s%s", r->name, r->error,
				  r->detail[0] ? " / " : "", r->detail);
			ASSERT_TRUE(has_stage(r->error),
				    "missing mechanism records 'stage: error'");
			ASSERT_EQ(r->hits == 0 || r->error[0], 1, "hits without error explained");
			continue;
		}
		ASSERT_GT(r->hits, 0, "available means it ran");
		ASSERT_STREQ(r->error, "", "no error when available");
		/* trigger it again, alone: a mechanism that only worked by accident fails here */
		p1 = fc_probe_new(&o);
		if (!ASSERT_OK_PTR(p1, "fc_probe_new --only"))
			continue;
		if (ASSERT_OK(fc_probe_run(p1), "probe alone")) {
			if (nruns < 64)
				snprintf(runs[nruns++], FC_RUN_ID_LEN, "%s", p1->run_id);
			again = fc_probe_find(p1, r->name);
			if (ASSERT_OK_PTR(again, "result")) {
				ASSERT_TRUE(again->available, again->error);
				ASSERT_GT(again->hits, 0, "ran again when probed alone");
			}
			ASSERT_FALSE(fc_probe_find(p1, "cgroup2")->probed &&
					 strcmp(r->name, "cgroup2"),
				     "--only probes nothing else");
		}
		fc_probe_free(p1);
	}

	if (test__start_subtest("leaves_nothing")) {
		if (ASSERT_OK(fc_inventory_collect(&after, NULL), "inventory after")) {
			int others = fc_inventory_new_items(&before, &after, NULL, 0);

			keep_runs(&after, runs, nruns);
			ASSERT_EQ(fc_inventory_new_items(&before, &after, diff, sizeof(diff)), 0,
				  diff);
			if (others > 0)
				test__log("%d new inventory item(s) of other runs ignored", others);
		}
		ASSERT_EQ(p->leftover, 0, "no program of the run alive at return");
		ASSERT_FALSE(scratch_cell_exists(getpid()), "scratch cell removed");
		ASSERT_EQ(netns_ino(), ns, "back in the original netns");
	}
out:
	fc_inventory_free(&before);
	fc_inventory_free(&after);
	fc_probe_free(p);
}

/* While a probe program lives, the inventory sees it under the probe's run id. */
FC_TEST(probe_tagged, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct fc_probe_result r = { .name = "raw_tp" };
	struct fc_inventory inv = {};
	struct probe_bpf *skel = NULL;
	struct fc_probe *p;
	int n = 0;

	p = fc_probe_new(NULL);
	if (!ASSERT_OK_PTR(p, "fc_probe_new"))
		return;
	fc_make_run_id(p->run_id, sizeof(p->run_id));
	skel = probe_load(p, &r, "p_raw_tp");
	if (!skel) {
		/* raw_tp missing is allowed, but then it must say why */
		ASSERT_TRUE(has_stage(r.error), "load failure recorded");
		goto out;
	}
	if (ASSERT_OK(fc_inventory_collect(&inv, p->run_id), "inventory of the run"))
		for (int i = 0; i < inv.n; i++)
			n += inv.items[i].kind == INV_PROG;
	ASSERT_EQ(n, 1, "the loaded probe program is tagged");
	probe_bpf__destroy(skel);
	fc_inventory_free(&inv);
	if (ASSERT_OK(fc_inventory_collect(&inv, p->run_id), "inventory after destroy"))
		ASSERT_EQ(inv.n, 0, "gone with its skeleton");
out:
	fc_inventory_free(&inv);
	fc_probe_free(p);
}

/* What this sandbox kernel is known to have and to refuse (kernel-facts.md). */
FC_TEST(probe_this_host, TIER_HOST | FC_T_ROOT)
{
	static const char *const yes[] = { "tp_btf",	"raw_tp",	 "cgroup_skb",
					   "tc_clsact", "sock_addr",	 "ringbuf",
					   "cgroup2",	"cgroup_freeze", "cgroup_kill" };
	static const struct {
		const char *name, *error;
	} no[] = {
		{ "fentry", "load: Operation not permitted" },
		{ "fexit", "load: Operation not permitted" },
		{ "lsm", "load: Operation not permitted" },
		{ "kprobe", "attach: No such file or directory" },
		{ "sch_fq", "add: No such file or directory" },
	};
	const struct fc_probe_result *r;
	struct fc_probe *p;
	struct utsname u;

	if (uname(&u) || !strstr(u.release, "-fc-")) {
		test__skip("not the sandbox kernel (%s): its expectations do not apply", u.release);
		return;
	}
	p = fc_probe_new(NULL);
	if (!ASSERT_OK_PTR(p, "fc_probe_new") || !ASSERT_OK(fc_probe_run(p), "run"))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		r = fc_probe_find(p, yes[i]);
		if (ASSERT_OK_PTR(r, yes[i]))
			ASSERT_TRUE(r->available, yes[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		r = fc_probe_find(p, no[i].name);
		if (ASSERT_OK_PTR(r, no[i].name) && ASSERT_FALSE(r->available, no[i].name))
			ASSERT_STREQ(r->error, no[i].error, no[i].name);
	}
	ASSERT_TRUE(p->faults[0].available, "network-loss runs here");
	ASSERT_FALSE(p->faults[2].available, "network-latency refused here (no sch_fq)");
	ASSERT_FALSE(p->faults[5].available, "file-error refused here (no trampolines)");
out:
	fc_probe_free(p);
}

/* ---- `faultcell probe --json`: a minimal JSON checker, structure only ---- */

static const char *jvalue(const char *s, int depth);

static const char *jws(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

static const char *jstring(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (; *s && *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\' && !*++s)
			return NULL;
	}
	return *s == '"' ? s + 1 : NULL;
}

static const char *jlist(const char *s, int depth, char close, bool object)
{
	s = jws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (object) {
			s = jstring(jws(s));
			if (!s || *(s = jws(s)) != ':')
				return NULL;
			s++;
		}
		s = jvalue(s, depth + 1);
		if (!s)
			return NULL;
		s = jws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *jvalue(const char *s, int depth)
{
	char *end;

	s = jws(s);
	if (depth > 16)
		return NULL;
	if (*s == '{')
		return jlist(s, depth, '}', true);
	if (*s == '[')
		return jlist(s, depth, ']', false);
	if (*s == '"')
		return jstring(s);
	for (const char *lit = "true\0false\0null\0"; *lit; lit += strlen(lit) + 1)
		if (!strncmp(s, lit, strlen(lit)))
			return s + strlen(lit);
	strtod(s, &end);
	return end > s ? end : NULL;
}

static bool json_ok(const char *s)
{
	s = jvalue(s, 0);
	return s && !*jws(s);
}

static int run_fc(char *const argv[], char *out, size_t len)
{
	int ofd, efd, st;
	pid_t pid = tspawn_fc(argv, &ofd, &efd);
	char err[4096];

	if (pid < 0)
		return pid;
	tread_all(ofd, out, len, 60000);
	tread_all(efd, err, sizeof(err), 1000);
	close(ofd);
	close(efd);
	st = twait(pid, 60000);
	if (err[0])
		test__log("stderr: %s", err);
	return st;
}

FC_TEST(probe_cli, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	static char out[64 * 1024];

	if (test__start_subtest("json")) {
		char *a[] = { "probe", "--json", NULL };
		char key[64];

		out[0] = 0;
		if (ASSERT_EQ(run_fc(a, out, sizeof(out)), 0, "exit 0")) {
			ASSERT_TRUE(json_ok(out), "output parses as JSON");
			ASSERT_STRSTR(out, "\"mechanisms\":[", "mechanisms array");
			ASSERT_STRSTR(out, "\"faults\":[", "faults array");
			ASSERT_STRSTR(out, "\"metrics\":[", "metrics array");
			for (const char *const *n = fc_probe_mech_names(); *n; n++) {
				snprintf(key, sizeof(key), "{\"name\":\"%s\",", *n);
				ASSERT_STRSTR(out, key, "every mechanism reported");
			}
			ASSERT_STRSTR(out, "{\"name\":\"network-loss\",", "fault verdicts");
			ASSERT_STRSTR(out, "{\"name\":\"tcp_connect_latency\",", "metric verdicts");
		}
	}
	if (test__start_subtest("only_json")) {
		char *a[] = { "probe", "--json", "--only", "raw_tp", NULL };

		out[0] = 0;
		if (ASSERT_EQ(run_fc(a, out, sizeof(out)), 0, "exit 0")) {
			ASSERT_TRUE(json_ok(out), "output parses as JSON");
			ASSERT_STRSTR(out, "{\"name\":\"raw_tp\",", "the one mechanism");
			ASSERT_TRUE(!strstr(out, "{\"name\":\"tcx\","), "and no other");
		}
	}
	if (test__start_subtest("bad_usage")) {
		char *a[] = { "probe", "--only", "no_such_mechanism", NULL };
		char *b[] = { "probe", "--frob", NULL };
		char *c[] = { "probe", "extra", NULL };

		ASSERT_EQ(run_fc(a, out, sizeof(out)), 2, "unknown mechanism: exit 2");
		ASSERT_EQ(run_fc(b, out, sizeof(out)), 2, "unknown option: exit 2");
		ASSERT_EQ(run_fc(c, out, sizeof(out)), 2, "extra argument: exit 2");
	}
	if (test__start_subtest("help")) {
		char *a[] = { "probe", "--help", NULL };

		out[0] = 0;
		ASSERT_EQ(run_fc(a, out, sizeof(out)), 0, "exit 0");
		ASSERT_STRSTR(out, "Usage: faultcell probe", "usage");
		ASSERT_STRSTR(out, "Examples:", "examples");
	}
	if (test__start_subtest("not_root")) {
		int st = -1;
		pid_t pid = fork();

		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 1);
			dup2(fd, 2);
			if (setgid(65534) || setuid(65534))
				_exit(100);
			execl(test__faultcell(), "faultcell", "probe", NULL);
			_exit(127);
		}
		if (ASSERT_GT(pid, 0, "fork")) {
			waitpid(pid, &st, 0);
			ASSERT_TRUE(WIFEXITED(st), "exited");
			ASSERT_EQ(WEXITSTATUS(st), 3, "not root: exit 3");
		}
	}
}

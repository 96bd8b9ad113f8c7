// SPDX-License-Identifier: BSD-2-Clause
/*
 * file-error through `faultcell inject`: a worker in the cell opens, reads or writes files
 * under the fault's prefix and next to it (/run, a tmpfs: the guests' overlay root may show
 * other inodes), a worker outside the cell does the same; only the cell's calls under the
 * prefix fail, with the errno asked for, at the rate asked for, and exactly as often as the
 * fault's own counter says. Mechanisms are decided by the probe, never by the kernel's name:
 * where none exists, inject must exit 4 naming what is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/inventory.h"
#include "core/probe.h"
#include "host/netlat_util.h"
#include "lib/host.h"
#include "lib/net.h"
#include "lib/test.h"

#define Z 3.89 /* two-sided α = 1e-4 */

/* fe_io FILE open|read|write N: N calls; "ok=K eE=C ..." (errno counts), or "setup=E". */
static int fe_io(int argc, char **argv)
{
	static int errs[256];
	int n, ok = 0, fd = -1;
	char c = 'x';

	if (argc < 4)
		return 2;
	n = atoi(argv[3]);
	if (strcmp(argv[2], "open")) {
		fd = open(argv[1], !strcmp(argv[2], "read") ? O_RDONLY : O_WRONLY);
		if (fd < 0) {
			printf("setup=%d\n", errno);
			return 0;
		}
	}
	for (int i = 0; i < n; i++) {
		int r;

		if (!strcmp(argv[2], "open")) {
			r = open(argv[1], O_RDONLY);
			if (r >= 0)
				close(r);
		} else if (!strcmp(argv[2], "read")) {
			r = pread(fd, &c, 1, 0);
		} else {
			r = pwrite(fd, &c, 1, 0);
		}
		if (r >= 0)
			ok++;
		else if (errno < 256)
			errs[errno]++;
	}
	printf("ok=%d", ok);
	for (int e = 0; e < 256; e++)
		if (errs[e])
			printf(" e%d=%d", e, errs[e]);
	printf("\n");
	return 0;
}
FC_WORKER(fe_io, fe_io);

struct io_res {
	int ok, err[256];
};

static bool io_run(const char *cg, const char *file, const char *op, int n, struct io_res *r)
{
	char nb[16], line[512], *p;
	char *argv[] = { "fe_io", (char *)file, (char *)op, nb, NULL };
	int fd, e, cnt;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	snprintf(nb, sizeof(nb), "%d", n);
	pid = tspawn(cg, NULL, argv, &fd);
	if (!ASSERT_GT(pid, 0, "spawn fe_io") ||
	    !ASSERT_OK(tread_line(fd, line, sizeof(line), 60000), "fe_io output")) {
		twait(pid, 5000);
		return false;
	}
	close(fd);
	twait(pid, 10000);
	if (!ASSERT_EQ(sscanf(line, "ok=%d", &r->ok), 1, line))
		return false;
	for (p = strchr(line, ' '); p && sscanf(p, " e%d=%d", &e, &cnt) == 2;
	     p = strchr(p + 1, ' '))
		if (e > 0 && e < 256)
			r->err[e] = cnt;
	return true;
}

/* Is any mechanism for failing opens here (the same probe the fault uses)? */
static bool fe_available(char *why, size_t len)
{
	static const char *const mechs[] = { "lsm", "lsm_cgroup", "fmod_ret", "override_return" };
	bool any = false;
	size_t u = 0;

	why[0] = 0;
	for (size_t i = 0; i < 4; i++) {
		struct fc_probe_opts o = { .sz = sizeof(o), .only = mechs[i] };
		struct fc_probe *p = fc_probe_new(&o);
		const struct fc_probe_result *r =
		    p && !fc_probe_run(p) ? fc_probe_find(p, mechs[i]) : NULL;

		if (r && r->available)
			any = true;
		else if (u < len)
			u += snprintf(why + u, len - u, "%s%s", u ? ", " : "", mechs[i]);
		fc_probe_free(p);
		if (any)
			break;
	}
	return any;
}

struct feenv {
	struct tcell cell, out;
	char dir[128], in[160], inx[160], infile[192], inxfile[192];
};

static bool env_setup(struct feenv *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/run/fc-test-%d-fe", getpid());
	snprintf(e->in, sizeof(e->in), "%s/in", e->dir);
	/* a sibling whose name extends the prefix: "/a/in" must not match "/a/inx" */
	snprintf(e->inx, sizeof(e->inx), "%s/inx", e->dir);
	snprintf(e->infile, sizeof(e->infile), "%s/f", e->in);
	snprintf(e->inxfile, sizeof(e->inxfile), "%s/f", e->inx);
	return ASSERT_OK(tcell_create(&e->cell, "fec", NULL), "cell") &&
	       ASSERT_OK(tcell_create(&e->out, "feo", NULL), "outside cgroup") &&
	       ASSERT_OK(tsh("mkdir -p %s %s && echo data > %s && echo data > %s", e->in, e->inx,
			     e->infile, e->inxfile),
			 "files");
}

static void env_teardown(struct feenv *e)
{
	tcell_destroy(&e->cell);
	tcell_destroy(&e->out);
	if (e->dir[0])
		tsh("rm -rf %s", e->dir);
}

/* Inject with @extra (NULL-terminated) on the prefix e->in. */
static bool fe_start(struct feenv *e, struct tinject *t, char *const extra[])
{
	char *a[32] = {
		"file-error", "--cell", e->cell.parent, "--path", e->in, "--duration", "5m"
	};
	int n = 7;

	for (int i = 0; extra[i] && n < 30; i++)
		a[n++] = extra[i];
	a[n] = NULL;
	return tinject_start(t, a);
}

/* 100% on @op: the cell fails with @err under the prefix; beside it and outside, nothing. */
static void all_fail_case(struct feenv *e, const char *op, const char *mech, int err)
{
	char *x[] = { "--operations", (char *)op,   "--errno", "ENOSPC",
		      "--mechanism",  (char *)mech, NULL };
	struct io_res r;
	struct tinject t;

	if (!fe_start(e, &t, x))
		return;
	test__log("%s", strstr(t.text, "how:") ?: t.text);
	if (io_run(e->cell.child, e->infile, op, 100, &r))
		ASSERT_EQ(r.err[err], 100, "the cell's calls under the prefix all fail with it");
	if (io_run(e->cell.child, e->inxfile, op, 100, &r))
		ASSERT_EQ(r.ok, 100, "a sibling path that only extends the prefix: untouched");
	if (io_run(e->out.child, e->infile, op, 100, &r))
		ASSERT_EQ(r.ok, 100, "outside the cell: untouched");
	tinject_stop(&t, SIGTERM);
	ASSERT_EQ(t.status, 5, "inject exits 5 on SIGTERM");
	ASSERT_EQ(t.injected, 100, "counter: exactly the failed calls");
}

FC_TEST(fileerr_ops, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct fc_inventory before = {};
	char why[256];
	struct feenv e;

	if (!fe_available(why, sizeof(why))) {
		test__skip("this kernel has none of %s: fileerr_refusal checks the exit 4", why);
		return;
	}
	if (!env_setup(&e))
		goto out;
	ASSERT_OK(fc_inventory_collect(&before, NULL), "inventory before");
	if (test__start_subtest("open_lsm"))
		all_fail_case(&e, "open", "lsm", ENOSPC);
	if (test__start_subtest("open_lsm_cgroup"))
		all_fail_case(&e, "open", "lsm_cgroup", ENOSPC);
	if (test__start_subtest("open_fmod_ret"))
		all_fail_case(&e, "open", "fmod_ret", ENOSPC);
	if (test__start_subtest("read"))
		all_fail_case(&e, "read", "auto", ENOSPC);
	if (test__start_subtest("write"))
		all_fail_case(&e, "write", "auto", ENOSPC);
	if (test__start_subtest("rate_and_errnos")) {
		char *x[] = { "--operations",  "open", "--errno", "EIO:1,EACCES:1",
			      "--probability", "30%",  NULL };
		struct io_res r;
		struct tinject t;
		double sd = sqrt(2000 * 0.3 * 0.7);

		if (fe_start(&e, &t, x)) {
			io_run(e.cell.child, e.infile, "open", 2000, &r);
			tinject_stop(&t, SIGTERM);
			test__log("2000 opens: %d ok, %d EIO, %d EACCES (injected %lld)", r.ok,
				  r.err[EIO], r.err[EACCES], t.injected);
			ASSERT_EQ(r.err[EIO] + r.err[EACCES], t.injected, "failures = counter");
			ASSERT_LE(fabs(t.injected - 600.0), Z * sd + 0.5, "30% within α=1e-4");
			ASSERT_GT(r.err[EIO], 0, "EIO drawn");
			ASSERT_GT(r.err[EACCES], 0, "EACCES drawn");
		}
	}
	if (test__start_subtest("count")) {
		char *x[] = { "--operations", "open", "--count", "5", NULL };
		struct io_res r;
		struct tinject t;

		if (fe_start(&e, &t, x)) {
			io_run(e.cell.child, e.infile, "open", 50, &r);
			tinject_stop(&t, SIGTERM);
			ASSERT_EQ(r.err[EIO], 5, "exactly count calls fail (EIO by default)");
			ASSERT_EQ(r.ok, 45, "the rest succeed");
		}
	}
	if (test__start_subtest("inventory_after_rollback"))
		tinventory_as_before(&before, "inventory as before after rollback");
	if (test__start_subtest("sigkill")) {
		char *x[] = { "--operations", "open,read,write", NULL };
		struct io_res r;
		struct tinject t;

		if (fe_start(&e, &t, x)) {
			kill(t.pid, SIGKILL);
			twait(t.pid, 5000);
			close(t.out);
			/* fd-bound links die with the loader: the cell's files work again */
			tinventory_as_before(&before, "inventory as before after SIGKILL");
			if (io_run(e.cell.child, e.infile, "read", 10, &r))
				ASSERT_EQ(r.ok, 10, "reads work after the loader died");
		}
	}
out:
	fc_inventory_free(&before);
	env_teardown(&e);
}

FC_TEST(fileerr_refusal, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	char why[256], out[8192];
	struct tcell cell = {};
	const struct fc_probe_result *r;
	struct fc_probe_opts o = { .sz = sizeof(o), .only = "override_return" };
	struct fc_probe *p;

	if (!ASSERT_OK(tcell_create(&cell, "fer", NULL), "cell"))
		return;
	if (test__start_subtest("bad_input")) {
		char *a[] = { "inject",	    "file-error", "--cell", cell.parent,
			      "--duration", "30s",	  NULL };
		char *b[] = { "inject", "file-error", "--cell", cell.parent, "--path",
			      "run/x",	"--duration", "30s",	NULL };
		char *c[] = { "inject", "file-error",	"--cell",    cell.parent,  "--path",
			      "/run/x", "--operations", "open,stat", "--duration", "30s",
			      NULL };

		ASSERT_EQ(trun_fc(out, sizeof(out), a), 2, "no path: exit 2");
		ASSERT_STRSTR(out, "needs a path prefix", "says why");
		ASSERT_EQ(trun_fc(out, sizeof(out), b), 2, "relative path: exit 2");
		ASSERT_EQ(trun_fc(out, sizeof(out), c), 2, "unknown operation: exit 2");
	}
	/* kprobe + bpf_override_return: refused by the probe where the helper is missing */
	p = fc_probe_new(&o);
	r = p && !fc_probe_run(p) ? fc_probe_find(p, "override_return") : NULL;
	if (test__start_subtest("override_return") && ASSERT_OK_PTR(r, "probe")) {
		char *a[] = { "inject",	    "file-error",   "--cell", cell.parent,   "--path",
			      "/run/x",	    "--operations", "open",   "--mechanism", "kprobe",
			      "--duration", "30s",	    NULL };

		if (r->available) {
			test__skip("this kernel has bpf_override_return");
		} else {
			ASSERT_EQ(trun_fc(out, sizeof(out), a), 4, "exit 4");
			ASSERT_STRSTR(out, "override_return", "names what is missing");
		}
	}
	fc_probe_free(p);
	if (test__start_subtest("nothing_here")) {
		char *a[] = { "inject", "file-error", "--cell", cell.parent, "--path",
			      "/run/x", "--duration", "30s",	NULL };

		if (fe_available(why, sizeof(why))) {
			test__skip("this kernel can fail files");
		} else {
			ASSERT_EQ(trun_fc(out, sizeof(out), a), 4, "exit 4");
			ASSERT_STRSTR(out, "lsm", "names the LSM");
			ASSERT_STRSTR(out, "fmod_ret", "names fmod_ret");
		}
	}
	tcell_destroy(&cell);
}

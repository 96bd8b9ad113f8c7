// SPDX-License-Identifier: BSD-2-Clause
/*
 * kernel-function-error through `faultcell inject`: security_socket_connect made to fail for
 * the cell (UDP connect() to loopback calls it), never for a process outside. The mechanism is
 * decided by the probe: kprobe + bpf_override_return where it exists (no reachable kernel: a
 * forced kprobe must exit 4 naming it), else fmod_ret; with neither, exit 4.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/probe.h"
#include "lib/host.h"
#include "lib/net.h"
#include "lib/test.h"

static bool probe_has(const char *mech)
{
	struct fc_probe_opts o = { .sz = sizeof(o), .only = mech };
	struct fc_probe *p = fc_probe_new(&o);
	const struct fc_probe_result *r = p && !fc_probe_run(p) ? fc_probe_find(p, mech) : NULL;
	bool ok = r && r->available;

	fc_probe_free(p);
	return ok;
}

/* 50 UDP connects from @cg: how many succeeded and how many failed with @err. */
static void connects(const char *cg, int err, int *ok, int *failed)
{
	char line[256], key[16], *p,
	    *argv[] = { "connect_many", "127.0.0.1", "9", "50", "udp", NULL };
	int fd;
	pid_t pid = tspawn(cg, NULL, argv, &fd);

	*ok = *failed = -1;
	if (!ASSERT_GT(pid, 0, "spawn") ||
	    !ASSERT_OK(tread_line(fd, line, sizeof(line), 30000), "connect_many"))
		return;
	close(fd);
	twait(pid, 10000);
	sscanf(line, "ok=%d", ok);
	snprintf(key, sizeof(key), " e%d=", err);
	p = strstr(line, key);
	*failed = p ? atoi(p + strlen(key)) : 0;
}

FC_TEST(kfunc_error, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	struct tcell cell = {}, out = {};
	char buf[8192];
	int ok, failed;

	if (!ASSERT_OK(tcell_create(&cell, "kfe", NULL), "cell") ||
	    !ASSERT_OK(tcell_create(&out, "kfo", NULL), "outside"))
		goto out;
	char *unknown[] = { "inject",	  "kernel-function-error",  "--cell",	  cell.parent,
			    "--function", "security_socket_conect", "--duration", "30s",
			    NULL };
	char *kprobe[] = { "inject",	  "kernel-function-error",
			   "--cell",	  cell.parent,
			   "--function",  "security_socket_connect",
			   "--mechanism", "kprobe",
			   "--duration",  "30s",
			   NULL };

	if (test__start_subtest("unknown_function")) {
		ASSERT_EQ(trun_fc(buf, sizeof(buf), unknown), 2, "exit 2");
		ASSERT_STRSTR(buf, "did you mean 'security_socket_connect'", "nearest BTF name");
	}
	if (test__start_subtest("override_return")) {
		if (probe_has("override_return")) {
			test__skip("this kernel has bpf_override_return");
		} else {
			ASSERT_EQ(trun_fc(buf, sizeof(buf), kprobe), 4, "exit 4");
			ASSERT_STRSTR(buf, "override_return", "names what is missing");
		}
	}
	if (!probe_has("fmod_ret") && !probe_has("override_return")) {
		char *a[] = { "inject",	    "kernel-function-error",   "--cell",     cell.parent,
			      "--function", "security_socket_connect", "--duration", "30s",
			      NULL };

		if (test__start_subtest("kernel_lacks_it")) {
			ASSERT_EQ(trun_fc(buf, sizeof(buf), a), 4, "exit 4");
			ASSERT_STRSTR(buf, "fmod_ret", "names fmod_ret");
		}
		goto out;
	}
	if (test__start_subtest("connect_fails_in_cell")) {
		char *a[] = { "kernel-function-error",
			      "--cell",
			      cell.parent,
			      "--function",
			      "security_socket_connect",
			      "--errno",
			      "ECONNABORTED",
			      "--duration",
			      "5m",
			      NULL };
		struct tinject t;

		if (tinject_start(&t, a)) {
			connects(cell.child, ECONNABORTED, &ok, &failed);
			ASSERT_EQ(failed, 50, "the cell's connects fail with ECONNABORTED");
			connects(out.child, ECONNABORTED, &ok, &failed);
			ASSERT_EQ(ok, 50, "outside the cell: untouched");
			tinject_stop(&t, SIGTERM);
			ASSERT_EQ(t.status, 5, "inject exits 5 on SIGTERM");
			ASSERT_EQ(t.injected, 50, "counter: exactly the cell's calls");
		}
	}
	if (test__start_subtest("not_modifiable")) {
		/* fmod_ret only modifies security_* (and error-injectable) functions */
		char *a[] = { "inject",	     "kernel-function-error",
			      "--cell",	     cell.parent,
			      "--function",  "do_nanosleep",
			      "--mechanism", "fmod_ret",
			      "--duration",  "30s",
			      NULL };

		ASSERT_EQ(trun_fc(buf, sizeof(buf), a), 4, "exit 4");
		ASSERT_STRSTR(buf, "security_*", "says which functions can be");
	}
out:
	tcell_destroy(&cell);
	tcell_destroy(&out);
}

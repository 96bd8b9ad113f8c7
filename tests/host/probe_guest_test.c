// SPDX-License-Identifier: BSD-2-Clause
/*
 * What Debian's own kernels must offer (issue 3): in the 6.1 and 6.12 guests the probe reports
 * kprobe, fentry/fexit, fmod_ret, BPF LSM, fq and netem available, and TCX only from 6.6 on.
 * Skipped on any other kernel, with the reason.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "core/probe.h"
#include "core/util.h"
#include "lib/test.h"

FC_TEST(probe_debian_kernels, TIER_HOST | FC_T_ROOT | FC_T_VM)
{
	static const char *const yes[] = { "kprobe", "fentry", "fexit",	    "fmod_ret",	 "lsm",
					   "sch_fq", "netem",  "tc_clsact", "cgroup_skb" };
	const struct fc_probe_result *r;
	struct fc_probe *p;
	struct utsname u;
	int major = 0, minor = 0;

	/* Debian's kernels are named like 6.1.0-41-amd64 and 6.12.57+deb12-amd64 */
	if (uname(&u) || !strstr(u.release, "-amd64") ||
	    sscanf(u.release, "%d.%d", &major, &minor) != 2) {
		test__skip("not a Debian kernel (%s): checked in the VM tier", u.release);
		return;
	}
	p = fc_probe_new(NULL);
	if (!ASSERT_OK_PTR(p, "fc_probe_new") || !ASSERT_OK(fc_probe_run(p), "run"))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		r = fc_probe_find(p, yes[i]);
		if (ASSERT_OK_PTR(r, yes[i]) && !ASSERT_TRUE(r->available, yes[i]))
			test__log("%s: %s", yes[i], r->error);
	}
	r = fc_probe_find(p, "tcx");
	if (ASSERT_OK_PTR(r, "tcx"))
		ASSERT_EQ(r->available, major > 6 || (major == 6 && minor >= 6),
			  "TCX exactly from 6.6 on");
out:
	fc_probe_free(p);
}

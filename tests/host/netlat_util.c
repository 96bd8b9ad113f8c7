// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/probe.h"
#include "core/util.h"
#include "host/netlat_util.h"
#include "lib/host.h"
#include "lib/test.h"

bool tnl_available(char *why, size_t len)
{
	static const char *const need[] = { "sch_fq", "skb_set_tstamp" };
	size_t u = 0;
	bool ok = true;

	why[0] = 0;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		struct fc_probe_opts o = { .sz = sizeof(o), .only = need[i] };
		struct fc_probe *p = fc_probe_new(&o);
		const struct fc_probe_result *r;

		if (!p || fc_probe_run(p)) {
			fc_probe_free(p);
			snprintf(why, len, "the probe itself failed");
			return false;
		}
		r = fc_probe_find(p, need[i]);
		if (!r || !r->available) {
			ok = false;
			if (u < len)
				u += snprintf(why + u, len - u, "%s%s (%s)", u ? "; " : "", need[i],
					      r ? r->error : "?");
		}
		fc_probe_free(p);
	}
	return ok;
}

int tnl_qdisc_dump(const char *netns, const char *dev, char *buf, size_t len)
{
	char *argv[] = { "tc", "-n", (char *)netns, "qdisc", "show", "dev", (char *)dev, NULL };

	return fc_run_capture(argv, buf, len);
}

int tnl_cpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 1 ? (int)n - 1 : 0;
}

bool tnl_mix(const char *netns_path, int n, int ival_us, char *const specs[], int k,
	     struct tnl_rtt *out)
{
	char ns[16], iv[16], cpu[16], line[256], *argv[16] = { "lat_mix", ns, iv, cpu };
	int fd, i, idx, got = 0;
	pid_t pid;

	snprintf(ns, sizeof(ns), "%d", n);
	snprintf(iv, sizeof(iv), "%d", ival_us);
	snprintf(cpu, sizeof(cpu), "%d", tnl_cpu());
	for (i = 0; i < k && i < 10; i++)
		argv[4 + i] = specs[i];
	argv[4 + i] = NULL;
	pid = tspawn(NULL, netns_path, argv, &fd);
	if (!ASSERT_GT(pid, 0, "spawn lat_mix"))
		return false;
	memset(out, 0, k * sizeof(*out));
	while (got < k && !tread_line(fd, line, sizeof(line), 60000)) {
		unsigned long long p1, p50, p99, mx;
		struct tnl_rtt r;

		if (sscanf(line, "s%d n=%d lost=%d p1=%llu p50=%llu p99=%llu max=%llu reorder=%d",
			   &idx, &r.n, &r.lost, &p1, &p50, &p99, &mx, &r.reorder) != 8 ||
		    idx < 0 || idx >= k) {
			test__log("lat_mix: %s", line);
			break;
		}
		r.p1 = p1 / 1e6;
		r.p50 = p50 / 1e6;
		r.p99 = p99 / 1e6;
		r.max = mx / 1e6;
		out[idx] = r;
		got++;
	}
	close(fd);
	if (twait(pid, 10000) < 0) {
		kill(pid, SIGKILL);
		twait(pid, 5000);
	}
	return ASSERT_EQ(got, k, "lat_mix reported every socket");
}

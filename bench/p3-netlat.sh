#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# P3: injected latency against netem, in the Debian 6.1 and 6.12 guests (this machine has no
# sch_fq nor netem). On the host it runs itself in each guest through tests/vm/vmtest.sh; in
# a guest it runs the netlat_delay test with more probes, where one worker measures the
# faulted path (EDT + fq), a netem twin and an untouched twin interleaved, probe by probe, so
# both see the same moment's noise. Goal (design.md §8): |ours − requested| ≤ |netem −
# requested| + 0.5 ms at p50, ours ≥ requested at p1.
# Usage: [P3_PROBES=1000] [KERNELS=6.1|6.12|all] bench/p3-netlat.sh
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-build}
if [ -z "${FC_VM_KERNEL:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "bench: needs root (the VM tier)" >&2; exit 3; }
	[ -x "$OUT/fc-test" ] || { echo "bench: build first: make OUT=$OUT" >&2; exit 2; }
	VM_SELFTEST=0 OUT=$OUT exec tests/vm/vmtest.sh --kernel "${KERNELS:-all}" -- \
		env P3_PROBES="${P3_PROBES:-1000}" bench/p3-netlat.sh
fi
REC=/tmp/fc-p3-$$.rec
: >"$REC"
FC_TEST_RECORD=$REC FC_NL_PROBES=${P3_PROBES:-1000} "$OUT/fc-test" --vm -f netlat_delay \
	>/tmp/fc-p3-$$.log 2>&1
st=$?
grep -E "FAIL|tests/host" /tmp/fc-p3-$$.log
awk -v k="$(uname -r)" '
	{ v[$1] = $2 }
	END {
		n = split("1 10 100", ds, " ")
		for (i = 1; i <= n; i++) {
			d = ds[i]; p = "p3_" d "ms_"
			if (!((p "ours_added_p50") in v)) continue
			o = v[p "ours_added_p50"]; e = v[p "netem_added_p50"]
			dour = o > d ? o - d : d - o; de = e > d ? e - d : d - e
			printf "P3 %s %3d ms: p50 added ours %.3f, netem %.3f ms: |ours-req| %.3f <= |netem-req| + 0.5 = %.3f: %s; p1 added ours %.3f, netem %.3f: ours >= req: %s\n", \
				k, d, o, e, dour, de + 0.5, (dour <= de + 0.5 ? "yes" : "NO"), \
				v[p "ours_added_p1"], v[p "netem_added_p1"], \
				(v[p "ours_added_p1"] >= d ? "yes" : "NO")
		}
		if ("p3_10ms_ours_tcp_added_p50" in v)
			printf "P3 %s  10 ms: TCP p50 added ours %.3f ms (TCP Small Queues hold a stream back)\n", k, v["p3_10ms_ours_tcp_added_p50"]
	}' "$REC"
rm -f "$REC" /tmp/fc-p3-$$.log
exit $st

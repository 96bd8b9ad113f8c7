#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# P4 and P7 from the tests that measure them (they record each figure with test__record):
# abort → inert (BPF clock), abort → links gone, SIGKILL → traffic normal (TCX and clsact),
# arming → first drop. Runs them N times and prints mean ± 95% CI per figure.
# Usage: bench/p4-p7-abort.sh [N]
set -u
cd "$(dirname "$0")/.." || exit 2
. bench/lib.sh
bench_need
N=${1:-5}
rec=$(mktemp)
trap 'rm -f "$rec"' EXIT
for i in $(seq "$N"); do
	FC_TEST_RECORD=$rec "$FCT" -f 'inject_*' >/dev/null 2>&1
	FC_TEST_RECORD=$rec "$FCT" -f 'netloss_udp_egress/p10' >/dev/null 2>&1
done
for k in p4_abort_to_inert_us p4_abort_to_links_gone_ms p4_sigkill_to_traffic_normal_tcx_ms \
	p4_sigkill_to_traffic_normal_clsact_ms p7_arm_to_first_drop_ms; do
	read -r m h < <(awk -v k="$k" '$1 == k { print $2 }' "$rec" | mean_ci)
	n=$(awk -v k="$k" '$1 == k' "$rec" | wc -l)
	printf '%-40s %8s ± %-8s (n=%d)\n' "$k" "$m" "$h" "$n"
done

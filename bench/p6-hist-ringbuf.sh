#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# P6 (design.md §8): histogram update throughput and ring-buffer export rate, each with a named
# generator (fc-test --worker bench_p6, programs in bpf/trace_selftest.bpf.c):
#   histogram: BPF_PROG_TEST_RUN repeat on a tc program that draws a random latency and calls
#     the product's fc_hist_record(); the same program without the update is the generator's
#     ceiling. Goal >= 5 M updates/s.
#   ring buffer: a bpf_loop producer (512 reserve/submit per run, BPF_RB_NO_WAKEUP) against a
#     busy consumer on the other CPU, the producer keeping at most half the ring in flight;
#     failed reserves counted. Goal >= 1 M events/s with 0 failed reserves, or >= 0.8 of the
#     generator's ceiling (the same loop filling a scratch record, no ring).
# Each round is one sample; we report means with 95% confidence intervals.
#
# Usage: bench/p6-hist-ringbuf.sh [SECONDS] [ROUNDS]    (OUT=build by default; root)
# Example: OUT=build-trace bench/p6-hist-ringbuf.sh 10 10
set -u
cd "$(dirname "$0")/.." || exit 7
. bench/lib.sh
SECS=${1:-6}
ROUNDS=${2:-10}
bench_need
out=$("$FCT" --worker bench_p6 "$SECS" "$ROUNDS") || { echo "p6: bench_p6 failed" >&2; exit 7; }
echo "$out" | grep -E '^hist_count'
hist=$(echo "$out" | sed -n 's/^hist .*hist_rate=\([0-9.]*\).*/\1/p' | awk '{ print $1 / 1e6 }' | mean_ci)
gen=$(echo "$out" | sed -n 's/^hist .*gen_rate=\([0-9.]*\).*/\1/p' | awk '{ print $1 / 1e6 }' | mean_ci)
upd=$(echo "$out" | sed -n 's/^hist .*gen_ns=\([0-9.]*\) hist_ns=\([0-9.]*\).*/\1 \2/p' | awk '{ print $2 - $1 }' | mean_ci)
rb=$(echo "$out" | sed -n 's/^rb .*rate=\([0-9.]*\) .*/\1/p' | awk '{ print $1 / 1e6 }' | mean_ci)
ceil=$(echo "$out" | sed -n 's/^rb .*ceiling=\([0-9.]*\).*/\1/p' | awk '{ print $1 / 1e6 }' | mean_ci)
ratio=$(echo "$out" | sed -n 's/^rb .*rate=\([0-9.]*\) ceiling=\([0-9.]*\).*/\1 \2/p' | awk '{ print $1 / $2 }' | mean_ci)
fails=$(echo "$out" | sed -n 's/^rb .*failed=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
set -- $hist; echo "P6 histogram updates  $1 ± $2 M/s (generator + update; goal >= 5)"
set -- $gen; echo "P6 generator alone    $1 ± $2 M/s (test_run repeat ceiling)"
set -- $upd; echo "P6 update cost        $1 ± $2 ns above the generator"
set -- $rb; echo "P6 ring-buffer export $1 ± $2 M events/s, $fails failed reserves (goal >= 1, 0)"
set -- $ceil; echo "P6 producer ceiling   $1 ± $2 M events/s (no ring)"
set -- $ratio; echo "P6 export / ceiling   $1 ± $2 (alternative goal >= 0.8)"

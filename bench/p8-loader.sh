#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# P8 (design.md §8): the loader's memory and CPU with 2 cells x 3 metrics at 1 s windows:
# `faultcell trace syscall_latency:nanosleep syscall_errors:openat tcp_connect_latency` on two
# busy cells for SECONDS. RSS from /proc/PID/status (VmRSS at the end, VmHWM peak); CPU from
# utime+stime in /proc/PID/stat per 5 s chunk, reported as the mean with a 95% interval.
# Goal: RSS <= 20 MB, CPU <= 1% of a core.
#
# Usage: bench/p8-loader.sh [SECONDS]    (OUT=build by default; root)
# Example: OUT=build-trace bench/p8-loader.sh 60
set -u
cd "$(dirname "$0")/.." || exit 7
. bench/lib.sh
SECS=${1:-30}
bench_need
bench_cell a
A=$CELL
bench_cell b
B=$CELL
# steady work in both cells: sleeps and failing opens, a few hundred calls a second each
for c in "$A" "$B"; do
	# ( ... & ): not jobs of this shell; the cleanup ends them with cgroup.kill
	(in_cg "$c/work" "$FCT" --worker sleeplat 1000000 2000 0.5 >/dev/null &)
	(in_cg "$c/work" "$FCT" --worker errs 100000000 5000 >/dev/null &)
done
"$FC" trace syscall_latency:nanosleep syscall_errors:openat tcp_connect_latency \
	--cell "$A" --cell "$B" --interval 1s >/dev/null 2>&1 &
PID=$!
sleep 3 # past load: measure the steady state
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
cpu=""
chunks=$((SECS / 5))
[ "$chunks" -ge 2 ] || chunks=2
for _ in $(seq "$chunks"); do
	t0=$(ticks)
	s0=$(date +%s.%N)
	sleep 5
	t1=$(ticks)
	s1=$(date +%s.%N)
	cpu+=$(awk -v a="$t0" -v b="$t1" -v x="$s0" -v y="$s1" -v hz="$hz" \
		'BEGIN { printf "%.4f", 100 * (b - a) / hz / (y - x) }')$'\n'
done
rss=$(awk '/^VmRSS/ { print $2 / 1024 }' "/proc/$PID/status")
hwm=$(awk '/^VmHWM/ { print $2 / 1024 }' "/proc/$PID/status")
kill -INT "$PID"
wait "$PID"
st=$?
read -r cm ch < <(printf '%s' "$cpu" | mean_ci)
echo "P8 loader RSS ${rss} MB now, ${hwm} MB peak (goal <= 20)"
echo "P8 loader CPU ${cm} ± ${ch} % of a core (95% CI, ${chunks} x 5 s; goal <= 1)"
echo "P8 trace exit status $st"

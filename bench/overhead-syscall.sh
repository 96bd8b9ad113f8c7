#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The host-wide tax of syscall tracing (docs/TRACER.md, OVERHEAD): ns per getppid() call of a
# process, with nothing attached and with `faultcell trace syscall_latency:...` running in
# three situations: getppid not asked for (every syscall on the host pays this), asked for but
# the caller outside the cell, and the caller inside the cell (the full measurement).
# Reported per situation as the extra ns per call, mean with a 95% interval over rounds.
#
# Usage: bench/overhead-syscall.sh [ROUNDS] [CALLS]    (OUT=build by default; root)
set -u
cd "$(dirname "$0")/.." || exit 7
. bench/lib.sh
ROUNDS=${1:-5}
CALLS=${2:-500000}
bench_need
bench_cell ov
measure() { in_cg "$1" "$FCT" --worker bench_calls "$CALLS" 5; }
traced() { # $1: metric spec; then the cgroup to measure in
	local f=/tmp/fc-bench-$$-ov r
	"$FC" trace "$1" --cell "$CELL" --interval 1s --no-hist >/dev/null 2>"$f" &
	local p=$!
	for _ in $(seq 200); do grep -q tracing "$f" && break; sleep 0.05; done
	r=$(measure "$2")
	kill -INT "$p"
	wait "$p"
	echo "$r"
}
mkdir -p "$CG2/fc-bench-$$-outside"
un="" out="" in=""
for _ in $(seq "$ROUNDS"); do
	b=$(measure "$CG2/fc-bench-$$-outside")
	u=$(traced syscall_latency:nanosleep "$CG2/fc-bench-$$-outside")
	o=$(traced syscall_latency:getppid "$CG2/fc-bench-$$-outside")
	i=$(traced syscall_latency:getppid "$CELL/work")
	echo "round: none $b, not asked $u, asked outside the cell $o, inside the cell $i ns/call"
	un+=$(awk -v a="$u" -v b="$b" 'BEGIN { print a - b }')$'\n'
	out+=$(awk -v a="$o" -v b="$b" 'BEGIN { print a - b }')$'\n'
	in+=$(awk -v a="$i" -v b="$b" 'BEGIN { print a - b }')$'\n'
done
set -- $(printf '%s' "$un" | mean_ci); echo "OVERHEAD syscall not asked for:     +$1 ± $2 ns/call"
set -- $(printf '%s' "$out" | mean_ci); echo "OVERHEAD asked, caller outside:     +$1 ± $2 ns/call"
set -- $(printf '%s' "$in" | mean_ci); echo "OVERHEAD asked, caller in the cell: +$1 ± $2 ns/call"

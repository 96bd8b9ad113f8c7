#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# P5 (design.md §8): the tracer's per-event cost against Debian's bpftrace 0.17 hist() on the
# same event (getppid latency in a cell), in the same run.
#
# Per round, ns per getppid() call of a workload in the cell under five hooks, each attached
# alone: none, empty raw_tp sys_enter/exit, ours (faultcell trace syscall_latency:getppid),
# empty perf-event tp sys_enter/exit_getppid, bpftrace. bpftrace 0.17 has no rawtracepoint,
# so its tracepoint: is the perf-event path; we report
#   raw ratio   = (ours - none) / (bpftrace - none)
#   normalised  = (ours - empty raw_tp) / (bpftrace - empty tp)      goal <= 0.7
# as the mean over rounds with a 95% confidence interval.
#
# Usage: bench/p5-tracer-vs-bpftrace.sh [ROUNDS] [CALLS]    (OUT=build by default; root)
# Example: OUT=build-trace bench/p5-tracer-vs-bpftrace.sh 7 500000
set -u
cd "$(dirname "$0")/.." || exit 7
. bench/lib.sh
ROUNDS=${1:-5}
CALLS=${2:-500000}
bench_need
command -v bpftrace >/dev/null || { echo "p5: bpftrace not installed (make deps)" >&2; exit 4; }
bench_cell p5

measure() { in_cg "$CELL/work" "$FCT" --worker bench_calls "$CALLS" 5; }

# Start a hook in the background, wait until it says it is attached. Sets HOOK.
hook_start() {
	local kind=$1 f=/tmp/fc-bench-$$-hook
	: >"$f"
	case $kind in
	rawtp | tp) "$FCT" --worker bench_hook "$kind" >"$f" 2>&1 & ;;
	ours) "$FC" trace syscall_latency:getppid --cell "$CELL" --interval 1s --no-hist >/dev/null 2>"$f" & ;;
	bpftrace) bpftrace -e "tracepoint:syscalls:sys_enter_getppid /cgroup == cgroupid(\"$CELL/work\")/ { @s[tid] = nsecs; }
		tracepoint:syscalls:sys_exit_getppid /@s[tid]/ { @h = hist(nsecs - @s[tid]); delete(@s[tid]); }" >"$f" 2>&1 & ;;
	esac
	HOOK=$!
	for _ in $(seq 200); do
		grep -q "ready\|tracing\|Attaching" "$f" && break
		sleep 0.05
	done
	if ! kill -0 "$HOOK" 2>/dev/null; then
		echo "p5: hook '$kind' did not start:" >&2
		cat "$f" >&2
		exit 4
	fi
	sleep 0.3
}

hook_stop() {
	kill -INT "$HOOK" 2>/dev/null
	wait "$HOOK" 2>/dev/null
}

declare -A t
raw="" norm="" cost=""
for r in $(seq "$ROUNDS"); do
	t[none]=$(measure)
	for k in rawtp ours tp bpftrace; do
		hook_start "$k"
		t[$k]=$(measure)
		hook_stop
	done
	line=$(awk -v n="${t[none]}" -v e="${t[rawtp]}" -v o="${t[ours]}" -v p="${t[tp]}" -v b="${t[bpftrace]}" \
		'BEGIN { printf "%.4f %.4f %.1f %.1f", (o - n) / (b - n), (o - e) / (b - p), o - n, b - n }')
	read -r rr nr oc bc <<<"$line"
	printf 'round %d: ns/call none %s raw_tp %s ours %s tp %s bpftrace %s | raw %.3f normalised %.3f\n' \
		"$r" "${t[none]}" "${t[rawtp]}" "${t[ours]}" "${t[tp]}" "${t[bpftrace]}" "$rr" "$nr"
	raw+="$rr"$'\n'
	norm+="$nr"$'\n'
	cost+="$oc $bc"$'\n'
done
read -r rm rh < <(printf '%s' "$raw" | mean_ci)
read -r nm nh < <(printf '%s' "$norm" | mean_ci)
read -r om oh < <(printf '%s' "$cost" | awk '{ print $1 }' | mean_ci)
read -r bm bh < <(printf '%s' "$cost" | awk '{ print $2 }' | mean_ci)
echo "P5 ours +${om} ns/call (±${oh}), bpftrace +${bm} ns/call (±${bh})"
echo "P5 raw ratio        ${rm} ± ${rh} (95% CI, ${ROUNDS} rounds)"
echo "P5 normalised ratio ${nm} ± ${nh} (goal <= 0.7)"
awk -v m="$nm" -v h="$nh" 'BEGIN { exit !(m + h <= 0.7) }' && echo "P5 PASS" || echo "P5 not met"

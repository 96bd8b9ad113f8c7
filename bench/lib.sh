# SPDX-License-Identifier: BSD-2-Clause
# Shared by the bench scripts: paths, a scratch cell, and statistics with confidence intervals.
# shellcheck shell=bash

OUT=${OUT:-build}
FC=${FAULTCELL:-$OUT/faultcell}
FCT=${FC_TEST:-$OUT/fc-test}
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)

bench_need() {
	[ "$(id -u)" = 0 ] || { echo "bench: needs root (BPF, cgroups)" >&2; exit 3; }
	[ -x "$FC" ] && [ -x "$FCT" ] || { echo "bench: build first: make OUT=$OUT" >&2; exit 2; }
	[ -n "$CG2" ] || { echo "bench: no cgroup2 mount" >&2; exit 4; }
	# perf-event tracepoints (bpftrace, the empty tp baseline) resolve ids through tracefs
	[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
}

# A scratch cell: $CELL (the cell) and $CELL/work (where workloads run); removed on exit.
bench_cell() {
	CELL=$CG2/fc-bench-$$-$1
	mkdir -p "$CELL/work"
	trap 'bench_cleanup' EXIT
}

bench_cleanup() {
	local d
	exec 2>/dev/null # bash's notices about the workloads cgroup.kill ends
	for d in "$CG2"/fc-bench-$$-*; do
		[ -d "$d" ] || continue
		[ -f "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
		sleep 0.2
		rmdir "$d"/*/ "$d" 2>/dev/null
	done
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
}

# Run a command inside cgroup $1 (the rest: the command), replacing the calling shell: call it
# in $(...) or in the background.
in_cg() {
	local cg=$1
	shift
	# exec: in a subshell or a background job, no bash stays behind to report its death
	exec sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

# mean, then the half-width of the 95% interval (Student t), of the numbers on stdin.
mean_ci() {
	awk 'function t95(df) {
		split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086", t, " ")
		return df < 1 ? 0 : (df <= 20 ? t[df] : 1.96) }
	{ x[NR] = $1; s += $1 }
	END { if (!NR) { print "nan nan"; exit } m = s / NR
		for (i = 1; i <= NR; i++) v += (x[i] - m) ^ 2
		sd = NR > 1 ? sqrt(v / (NR - 1)) : 0
		printf "%.4g %.3g\n", m, t95(NR - 1) * sd / sqrt(NR) }'
}

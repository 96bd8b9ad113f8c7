#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Tests of the VM harness itself, three short boots of one kernel (VM_SELFTEST_KERNEL, default
# 6.12): a guest command that fails, a guest kernel that panics and a guest command that hangs
# must each make vmtest.sh exit non-zero, count a failed test in its closing line, and end
# within a bounded time. Prints ok/FAIL lines and "N passed, N failed, N skipped".
set -u
VM_DIR=$(cd "$(dirname "$0")" && pwd -P)
K=${VM_SELFTEST_KERNEL:-6.12}
pass=0 fail=0
log=$(mktemp "${TMPDIR:-/tmp}/fc-vm-selftest.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT

# expect_failure NAME MAX_SECONDS TIMEOUT FAILED REGEX... -- COMMAND...: boot with
# VM_TIMEOUT=TIMEOUT and run COMMAND; vmtest.sh must exit non-zero within MAX_SECONDS, close
# on a line counting FAILED failed tests, and print a line matching each REGEX (extended).
expect_failure() {
	local name=$1 max=$2 timeout=$3 failed=$4 t0 secs rc last why="" re
	local -a res=()
	shift 4
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		res+=("$1")
		shift
	done
	shift
	t0=$EPOCHREALTIME
	VM_SELFTEST=0 VM_TIMEOUT=$timeout "$VM_DIR/vmtest.sh" --kernel "$K" -- "$@" >"$log" 2>&1
	rc=$?
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	last=$(tail -n 1 "$log")
	[ "$rc" != 0 ] || why="vmtest.sh exited 0"
	[[ $last =~ ^[0-9]+\ passed,\ $failed\ failed,\ [0-9]+\ skipped$ ]] ||
		why="${why:+$why; }closing line '$last', expected $failed failed"
	for re in "${res[@]}"; do
		grep -Eq "$re" "$log" || why="${why:+$why; }no line matches /$re/"
	done
	awk -v s="$secs" -v m="$max" 'BEGIN { exit !(s > m) }' && why="${why:+$why; }took $secs s, bound $max s"
	if [ -z "$why" ]; then
		echo "ok   $name (${secs} s, exit $rc)"
		pass=$((pass + 1))
	else
		echo "FAIL $name: $why; its output:"
		# Indented, so that its closing line is not taken for ours.
		sed 's/^/    | /' "$log"
		fail=$((fail + 1))
	fi
}

# A test runner in the guest reports a failure and exits 1.
expect_failure failing_command 40 60 1 "exited 1" -- \
	/bin/sh -c 'echo "FAIL selftest/fails"; echo "0 passed, 1 failed, 0 skipped"; exit 1'
# oops=panic, panic=-1 and -no-reboot turn a kernel crash into QEMU exiting at once.
expect_failure guest_panic 40 60 1 "Kernel panic" "left no exit status: the guest died" -- \
	/bin/sh -c 'echo c >/proc/sysrq-trigger; sleep 600'
# The command starts, then hangs: QEMU is killed at VM_TIMEOUT.
expect_failure guest_hang 40 15 1 "fc-vm: command start" "timed out after 15 s" -- sleep 99999
echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]

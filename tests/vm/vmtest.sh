#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The VM tier: boot Debian's 6.1 and 6.12 kernels under QEMU/TCG, one boot each, with the
# host's / shared read-only over 9p, and run the tests marked for the VM tier inside
# ($OUT/fc-test --vm, after guest-check.sh). Kernels are resolved from the package lists at run
# time and cached outside the repository. Prints each guest's output prefixed with [6.1] or
# [6.12] and closes with one line summing the harness self-tests and every guest:
# "N passed, N failed, N skipped". A guest that leaves no exit status (panic, timeout) counts
# as one failed test. Exit status 0 only when every guest command exited 0.
set -u

VM_DIR=$(cd "$(dirname "$0")" && pwd -P)
REPO=$(cd "$VM_DIR/../.." && pwd -P)
# shellcheck source-path=SCRIPTDIR source=kernel.sh
. "$VM_DIR/kernel.sh"

OUT=${OUT:-build}
VM_TIMEOUT=${VM_TIMEOUT:-300}
VM_MEM=${VM_MEM:-2G}
VM_CMDLINE="console=ttyS0 panic=-1 oops=panic quiet loglevel=4 mitigations=off"

usage() {
	cat <<EOF
Usage: tests/vm/vmtest.sh [--kernel 6.1|6.12|all] [-- COMMAND [ARGS...]]
Boot Debian kernels under QEMU (TCG) with this machine's / shared read-only, and run the VM
tier's tests inside: tests/vm/guest-check.sh, then \$OUT/fc-test --vm (after the harness's
own tests, tests/vm/selftest.sh). With -- COMMAND, run that instead, in the repository.

Environment:
  OUT=build          build directory whose fc-test runs in the guests
  FILTER=NAME        passed to fc-test as -f NAME
  VM_TIMEOUT=300     seconds a guest may live, boot included; then QEMU is killed
  VM_SELFTEST=0      skip the harness's self-tests
  FC_KERNEL_CACHE    where kernels are downloaded and unpacked
                     (default ~/.cache/faultcell/kernels)
  VM_KEEP=1          keep the work directory (console logs, outputs)

Examples:
  make vmtest
  tests/vm/vmtest.sh --kernel 6.12 -- /bin/sh -c 'uname -r; ls /sys/fs/bpf'
  VM_TIMEOUT=20 tests/vm/vmtest.sh --kernel 6.1 -- sleep 99999
EOF
}

vm_say() {
	echo "vm: $*" >&2
}

vm_die() {
	echo "vm: error: $*" >&2
	exit 1
}

# Seconds since $EPOCHREALTIME value $1, one decimal.
vm_since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

vm_cleanup() {
	local f
	for f in "$VM_WORK"/*/qemu.pid; do
		# Ours: the timeout(1) wrapping QEMU, which passes the signal on.
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	# Let the console reader and the QEMU wrapper finish before their directory goes.
	wait 2>/dev/null
	if [ "${VM_KEEP:-0}" = 1 ]; then
		vm_say "kept $VM_WORK"
	else
		rm -rf "$VM_WORK"
	fi
}

check_tools() {
	local t missing=""
	for t in qemu-system-x86_64 cpio depmod modprobe modinfo dpkg-deb apt-get apt-cache zstd xz \
		timeout clang; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	[ -x /bin/busybox ] || missing="$missing busybox(-static)"
	[ -z "$missing" ] || vm_die "missing tools:$missing (run 'make deps' to install packaging/deps.txt)"
	[ "$(id -u)" = 0 ] || vm_die "the VM tier needs root (apt-get, mknod, exporting / over 9p): run it as root"
}

# Compile feature.bpf once per program kind into $VM_WORK/bpf for guest-check.sh.
build_feature_objects() {
	local k
	mkdir -p "$VM_WORK/bpf"
	for k in socket tc kprobe fentry fexit fmod_ret lsm; do
		clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -DFC_PROG_$k \
			-x c -c "$VM_DIR/feature.bpf" -o "$VM_WORK/bpf/$k.bpf.o" ||
			vm_die "cannot compile tests/vm/feature.bpf for $k"
	done
}

# Copy QEMU's console to stdout as "[TAG] line", keep it in the job's console.log, and note
# when the guest command starts.
console_filter() {
	local tag=$1 job=$2 line
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		case $line in *"fc-vm: command start"*) echo "$EPOCHREALTIME" >"$job/t_cmd" ;; esac
		printf '%s\n' "$line" >>"$job/console.log"
		printf '[%s] %s\n' "$tag" "$line"
	done
}

# Write the job share for series $1: env for init, cmdenv and run.sh for stage 2, one cmd.N
# per command (argv, NUL-separated).
write_job() {
	local series=$1 job=$2 i=1 c
	mkdir -p "$job" || vm_die "cannot create $job"
	cat >"$job/env" <<EOF
FC_VM_MODDIR='$KDIR/root/lib/modules/$KVER'
FC_VM_NAME='fc-vm-$series'
EOF
	{
		printf 'export FC_VM_REPO=%q OUT=%q FC_VM_KERNEL=%q FC_VM_BPF=%q\n' \
			"$REPO" "$OUT" "$series" /run/fc-vm/bpf
		[ -n "${FILTER:-}" ] && printf 'export FILTER=%q\n' "$FILTER"
	} >"$job/cmdenv"
	cp "$VM_DIR/guest-run.sh" "$job/run.sh"
	[ -d "$VM_WORK/bpf" ] && cp -r "$VM_WORK/bpf" "$job/bpf"
	for c in "${VM_CMDS[@]}"; do
		# \x01 separates the words in VM_CMDS (bash strings cannot hold NUL)
		printf "%s" "$c" | tr "\001" "\000" >"$job/cmd.$i"
		i=$((i + 1))
	done
}

# Boot kernel series $1 once, run the job, add its results to P/F/S. Sets GUEST_OK=0 on failure.
run_guest() {
	local series=$1 job=$VM_WORK/job-$1 t0 t_end whole rc i n p f s line st boot cmd what
	KVER=${KVERS[$series]} KDIR=${KDIRS[$series]}
	write_job "$series" "$job"
	kernel_initramfs "$KVER" "$KDIR" "$job/initramfs.cpio"
	vm_say "booting $KVER (timeout ${VM_TIMEOUT} s)"
	# qboot: no SeaBIOS banner or escape codes on the console, and it boots PVH vmlinux.
	# Multi-threaded TCG by default: single-threaded (VM_TCG_THREAD=single) avoids the int3
	# Oops seen on 6.12 (a perf event flipping a static key while the other vCPU still ran the
	# retired breakpoint), but it slowed guests enough for a TCP tail-loss probe to break an
	# exact retransmit count once; a guest that dies boots once more instead (below).
	local -a bios=()
	[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
	t0=$EPOCHREALTIME
	{
		timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 "${bios[@]}" -accel tcg,thread=${VM_TCG_THREAD:-multi} -cpu max \
			-machine q35 -smp 2 -m "$VM_MEM" -nographic -no-reboot -nic none \
			-kernel "$KDIR/vmlinux" -initrd "$job/initramfs.cpio" -append "$VM_CMDLINE" \
			-fsdev local,id=fcroot,path=/,security_model=none,multidevs=remap,readonly=on \
			-device virtio-9p-pci,fsdev=fcroot,mount_tag=fcroot \
			-fsdev local,id=fcjob,path="$job",security_model=none \
			-device virtio-9p-pci,fsdev=fcjob,mount_tag=fcjob </dev/null &
		echo $! >"$job/qemu.pid"
		wait $!
		echo $? >"$job/qemu.rc"
		rm -f "$job/qemu.pid"
	} 2>&1 | console_filter "$series" "$job" &
	# In the background: bash runs the INT/TERM trap (which stops QEMU) only between commands,
	# and 'wait' is one it can interrupt, unlike a foreground pipeline.
	wait $!
	t_end=$EPOCHREALTIME
	rc=$(cat "$job/qemu.rc" 2>/dev/null || echo 255)
	whole=$(vm_since "$t0")
	boot="?" cmd="?"
	if [ -f "$job/t_cmd" ]; then
		boot=$(awk -v a="$t0" -v b="$(cat "$job/t_cmd")" 'BEGIN { printf "%.1f", b - a }')
	fi
	n=${#VM_CMDS[@]}
	for ((i = 1; i <= n; i++)); do
		what=$(tr '\0' ' ' <"$job/cmd.$i")
		what=${what% }
		if [ ! -f "$job/status.$i" ]; then
			if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
				echo "[$series] FAILED: '$what' left no exit status: the guest timed out after ${VM_TIMEOUT} s (VM_TIMEOUT) and was killed"
			else
				echo "[$series] FAILED: '$what' left no exit status: the guest died (kernel panic or init failure, qemu exit $rc; see the console above)"
				DIED=1
			fi
			F=$((F + 1))
			GUEST_OK=0
			continue
		fi
		st=$(cat "$job/status.$i")
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$job/out.$i" | tail -n 1)
		if [ -z "$line" ]; then
			# A command that is not a test runner counts as one test.
			if [ "$st" = 0 ]; then P=$((P + 1)); else F=$((F + 1)); fi
		else
			p=${line%% passed*}
			f=${line#* passed, }
			f=${f%% failed*}
			s=$(sed -nE 's/.* ([0-9]+) skipped$/\1/p' <<<"$line")
			P=$((P + p)) F=$((F + f)) S=$((S + ${s:-0}))
			if [ "$st" != 0 ] && [ "$f" = 0 ]; then
				echo "[$series] FAILED: '$what' exited $st without a failed test"
				F=$((F + 1))
			fi
		fi
		if [ "$st" != 0 ]; then
			echo "[$series] '$what' exited $st"
			GUEST_OK=0
		fi
	done
	if [ -f "$job/t_cmd" ]; then
		cmd=$(awk -v a="$(cat "$job/t_cmd")" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
	fi
	TIMES+=("[$series] $KVER: boot-to-command ${boot} s, command ${cmd} s, whole run ${whole} s")
}

# Store the guest commands in VM_CMDS, each as its words followed by \x01.
set_commands() {
	local w s
	VM_CMDS=()
	if [ $# -gt 0 ]; then
		s=""
		for w in "$@"; do s+="$w"$'\x01'; done
		VM_CMDS+=("$s")
		return
	fi
	VM_CMDS+=("tests/vm/guest-check.sh"$'\x01')
	s="$OUT/fc-test"$'\x01'"--vm"$'\x01'
	[ -n "${FILTER:-}" ] && s+="-f"$'\x01'"$FILTER"$'\x01'
	VM_CMDS+=("$s")
}

main() {
	local kernels=all own_cmd=0 k t_all t_prep c lock
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel)
			[ $# -ge 2 ] || vm_die "--kernel needs 6.1, 6.12 or all"
			kernels=$2
			shift 2
			;;
		--)
			shift
			own_cmd=1
			break
			;;
		-h | --help)
			usage
			exit 0
			;;
		*)
			usage >&2
			exit 2
			;;
		esac
	done
	[ "$kernels" = all ] && kernels="6.1 6.12"
	for k in $kernels; do
		case $k in 6.1 | 6.12) ;; *) vm_die "unknown kernel '$k' (use 6.1, 6.12 or all)" ;; esac
	done
	if [ "$own_cmd" = 1 ] && [ $# = 0 ]; then
		vm_die "nothing to run after --"
	fi
	check_tools
	cd "$REPO" || vm_die "cannot enter $REPO"
	if [ "$own_cmd" = 0 ] && [ ! -x "$OUT/fc-test" ]; then
		vm_die "$OUT/fc-test is missing: run 'make' (or OUT=DIR for another build directory)"
	fi
	VM_WORK=$(mktemp -d "${TMPDIR:-/tmp}/fc-vmtest.XXXXXX") || vm_die "cannot create a work directory"
	trap vm_cleanup EXIT
	trap 'exit 130' INT TERM
	t_all=$EPOCHREALTIME
	P=0 F=0 S=0 GUEST_OK=1
	TIMES=()
	RETRIED=()
	DIED=0
	declare -gA KVERS=() KDIRS=()
	set_commands "$@"

	# Kernels first, so download times do not count against a guest's timeout. The lock keeps
	# a second run from unpacking into the cache at the same time (released before the
	# self-tests, which run vmtest.sh again).
	mkdir -p "$FC_KERNEL_CACHE" || vm_die "cannot create the kernel cache $FC_KERNEL_CACHE (set FC_KERNEL_CACHE)"
	exec {lock}>"$FC_KERNEL_CACHE/.lock"
	flock "$lock" || vm_die "cannot lock $FC_KERNEL_CACHE/.lock"
	for k in $kernels; do
		kernel_prepare "$k"
		KVERS[$k]=$KVER KDIRS[$k]=$KDIR
	done
	exec {lock}>&-
	t_prep=$EPOCHREALTIME
	vm_say "kernels ready in $(vm_since "$t_all") s (resolving, downloads, unpacking)"
	if [ "$own_cmd" = 0 ]; then
		build_feature_objects
		if [ "${VM_SELFTEST:-1}" != 0 ]; then
			run_selftest
		fi
	fi
	for k in $kernels; do
		local p0=$P f0=$F s0=$S ok0=$GUEST_OK
		DIED=0
		run_guest "$k"
		# Once, for the suite's own run: a guest that died (not one that hung) boots again.
		# Seen here: an int3 Oops in __schedule while perf_event_open patched jump labels,
		# QEMU/TCG's multi-threaded translation racing the kernel's text patching: an
		# emulation flake. Both consoles stay in the log; a second death fails the tier.
		if [ "$DIED" = 1 ] && [ "$own_cmd" = 0 ] && [ "${VM_RETRY:-1}" != 0 ]; then
			echo "[$k] the guest died: booting $k once more (VM_RETRY=0 disables this)"
			P=$p0 F=$f0 S=$s0 GUEST_OK=$ok0
			RETRIED+=("$k")
			run_guest "$k"
		fi
	done
	[ ${#RETRIED[@]} -gt 0 ] && echo "vm: retried after a guest died: ${RETRIED[*]}"
	for c in "${TIMES[@]}"; do echo "$c"; done
	echo "vm: self-tests and guests took $(vm_since "$t_prep") s of the tier's 600 s budget (kernel preparation excluded)"
	echo "$P passed, $F failed, $S skipped"
	[ "$GUEST_OK" = 1 ] && [ "$F" = 0 ]
}

# Run selftest.sh (the harness's own tests) and add its counts.
run_selftest() {
	local line st p f t0
	t0=$EPOCHREALTIME
	"$VM_DIR/selftest.sh" 2>&1 | sed -u 's/^/[selftest] /' | tee "$VM_WORK/selftest.log"
	st=${PIPESTATUS[0]}
	line=$(grep -E '^\[selftest\] [0-9]+ passed, [0-9]+ failed' "$VM_WORK/selftest.log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "[selftest] FAILED: no summary line (exit $st)"
		F=$((F + 1))
		GUEST_OK=0
		return
	fi
	line=${line#\[selftest\] }
	p=${line%% passed*}
	f=${line#* passed, }
	f=${f%% failed*}
	P=$((P + p)) F=$((F + f))
	[ "$st" = 0 ] || GUEST_OK=0
	TIMES+=("[selftest] $p passed, $f failed in $(vm_since "$t0") s")
}

main "$@"

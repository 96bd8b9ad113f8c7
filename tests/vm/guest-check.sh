#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs first in every VM-tier guest: checks that the guest gives the tests what vmtest.sh
# promises (build dir, writable /run, cgroup2, bpffs, module autoloading for tc and ip link),
# and records which probe-relevant mechanisms the kernel has (kprobe, fentry/fexit, fmod_ret,
# BPF LSM, fq, netem). Needs FC_VM_BPF (objects built from feature.bpf) and OUT.
# Prints ok/FAIL lines and closes with "N passed, N failed, N skipped".
set -u
pass=0 fail=0 skip=0
log=$(mktemp /run/guest-check.XXXXXX) || {
	echo "/run is not writable"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}
trap 'rm -f "$log"; rm -rf /sys/fs/bpf/fcvm_check; tc qdisc del dev lo clsact 2>/dev/null;
	tc qdisc del dev lo root 2>/dev/null; rmdir /sys/fs/cgroup/fcvm-check 2>/dev/null' EXIT

# check NAME COMMAND...: run a check, print its verdict, show its output when it fails.
check() {
	local name=$1
	shift
	if "$@" >"$log" 2>&1; then
		echo "ok   $name"
		pass=$((pass + 1))
	else
		echo "FAIL $name"
		sed 's/^/       /' "$log"
		fail=$((fail + 1))
	fi
}

fstype_is() {
	local t
	t=$(stat -fc %T "$1") || return 1
	[ "$t" = "$2" ] || { echo "$1 is $t, not $2"; return 1; }
}

build_visible() {
	[ -x "$OUT/fc-test" ] || { echo "$PWD/$OUT/fc-test is missing: is / shared, and was 'make' run?"; return 1; }
}

run_writable() {
	local f
	f=$(mktemp /run/fcvm.XXXXXX) && echo x >"$f" && rm "$f"
}

cgroup2_writable() {
	local cg=/sys/fs/cgroup/fcvm-check
	fstype_is /sys/fs/cgroup cgroup2fs || return 1
	mkdir "$cg" || return 1
	# A child moves itself in and reports where it is.
	local where
	where=$(sh -c "echo \$\$ >$cg/cgroup.procs && cat /proc/self/cgroup") || return 1
	[ "$where" = "0::/fcvm-check" ] || { echo "moved into '$where', expected 0::/fcvm-check"; return 1; }
	rmdir "$cg"
}

bpftool_load() {
	fstype_is /sys/fs/bpf bpf_fs || return 1
	bpftool prog load "$FC_VM_BPF/$1.bpf.o" /sys/fs/bpf/fcvm_check || return 1
	rm /sys/fs/bpf/fcvm_check
}

# Autoloaded modules show that the kernel's modprobe helper reaches the chroot's module tree.
module_loaded() {
	grep -q "^$1 " /proc/modules || { echo "module $1 was not loaded"; return 1; }
}

tc_clsact_bpf() {
	tc qdisc add dev lo clsact || return 1
	tc filter add dev lo egress bpf direct-action obj "$FC_VM_BPF/tc.bpf.o" sec tc || return 1
	tc filter show dev lo egress | grep -q fcvm_tc || { echo "filter not listed"; return 1; }
	tc qdisc del dev lo clsact && module_loaded sch_ingress && module_loaded cls_bpf
}

qdisc_works() {
	local kind=$1 mod=$2
	shift 2
	tc qdisc add dev lo root "$kind" "$@" || return 1
	tc qdisc show dev lo | grep -q "qdisc $kind " || { echo "$kind not shown"; return 1; }
	# A UDP datagram (bash's /dev/udp) must go through the qdisc: its counters show it.
	echo fcvm >/dev/udp/127.0.0.1/9 || return 1
	tc -s qdisc show dev lo | grep -q "Sent [1-9]" || { tc -s qdisc show dev lo; echo "no packet went through $kind"; return 1; }
	tc qdisc del dev lo root && module_loaded "$mod"
}

link_works() {
	local mod=$1
	shift
	ip link add "$@" || return 1
	ip link del fcvm0 && module_loaded "$mod"
}

ifb_mq() {
	ip link add fcvm0 numtxqueues 4 type ifb && ip link set fcvm0 up || return 1
	tc qdisc replace dev fcvm0 root handle 7: mq || return 1
	tc qdisc show dev fcvm0 | grep -q 'qdisc mq 7:' || { echo "mq not shown"; return 1; }
	ip link del fcvm0
}

kprobe_event() {
	echo 'p:fcvm/check do_nanosleep' >>/sys/kernel/tracing/kprobe_events || return 1
	echo '-:fcvm/check' >>/sys/kernel/tracing/kprobe_events
}

bpf_lsm_active() {
	local lsms
	lsms=$(cat /sys/kernel/security/lsm) || return 1
	echo "active LSMs: $lsms"
	case ,$lsms, in *,bpf,*) ;; *) return 1 ;; esac
}

echo "guest: $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) MiB"
check build_dir_visible build_visible
check run_writable run_writable
check cgroup2_at_sys_fs_cgroup cgroup2_writable
check btf_vmlinux test -r /sys/kernel/btf/vmlinux
check modprobe_helper grep -qx /sbin/fc-modprobe /proc/sys/kernel/modprobe
check bpftool_load_socket bpftool_load socket
check tc_clsact_bpf tc_clsact_bpf
check qdisc_fq qdisc_works fq sch_fq
check qdisc_netem qdisc_works netem sch_netem delay 1ms
check link_veth link_works veth fcvm0 type veth peer name fcvm1
check link_dummy link_works dummy fcvm0 type dummy
check link_ifb_mq ifb_mq
check kprobe_event kprobe_event
check load_kprobe bpftool_load kprobe
check load_fentry bpftool_load fentry
check load_fexit bpftool_load fexit
check load_fmod_ret bpftool_load fmod_ret
check load_lsm bpftool_load lsm
check bpf_lsm_active bpf_lsm_active
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]

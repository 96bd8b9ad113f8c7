#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Stage 2 of a VM-tier guest: init runs this (copied to the job share as run.sh) in the chroot
# of the shared host root. Runs each command of the job (cmd.N: its argv, NUL-separated) in the
# repository, at the same path as on the host; copies the output to the console and to out.N
# and writes the exit status to status.N. A missing status.N tells the host the guest died
# (panic, timeout) during command N.
set -u
J=/run/fc-vm
# FC_VM_REPO, OUT, FILTER, FC_VM_KERNEL, FC_VM_BPF
# shellcheck disable=SC1091 # written by vmtest.sh
. "$J/cmdenv"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8

uptime_s() {
	cut -d' ' -f1 /proc/uptime
}

cd "$FC_VM_REPO" || {
	echo "fc-vm: cannot enter $FC_VM_REPO: the repository is not visible in the guest"
	exit 1
}
# Keep the perf_sched_events jump label on from here, so tests do not patch __schedule under
# multi-threaded TCG (tests/lib/perf_hold.c says why). The guest powers off with it running.
if [ -x "$OUT/fc-test" ]; then
	"$OUT/fc-test" --worker perf_hold </dev/null &
	sleep 0.2
fi
echo "fc-vm: command start (guest uptime $(uptime_s) s)"
n=1
while [ -e "$J/cmd.$n" ]; do
	mapfile -d '' -t argv <"$J/cmd.$n"
	"${argv[@]}" </dev/null 2>&1 | tee "$J/out.$n"
	echo "${PIPESTATUS[0]}" >"$J/status.$n"
	n=$((n + 1))
done
echo "fc-vm: command end (guest uptime $(uptime_s) s)"

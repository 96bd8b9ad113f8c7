#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install the packages of packaging/deps.txt that are missing; quiet when none is.
set -eu
list=$(dirname "$0")/deps.txt
missing=""
for p in $(sed -e 's/#.*//' "$list"); do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: cannot install$missing: not root (run 'sudo make deps')" >&2
	exit 3
fi
export DEBIAN_FRONTEND=noninteractive
# Two builds on one machine may both find packages missing: apt's own lock fails at once, so
# wait on ours instead (util-linux flock), and let apt wait for dpkg's.
exec 9>/tmp/faultcell-deps.lock
flock -w 900 9 || { echo "deps: another install holds /tmp/faultcell-deps.lock" >&2; exit 3; }
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends $missing >/dev/null
echo "deps: done"

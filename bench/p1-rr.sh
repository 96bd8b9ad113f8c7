#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# P1: loopback TCP request/response with a fault armed but not matching, as a ratio of the same
# workload with nothing attached, in the same run. Two flows: one in the cell (its traffic is
# on another port than the fault's), one outside the cell. Rounds alternate baseline/armed so
# drift hits both; the ratio's mean and 95% CI (Student t) are printed. Goal: ≥ 0.98.
# Usage: bench/p1-rr.sh [ROUNDS] [SECONDS_PER_ROUND]
set -u
cd "$(dirname "$0")/.." || exit 2
. bench/lib.sh
bench_need
ROUNDS=${1:-30}
SECS=${2:-1}
NS=fc-bench-$$-p1
# a private run dir: a bench must not contend with (or block) a real run's lock
export FAULTCELL_RUN_DIR=/run/faultcell-bench-$$
bench_cell p1
OUTSIDE=$CG2/fc-bench-$$-out
mkdir -p "$OUTSIDE"
ip netns add "$NS" && ip -n "$NS" link set lo up
trap 'kill $INJ 2>/dev/null; wait 2>/dev/null; ip netns del $NS 2>/dev/null; rm -rf "$FAULTCELL_RUN_DIR"; bench_cleanup' EXIT
NSP=/run/netns/$NS
(in_cg "$OUTSIDE" nsenter --net="$NSP" "$FCT" --worker rr_server 7700 >/dev/null &)
(in_cg "$OUTSIDE" nsenter --net="$NSP" "$FCT" --worker rr_server 7701 >/dev/null &)
sleep 0.3

pair() { # prints "cell_tps outside_tps": one flow at a time, so they never compete for a core
	local a b
	a=$(in_cg "$CELL/work" nsenter --net="$NSP" "$FCT" --worker rr_client 7700 "$SECS")
	b=$(in_cg "$OUTSIDE" nsenter --net="$NSP" "$FCT" --worker rr_client 7701 "$SECS")
	echo "$a $b"
}

: >/tmp/fc-p1-ratios-$$
for r in $(seq "$ROUNDS"); do
	base=$(pair)
	: >/tmp/fc-p1-inj-$$
	"$FC" inject network-loss --cell "$CELL" --netns "$NSP" --probability 50% --proto tcp \
		--ports 9 --duration 5m >/tmp/fc-p1-inj-$$ 2>&1 &
	INJ=$!
	until grep -q "rolls back now" /tmp/fc-p1-inj-$$; do sleep 0.05; kill -0 $INJ || exit 1; done
	armed=$(pair)
	kill -TERM $INJ
	wait $INJ
	set -- $base $armed
	echo "round $r: baseline cell $1 out $2 tps, armed cell $3 out $4 tps"
	awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN { printf "%.5f %.5f\n", c / a, d / b }' \
		>>/tmp/fc-p1-ratios-$$
done
# The median of the per-round ratios with a distribution-free ~95% interval (order statistics):
# a burst of load from elsewhere spoils one round, not the estimate (the mean's CI it would).
median_ci() {
	sort -g | awk '{ x[NR] = $1 } END { n = NR; m = (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
		k = int(0.98 * sqrt(n)); lo = int(n / 2) - k; hi = int(n / 2) + 1 + k
		if (lo < 1) lo = 1; if (hi > n) hi = n
		printf "%.4f [%.4f, %.4f]\n", m, x[lo], x[hi] }'
}
read -r m1 h1 < <(awk '{ print $1 }' /tmp/fc-p1-ratios-$$ | mean_ci)
read -r m2 h2 < <(awk '{ print $2 }' /tmp/fc-p1-ratios-$$ | mean_ci)
echo "P1 cell flow (other port): median armed/baseline $(awk '{ print $1 }' /tmp/fc-p1-ratios-$$ | median_ci) (95% CI); mean $m1 ± $h1; $ROUNDS rounds; goal ≥ 0.98"
echo "P1 outside flow:           median armed/baseline $(awk '{ print $2 }' /tmp/fc-p1-ratios-$$ | median_ci) (95% CI); mean $m2 ± $h2"
rm -f /tmp/fc-p1-*-$$ /tmp/fc-p1-$$

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Run the test tiers (all by default, or the ones named), print each tier's time against its
# budget, and close with one line summing every tier: "N passed, N failed, N skipped".
# VMTEST=0 skips the VM tier (the only way to; CI never sets it). FILTER=... narrows tests.
set -u
cd "$(dirname "$0")/.." || exit 7
OUT=${OUT:-build}
tiers=${*:-unit host e2e vm}
declare -A budget=([unit]=120 [host]=480 [e2e]=480 [vm]=600)
P=0 F=0 S=0 rc=0
export FC_TEST_RECORD=${FC_TEST_RECORD:-$PWD/$OUT/test-record.txt}
: >"$FC_TEST_RECORD"

run_tier() {
	local tier=$1 log=$OUT/test-$1.log start end line p f s
	start=$(date +%s.%N)
	rm -f "$log"
	case $tier in
	vm)
		if [ "${VMTEST:-1}" = 0 ]; then
			echo "[vm] skipped: VMTEST=0"
			S=$((S + 1))
			return
		fi
		tests/vm/vmtest.sh 2>&1 | tee "$log"
		;;
	*)
		"$OUT/fc-test" --tier "$tier" ${FILTER:+-f "$FILTER"} 2>&1 | tee "$log"
		;;
	esac
	local st=${PIPESTATUS[0]}
	end=$(date +%s.%N)
	line=$(grep -E '^([a-z-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "[$tier] FAILED: no summary line (exit $st): the runner crashed"
		F=$((F + 1))
		rc=1
		return
	fi
	p=$(sed -E 's/^([a-z-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	P=$((P + p)) F=$((F + f)) S=$((S + ${s:-0}))
	[ "$st" = 0 ] && [ "$f" = 0 ] || rc=1
	[ "$st" != 0 ] && [ "$f" = 0 ] && { echo "[$tier] exit $st without a failed test"; F=$((F + 1)); }
	awk -v t="$tier" -v a="$start" -v b="$end" -v bud="${budget[$tier]}" 'BEGIN {
		d = b - a; printf "[%s] %.1fs of a %ds budget%s\n", t, d, bud, ((d > bud) ? " — OVER BUDGET" : "") }'
}

for t in $tiers; do
	echo "=== tier $t"
	run_tier "$t"
done
# Repeat what failed, with each tier's (or guest's) prefix, so the tail of a CI log names it.
for t in $tiers; do
	[ -f "$OUT/test-$t.log" ] || continue
	grep -E '^(\[[0-9.a-z]+\] )?(  )?(FAIL |failed:)' "$OUT/test-$t.log" | sed "s/^/[$t] /"
done
echo "$P passed, $F failed, $S skipped"
[ "$rc" = 0 ] && [ "$F" = 0 ]

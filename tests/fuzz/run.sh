#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Run the fuzzers (make fuzz builds them) for FUZZ_TIME seconds in all, default 60, split evenly.
# Each works on a scratch corpus under $OUT/fuzz/ seeded from tests/fuzz/corpus/<target>/, so the
# checked-in seeds are never rewritten; a crash or leak is saved as $OUT/fuzz/crash-<target>-*.
# Exit 0 when no target found anything, 1 when one did, 77 when the fuzzers cannot be built here.
set -u
cd "$(dirname "$0")/../.." || exit 1
OUT=${OUT:-build}
T=${FUZZ_TIME:-60}
targets=(exp cond)
per=$((T / ${#targets[@]}))
[ "$per" -ge 1 ] || per=1
P=0 F=0
for t in "${targets[@]}"; do
	bin=$OUT/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is not built (make fuzz-build; needs clang and libclang-rt-14-dev)"
		exit 77
	fi
	work=$OUT/fuzz/corpus-$t
	log=$OUT/fuzz/fuzz_$t.log
	mkdir -p "$work"
	"$bin" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$OUT/fuzz/crash-$t-" -print_final_stats=1 \
		"$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	echo "fuzz_$t: ${execs:-?} runs in ${per}s, ${cov:-cov: ?}, exit $rc"
	if [ "$rc" = 0 ]; then
		P=$((P + 1))
	else
		F=$((F + 1))
		grep -E -A25 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log" | head -n 60
	fi
done
echo "fuzz: $P of $((P + F)) targets clean (no crash, leak, sanitizer report or timeout)"
[ "$F" = 0 ]

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# P2: the network-loss program's cost per packet above an empty tc program, both timed by the
# kernel in the same BPF_PROG_TEST_RUN loop (1M repetitions a round, rounds interleaved).
# Prints the median ns above empty with a ~95% order-statistic interval. Goals: no match ≤ 30,
# match ≤ 60 (armed, parse + match + control check + draw); the LPM lookup reported apart.
# Usage: bench/p2-prog-cost.sh [ROUNDS]
set -u
cd "$(dirname "$0")/.." || exit 2
. bench/lib.sh
bench_need
"$FCT" --worker bench_p2 "${1:-15}" | while read -r name med lo hi; do
	printf 'P2 %-14s %6.1f ns above empty (95%% CI %.1f..%.1f)\n' "$name" "$med" "$lo" "$hi"
done

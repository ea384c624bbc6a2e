#!/bin/sh
# Decode + encode cost per point reading: wall-clock ns, then instructions
# per point from callgrind (stable on a shared machine).
#   bench/core/run.sh [BUILD_DIR]
set -eu
B=${1:-build}
cmake --build "$B" --target bench_core_encode >/dev/null
"$B/bench/core/bench_core_encode" 200000
OUT=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$B/bench/core/bench_core_encode" 2000 \
    >/dev/null 2>"$OUT.err"
IR=$(grep -o 'Collected : [0-9]*' "$OUT.err" | grep -o '[0-9]*$')
# 2000 polls x 100 points; start-up costs are included but small.
echo "callgrind: $IR instructions for 200000 point readings: $((IR / 200000)) per point reading"
rm -f "$OUT" "$OUT.err"

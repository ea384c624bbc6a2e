#!/bin/sh
# ef-queue-tool: fill a queue, damage its newest segment three ways, and
# check that dump sees the damage and that opening the queue cuts it off.
set -eu
tool=$1
dir=$(mktemp -d /tmp/ef-queue-tool-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$tool" fill "$dir" --alarms 3 --telemetry 10 >/dev/null
"$tool" dump "$dir" | tail -n 1 | grep -q "records alarm=3 telemetry=10 corrupt_runs=0" ||
  fail "fill/dump counts"

"$tool" corrupt "$dir" --garbage 100 >/dev/null
"$tool" dump "$dir" | tail -n 1 | grep -q "telemetry=10 corrupt_runs=1" || fail "garbage not seen"
out=$("$tool" fill "$dir" 2>/dev/null)   # opening recovers: cuts the garbage
echo "$out" | grep -q "recovered=13 corrupt_records=1" || fail "garbage recovery: $out"

"$tool" corrupt "$dir" --flip --class alarm >/dev/null
out=$("$tool" fill "$dir" 2>/dev/null)
echo "$out" | grep -q "recovered=12 corrupt_records=1" || fail "flip recovery: $out"

"$tool" corrupt "$dir" --truncate 7 >/dev/null
out=$("$tool" fill "$dir" 2>/dev/null)
echo "$out" | grep -q "recovered=11 corrupt_records=1" || fail "truncate recovery: $out"
"$tool" dump "$dir" | tail -n 1 | grep -q "records alarm=2 telemetry=9 corrupt_runs=0" ||
  fail "after recovery"
echo ok

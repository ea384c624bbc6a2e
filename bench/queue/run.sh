#!/bin/sh
# Prints the queue's figures. usage: bench/queue/run.sh [BUILD_DIR] [MESSAGES]
# The queue directory is made under $TMPDIR (default /var/tmp), so point
# TMPDIR at the file system you want measured (an SD card on a board).
set -eu
build=${1:-build}
exe=$build/bench/queue/bench_queue
[ -x "$exe" ] || { echo "build first: cmake --build $build --target bench_queue" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/ef-queue-bench-XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "queue bench on $(df -T "$dir" | awk 'NR==2 {print $1 " (" $2 ")"}'), $(nproc) CPUs"
"$exe" "$dir" "${2:-500000}"

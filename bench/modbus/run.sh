#!/bin/sh
# Builds and runs the Modbus benchmarks and prints their figures:
#   decode cost per point, requests per poll of config/demo.ini's devices,
#   poll cycle vs wire time at 9600 baud (needs socat), requests and bus time
#   per round of bench/modbus/mixed.ini with and without per-point intervals.
# Usage: bench/modbus/run.sh [BUILD_DIR]   (default: build-modbus)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-modbus}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target bench_modbus_decode bench_modbus_wire \
    bench_modbus_requests bench_modbus_intervals modbus_sim >/dev/null
"$build/bench/modbus/bench_modbus_decode"
"$build/bench/modbus/bench_modbus_requests" "$src/config/demo.ini"
"$build/bench/modbus/bench_modbus_intervals" "$src/bench/modbus/mixed.ini"
"$build/bench/modbus/bench_modbus_wire" "$build/tests/modbus_sim/modbus_sim"

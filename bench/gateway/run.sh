#!/bin/sh
# End-to-end gateway benchmark (issue 9): CPU and instructions per reading,
# RSS, MQTT bytes per reading, largest sustained rate, start-up time.
# See bench/gateway/bench.py for the workload and the method of each figure.
# usage: bench/gateway/run.sh [BUILD_DIR] [PART...]
#   BUILD_DIR defaults to build-perf (configured RelWithDebInfo and built
#   here); PARTs: steady steady-scaled arenas startup callgrind
#   callgrind-scaled perf maxrate floor (default: all but callgrind-scaled).
#   EF_BENCH_WINDOW_S (20) and EF_BENCH_WARMUP_S (3) set the steady window.
# Needs mosquitto, mosquitto_sub/pub and valgrind (callgrind).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-perf}
[ $# -gt 0 ] && shift
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEF_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target edgeferry modbus_sim bench_floor >/dev/null
exec python3 "$src/bench/gateway/bench.py" "$build" "$@"

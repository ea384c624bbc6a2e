#!/bin/sh
# Fleet benchmark (not part of CI): N gateways against one mosquitto, which
# is restarted; see bench/fleet/fleet.py. Run it when the machine is idle.
# usage: bench/fleet/run.sh [N] [BUILD_DIR] [STEADY_S] [DOWN_S]
#   defaults: 100, build-perf (configured and built here), 15, 5
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-100}
build=${2:-$src/build-perf}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEF_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target edgeferry modbus_sim >/dev/null
ulimit -n 65536 2>/dev/null || true
exec python3 "$src/bench/fleet/fleet.py" "$build" "$n" "${3:-15}" "${4:-5}"

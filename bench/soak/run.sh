#!/bin/sh
# Soak test (not part of CI): see bench/soak/soak.py for the workload, the
# outages and restarts, and how losses are detected.
# usage: bench/soak/run.sh [MINUTES] [BUILD_DIR] [OUT_DIR]
#   defaults: 60, build-perf (configured and built here), /tmp/ef-soak-report
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
minutes=${1:-60}
build=${2:-$src/build-perf}
out=${3:-/tmp/ef-soak-report}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEF_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target edgeferry modbus_sim >/dev/null
exec python3 "$src/bench/soak/soak.py" "$build" "$minutes" "$out"

#!/bin/sh
# MQTT bytes per reading of the demo workload, deadband 0 against realistic
# deadbands, each against one message per point.
# usage: bench/wire/run.sh [BUILD_DIR] [SECONDS_PER_RUN]   (default: build 12)
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
secs=${2:-12}
for exe in "$build/gateway/edgeferry" "$build/tests/modbus_sim/modbus_sim"; do
    [ -x "$exe" ] || { echo "build first: cmake --build $build --target edgeferry modbus_sim" >&2; exit 1; }
done
EF_BIN=$build/gateway/edgeferry exec python3 bench/wire/wire.py "$build" "$secs"

#!/bin/sh
# Failover on a two-node RabbitMQ cluster (not part of CI; about 2 minutes):
# see bench/cluster/failover.py. Needs rabbitmq-server (scripts/deps.sh --cluster).
# usage: bench/cluster/run.sh [BUILD_DIR]   default: build (configured and built here)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
cmake -S "$src" -B "$build" >/dev/null
cmake --build "$build" -j2 --target edgeferry modbus_sim >/dev/null
exec python3 "$src/bench/cluster/failover.py" "$build"

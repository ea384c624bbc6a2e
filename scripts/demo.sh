#!/bin/sh
# The demo: installs what it needs, builds, then starts a local mosquitto,
# the Modbus simulator (TCP and RTU on a pseudo-terminal), a simulated GPS
# and a queried probe, runs edgeferry on config/demo.ini (with its web view
# on http://127.0.0.1:8080/), sends it one command, and prints every message
# reaching the broker. Ctrl-C stops everything it started.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
scripts/deps.sh
cmake -S . -B build -DEF_WERROR=ON >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target edgeferry modbus_sim >/dev/null

DEMO=/tmp/edgeferry-demo
PIDS=""
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "demo: stopping"
    # edgeferry first, so it publishes "offline" while the broker still runs
    [ -n "${GW:-}" ] && kill -TERM "$GW" 2>/dev/null && wait "$GW" 2>/dev/null
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT
mkdir -p "$DEMO"
rm -f "$DEMO"/rtu "$DEMO"/rtu-sim "$DEMO"/gps "$DEMO"/probe

wait_for() { # wait_for TEST ARG: until `test TEST ARG` holds (10 s at most)
    i=0
    while ! test "$1" "$2"; do
        i=$((i + 1)); [ $i -lt 200 ] || { echo "demo: $2 did not appear" >&2; exit 1; }
        sleep 0.05
    done
}

printf 'listener 18830 127.0.0.1\nallow_anonymous true\npersistence false\n' > "$DEMO/mosquitto.conf"
mosquitto -c "$DEMO/mosquitto.conf" 2>"$DEMO/mosquitto.log" & PIDS="$PIDS $!"
build/tests/modbus_sim/modbus_sim --tcp 15020 --unit 1 >"$DEMO/sim-tcp.log" 2>&1 & PIDS="$PIDS $!"
socat pty,raw,echo=0,link="$DEMO/rtu" pty,raw,echo=0,link="$DEMO/rtu-sim" 2>/dev/null & PIDS="$PIDS $!"
wait_for -e "$DEMO/rtu-sim"
build/tests/modbus_sim/modbus_sim --rtu "$DEMO/rtu-sim" --unit 1 --unit 2 >"$DEMO/sim-rtu.log" 2>&1 & PIDS="$PIDS $!"
python3 tests/serial_sim/serial_sim.py --link "$DEMO/gps" --mode nmea --period-ms 1000 >/dev/null 2>&1 & PIDS="$PIDS $!"
python3 tests/serial_sim/serial_sim.py --link "$DEMO/probe" --mode kv --query 'R\r' >/dev/null 2>&1 & PIDS="$PIDS $!"
wait_for -e "$DEMO/gps"
wait_for -e "$DEMO/probe"

mosquitto_sub -h 127.0.0.1 -p 18830 -v -t 'edgeferry/#' & PIDS="$PIDS $!"
echo "demo: broker on 127.0.0.1:18830, edgeferry's log in $DEMO/edgeferry.log; Ctrl-C stops"
echo "demo: the web view is on http://127.0.0.1:8080/ (also /metrics and /api/status)"
build/gateway/edgeferry -c "$ROOT/config/demo.ini" 2>"$DEMO/edgeferry.log" & GW=$!
# A command, a few seconds in: the setpoint is written to the simulated
# meter, read back, and answered on edgeferry/demo/result/meter/setpoint.
(sleep 4 && echo "demo: sending a command: edgeferry/demo/set/meter/setpoint = 21.5" &&
 mosquitto_pub -h 127.0.0.1 -p 18830 -q 1 -t edgeferry/demo/set/meter/setpoint \
     -m '{"value":21.5,"id":"demo-1"}') & PIDS="$PIDS $!"
wait "$GW" || true

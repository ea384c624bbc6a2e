#!/bin/sh
# Drain of a queued backlog through the real gateway to a local mosquitto:
# fills a queue with N 200-byte telemetry messages (default 100000) at QoS 0
# and at QoS 1, starts edgeferry on it with the broker up, and times until a
# subscriber has received all of them.   bench/queue/drain.sh [BUILD_DIR] [N]
set -eu
B=${1:-build}
N=${2:-100000}
cmake --build "$B" --target edgeferry ef-queue-tool >/dev/null
T=$(mktemp -d /tmp/ef-drain-XXXXXX)
trap 'kill $(cat "$T"/pids 2>/dev/null) 2>/dev/null || true; rm -rf "$T"' EXIT INT TERM
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\nmax_inflight_messages 100\n' "$PORT" >"$T/m.conf"
mosquitto -c "$T/m.conf" 2>/dev/null & echo $! >>"$T/pids"
sleep 0.5
for QOS in 0 1; do
    rm -rf "$T/state"; mkdir -p "$T/state"
    "$B/tests/queue/ef-queue-tool" fill "$T/state/queue" --telemetry "$N" --payload 200 --qos "$QOS" >/dev/null
    cat >"$T/gw.ini" <<INI
[gateway]
id = bench
state_dir = $T/state
stats_interval_s = 0
log_level = warning
[mqtt]
uri = tcp://127.0.0.1:$PORT
telemetry_qos = $QOS
[queue]
max_disk_mb = 256
[bus:none]
type = tcp
host = 127.0.0.1
port = 1
[device:idle]
bus = none
unit = 1
interval_ms = 3600000
[point:idle.x]
register = holding:0
INI
    mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -t edgeferry/test/telemetry -C "$N" >/dev/null &
    SUB=$!
    sleep 0.3
    START=$(date +%s.%N)
    "$B/gateway/edgeferry" -c "$T/gw.ini" 2>"$T/gw.log" &
    GW=$!
    wait $SUB
    END=$(date +%s.%N)
    CPU=$(awk '{print ($14 + $15) / 100}' /proc/$GW/stat)
    kill -TERM $GW; wait $GW || true
    python3 -c "n=$N; t=$END-$START; print(f'drain of {n} queued 200-byte messages at QoS $QOS: {t:.2f} s, {n/t:,.0f} messages/s, gateway CPU {$CPU:.2f} s')"
done

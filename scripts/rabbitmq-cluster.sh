#!/bin/sh
# A two-node RabbitMQ cluster with the MQTT plugin, on this machine only
# (127.0.0.1, free ports), for the failover test bench/cluster/failover.py.
#
#   scripts/rabbitmq-cluster.sh start DIR   set up and start; prints
#                                           "node N NAME mqtt PORT pid PID"
#   scripts/rabbitmq-cluster.sh stop DIR    stop both nodes, remove DIR
#
# Needs Debian's rabbitmq-server (3.10: the rabbitmq_mqtt plugin ships in
# the package; scripts/deps.sh --cluster installs it). Its system service is
# left alone: each node has its own name, ports, data, logs and Erlang
# cookie under DIR, and epmd listens on loopback only. Starting takes about
# a minute on two cores.
set -eu

cmd=${1:?usage: $0 start|stop DIR}
dir=${2:?usage: $0 start|stop DIR}
SBIN=/usr/lib/rabbitmq/bin

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

node_env() { # node_env N: the environment of node N
    n=$1
    echo "HOME=$dir RABBITMQ_NODENAME=ef$n@localhost RABBITMQ_BASE=$dir/n$n" \
         "RABBITMQ_MNESIA_BASE=$dir/n$n/mnesia RABBITMQ_LOG_BASE=$dir/n$n/log" \
         "RABBITMQ_CONFIG_FILE=$dir/n$n/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins" \
         "RABBITMQ_PID_FILE=$dir/n$n/pid RABBITMQ_NODE_PORT=$(cat "$dir/n$n/amqp_port")" \
         "RABBITMQ_DIST_PORT=$(cat "$dir/n$n/dist_port") ERL_EPMD_ADDRESS=127.0.0.1"
}

ctl() { # ctl N ARGS...: rabbitmqctl against node N
    n=$1; shift
    env $(node_env "$n") "$SBIN/rabbitmqctl" -n "ef$n@localhost" "$@"
}

start() {
    [ -x "$SBIN/rabbitmq-server" ] || { echo "rabbitmq-server is not installed" >&2; exit 1; }
    mkdir -p "$dir"
    # One cookie for both nodes and the CLI: they find it in $HOME.
    [ -f "$dir/.erlang.cookie" ] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' \
        > "$dir/.erlang.cookie"; chmod 400 "$dir/.erlang.cookie"; }
    echo "[rabbitmq_mqtt]." > "$dir/enabled_plugins"
    for n in 1 2; do
        mkdir -p "$dir/n$n/log"
        free_port > "$dir/n$n/amqp_port"
        free_port > "$dir/n$n/dist_port"
        free_port > "$dir/n$n/mqtt_port"
        cat > "$dir/n$n/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$(cat "$dir/n$n/amqp_port")
mqtt.listeners.tcp.1 = 127.0.0.1:$(cat "$dir/n$n/mqtt_port")
mqtt.allow_anonymous = true
loopback_users = none
log.file.level = warning
EOF
        env $(node_env $n) "$SBIN/rabbitmq-server" > "$dir/n$n/log/console.log" 2>&1 &
    done
    for n in 1 2; do
        ctl $n wait "$dir/n$n/pid" --timeout 180 > /dev/null
    done
    ctl 2 stop_app > /dev/null
    ctl 2 join_cluster ef1@localhost > /dev/null
    ctl 2 start_app > /dev/null
    ctl 1 await_online_nodes 2 --timeout 120 > /dev/null 2>&1 || true
    for n in 1 2; do
        echo "node $n ef$n@localhost mqtt $(cat "$dir/n$n/mqtt_port") pid $(cat "$dir/n$n/pid")"
    done
}

stop() {
    for n in 1 2; do
        [ -f "$dir/n$n/pid" ] || continue
        pid=$(cat "$dir/n$n/pid")
        ctl $n stop > /dev/null 2>&1 || kill "$pid" 2> /dev/null || true
    done
    # The nodes started epmd: stop it once no node is registered with it.
    if command -v epmd > /dev/null && ! epmd -names 2> /dev/null | grep -q '^name '; then
        epmd -kill > /dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case $cmd in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac

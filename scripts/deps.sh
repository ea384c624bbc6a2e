#!/bin/sh
# Installs the Debian packages edgeferry needs to build, test and run its
# demo. Idempotent: nothing is downloaded when everything is installed.
# --cluster adds rabbitmq-server (with its MQTT plugin) for the cluster
# failover bench (bench/cluster/run.sh); CI does not need it.
set -eu
PKGS="build-essential cmake pkg-config python3
      libmodbus-dev libserialport-dev libpaho-mqtt-dev libssl-dev libinih-dev
      mosquitto mosquitto-clients socat openssl clang valgrind gdb strace systemd
      python3-jinja2 libmicrohttpd-dev libmicrohttpd12 prometheus chromium chromium-driver
      python3-selenium python3-fuse fuse3"
[ "${1:-}" = "--cluster" ] && PKGS="$PKGS rabbitmq-server"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# Node.js runs the aedes broker of the WebSocket tests; a machine that has
# Node.js from elsewhere (with its own npm) keeps it.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
ARCH=$(dpkg --print-architecture)
missing=""
for p in $PKGS; do
    # Qualify with the native architecture: with foreign architectures added
    # for cross builds, an unqualified name can be ambiguous to dpkg.
    dpkg -s "$p:$ARCH" >/dev/null 2>&1 || dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    # A stale index for one (foreign) architecture must not stop the install.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
# Debian starts a system mosquitto on port 1883; edgeferry's tests and demo
# run their own brokers on other ports and do not need it.

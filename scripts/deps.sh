#!/bin/sh
# Installs the Debian packages edgeferry needs to build, test and run its
# demo. Idempotent: apt-get skips what is already installed.
set -eu
PKGS="build-essential cmake pkg-config python3
      libmodbus-dev libserialport-dev libpaho-mqtt-dev libssl-dev libinih-dev libsystemd-dev
      mosquitto mosquitto-clients socat openssl clang valgrind"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! dpkg -s $PKGS >/dev/null 2>&1; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PKGS >/dev/null
fi
# Debian starts a system mosquitto on port 1883; edgeferry's tests and demo
# run their own brokers on other ports and do not need it.

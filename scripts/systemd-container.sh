#!/bin/sh
# The packaged service under a real systemd as PID 1, in a container.
#
# Builds the .deb (and the Modbus simulator), makes a Debian 12 root file
# system with debootstrap (once; kept and reused), boots it with
# systemd-nspawn as a throw-away copy (--ephemeral: the root file system stays
# pristine), installs the package with apt and checks what docs/install.md
# promises: the sysusers user, the conffile, Type=notify readiness, the
# journal, telemetry from a Modbus TCP simulator and from a serial sensor on
# a pseudo-terminal that only the dialout group may open, the retained
# status, the disk queue in /var/lib/edgeferry during a broker outage,
# reload (good and bad file), the watchdog restarting a stopped process, the
# systemd-analyze security score, stop publishing "offline", remove and
# purge. One PASS/FAIL line per check; exit status 1 if any failed.
#
# Not part of CI: needs root, network access to a Debian mirror (debootstrap,
# apt inside the container) and takes a few minutes.
#
#   scripts/systemd-container.sh
# Environment:
#   EF_ROOTFS   root file system, created when missing  [/var/tmp/ef-root]
#   EF_MIRROR   Debian mirror                [http://deb.debian.org/debian]
#   EF_BUILD    build directory                      [SOURCE/build-nspawn]
#   EF_DEB      an existing .deb to test instead of building one (the
#               simulator is then still built in EF_BUILD)
# The single-quoted commands are expanded inside the container, not here.
# shellcheck disable=SC2016
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
ROOTFS=${EF_ROOTFS:-/var/tmp/ef-root}
# The root file system is removed and made again when stale: never let a
# mistyped EF_ROOTFS point that at / or a top-level directory.
case $ROOTFS in /*/*) ;; *) echo "EF_ROOTFS must be an absolute path two levels deep or more: $ROOTFS"; exit 2 ;; esac
MIRROR=${EF_MIRROR:-http://deb.debian.org/debian}
BUILD=${EF_BUILD:-$SRC/build-nspawn}
GW=nspawn                       # gateway id, second topic level
[ "$(id -u)" -eq 0 ] || { echo "run as root (debootstrap, systemd-nspawn)"; exit 2; }

# ---- host packages, build, root file system -------------------------------
ARCH=$(dpkg --print-architecture)
need=""
for p in systemd-container debootstrap build-essential cmake pkg-config \
         libmodbus-dev libserialport-dev libpaho-mqtt-dev libssl-dev libinih-dev; do
    dpkg -s "$p:$ARCH" >/dev/null 2>&1 || dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
    echo "== installing:$need"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi

echo "== building in $BUILD"
cmake -S "$SRC" -B "$BUILD" -DEF_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" --target edgeferry modbus_sim >/dev/null
if [ -z "${EF_DEB:-}" ]; then
    rm -f "$BUILD"/edgeferry_*.deb
    (cd "$BUILD" && cpack -G DEB >/dev/null)
    EF_DEB=$(ls "$BUILD"/edgeferry_*.deb)
fi
echo "== package $EF_DEB"

# procps (/bin/kill) is left out on purpose: apt must pull in whatever the
# package needs that a minimal system lacks. python3 runs the serial simulator.
INCLUDE=systemd,systemd-sysv,dbus,mosquitto,mosquitto-clients,libmodbus5,libpaho-mqtt1.3,libserialport0,libinih1,libssl3,python3
if [ "$(cat "$ROOTFS/.ef-include" 2>/dev/null)" != "$INCLUDE" ]; then
    echo "== debootstrap bookworm into $ROOTFS (once)"
    rm -rf "$ROOTFS"
    debootstrap --variant=minbase --include="$INCLUDE" bookworm "$ROOTFS" "$MIRROR" \
        >/tmp/ef-debootstrap.log 2>&1 ||
        { tail -20 /tmp/ef-debootstrap.log; echo "debootstrap failed"; exit 1; }
    echo ef-test >"$ROOTFS/etc/hostname"
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$ROOTFS/etc/hosts"
    echo "$INCLUDE" >"$ROOTFS/.ef-include"
fi

STAGE=$(mktemp -d /var/tmp/ef-stage.XXXXXX)
cp "$EF_DEB" "$STAGE/edgeferry.deb"
cp "$BUILD/tests/modbus_sim/modbus_sim" tests/serial_sim/serial_sim.py "$STAGE/"
LOG=$STAGE/nspawn.log

# ---- boot ------------------------------------------------------------------
NSPAWN=""
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
        kill -TERM "$NSPAWN" 2>/dev/null || true      # nspawn halts the container
        i=0; while kill -0 "$NSPAWN" 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
        kill -KILL "$NSPAWN" 2>/dev/null || true
    fi
    rm -rf "$STAGE"
}
trap cleanup EXIT INT TERM

echo "== booting $ROOTFS (ephemeral copy)"
systemd-nspawn -D "$ROOTFS" --ephemeral -b --register=no --keep-unit \
    --console=pipe --bind-ro="$STAGE:/mnt/ef" </dev/null >"$LOG" 2>&1 &
NSPAWN=$!
LEADER=""
i=0
while [ -z "$LEADER" ] && [ $i -lt 60 ]; do
    sleep 1; i=$((i + 1))
    kill -0 "$NSPAWN" 2>/dev/null || { cat "$LOG"; echo "systemd-nspawn exited"; exit 1; }
    c=$(pgrep -P "$NSPAWN" || true)
    [ -n "$c" ] && [ "$(cat /proc/"$c"/comm 2>/dev/null)" = systemd ] && LEADER=$c
done
[ -n "$LEADER" ] || { cat "$LOG"; echo "no systemd in the container"; exit 1; }

# Run a command inside the container (all its namespaces, a clean environment).
c() { nsenter -t "$LEADER" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"; }
cs() { c sh -c "$1"; }

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS  $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL  $1"; shift; for l in "$@"; do echo "$l" | sed 's/^/      /'; done; }
check() {  # check NAME SHELL-COMMAND-INSIDE (its output is shown on failure)
    if out=$(cs "$2" 2>&1); then pass "$1"; else fail "$1" "$out"; fi
}
wait_for() {  # wait_for SECONDS SHELL-COMMAND-INSIDE
    n=0; while [ $n -lt "$1" ]; do cs "$2" >/dev/null 2>&1 && return 0; sleep 1; n=$((n + 1)); done; return 1
}
sub() {  # sub TOPIC COUNT SECONDS [extra mosquitto_sub options]
    t=$1 n=$2 w=$3; shift 3
    c mosquitto_sub -h 127.0.0.1 -t "$t" -C "$n" -W "$w" "$@"
}
journal_has() { c journalctl -u edgeferry --no-pager -o cat | grep -q -- "$1"; }
mainpid() { c systemctl show -p MainPID --value edgeferry; }

wait_for 30 'test -S /run/systemd/private' || true
state=$(c systemctl is-system-running --wait 2>&1 || true)
if [ "$state" = running ]; then
    pass "systemd $(c systemctl --version | head -1 | cut -d' ' -f2) boots as PID 1 in the container (state: running)"
else
    fail "systemd boots as PID 1 in the container (state: $state)" "$(c systemctl --failed --no-pager 2>&1)"
fi

# ---- install ---------------------------------------------------------------
if out=$(c apt-get install -y -q /mnt/ef/edgeferry.deb 2>&1); then
    pass "apt install ./edgeferry.deb"
else
    fail "apt install ./edgeferry.deb" "$out"; exit 1
fi
check "sysusers: system user edgeferry (uid < 1000), shell nologin, in dialout" \
    'e=$(getent passwd edgeferry) && [ "$(echo "$e" | cut -d: -f3)" -lt 1000 ] &&
     [ "$(echo "$e" | cut -d: -f7)" = /usr/sbin/nologin ] && id -nG edgeferry | grep -qw dialout'
check "/etc/edgeferry/edgeferry.ini is a dpkg conffile" \
    'dpkg-query -W -f="\${Conffiles}\n" edgeferry | grep -q "^ /etc/edgeferry/edgeferry.ini "'
check "the package neither enables nor starts the service" \
    '[ "$(systemctl is-enabled edgeferry)" = disabled ] && ! systemctl is-active -q edgeferry'
check "every command of the unit exists (ExecStart, ExecReload)" \
    'for x in $(systemctl show -p ExecStart -p ExecReload edgeferry | sed -n "s/.*path=\([^ ;]*\).*/\1/p"); do
         [ -x "$x" ] || { echo "missing: $x ($(systemctl show -p ExecReload --value edgeferry))"; exit 1; }; done'
if ! cs 'for x in $(systemctl show -p ExecReload edgeferry | sed -n "s/.*path=\([^ ;]*\).*/\1/p"); do [ -x "$x" ]; done'; then
    # Counted above; put it in by hand so that reload itself is still tested.
    echo "NOTE  installing procps (/bin/kill) in the container to go on testing reload"
    c apt-get install -y -q procps >/dev/null 2>&1 || true
fi

# ---- simulators and configuration -------------------------------------------
c systemd-run -q --unit=modbus-sim /mnt/ef/modbus_sim --tcp 15020
c mkdir -p /run/efsim
c systemd-run -q --unit=serial-sim /usr/bin/python3 /mnt/ef/serial_sim.py \
    --link /run/efsim/probe --mode kv --period-ms 500
# The sensor's pty is made openable through the dialout group only, as a
# /dev/ttyUSB0 is.
if wait_for 10 'test -e /run/efsim/probe' && c systemctl is-active -q modbus-sim; then
    cs 'p=$(readlink -f /run/efsim/probe); chown root:dialout "$p"; chmod 0660 "$p"'
else
    fail "simulators started" "$(c systemctl status modbus-sim serial-sim --no-pager -n 10 2>&1)"
fi
cat >"$STAGE/edgeferry.ini" <<EOF
; written by scripts/systemd-container.sh
[gateway]
id = $GW
log_level = info
stats_interval_s = 5

[mqtt]
uri = tcp://127.0.0.1:1883
keepalive_s = 10

[bus:tcp1]
type = tcp
host = 127.0.0.1
port = 15020
timeout_ms = 500

[device:meter]
bus = tcp1
unit = 1
interval_ms = 1000

[point:meter.requests]
register = holding:1

[point:meter.temperature]
register = holding:10
type = int16
scale = 0.01
unit = degC

[serial:probe]
path = /run/efsim/probe
format = kv
EOF
c cp /mnt/ef/edgeferry.ini /etc/edgeferry/edgeferry.ini
check "edgeferry --check as the edgeferry user" \
    'runuser -u edgeferry -- edgeferry --check -c /etc/edgeferry/edgeferry.ini >/dev/null'

# ---- start -------------------------------------------------------------------
if out=$(c systemctl start edgeferry 2>&1) && c systemctl is-active -q edgeferry; then
    pass "systemctl start: active (running); the start job ends only on READY=1 (Type=notify)"
else
    fail "systemctl start" "$out" "$(c systemctl status edgeferry --no-pager -n 30 2>&1)"
fi
check "journal has the start line" \
    'journalctl -u edgeferry --no-pager -o cat | grep "^edgeferry .* started: 1 Modbus devices on 1 buses, 1 serial sensors"'
if out=$(sub "edgeferry/$GW/telemetry/meter" 3 15 2>&1) && [ "$(echo "$out" | grep -c '"temperature":-123.45')" -eq 3 ]; then
    pass "3 Modbus TCP telemetry messages"
else
    fail "3 Modbus TCP telemetry messages" "$out"
fi
if out=$(sub "edgeferry/$GW/telemetry/probe" 2 15 2>&1) && echo "$out" | grep -q '"T":21.5'; then
    pass "serial sensor on a root:dialout 0660 pty: telemetry (DevicePolicy=closed, SupplementaryGroups=dialout)"
else
    fail "serial sensor on a root:dialout 0660 pty" "$out" \
        "$(c journalctl -u edgeferry --no-pager -o cat | grep 'serial probe' | tail -3)"
fi
if out=$(sub "edgeferry/$GW/status" 1 5 --retained-only 2>&1) && [ "$out" = online ]; then
    pass "retained status: online"
else
    fail "retained status: online" "$out"
fi
check "queue in /var/lib/edgeferry/queue, owned by edgeferry, mode 0750" \
    '[ "$(stat -c "%U %a" /var/lib/edgeferry)" = "edgeferry 750" ] && [ "$(stat -c %U /var/lib/edgeferry/queue)" = edgeferry ]'
check "WatchdogSec=30 reached the service" \
    '[ "$(systemctl show -p WatchdogUSec --value edgeferry)" = 30s ]'

# ---- broker outage: readings go to the disk queue, then to the broker --------
c systemctl stop mosquitto
if wait_for 10 'ls /var/lib/edgeferry/queue/*.q'; then
    pass "broker down: readings spilled to /var/lib/edgeferry/queue ($(cs 'ls /var/lib/edgeferry/queue | tr "\n" " "'))"
else
    fail "broker down: readings spilled to /var/lib/edgeferry/queue" "$(cs 'ls -la /var/lib/edgeferry/queue')"
fi
c systemctl start mosquitto
if wait_for 20 '! ls /var/lib/edgeferry/queue/*.q' && sub "edgeferry/$GW/telemetry/meter" 1 10 >/dev/null 2>&1; then
    pass "broker back: queue drained, telemetry flowing"
else
    fail "broker back: queue drained" "$(cs 'ls -la /var/lib/edgeferry/queue')"
fi

# ---- reload ------------------------------------------------------------------
pid=$(mainpid)
c sed -i 's/^stats_interval_s = 5/stats_interval_s = 7/' /etc/edgeferry/edgeferry.ini
if out=$(c systemctl reload edgeferry 2>&1) && wait_for 5 'journalctl -u edgeferry --no-pager -o cat | grep -q "^reload: "' &&
   [ "$(mainpid)" = "$pid" ]; then
    pass "systemctl reload: applied, same main PID"
else
    fail "systemctl reload" "$out" "$(c journalctl -u edgeferry --no-pager -o cat -n 8 2>&1)"
fi
c cp /etc/edgeferry/edgeferry.ini /etc/edgeferry/good.ini
c sh -c 'echo "[device:broken]" >>/etc/edgeferry/edgeferry.ini'
if c systemctl reload edgeferry >/dev/null 2>&1 &&
   wait_for 5 'journalctl -u edgeferry --no-pager -o cat | grep -q "reload refused"' &&
   c systemctl is-active -q edgeferry && [ "$(mainpid)" = "$pid" ]; then
    pass "reload of a broken file: refused, still running"
else
    fail "reload of a broken file: refused, still running" "$(c journalctl -u edgeferry --no-pager -o cat -n 8 2>&1)"
fi
c mv /etc/edgeferry/good.ini /etc/edgeferry/edgeferry.ini

# ---- watchdog ----------------------------------------------------------------
pid=$(mainpid)
c kill -STOP "$pid"
t0=$(date +%s)
if wait_for 70 "[ \"\$(systemctl show -p MainPID --value edgeferry)\" != $pid ] &&
                [ \"\$(systemctl show -p MainPID --value edgeferry)\" != 0 ] && systemctl is-active -q edgeferry" &&
   journal_has "Failed with result 'watchdog'"; then
    pass "SIGSTOP main PID: watchdog killed and restarted it after $(($(date +%s) - t0)) s (NRestarts=$(c systemctl show -p NRestarts --value edgeferry))"
else
    fail "watchdog restart of a stopped process" "$(c journalctl -u edgeferry --no-pager -o cat -n 15 2>&1)"
fi

# ---- security score ------------------------------------------------------------
line=$(c systemd-analyze security edgeferry --no-pager 2>/dev/null | grep "Overall exposure level" || true)
score=$(echo "$line" | sed -n 's/.*: \([0-9][0-9]*\.[0-9]\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
    pass "systemd-analyze security (live): $score"
else
    fail "systemd-analyze security (live) at most 2.0" "$line"
fi

# ---- PrivateUsers= (not in the unit): does the dialout pty still open? --------
c mkdir -p /etc/systemd/system/edgeferry.service.d
c sh -c 'printf "[Service]\nPrivateUsers=yes\n" >/etc/systemd/system/edgeferry.service.d/private-users.conf'
c systemctl daemon-reload
c systemctl restart edgeferry
pid=$(mainpid)
if [ "$(c cat /proc/"$pid"/uid_map | wc -l)" -eq 2 ] &&
   wait_for 10 "ls -l /proc/$pid/fd | grep -q /dev/pts/" &&
   sub "edgeferry/$GW/telemetry/probe" 1 10 >/dev/null 2>&1; then
    pass "drop-in PrivateUsers=yes: dialout pty still opens through the unmapped group"
else
    fail "drop-in PrivateUsers=yes: dialout pty opens" \
        "$(c journalctl -u edgeferry --no-pager -o cat | grep 'serial probe' | tail -3)"
fi
c rm -r /etc/systemd/system/edgeferry.service.d
c systemctl daemon-reload
c systemctl restart edgeferry

# ---- stop ----------------------------------------------------------------------
if c systemctl stop edgeferry && [ "$(c systemctl show -p Result --value edgeferry)" = success ] &&
   [ "$(sub "edgeferry/$GW/status" 1 5 --retained-only 2>&1)" = offline ]; then
    pass "systemctl stop: clean exit, retained status offline"
else
    fail "systemctl stop: clean exit, retained status offline" "$(c systemctl status edgeferry --no-pager -n 10 2>&1)"
fi

# ---- reinstall, remove, purge --------------------------------------------------
c systemctl start edgeferry
c apt-get install -y -q --reinstall /mnt/ef/edgeferry.deb >/dev/null 2>&1 || true
check "reinstall keeps the edited /etc/edgeferry/edgeferry.ini" \
    'grep -q "written by scripts/systemd-container.sh" /etc/edgeferry/edgeferry.ini'
c dpkg -r edgeferry >/dev/null 2>&1 || true
check "dpkg -r: service stopped, unit gone, configuration and queue kept" \
    '! systemctl is-active -q edgeferry && [ ! -e /usr/lib/systemd/system/edgeferry.service ] &&
     [ -f /etc/edgeferry/edgeferry.ini ] && [ -d /var/lib/edgeferry/queue ]'
c dpkg --purge edgeferry >/dev/null 2>&1 || true
check "dpkg --purge: /etc/edgeferry and /var/lib/edgeferry gone" \
    '! dpkg -s edgeferry >/dev/null 2>&1 && [ ! -e /etc/edgeferry ] && [ ! -e /var/lib/edgeferry ]'

echo "== $PASSED passed, $FAILED failed (root file system kept in $ROOTFS)"
[ "$FAILED" -eq 0 ]

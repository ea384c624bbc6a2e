#!/usr/bin/env python3
"""The unit's SystemCallFilter= (@system-service, less @privileged and
@resources) must allow every system call the gateway makes, or systemd
would refuse it (EPERM) on a board. Without systemd as PID 1 here, the
binary runs under strace through start-up with a serial sensor and a Modbus
bus, a SIGHUP reload, and a SIGTERM stop; the calls seen are checked
against the filter groups as this systemd-analyze expands them."""
import os
import re
import signal
import subprocess
import time

import ef
import svc

T = ef.Test()


def filter_groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                         text=True, check=True).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if re.match(r"^@\S+$", line):
            cur = line
            groups[cur] = []
        elif cur and line.strip() and not line.strip().startswith("#"):
            groups[cur].append(line.strip())

    def expand(name):
        calls = set()
        for m in groups.get(name, []):
            calls |= expand(m) if m.startswith("@") else {m}
        return calls
    allowed = expand("@system-service")
    denied = expand("@privileged") | expand("@resources")
    assert "read" in allowed and "reboot" in denied, "unexpected systemd-analyze output"
    return allowed - denied


# Calls the unit refuses (EPERM) on purpose, which the gateway expects and
# handles: the read-only adjtimex of the clock's synchronisation state is in
# @clock, which ProtectClock= and ~@privileged deny; the gateway then reads
# systemd-timesyncd's flag instead (tests/clock: a refused adjtimex).
REFUSED_AND_HANDLED = {"adjtimex", "clock_adjtime", "clock_adjtime64"}


def unit_filter_lines():
    with open(os.path.join(os.environ["EF_SOURCE_DIR"], "systemd/edgeferry.service")) as f:
        return [ln.strip() for ln in f if ln.startswith("SystemCallFilter=")]


@T.case
def every_system_call_is_inside_the_unit_filter(tmp, cleanup):
    # The test checks the filter the unit really has.
    assert unit_filter_lines() == ["SystemCallFilter=@system-service",
                                   "SystemCallFilter=~@privileged @resources"], unit_filter_lines()
    broker = ef.Broker(tmp)
    cleanup(broker.stop)
    sensor = svc.KvSensor(tmp, "s1")
    cleanup(sensor.stop)
    sub = ef.Subscriber(broker.port, ["ef/#"], tmp)
    cleanup(sub.stop)
    trace = tmp.file("strace.out")
    extra = f"""
[bus:b1]
type = tcp
host = 127.0.0.1
port = {ef.free_port()}
timeout_ms = 100

[device:d1]
bus = b1
unit = 1
interval_ms = 200

[point:d1.x]
register = holding:0
"""
    notify = tmp.file("notify.sock")
    gw = ef.Gateway(tmp, svc.ini(tmp, broker.port, [("s1", sensor.path)], extra=extra),
                    # LeakSanitizer cannot run under ptrace; the other tests cover leaks.
                    extra_env={"NOTIFY_SOCKET": notify, "WATCHDOG_USEC": "2000000",
                               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")
                               + ":detect_leaks=0"},
                    wrapper=["strace", "-D", "-f", "-o", trace]).start()
    cleanup(gw.stop)
    pid = gw.proc.pid  # with -D, strace is not the parent: signals reach edgeferry
    sub.wait_count("ef/gw1/telemetry/s1", 3, timeout=30)
    os.kill(pid, signal.SIGHUP)
    gw.proc.wait_output("reload: 1 Modbus devices, 1 serial sensors", timeout=30)
    n = len(sub.all("ef/gw1/telemetry/s1"))
    sub.wait_count("ef/gw1/telemetry/s1", n + 2, timeout=30)
    os.kill(pid, signal.SIGTERM)
    assert gw.proc.wait(60) == 0, gw.output()
    # strace (detached by -D) writes its last lines after the gateway is
    # gone; on a loaded machine that can take a while. Done when the exit
    # line is there, or when the trace has stopped growing for 3 s.
    last = {"size": -1, "since": time.monotonic()}

    def trace_done():
        with open(trace) as f:
            text = f.read()
        if f"{pid} +++ exited with 0 +++" in text:
            return True
        if len(text) != last["size"]:
            last["size"], last["since"] = len(text), time.monotonic()
        return time.monotonic() - last["since"] > 3
    ef.wait_until(trace_done, 90, what="strace to finish its output")

    used = set()
    with open(trace) as f:
        for line in f:
            m = re.match(r"^\d+\s+([a-z0-9_]+)\(", line)
            if m:
                used.add(m.group(1))
    # A meaningful trace: threads, the notify socket, serial and TCP I/O.
    for call in ("clone3", "sendto", "rt_sigtimedwait", "connect", "poll"):
        assert call in used or (call == "clone3" and "clone" in used), (call, sorted(used))
    outside = sorted(used - filter_groups() - REFUSED_AND_HANDLED)
    print(f"{len(used)} distinct system calls, all inside the filter" if not outside else "")
    assert not outside, f"outside SystemCallFilter=: {outside}"


if __name__ == "__main__":
    raise SystemExit(T.run())

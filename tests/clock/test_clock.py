#!/usr/bin/env python3
"""The clock, on the real binary: tests/clock/clockshim.c (LD_PRELOAD) makes
its wall clock jump (the monotonic clock stays true) and says what the
kernel's adjtimex reports about synchronisation, as a Raspberry Pi without
an RTC sees at boot and when NTP steps its clock.

- a jump is logged and counted (clock_jumps) and polling goes on;
- clock_unsynced = mark: readings and alarms taken while the clock is not
  synchronised carry "clock":"unsynced", and stop carrying it once it is;
- drop: such telemetry is dropped and counted, alarms are marked, not lost;
- adjtimex refused (EPERM, as under the unit's ProtectClock=): the gateway
  says so and, with no other source here, marks nothing."""
import json
import os
import signal
import struct
import sys
import time

import ef

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from test_modbus_e2e import ModbusSim  # noqa: E402

T = ef.Test()
SYNCED, UNSYNCED, EPERM = 0, 1, 2


class Shim:
    def __init__(self, tmp, status=SYNCED):
        self.path = tmp.file("clockshim", "")
        self.offset_ms = 0
        self.set(status=status)

    def set(self, offset_ms=None, status=None):
        if offset_ms is not None:
            self.offset_ms = offset_ms
        if status is not None:
            self.status = status
        with open(self.path, "r+b" if os.path.getsize(self.path) else "wb") as f:
            f.write(struct.pack("<qii", self.offset_ms, self.status, 0))

    def env(self):
        return {"LD_PRELOAD": os.environ["EF_CLOCKSHIM_LIB"], "EF_CLOCKSHIM": self.path,
                # an ASan build wants its runtime first; the shim has none
                "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}


def ini(port, sim1, sim2, mode):
    return f"""
[gateway]
id = ck
stats_interval_s = 1
clock_unsynced = {mode}

[mqtt]
uri = tcp://127.0.0.1:{port}

[bus:b]
type = tcp
host = 127.0.0.1
port = {sim1}

[device:d]
bus = b
unit = 1
interval_ms = 100

[point:d.n]
register = holding:1

[bus:b2]
type = tcp
host = 127.0.0.1
port = {sim2}
timeout_ms = 100
retries = 0

[device:d2]
bus = b2
unit = 1
interval_ms = 100
offline_after = 2

[point:d2.x]
register = holding:1
"""


def start(tmp, cleanup, mode, status):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sim1 = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim1.stop)
    tmp2 = ef.TempDir(); cleanup(tmp2.cleanup)
    sim2 = ModbusSim(tmp2, "tcp", 0, "--unit", 1); cleanup(sim2.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/ck/#"], tmp); cleanup(sub.stop)
    shim = Shim(tmp, status)
    text = ini(broker.port, sim1.port, sim2.port, mode).replace(
        "[gateway]\n", f"[gateway]\nstate_dir = {tmp.path}/state\n", 1)
    gw = ef.Gateway(tmp, text, extra_env=shim.env())
    gw.start(); cleanup(gw.stop)
    sub.wait_payload("edgeferry/ck/status", "online", timeout=30)
    return gw, sub, shim, sim2


def telemetry(sub, after=0):
    return [json.loads(m["payload"]) for m in sub.all("edgeferry/ck/telemetry/d")[after:]]


def last_stats(sub):
    return json.loads(sub.all("edgeferry/ck/stats")[-1]["payload"])


@T.case
def a_clock_jump_is_logged_and_counted_and_polling_goes_on(tmp, cleanup):
    gw, sub, shim, _ = start(tmp, cleanup, "auto", SYNCED)
    sub.wait_count("edgeferry/ck/telemetry/d", 5)
    hour = 3600 * 1000
    shim.set(offset_ms=hour)
    gw.proc.wait_output("clock: the wall clock jumped by +36", timeout=20)
    n = len(sub.all("edgeferry/ck/telemetry/d"))
    sub.wait_count("edgeferry/ck/telemetry/d", n + 10)
    now = time.time() * 1000
    assert abs(telemetry(sub)[-1]["ts"] - (now + hour)) < 60000, telemetry(sub)[-1]
    shim.set(offset_ms=0)
    gw.proc.wait_output("clock: the wall clock jumped by -36", timeout=20)
    ef.wait_until(lambda: sub.all("edgeferry/ck/stats") and last_stats(sub)["clock_jumps"] == 2,
                  20, what="clock_jumps 2 in the stats")
    n = len(sub.all("edgeferry/ck/telemetry/d"))
    sub.wait_count("edgeferry/ck/telemetry/d", n + 10)
    assert all("clock" not in p for p in telemetry(sub)), "a synchronised clock marks nothing"


@T.case
def mark_adds_clock_unsynced_until_the_clock_is_synchronised(tmp, cleanup):
    gw, sub, shim, sim2 = start(tmp, cleanup, "mark", UNSYNCED)
    sub.wait_count("edgeferry/ck/telemetry/d", 5)
    assert all(p.get("clock") == "unsynced" for p in telemetry(sub)), telemetry(sub)
    sim2.proc.signal(signal.SIGSTOP)
    al = ef.wait_until(lambda: [json.loads(m["payload"]) for m in sub.all("edgeferry/ck/alarm/d2")],
                       30, what="d2's offline alarm")
    assert al[0]["state"] == "active" and al[0]["clock"] == "unsynced", al
    ef.wait_until(lambda: sub.all("edgeferry/ck/stats") and last_stats(sub)["clock_unsynced"] == 1,
                  20, what="clock_unsynced 1 in the stats")
    # NTP synchronises and steps the clock.
    shim.set(offset_ms=120000, status=SYNCED)
    gw.proc.wait_output("clock: synchronised", timeout=20)
    n = len(sub.all("edgeferry/ck/telemetry/d"))
    sub.wait_count("edgeferry/ck/telemetry/d", n + 10)
    later = telemetry(sub, n + 3)
    assert later and all("clock" not in p for p in later), later
    assert set(later[-1]) == {"ts", "values"}, later[-1]
    sim2.proc.signal(signal.SIGCONT)


@T.case
def drop_drops_telemetry_but_never_an_alarm(tmp, cleanup):
    gw, sub, shim, sim2 = start(tmp, cleanup, "drop", UNSYNCED)
    ef.wait_until(lambda: sub.all("edgeferry/ck/stats") and
                  last_stats(sub)["dropped"]["clock_unsynced"] > 5, 20,
                  what="telemetry dropped for the clock")
    assert not sub.all("edgeferry/ck/telemetry/d"), telemetry(sub)
    sim2.proc.signal(signal.SIGSTOP)
    al = ef.wait_until(lambda: [json.loads(m["payload"]) for m in sub.all("edgeferry/ck/alarm/d2")],
                       30, what="d2's offline alarm")
    assert al[0]["state"] == "active" and al[0]["clock"] == "unsynced", al
    shim.set(status=SYNCED)
    sub.wait_count("edgeferry/ck/telemetry/d", 5, timeout=20)
    assert all("clock" not in p for p in telemetry(sub)), telemetry(sub)
    sim2.proc.signal(signal.SIGCONT)


@T.case
def a_refused_adjtimex_falls_back_and_nothing_is_marked(tmp, cleanup):
    if os.path.exists("/run/systemd/timesync"):
        print("SKIP: this machine runs systemd-timesyncd, whose flag would be used")
        raise SystemExit(77)
    gw, sub, shim, _ = start(tmp, cleanup, "mark", EPERM)
    gw.proc.wait_output("clock: the kernel's synchronisation state cannot be read "
                        "(Operation not permitted)", timeout=20)
    sub.wait_count("edgeferry/ck/telemetry/d", 5)
    assert all("clock" not in p for p in telemetry(sub)), telemetry(sub)
    assert gw.proc.alive()


if __name__ == "__main__":
    raise SystemExit(T.run())

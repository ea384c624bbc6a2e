#!/usr/bin/env python3
"""Disk faults, end to end, on a real failing file system: state_dir lives on
faultfs (tests/faultfs/faultfs.py, FUSE), which fails writes and syncs with a
chosen errno on command and forgets what was never synced on a power cut.

- During an outage of the disk (EIO, ENOSPC, EROFS) the gateway goes on in
  memory, raises P/G/alarm/gateway/queue and clears it once the disk works.
- A disk that fails from the start is no reason not to start, and what was
  durable before is still delivered.
- Power cuts (SIGKILL plus the loss of everything unsynced, torn tails
  included) lose no alarm, at most about flush_ms of telemetry per cut, and
  never publish a damaged message.

Skipped (77) where FUSE cannot be used (no python3-fuse, /dev/fuse or root)."""
import json
import os
import signal
import sys
import time

import ef
import faultfs_mount
from faultfs_mount import FaultMount

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from test_modbus_e2e import ModbusSim  # noqa: E402

T = ef.Test()
ERRTEXT = {"EIO": "Input/output error", "ENOSPC": "No space left on device",
           "EROFS": "Read-only file system"}
ALARM = "edgeferry/df/alarm/gateway/queue"


def ini(state, port, sim1, sim2, flush_ms=500, extra=""):
    return f"""
[gateway]
id = df
state_dir = {state}
stats_interval_s = 1
{extra}
[mqtt]
uri = tcp://127.0.0.1:{port}
keepalive_s = 2
telemetry_qos = 1

[queue]
flush_ms = {flush_ms}
max_disk_mb = 4
memory_kb = 64

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


def fail_cmd(fs, err):
    """ENOSPC is a full disk: syncs of what was written still work."""
    if err == "ENOSPC":
        fs.fail("write", err)
    else:
        fs.fail("all", err)


def setup(tmp, cleanup, proxied=False):
    faultfs_mount.skip_unless_fuse()
    fs = FaultMount(tmp)
    cleanup(fs.stop)
    broker = ef.Broker(tmp); cleanup(broker.stop)
    port = broker.port
    proxy = None
    if proxied:
        proxy = ef.TcpProxy(broker.port); cleanup(proxy.stop)
        port = proxy.port
    sim1 = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim1.stop)
    tmp2 = ef.TempDir(); cleanup(tmp2.cleanup)
    sim2 = ModbusSim(tmp2, "tcp", 0, "--unit", 1); cleanup(sim2.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/df/#"], tmp); cleanup(sub.stop)
    state = os.path.join(fs.path, "state")
    return fs, broker, proxy, sim1, sim2, sub, state, port


def alarms(sub, topic=ALARM):
    return [json.loads(m["payload"]) for m in sub.all(topic)]


def stats(sub):
    return [json.loads(m["payload"]) for m in sub.all("edgeferry/df/stats")]


def outage(err):
    def case(tmp, cleanup):
        fs, broker, _, sim1, sim2, sub, state, port = setup(tmp, cleanup)
        gw = ef.Gateway(tmp, ini(state, port, sim1.port, sim2.port))
        gw.start(); cleanup(gw.stop)
        sub.wait_payload("edgeferry/df/status", "online", timeout=30)
        sub.wait_count("edgeferry/df/telemetry/d", 5, timeout=30)
        fail_cmd(fs, err)
        # Something must be written: d2 stops answering, its alarm is due.
        sim2.proc.signal(signal.SIGSTOP)
        got = ef.wait_until(lambda: alarms(sub), 60, what="the disk alarm")
        a = got[0]
        assert a["state"] == "active" and a["kind"] == "disk", a
        assert ERRTEXT[err] in a["error"], a
        assert set(a) == {"ts", "state", "kind", "error"}, a
        # The device's alarm is still delivered, from memory.
        off = ef.wait_until(lambda: alarms(sub, "edgeferry/df/alarm/d2"), 30,
                            what="d2's offline alarm while the disk fails")
        assert off[0]["state"] == "active", off
        # Telemetry goes on, and memory stays within memory_kb.
        n0 = len(sub.all("edgeferry/df/telemetry/d"))
        ef.wait_until(lambda: len(sub.all("edgeferry/df/telemetry/d")) > n0 + 20, 30,
                      what="telemetry while the disk fails")
        st = ef.wait_until(lambda: [s for s in stats(sub) if s["queue"]["disk_fault"]], 30,
                           what="stats with the disk fault")[-1]
        assert st["queue"]["memory_bytes"] <= 64 * 1024, st["queue"]
        assert gw.proc.alive()
        # The disk works again: the alarm clears within a probe period.
        fs.ok()
        sim2.proc.signal(signal.SIGCONT)
        ef.wait_until(lambda: len(alarms(sub)) >= 2, 60, what="the disk alarm cleared")
        c = alarms(sub)[1]
        assert c["state"] == "cleared" and c["kind"] == "disk", alarms(sub)
        assert len(alarms(sub)) == 2, alarms(sub)
        gw.stop()
        assert gw.proc.p.returncode == 0, gw.output()
    case.__name__ = f"an_outage_with_{err}_runs_on_memory_and_raises_then_clears_the_disk_alarm"
    return case


def at_start(err):
    def case(tmp, cleanup):
        fs, broker, proxy, sim1, sim2, sub, state, port = setup(tmp, cleanup, proxied=True)
        # A first run, broker out of reach: d2's offline alarm becomes durable.
        proxy.set_mode("reset")
        gw = ef.Gateway(tmp, ini(state, port, sim1.port, sim2.port))
        gw.start(); cleanup(gw.stop)
        gw.proc.wait_output("started", timeout=30)
        sim2.proc.signal(signal.SIGSTOP)
        gw.proc.wait_output("device d2 offline", timeout=30)
        time.sleep(1)  # the push has returned: written and synced
        gw.kill()
        fs.cut()  # nothing unsynced survives
        # The disk fails before the gateway starts again.
        fail_cmd(fs, err)
        proxy.set_mode("pass")
        gw.start()
        sub.wait_payload("edgeferry/df/status", "online", timeout=60)
        got = ef.wait_until(lambda: alarms(sub), 60, what="the disk alarm at start")
        assert got[0]["state"] == "active" and ERRTEXT[err] in got[0]["error"], got
        # What was durable before the fault is delivered.
        off = ef.wait_until(lambda: alarms(sub, "edgeferry/df/alarm/d2"), 30,
                            what="the durable alarm of the first run")
        assert off[0]["state"] == "active" and off[0]["kind"] == "offline", off
        sub.wait_count("edgeferry/df/telemetry/d", 10, timeout=30)
        fs.ok()
        ef.wait_until(lambda: len(alarms(sub)) >= 2, 60, what="the disk alarm cleared")
        assert alarms(sub)[1]["state"] == "cleared", alarms(sub)
        sim2.proc.signal(signal.SIGCONT)
    case.__name__ = f"a_disk_failing_with_{err}_at_start_does_not_stop_the_gateway"
    return case


@T.case
def a_state_dir_that_a_read_only_disk_cannot_create_does_not_stop_the_gateway(tmp, cleanup):
    fs, broker, _, sim1, sim2, sub, state, port = setup(tmp, cleanup)
    fs.fail("all", "EROFS")  # state_dir does not exist yet
    gw = ef.Gateway(tmp, ini(state, port, sim1.port, sim2.port))
    gw.start(); cleanup(gw.stop)
    sub.wait_payload("edgeferry/df/status", "online", timeout=30)
    got = ef.wait_until(lambda: alarms(sub), 60, what="the disk alarm")
    assert got[0]["state"] == "active" and "Read-only" in got[0]["error"], got
    sub.wait_count("edgeferry/df/telemetry/d", 10, timeout=30)
    fs.ok()
    ef.wait_until(lambda: len(alarms(sub)) >= 2, 60, what="the disk alarm cleared")
    assert alarms(sub)[1]["state"] == "cleared", alarms(sub)
    ef.wait_until(lambda: os.path.isdir(os.path.join(state, "queue")), 30,
                  what="the queue directory made once the disk works")


@T.case
def an_alarm_whose_sync_failed_is_written_again_and_survives_a_power_cut(tmp, cleanup):
    fs, broker, proxy, sim1, sim2, sub, state, port = setup(tmp, cleanup, proxied=True)
    proxy.set_mode("reset")
    gw = ef.Gateway(tmp, ini(state, port, sim1.port, sim2.port))
    gw.start(); cleanup(gw.stop)
    gw.proc.wait_output("started", timeout=30)
    time.sleep(1)
    fs.fail("fsync", "EIO")  # writes reach the page cache, syncs fail
    sim2.proc.signal(signal.SIGSTOP)
    gw.proc.wait_output("device d2 offline", timeout=30)
    gw.proc.wait_output("could not be made durable", timeout=30)
    fs.ok()
    # The copy kept in memory is written and synced again.
    gw.proc.wait_output("works again", timeout=30)
    time.sleep(1)
    killed = time.time() * 1000
    gw.kill()
    fs.cut()  # what was written before without a working sync is gone
    # d2 answers again: the restarted gateway has no new offline alarm to
    # raise, so an "active" can only come from the queue.
    sim2.proc.signal(signal.SIGCONT)
    proxy.set_mode("pass")
    gw.start()
    sub.wait_payload("edgeferry/df/status", "online", timeout=60)
    off = ef.wait_until(lambda: [a for a in alarms(sub, "edgeferry/df/alarm/d2")
                                 if a["state"] == "active"], 60,
                        what="the offline alarm whose first sync failed")
    assert off[0]["kind"] == "offline" and off[0]["ts"] < killed, off


for e in ("EIO", "ENOSPC", "EROFS"):
    T.case(outage(e))
    T.case(at_start(e))


def telemetry_n(sub):
    out = []
    for m in sub.all("edgeferry/df/telemetry/d"):
        p = json.loads(m["payload"])  # a damaged message fails here
        assert set(p) == {"ts", "values"} and isinstance(p["values"]["n"], int), p
        out.append(p["values"]["n"])
    return out


@T.case
def power_cuts_lose_no_alarm_and_at_most_about_flush_ms_of_telemetry(tmp, cleanup):
    cuts = int(os.environ.get("EF_POWER_CUTS", "20"))
    flush_ms, interval_ms = 500, 100
    fs, broker, proxy, sim1, sim2, sub, state, port = setup(tmp, cleanup, proxied=True)
    proxy.set_mode("reset")
    gw = ef.Gateway(tmp, ini(state, port, sim1.port, sim2.port, flush_ms=flush_ms))
    cleanup(lambda: gw.proc and gw.stop())
    killed_at, events = [], []
    stopped = False
    for k in range(cuts):
        gw.start()
        gw.proc.wait_output("started", timeout=30)
        time.sleep(1.5)
        # One alarm per run: d2 stops or resumes answering.
        stopped = not stopped
        sim2.proc.signal(signal.SIGSTOP if stopped else signal.SIGCONT)
        line = "device d2 offline" if stopped else "device d2 answers again"
        try:
            gw.proc.wait_output(line, timeout=20)
            events.append("active" if stopped else "cleared")
        except AssertionError:
            # The state file of the last run may have kept the other state:
            # then this run has nothing to raise.
            pass
        time.sleep(1)
        killed_at.append(max(sim1.requests(1) for _ in range(5)))
        gw.kill()
        fs.cut(torn=True)
    sim2.proc.signal(signal.SIGCONT)
    proxy.set_mode("pass")
    gw.start()
    sub.wait_payload("edgeferry/df/status", "online", timeout=60)
    ef.wait_until(lambda: telemetry_n(sub) and max(telemetry_n(sub)) > killed_at[-1], 120,
                  what="the backlog of every run and the live telemetry")
    time.sleep(2)
    got = [a["state"] for a in alarms(sub, "edgeferry/df/alarm/d2")]
    for a in alarms(sub, "edgeferry/df/alarm/d2"):
        assert a["kind"] == "offline" and set(a) == {"ts", "state", "kind"}, a
    # No alarm lost: every event of every run is there, in order (a state
    # file reverted by a cut may repeat one; nothing may be missing).
    it = iter(got)
    assert all(any(g == e for g in it) for e in events), (events, got)
    ns = set(telemetry_n(sub))
    lost = []
    for n_kill in killed_at:
        last = max([n for n in ns if n <= n_kill], default=0)
        lost.append(n_kill - last)
    print(f"  {cuts} cuts; {len(events)} alarms raised, {len(got)} received, 0 lost; "
          f"polls lost per cut: {lost} (mean {sum(lost) / len(lost):.1f}, max {max(lost)}; "
          f"flush_ms = {flush_ms} is {flush_ms // interval_ms} polls)", flush=True)
    print(f"  faultfs: {fs.status()}", flush=True)
    limit = (2 * flush_ms + 500) // interval_ms
    assert max(lost) <= limit, (lost, limit)


if __name__ == "__main__":
    raise SystemExit(T.run())

#!/usr/bin/env python3
"""Store and forward, end to end: the real gateway between the Modbus
simulator and a real mosquitto, with a cuttable TCP proxy on the broker link,
SIGKILLs of the gateway and damaged queue files.

The simulator's holding:1 counts the requests of its unit, so with one
request per poll every poll carries the next integer: a missing integer is a
lost reading. Bit 0 of it toggles every poll; a limit of 0.5 on that bit
makes every poll raise or clear an alarm, so alarms can be counted too."""
import json
import os
import random
import signal
import subprocess
import time

import ef
from test_modbus_e2e import ModbusSim

T = ef.Test()
QTOOL = os.path.join(os.environ.get("EF_BUILD_DIR", "build"), "tests/queue/ef-queue-tool")


def ini(tmp, port, sim_port, interval=100, qos=1, queue="", keepalive=2, extra_point=""):
    return f"""
[gateway]
id = sf
state_dir = {tmp.path}/state
stats_interval_s = 0

[mqtt]
uri = tcp://127.0.0.1:{port}
keepalive_s = {keepalive}
telemetry_qos = {qos}

[queue]
flush_ms = 500
{queue}

[bus:b]
type = tcp
host = 127.0.0.1
port = {sim_port}

[device:d]
bus = b
unit = 1
interval_ms = {interval}

[point:d.n]
register = holding:1

[point:d.odd]
register = holding:1
bit = 0
alarm_high = 0.5
{extra_point}
"""


def counters(sub):
    return [json.loads(m["payload"])["values"]["n"]
            for m in sub.all("edgeferry/sf/telemetry/d")]


def missing(values):
    s = set(values)
    return sorted(set(range(min(s), max(s) + 1)) - s)


def setup(tmp, cleanup, **kw):
    broker = ef.Broker(tmp, extra_conf=os.environ.get("EF_BROKER_EXTRA", "").replace("\\n", "\n"))
    cleanup(broker.stop)
    proxy = ef.TcpProxy(broker.port); cleanup(proxy.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/sf/#"], tmp); cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini(tmp, proxy.port, sim.port, **kw))
    return broker, proxy, sim, sub, gw


def outage(tmp, cleanup, mode):
    broker, proxy, sim, sub, gw = setup(tmp, cleanup)
    gw.start(); cleanup(gw.stop)
    sub.wait_payload("edgeferry/sf/status", "online")
    sub.wait_count("edgeferry/sf/telemetry/d", 10)
    n_status = len(sub.all("edgeferry/sf/status"))
    proxy.set_mode(mode)
    t_cut = time.time()
    if mode == "drop":
        # Nothing reaches the broker: it sends the will after 1.5 x keepalive.
        sub.wait_payload("edgeferry/sf/status", "offline", timeout=20, after=n_status)
    time.sleep(6)
    proxy.set_mode("pass")
    sub.wait_payload("edgeferry/sf/status", "online", timeout=60,
                     after=len(sub.all("edgeferry/sf/status")) - 1 if mode == "drop" else n_status)
    # Everything polled during the outage arrives, with its acquisition time.
    t_back = time.time()
    vals_needed = max(counters(sub)) + 5
    ef.wait_until(lambda: max(counters(sub)) >= vals_needed, 60, what="fresh readings")
    ef.wait_until(lambda: not missing(counters(sub)), 60,
                  what=f"backlog: still missing {missing(counters(sub))[:10]}")
    during = [json.loads(m["payload"])["ts"] / 1000 for m in sub.all("edgeferry/sf/telemetry/d")]
    n_during = sum(1 for t in during if t_cut + 1 < t < t_back - 1)
    print(f"  {n_during} readings taken during the {t_back - t_cut:.1f} s outage delivered")
    # At 10 polls/s there are dozens; a loaded machine (sanitizers, parallel
    # tests, fsyncs of every alarm) may poll slower, hence the low bar.
    assert n_during >= 10, "readings taken during the outage must keep their acquisition ts"
    gw.stop()
    return sub


@T.case
def silent_link_loss_loses_no_qos1_telemetry(tmp, cleanup):
    outage(tmp, cleanup, "drop")


@T.case
def connection_resets_lose_no_qos1_telemetry(tmp, cleanup):
    outage(tmp, cleanup, "reset")


@T.case
def sigkill_while_link_down_loses_nothing_older_than_flush_ms(tmp, cleanup):
    broker, proxy, sim, sub, gw = setup(tmp, cleanup)
    gw.start(); cleanup(lambda: gw.stop())
    sub.wait_count("edgeferry/sf/telemetry/d", 5)
    proxy.set_mode("reset")
    rng = random.Random(int(os.environ.get("EF_SEED", "7")))
    kills = 5
    for i in range(kills):
        time.sleep(rng.uniform(1.0, 2.5))
        gw.kill()
        gw.start()
    time.sleep(rng.uniform(1.0, 2.0))
    proxy.set_mode("pass")
    last_before = sim.requests()
    ef.wait_until(lambda: counters(sub) and max(counters(sub)) > last_before + 5, 60,
                  what="fresh readings after the outage")
    time.sleep(2)
    gw.stop()
    vals = counters(sub)
    lost = missing(vals)
    # Only readings still in memory at a kill may be lost: at most
    # flush_ms (500) + one 100 ms tick worth of 100 ms polls per kill, plus
    # the poll in progress.
    budget = kills * 8
    print(f"  {len(vals)} readings, {len(set(vals))} distinct, {len(lost)} lost over {kills} kills")
    assert len(lost) <= budget, f"{len(lost)} readings lost (budget {budget}): {lost}"
    # Alarms are durable: one per poll (the bit toggles every poll), for every
    # poll whose request was answered, except one per kill in progress.
    alarms = {}
    for m in sub.all("edgeferry/sf/alarm/d/odd"):
        p = json.loads(m["payload"])
        alarms[p["ts"]] = p["state"]
    polls = max(vals) - min(vals) + 1
    print(f"  {len(alarms)} distinct alarms for {polls} polls")
    assert len(alarms) >= polls - kills - 2, f"{len(alarms)} alarms for {polls} polls"


@T.case
def corrupt_and_truncated_segment_tails_are_cut_and_the_rest_delivered(tmp, cleanup):
    broker, proxy, sim, sub, gw = setup(tmp, cleanup)
    proxy.set_mode("reset")
    gw.start(); cleanup(lambda: gw.stop())
    time.sleep(3)  # ~30 polls spilled to disk (flush_ms 500)
    gw.kill()
    qdir = f"{tmp.path}/state/queue"
    before = subprocess.run([QTOOL, "dump", qdir], capture_output=True, text=True).stdout
    for args in (["--truncate", "7"], ["--garbage", "100"], ["--flip"]):
        r = subprocess.run([QTOOL, "corrupt", qdir, *args, "--class", "telemetry"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    proxy.set_mode("pass")
    gw.start()
    ef.wait_until(lambda: len(counters(sub)) >= 20, 30, what="the backlog")
    gw.proc.wait_output("cut", timeout=10)
    time.sleep(2)
    gw.stop()
    log = gw.output()
    assert "corrupt" in log or "cut" in log, log
    vals = counters(sub)
    assert len(set(vals)) >= 20, f"only {len(set(vals))} readings delivered:\n{before}"


def dir_bytes(d):
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except FileNotFoundError:
                pass
    return total


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@T.case
def long_outage_with_a_small_disk_cap_stays_under_it_and_counts_drops(tmp, cleanup):
    # 100 points at 10 ms: ~100 polls/s of ~1.5 kB each, far beyond 1 MB.
    points = "\n".join(f"[point:d.p{i}]\nregister = holding:{200 + i}\n" for i in range(100))
    broker, proxy, sim, sub, gw = setup(tmp, cleanup, interval=10, qos=0,
                                        queue="max_disk_mb = 1\nmemory_kb = 64",
                                        extra_point=points)
    proxy.set_mode("reset")
    gw.start(); cleanup(lambda: gw.stop())
    qdir = f"{tmp.path}/state/queue"
    cap = 1024 * 1024
    peak, rss = 0, []
    t_end = time.monotonic() + 20
    while time.monotonic() < t_end:
        peak = max(peak, dir_bytes(qdir))
        rss.append(rss_kb(gw.proc.pid))
        time.sleep(0.1)
    assert peak <= cap, f"queue used {peak} bytes on disk, cap {cap}"
    assert peak > cap // 2, f"the queue never filled ({peak} bytes): test proves nothing"
    # RSS flat: the second half of the outage grows by less than 2 MB.
    half = len(rss) // 2
    assert max(rss[half:]) - max(rss[:half]) < 2048, f"RSS grew: {rss[::20]}"
    gw.stop()
    # Drops are counted and reported in the stats, and fresh data flows.
    with open(gw.ini) as f:
        text = f.read().replace("stats_interval_s = 0", "stats_interval_s = 1")
    gw.rewrite(text)
    proxy.set_mode("pass")
    gw.start()
    st = sub.wait_count("edgeferry/sf/stats", 1, timeout=30)
    stats = json.loads(st[-1]["payload"])
    log = gw.output()
    assert "recovered" in log or stats["queue"]["recovered"] > 0, log
    ef.wait_until(lambda: any(json.loads(m["payload"])["ts"] / 1000 > time.time() - 5
                              for m in sub.all("edgeferry/sf/telemetry/d")[-50:]),
                  30, what="fresh telemetry after the outage")
    with open(tmp.file("gw-1.log")) as f:
        first_run_log = f.read()
    assert "disk cap of 1 MB reached: dropped" in first_run_log, first_run_log[-2000:]


if __name__ == "__main__":
    raise SystemExit(T.run())

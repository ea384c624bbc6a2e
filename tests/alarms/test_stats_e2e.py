#!/usr/bin/env python3
"""The P/G/stats message end to end: its counters match what the test made
the gateway do (readings, messages, per-device polls, errors, timeouts,
reconnects, drops)."""
import ef
from alarm_util import ModbusSim, ScriptedSensor, ini, jsons, main, sensor_section, wait_json

T = ef.Test()
STATS = "edgeferry/gw1/stats"


def start(tmp, cleanup, body, proxy=False):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    px = None
    if proxy:
        px = ef.TcpProxy(broker.port); cleanup(px.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/#"], tmp); cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini(tmp, px.port if px else broker.port, body,
                             gw_extra="stats_interval_s = 1")).start()
    cleanup(gw.stop)
    return broker, px, sub, gw


def count_between(times_s, ts_ms, margin_ms=200):
    """How many of TIMES_S (seconds) lie surely before TS_MS, and how many
    possibly before it: events within MARGIN_MS of the stats time may fall
    on either side of it."""
    lo = sum(1 for t in times_s if t * 1000 < ts_ms - margin_ms)
    hi = sum(1 for t in times_s if t * 1000 <= ts_ms + margin_ms)
    return lo, hi


@T.case
def stats_count_serial_readings_messages_polls_timeouts_and_the_offline_alarm(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    sensor.play([f"x={i} y={i * 10}" for i in range(6)], then=None)
    _, _, sub, _ = start(tmp, cleanup, sensor_section(sensor, extra="offline_after = 3"))
    _, st = wait_json(sub, STATS, lambda p: p["devices"]["s"]["timeouts"] >= 4
                      and p["published"] >= 9, what="stats after the sensor fell silent")
    d = st["devices"]["s"]
    assert len(sub.all("edgeferry/gw1/telemetry/s")) == 6
    assert len(sub.all("edgeferry/gw1/alarm/s")) == 1
    assert st["readings"] == 12 and st["samples"] == 6, st
    assert st["telemetry_queued"] == 6 and st["telemetry_suppressed"] == 0, st
    assert st["alarms_queued"] == 1, st
    # 6 telemetry + 1 alarm + availability online and offline (status is not
    # a queue message)
    assert st["published"] == 9, st
    assert [m["payload"] for m in sub.all("edgeferry/gw1/availability/s")] == ["online", "offline"]
    assert st["connects"] == 1 and st["reconnects"] == 0 and st["connection_lost"] == 0, st
    assert all(v == 0 for v in st["dropped"].values()), st["dropped"]
    assert d["readings"] == 12 and d["errors"] == 0 and d["skipped"] == 0, d
    assert d["lines_rejected"] == 0 and d["lines_overlong"] == 0 and d["reopens"] == 0, d
    assert d["requests"] == d["polls"], d
    assert d["polls_failed"] == d["timeouts"], d
    # Every poll is answered, timed out, or (at most one) still waiting.
    assert d["polls"] - 6 - d["timeouts"] in (0, 1), d
    lo, hi = count_between(sensor.query_times(), st["ts"])
    assert lo <= d["requests"] <= hi, (lo, d["requests"], hi)


@T.case
def stats_count_modbus_polls_timeouts_of_a_dead_unit_and_readings_of_a_live_one(tmp, cleanup):
    sim = ModbusSim(tmp, 0, "--unit", 1, "--dead-unit", 2); cleanup(sim.stop)
    body = f"""
[bus:b]
type = tcp
host = 127.0.0.1
port = {sim.port}
timeout_ms = 100
retries = 1
[template:t]
interval_ms = 400
[point:t.c]
register = holding:1
[point:t.k]
register = holding:10
type = int16
[device:good]
bus = b
unit = 1
template = t
[device:dead]
bus = b
unit = 2
template = t
offline_after = 2
"""
    _, _, sub, _ = start(tmp, cleanup, body)
    _, st = wait_json(sub, STATS, lambda p: p["devices"]["dead"]["polls"] >= 4
                      and p["devices"]["good"]["polls"] >= 4, what="stats with polls")
    g, d = st["devices"]["good"], st["devices"]["dead"]
    assert g["errors"] == 0 and g["timeouts"] == 0 and g["polls_failed"] == 0, g
    # Two points a poll, coalesced into one read; a poll counts at its start,
    # its readings at its end, so the stats may catch one poll in progress.
    assert g["readings"] in (2 * g["polls"], 2 * (g["polls"] - 1)), g
    assert g["requests"] in (g["polls"], g["polls"] - 1), g
    # The stats may catch the dead unit's poll in progress: counted as a
    # poll at its start, as failed at its end.
    assert d["readings"] == 0 and d["polls"] - d["polls_failed"] in (0, 1), d
    # One request and one retry per poll, each timing out.
    assert d["timeouts"] == d["requests"], d
    assert d["requests"] == 2 * d["polls_failed"] + 2 * (d["polls"] - d["polls_failed"]) \
        or d["requests"] == 2 * d["polls_failed"] + (d["polls"] - d["polls_failed"]), d
    assert d["points_failed"] == 2 * d["polls_failed"], d
    tel = [p["ts"] for p in jsons(sub, "edgeferry/gw1/telemetry/good")]
    # A sample's ts is the start of its poll, which shares the bus with the
    # dead unit's 200 ms of timeouts: allow one poll period either side.
    lo, hi = count_between([t / 1000 for t in tel], st["ts"], margin_ms=400)
    assert lo <= g["polls"] <= hi, (lo, g["polls"], hi)
    assert st["readings"] == g["readings"], st
    assert st["alarms_queued"] == 1, st  # the dead unit's offline alarm
    assert not sub.all("edgeferry/gw1/telemetry/dead")


@T.case
def stats_count_reconnects_lost_connections_and_stats_dropped_while_down(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    sensor.set("v=1")
    broker, px, sub, gw = start(tmp, cleanup, sensor_section(sensor), proxy=True)
    wait_json(sub, STATS, lambda p: p["connects"] == 1)
    px.set_mode("reset")
    gw.proc.wait_output("lost", timeout=20)
    # Stay down for a dozen polls (3 s, three stats periods).
    n = sensor.nqueries()
    ef.wait_until(lambda: sensor.nqueries() >= n + 12, 20, what="polls while down")
    px.set_mode("pass")
    _, st = wait_json(sub, STATS, lambda p: p["connects"] == 2, what="stats after reconnect")
    assert st["reconnects"] == 1 and st["connection_lost"] == 1, st
    assert st["dropped"]["stats_not_connected"] >= 2, st
    # A broker restart is one more.
    broker.restart()
    sub2 = ef.Subscriber(broker.port, [STATS], tmp); cleanup(sub2.stop)
    _, st = wait_json(sub2, STATS, lambda p: p["connects"] == 3, what="stats after restart")
    assert st["reconnects"] == 2 and st["connection_lost"] == 2, st
    # Telemetry was queued, not dropped, through both outages.
    assert st["dropped"]["telemetry_disk_full"] == 0 and st["dropped"]["memory_full"] == 0, st
    assert st["dropped"]["queue_refused"] == 0, st


if __name__ == "__main__":
    main(T)

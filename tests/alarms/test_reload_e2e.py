#!/usr/bin/env python3
"""What a reload (SIGHUP) or a restart with an edited file does to alarms and
stats, end to end: the real binary, a real mosquitto, scripted kv sensors on
ptys. An alarm whose device, point or limit the new configuration no longer
has is cleared ({"state":"cleared","reason":"removed"}, retained like the
alarm was) and forgotten; counters count from the process start."""
import os
import signal
import time

import ef
from alarm_util import ScriptedSensor, ini, jsons, main, retained, sensor_section, wait_json

T = ef.Test()
BASE = "edgeferry/gw1"
LIMITS = "alarm_high = 50\nalarm_low = 0\nalarm_hysteresis = 5\n"
RELOADED = "reload: 0 Modbus devices"


def start(tmp, cleanup, body, gw_extra="stats_interval_s = 0"):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/#"], tmp, qos=2); cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini(tmp, broker.port, body, gw_extra=gw_extra)).start()
    cleanup(gw.stop)
    return broker, sub, gw


def reload(gw, text):
    """Rewrites the file, sends SIGHUP, waits until the reload is done."""
    n = gw.output().count(RELOADED)
    gw.rewrite(text)
    gw.proc.signal(signal.SIGHUP)
    ef.wait_until(lambda: gw.output().count(RELOADED) > n, 20, what="the reload")


def sensors(tmp, cleanup, *names):
    out = []
    for n in names:
        s = ScriptedSensor(tmp, n); cleanup(s.stop)
        out.append(s)
    return out


def state_file(tmp):
    try:
        with open(os.path.join(tmp.path, "state", "alarms")) as f:
            return [ln.split() for ln in f if not ln.startswith("base ")]
    except FileNotFoundError:
        return []


def removed(kind):
    return lambda p: p == {"ts": p.get("ts"), "state": "cleared", "kind": kind,
                           "reason": "removed"}


def assert_retained_cleared(broker, topic, kind):
    got = retained(broker.port, topic)
    assert got and got[1] and removed(kind)(got[0]), (topic, got)


@T.case
def reload_removing_a_device_clears_its_offline_alarm_once_and_forgets_it(tmp, cleanup):
    s, t = sensors(tmp, cleanup, "s", "t")
    s.set(None)  # never answers: offline after two queries
    t.set("v=1")
    keep = sensor_section(t, "t")
    broker, sub, gw = start(tmp, cleanup, sensor_section(s, "s", "offline_after = 2") + keep)
    wait_json(sub, f"{BASE}/alarm/s", lambda p: p["state"] == "active", what="offline alarm")
    assert state_file(tmp) == [["offline", "s"]], state_file(tmp)

    reload(gw, ini(tmp, broker.port, keep))
    _, clr = wait_json(sub, f"{BASE}/alarm/s", lambda p: p["state"] == "cleared")
    assert removed("offline")(clr), clr
    assert_retained_cleared(broker, f"{BASE}/alarm/s", "offline")
    assert "reload: offline alarm of s cleared: no longer in the configuration" in gw.output()
    assert state_file(tmp) == [], state_file(tmp)

    # Later reloads neither clear it again nor call it active.
    reload(gw, ini(tmp, broker.port, keep))
    reload(gw, ini(tmp, broker.port, keep))
    n = len(sub.all(f"{BASE}/telemetry/t"))
    sub.wait_count(f"{BASE}/telemetry/t", n + 2)
    assert [p["state"] for p in jsons(sub, f"{BASE}/alarm/s")] == ["active", "cleared"], \
        jsons(sub, f"{BASE}/alarm/s")
    assert "still active" not in gw.output(), gw.output()
    assert gw.stop() == 0


@T.case
def reload_removing_a_point_clears_its_high_alarm(tmp, cleanup):
    (s,) = sensors(tmp, cleanup, "s")
    s.set("v=70 w=1")
    topic = f"{BASE}/alarm/s/v"
    broker, sub, gw = start(tmp, cleanup, sensor_section(s) + "[point:s.v]\n" + LIMITS)
    wait_json(sub, topic, lambda p: p["state"] == "active" and p["kind"] == "high")

    reload(gw, ini(tmp, broker.port, sensor_section(s)))  # [point:s.v] is gone
    _, clr = wait_json(sub, topic, lambda p: p["state"] == "cleared")
    assert removed("high")(clr), clr
    assert_retained_cleared(broker, topic, "high")
    assert "reload: alarm s/v high cleared: no longer in the configuration" in gw.output()
    assert state_file(tmp) == [], state_file(tmp)
    # v is still read (70) and published, but no longer has alarms.
    n = len(sub.all(f"{BASE}/telemetry/s"))
    sub.wait_count(f"{BASE}/telemetry/s", n + 4)
    assert len(sub.all(topic)) == 2, jsons(sub, topic)
    assert "still active" not in gw.output(), gw.output()
    assert gw.stop() == 0


@T.case
def reload_removing_alarm_high_clears_the_high_alarm_and_keeps_an_active_low_one(tmp, cleanup):
    (s,) = sensors(tmp, cleanup, "s")
    s.set("v=70 w=-5")
    both = sensor_section(s) + "[point:s.v]\n" + LIMITS + "[point:s.w]\n" + LIMITS
    broker, sub, gw = start(tmp, cleanup, both)
    tv, tw = f"{BASE}/alarm/s/v", f"{BASE}/alarm/s/w"
    wait_json(sub, tv, lambda p: p["state"] == "active" and p["kind"] == "high")
    wait_json(sub, tw, lambda p: p["state"] == "active" and p["kind"] == "low")

    # Both points keep alarm_low only: v's active high alarm has no limit any
    # more; w's active low alarm still has its own.
    low_only = "alarm_low = 0\nalarm_hysteresis = 5\n"
    reload(gw, ini(tmp, broker.port,
                   sensor_section(s) + "[point:s.v]\n" + low_only + "[point:s.w]\n" + low_only))
    _, clr = wait_json(sub, tv, lambda p: p["state"] == "cleared")
    assert removed("high")(clr), clr
    assert "reload: 1 alarm still active" in gw.output(), gw.output()
    assert state_file(tmp) == [["low", "s", "w"]], state_file(tmp)
    got = retained(broker.port, tw)
    assert got and got[0]["state"] == "active" and got[0]["kind"] == "low", got

    # The kept low alarm clears the usual way, with its value and limit.
    s.set("v=70 w=10")
    _, wclr = wait_json(sub, tw, lambda p: p["state"] == "cleared")
    assert wclr["kind"] == "low" and wclr["value"] == 10 and wclr["limit"] == 0, wclr
    assert [(p["state"], p["kind"]) for p in jsons(sub, tw)] == \
        [("active", "low"), ("cleared", "low")], jsons(sub, tw)
    assert [(p["state"], p["kind"]) for p in jsons(sub, tv)] == \
        [("active", "high"), ("cleared", "high")], jsons(sub, tv)
    assert gw.stop() == 0


@T.case
def restart_with_an_edited_file_clears_the_alarms_it_no_longer_has(tmp, cleanup):
    s, t = sensors(tmp, cleanup, "s", "t")
    s.set("v=70")
    t.set(None)
    broker, sub, gw = start(tmp, cleanup, sensor_section(s) + "[point:s.v]\n" + LIMITS +
                            sensor_section(t, "t", "offline_after = 2"))
    wait_json(sub, f"{BASE}/alarm/s/v", lambda p: p["state"] == "active")
    wait_json(sub, f"{BASE}/alarm/t", lambda p: p["state"] == "active")
    assert gw.stop() == 0

    gw.rewrite(ini(tmp, broker.port, sensor_section(s)))  # no limits on v, no sensor t
    gw.start()
    _, c1 = wait_json(sub, f"{BASE}/alarm/s/v", lambda p: p["state"] == "cleared")
    _, c2 = wait_json(sub, f"{BASE}/alarm/t", lambda p: p["state"] == "cleared")
    assert removed("high")(c1) and removed("offline")(c2), (c1, c2)
    log = gw.output()
    assert "alarm s/v high from before the restart cleared: no longer in the configuration" \
        in log, log
    assert "offline alarm of t from before the restart cleared" in log, log
    assert "still active" not in log, log
    assert state_file(tmp) == [], state_file(tmp)
    assert_retained_cleared(broker, f"{BASE}/alarm/t", "offline")

    # A second restart has nothing left to clear.
    assert gw.stop() == 0
    gw.start()
    n = len(sub.all(f"{BASE}/telemetry/s"))
    sub.wait_count(f"{BASE}/telemetry/s", n + 2)
    assert "cleared" not in gw.output() and "still active" not in gw.output(), gw.output()
    assert len(sub.all(f"{BASE}/alarm/t")) == 2, jsons(sub, f"{BASE}/alarm/t")


def stats_after(sub, topic, t_ms, what):
    _, p = wait_json(sub, topic, lambda p: p["ts"] > t_ms, timeout=20, what=what)
    return p


TOTALS = ("readings", "samples", "telemetry_queued", "alarms_queued", "published", "connects",
          "uptime_s")


@T.case
def stats_counters_count_from_the_process_start_across_reloads(tmp, cleanup):
    s, t = sensors(tmp, cleanup, "s", "t")
    s.set("v=70")
    t.set("x=1")
    body = sensor_section(s) + "[point:s.v]\n" + LIMITS
    broker, sub, gw = start(tmp, cleanup, body, gw_extra="stats_interval_s = 1")
    stats = f"{BASE}/stats"
    wait_json(sub, stats, lambda p: p["readings"] >= 16 and p["alarms_queued"] >= 1
              and p["published"] >= 16, timeout=30, what="counts before the reload")
    before = jsons(sub, stats)[-1]

    reload(gw, ini(tmp, broker.port, body + sensor_section(t, "t"),
                   gw_extra="stats_interval_s = 1"))
    after = stats_after(sub, stats, int(time.time() * 1000), "stats after the reload")
    for k in TOTALS:
        assert after[k] >= before[k], (k, before, after)
    for k in ("polls", "readings", "requests", "timeouts"):
        assert after["devices"]["s"][k] >= before["devices"]["s"][k], (k, before, after)
    assert "t" in after["devices"], after

    # A removed device leaves the stats; the totals keep what it counted.
    reload(gw, ini(tmp, broker.port, sensor_section(t, "t"), gw_extra="stats_interval_s = 1"))
    last = stats_after(sub, stats, int(time.time() * 1000), "stats after the second reload")
    assert set(last["devices"]) == {"t"}, last
    for k in TOTALS:
        assert last[k] >= after[k], (k, after, last)
    assert gw.stop() == 0


@T.case
def reload_with_a_new_topic_prefix_moves_alarms_and_keeps_publisher_counters(tmp, cleanup):
    (s,) = sensors(tmp, cleanup, "s")
    s.set("v=70")
    body = sensor_section(s) + "[point:s.v]\n" + LIMITS
    broker, sub, gw = start(tmp, cleanup, body, gw_extra="stats_interval_s = 1")
    sub2 = ef.Subscriber(broker.port, ["site2/gw1/#"], tmp, qos=2); cleanup(sub2.stop)
    wait_json(sub, f"{BASE}/alarm/s/v", lambda p: p["state"] == "active")
    wait_json(sub, f"{BASE}/stats", lambda p: p["published"] >= 16, timeout=30,
              what="published before the reload")
    before = jsons(sub, f"{BASE}/stats")[-1]

    reload(gw, ini(tmp, broker.port, body, "topic_prefix = site2\n",
                   gw_extra="stats_interval_s = 1"))
    # The old topic gets its "cleared"; the new one the alarm, raised afresh.
    _, clr = wait_json(sub, f"{BASE}/alarm/s/v", lambda p: p["state"] == "cleared")
    assert removed("high")(clr), clr
    assert "topic_prefix or id changed" in gw.output(), gw.output()
    _, act = wait_json(sub2, "site2/gw1/alarm/s/v", lambda p: p["state"] == "active")
    assert act["value"] == 70 and act["limit"] == 50, act
    assert_retained_cleared(broker, f"{BASE}/alarm/s/v", "high")
    after = stats_after(sub2, "site2/gw1/stats", int(time.time() * 1000),
                        "stats after the reload")
    for k in TOTALS:
        assert after[k] >= before[k], (k, before, after)
    assert after["connects"] >= 2 and after["reconnects"] >= 1, after
    assert gw.stop() == 0


if __name__ == "__main__":
    main(T)

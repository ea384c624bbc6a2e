#!/usr/bin/env python3
"""Limit and offline alarms end to end: the real edgeferry binary, a real
mosquitto behind a cuttable TCP proxy, a scripted kv sensor on a pty (the
test chooses every value) and the Modbus simulator. The tests read what
reaches the broker."""
import json

import ef
from alarm_util import (ModbusSim, ScriptedSensor, ini, jsons, main, retained, sensor_section,
                        states, wait_json)

T = ef.Test()
TEL = "edgeferry/gw1/telemetry/s"
ALARM_V = "edgeferry/gw1/alarm/s/v"
ALARM_S = "edgeferry/gw1/alarm/s"

LIMITS = "[point:s.v]\nalarm_high = 50\nalarm_low = 0\nalarm_hysteresis = 5\n"


def start(tmp, cleanup, body, mqtt_extra="", proxy=False, sub_qos=2,
          gw_extra="stats_interval_s = 0"):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    px = None
    port = broker.port
    if proxy:
        px = ef.TcpProxy(broker.port); cleanup(px.stop)
        port = px.port
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/#"], tmp, qos=sub_qos); cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini(tmp, port, body, mqtt_extra, gw_extra)).start(); cleanup(gw.stop)
    return broker, px, sub, gw


def distinct(payloads):
    out = []
    for p in payloads:
        if p not in out:
            out.append(p)
    return out


def telemetry_ts(sub, value):
    return [p["ts"] for p in jsons(sub, TEL) if p["values"].get("v") == value]


def outage_case(tmp, cleanup, cut_mode):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    sensor.set("v=10")
    # Telemetry at QoS 1: QoS 0 written into a silently dead connection is
    # lost by design (the documented window, until the link is found dead).
    broker, px, sub, gw = start(tmp, cleanup, sensor_section(sensor) + LIMITS,
                                "alarm_qos = 2\nretain_alarms = true\ntelemetry_qos = 1\n",
                                proxy=True)
    sub.wait_count(TEL, 2)
    px.set_mode(cut_mode)
    n_before = len(sub.all(TEL))
    # While the link is down: above the high limit, back inside by the
    # hysteresis, then a little more telemetry.
    sensor.play(["v=61", "v=62", "v=44"], then="v=20")
    sensor.wait_script_done(extra=3)
    assert not sub.all(ALARM_V), "an alarm got through a cut link"
    if cut_mode == "drop":
        px.set_mode("reset")  # end the silently dead connections
    px.set_mode("pass")
    wait_json(sub, ALARM_V, lambda p: p["state"] == "cleared", what="cleared alarm")
    wait_json(sub, TEL, lambda p: p["values"].get("v") == 44, what="telemetry queued in outage")
    alarms = jsons(sub, ALARM_V)
    assert [(a["state"], a["kind"]) for a in alarms] == [("active", "high"), ("cleared", "high")], \
        alarms
    act, clr = alarms
    assert act["value"] == 61 and act["limit"] == 50, act
    assert clr["value"] == 44 and clr["limit"] == 50, clr
    # ts is the time of the reading that caused the transition, which the
    # telemetry of that same reading carries too.
    assert act["ts"] in telemetry_ts(sub, 61), (act, jsons(sub, TEL))
    assert clr["ts"] in telemetry_ts(sub, 44), (clr, jsons(sub, TEL))
    assert act["ts"] < clr["ts"]
    for m in sub.all(ALARM_V):
        assert m["qos"] == 2, m
    # (No check of alarms against telemetry order at the subscriber: mosquitto
    # forwards a QoS 2 message only at PUBREL, so QoS 0 telemetry sent just
    # after it can overtake it on the way to subscribers.)
    assert len(sub.all(TEL)) > n_before
    # A new subscriber sees the final state, retained.
    got = retained(broker.port, ALARM_V)
    assert got is not None and got[1] and got[0] == clr, got


@T.case
def limits_crossed_during_link_reset_arrive_active_then_cleared_with_reading_ts(tmp, cleanup):
    outage_case(tmp, cleanup, "reset")


@T.case
def limits_crossed_during_silent_link_loss_arrive_active_then_cleared(tmp, cleanup):
    outage_case(tmp, cleanup, "drop")


@T.case
def alarms_follow_alarm_qos_0_and_retain_alarms_false(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    sensor.set("v=10")
    broker, _, sub, _ = start(tmp, cleanup, sensor_section(sensor) + LIMITS,
                              "alarm_qos = 0\nretain_alarms = false\n")
    sub.wait_count(TEL, 1)
    sensor.set("v=70")
    msg = sub.wait_count(ALARM_V, 1)[0]
    assert msg["qos"] == 0 and json.loads(msg["payload"])["state"] == "active", msg
    assert retained(broker.port, ALARM_V, timeout=2) is None, "alarm retained"


@T.case
def hysteresis_raises_active_and_cleared_exactly_once_each(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    sensor.set("v=10")
    _, _, sub, _ = start(tmp, cleanup, sensor_section(sensor) + LIMITS)
    sub.wait_count(TEL, 1)
    # Wandering around the high limit 50 (clears at <= 45), then around the
    # low limit 0 (clears at >= 5), then a final high alarm as an end mark.
    seq = [51, 49, 52, 48, 50, 46, 45, 47, 49.9, 50, 46, 44,
           -1, 2, -3, 4, 0, 4.9, 5, 3, 1, 0, 2, 60]
    sensor.play([f"v={x}" for x in seq], then="v=60")
    wait_json(sub, ALARM_V, lambda p: p["state"] == "active" and p["value"] == 60,
              what="the end mark")
    assert states(sub, ALARM_V) == [
        ("active", "high", 51), ("cleared", "high", 45),
        ("active", "low", -1), ("cleared", "low", 5),
        ("active", "high", 60)], states(sub, ALARM_V)
    lows = [p for p in jsons(sub, ALARM_V) if p["kind"] == "low"]
    assert all(p["limit"] == 0 for p in lows), lows


@T.case
def serial_offline_alarm_after_offline_after_unanswered_queries_and_cleared(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    sensor.set("v=10")
    _, _, sub, _ = start(tmp, cleanup, sensor_section(sensor, extra="offline_after = 3"))
    sub.wait_count(TEL, 2)
    sensor.set(None)
    silent_from = sensor.nqueries()
    _, off = wait_json(sub, ALARM_S, lambda p: p["state"] == "active", what="offline alarm")
    assert off["kind"] == "offline" and set(off) == {"ts", "state", "kind"}, off
    q = sensor.query_times()
    # The alarm came from the third unanswered query's timeout (100 ms after
    # it), before the fourth query (250 ms after the third).
    unanswered = [t for t in q[silent_from:]]
    third = unanswered[2]
    assert third * 1000 < off["ts"], (unanswered, off)
    if len(unanswered) > 3:
        assert off["ts"] < unanswered[3] * 1000, (unanswered, off)
    sensor.set("v=11")
    _, clr = wait_json(sub, ALARM_S, lambda p: p["state"] == "cleared", what="cleared")
    assert clr["kind"] == "offline"
    assert [p["state"] for p in jsons(sub, ALARM_S)] == ["active", "cleared"]
    wait_json(sub, TEL, lambda p: p["values"] == {"v": 11})


def modbus_body(sim, offline_after=2):
    return f"""
[bus:b]
type = tcp
host = 127.0.0.1
port = {sim.port}
timeout_ms = 200
retries = 0
[device:m]
bus = b
unit = 1
interval_ms = 200
offline_after = {offline_after}
[point:m.c]
register = holding:1
"""


@T.case
def modbus_offline_alarm_when_server_stops_cleared_when_it_returns(tmp, cleanup):
    sim = ModbusSim(tmp, 0, "--unit", 1); cleanup(sim.stop)
    broker, _, sub, _ = start(tmp, cleanup, modbus_body(sim))
    sub.wait_count("edgeferry/gw1/telemetry/m", 2)
    sim.stop()
    wait_json(sub, "edgeferry/gw1/alarm/m", lambda p: p["state"] == "active", what="offline")
    sim.start()
    wait_json(sub, "edgeferry/gw1/alarm/m", lambda p: p["state"] == "cleared", what="cleared")
    assert [(p["state"], p["kind"]) for p in jsons(sub, "edgeferry/gw1/alarm/m")] == \
        [("active", "offline"), ("cleared", "offline")]
    got = retained(broker.port, "edgeferry/gw1/alarm/m")
    assert got and got[1] and got[0]["state"] == "cleared", got


@T.case
def modbus_dead_unit_raises_offline_alarm_once(tmp, cleanup):
    sim = ModbusSim(tmp, 0, "--dead-unit", 1); cleanup(sim.stop)
    _, _, sub, _ = start(tmp, cleanup, modbus_body(sim, offline_after=3))
    wait_json(sub, "edgeferry/gw1/alarm/m", lambda p: p["state"] == "active", what="offline")
    # Keep polling the dead unit a while: still exactly one alarm.
    n = sim.requests(1)
    ef.wait_until(lambda: sim.requests(1) >= n + 5, 20, what="more polls of the dead unit")
    assert states(sub, "edgeferry/gw1/alarm/m") == [("active", "offline", None)]
    assert not sub.all("edgeferry/gw1/telemetry/m")


@T.case
def restart_while_limit_alarm_active_does_not_raise_it_again(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    sensor.set("v=70")
    broker, _, sub, gw = start(tmp, cleanup, sensor_section(sensor) + LIMITS)
    wait_json(sub, ALARM_V, lambda p: p["state"] == "active")
    assert gw.stop() == 0
    n = len(sub.all(TEL))
    gw.start()
    sub.wait_count(TEL, n + 4)  # the restarted gateway read 70 four times
    sensor.set("v=10")
    wait_json(sub, ALARM_V, lambda p: p["state"] == "cleared")
    # The restarted core raised nothing; the queue may deliver the first
    # "active" twice if it was stopped before the broker's ack arrived (at
    # least once: same message, same ts), never a new one.
    assert "high active" not in gw.output(), gw.output()
    assert [(p["state"], p["value"]) for p in distinct(jsons(sub, ALARM_V))] == \
        [("active", 70), ("cleared", 10)], jsons(sub, ALARM_V)
    got = retained(broker.port, ALARM_V)
    assert got and got[1] and got[0]["state"] == "cleared", got


@T.case
def limit_cleared_while_gateway_stopped_is_reported_after_restart(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    sensor.set("v=70")
    broker, _, sub, gw = start(tmp, cleanup, sensor_section(sensor) + LIMITS)
    _, act = wait_json(sub, ALARM_V, lambda p: p["state"] == "active")
    gw.kill()  # even without a graceful stop
    sensor.set("v=12")
    gw.start()
    _, clr = wait_json(sub, ALARM_V, lambda p: p["state"] == "cleared")
    assert clr["value"] == 12 and clr["ts"] > act["ts"], clr
    wait_json(sub, TEL, lambda p: p["values"].get("v") == 12)
    assert clr["ts"] == min(telemetry_ts(sub, 12)), (clr, jsons(sub, TEL))
    # After SIGKILL the queue may deliver the unacknowledged "active" again
    # (at least once; same message, same ts), but never a new one.
    assert [(p["state"], p["value"]) for p in distinct(jsons(sub, ALARM_V))] == \
        [("active", 70), ("cleared", 12)], jsons(sub, ALARM_V)
    got = retained(broker.port, ALARM_V)
    assert got and got[1] and got[0] == clr, got


@T.case
def offline_alarm_survives_restart_and_clears_once_device_answers(tmp, cleanup):
    sim = ModbusSim(tmp, 0, "--unit", 1); cleanup(sim.stop)
    broker, _, sub, gw = start(tmp, cleanup, modbus_body(sim), gw_extra="stats_interval_s = 1")
    sub.wait_count("edgeferry/gw1/telemetry/m", 1)
    sim.stop()
    topic = "edgeferry/gw1/alarm/m"
    wait_json(sub, topic, lambda p: p["state"] == "active")
    assert gw.stop() == 0
    n_stats = len(sub.all("edgeferry/gw1/stats"))
    gw.start()
    # The restarted gateway fails more polls than offline_after: no second alarm.
    wait_json(sub, "edgeferry/gw1/stats",
              lambda p: p["devices"]["m"]["polls_failed"] >= 4,
              what="failed polls after the restart", after=n_stats)
    assert "offline after" not in gw.output(), gw.output()
    assert [p["state"] for p in distinct(jsons(sub, topic))] == ["active"], jsons(sub, topic)
    sim.start()
    wait_json(sub, topic, lambda p: p["state"] == "cleared")
    assert [p["state"] for p in distinct(jsons(sub, topic))] == ["active", "cleared"], \
        jsons(sub, topic)
    got = retained(broker.port, topic)
    assert got and got[0]["state"] == "cleared", got


if __name__ == "__main__":
    main(T)

#!/usr/bin/env python3
"""Report by exception end to end: deadbands and heartbeats, with a scripted
kv sensor (the test chooses every value the gateway reads) and a real
mosquitto."""
import ef
from alarm_util import ScriptedSensor, ini, jsons, main, sensor_section, wait_json

T = ef.Test()
TEL = "edgeferry/gw1/telemetry/s"


def start(tmp, cleanup, body, gw_extra="stats_interval_s = 0"):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/#"], tmp); cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini(tmp, broker.port, body, gw_extra=gw_extra)).start()
    cleanup(gw.stop)
    return sub, gw


@T.case
def a_message_carries_only_points_past_their_deadband_and_none_when_nothing_moved(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    body = sensor_section(sensor, extra="heartbeat_s = 3600") + \
        "[point:s.a]\ndeadband = 1\n[point:s.b]\ndeadband = 0.5\n"
    sensor.play(["a=10 b=5",      # first reading: everything
                 "a=10.5 b=5",    # a moved 0.5 < 1: nothing goes
                 "a=11 b=5.2",    # a moved 1 (from 10, the last sent): a only
                 "a=11 b=5.5",    # b moved 0.5 from 5: b only
                 "a=11.9 b=5.9",  # 0.9 and 0.4: nothing
                 "a=9.9 b=5",     # -1.1 and -0.5: both
                 "a=9.9 b=5",     # nothing
                 "a=500 b=5"],    # end mark: a only
                then=None)
    sub, _ = start(tmp, cleanup, body, gw_extra="stats_interval_s = 1")
    wait_json(sub, TEL, lambda p: p["values"].get("a") == 500, what="the end mark")
    assert [p["values"] for p in jsons(sub, TEL)] == [
        {"a": 10, "b": 5}, {"a": 11}, {"b": 5.5}, {"a": 9.9, "b": 5}, {"a": 500}], jsons(sub, TEL)
    # The three samples where nothing moved are counted as suppressed.
    _, st = wait_json(sub, "edgeferry/gw1/stats", lambda p: p["samples"] >= 8)
    assert st["samples"] == 8 and st["telemetry_suppressed"] == 3, st
    assert st["telemetry_queued"] == 5 and st["readings"] == 16, st


@T.case
def a_point_without_deadband_goes_every_poll_and_keeps_the_others_to_theirs(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    body = sensor_section(sensor, extra="heartbeat_s = 3600") + "[point:s.a]\ndeadband = 2\n"
    sensor.play(["a=1 n=1", "a=2 n=1", "a=3 n=1", "a=1 n=2", "a=0.9 n=3"], then=None)
    sub, _ = start(tmp, cleanup, body)
    wait_json(sub, TEL, lambda p: p["values"].get("n") == 3, what="the last reading")
    assert [p["values"] for p in jsons(sub, TEL)] == [
        {"a": 1, "n": 1}, {"n": 1}, {"a": 3, "n": 1}, {"a": 1, "n": 2}, {"n": 3}], jsons(sub, TEL)


@T.case
def every_point_is_resent_at_least_every_heartbeat(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    body = sensor_section(sensor, extra="heartbeat_s = 2") + \
        "[point:s.a]\ndeadband = 100\n[point:s.b]\ndeadband = 100\n"
    # Values that never move past their deadband, plus a small wobble.
    sensor.play([], then="a=1 b=2")
    sub, _ = start(tmp, cleanup, body)
    msgs = sub.wait_count(TEL, 5, timeout=30)
    ps = jsons(sub, TEL)
    assert all(p["values"] == {"a": 1, "b": 2} for p in ps), ps
    gaps = [b["ts"] - a["ts"] for a, b in zip(ps, ps[1:])]
    q = sensor.query_times()
    poll_gap = max(b - a for a, b in zip(q, q[1:])) * 1000
    # Never earlier than the heartbeat, and at the first poll once it is due.
    assert all(g >= 2000 for g in gaps), gaps
    assert all(g <= 2000 + poll_gap + 100 for g in gaps), (gaps, poll_gap)
    # Between two heartbeats the polls went on but sent nothing.
    assert sensor.nanswers() > 3 * len(msgs), (sensor.nanswers(), len(msgs))


@T.case
def modbus_points_with_deadband_are_suppressed_and_heartbeated(tmp, cleanup):
    from alarm_util import ModbusSim
    sim = ModbusSim(tmp, 0, "--unit", 1); cleanup(sim.stop)
    # holding:10 is a constant, holding:1 counts requests (one request a poll
    # here, so it moves by 1 a poll), with a deadband of 3.
    body = f"""
[bus:b]
type = tcp
host = 127.0.0.1
port = {sim.port}
[device:m]
bus = b
unit = 1
interval_ms = 100
heartbeat_s = 2
[point:m.k]
register = holding:10
type = int16
deadband = 1
[point:m.c]
register = holding:1
deadband = 3
"""
    sub, _ = start(tmp, cleanup, body)
    topic = "edgeferry/gw1/telemetry/m"
    sub.wait_count(topic, 12, timeout=30)
    ps = jsons(sub, topic)
    cs = [p["values"]["c"] for p in ps if "c" in p["values"]]
    ks = [p for p in ps if "k" in p["values"]]
    assert all(b - a == 3 for a, b in zip(cs, cs[1:])), cs
    assert ps[0]["values"].get("k") == -12345
    assert all(p["values"]["k"] == -12345 for p in ks)
    kts = [p["ts"] for p in ks]
    assert len(kts) >= 2 and all(b - a >= 2000 for a, b in zip(kts, kts[1:])), kts


@T.case
def heartbeat_0_never_forces_a_resend(tmp, cleanup):
    sensor = ScriptedSensor(tmp); cleanup(sensor.stop)
    body = sensor_section(sensor, extra="heartbeat_s = 0") + "[point:s.a]\ndeadband = 100\n"
    sensor.play([], then="a=1")
    sub, _ = start(tmp, cleanup, body)
    sub.wait_count(TEL, 1)
    n0 = sensor.nanswers()
    ef.wait_until(lambda: sensor.nanswers() >= n0 + 8, 30, what="eight more polls")
    # A value that never moves past its deadband goes once, and only once.
    assert [p["values"] for p in jsons(sub, TEL)] == [{"a": 1}], jsons(sub, TEL)


if __name__ == "__main__":
    main(T)

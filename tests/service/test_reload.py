#!/usr/bin/env python3
"""SIGHUP reload with the real binary, a real mosquitto and kv sensors on
real pseudo-terminals: a valid file is applied without a new broker
connection, an invalid one is refused with FILE:LINE and the old
configuration keeps publishing, and readings queued during an outage are
delivered after a reload."""
import json
import re
import signal
import time

import ef
import svc

T = ef.Test()
CLIENT = "edgeferry-gw1"


def setup(tmp, cleanup, nsensors=2, proxy=False):
    broker = ef.Broker(tmp)
    cleanup(broker.stop)
    sensors = [svc.KvSensor(tmp, f"s{i + 1}") for i in range(nsensors)]
    for s in sensors:
        cleanup(s.stop)
    sub = ef.Subscriber(broker.port, ["ef/#"], tmp)
    cleanup(sub.stop)
    port = broker.port
    px = None
    if proxy:
        px = ef.TcpProxy(broker.port)
        cleanup(px.stop)
        port = px.port
    return broker, sensors, sub, port, px


@T.case
def valid_reload_adds_a_sensor_without_reconnecting(tmp, cleanup):
    broker, (s1, s2), sub, port, _ = setup(tmp, cleanup)
    gw = ef.Gateway(tmp, svc.ini(tmp, port, [("s1", s1.path)])).start()
    cleanup(gw.stop)
    sub.wait_payload("ef/gw1/status", "online")
    sub.wait_count("ef/gw1/telemetry/s1", 3)
    assert svc.connections(broker, CLIENT) == 1, broker.proc.output()

    gw.rewrite(svc.ini(tmp, port, [("s1", s1.path), ("s2", s2.path)]))
    gw.proc.signal(signal.SIGHUP)
    gw.proc.wait_output("reload: 0 Modbus devices, 2 serial sensors")
    n1 = len(sub.all("ef/gw1/telemetry/s1"))
    sub.wait_count("ef/gw1/telemetry/s2", 3)
    sub.wait_count("ef/gw1/telemetry/s1", n1 + 3)  # the old sensor goes on too
    values = json.loads(sub.all("ef/gw1/telemetry/s2")[-1]["payload"])["values"]
    assert set(values) == {"v"} and values["v"] >= 1, values

    # Same broker session: one connection in mosquitto's log, one "online".
    assert svc.connections(broker, CLIENT) == 1, broker.proc.output()
    assert len(sub.all("ef/gw1/status")) == 1, sub.all("ef/gw1/status")
    assert "reconnecting" not in gw.output()
    assert gw.stop() == 0


@T.case
def invalid_reload_is_refused_with_file_and_line(tmp, cleanup):
    broker, (s1,), sub, port, _ = setup(tmp, cleanup, nsensors=1)
    good = svc.ini(tmp, port, [("s1", s1.path)])
    gw = ef.Gateway(tmp, good).start()
    cleanup(gw.stop)
    sub.wait_count("ef/gw1/telemetry/s1", 3)

    # Two mistakes on known lines: an unknown key and a bad value.
    bad = good + "\n[serial:s2]\npath = /dev/null\nformat = kv\nbogus_key = 1\ninterval_ms = -5\n"
    lines = bad.split("\n")
    bogus_line = lines.index("bogus_key = 1") + 1
    interval_line = lines.index("interval_ms = -5") + 1
    gw.rewrite(bad)
    gw.proc.signal(signal.SIGHUP)
    gw.proc.wait_output("reload refused")
    log = gw.output()
    for line in (bogus_line, interval_line):
        assert re.search(rf"^<3>{re.escape(gw.ini)}:{line}: ", log, re.M), (line, log)
    assert "reload: 0 Modbus devices" not in log

    # The old configuration keeps running on the same connection.
    n = len(sub.all("ef/gw1/telemetry/s1"))
    sub.wait_count("ef/gw1/telemetry/s1", n + 5)
    assert not sub.all("ef/gw1/telemetry/s2")
    assert svc.connections(broker, CLIENT) == 1, broker.proc.output()

    # A later valid file is still taken.
    gw.rewrite(good.replace("interval_ms = 200", "interval_ms = 100"))
    gw.proc.signal(signal.SIGHUP)
    gw.proc.wait_output("reload: 0 Modbus devices, 1 serial sensors")
    assert gw.stop() == 0


@T.case
def reload_during_an_outage_keeps_the_queued_readings(tmp, cleanup):
    broker, (s1, s2), sub, port, px = setup(tmp, cleanup, proxy=True)
    gw = ef.Gateway(tmp, svc.ini(tmp, port, [("s1", s1.path)])).start()
    cleanup(gw.stop)
    sub.wait_count("ef/gw1/telemetry/s1", 3)

    px.set_mode("reset")  # the gateway loses the broker and queues
    cut_ms = int(time.time() * 1000)
    time.sleep(1.5)  # let readings pile up in the queue (not an assertion)
    gw.rewrite(svc.ini(tmp, port, [("s1", s1.path), ("s2", s2.path)]))
    gw.proc.signal(signal.SIGHUP)
    gw.proc.wait_output("reload: 0 Modbus devices, 2 serial sensors")
    reload_ms = int(time.time() * 1000)
    time.sleep(1.0)
    px.set_mode("pass")

    # Readings taken before the reload, while cut off, arrive afterwards.
    def before_reload():
        ts = [json.loads(m["payload"])["ts"] for m in sub.all("ef/gw1/telemetry/s1")]
        return [t for t in ts if cut_ms + 300 <= t <= reload_ms - 300]
    queued = ef.wait_until(lambda: len(before_reload()) >= 3 and before_reload(), 30,
                           what="readings queued before the reload")
    # ... and the readings of the new sensor taken during the outage too.
    ef.wait_until(lambda: [m for m in sub.all("ef/gw1/telemetry/s2")
                           if json.loads(m["payload"])["ts"] < reload_ms + 900], 30,
                  what="s2 readings from the outage")
    assert len(queued) >= 3, queued
    assert gw.stop() == 0


@T.case
def mqtt_change_on_reload_reconnects(tmp, cleanup):
    broker, (s1,), sub, port, _ = setup(tmp, cleanup, nsensors=1)
    gw = ef.Gateway(tmp, svc.ini(tmp, port, [("s1", s1.path)])).start()
    cleanup(gw.stop)
    sub.wait_payload("ef/gw1/status", "online")
    gw.rewrite(svc.ini(tmp, port, [("s1", s1.path)], prefix="ef/site2"))
    gw.proc.signal(signal.SIGHUP)
    sub.wait_payload("ef/site2/gw1/status", "online")
    sub.wait_count("ef/site2/gw1/telemetry/s1", 2)
    assert svc.connections(broker, CLIENT) == 2, broker.proc.output()
    assert gw.stop() == 0


if __name__ == "__main__":
    raise SystemExit(T.run())

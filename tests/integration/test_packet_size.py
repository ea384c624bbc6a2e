#!/usr/bin/env python3
"""Messages larger than the broker takes (docs/configuration.md, [mqtt]
max_packet_size), end to end: the real gateway, the Modbus simulator and a
real mosquitto with `max_packet_size` set.

Two devices share one gateway: `big` (150 points, ~4 kB of telemetry) and
`small` (the simulator's request counter, one integer per poll, so a
missing integer is a lost message). The broker takes packets of up to
2000 bytes: small enough that `big` never fits, large enough for the stats
message (~900 bytes), which carries the counters the tests read. A 3.1.1
broker closes the connection on a larger packet without saying why; an
MQTT 5 broker announces its limit in CONNACK."""
import json
import re
import socket
import threading
import time

import ef
from test_modbus_e2e import ModbusSim

T = ef.Test()
LIMIT = 2000
STATS = "edgeferry/gw1/stats"
SMALL = "edgeferry/gw1/telemetry/small"
BIG = "edgeferry/gw1/telemetry/big"
BIG_POINTS = "\n".join(f"[point:big.big_point_number_{i}]\nregister = holding:{200 + i}\n"
                       for i in range(150))


def ini(tmp, port, sim_port, version="3.1.1", qos=0, mqtt_extra="", prefix="edgeferry",
        body=None):
    body = body if body is not None else f"""
[device:big]
bus = b
unit = 2
interval_ms = 500
{BIG_POINTS}
"""
    return f"""
[gateway]
id = gw1
state_dir = {tmp.path}/state
stats_interval_s = 1

[mqtt]
uri = tcp://127.0.0.1:{port}
keepalive_s = 5
version = {version}
topic_prefix = {prefix}
telemetry_qos = {qos}
{mqtt_extra}

[bus:b]
type = tcp
host = 127.0.0.1
port = {sim_port}

[device:small]
bus = b
unit = 1
interval_ms = 200

[point:small.n]
register = holding:1
{body}
"""


def setup(tmp, cleanup, broker_limit=LIMIT, topics=("edgeferry/gw1/#",), **kw):
    broker = ef.Broker(tmp, extra_conf=f"max_packet_size {broker_limit}\n" if broker_limit else "")
    cleanup(broker.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1, "--unit", 2, "--unit", 3); cleanup(sim.stop)
    sub = ef.Subscriber(broker.port, list(topics), tmp); cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini(tmp, broker.port, sim.port, **kw)).start()
    cleanup(gw.stop)
    return broker, sim, sub, gw


def values(sub, topic=SMALL):
    return [json.loads(m["payload"])["values"]["n"] for m in sub.all(topic)]


def gaps(vals, after=None):
    """Integers missing between the smallest (or AFTER + 1) and the largest received."""
    s = set(vals)
    if not s:
        return []
    lo = min(s) if after is None else after + 1
    return sorted(set(range(lo, max(s) + 1)) - s)


def stats_when(sub, pred, timeout=40, what="stats"):
    def found():
        for m in reversed(sub.all(STATS)):
            st = json.loads(m["payload"])
            if pred(st):
                return st
        return None
    return ef.wait_until(found, timeout, what=what)


def onlines(sub, prefix="edgeferry"):
    return [m for m in sub.all(f"{prefix}/gw1/status") if m["payload"] == "online"]


def small_gets_everything_from(sub, sim, start, more=15, timeout=40):
    """Every counter value polled after START arrives (MORE of them at least)."""
    ef.wait_until(lambda: values(sub) and max(values(sub)) >= start + more, timeout,
                  what=f"small telemetry past {start + more}")
    # A poll in progress when the last value was received may still be on its way.
    top = max(values(sub))
    ef.wait_until(lambda: not gaps([v for v in values(sub) if v <= top], after=start), 20,
                  what=f"no gap after {start}: {gaps(values(sub), after=start)[:10]}")


@T.case
def v311_configured_max_packet_size_never_sends_larger_and_keeps_one_connection(tmp, cleanup):
    broker, sim, sub, gw = setup(tmp, cleanup, mqtt_extra=f"max_packet_size = {LIMIT}")
    st = stats_when(sub, lambda s: s["dropped"]["too_large"] >= 10, what="10 big dropped")
    assert st["connects"] == 1 and st["connection_lost"] == 0, st
    assert len(onlines(sub)) == 1, onlines(sub)
    assert not sub.all(BIG), "a message larger than max_packet_size was delivered"
    small_gets_everything_from(sub, sim, min(values(sub)) - 1)
    log = gw.output()
    assert re.search(r"telemetry on edgeferry/gw1/telemetry/big is \d+ bytes, larger than the "
                     r"broker takes \(2000, \[mqtt\] max_packet_size\)", log), log


def learned(tmp, cleanup, qos):
    broker, sim, sub, gw = setup(tmp, cleanup, qos=qos)
    gw.proc.wait_output("closed the connection 3 times in a row", timeout=60)
    after = sim.requests(1)
    st = stats_when(sub, lambda s: s["dropped"]["too_large"] >= 10, what="10 big dropped")
    lost = st["connection_lost"]
    # Three losses teach the limit; paho may still write a big message it
    # had queued before, on the next connection: at most one loss more.
    assert lost in (3, 4) and st["connects"] == lost + 1, st
    assert not sub.all(BIG), "the broker never takes the big telemetry"
    small_gets_everything_from(sub, sim, after)
    st = stats_when(sub, lambda s: s["dropped"]["too_large"] >= st["dropped"]["too_large"] + 5,
                    what="5 more big dropped")
    assert st["connection_lost"] == lost, f"the connection broke again after learning: {st}"
    log = gw.output()
    m = re.search(r"right after a message of (\d+) bytes or more: taking (\d+) bytes", log)
    assert m and int(m.group(2)) == int(m.group(1)) - 1 and int(m.group(1)) > LIMIT, log
    assert "telemetry on edgeferry/gw1/telemetry/big is" in log, log


@T.case
def v311_without_a_limit_learns_it_after_three_losses_at_qos1(tmp, cleanup):
    learned(tmp, cleanup, 1)


@T.case
def v311_without_a_limit_learns_it_after_three_losses_at_qos0(tmp, cleanup):
    learned(tmp, cleanup, 0)


@T.case
def mqtt5_connack_maximum_packet_size_is_honoured(tmp, cleanup):
    broker, sim, sub, gw = setup(tmp, cleanup, version="5", qos=1)
    st = stats_when(sub, lambda s: s["dropped"]["too_large"] >= 10, what="10 big dropped")
    assert st["connects"] == 1 and st["connection_lost"] == 0, st
    assert len(onlines(sub)) == 1, onlines(sub)
    assert not sub.all(BIG)
    small_gets_everything_from(sub, sim, min(values(sub)) - 1)
    log = gw.output()
    assert "it takes packets of up to 2000 bytes" in log, log
    assert "(2000, announced by the broker)" in log, log


@T.case
def alarm_too_large_is_set_aside_logged_as_error_and_counted(tmp, cleanup):
    # A long topic prefix makes the alarm of a long point name ~320 bytes,
    # over the broker's 300, while the small device's alarm and telemetry fit.
    prefix = "edgeferry/" + "a-very-long-site-name-" * 7
    point = "a_point_with_a_name_as_long_as_names_may_be_in_edgeferry_0123"
    body = f"""
[device:alarmdev]
bus = b
unit = 3
interval_ms = 500

[point:alarmdev.{point}]
register = holding:1
alarm_high = 0

[point:small.m]
register = holding:1
alarm_high = 0
"""
    broker, sim, sub, gw = setup(tmp, cleanup, broker_limit=300, version="5", qos=1,
                                 prefix=prefix, body=body, topics=(f"{prefix}/gw1/#",))
    big_alarm = f"{prefix}/gw1/alarm/alarmdev/{point}"
    small_alarm = f"{prefix}/gw1/alarm/small/m"
    sub.wait_count(small_alarm, 1, timeout=30)
    line = gw.proc.wait_output(f"alarm on {big_alarm} is", timeout=30)
    log = gw.output()
    m = re.search(r"<(\d)>mqtt: alarm on " + re.escape(big_alarm) +
                  r" is (\d+) bytes, larger than the broker takes \(300, ", log)
    assert m and m.group(1) == "3" and int(m.group(2)) > 300, log
    assert line and not sub.all(big_alarm)
    small_topic = f"{prefix}/gw1/telemetry/small"
    ef.wait_until(lambda: len(values(sub, small_topic)) >= 15, 30, what="small telemetry")
    assert not gaps(values(sub, small_topic)), gaps(values(sub, small_topic))
    # The stats message does not fit either; with the limit lifted the
    # counters arrive: the alarm was counted once and is never sent.
    gw.proc.wait_output("dropped.stats_too_large", timeout=20)
    sub.stop()
    broker.extra = ""
    broker.restart()
    sub2 = ef.Subscriber(broker.port, [f"{prefix}/gw1/#"], tmp); cleanup(sub2.stop)
    st = ef.wait_until(lambda: sub2.json(f"{prefix}/gw1/stats"), 40, what="stats")[-1]
    assert st["dropped"]["alarm_too_large"] == 1, st
    assert st["dropped"]["stats_too_large"] >= 1, st
    assert st["connects"] == 2, st
    time.sleep(1)
    assert not sub2.all(big_alarm), "a set-aside alarm was sent after all"


@T.case
def broker_restarts_while_big_messages_flow_teach_no_limit(tmp, cleanup):
    broker, sim, sub, gw = setup(tmp, cleanup, broker_limit=None, qos=0)
    for _ in range(3):
        sub.wait_count(BIG, 3, timeout=30)
        time.sleep(2.5)  # big messages were taken on this connection, long enough ago
        broker.kill()
        broker.start()
        sub.stop()
        sub = ef.Subscriber(broker.port, ["edgeferry/gw1/#"], tmp); cleanup(sub.stop)
    sub.wait_count(BIG, 3, timeout=30)
    assert "taking" not in gw.output(), gw.output()


class SilentListener:
    """Accepts TCP connections and never says a word (no CONNACK)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((ef.HOST, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@T.case
def a_broker_that_sends_no_connack_is_reported_as_such(tmp, cleanup):
    silent = SilentListener(); cleanup(silent.stop)
    gw = ef.Gateway(tmp, ini(tmp, silent.port, 1, body="")).start(); cleanup(gw.stop)
    gw.proc.wait_output("cannot connect", timeout=40)
    log = gw.output()
    assert "no CONNACK came within 10 s" in log, log
    assert "refused, unreachable" not in log, log


if __name__ == "__main__":
    raise SystemExit(T.run())

#!/usr/bin/env python3
"""Several brokers in [mqtt] uri, end to end: the real gateway, two real
mosquittos on free ports, the Modbus simulator.

The simulator's holding:1 counts the requests of its unit: with one request
per poll every poll carries the next integer, so a missing integer is a lost
reading. Its bit 0 toggles every poll and has a limit of 0.5, so every poll
also raises or clears an alarm: the alarms of the polls around a switch are
the "alarm raised during the switch"."""
import json
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

import ef  # noqa: E402
from test_modbus_e2e import ModbusSim  # noqa: E402

T = ef.Test()
P = "edgeferry/fo"


def ini(tmp, uris, sim_port, keepalive=2, stats=1):
    return f"""
[gateway]
id = fo
state_dir = {tmp.path}/state
stats_interval_s = {stats}

[mqtt]
uri = {uris}
keepalive_s = {keepalive}
telemetry_qos = 1

[queue]
flush_ms = 500

[bus:b]
type = tcp
host = 127.0.0.1
port = {sim_port}

[device:d]
bus = b
unit = 1
interval_ms = 100

[point:d.n]
register = holding:1

[point:d.odd]
register = holding:1
bit = 0
alarm_high = 0.5
"""


def uri(port, scheme="tcp"):
    return f"{scheme}://127.0.0.1:{port}"


def counters(*subs):
    return [json.loads(m["payload"])["values"]["n"]
            for s in subs for m in s.all(f"{P}/telemetry/d")]


def missing(values):
    s = set(values)
    return sorted(set(range(min(s), max(s) + 1)) - s) if s else []


def retained(port, topic, tmp):
    """The retained message a new subscriber gets on TOPIC, or None."""
    sub = ef.Subscriber(port, [topic], tmp)
    try:
        ef.wait_until(lambda: sub.all(topic), 3, what=f"retained {topic}")
    except AssertionError:
        pass
    sub.stop()
    got = [m for m in sub.all(topic) if m["retain"]]
    return got[-1]["payload"] if got else None


def last_stats(sub):
    s = sub.json(f"{P}/stats")
    return s[-1] if s else None


def wait_more(subs, n, what):
    """Waits until N more polls arrived (on any of SUBS) than now."""
    target = max(counters(*subs)) + n
    ef.wait_until(lambda: max(counters(*subs)) >= target, 60, what=what)


def lost_polls_and_alarms(subs):
    """(polls missing, alarms missing or wrong) among what SUBS received."""
    vals = counters(*subs)
    # Every telemetry message has the acquisition ts of its poll, and so has
    # that poll's alarm: after the first alarm each poll has one.
    alarms = {}
    for s in subs:
        for m in s.all(f"{P}/alarm/d/odd"):
            a = json.loads(m["payload"])
            alarms[a["ts"]] = a["state"]
    polls = {}
    for s in subs:
        for m in s.all(f"{P}/telemetry/d"):
            t = json.loads(m["payload"])
            polls[t["ts"]] = t["values"]["n"]
    first = min(alarms) if alarms else 0
    bad = [(ts, n) for ts, n in sorted(polls.items()) if ts > first and
           alarms.get(ts) != ("active" if n % 2 else "cleared")]
    return missing(vals), bad, vals, alarms


def check_every_poll_and_alarm(subs):
    # With replay = live-first the backlog of the switch may come after
    # fresh readings: wait for it rather than judge too early.
    try:
        ef.wait_until(lambda: lost_polls_and_alarms(subs)[:2] == ([], []), 60,
                      what="every poll and alarm")
    except AssertionError:
        pass
    lost, bad, vals, alarms = lost_polls_and_alarms(subs)
    assert not lost, f"polls lost across the switch: {lost[:20]}"
    assert not bad, f"alarms lost or of the wrong state (ts, n): {bad[:10]}"
    print(f"  {len(set(vals))} polls, {len(alarms)} alarms, none lost; "
          f"{len(vals) - len(set(vals))} polls arrived twice (in flight when the link died)")


@T.case
def sigkill_of_the_broker_in_use_moves_to_the_other_and_loses_nothing(tmp, cleanup):
    a = ef.Broker(tmp); cleanup(a.stop)
    b = ef.Broker(tmp); cleanup(b.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim.stop)
    sub_a = ef.Subscriber(a.port, [f"{P}/#"], tmp); cleanup(sub_a.stop)
    sub_b = ef.Subscriber(b.port, [f"{P}/#"], tmp); cleanup(sub_b.stop)
    gw = ef.Gateway(tmp, ini(tmp, f"{uri(a.port)} {uri(b.port)}", sim.port))
    gw.start(); cleanup(gw.stop)

    # The first broker of the list is the one used.
    sub_a.wait_payload(f"{P}/status", "online")
    sub_a.wait_count(f"{P}/telemetry/d", 20)
    assert not sub_b.all(f"{P}/telemetry/d"), "only one broker is used at a time"

    a.kill()  # SIGKILL: no goodbye, the will stays with the dead broker
    sub_b.wait_payload(f"{P}/status", "online", timeout=30)
    wait_more([sub_a, sub_b], 20, "polls after the switch")
    check_every_poll_and_alarm([sub_a, sub_b])
    gw.proc.wait_output(f"switched from {uri(a.port)}")
    assert retained(b.port, f"{P}/status", tmp) == "online"
    ef.wait_until(lambda: last_stats(sub_b) and last_stats(sub_b)["switches"] == 1, 15,
                  what="stats with switches 1")
    assert last_stats(sub_b)["broker"] == uri(b.port), last_stats(sub_b)

    # The first broker comes back empty (no persistence): nothing says the
    # gateway is online there, and it is not used while the second works.
    sub_a.stop()  # it would reconnect and count the second round twice
    a.start()
    sub_a2 = ef.Subscriber(a.port, [f"{P}/#"], tmp); cleanup(sub_a2.stop)
    assert retained(a.port, f"{P}/status", tmp) is None
    wait_more([sub_b], 10, "polls on the second broker")
    assert not sub_a2.all(f"{P}/telemetry/d")

    # The second dies too: back to the first, again without loss.
    b.kill()
    sub_a2.wait_payload(f"{P}/status", "online", timeout=30)
    wait_more([sub_a, sub_b, sub_a2], 20, "polls after the second switch")
    check_every_poll_and_alarm([sub_a, sub_b, sub_a2])
    assert retained(a.port, f"{P}/status", tmp) == "online"
    ef.wait_until(lambda: last_stats(sub_a2) and last_stats(sub_a2)["switches"] == 2, 15,
                  what="stats with switches 2")
    assert last_stats(sub_a2)["broker"] == uri(a.port)
    assert gw.stop() == 0


@T.case
def a_cut_link_leaves_offline_on_the_old_broker_and_online_on_the_new(tmp, cleanup):
    a = ef.Broker(tmp); cleanup(a.stop)
    b = ef.Broker(tmp); cleanup(b.stop)
    proxy = ef.TcpProxy(a.port); cleanup(proxy.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim.stop)
    sub_a = ef.Subscriber(a.port, [f"{P}/#"], tmp); cleanup(sub_a.stop)
    sub_b = ef.Subscriber(b.port, [f"{P}/#"], tmp); cleanup(sub_b.stop)
    gw = ef.Gateway(tmp, ini(tmp, f"{uri(proxy.port)} {uri(b.port)}", sim.port))
    gw.start(); cleanup(gw.stop)
    sub_a.wait_payload(f"{P}/status", "online")
    sub_a.wait_count(f"{P}/telemetry/d", 10)

    # A dead link, then refused connections: the first broker survives and
    # sends the will; the gateway goes to the second.
    proxy.set_mode("drop")
    sub_a.wait_payload(f"{P}/status", "offline", timeout=30)
    proxy.set_mode("reset")
    sub_b.wait_payload(f"{P}/status", "online", timeout=40)
    wait_more([sub_a, sub_b], 20, "polls after the switch")
    check_every_poll_and_alarm([sub_a, sub_b])
    assert retained(a.port, f"{P}/status", tmp) == "offline"
    assert retained(b.port, f"{P}/status", tmp) == "online"
    assert gw.stop() == 0
    # A graceful stop says "offline" on the broker in use.
    assert retained(b.port, f"{P}/status", tmp) == "offline"


@T.case
def a_tls_uri_before_a_plain_one_loads_the_tls_build_and_reaches_the_plain_broker(tmp, cleanup):
    b = ef.Broker(tmp); cleanup(b.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim.stop)
    sub = ef.Subscriber(b.port, [f"{P}/#"], tmp); cleanup(sub.stop)
    dead = ef.free_port()  # nothing listens: the TLS attempt fails at once
    # paho never clears a client's TLS flag once set from a uri, so a
    # client that tried ssl:// would speak TLS to the tcp:// broker.
    gw = ef.Gateway(tmp, ini(tmp, f"{uri(dead, 'mqtts')} {uri(b.port)}", sim.port))
    gw.start(); cleanup(gw.stop)
    sub.wait_payload(f"{P}/status", "online", timeout=30)
    sub.wait_count(f"{P}/telemetry/d", 5)
    with open(f"/proc/{gw.proc.pid}/maps") as f:
        maps = f.read()
    assert "libpaho-mqtt3as" in maps and "libpaho-mqtt3a.so" not in maps, \
        "a list with a TLS uri takes paho's TLS build for all"
    out = gw.output()
    assert f"cannot connect to {uri(dead, 'mqtts')}" in out and "trying the next broker" in out
    assert "(broker 2 of 2)" in out
    assert gw.stop() == 0


@T.case
def check_lists_the_brokers_in_order(tmp, cleanup):
    text = ini(tmp, "tcp://127.0.0.1:1883 mqtts://b.example:8883 ws://c.example:80/mqtt", 502)
    path = tmp.file("check.ini", text)
    rc, out, err = ef.run_edgeferry(["--check", "-c", path])
    assert rc == 0, err
    assert ("3 brokers, tried in order at each connection attempt (paho's TLS build serves "
            "them all):\n    1. tcp://127.0.0.1:1883\n    2. mqtts://b.example:8883\n"
            "    3. ws://c.example:80/mqtt\n") in out, out
    text = ini(tmp, "tcp://127.0.0.1:1883 tcp://127.0.0.1", 502)
    line = text.split("\n").index("uri = tcp://127.0.0.1:1883 tcp://127.0.0.1") + 1
    bad = tmp.file("bad.ini", text)
    rc, out, err = ef.run_edgeferry(["--check", "-c", bad])
    assert rc == 2 and f"{bad}:{line}: " in err and "URI 2 (tcp://127.0.0.1)" in err, err


if __name__ == "__main__":
    sys.exit(T.run())

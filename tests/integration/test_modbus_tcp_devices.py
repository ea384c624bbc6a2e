#!/usr/bin/env python3
"""Modbus TCP devices as they are in the field, end to end: the real
edgeferry binary against the simulator playing a device that closes idle
connections, one that closes after every answer, one whose replies carry
another unit id (or always a fixed one), and one with an MBAP length of
0xFFFF; what reaches a real mosquitto is checked, and the stats."""
import json
import os

import ef

T = ef.Test()
SIM = os.path.join(os.environ.get("EF_BUILD_DIR", "build"), "tests/modbus_sim/modbus_sim")
STATS = "edgeferry/gw1/stats"


class Sim:
    """The simulator on a free TCP port, with its count file."""

    def __init__(self, tmp, name, *opts):
        self.count_file = tmp.file(f"count-{name}")
        self.proc = ef.Proc([SIM, "--tcp", "0", "--count-file", self.count_file,
                             *map(str, opts)], tmp.file(f"sim-{name}.log"), stdout_pipe=True)
        line = self.proc.p.stdout.readline().decode()
        self.port = int(line.split()[1])
        assert self.proc.p.stdout.readline().decode().strip() == "ready"

    def count(self, key):
        try:
            with open(self.count_file) as f:
                for ln in f:
                    parts = ln.split()
                    if parts[0] == key:
                        return int(parts[-1])
        except FileNotFoundError:
            pass
        return 0

    def stop(self):
        self.proc.stop()


def start(tmp, cleanup, body):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/#"], tmp); cleanup(sub.stop)
    gw = ef.Gateway(tmp, f"""
[gateway]
id = gw1
state_dir = {tmp.path}/state
stats_interval_s = 1
[mqtt]
uri = tcp://127.0.0.1:{broker.port}
keepalive_s = 5
{body}
""").start()
    cleanup(gw.stop)
    return sub, gw


def device(name, sim, extra=""):
    return f"""
[bus:{name}]
type = tcp
host = 127.0.0.1
port = {sim.port}
[device:{name}]
bus = {name}
unit = 1
{extra}
[point:{name}.count]
register = holding:1
[point:{name}.id]
register = holding:0
"""


def jsons(sub, topic):
    return [json.loads(m["payload"]) for m in sub.all(topic)]


def wait_stats(sub, pred, what, timeout=30):
    def found():
        for p in jsons(sub, STATS):
            if pred(p):
                return p
        return None
    return ef.wait_until(found, timeout, what=what)


def assert_no_poll_lost(sub, sim, polls, timeout):
    """POLLS telemetry messages arrive with the device's request counter
    (holding:1) going up by one each: no poll failed or was skipped; the
    stats say the same and count the reconnections as reopens."""
    tel = "edgeferry/gw1/telemetry/d"
    sub.wait_count(tel, polls, timeout=timeout)
    st = wait_stats(sub, lambda p: p["devices"]["d"]["polls"] >= polls, "stats of the polls")
    d = st["devices"]["d"]
    counts = [p["values"]["count"] for p in jsons(sub, tel)]
    assert counts == list(range(counts[0], counts[0] + len(counts))), counts
    assert d["polls_failed"] == 0 and d["errors"] == 0 and d["timeouts"] == 0, d
    assert d["points_failed"] == 0 and d["skipped"] == 0, d
    assert not sub.all("edgeferry/gw1/alarm/d"), sub.all("edgeferry/gw1/alarm/d")
    closed = sim.count("closed")
    assert closed >= polls // 2, f"the simulator closed only {closed} connections"
    # Each hang-up found by a later request was one reopen (the last one
    # may not have been found yet when the stats were taken).
    assert d["reopens"] >= polls // 2 - 1, d
    return d


@T.case
def a_device_closing_idle_connections_loses_no_poll_and_raises_no_alarm(tmp, cleanup):
    # Closes after 1 s idle, polled every 2 s: every request meets a closed
    # connection. offline_after = 1: one lost poll would raise the alarm.
    sim = Sim(tmp, "idle", "--close-idle-ms", 1000); cleanup(sim.stop)
    sub, _ = start(tmp, cleanup, device("d", sim, "interval_ms = 2000\noffline_after = 1"))
    assert_no_poll_lost(sub, sim, 6, timeout=40)


@T.case
def a_device_closing_after_every_answer_loses_no_poll(tmp, cleanup):
    sim = Sim(tmp, "every", "--close-after", 1); cleanup(sim.stop)
    sub, _ = start(tmp, cleanup, device("d", sim, "interval_ms = 500\noffline_after = 1"))
    d = assert_no_poll_lost(sub, sim, 20, timeout=40)
    assert abs(d["requests"] - d["polls"]) <= 1, d  # no request sent into a closed one


@T.case
def replies_from_another_unit_are_refused_unless_check_unit_is_false(tmp, cleanup):
    # "other": a TCP-to-RTU gateway answering unit 1 with unit 7's header.
    # "fixed": a device that always answers as unit 0, configured for it.
    other = Sim(tmp, "other", "--reply-unit", 7); cleanup(other.stop)
    fixed = Sim(tmp, "fixed", "--reply-unit", 0); cleanup(fixed.stop)
    body = (device("other", other, "interval_ms = 200\noffline_after = 2") +
            device("fixed", fixed, "interval_ms = 200\ncheck_unit = false"))
    body = body.replace("[bus:other]", "[bus:other]\ntimeout_ms = 200\nretries = 1")
    sub, gw = start(tmp, cleanup, body)
    msgs = sub.wait_count("edgeferry/gw1/telemetry/fixed", 5)
    assert json.loads(msgs[-1]["payload"])["values"]["id"] == 1
    off = sub.wait_count("edgeferry/gw1/alarm/other", 1, timeout=30)
    assert json.loads(off[0]["payload"])["state"] == "active"
    st = wait_stats(sub, lambda p: p["devices"]["other"]["polls"] >= 3, "stats of 3 polls")
    o = st["devices"]["other"]
    assert o["readings"] == 0 and o["errors"] >= 2 * 2 and o["timeouts"] == 0, o
    assert o["polls_failed"] >= 2, o
    assert st["devices"]["fixed"]["errors"] == 0, st["devices"]["fixed"]
    assert not sub.all("edgeferry/gw1/telemetry/other")
    assert other.count("total") >= 4  # it was asked, and did answer
    gw.proc.wait_output("answers as unit 7, not 1")


@T.case
def a_reply_with_an_mbap_length_of_0xffff_is_refused(tmp, cleanup):
    sim = Sim(tmp, "ffff", "--reply-mbap-length", 65535); cleanup(sim.stop)
    sub, gw = start(tmp, cleanup, device("d", sim, "interval_ms = 200\noffline_after = 2")
                   .replace("port = ", "timeout_ms = 200\nretries = 1\nport = "))
    off = sub.wait_count("edgeferry/gw1/alarm/d", 1, timeout=30)
    assert json.loads(off[0]["payload"])["state"] == "active"
    st = wait_stats(sub, lambda p: p["devices"]["d"]["polls"] >= 3, "stats of 3 polls")
    d = st["devices"]["d"]
    assert d["readings"] == 0 and d["errors"] >= 4 and d["timeouts"] == 0, d
    assert not sub.all("edgeferry/gw1/telemetry/d")
    assert sim.count("total") >= 4
    gw.proc.wait_output("MBAP length 65535 for")


if __name__ == "__main__":
    raise SystemExit(T.run())

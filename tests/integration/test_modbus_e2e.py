#!/usr/bin/env python3
"""End to end, Modbus to MQTT: the real edgeferry binary polls the Modbus
simulator (TCP, and RTU on a socat pseudo-terminal) and publishes to a real
mosquitto; the tests read what arrives at the broker."""
import json
import os
import signal
import subprocess
import time

import ef

T = ef.Test()
SIM = os.path.join(os.environ.get("EF_BUILD_DIR", "build"), "tests/modbus_sim/modbus_sim")


class ModbusSim:
    def __init__(self, tmp, mode, where, *opts):
        self.count_file = tmp.file(f"count-{mode}-{os.path.basename(str(where))}")
        self.proc = ef.Proc([SIM, f"--{mode}", str(where), "--count-file", self.count_file,
                             *map(str, opts)],
                            tmp.file(f"sim-{mode}-{os.path.basename(str(where))}.log"),
                            stdout_pipe=True)
        line = self.proc.p.stdout.readline().decode()
        if line.startswith("port "):
            self.port = int(line.split()[1])
            line = self.proc.p.stdout.readline().decode()
        assert line.strip() == "ready", f"simulator said {line!r}"

    def requests(self, unit=None):
        try:
            with open(self.count_file) as f:
                for ln in f:
                    parts = ln.split()
                    if unit is None and parts[0] == "total":
                        return int(parts[1])
                    if unit is not None and parts[:2] == ["unit", str(unit)]:
                        return int(parts[2])
        except FileNotFoundError:
            pass
        return 0

    def stop(self):
        self.proc.stop()


def base_ini(tmp, broker_port, body, gid="gw1", extra_mqtt=""):
    return f"""
[gateway]
id = {gid}
state_dir = {tmp.path}/state
stats_interval_s = 0

[mqtt]
uri = tcp://127.0.0.1:{broker_port}
keepalive_s = 5
{extra_mqtt}
{body}
"""


# Every type and order of the simulator's map (tests/modbus_sim/modbus_sim.c).
TYPES = [
    ("i16", "holding:10", "int16", "ABCD", -12345),
    ("u16", "holding:11", "uint16", "ABCD", 54321),
    ("bit0", "holding:12", None, None, True),
    ("bit1", "holding:12", None, None, False),
    ("i32_abcd", "holding:20", "int32", "ABCD", -123456789),
    ("i32_dcba", "holding:22", "int32", "DCBA", -123456789),
    ("i32_badc", "holding:24", "int32", "BADC", -123456789),
    ("i32_cdab", "holding:26", "int32", "CDAB", -123456789),
    ("u32_abcd", "input:30", "uint32", "ABCD", 3000000000),
    ("u32_cdab", "input:36", "uint32", "CDAB", 3000000000),
    ("f32_abcd", "holding:40", "float32", "ABCD", "3.1415927"),
    ("f32_dcba", "holding:42", "float32", "DCBA", "3.1415927"),
    ("f32_badc", "holding:44", "float32", "BADC", "3.1415927"),
    ("f32_cdab", "holding:46", "float32", "CDAB", "3.1415927"),
    ("i64_abcd", "holding:50", "int64", "ABCD", -1234567890123456789),
    ("i64_dcba", "holding:54", "int64", "DCBA", -1234567890123456789),
    ("i64_badc", "holding:58", "int64", "BADC", -1234567890123456789),
    ("i64_cdab", "holding:62", "int64", "CDAB", -1234567890123456789),
    ("u64_abcd", "input:70", "uint64", "ABCD", "17375808098319191535"),
    ("u64_cdab", "input:82", "uint64", "CDAB", "17375808098319191535"),
    ("f64_abcd", "holding:90", "float64", "ABCD", "-2.718281828459045"),
    ("f64_dcba", "holding:94", "float64", "DCBA", "-2.718281828459045"),
    ("f64_badc", "holding:98", "float64", "BADC", "-2.718281828459045"),
    ("f64_cdab", "holding:102", "float64", "CDAB", "-2.718281828459045"),
    ("coil3", "coil:3", None, None, True),
    ("coil4", "coil:4", None, None, False),
    ("di1", "discrete:1", None, None, True),
    ("scaled", "holding:11", "uint16", "ABCD", "5432.1"),
]


def type_points(dev):
    out = []
    for name, reg, typ, order, _ in TYPES:
        s = f"[point:{dev}.{name}]\nregister = {reg}\n"
        if name == "bit0":
            s += "bit = 0\n"
        elif name == "bit1":
            s += "bit = 1\n"
        elif typ:
            s += f"type = {typ}\norder = {order}\n"
        if name == "scaled":
            s += "scale = 0.1\n"
        out.append(s)
    return "\n".join(out)


def raw_values(payload):
    """The 'values' object of a telemetry payload with every number kept as
    its exact text, so 64-bit integers and float text can be compared."""
    obj = json.loads(payload, parse_int=str, parse_float=str)
    return obj["values"]


@T.case
def every_type_and_order_is_decoded_exactly(tmp, cleanup):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/#"], tmp); cleanup(sub.stop)
    ini = base_ini(tmp, broker.port, f"""
[bus:b]
type = tcp
host = 127.0.0.1
port = {sim.port}
[device:d]
bus = b
unit = 1
interval_ms = 200
{type_points("d")}
""")
    gw = ef.Gateway(tmp, ini).start(); cleanup(gw.stop)
    msg = sub.wait_count("edgeferry/gw1/telemetry/d", 1)[0]
    vals = raw_values(msg["payload"])
    for name, _, _, _, want in TYPES:
        want_text = {True: "true", False: "false"}.get(want, str(want)) \
            if isinstance(want, bool) else str(want)
        got = vals.get(name)
        got_text = {True: "true", False: "false"}.get(got, got) if isinstance(got, bool) else got
        assert got_text == want_text, f"{name}: got {got!r}, want {want_text}"
    ts = json.loads(msg["payload"])["ts"]
    assert abs(ts / 1000 - time.time()) < 60, f"ts {ts} is not now"
    assert msg["qos"] == 0 and not msg["retain"]


@T.case
def requests_per_poll_equal_the_plan(tmp, cleanup):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim.stop)
    body = f"""
[bus:b]
type = tcp
host = 127.0.0.1
port = {sim.port}
[device:d]
bus = b
unit = 1
interval_ms = 100
{type_points("d")}
"""
    ini = base_ini(tmp, broker.port, body)
    rc, out, err = ef.run_edgeferry(["--check", "-c", tmp.file("check.ini", ini)])
    assert rc == 0, err
    planned = int(out.split("plan: ")[1].split(" request")[0])
    assert planned < len(TYPES), f"coalescing should beat one request per point: {planned}"
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/telemetry/d"], tmp); cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini).start(); cleanup(gw.stop)
    sub.wait_count("edgeferry/gw1/telemetry/d", 3)
    n0, r0 = len(sub.all()), sim.requests()
    sub.wait_count("edgeferry/gw1/telemetry/d", n0 + 10)
    gw.stop()
    n1, r1 = len(sub.all()), sim.requests()
    polls = n1 - n0
    # Requests counted between the two readings belong to polls whose
    # messages may straddle the readings by one poll either side.
    assert abs((r1 - r0) - polls * planned) <= 2 * planned, \
        f"{r1 - r0} requests for {polls} polls, plan says {planned} per poll"


@T.case
def a_hole_in_the_register_map_is_survived(tmp, cleanup):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    # Addresses 13..19 do not exist: a merged read 10..22 hits the hole.
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1, "--hole", "13-19"); cleanup(sim.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/telemetry/d"], tmp); cleanup(sub.stop)
    ini = base_ini(tmp, broker.port, f"""
[bus:b]
type = tcp
host = 127.0.0.1
port = {sim.port}
max_gap = 20
[device:d]
bus = b
unit = 1
interval_ms = 100
[point:d.a]
register = holding:10
type = int16
[point:d.b]
register = holding:20
type = int32
""")
    gw = ef.Gateway(tmp, ini).start(); cleanup(gw.stop)
    msgs = sub.wait_count("edgeferry/gw1/telemetry/d", 5)
    last = json.loads(msgs[-1]["payload"])["values"]
    assert last == {"a": -12345, "b": -123456789}, last
    # The split is remembered: later polls cost two requests, not a failed
    # merged read plus two.
    n0, r0 = len(sub.all()), sim.requests()
    sub.wait_count("edgeferry/gw1/telemetry/d", n0 + 10)
    n1, r1 = len(sub.all()), sim.requests()
    assert (r1 - r0) <= 2 * (n1 - n0) + 4, f"{r1 - r0} requests for {n1 - n0} polls"


@T.case
def two_units_on_one_rtu_line(tmp, cleanup):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    pty = ef.PtyPair(tmp, "rtu"); cleanup(pty.stop)
    sim = ModbusSim(tmp, "rtu", pty.b, "--unit", 1, "--unit", 2); cleanup(sim.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/telemetry/#"], tmp); cleanup(sub.stop)
    ini = base_ini(tmp, broker.port, f"""
[bus:line]
type = rtu
path = {pty.a}
baud = 19200
timeout_ms = 300
[template:t]
interval_ms = 200
[point:t.id]
register = input:0
[point:t.big]
register = input:70
type = uint64
[device:u1]
bus = line
unit = 1
template = t
[device:u2]
bus = line
unit = 2
template = t
""")
    gw = ef.Gateway(tmp, ini).start(); cleanup(gw.stop)
    for unit in (1, 2):
        m = sub.wait_count(f"edgeferry/gw1/telemetry/u{unit}", 2)[-1]
        vals = raw_values(m["payload"])
        assert vals == {"id": str(unit), "big": "17375808098319191535"}, vals


@T.case
def a_dead_device_does_not_slow_another_bus(tmp, cleanup):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    good = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(good.stop)
    dead = ModbusSim(tmp, "tcp", 0, "--dead-unit", 1); cleanup(dead.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/telemetry/#", "edgeferry/gw1/alarm/#"],
                        tmp); cleanup(sub.stop)
    ini = base_ini(tmp, broker.port, f"""
[bus:fast]
type = tcp
host = 127.0.0.1
port = {good.port}
[bus:slow]
type = tcp
host = 127.0.0.1
port = {dead.port}
timeout_ms = 1000
retries = 2
[device:alive]
bus = fast
unit = 1
interval_ms = 100
[point:alive.c]
register = holding:1
[device:dead]
bus = slow
unit = 1
interval_ms = 100
offline_after = 2
[point:dead.c]
register = holding:1
""")
    gw = ef.Gateway(tmp, ini).start(); cleanup(gw.stop)
    sub.wait_count("edgeferry/gw1/telemetry/alive", 5)
    t0 = time.monotonic(); n0 = len(sub.all("edgeferry/gw1/telemetry/alive"))
    sub.wait_count("edgeferry/gw1/telemetry/alive", n0 + 20, timeout=30)
    rate = 20 / (time.monotonic() - t0)
    # 10 polls/s configured; the dead bus takes 3 s per poll. Sharing a thread
    # would bring this below 1/s. Loose bound: no timing flake on a busy box.
    assert rate > 3, f"alive device polled at {rate:.1f}/s"
    assert not sub.all("edgeferry/gw1/telemetry/dead")
    off = sub.wait_count("edgeferry/gw1/alarm/dead", 1, timeout=30)
    assert json.loads(off[0]["payload"])["state"] == "active"


@T.case
def status_online_offline_on_sigterm_and_will_on_sigkill(tmp, cleanup):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/status"], tmp); cleanup(sub.stop)
    ini = base_ini(tmp, broker.port, f"""
[bus:b]
type = tcp
host = 127.0.0.1
port = {sim.port}
[device:d]
bus = b
unit = 1
[point:d.x]
register = holding:1
""")
    gw = ef.Gateway(tmp, ini).start(); cleanup(gw.stop)
    m = sub.wait_payload("edgeferry/gw1/status", "online")[0]
    assert m["qos"] == 1
    rc = gw.stop(signal.SIGTERM)
    assert rc == 0, f"exit code {rc} after SIGTERM"
    sub.wait_payload("edgeferry/gw1/status", "offline")
    # The retained state is what a new subscriber sees.
    out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t",
                          "edgeferry/gw1/status", "-C", "1", "-v", "-W", "5"],
                         capture_output=True, text=True)
    assert out.stdout.strip() == "edgeferry/gw1/status offline", out.stdout
    n = len(sub.all("edgeferry/gw1/status"))
    gw.start()
    sub.wait_payload("edgeferry/gw1/status", "online", after=n)
    n = len(sub.all("edgeferry/gw1/status"))
    gw.kill()
    # The broker sends the will after 1.5 x keepalive (5 s).
    sub.wait_payload("edgeferry/gw1/status", "offline", timeout=20, after=n)


@T.case
def check_prints_the_plan_and_touches_nothing(tmp, cleanup):
    ini = base_ini(tmp, 1, f"""
[bus:b]
type = tcp
host = 127.0.0.1
port = 1
[device:d]
bus = b
unit = 1
{type_points("d")}
""")
    rc, out, err = ef.run_edgeferry(["--check", "-c", tmp.file("c.ini", ini)])
    assert rc == 0, err
    assert "read holding" in out and "edgeferry/gw1/telemetry/d" in out, out
    assert not os.path.exists(f"{tmp.path}/state"), "--check must not create the queue"
    bad = ini.replace("unit = 1", "unit = 300").replace("type = int16", "type = int17")
    rc, out, err = ef.run_edgeferry(["--check", "-c", tmp.file("bad.ini", bad)])
    assert rc == 2, (rc, err)
    lines = [l for l in err.splitlines() if l.startswith(tmp.file("bad.ini") + ":")]
    assert len(lines) >= 2, err
    rc, _, err = ef.run_edgeferry(["--bogus"])
    assert rc == 2
    rc, out, _ = ef.run_edgeferry(["--version"])
    assert rc == 0 and out.startswith("edgeferry ")


if __name__ == "__main__":
    raise SystemExit(T.run())

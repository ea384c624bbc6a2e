#!/usr/bin/env python3
"""Device quirks, end to end: the real edgeferry binary against the simulator
and a real mosquitto. A point with its own interval_ms is not read more often
than its period (the simulator counts the reads of its address) and shares
the read of the points due with it; string points in both byte orders, with
non-ASCII and invalid bytes; a device with max_regs = 10 (the simulator
refuses longer reads from it) next to one with the bus's 125; --check
prints the plan of each period."""
import json
import os

import ef

T = ef.Test()
SIM = os.path.join(os.environ.get("EF_BUILD_DIR", "build"), "tests/modbus_sim/modbus_sim")


class Sim:
    """The simulator on a free TCP port, with its count file."""

    def __init__(self, tmp, *opts):
        self.count_file = tmp.file("count")
        self.proc = ef.Proc([SIM, "--tcp", "0", "--count-file", self.count_file,
                             *map(str, opts)], tmp.file("sim.log"), stdout_pipe=True)
        self.port = int(self.proc.p.stdout.readline().decode().split()[1])
        assert self.proc.p.stdout.readline().decode().strip() == "ready"

    def counts(self):
        out = {}
        with open(self.count_file) as f:
            for ln in f:
                parts = ln.split()
                out[" ".join(parts[:-1])] = int(parts[-1])
        return out

    def stop(self):
        self.proc.stop()


def config(tmp, broker, body):
    return f"""
[gateway]
id = gw1
state_dir = {tmp.path}/state
stats_interval_s = 0
[mqtt]
uri = tcp://127.0.0.1:{broker.port}
keepalive_s = 5
{body}
"""


def start(tmp, cleanup, sim, body):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/gw1/#"], tmp); cleanup(sub.stop)
    text = config(tmp, broker, f"[bus:b]\ntype = tcp\nhost = 127.0.0.1\nport = {sim.port}\n" + body)
    gw = ef.Gateway(tmp, text).start()
    cleanup(gw.stop)
    return sub, gw


SLOW = """
[device:d]
bus = b
unit = 1
interval_ms = 100
[point:d.fast]
register = holding:298
[point:d.slow]
register = holding:300
interval_ms = 500
"""


@T.case
def a_slow_point_is_read_only_in_its_period_and_shares_the_read(tmp, cleanup):
    sim = Sim(tmp, "--count-addr", 298, "--count-addr", 300); cleanup(sim.stop)
    sub, gw = start(tmp, cleanup, sim, SLOW)
    msgs = sub.wait_count("edgeferry/gw1/telemetry/d", 23, timeout=60)
    gw.stop()
    c = sim.counts()
    polls, slow_reads = c["addr 298"], c["addr 300"]
    assert polls >= 23, c
    # Polls 0..P-1 (fewer if the loaded machine skipped cycles) read the
    # slow point in those that 5 divides: never more than ceil(P / 5).
    assert 1 <= slow_reads <= (polls + 4) // 5, c
    assert slow_reads >= 3, c  # it is read, too, not only at poll 0
    # Due together, read together: one request per poll, whatever is due.
    assert c["total"] == polls, c
    vals = [json.loads(m["payload"])["values"] for m in sub.all("edgeferry/gw1/telemetry/d")]
    assert vals[0] == {"fast": 298, "slow": 300}, vals[0]  # poll 0 reads everything
    assert all(v["fast"] == 298 for v in vals)
    with_slow = [v for v in vals if "slow" in v]
    assert 2 <= len(with_slow) <= slow_reads and len(with_slow) <= (len(vals) + 4) // 5, vals
    assert msgs


STRINGS = """
[device:s]
bus = b
unit = 1
interval_ms = 200
[point:s.sn_ab]
register = holding:110
type = string
length = 8
[point:s.sn_ba]
register = input:120
type = string
length = 8
order = BA
[point:s.city]
register = holding:130
type = string
length = 4
[point:s.odd]
register = holding:134
type = string
length = 2
[point:s.id]
register = holding:0
"""


@T.case
def strings_in_both_byte_orders_arrive_as_valid_json(tmp, cleanup):
    sim = Sim(tmp); cleanup(sim.stop)
    sub, gw = start(tmp, cleanup, sim, STRINGS)
    msgs = sub.wait_count("edgeferry/gw1/telemetry/s", 2, timeout=30)
    raw = msgs[0]["payload"]
    v = json.loads(raw)["values"]
    assert v == {"sn_ab": "EDGEFERRY-01", "sn_ba": "EDGEFERRY-01", "city": "Z\u00fcrich",
                 "odd": "OK\ufffd", "id": 1}, v
    # Strings have no deadband: every poll carries them.
    assert json.loads(msgs[1]["payload"])["values"]["sn_ab"] == "EDGEFERRY-01"


LIMITS = """
[template:T]
[point:T.a]
register = holding:200
[point:T.b]
register = holding:209
[point:T.c]
register = holding:219
[point:T.e]
register = holding:229
[device:small]
bus = b
unit = 1
interval_ms = 200
template = T
max_regs = 10
[device:big]
bus = b
unit = 2
interval_ms = 200
template = T
"""


@T.case
def a_device_with_max_regs_10_next_to_one_with_the_bus_125(tmp, cleanup):
    sim = Sim(tmp, "--unit", 1, "--unit", 2, "--max-regs", "1:10"); cleanup(sim.stop)
    sub, gw = start(tmp, cleanup, sim, LIMITS)
    want = {"a": 200, "b": 209, "c": 219, "e": 229}
    for dev in ("small", "big"):
        msgs = sub.wait_count(f"edgeferry/gw1/telemetry/{dev}", 4, timeout=30)
        for m in msgs:
            assert json.loads(m["payload"])["values"] == want, (dev, m)
    gw.stop()
    c = sim.counts()
    # small: 200..209, 219, 229 (3 reads); big: 200..229 in one.
    assert c["unit 1"] >= 3 * 4 and c["unit 2"] >= 4, c
    assert abs(c["unit 1"] - 3 * c["unit 2"]) <= 3, c
    assert not sub.all("edgeferry/gw1/alarm/small")


@T.case
def check_prints_the_plan_of_each_period(tmp, cleanup):
    path = tmp.file("c.ini", config(tmp, type("B", (), {"port": 1883}),
                                    "[bus:b]\ntype = tcp\nhost = 127.0.0.1\n"
                                    + SLOW.replace("unit = 1", "unit = 9") + LIMITS))
    rc, out, err = ef.run_edgeferry(["--check", "-c", path])
    assert rc == 0, err
    assert "plan: 2 plans by point interval; poll 0 reads all 2 points in 1 request" in out, out
    assert ("    plan for polls 0, 5, 10, ... (multiples of 5): 1 request for 2 points\n"
            "    read holding 298..300 (3 regs): fast slow\n") in out, out
    assert ("    plan for polls 1, 2, 3, ... (not multiples of 5): 1 request for 1 point\n"
            "    read holding 298..298 (1 reg): fast\n") in out, out
    assert "point slow: holding:300 uint16 every 500 ms" in out, out
    assert "device small: unit 1, every 200 ms" in out and "max_gap 10, max_regs 10" in out
    assert "plan: 3 requests per poll for 4 points" in out, out


if __name__ == "__main__":
    raise SystemExit(T.run())

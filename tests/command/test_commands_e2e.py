#!/usr/bin/env python3
"""Commands end to end (INTERFACE.md "Writing to devices"): the real binary,
a real mosquitto, the Modbus simulator recording every write it receives.
Each case publishes commands with mosquitto_pub and checks three things: the
registers the simulator was sent (exactly, or that nothing was), the one
result on P/G/result/..., and the telemetry that follows the read-back."""
import json
import os
import signal
import struct
import subprocess
import time

import sys

import ef

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from test_modbus_e2e import ModbusSim  # noqa: E402

T = ef.Test()
P = "edgeferry/gw1"
FLOAT_BITS = 0x3DA96D9E  # the value a ThingsBoard gateway user saw mangled
FLOAT_VALUE = struct.unpack(">f", FLOAT_BITS.to_bytes(4, "big"))[0]

DEVICE = """
[point:m.sp]
register = holding:300
type = int16
scale = 0.1
writable = true
write_min = 5
write_max = 30
[point:m.mode]
register = holding:301
writable = true
[point:m.f]
register = holding:310
type = float32
order = CDAB
writable = true
[point:m.relay]
register = coil:3
writable = true
[point:m.flag]
register = holding:12
bit = 1
writable = true
[point:m.big]
register = holding:320
type = uint32
order = DCBA
writable = true
[point:m.ro]
register = holding:11
"""


def ini(tmp, broker_port, sim_port, extra="", device=DEVICE, interval=500, timeout=300):
    return f"""
[gateway]
id = gw1
state_dir = {tmp.path}/state
stats_interval_s = 1

[mqtt]
uri = tcp://127.0.0.1:{broker_port}
keepalive_s = 5
{extra}

[bus:b]
type = tcp
host = 127.0.0.1
port = {sim_port}
timeout_ms = {timeout}
retries = 0

[device:m]
bus = b
unit = 1
interval_ms = {interval}
offline_after = 1

[device:dead]
bus = b
unit = 2
interval_ms = 1000
offline_after = 1
[point:dead.sp]
register = holding:300
writable = true
{device}"""


def start(tmp, cleanup, extra="", sim_opts=(), **kw):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1, "--dead-unit", 2, *sim_opts); cleanup(sim.stop)
    sub = ef.Subscriber(broker.port, [f"{P}/#", "replies/#"], tmp); cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini(tmp, broker.port, sim.port, extra, **kw)).start()
    cleanup(gw.stop)
    sub.wait_payload(f"{P}/status", "online")
    # The subscription is made right after the birth: wait until it is in
    # place (a first telemetry message means the connection is settled).
    sub.wait_count(f"{P}/telemetry/m", 1)
    time.sleep(0.3)
    return broker, sim, sub, gw


def pub(broker, topic, payload, *args):
    subprocess.run(["mosquitto_pub", "-h", ef.HOST, "-p", str(broker.port), "-q", "1",
                    "-t", topic, "-m", payload, *args], check=True)


def writes(sim):
    try:
        with open(sim.count_file) as f:
            return [ln.strip() for ln in f if ln.startswith("write ")]
    except FileNotFoundError:
        return []


def result(sub, topic, n=1, timeout=15):
    msgs = sub.wait_count(topic, n, timeout)
    return [json.loads(m["payload"]) for m in msgs]


def refused(sub, sim, broker, topic, payload, want_error, *args):
    """Publishes a command that must be refused: one ok:false result whose
    error says WANT_ERROR, and no write at the simulator."""
    rtopic = topic.replace("/set/", "/result/")
    n = len(sub.all(rtopic))
    before = writes(sim)
    pub(broker, topic, payload, *args)
    r = result(sub, rtopic, n + 1)[n]
    assert r["ok"] is False and want_error in r["error"], (payload, r)
    time.sleep(0.3)
    assert writes(sim) == before, (payload, writes(sim))
    return r


@T.case
def a_point_command_is_written_read_back_answered_once_and_published(tmp, cleanup):
    broker, sim, sub, gw = start(tmp, cleanup)
    pub(broker, f"{P}/set/m/sp", '{"value":21.5,"id":"op-17"}')
    r = result(sub, f"{P}/result/m/sp")[0]
    assert r["ok"] is True and r["id"] == "op-17", r
    assert r["value"] == 21.5 and r["readback"] == 21.5, r
    assert "write fc=6 unit=1 addr=300 regs=0x00d7" in writes(sim), writes(sim)
    # The next telemetry carries the read-back value.
    ef.wait_until(lambda: any(json.loads(m["payload"])["values"].get("sp") == 21.5
                              for m in sub.all(f"{P}/telemetry/m")), 10, what="sp in telemetry")
    time.sleep(1)
    assert len(sub.all(f"{P}/result/m/sp")) == 1, "exactly one result"
    assert "command id op-17: m/sp = 21.5 written, read back 21.5" in gw.output()
    st = [json.loads(m["payload"]) for m in sub.all(f"{P}/stats")]
    ef.wait_until(lambda: [json.loads(m["payload"]) for m in sub.all(f"{P}/stats")][-1]
                  ["commands"]["executed"] >= 1, 10, what="commands.executed in stats")
    assert st is not None


@T.case
def every_type_and_order_lands_with_the_right_registers(tmp, cleanup):
    broker, sim, sub, gw = start(tmp, cleanup)
    cases = [
        ("f", repr(FLOAT_VALUE), "write fc=16 unit=1 addr=310 regs=0x6d9e,0x3da9"),
        ("mode", "7", "write fc=6 unit=1 addr=301 regs=0x0007"),
        ("relay", "true", "write fc=5 unit=1 addr=3 coil=1"),
        ("flag", "true", "write fc=22 unit=1 addr=12 and=0xfffd or=0x0002"),
        ("big", "3000000001", "write fc=16 unit=1 addr=320 regs=0x015e,0xd0b2"),
    ]
    for point, value, line in cases:
        pub(broker, f"{P}/set/m/{point}", value)
        r = result(sub, f"{P}/result/m/{point}")[0]
        assert r["ok"] is True, (point, r)
        if point == "f":  # published in the shortest text that reads back as the float32
            assert struct.pack(">f", r["readback"]) == FLOAT_BITS.to_bytes(4, "big"), r
        else:
            assert r["readback"] == r["value"] == json.loads(value), (point, r)
        assert line in writes(sim), (point, line, writes(sim))
    # FC22 touched only bit 1: the other bits of 0xA5A5 are as they were.
    pub(broker, f"{P}/set/m/flag", "false")
    r = result(sub, f"{P}/result/m/flag", 2)[1]
    assert r["ok"] is True and r["readback"] is False, r
    assert "write fc=22 unit=1 addr=12 and=0xfffd or=0x0000" in writes(sim)


@T.case
def a_device_command_writes_in_order_and_stops_at_the_first_failure(tmp, cleanup):
    broker, sim, sub, gw = start(tmp, cleanup)
    pub(broker, f"{P}/set/m", '{"values":{"mode":2,"sp":20},"id":"op-18"}')
    r = result(sub, f"{P}/result/m")[0]
    assert r["ok"] is True and r["id"] == "op-18", r
    assert r["results"]["mode"]["readback"] == 2 and r["results"]["sp"]["readback"] == 20, r
    w = writes(sim)
    assert w.index("write fc=6 unit=1 addr=301 regs=0x0002") < \
        w.index("write fc=6 unit=1 addr=300 regs=0x00c8"), w
    # A refused value refuses the whole command: nothing is written.
    r = refused(sub, sim, broker, f"{P}/set/m", '{"values":{"mode":3,"sp":99}}', "write_max")
    assert "results" in r and r["results"]["sp"]["ok"] is False, r


@T.case
def every_refusal_gets_a_clear_result_and_writes_nothing(tmp, cleanup):
    broker, sim, sub, gw = start(tmp, cleanup)
    s = f"{P}/set/m/sp"
    refused(sub, sim, broker, s, "31", "above write_max 30")
    refused(sub, sim, broker, s, "4", "below write_min 5")
    refused(sub, sim, broker, s, "21.55", "")           # a fraction of the scale step
    refused(sub, sim, broker, s, '"21"', "")            # a string where a number belongs
    refused(sub, sim, broker, s, "1e400", "")
    refused(sub, sim, broker, s, "", "empty")
    refused(sub, sim, broker, s, "{" * 50, "")
    refused(sub, sim, broker, s, "x" * 5000, "larger")
    refused(sub, sim, broker, s, '{"value":21,"ts":1000}', "")  # a ts from 1970
    refused(sub, sim, broker, f"{P}/set/m/relay", "2", "")
    refused(sub, sim, broker, f"{P}/set/m/ro", "1", "not writable")
    refused(sub, sim, broker, f"{P}/set/m/nope", "1", "nope")
    refused(sub, sim, broker, f"{P}/set/ghost/sp", "1", "unknown device")
    with open(tmp.file("bin"), "wb") as f:
        f.write(bytes(range(256)))
    rtopic = s.replace("/set/", "/result/")
    n = len(sub.all(rtopic))
    subprocess.run(["mosquitto_pub", "-h", ef.HOST, "-p", str(broker.port), "-q", "1", "-t", s,
                    "-f", tmp.file("bin")], check=True)
    r = result(sub, rtopic, n + 1)[n]
    assert r["ok"] is False, r
    assert writes(sim) == [], writes(sim)
    assert gw.proc.alive()


@T.case
def a_command_on_an_rtu_line_over_a_pty_is_written_and_read_back(tmp, cleanup):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    pty = ef.PtyPair(tmp, "rtu"); cleanup(pty.stop)
    sim = ModbusSim(tmp, "rtu", pty.b, "--unit", 1); cleanup(sim.stop)
    sub = ef.Subscriber(broker.port, [f"{P}/#"], tmp); cleanup(sub.stop)
    text = ini(tmp, broker.port, 0).replace(
        "type = tcp\nhost = 127.0.0.1\nport = 0\n", f"type = rtu\npath = {pty.a}\nbaud = 19200\n")
    text = text.replace("[device:dead]\nbus = b\nunit = 2", "[device:dead]\nbus = b\nunit = 3")
    gw = ef.Gateway(tmp, text).start(); cleanup(gw.stop)
    sub.wait_count(f"{P}/telemetry/m", 1)
    time.sleep(0.3)
    pub(broker, f"{P}/set/m/f", repr(FLOAT_VALUE))
    r = result(sub, f"{P}/result/m/f")[0]
    assert r["ok"] is True, r
    assert struct.pack(">f", r["readback"]) == FLOAT_BITS.to_bytes(4, "big"), r
    assert "write fc=16 unit=1 addr=310 regs=0x6d9e,0x3da9" in writes(sim), writes(sim)


@T.case
def a_retained_command_is_never_executed(tmp, cleanup):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1, "--dead-unit", 2); cleanup(sim.stop)
    # Retained before the gateway subscribes: the broker hands it over later.
    pub(broker, f"{P}/set/m/sp", "22", "-r")
    sub = ef.Subscriber(broker.port, [f"{P}/result/#", f"{P}/status"], tmp); cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini(tmp, broker.port, sim.port)).start(); cleanup(gw.stop)
    r = result(sub, f"{P}/result/m/sp")[0]
    assert r["ok"] is False and "retained" in r["error"], r
    time.sleep(1)
    assert writes(sim) == [], writes(sim)


@T.case
def a_repeated_id_is_executed_once_and_answered_again(tmp, cleanup):
    broker, sim, sub, gw = start(tmp, cleanup)
    for _ in range(3):
        pub(broker, f"{P}/set/m/mode", '{"value":9,"id":"once"}')
    rs = result(sub, f"{P}/result/m/mode", 3)
    assert all(r == rs[0] for r in rs) and rs[0]["ok"] is True, rs
    time.sleep(0.5)
    assert writes(sim).count("write fc=6 unit=1 addr=301 regs=0x0009") == 1, writes(sim)


@T.case
def an_offline_device_is_answered_at_once_and_nothing_waits(tmp, cleanup):
    broker, sim, sub, gw = start(tmp, cleanup)
    ef.wait_until(lambda: sub.all(f"{P}/alarm/dead"), 10, what="the dead unit's offline alarm")
    pub(broker, f"{P}/set/dead/sp", "5")
    r = result(sub, f"{P}/result/dead/sp")[0]
    assert r["ok"] is False and "offline" in r["error"], r
    assert writes(sim) == [], writes(sim)


@T.case
def a_command_behind_a_busy_bus_expires_and_is_never_sent_late(tmp, cleanup):
    # Every read takes 1.5 s; a command may wait at most 500 ms: it expires
    # while the read in progress ends, and the device never gets it.
    broker, sim, sub, gw = start(tmp, cleanup, extra="command_max_age_ms = 500",
                                 sim_opts=("--slow-reads-ms", 1500), timeout=3000)
    pub(broker, f"{P}/set/m/mode", "4")
    r = result(sub, f"{P}/result/m/mode")[0]
    assert r["ok"] is False and "expired" in r["error"], r
    time.sleep(2)
    assert writes(sim) == [], writes(sim)


@T.case
def mqtt5_response_topic_and_correlation_data_are_honoured(tmp, cleanup):
    broker, sim, sub, gw = start(tmp, cleanup, extra="version = 5")
    out = tmp.file("v5.out")
    with open(out, "w") as f:
        s5 = subprocess.Popen(["mosquitto_sub", "-h", ef.HOST, "-p", str(broker.port), "-V", "5",
                               "-q", "1", "-t", "replies/op", "-F", "%t|%D|%p"], stdout=f)
    cleanup(s5.terminate)
    time.sleep(0.5)
    pub(broker, f"{P}/set/m/mode", '{"value":5,"id":"v5"}', "-V", "5",
        "-D", "publish", "response-topic", "replies/op",
        "-D", "publish", "correlation-data", "corr-123")
    ef.wait_until(lambda: open(out).read().strip(), 15, what="a reply on the response topic")
    topic, corr, payload = open(out).read().strip().split("|", 2)
    assert topic == "replies/op" and corr == "corr-123", (topic, corr)
    assert json.loads(payload)["ok"] is True and json.loads(payload)["id"] == "v5", payload
    assert not sub.all(f"{P}/result/m/mode"), "the result went to the response topic only"


@T.case
def a_reload_that_makes_a_point_read_only_refuses_its_commands(tmp, cleanup):
    broker, sim, sub, gw = start(tmp, cleanup)
    pub(broker, f"{P}/set/m/mode", "1")
    assert result(sub, f"{P}/result/m/mode")[0]["ok"] is True
    text = ini(tmp, broker.port, sim.port,
               device=DEVICE.replace("[point:m.mode]\nregister = holding:301\nwritable = true",
                                     "[point:m.mode]\nregister = holding:301"))
    n = gw.output().count("reload: ")
    gw.rewrite(text)
    gw.proc.signal(signal.SIGHUP)
    ef.wait_until(lambda: gw.output().count("reload: ") > n and "Modbus devices" in
                  gw.output().split("SIGHUP")[-1], 20, what="the reload")
    time.sleep(0.5)
    before = writes(sim)
    pub(broker, f"{P}/set/m/mode", "2")
    r = result(sub, f"{P}/result/m/mode", 2)[1]
    assert r["ok"] is False and "not writable" in r["error"], r
    time.sleep(0.3)
    assert writes(sim) == before


if __name__ == "__main__":
    raise SystemExit(T.run())

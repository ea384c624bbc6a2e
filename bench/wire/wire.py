#!/usr/bin/env python3
"""MQTT bytes per reading of the demo workload (config/demo.ini's devices,
the simulators started as scripts/demo.sh starts them), measured on what a
subscriber receives from a real mosquitto.

Bytes of one PUBLISH as it crosses the link (MQTT 3.1.1, no properties):
  1 (fixed header) + len(remaining-length varint) + 2 (topic length)
  + topic + 2 (packet id, QoS > 0 only) + payload
Runs the gateway twice: every deadband set to 0, then with realistic
deadbands (below). For each run it also prices the same readings sent as
one message per point (topic P/G/telemetry/D/X, payload {"ts":..,"value":..}).
Readings are the gateway's own count (P/G/stats `readings`): with deadbands
that includes the readings it did not send.

usage: wire.py BUILD_DIR SECONDS_PER_RUN
"""
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
import ef  # noqa: E402

# Realistic deadbands for the demo's points: about the resolution an
# operator cares about (0.5 % level, 0.1 degC, 10 Wh, 0.5 V, GPS ~10 m).
DEADBANDS = {
    "meter.level": 0.5, "meter.temperature": 0.1, "meter.energy": 10,
    "meter.voltage": 0.5, "meter.balance": 1, "meter.requests": 10,
    "panel.total": 10, "panel.pressure": 0.01,
    "gps.lat": 0.0001, "gps.lon": 0.0001, "gps.alt": 1, "gps.speed_kn": 0.5,
    "gps.course": 1, "gps.sats": 1, "gps.fix": 0.5, "probe.T": 0.5, "probe.H": 1,
    "probe.n": 1,
    # on/off points: a deadband below 1 sends them when they change
    "meter.relay": 0.5, "meter.door_open": 0.5, "meter.fault": 0.5, "probe.ok": 0.5,
    "panel.unit_id": 0.5,
}


def varint_len(n):
    k = 1
    while n >= 128:
        n //= 128
        k += 1
    return k


def publish_bytes(topic, payload_len, qos):
    rest = 2 + len(topic.encode()) + (2 if qos > 0 else 0) + payload_len
    return 1 + varint_len(rest) + rest


def demo_ini(broker_port, tcp_port, d, deadband):
    with open(os.path.join(ROOT, "config", "demo.ini")) as f:
        text = f.read()
    text = text.replace("/tmp/edgeferry-demo", d)
    text = text.replace("127.0.0.1:18830", f"127.0.0.1:{broker_port}")
    text = text.replace("port = 15020", f"port = {tcp_port}")
    text = re.sub(r"stats_interval_s = \d+", "stats_interval_s = 1", text)
    text = re.sub(r"(?m)^deadband = .*\n", "", text)  # start from no deadband at all
    if not deadband:
        return text
    present = set(re.findall(r"(?m)^\[point:([\w.-]+)\]", text))
    for name, db in DEADBANDS.items():
        if name in present:
            text = text.replace(f"[point:{name}]\n", f"[point:{name}]\ndeadband = {db}\n")
        else:
            text += f"\n[point:{name}]\ndeadband = {db}\n"
    return text


def raw_values(payload):
    """Values of a telemetry payload with their exact JSON text."""
    obj = json.loads(payload, parse_int=str, parse_float=str,
                     parse_constant=str)
    out = {}
    for k, v in obj["values"].items():
        out[k] = "true" if v is True else "false" if v is False else \
            "null" if v is None else v
    return obj["ts"], out


def run(build, seconds, deadband):
    tmp = ef.TempDir("ef-wire-")
    procs = []
    try:
        broker = ef.Broker(tmp)
        procs.append(broker.stop)
        sim = os.path.join(build, "tests", "modbus_sim", "modbus_sim")
        tcp = ef.Proc([sim, "--tcp", "0", "--unit", "1"], tmp.file("sim-tcp.log"),
                      stdout_pipe=True)
        procs.append(tcp.stop)
        tcp_port = int(tcp.p.stdout.readline().split()[1])
        assert tcp.p.stdout.readline().strip() == b"ready"
        pty = ef.PtyPair(tmp, "rtu")
        procs.append(pty.stop)
        rtu = ef.Proc([sim, "--rtu", pty.b, "--unit", "1", "--unit", "2"],
                      tmp.file("sim-rtu.log"), stdout_pipe=True)
        procs.append(rtu.stop)
        assert rtu.p.stdout.readline().strip() == b"ready"
        os.rename(pty.a, os.path.join(tmp.path, "rtu"))
        ssim = os.path.join(ROOT, "tests", "serial_sim", "serial_sim.py")
        for argv in (["--link", tmp.file("gps"), "--mode", "nmea", "--period-ms", "1000"],
                     ["--link", tmp.file("probe"), "--mode", "kv", "--query", "R\\r"]):
            p = ef.Proc([sys.executable, ssim] + argv, tmp.file(f"ssim-{argv[1][-3:]}.log"),
                        stdout_pipe=True)
            procs.append(p.stop)
            assert p.p.stdout.readline().strip() == b"ready"
        sub = ef.Subscriber(broker.port, ["edgeferry/demo/#"], tmp, qos=2)
        procs.append(sub.stop)
        gw = ef.Gateway(tmp, demo_ini(broker.port, tcp_port, tmp.path, deadband))
        gw.start()
        procs.append(gw.stop)
        time.sleep(seconds)  # a benchmark: it measures a fixed stretch of time
        stats = [json.loads(m["payload"]) for m in sub.all("edgeferry/demo/stats")]
        assert stats, "no stats message"
        last = stats[-1]
        time.sleep(1.0)  # readings taken before that stats message still arriving
        gw.stop()
        return measure(sub, last)
    finally:
        for stop in reversed(procs):
            try:
                stop()
            except Exception:  # noqa: BLE001
                pass
        tmp.cleanup()


def measure(sub, last):
    r = {"readings": last["readings"], "samples": last["samples"],
         "suppressed": last["telemetry_suppressed"], "msgs": 0, "bytes": 0, "sent": 0,
         "pp_msgs": 0, "pp_bytes": 0, "alarm_msgs": 0, "alarm_bytes": 0}
    for m in sub.all(prefix="edgeferry/demo/"):
        topic, payload = m["topic"], m["payload"].encode()
        if "/telemetry/" in topic:
            ts, vals = raw_values(m["payload"])
            if int(ts) > last["ts"]:
                continue
            r["msgs"] += 1
            r["sent"] += len(vals)
            r["bytes"] += publish_bytes(topic, len(payload), m["qos"])
            for name, text in vals.items():
                one = f'{{"ts":{ts},"value":{text}}}'
                r["pp_msgs"] += 1
                r["pp_bytes"] += publish_bytes(f"{topic}/{name}", len(one), m["qos"])
        elif "/alarm/" in topic:
            if json.loads(m["payload"])["ts"] > last["ts"]:
                continue
            r["alarm_msgs"] += 1
            r["alarm_bytes"] += publish_bytes(topic, len(payload), m["qos"])
    return r


def main():
    build, seconds = sys.argv[1], float(sys.argv[2])
    rows = []
    for deadband in (False, True):
        r = run(build, seconds, deadband)
        rows.append(("deadband 0" if not deadband else "realistic deadbands", r))
    print(f"demo workload, {seconds:.0f} s per run; bytes = MQTT PUBLISH packets as received "
          "(header + topic + payload)")
    print(f"{'run':<21}{'readings':>9}{'sent':>7}{'samples':>8}{'skipped':>8}"
          f"{'msgs':>6}{'bytes':>8}{'B/reading':>10}  |  {'1 msg/point: msgs':>18}"
          f"{'bytes':>8}{'B/reading':>10}")
    for name, r in rows:
        n = r["readings"] or 1
        print(f"{name:<21}{r['readings']:>9}{r['sent']:>7}{r['samples']:>8}{r['suppressed']:>8}"
              f"{r['msgs']:>6}{r['bytes']:>8}{r['bytes'] / n:>10.1f}  |  {r['pp_msgs']:>18}"
              f"{r['pp_bytes']:>8}{r['pp_bytes'] / n:>10.1f}")
    for name, r in rows:
        print(f"{name}: alarms {r['alarm_msgs']} messages, {r['alarm_bytes']} bytes "
              "(not in the telemetry columns)")
    base = rows[0][1]["bytes"] / max(rows[0][1]["readings"], 1)
    for name, r in rows:
        n = max(r["readings"], 1)
        print(f"{name}: device message {r['bytes'] / n:.1f} B/reading = "
              f"{100 * r['bytes'] / n / base:.0f}% of deadband 0; one message per point "
              f"{r['pp_bytes'] / n:.1f} B/reading")


if __name__ == "__main__":
    main()

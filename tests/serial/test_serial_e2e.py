#!/usr/bin/env python3
"""End to end, serial line sensors to MQTT: the real edgeferry binary reads
the serial simulator (tests/serial_sim/serial_sim.py) on real ptys and
publishes to a real mosquitto; the tests read what arrives at the broker."""
import json
import os
import subprocess
import sys
import time

import ef

T = ef.Test()
SIM = os.path.join(os.environ.get("EF_SOURCE_DIR", "."), "tests/serial_sim/serial_sim.py")


class SerialSim:
    def __init__(self, tmp, name, *opts):
        self.link = tmp.file(f"tty-{name}")
        self.stats = tmp.file(f"stats-{name}")
        self.proc = ef.Proc([sys.executable, SIM, "--link", self.link, "--stats", self.stats,
                             *map(str, opts)],
                            tmp.file(f"sim-{name}.log"), stdout_pipe=True)
        self.expect("ready")

    def expect(self, word):
        line = self.proc.p.stdout.readline().decode().strip()
        assert line == word, f"simulator said {line!r}, expected {word!r}"

    def stat(self, key):
        try:
            with open(self.stats) as f:
                for ln in f:
                    k, _, v = ln.strip().partition("=")
                    if k == key:
                        return int(v)
        except FileNotFoundError:
            pass
        return 0

    def stop(self):
        self.proc.stop()


def ini(tmp, port, body, stats_s=0):
    return f"""
[gateway]
id = gw1
state_dir = {tmp.path}/state
stats_interval_s = {stats_s}

[mqtt]
uri = tcp://127.0.0.1:{port}
keepalive_s = 5

{body}
"""


def setup(tmp, cleanup, body, sims, stats_s=0):
    broker = ef.Broker(tmp)
    cleanup(broker.stop)
    for s in sims:
        cleanup(s.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/#"], tmp)
    cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini(tmp, broker.port, body, stats_s)).start()
    cleanup(gw.stop)
    return sub, gw


def values(sub, topic):
    return [m["values"] for m in sub.json(topic)]


GPS = {"lat": 48.1173, "lon": 11.516666667, "alt": 545.4, "sats": 8, "fix": 1,
       "speed_kn": 22.4, "course": 84.4}


@T.case
def nmea_exact_values_published_and_bad_checksums_never(tmp, cleanup):
    sim = SerialSim(tmp, "gps", "--mode", "nmea", "--period-ms", 100,
                    "--bad-checksum", "--missing-checksum")
    sub, _ = setup(tmp, cleanup, f"[serial:gps]\npath = {sim.link}\nformat = nmea\n"
                                 "interval_ms = 300\n", [sim])
    topic = "edgeferry/gw1/telemetry/gps"
    sub.wait_count(topic, 5)
    got = values(sub, topic)
    assert sum(1 for v in got if v == GPS) >= 4, got
    for v in got:
        for k, x in v.items():
            assert GPS[k] == x and type(GPS[k]) is type(x), (k, x)  # never 999.9 / 888.8
    # integers stay integers in the JSON text, decimals print exactly
    raw = sub.all(topic)[-1]["payload"]
    assert '"sats":8' in raw and '"lat":48.1173' in raw and '"lon":11.516666667' in raw, raw


@T.case
def kv_and_csv_exact_values_survive_junk_and_overlong_lines(tmp, cleanup):
    kv = SerialSim(tmp, "kv", "--mode", "kv", "--period-ms", 100, "--junk", "--overlong")
    csv = SerialSim(tmp, "csv", "--mode", "csv", "--period-ms", 100, "--junk",
                    "--wrong-count", "--overlong")
    body = (f"[serial:probe]\npath = {kv.link}\nformat = kv\ninterval_ms = 300\n\n"
            f"[serial:lab]\npath = {csv.link}\nformat = csv\nfields = temp,hum,wind,count\n"
            "interval_ms = 300\n")
    sub, _ = setup(tmp, cleanup, body, [kv, csv])
    sub.wait_count("edgeferry/gw1/telemetry/probe", 4)
    sub.wait_count("edgeferry/gw1/telemetry/lab", 4)
    for v in values(sub, "edgeferry/gw1/telemetry/probe"):
        assert v == {"T": 21.5, "H": 40, "ok": True, "n": 7}, v
    for v in values(sub, "edgeferry/gw1/telemetry/lab"):
        assert v == {"temp": 21.5, "hum": 40.2, "count": 7}, v


@T.case
def lines_with_control_bytes_rejected_and_counted_in_every_format(tmp, cleanup):
    # Each simulator sends its good line(s) and then 5 lines per 100 ms that
    # would be valid but for a control byte before, inside or after them.
    kv = SerialSim(tmp, "kv", "--mode", "kv", "--period-ms", 100, "--control")
    csv = SerialSim(tmp, "csv", "--mode", "csv", "--period-ms", 100, "--control")
    gps = SerialSim(tmp, "gps", "--mode", "nmea", "--period-ms", 100, "--control")
    body = (f"[serial:probe]\npath = {kv.link}\nformat = kv\ninterval_ms = 300\n\n"
            f"[serial:lab]\npath = {csv.link}\nformat = csv\nfields = temp,hum,wind,count\n"
            "interval_ms = 300\n\n"
            f"[serial:gps]\npath = {gps.link}\nformat = nmea\ninterval_ms = 300\n")
    sub, _ = setup(tmp, cleanup, body, [kv, csv, gps], stats_s=1)
    for dev in ("probe", "lab", "gps"):
        sub.wait_count(f"edgeferry/gw1/telemetry/{dev}", 4)

    def counted(p):
        return all(p["devices"][d]["lines_rejected"] >= 15 for d in ("probe", "lab", "gps"))
    ef.wait_until(lambda: any(counted(p) for p in sub.json("edgeferry/gw1/stats")), 20,
                  what="lines_rejected >= 15 for every sensor")
    for v in values(sub, "edgeferry/gw1/telemetry/probe"):
        assert v == {"T": 21.5, "H": 40, "ok": True, "n": 7}, v  # never Z1..Z4
    for v in values(sub, "edgeferry/gw1/telemetry/lab"):
        assert v == {"temp": 21.5, "hum": 40.2, "count": 7}, v  # never a wind value
    for v in values(sub, "edgeferry/gw1/telemetry/gps"):
        assert v == GPS, v  # never alt 777.7 or 666.6


@T.case
def queries_sent_at_the_configured_rate_and_answers_published(tmp, cleanup):
    sim = SerialSim(tmp, "lab", "--mode", "csv", "--query", "R\\r")
    body = (f"[serial:lab]\npath = {sim.link}\nformat = csv\nfields = temp,hum,wind,count\n"
            "query = R\\r\ninterval_ms = 250\ntimeout_ms = 200\n")
    t0 = time.monotonic()
    sub, gw = setup(tmp, cleanup, body, [sim])
    topic = "edgeferry/gw1/telemetry/lab"
    sub.wait_count(topic, 8)
    gw.stop()
    elapsed = time.monotonic() - t0
    queries, answers = sim.stat("queries"), sim.stat("answers")
    published = len(sub.all(topic))
    assert queries >= published >= 8, (queries, published)
    assert answers == queries, (answers, queries)
    # never more than one query per interval (the first goes out at start)
    assert queries <= elapsed / 0.25 + 1, (queries, elapsed)
    for v in values(sub, topic):
        assert v == {"temp": 21.5, "hum": 40.2, "count": 7}, v


@T.case
def vanished_port_goes_offline_then_reopens_and_data_resumes(tmp, cleanup):
    sim = SerialSim(tmp, "gps", "--mode", "nmea", "--period-ms", 100,
                    "--vanish-after-ms", 2000, "--vanish-for-ms", 2500)
    body = (f"[serial:gps]\npath = {sim.link}\nformat = nmea\ninterval_ms = 200\n"
            "offline_after = 2\n")
    sub, gw = setup(tmp, cleanup, body, [sim])
    topic = "edgeferry/gw1/telemetry/gps"
    alarm = "edgeferry/gw1/alarm/gps"
    sub.wait_count(topic, 2)
    sim.expect("gone")
    ef.wait_until(lambda: any(json.loads(m["payload"]).get("state") == "active"
                              for m in sub.all(alarm)), 15, what="offline alarm")
    sim.expect("back")
    n = len(sub.all(topic))
    ef.wait_until(lambda: any(json.loads(m["payload"]).get("state") == "cleared"
                              for m in sub.all(alarm)), 15, what="offline alarm cleared")
    sub.wait_count(topic, n + 3)
    assert all(v == GPS for v in values(sub, topic)[n:])
    assert "reopened" in gw.output()


if __name__ == "__main__":
    sys.exit(T.run())

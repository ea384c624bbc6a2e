"""Helpers of the Sparkplug B tests: a subscriber that keeps payloads as
bytes (mosquitto_sub prints them in hex) and decodes them with Eclipse
Tahu's sparkplug-payload (sp.js, an implementation independent of the
gateway's), NCMD/DCMD encoded by the same library, and the ini file."""
import json
import os
import subprocess
import threading
import time

import ef

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"


class Codec:
    """One node process running sp.js, line in, line out."""

    def __init__(self, mode):
        self.p = subprocess.Popen(["node", os.path.join(HERE, "sp.js"), mode], cwd=HERE,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lock = threading.Lock()

    def __call__(self, line):
        with self.lock:
            self.p.stdin.write(line + "\n")
            self.p.stdin.flush()
            return self.p.stdout.readline().strip()

    def stop(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


class SpSubscriber:
    """mosquitto_sub on TOPICS; every message as {topic, retain, qos, hex,
    t} and, decoded on demand, "p" (decodePayload) and "raw" (the fields)."""

    def __init__(self, port, topics, tmp):
        self.msgs = []
        self.lock = threading.Lock()
        self.decoder = Codec("decode")
        argv = ["mosquitto_sub", "-h", HOST, "-p", str(port), "-q", "1", "-v",
                "-F", "%t\t%r\t%q\t%x", "-t", "ef-harness/probe"]
        for t in topics:
            argv += ["-t", t]
        self.proc = ef.Proc(argv, tmp.file(f"spsub-{id(self)}.log"), stdout_pipe=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            subprocess.run(["mosquitto_pub", "-h", HOST, "-p", str(port), "-t",
                            "ef-harness/probe", "-m", "probe"], check=False)
            try:
                ef.wait_until(lambda: self.all("ef-harness/probe"), 0.5, what="probe")
                return
            except AssertionError:
                pass
        raise AssertionError("subscriber never became ready")

    def _read(self):
        for raw in self.proc.p.stdout:
            parts = raw.decode(errors="replace").rstrip("\n").split("\t", 3)
            if len(parts) == 4:
                with self.lock:
                    self.msgs.append({"topic": parts[0], "retain": parts[1] == "1",
                                      "qos": int(parts[2]), "hex": parts[3],
                                      "t": time.monotonic()})

    def _decode(self, m):
        if "p" not in m and m["topic"].startswith("spBv1.0/") and "/STATE/" not in m["topic"]:
            d = json.loads(self.decoder(m["hex"] or ""))
            assert "error" not in d, f"{m['topic']}: sparkplug-payload cannot decode it: {d}"
            m["p"], m["raw"] = d["payload"], d["raw"]
        return m

    def all(self, topic=None, prefix=None, verb=None):
        with self.lock:
            ms = [m for m in self.msgs
                  if (topic is None or m["topic"] == topic)
                  and (prefix is None or m["topic"].startswith(prefix))
                  and (verb is None or m["topic"].split("/")[2:3] == [verb])]
        return [self._decode(m) for m in ms]

    def node_msgs(self, group="g"):
        """Every message of the edge node (not STATE), in arrival order."""
        return [m for m in self.all(prefix=f"spBv1.0/{group}/")]

    def wait(self, pred, timeout=20.0, what="messages"):
        return ef.wait_until(pred, timeout, what=what)

    def stop(self):
        self.proc.stop()
        self.decoder.stop()


def publish(port, topic, payload, tmp, retain=False, qos=1):
    """Publishes bytes or text."""
    path = tmp.file(f"pub-{time.monotonic_ns()}", "")
    with open(path, "wb") as f:
        f.write(payload if isinstance(payload, bytes) else payload.encode())
    argv = ["mosquitto_pub", "-h", HOST, "-p", str(port), "-t", topic, "-q", str(qos),
            "-f", path]
    if retain:
        argv.append("-r")
    subprocess.run(argv, check=True)


def encode(obj):
    """A Sparkplug payload (sparkplug-payload's object form) as bytes."""
    enc = Codec("encode")
    try:
        return bytes.fromhex(enc(json.dumps(obj)))
    finally:
        enc.stop()


def state(online, ts):
    return json.dumps({"online": online, "timestamp": ts})


def ini(tmp, port, body, sparkplug="", mqtt="", queue="", gid="gw1"):
    return f"""
[gateway]
id = {gid}
state_dir = {tmp.path}/state
stats_interval_s = 0

[mqtt]
uri = tcp://127.0.0.1:{port}
keepalive_s = 5
{mqtt}

[queue]
flush_ms = 300
{queue}

[sparkplug]
enabled = true
group_id = g
edge_node_id = n1
{sparkplug}

{body}
"""


def modbus_body(sim_port, interval=200, offline_after=2, extra=""):
    """One device d on the simulator (tests/modbus_sim: register map there)
    with a point of every type, a scaled one and units."""
    return f"""
[bus:b]
type = tcp
host = 127.0.0.1
port = {sim_port}
timeout_ms = 300
retries = 0

[device:d]
bus = b
unit = 1
interval_ms = {interval}
offline_after = {offline_after}

[point:d.n]
register = holding:1
type = uint16

[point:d.i16]
register = holding:10
type = int16
unit = degC

[point:d.u16]
register = holding:11
type = uint16

[point:d.i32]
register = holding:20
type = int32

[point:d.u32]
register = holding:30
type = uint32

[point:d.f32]
register = holding:40
type = float32
unit = V

[point:d.i64]
register = holding:50
type = int64

[point:d.u64]
register = holding:70
type = uint64

[point:d.f64]
register = holding:90
type = float64

[point:d.flag]
register = coil:3

[point:d.scaled]
register = holding:11
scale = 0.1
unit = kWh
{extra}
"""


def metrics_by_name(msg):
    return {m["name"]: m for m in msg["p"]["metrics"]}


def seqs(msgs):
    return [int(m["raw"]["seq"]) for m in msgs if "seq" in m["raw"]]

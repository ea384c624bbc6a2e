"""The benchmark and soak workload: Modbus TCP devices on simulator
processes, one bus per simulator, every device reading a contiguous block of
holding registers in one request.

Register map (tests/modbus_sim/modbus_sim.c): holding 0 is the unit id,
holding 1 the unit's request counter (every poll of a device is exactly one
request, so consecutive telemetry of a device carries consecutive counter
values: a missing value is a lost reading), holding 2 a ramp 0..999 moving
every 100 ms, holding 200..999 their own address.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
import ef  # noqa: E402,F401  (re-exported for the drivers)


def start_sim(sim_bin, units, tmp, name):
    """A modbus_sim on a free TCP port answering UNITS; returns (proc, port)."""
    argv = [sim_bin, "--tcp", "0"]
    for u in units:
        argv += ["--unit", str(u)]
    log = tmp.file(f"{name}.log")
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=open(log, "ab"),
                         start_new_session=True, text=True)
    port = None
    for line in p.stdout:
        if line.startswith("port "):
            port = int(line.split()[1])
        if line.strip() == "ready":
            break
    if port is None:
        p.kill()
        raise RuntimeError(f"{sim_bin} did not report a port")
    return p, port


def stop_sim(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def device_points(dev, npoints, alarm=False, scale=None):
    """NPOINTS uint16 points on holding 0..NPOINTS-1: one read per poll.
    SCALE (e.g. 0.1) is set on the points from address 3 on, which makes
    them decimals (the counter stays an integer)."""
    out = []
    for a in range(npoints):
        name = {0: "unit", 1: "counter", 2: "ramp"}.get(a, f"r{a}")
        out.append(f"[point:{dev}.{name}]\nregister = holding:{a}\n")
        if scale is not None and a >= 3:
            out.append(f"scale = {scale}\n")
        if alarm and a == 2:
            out.append("alarm_high = 900\nalarm_hysteresis = 50\n")
    return "".join(out)


def make_ini(gw_id, broker_port, state_dir, sims, units_per_sim, npoints,
             interval_ms, stats_s=1, qos=0, keepalive_s=30, extra="", alarm_dev=None,
             memory_kb=256, scale=None):
    """SIMS: list of ports, one bus each, with UNITS_PER_SIM devices (units
    1..N). Device names are d<bus>_<unit>."""
    text = (f"[gateway]\nid = {gw_id}\nstate_dir = {state_dir}\nlog_level = info\n"
            f"stats_interval_s = {stats_s}\n\n"
            f"[mqtt]\nuri = tcp://127.0.0.1:{broker_port}\nkeepalive_s = {keepalive_s}\n"
            f"telemetry_qos = {qos}\n\n[queue]\nmemory_kb = {memory_kb}\n\n")
    for b, port in enumerate(sims):
        text += (f"[bus:b{b}]\ntype = tcp\nhost = 127.0.0.1\nport = {port}\n"
                 f"timeout_ms = 500\nretries = 0\n\n")
        for u in range(1, units_per_sim + 1):
            dev = f"d{b}_{u}"
            text += f"[device:{dev}]\nbus = b{b}\nunit = {u}\ninterval_ms = {interval_ms}\n"
            text += device_points(dev, npoints, alarm=(dev == alarm_dev), scale=scale) + "\n"
    return text + extra


def varint_len(n):
    k = 1
    while n >= 128:
        n //= 128
        k += 1
    return k


def publish_bytes(topic_len, payload_len, qos):
    """Bytes of one MQTT 3.1.1 PUBLISH on the wire: fixed header byte,
    remaining length, topic length + topic, packet id (QoS > 0), payload."""
    rest = 2 + topic_len + (2 if qos > 0 else 0) + payload_len
    return 1 + varint_len(rest) + rest


COUNTER_RE = re.compile(rb'"counter":(\d+)')
TS_RE = re.compile(rb'"ts":(\d+)')


def proc_cpu_s(pid):
    """utime + stime of PID in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid):
    """VmRSS, VmHWM (KiB) and Threads of PID."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads", "VmSize"):
                out[k] = int(v.split()[0])
    return out


def sp_metric_count(payload):
    """Metrics (field 2) at the top level of a Sparkplug B payload."""
    def varint(i):
        v, shift = 0, 0
        while True:
            b = payload[i]
            v |= (b & 0x7F) << shift
            i += 1
            if not b & 0x80:
                return v, i
            shift += 7
    i, n = 0, 0
    while i < len(payload):
        tag, i = varint(i)
        wt = tag & 7
        if wt == 0:
            _, i = varint(i)
        elif wt == 1:
            i += 8
        elif wt == 5:
            i += 4
        else:
            ln, i = varint(i)
            i += ln
        n += tag >> 3 == 2
    return n


class LeanSub:
    """mosquitto_sub on every topic of gateway GW, keeping counters rather
    than messages (a soak receives millions). ON_TELEMETRY(dev, payload,
    arrival) is called from the reader thread for every telemetry message."""

    def __init__(self, port, prefix, tmp, qos=1, on_telemetry=None, client_id=None,
                 sparkplug=False):
        import threading
        import time
        self.time = time
        self.prefix = prefix
        self.lock = threading.Lock()
        self.on_telemetry = on_telemetry
        self.telemetry = 0
        self.readings = 0
        self.wire_bytes = 0
        self.first_t = None
        self.last_t = None
        self.stats = []          # (arrival, dict) of every stats message
        self.alarms = []         # (arrival, topic, payload)
        self.status = []         # (arrival, payload)
        # Sparkplug payloads are binary: printed in hex (%x), one line each.
        self.sparkplug = sparkplug
        argv = ["mosquitto_sub", "-h", ef.HOST, "-p", str(port), "-q", str(qos),
                "-F", "%t\t%q\t%x" if sparkplug else "%t\t%q\t%p", "-t", prefix + "/#",
                "-t", "ef-harness/probe"]
        if sparkplug:
            argv += ["-t", "spBv1.0/#"]
        if client_id:
            argv += ["-i", client_id, "-c"]
        self.proc = ef.Proc(argv, tmp.file(f"leansub-{id(self)}.log"), stdout_pipe=True)
        self.probe = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        for _ in range(40):
            subprocess.run(["mosquitto_pub", "-h", ef.HOST, "-p", str(port),
                            "-t", "ef-harness/probe", "-m", "p"], check=False)
            if self.probe.wait(0.25):
                return
        raise AssertionError("subscriber never became ready")

    def _read(self):
        import json
        tele = (self.prefix + "/telemetry/").encode()
        for raw in self.proc.p.stdout:
            now = self.time.monotonic()
            line = raw.rstrip(b"\n")
            parts = line.split(b"\t", 2)
            if len(parts) != 3:
                continue
            topic, qos, payload = parts
            if self.sparkplug:
                payload = bytes.fromhex(payload.decode())
            if self.sparkplug and b"/DDATA/" in topic:
                with self.lock:
                    self.telemetry += 1
                    self.readings += sp_metric_count(payload)
                    self.wire_bytes += publish_bytes(len(topic), len(payload), int(qos))
                    if self.first_t is None:
                        self.first_t = now
                    self.last_t = now
            elif topic.startswith(tele):
                n = payload.count(b":") - 2   # "ts": and "values": are not readings
                with self.lock:
                    self.telemetry += 1
                    self.readings += n
                    self.wire_bytes += publish_bytes(len(topic), len(payload), int(qos))
                    if self.first_t is None:
                        self.first_t = now
                    self.last_t = now
                if self.on_telemetry:
                    self.on_telemetry(topic[len(tele):].decode(), payload, now)
            elif topic.endswith(b"/stats"):
                try:
                    s = json.loads(payload)
                except ValueError:
                    continue
                with self.lock:
                    self.stats.append((now, s))
            elif b"/alarm/" in topic or topic.endswith(b"/alarm"):
                with self.lock:
                    self.alarms.append((now, topic.decode(), payload.decode(errors="replace")))
            elif topic.endswith(b"/status"):
                with self.lock:
                    self.status.append((now, payload.decode(errors="replace")))
            elif topic == b"ef-harness/probe":
                self.probe.set()

    def snapshot(self):
        with self.lock:
            return {"telemetry": self.telemetry, "readings": self.readings,
                    "wire_bytes": self.wire_bytes, "first_t": self.first_t,
                    "last_t": self.last_t}

    def last_stats(self):
        with self.lock:
            return self.stats[-1][1] if self.stats else None

    def stop(self):
        self.proc.stop()

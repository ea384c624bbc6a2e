#!/usr/bin/env python3
"""Fleet benchmark (a command, not part of CI): N edgeferry processes, each
with its own state_dir and one simulated Modbus TCP device (16 units per
modbus_sim process), QoS 1 telemetry every second to one mosquitto. The
broker is restarted (SIGTERM, DOWN_S seconds, then started again on the same port); the
script prints the reconnect timeline (gateway connections per second after
the restart, from the broker's log), the time until all gateways are back,
the broker's peak CPU (per 1 s window, sampled every 100 ms) and the
telemetry lost.

Loss: holding 1 of each unit counts its requests, one per poll, so the
telemetry of a gateway carries consecutive integers; a value between a
gateway's first and last one that never reached the subscriber is lost.
The subscriber has a persistent session (clean session off) and mosquitto
keeps it across the restart (persistence on), so what the gateways publish
before the subscriber is back is queued for it, not lost to it.

usage: fleet.py BUILD_DIR N [STEADY_S [DOWN_S]]
  STEADY_S (default 15): seconds of steady state before and after the restart
  DOWN_S (default 5): seconds the broker stays down
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
sys.path.insert(0, os.path.join(ROOT, "bench", "gateway"))
import ef  # noqa: E402
import workload as wl  # noqa: E402

UNITS_PER_SIM = 16
HZ = os.sysconf("SC_CLK_TCK")


class Broker:
    def __init__(self, tmp):
        self.port = ef.free_port()
        self.log = tmp.file("mosquitto.log")
        self.conf = tmp.file("mosquitto.conf", f"""listener {self.port} 127.0.0.1
allow_anonymous true
user root
persistence true
persistence_location {tmp.path}/
autosave_interval 3600
max_queued_messages 1000000
max_inflight_messages 100
log_dest file {self.log}
log_type notice
log_type information
log_timestamp true
log_timestamp_format %s
""")
        self.p = None

    def start(self):
        self.p = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        ef.wait_port(self.port, 30)

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.terminate()
            self.p.wait(30)

    def connects(self):
        """(epoch second, client id) of every 'New client connected' line."""
        out = []
        with open(self.log, errors="replace") as f:
            for line in f:
                if "New client connected" in line and " as " in line:
                    ts = int(line.split(":", 1)[0])
                    cid = line.split(" as ", 1)[1].split()[0]
                    out.append((ts, cid))
        return out


class CpuSampler(threading.Thread):
    """utime+stime of PID every 100 ms; peak() is the busiest 1 s window."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []  # (monotonic, cpu seconds)
        self.pid = None
        self.running = True

    def run(self):
        while self.running:
            pid = self.pid
            if pid:
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    self.samples.append((time.monotonic(),
                                         (int(fields[11]) + int(fields[12])) / HZ, pid))
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    pass
            time.sleep(0.1)

    def peak(self, since):
        s = [x for x in self.samples if x[0] >= since]
        best = 0.0
        j = 0
        for i in range(len(s)):
            while s[i][0] - s[j][0] > 1.0:
                j += 1
            if s[i][2] == s[j][2] and s[i][0] > s[j][0]:
                best = max(best, (s[i][1] - s[j][1]) / (s[i][0] - s[j][0]))
        return best * 100


def gw_ini(tmp, i, broker_port, sim_port, unit):
    return f"""[gateway]
id = g{i:04d}
state_dir = {tmp.path}/g{i:04d}
stats_interval_s = 0
log_level = warning

[mqtt]
uri = tcp://127.0.0.1:{broker_port}
topic_prefix = fleet
keepalive_s = 10
telemetry_qos = 1

[bus:b]
type = tcp
host = 127.0.0.1
port = {sim_port}

[device:d]
bus = b
unit = {unit}
interval_ms = 1000

[point:d.n]
register = holding:1
"""


def main():
    build, n = sys.argv[1], int(sys.argv[2])
    steady = float(sys.argv[3]) if len(sys.argv) > 3 else 15
    down = float(sys.argv[4]) if len(sys.argv) > 4 else 5
    ebin = os.path.join(build, "gateway", "edgeferry")
    sim_bin = os.path.join(build, "tests", "modbus_sim", "modbus_sim")
    tmp = ef.TempDir("ef-fleet-")
    broker = Broker(tmp)
    sims, gws, sub = [], [], None
    cpu = CpuSampler()
    cpu.start()
    msgs = []
    try:
        broker.start()
        cpu.pid = broker.p.pid
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port),
                                "-c", "-i", "fleet-sub", "-q", "1", "-F", "%t\t%p",
                                "-t", "fleet/+/telemetry/+"],
                               stdout=subprocess.PIPE, text=True, start_new_session=True)

        def read():
            for line in sub.stdout:
                msgs.append(line.rstrip("\n").split("\t", 1))
        threading.Thread(target=read, daemon=True).start()
        time.sleep(1)
        for k in range((n + UNITS_PER_SIM - 1) // UNITS_PER_SIM):
            units = range(1, min(UNITS_PER_SIM, n - k * UNITS_PER_SIM) + 1)
            sims.append(wl.start_sim(sim_bin, units, tmp, f"sim{k}"))
        for i in range(n):
            sp, port = sims[i // UNITS_PER_SIM]
            path = tmp.file(f"g{i:04d}.ini", gw_ini(tmp, i, broker.port, port,
                                                     i % UNITS_PER_SIM + 1))
            gws.append(subprocess.Popen([ebin, "-c", path], stdout=subprocess.DEVNULL,
                                        stderr=open(tmp.file(f"g{i:04d}.log"), "ab"),
                                        start_new_session=True))
        ids = {f"edgeferry-g{i:04d}" for i in range(n)}
        ef.wait_until(lambda: ids <= {c for _, c in broker.connects()}, 300,
                      step=0.5, what=f"all {n} gateways connected")
        print(f"{n} gateways connected; steady for {steady:.0f} s", flush=True)
        t_steady = time.monotonic()
        time.sleep(steady)
        cpu_steady = cpu.peak(t_steady)

        before = len(broker.connects())
        load = os.getloadavg()[0]
        broker.stop()
        t_stop = time.time()
        time.sleep(down)
        broker.start()
        t_restart, t_restart_mono = time.time(), time.monotonic()
        cpu.pid = broker.p.pid

        def back():
            return {c for _, c in broker.connects()[before:]}
        ef.wait_until(lambda: ids <= back(), 300, step=0.2, what="all gateways back")
        t_all = time.time()
        time.sleep(steady)
        cpu_peak = cpu.peak(t_restart_mono)
        for g in gws:
            g.send_signal(signal.SIGTERM)
        for g in gws:
            g.wait(60)
        time.sleep(3)  # the subscriber drains

        per_sec = {}
        for ts, c in broker.connects()[before:]:
            if c in ids:
                per_sec[ts] = per_sec.get(ts, 0) + 1
        first = min(per_sec)
        print(f"{n} gateways; broker down {t_restart - t_stop:.1f} s (SIGTERM, then started "
              f"again); load average before: {load:.2f}")
        print("gateway connections per second after the restart (s: count):")
        print("  " + ", ".join(f"{ts - int(t_restart):+d}: {per_sec[ts]}"
                               for ts in sorted(per_sec)))
        print(f"all {n} back {t_all - t_restart:.1f} s after the restart "
              f"(first at {first - int(t_restart):+d} s, last at "
              f"{max(per_sec) - int(t_restart):+d} s; 1 s log resolution)")
        print(f"broker CPU, busiest 1 s: {cpu_peak:.0f} % of one core after the restart, "
              f"{cpu_steady:.0f} % in steady state")
        seen = {}
        for topic, payload in msgs:
            gid = topic.split("/")[1]
            try:
                seen.setdefault(gid, []).append(json.loads(payload)["values"]["n"])
            except (ValueError, KeyError):
                pass
        lost = dup = total = 0
        for gid, vals in seen.items():
            s = set(vals)
            total += len(s)
            dup += len(vals) - len(s)
            lost += len(set(range(min(s), max(s) + 1)) - s)
        print(f"telemetry: {total} readings from {len(seen)} gateways, {lost} lost, "
              f"{dup} received twice (QoS 1)")
        return 0 if lost == 0 and len(seen) == n else 1
    finally:
        cpu.running = False
        for g in gws:
            if g.poll() is None:
                g.kill()
        for p, _ in sims:
            wl.stop_sim(p)
        if sub and sub.poll() is None:
            sub.terminate()
        broker.stop()
        if not os.environ.get("EF_KEEP_TMP"):
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())

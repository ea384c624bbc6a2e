#!/usr/bin/env python3
"""Soak test of edgeferry (a command, not part of CI).

Workload: 10 Modbus TCP devices x 100 points every 100 ms on two simulator
processes (one bus each), a streaming NMEA sensor and a queried kv sensor on
pseudo-terminals, QoS 1 telemetry through a cuttable TCP proxy to a local
mosquitto. Every OUTAGE_EVERY_S the proxy cuts the link for 20..60 s
(alternately silently dropping and resetting); every RESTART_EVERY_S the
gateway is stopped (SIGTERM, every third time SIGKILL) and started again on
the same queue directory.

Loss detection: holding 1 of each simulated unit counts the requests the
unit received, and each poll is one request, so every telemetry message of a
device carries the next integer. A counter value between the first and last
one seen that never arrived is a lost reading set (one poll); duplicates are
at-least-once redeliveries. The subscriber is connected to the broker
directly, never through the proxy.

Every SAMPLE_S the gateway's VmRSS/VmHWM and utime+stime are sampled.
usage: soak.py BUILD_DIR MINUTES OUT_DIR
"""
import json
import os
import random
import signal
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "gateway"))
import workload as wl  # noqa: E402

ef = wl.ef
SAMPLE_S = 5
OUTAGE_EVERY_S = 180
RESTART_EVERY_S = 420
NPOINTS = 100
INTERVAL_MS = 100
SIMS, UNITS = 2, 5


class Tracker:
    """Per-device counter values seen, with the payload ts of each."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = {}        # dev -> {counter: ts_ms}
        self.dups = 0
        self.arrivals = {}    # whole second (monotonic) -> telemetry messages

    def __call__(self, dev, payload, now):
        sec = int(now)
        m = wl.COUNTER_RE.search(payload)
        t = wl.TS_RE.search(payload)
        with self.lock:
            self.arrivals[sec] = self.arrivals.get(sec, 0) + 1
            if not m or not t:
                return
            d = self.seen.setdefault(dev, {})
            c = int(m.group(1))
            if c in d:
                self.dups += 1
            else:
                d[c] = int(t.group(1))


def flatten(obj, prefix=""):
    out = {}
    for k, v in obj.items():
        if isinstance(v, dict):
            out.update(flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def stats_per_run(stats):
    """The last stats message of each gateway process (uptime restarts)."""
    runs, last, prev_up = [], None, None
    for _, s in stats:
        f = flatten(s)
        up = f.get("uptime_s", 0)
        if prev_up is not None and up < prev_up:
            runs.append(last)
        last, prev_up = f, up
    if last:
        runs.append(last)
    return runs


class Soak:
    def __init__(self, build, minutes, out):
        self.build, self.minutes, self.out = build, minutes, out
        self.tmp = ef.TempDir("ef-soak-")
        self.events = []      # (wall time, monotonic, text)
        self.samples = []     # (minute, rss_kib, hwm_kib, threads, run)
        self.cpu_runs = []    # CPU seconds of each finished gateway run
        self.disrupted = []   # (mono start, mono end) of outages and restarts
        self.run_cpu = 0.0
        self.rng = random.Random(9)

    def log(self, text):
        self.events.append((time.time(), time.monotonic(), text))
        print(f"[{(time.monotonic() - self.t0) / 60:6.2f} min] {text}", flush=True)

    def start(self):
        tmp = self.tmp
        self.broker = ef.Broker(tmp)
        self.proxy = ef.TcpProxy(self.broker.port)
        sim_bin = os.path.join(self.build, "tests/modbus_sim/modbus_sim")
        self.sims = []
        ports = []
        for b in range(SIMS):
            p, port = wl.start_sim(sim_bin, range(1, UNITS + 1), tmp, f"sim{b}")
            self.sims.append(p)
            ports.append(port)
        ss = os.path.join(wl.ROOT, "tests/serial_sim/serial_sim.py")
        self.gps_link, self.probe_link = tmp.file("gps"), tmp.file("probe")
        self.probe_stats = tmp.file("probe.stats")
        self.serial = [
            ef.Proc([sys.executable, ss, "--link", self.gps_link, "--mode", "nmea",
                     "--period-ms", "1000"], tmp.file("gps.log")),
            ef.Proc([sys.executable, ss, "--link", self.probe_link, "--mode", "kv",
                     "--query", "R\\r", "--stats", self.probe_stats], tmp.file("probe.log"))]
        for s in self.serial:
            s.wait_output("ready")
        extra = (f"[serial:gps]\npath = {self.gps_link}\nformat = nmea\ninterval_ms = 1000\n\n"
                 f"[serial:probe]\npath = {self.probe_link}\nformat = kv\nquery = R\\r\n"
                 f"interval_ms = 1000\n")
        ini = wl.make_ini("soak", self.proxy.port, tmp.file("state"), ports, UNITS, NPOINTS,
                          INTERVAL_MS, stats_s=5, qos=1, keepalive_s=10, extra=extra,
                          alarm_dev="d0_1")
        os.makedirs(tmp.file("state"), exist_ok=True)
        self.tracker = Tracker()
        self.sub = wl.LeanSub(self.broker.port, "edgeferry/soak", tmp, qos=1,
                              on_telemetry=self.tracker)
        os.environ["EF_BIN"] = os.path.join(self.build, "gateway/edgeferry")
        self.gw = ef.Gateway(tmp, ini, name="soak")
        self.gw.start()

    def sample(self, minute):
        pid = self.gw.proc.pid
        try:
            st = wl.proc_status(pid)
            self.run_cpu = wl.proc_cpu_s(pid)
        except (OSError, IndexError, ValueError):
            return
        if st.get("VmRSS", 0) < 256:   # sampled between fork and exec
            return
        self.samples.append((minute, st["VmRSS"], st["VmHWM"], st.get("Threads", 0),
                             self.gw.runs, self.run_cpu))

    def restart(self, kill):
        t = time.monotonic()
        self.sample((t - self.t0) / 60)
        self.cpu_runs.append(self.run_cpu)
        self.run_cpu = 0.0
        sig = signal.SIGKILL if kill else signal.SIGTERM
        self.log(f"gateway restart ({'SIGKILL' if kill else 'SIGTERM'}), run {self.gw.runs}")
        rc = self.gw.stop(sig)
        if not kill and rc != 0:
            self.log(f"gateway exited {rc} on SIGTERM")
        self.gw.start()
        self.disrupted.append((t, time.monotonic()))

    def loop(self):
        self.t0 = time.monotonic()
        end = self.t0 + self.minutes * 60
        next_sample = self.t0
        next_outage = self.t0 + 120
        next_restart = self.t0 + 210
        outage_end, outage_n, restart_n = None, 0, 0
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_sample:
                self.sample((now - self.t0) / 60)
                next_sample += SAMPLE_S
            if outage_end is None and now >= next_outage and now + 20 < end:
                mode = "drop" if outage_n % 2 == 0 else "reset"
                dur = self.rng.randint(20, 60)
                self.proxy.set_mode(mode)
                outage_end = now + dur
                self.outage_start = now
                outage_n += 1
                self.log(f"link cut ({mode}) for {dur} s")
            if outage_end is not None and now >= outage_end:
                self.proxy.set_mode("pass")
                self.disrupted.append((self.outage_start, now))
                outage_end = None
                next_outage = now + OUTAGE_EVERY_S
                self.log("link restored")
            if now >= next_restart and now + 30 < end:
                restart_n += 1
                self.restart(kill=(restart_n % 3 == 0))
                next_restart = now + RESTART_EVERY_S
            if not self.gw.proc.alive():
                self.log(f"gateway died by itself (rc {self.gw.proc.p.returncode})")
                self.cpu_runs.append(self.run_cpu)
                self.gw.start()
            time.sleep(0.2)
        if outage_end is not None:
            self.proxy.set_mode("pass")
            self.disrupted.append((self.outage_start, time.monotonic()))
            self.log("link restored")

    def finish(self):
        # let the backlog drain, then stop everything gracefully
        self.log("draining: waiting for the queue to empty")
        ef.wait_until(lambda: self.drained(), 180, step=1, what="queue drained")
        self.sample((time.monotonic() - self.t0) / 60)
        self.cpu_runs.append(self.run_cpu)
        rc = self.gw.stop()
        self.log(f"gateway stopped, rc {rc}")
        time.sleep(2)
        for p in self.sims:
            wl.stop_sim(p)
        for s in self.serial:
            s.stop()
        self.sub.stop()
        self.proxy.stop()
        self.broker.stop()

    def drained(self):
        s = self.sub.last_stats()
        if not s:
            return False
        f = flatten(s)
        return f.get("queue.memory_msgs", 1) == 0 and f.get("queue.disk_msgs", 1) == 0


def cpu_share(sk, lo_min, hi_min, which=None):
    """CPU % of one CPU between consecutive samples of the same gateway run
    whose interval starts in [LO_MIN, HI_MIN); WHICH 'calm' or 'disrupted'
    keeps only intervals outside or inside an outage/restart (+60 s)."""
    cpu = secs = 0.0
    for a, b in zip(sk.samples, sk.samples[1:]):
        if a[4] != b[4] or not lo_min <= a[0] < hi_min:
            continue
        t = sk.t0 + (a[0] + b[0]) / 2 * 60
        hit = any(s <= t <= e + 60 for s, e in sk.disrupted)
        if which == "calm" and hit or which == "disrupted" and not hit:
            continue
        cpu += b[5] - a[5]
        secs += (b[0] - a[0]) * 60
    return cpu / secs * 100 if secs else 0.0


def report(sk):
    lines = []
    p = lines.append
    p(f"## Soak: {sk.minutes} minutes, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    p("")
    p(f"Workload: {SIMS * UNITS} Modbus TCP devices x {NPOINTS} points every {INTERVAL_MS} ms "
      f"on {SIMS} simulators, NMEA streaming sensor (1 s), kv queried sensor (1 s), "
      "telemetry QoS 1 through a TCP proxy to mosquitto, stats every 5 s.")
    p("")
    p("Events:")
    for _, mono, text in sk.events:
        p(f"- {(mono - sk.t0) / 60:6.2f} min: {text}")
    p("")
    p("RSS over time (KiB, sampled every 5 s):")
    p("")
    p("| window (min) | samples | min | median | max | VmHWM max | threads | CPU % |")
    p("|---|---|---|---|---|---|---|---|")
    w = 0
    while True:
        win = [s for s in sk.samples if w * 5 <= s[0] < (w + 1) * 5]
        if not win:
            if w * 5 > sk.minutes:
                break
            w += 1
            continue
        rss = [s[1] for s in win]
        p(f"| {w * 5}-{w * 5 + 5} | {len(win)} | {min(rss)} | {int(statistics.median(rss))} | "
          f"{max(rss)} | {max(s[2] for s in win)} | {max(s[3] for s in win)} | "
          f"{cpu_share(sk, w * 5, w * 5 + 5):.1f} |")
        w += 1
    p("")
    p(f"CPU of the gateway (% of one CPU) outside outages and restarts: "
      f"{cpu_share(sk, 0, 1e9, 'calm'):.2f} %; during an outage or within 60 s after one: "
      f"{cpu_share(sk, 0, 1e9, 'disrupted'):.2f} %")
    runs = stats_per_run(sk.sub.stats)
    tot = {}
    for r in runs:
        for k, v in r.items():
            if isinstance(v, (int, float)) and k not in ("ts", "uptime_s") \
                    and not k.startswith("queue.memory") and not k.startswith("queue.disk_"):
                tot[k] = tot.get(k, 0) + v
    cpu = sum(sk.cpu_runs)
    snap = sk.sub.snapshot()
    readings = tot.get("readings", 0)
    p("")
    p(f"Gateway runs: {sk.gw.runs}; CPU (utime+stime, all runs): {cpu:.1f} s")
    p(f"Readings (sum of each run's last stats): {readings}; "
      f"CPU per reading: {cpu / readings * 1e6:.3f} us" if readings else "no readings")
    p(f"Received by the subscriber: {snap['telemetry']} telemetry messages, "
      f"{snap['readings']} readings, {snap['wire_bytes']} PUBLISH bytes "
      f"({snap['wire_bytes'] / max(snap['readings'], 1):.2f} B/reading)")
    keys = ["samples", "telemetry_queued", "alarms_queued", "published", "resent",
            "connects", "reconnects", "connect_failures", "connection_lost", "queue.spilled",
            "queue.recovered", "queue.corrupt_records", "queue.disk_errors"]
    p("Stats totals over runs: " + ", ".join(f"{k}={tot.get(k, 0)}" for k in keys))
    drops = {k: v for k, v in tot.items() if k.startswith("dropped.")}
    p("Drops counted in stats: " + ", ".join(f"{k}={v}" for k, v in sorted(drops.items())))
    dev = {}
    for k, v in tot.items():
        if k.startswith("devices.") and k.rsplit(".", 1)[1] in (
                "skipped", "timeouts", "errors", "polls_failed", "points_failed",
                "lines_rejected", "reopens"):
            name = k.rsplit(".", 1)[1]
            dev[name] = dev.get(name, 0) + v
    p("Device counters (all devices, all runs): "
      + ", ".join(f"{k}={v}" for k, v in sorted(dev.items())))
    kinds = {}
    for _, topic, payload in sk.sub.alarms:
        try:
            a = json.loads(payload)
            key = f"{a.get('kind')}/{a.get('state')}"
        except ValueError:
            key = "unparsed"
        kinds[key] = kinds.get(key, 0) + 1
    p(f"Alarm messages received: {len(sk.sub.alarms)} "
      + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    # losses
    kills = [wall for wall, _, text in sk.events if "SIGKILL" in text]
    lost_total = lost_near_kill = 0
    gap_list = []
    with sk.tracker.lock:
        for d, seen in sorted(sk.tracker.seen.items()):
            if not seen or not d.startswith("d"):
                continue
            lo, hi = min(seen), max(seen)
            for c in range(lo, hi + 1):
                if c in seen:
                    continue
                lost_total += 1
                # time of the loss: the ts of the nearest counter value seen before it
                k = c - 1
                while k not in seen:
                    k -= 1
                ts = seen[k] / 1000
                near = any(abs(ts - kw) < 15 for kw in kills)
                lost_near_kill += near
                gap_list.append((d, c, ts, near))
        dups = sk.tracker.dups
        seen_n = sum(len(v) for k, v in sk.tracker.seen.items() if k.startswith("d"))
    p(f"Modbus polls delivered (distinct counter values): {seen_n}; "
      f"lost polls: {lost_total} ({lost_near_kill} within 15 s of a SIGKILL); "
      f"duplicates (at-least-once redelivery): {dups}")
    other = [g for g in gap_list if not g[3]]
    if other:
        p("Losses not next to a SIGKILL (device, counter, time):")
        for d, c, ts, _ in other[:20]:
            p(f"- {d} {c} {time.strftime('%H:%M:%S', time.gmtime(ts))}")
    # silences
    with sk.tracker.lock:
        secs = sorted(sk.tracker.arrivals)
    silences = []
    for a, b in zip(secs, secs[1:]):
        if b - a > 3:
            explained = any(s - 2 <= b and a <= e + 60 for s, e in sk.disrupted)
            silences.append((a, b, explained))
    p(f"Silences over 3 s in telemetry arrivals: {len(silences)}, of which not during or "
      f"within 60 s after an outage/restart: {sum(1 for s in silences if not s[2])}")
    for a, b, ex in silences:
        p(f"- {(a - sk.t0) / 60:6.2f} min, {b - a} s{'' if ex else '  UNEXPLAINED'}")
    return "\n".join(lines)


def main():
    build, minutes, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    sk = Soak(build, minutes, out)
    try:
        sk.start()
        sk.loop()
        sk.finish()
    finally:
        for p in getattr(sk, "sims", []):
            wl.stop_sim(p)
        for s in getattr(sk, "serial", []):
            s.stop()
        if getattr(sk, "gw", None) and sk.gw.proc:
            sk.gw.stop()
        for name in ("sub", "proxy", "broker"):
            if getattr(sk, name, None):
                getattr(sk, name).stop()
    text = report(sk)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "samples.json"), "w") as f:
        json.dump({"samples": sk.samples, "cpu_runs": sk.cpu_runs}, f)
    print(text)
    sk.tmp.cleanup() if not os.environ.get("EF_KEEP") else None


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""edgeferry end-to-end benchmark (issue 9): the real binary polling the
Modbus simulator over TCP and publishing to a local mosquitto.

Workload "steady": 10 devices x 100 uint16 points every 100 ms (10,000
readings/s), one bus, one simulator process, telemetry QoS 0, stats every 1 s.

Figures (each part can be run alone: bench.py BUILD PART...):
  steady    CPU per reading: utime+stime from /proc/PID/stat (10 ms ticks) and
            the sum of the threads' /proc/PID/task/*/schedstat run time (ns)
            over WINDOW_S after WARMUP_S, divided by the readings the gateway
            counted in that window (its stats `readings`); RSS steady (VmRSS at
            the end, with RssAnon/RssFile) and peak (VmHWM); threads; MQTT
            PUBLISH bytes per reading from what a subscriber received.
  arenas    the same with MALLOC_ARENA_MAX unset, 1 and 2 (RSS factor).
  startup   exec to the first telemetry message at a subscriber (median of
            RUNS), and to the first stats/birth.
  callgrind instructions per reading: the gateway runs under callgrind; after
            a warm-up the counters are zeroed (callgrind_control -z), and
            after a window dumped (callgrind_control -d); Ir of that dump /
            readings published in it. The dump is annotated (inclusive).
  steady-scaled, callgrind-scaled
            the same with points 3..99 scaled by 0.1 (decimal JSON numbers).
  perf      a perf cpu-clock sampling profile of "steady", kernel included.
  maxrate   raises the load (devices x 125 points every 10 ms, on several
            simulators/buses) until the gateway falls behind: any skipped
            poll cycle, a queue that grows, or published readings below 98 %
            of the readings due.
  sparkplug "steady" with JSON telemetry, then with [sparkplug] enabled (DDATA
            by alias, per-metric timestamps), in the same run: MQTT bytes and
            CPU per reading of both.
  floor     bench/floor/bench_floor: the steady workload's Modbus reads and
            MQTT publishes made by libmodbus and paho alone (reads only,
            publishes only, both), then "steady" on the gateway, for the
            share of the CPU per reading that the libraries take anyway.
"""
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import workload as wl  # noqa: E402

ef = wl.ef
WARMUP_S = float(os.environ.get("EF_BENCH_WARMUP_S", 3))
WINDOW_S = float(os.environ.get("EF_BENCH_WINDOW_S", 20))


def sched_ns(pid):
    tot = 0
    for p in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(p) as f:
                tot += int(f.read().split()[0])
        except (OSError, ValueError):
            pass
    return tot


def cpu_split(pid):
    """(utime, stime) of PID in seconds, and the voluntary + involuntary
    context switches summed over its threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    ctx = 0
    for p in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(p) as f:
                for line in f:
                    if "ctxt_switches" in line:
                        ctx += int(line.split()[1])
        except (OSError, ValueError):
            pass
    return int(fields[11]) / tck, int(fields[12]) / tck, ctx


def threads(pid):
    """{tid: (name, run ns, voluntary, involuntary context switches)}."""
    out = {}
    for d in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(f"{d}/comm") as f:
                name = f.read().strip()
            with open(f"{d}/schedstat") as f:
                ns = int(f.read().split()[0])
            vol = inv = 0
            with open(f"{d}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vol = int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        inv = int(line.split()[1])
            out[os.path.basename(d)] = (name, ns, vol, inv)
        except (OSError, ValueError):
            pass
    return out


def thread_table(t0, t1, messages, readings):
    """Lines: per thread, run time per reading and switches per message."""
    lines = []
    for tid, (name, ns, vol, inv) in sorted(t1.items(), key=lambda kv: kv[1][0]):
        _, ns0, vol0, inv0 = t0.get(tid, (name, 0, 0, 0))
        lines.append(f"  thread {name:<16} {(ns - ns0) / 1e3 / max(readings, 1):.3f} us/reading, "
                     f"{(vol - vol0) / max(messages, 1):.2f} voluntary + "
                     f"{(inv - inv0) / max(messages, 1):.2f} involuntary switches/message")
    return lines


def status_full(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "Threads", "VmSize"):
                out[k] = int(v.split()[0])
    return out


def flat_stats(s):
    out = {}
    for k, v in s.items():
        if isinstance(v, dict):
            for k2, v2 in flat_stats(v).items():
                out[f"{k}.{k2}"] = v2
        else:
            out[k] = v
    return out


class Rig:
    """Broker, simulators, subscriber and a gateway on a generated config."""

    def __init__(self, build, sims=1, units=10, npoints=100, interval_ms=100, qos=0,
                 env=None, wrapper=None, memory_kb=256, scale=None, sparkplug=False):
        self.build = build
        self.tmp = ef.TempDir("ef-bench-")
        self.broker = ef.Broker(self.tmp)
        sim_bin = os.path.join(build, "tests/modbus_sim/modbus_sim")
        self.sims, ports = [], []
        for b in range(sims):
            p, port = wl.start_sim(sim_bin, range(1, units + 1), self.tmp, f"sim{b}")
            self.sims.append(p)
            ports.append(port)
        state = self.tmp.file("state")
        os.makedirs(state)
        self.ini = wl.make_ini("bench", self.broker.port, state, ports, units, npoints,
                               interval_ms, stats_s=1, qos=qos, memory_kb=memory_kb,
                               scale=scale,
                               extra="[sparkplug]\nenabled = true\ngroup_id = bench\n"
                               if sparkplug else "")
        self.qos = qos
        self.sub = wl.LeanSub(self.broker.port, "edgeferry/bench", self.tmp, qos=qos,
                              sparkplug=sparkplug)
        os.environ["EF_BIN"] = os.path.join(build, "gateway/edgeferry")
        self.gw = ef.Gateway(self.tmp, self.ini, name="bench", extra_env=env, wrapper=wrapper)
        self.expected_rate = sims * units * npoints * 1000 / interval_ms

    def start(self):
        self.t_exec = time.monotonic()
        self.gw.start()
        return self

    def stats_after(self, t):
        """The first stats message that arrived after monotonic time T."""
        def find():
            with self.sub.lock:
                for at, s in self.sub.stats:
                    if at > t:
                        return flat_stats(s)
            return None
        return ef.wait_until(find, 10, step=0.05, what="a stats message")

    def stop(self):
        if self.gw.proc:
            self.gw.stop()
        for p in self.sims:
            wl.stop_sim(p)
        self.sub.stop()
        self.broker.stop()
        self.tmp.cleanup()


def measure_window(rig, window=WINDOW_S):
    """CPU, readings and bytes over WINDOW seconds, bounded by two stats
    messages so the readings come from the gateway's own counter."""
    pid = rig.gw.proc.pid
    s0 = rig.stats_after(time.monotonic())
    c0, n0, sub0 = wl.proc_cpu_s(pid), sched_ns(pid), rig.sub.snapshot()
    u0, k0, x0 = cpu_split(pid)
    th0 = threads(pid)
    t0 = time.monotonic()
    time.sleep(window)
    s1 = rig.stats_after(time.monotonic())
    c1, n1, sub1 = wl.proc_cpu_s(pid), sched_ns(pid), rig.sub.snapshot()
    u1, k1, x1 = cpu_split(pid)
    th1 = threads(pid)
    dt = time.monotonic() - t0
    st = status_full(pid)
    readings = s1["readings"] - s0["readings"]
    skipped = sum(v for k, v in s1.items() if k.endswith(".skipped")) - \
        sum(v for k, v in s0.items() if k.endswith(".skipped"))
    sub_readings = sub1["readings"] - sub0["readings"]
    return {
        "seconds": dt, "readings": readings, "rate": readings / dt,
        "cpu_ticks_us_per_reading": (c1 - c0) * 1e6 / max(readings, 1),
        "cpu_sched_us_per_reading": (n1 - n0) / 1e3 / max(readings, 1),
        "cpu_share": (n1 - n0) / 1e9 / dt,
        "user_us_per_reading": (u1 - u0) * 1e6 / max(readings, 1),
        "sys_us_per_reading": (k1 - k0) * 1e6 / max(readings, 1),
        "ctx_per_message": (x1 - x0) / max(s1["published"] - s0["published"], 1),
        "sub_readings": sub_readings, "sub_rate": sub_readings / dt,
        "bytes_per_reading": (sub1["wire_bytes"] - sub0["wire_bytes"]) / max(sub_readings, 1),
        "bytes_per_message": (sub1["wire_bytes"] - sub0["wire_bytes"])
        / max(sub1["telemetry"] - sub0["telemetry"], 1),
        "skipped": skipped,
        "queue_msgs_start": s0.get("queue.memory_msgs", 0) + s0.get("queue.disk_msgs", 0),
        "queue_msgs_end": s1.get("queue.memory_msgs", 0) + s1.get("queue.disk_msgs", 0),
        "published": s1["published"] - s0["published"],
        "spilled": s1.get("queue.spilled", 0) - s0.get("queue.spilled", 0),
        "status": st,
        "threads": thread_table(th0, th1, s1["published"] - s0["published"], readings),
    }


def steady(build, env=None, label="default", scale=None, sparkplug=False):
    rig = Rig(build, env=env, scale=scale, sparkplug=sparkplug).start()
    try:
        rig.sub_wait_first = ef.wait_until(lambda: rig.sub.snapshot()["first_t"], 10,
                                           what="first telemetry")
        time.sleep(WARMUP_S)
        m = measure_window(rig)
    finally:
        rig.stop()
    st = m["status"]
    print(f"[{label}] {m['rate']:.0f} readings/s over {m['seconds']:.1f} s "
          f"(subscriber {m['sub_rate']:.0f}/s); CPU per reading "
          f"{m['cpu_sched_us_per_reading']:.3f} us (schedstat), "
          f"{m['cpu_ticks_us_per_reading']:.3f} us (/proc stat ticks: user "
          f"{m['user_us_per_reading']:.3f} + system {m['sys_us_per_reading']:.3f}); CPU share "
          f"{m['cpu_share'] * 100:.2f} %; {m['ctx_per_message']:.1f} context switches per "
          f"published message", flush=True)
    for line in m["threads"]:
        print(f"[{label}]{line}", flush=True)
    print(f"[{label}] RSS steady {st['VmRSS']} KiB (anon {st.get('RssAnon')}, file "
          f"{st.get('RssFile')}, shmem {st.get('RssShmem')}), peak VmHWM {st['VmHWM']} KiB, "
          f"VmSize {st['VmSize']} KiB, threads {st['Threads']}", flush=True)
    print(f"[{label}] MQTT {m['bytes_per_reading']:.2f} bytes/reading "
          f"({m['bytes_per_message']:.0f} bytes per PUBLISH); skipped {m['skipped']}, "
          f"queue {m['queue_msgs_start']} -> {m['queue_msgs_end']} msgs", flush=True)
    return m


def arenas(build):
    out = {}
    for v in (None, "1", "2"):
        env = {"MALLOC_ARENA_MAX": v} if v else None
        out[v or "unset"] = steady(build, env=env, label=f"MALLOC_ARENA_MAX={v or 'unset'}")
    return out


def startup(build, runs=int(os.environ.get("EF_BENCH_STARTUP_RUNS", 20))):
    """Exec (Popen) to: the "connected" line in the gateway's log (polled
    every 1 ms), the first telemetry message at the subscriber, the first
    stats message (1 s period)."""
    firsts, conns, stats_first = [], [], []
    log_lines = []
    for _ in range(runs):
        rig = Rig(build)
        try:
            rig.start()
            c = ef.wait_until(lambda: "connected to" in rig.gw.output() and time.monotonic(),
                              10, step=0.001, what="connected")
            conns.append(c - rig.t_exec)
            t = ef.wait_until(lambda: rig.sub.snapshot()["first_t"], 10, what="first telemetry")
            firsts.append(t - rig.t_exec)
            s = ef.wait_until(lambda: rig.sub.stats and rig.sub.stats[0][0], 10, what="stats")
            stats_first.append(s - rig.t_exec)
            log_lines = rig.gw.output().splitlines()[:3]
        finally:
            rig.stop()

    def ms(v):
        return f"median {statistics.median(v) * 1000:.1f} ms (min {min(v) * 1000:.1f}, " \
               f"max {max(v) * 1000:.1f})"
    print(f"start-up over {runs} runs: exec -> first telemetry at the subscriber {ms(firsts)}; "
          f"exec -> 'connected' in the log {ms(conns)}; exec -> first stats {ms(stats_first)}",
          flush=True)
    slow = sum(1 for v in firsts if v >= 0.1)
    print(f"  first telemetry at 100 ms or later: {slow} of {runs} runs", flush=True)
    print("  gateway log of the last run: " + " | ".join(log_lines), flush=True)
    return firsts


def callgrind(build, window=20, scale=None):
    outdir = os.environ.get("EF_CALLGRIND_DIR", "/tmp/ef-bench-callgrind")
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    out = os.path.join(outdir, "callgrind.out")
    wrapper = ["valgrind", "--tool=callgrind", "--dump-instr=no",
               f"--callgrind-out-file={out}.%p", f"--log-file={outdir}/vg.log"]
    rig = Rig(build, wrapper=wrapper, scale=scale).start()
    try:
        ef.wait_until(lambda: rig.sub.snapshot()["first_t"], 60, what="first telemetry")
        time.sleep(5)
        pid = rig.gw.proc.pid
        s0 = rig.stats_after(time.monotonic())
        subprocess.run(["callgrind_control", "-z", str(pid)], check=True,
                       capture_output=True)
        s0b = rig.stats_after(time.monotonic())
        time.sleep(window)
        s1 = rig.stats_after(time.monotonic())
        subprocess.run(["callgrind_control", "-d", "window", str(pid)], check=True,
                       capture_output=True)
        s1b = rig.stats_after(time.monotonic())
        m_skipped = sum(v for k, v in s1b.items() if k.endswith(".skipped"))
    finally:
        rig.stop()
    # readings in the window: between the zero and the dump; the stats
    # before and after each bound them, take the mean of the two bounds
    lo = s1["readings"] - s0b["readings"]
    hi = s1b["readings"] - s0["readings"]
    readings = (lo + hi) / 2
    dumps = sorted(glob.glob(out + ".*"), key=os.path.getmtime)
    dump = [d for d in dumps if re.search(r"\.\d+\.\d+$", d) or d.endswith(".1")]
    dump = dump[0] if dump else dumps[0]
    ir = None
    with open(dump) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                ir = int(line.split()[1])
    print(f"callgrind: {ir} instructions over {readings:.0f} readings (bounds {lo}..{hi}) "
          f"= {ir / readings:.0f} instructions per reading; skipped cycles under callgrind "
          f"{m_skipped}; dump {dump}", flush=True)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", dump],
                         capture_output=True, text=True).stdout
    with open(os.path.join(outdir, "annotate-inclusive.txt"), "w") as f:
        f.write(ann)
    ann_self = subprocess.run(["callgrind_annotate", "--threshold=100", dump], capture_output=True, text=True).stdout
    with open(os.path.join(outdir, "annotate-self.txt"), "w") as f:
        f.write(ann_self)
    for title, text in (("inclusive", ann), ("self", ann_self)):
        print(f"top functions ({title}), instructions per reading:")
        n = 0
        for line in text.splitlines():
            mm = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S.*)", line)
            if not mm:
                continue
            cost = int(mm.group(1).replace(",", ""))
            if cost == ir or "clone.S:clone" in line or "start_thread" in line:
                continue
            print(f"  {cost / readings:9.1f}  {mm.group(2):>5}%  {mm.group(3)[:110]}")
            n += 1
            if n >= 30:
                break
    return ir / readings


def perf_profile(build, seconds=15):
    """Sampling profile of the steady workload (perf, cpu-clock: the
    machine may have no hardware counters), kernel included: shares by
    binary, by thread and the top symbols."""
    data = os.path.join(os.environ.get("TMPDIR", "/tmp"), "ef-bench-perf.data")
    rig = Rig(build).start()
    try:
        ef.wait_until(lambda: rig.sub.snapshot()["first_t"], 10, what="first telemetry")
        time.sleep(WARMUP_S)
        r = subprocess.run(["perf", "record", "-F", "4999", "-e", "cpu-clock", "-g", "-o", data,
                            "-p", str(rig.gw.proc.pid), "--", "sleep", str(seconds)],
                           capture_output=True, text=True)
    finally:
        rig.stop()
    if r.returncode != 0:
        print(f"perf: not available ({r.stderr.strip()[:200]})")
        return
    for sort, n in (("dso", 12), ("comm", 6), ("dso,sym", 25)):
        out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", sort,
                              "--stdio", "-g", "none"], capture_output=True, text=True).stdout
        rows = [ln for ln in out.splitlines() if "%" in ln and not ln.startswith("#")]
        print(f"perf cpu-clock samples by {sort}:")
        for ln in rows[:n]:
            print("  " + ln.strip())


def maxrate(build, levels=None, window=10):
    """Each level: (simulators, units per simulator); 125 points every 10 ms."""
    # more buses rather than more devices per bus: one bus polls its devices
    # one after the other, so 8 devices at 10 ms leave 1.25 ms per request
    levels = levels or [(1, 2), (2, 4), (4, 4), (4, 6), (8, 4), (8, 5), (8, 6), (12, 5),
                        (12, 6), (16, 6), (16, 8), (20, 8)]
    best = None
    for sims, units in levels:
        rig = Rig(build, sims=sims, units=units, npoints=125, interval_ms=10).start()
        try:
            ef.wait_until(lambda: rig.sub.snapshot()["first_t"], 10, what="first telemetry")
            time.sleep(WARMUP_S)
            m = measure_window(rig, window)
        finally:
            rig.stop()
        due = rig.expected_rate
        grew = m["queue_msgs_end"] > m["queue_msgs_start"] + 100
        ok = m["skipped"] == 0 and not grew and m["rate"] >= 0.98 * due
        print(f"maxrate {sims} buses x {units} devices x 125 points / 10 ms: due {due:.0f}/s, "
              f"read {m['rate']:.0f}/s, subscriber {m['sub_rate']:.0f}/s, skipped "
              f"{m['skipped']}, queue {m['queue_msgs_start']}->{m['queue_msgs_end']} msgs "
              f"({m['spilled']} spilled to disk), CPU "
              f"{m['cpu_share'] * 100:.0f} % = {m['cpu_sched_us_per_reading']:.3f} us/reading, "
              f"RSS {m['status']['VmRSS']} KiB, threads {m['status']['Threads']}: "
              f"{'keeps up' if ok else 'FALLS BEHIND'}", flush=True)
        if ok:
            best = m["rate"]
        else:
            break
    print(f"largest sustained: {best or 0:.0f} readings/s", flush=True)
    return best


def floor(build, window=WINDOW_S):
    """The gateway's steady workload next to bench/floor/bench_floor: the same
    Modbus reads and MQTT publishes made by libmodbus and paho alone (modes
    modbus, mqtt, both), on one simulator and broker, in the same run."""
    tmp = ef.TempDir("ef-bench-floor-")
    broker = ef.Broker(tmp)
    sim, port = wl.start_sim(os.path.join(build, "tests/modbus_sim/modbus_sim"), range(1, 11),
                             tmp, "sim")
    prog = os.path.join(build, "bench/floor/bench_floor")
    try:
        for mode in ("modbus", "mqtt", "both"):
            out = subprocess.run([prog, mode, str(port), str(broker.port), "10", "100", "100",
                                  str(window)], capture_output=True, text=True, timeout=window + 60)
            print(out.stdout.strip() or f"floor {mode}: failed: {out.stderr.strip()}", flush=True)
    finally:
        wl.stop_sim(sim)
        broker.stop()
        tmp.cleanup()
    steady(build, label="gateway")


def main():
    build = sys.argv[1]
    parts = sys.argv[2:] or ["steady", "steady-scaled", "arenas", "startup", "callgrind",
                             "perf", "maxrate", "floor"]
    print(f"edgeferry gateway benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.uname().nodename}, {os.cpu_count()} CPUs, build {build}", flush=True)
    for p in parts:
        {"steady": lambda: steady(build), "arenas": lambda: arenas(build),
         "startup": lambda: startup(build), "callgrind": lambda: callgrind(build),
         "maxrate": lambda: maxrate(build), "perf": lambda: perf_profile(build),
         # the same with 97 of the 100 points scaled by 0.1 (decimals in the JSON)
         "floor": lambda: floor(build),
         "steady-scaled": lambda: steady(build, label="scale 0.1", scale=0.1),
         "callgrind-scaled": lambda: callgrind(build, scale=0.1),
         # JSON and Sparkplug B on the same workload, one after the other
         "sparkplug": lambda: (steady(build, label="json"),
                               steady(build, label="sparkplug", sparkplug=True))}[p]()


if __name__ == "__main__":
    main()

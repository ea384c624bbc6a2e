#!/usr/bin/env python3
"""Memory while the disk fails during an outage (not part of CI).

    EF_BIN=build/gateway/edgeferry EF_BUILD_DIR=build PYTHONPATH=tests/harness \\
        python3 bench/faults/disk_outage.py [MINUTES]       # default 5

10 Modbus TCP devices x 100 points every 100 ms (10,000 readings/s) on two
simulators; state_dir on faultfs (tests/faultfs) failing every write and
sync with EIO from 5 s after the start; the broker out of reach (a proxy resetting
every connection) the whole time. So the queue can use neither the disk nor
the link: memory alone, bounded by memory_kb (256, the default). VmRSS of
the gateway is sampled every 5 s; at the end the broker is let through and
the stats say what the queue held and dropped. Needs root and python3-fuse."""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
import ef  # noqa: E402
import faultfs_mount  # noqa: E402
from test_modbus_e2e import ModbusSim  # noqa: E402

MINUTES = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0


def ini(state, port, sims):
    text = f"""[gateway]
id = bench
state_dir = {state}
stats_interval_s = 5

[mqtt]
uri = tcp://127.0.0.1:{port}
telemetry_qos = 1

[queue]
memory_kb = 256
"""
    for b, sim in enumerate(sims):
        text += f"\n[bus:b{b}]\ntype = tcp\nhost = 127.0.0.1\nport = {sim.port}\n"
    for d in range(10):
        text += f"\n[device:d{d}]\nbus = b{d % 2}\nunit = {d // 2 + 1}\ninterval_ms = 100\n"
        text += "".join(f"[point:d{d}.p{i}]\nregister = holding:{200 + i}\n" for i in range(100))
    return text


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def main():
    faultfs_mount.skip_unless_fuse()
    tmp = ef.TempDir("ef-bench-disk-")
    stops = []
    try:
        fs = faultfs_mount.FaultMount(tmp)
        stops.append(fs.stop)
        broker = ef.Broker(tmp); stops.append(broker.stop)
        proxy = ef.TcpProxy(broker.port); stops.append(proxy.stop)
        proxy.set_mode("reset")
        sims = [ModbusSim(tmp, "tcp", 0, *sum([["--unit", u] for u in range(1, 6)], []))
                for _ in range(2)]
        stops.extend(s.stop for s in sims)
        sub = ef.Subscriber(broker.port, ["edgeferry/bench/stats"], tmp); stops.append(sub.stop)
        gw = ef.Gateway(tmp, ini(os.path.join(fs.path, "state"), proxy.port, sims))
        gw.start(); stops.append(gw.stop)
        try:
            gw.proc.wait_output("started", timeout=30)
        except AssertionError:
            print(gw.output()[-3000:])
            raise
        time.sleep(5)
        fs.fail("all", "EIO")  # the card fails under a running gateway
        t0 = time.monotonic()
        samples = []
        while time.monotonic() - t0 < MINUTES * 60:
            samples.append(((time.monotonic() - t0) / 60, rss_kib(gw.proc.pid)))
            time.sleep(5)
        print(f"{MINUTES:g} min, 10,000 readings/s, disk failing (EIO), broker unreachable; "
              f"gateway alive: {gw.proc.alive()}")
        print("| minute | samples | VmRSS min KiB | median | max |")
        print("|---|---|---|---|---|")
        for m in range(int(MINUTES + 0.999)):
            w = [r for t, r in samples if m <= t < m + 1]
            if w:
                print(f"| {m}-{m + 1} | {len(w)} | {min(w)} | {int(statistics.median(w))} | {max(w)} |")
        proxy.set_mode("pass")
        st = json.loads(ef.wait_until(lambda: sub.all("edgeferry/bench/stats"), 60,
                                      what="stats")[-1]["payload"])
        q, d = st["queue"], st["dropped"]
        print(f"stats after the outage: readings {st['readings']}, telemetry_queued "
              f"{st['telemetry_queued']}, queue memory_bytes {q['memory_bytes']} (memory_kb 256 = "
              f"262144), disk_faults {q['disk_faults']}, disk_fault {q['disk_fault']}, "
              f"disk_errors {q['disk_errors']}, dropped.memory_full {d['memory_full']}")
        print(f"faultfs: {fs.status()}")
        log = gw.output()
        print(f"log lines: {len(log.splitlines())} ({sum(1 for ln in log.splitlines() if ln.startswith('<3>'))} errors)")
    finally:
        for s in reversed(stops):
            try:
                s()
            except Exception:  # noqa: BLE001
                pass
        tmp.cleanup()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CPU and RSS of the gateway with the web view (issue 18), in one run:
the "steady" workload of bench/gateway (10 devices x 100 points every
100 ms, one simulator, a local mosquitto), first without [http], then with
[http] and 0, 1 and 10 browsers connected.

A "browser" is what the page costs the gateway: GET / once, then an
/events stream read as fast as it comes (one snapshot a second, ~75 KB
with 1,000 points), from its own thread. Real Chromium instances would
take the machine's two cores from the gateway being measured.

  bench_web.py BUILD_DIR        (prints a Markdown table)
CPU: utime+stime of the gateway over WINDOW_S after WARMUP_S, as % of one
core; RSS: VmRSS at the end of the window, VmHWM the peak."""
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gateway"))
import workload as wl  # noqa: E402

ef = wl.ef
WARMUP_S = float(os.environ.get("EF_BENCH_WARMUP_S", 5))
WINDOW_S = float(os.environ.get("EF_BENCH_WINDOW_S", 30))


class Browser(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.events, self.bytes = port, False, 0, 0

    def run(self):
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            while s.recv(65536):
                pass
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(1)
            while not self.stop:
                try:
                    b = s.recv(262144)
                except socket.timeout:
                    continue
                if not b:
                    break
                self.bytes += len(b)
                self.events += b.count(b"\ndata: ") + b.startswith(b"data: ")


def run_one(build, tmp, broker, http, browsers):
    sim, sport = wl.start_sim(os.path.join(build, "tests/modbus_sim/modbus_sim"),
                              range(1, 11), tmp, f"sim-{http}-{browsers}")
    port = ef.free_port()
    extra = f"[http]\nlisten = 127.0.0.1:{port}\n" if http else ""
    ini = wl.make_ini("bench-web", broker.port, f"{tmp.path}/state-{http}-{browsers}", [sport],
                      10, 100, 100, extra=extra)
    env = dict(os.environ, EF_BIN=os.path.join(build, "gateway/edgeferry"))
    os.environ.update(env)
    gw = ef.Gateway(tmp, ini, name=f"gw-{http}-{browsers}").start()
    try:
        if http:
            ef.wait_port(port, 15)
        clients = [Browser(port) for _ in range(browsers)]
        for c in clients:
            c.start()
        time.sleep(WARMUP_S)
        pid = gw.proc.pid
        c0, t0 = wl.proc_cpu_s(pid), time.monotonic()
        e0 = sum(c.events for c in clients)
        time.sleep(WINDOW_S)
        cpu = (wl.proc_cpu_s(pid) - c0) / (time.monotonic() - t0) * 100
        events = sum(c.events for c in clients) - e0
        st = wl.proc_status(pid)
        with open(f"/proc/{pid}/maps") as f:
            mhd = "libmicrohttpd" in f.read()
        for c in clients:
            c.stop = True
        return {"cpu": cpu, "rss": st["VmRSS"], "hwm": st["VmHWM"], "threads": st["Threads"],
                "events": events, "mhd": mhd}
    finally:
        gw.stop()
        wl.stop_sim(sim)


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    tmp = ef.TempDir("ef-bench-web-")
    broker = ef.Broker(tmp)
    rows = []
    try:
        for http, n in [(False, 0), (True, 0), (True, 1), (True, 10)]:
            r = run_one(build, tmp, broker, http, n)
            label = "no [http]" if not http else f"[http], {n} browser{'s' if n != 1 else ''}"
            rows.append((label, r))
            print(f"{label}: {r}", file=sys.stderr, flush=True)
    finally:
        broker.stop()
        tmp.cleanup()
    print(f"| gateway | CPU (% of one core) | RSS end / peak (KiB) | threads | "
          f"events received in {WINDOW_S:.0f} s | libmicrohttpd mapped |")
    print("|---|---|---|---|---|---|")
    for label, r in rows:
        print(f"| {label} | {r['cpu']:.1f} | {r['rss']:,} / {r['hwm']:,} | {r['threads']} | "
              f"{r['events']} | {'yes' if r['mhd'] else 'no'} |")


if __name__ == "__main__":
    main()

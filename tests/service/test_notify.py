#!/usr/bin/env python3
"""The systemd protocol seen from the service manager's side: a fake
NOTIFY_SOCKET receives what the real binary sends (READY=1 after start-up,
WATCHDOG=1 while healthy, RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on
SIGTERM), and a bus thread that really hangs stops the watchdog pings.

The hang needs no hook in the binary: gdb, in non-stop mode, attaches and
stops exactly one thread -- the Modbus bus thread -- while the main loop and
the publisher keep running. (A peer that never reads cannot do it: the
kernel's socket buffers on loopback take minutes to fill.) Detaching lets the
thread go on, and the pings must come back.
"""
import os
import signal
import socket
import subprocess
import threading
import time

import ef
import svc

T = ef.Test()
WATCHDOG_USEC = 2000000  # pings expected every second


class NotifySocket:
    """A datagram socket standing in for systemd's notification socket."""

    def __init__(self, tmp, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:  # systemd's "@name": a socket in the abstract namespace
            name = f"ef-notify-{os.getpid()}-{id(self)}"
            self.sock.bind("\0" + name)
            self.path = "@" + name
        else:
            self.path = os.path.join(tmp.path, "notify.sock")
            self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.msgs = []  # (monotonic time, "KEY=VALUE")
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.monotonic()
            with self.lock:
                for line in data.decode().splitlines():
                    self.msgs.append((now, line))

    def lines(self):
        with self.lock:
            return [m for _, m in self.msgs]

    def times(self, line):
        with self.lock:
            return [t for t, m in self.msgs if m == line]

    def wait(self, line, count=1, timeout=15):
        return ef.wait_until(lambda: len(self.times(line)) >= count, timeout,
                             what=f"{count} x {line} on the notify socket")

    def env(self):
        return {"NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)}

    def stop(self):
        self.running = False
        self.thread.join()
        self.sock.close()


# Sourced by gdb at start-up; the test then calls freeze() until every thread
# has reported its stop (in non-stop mode they stop one by one after attach).
GDB_SCRIPT = """
import gdb
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set non-stop on")
gdb.execute("attach %d")

def freeze():
    threads = gdb.selected_inferior().threads()
    if any(t.is_running() for t in threads):
        print("EF-RETRY", flush=True)
        return
    target = None
    for t in threads:
        t.switch()
        f = gdb.newest_frame()
        while f is not None:
            if f.name() == "%s":
                target = t
            f = f.older()
    for t in threads:
        if t is not target:
            gdb.execute("thread %%d" %% t.num)
            gdb.execute("continue &")
    print("EF-FROZEN %%s" %% (target.ptid[1] if target else "none"), flush=True)
"""


class ThreadFreezer:
    """Stops one thread of a process (by its start function) with gdb."""

    def __init__(self, tmp, pid, function):
        script = tmp.file("freeze.py", GDB_SCRIPT % (pid, function))
        self.log_path = tmp.file("gdb.log")
        self.log = open(self.log_path, "ab")
        self.p = subprocess.Popen(["gdb", "-q", "-nx", "-x", script], stdin=subprocess.PIPE,
                                  stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 60
        line = None
        while not line and time.monotonic() < deadline:
            before = self.output().count("EF-RETRY")
            self.send("python freeze()")
            done = ef.wait_until(lambda: [ln for ln in self.output().splitlines()
                                          if ln.startswith("EF-FROZEN ")]
                                 or self.output().count("EF-RETRY") > before, 30,
                                 what="gdb to answer")
            if isinstance(done, list):
                line = done[0]
            else:
                time.sleep(0.2)
        assert line and line != "EF-FROZEN none", self.output()
        self.lwp = int(line.split()[1])

    def send(self, command):
        self.p.stdin.write(command.encode() + b"\n")
        self.p.stdin.flush()

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def release(self):
        if self.p.poll() is None:
            self.send("detach")
            self.send("quit")
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


class DeafPeer:
    """Accepts TCP connections and reads nothing until drain() is called."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        self.lsock.bind((ef.HOST, 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.draining = threading.Event()
        self.drained = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._drain, args=(c,), daemon=True).start()

    def _drain(self, c):
        self.draining.wait()
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                self.drained += len(data)
        except OSError:
            return

    def drain(self):
        self.draining.set()

    def stop(self):
        self.lsock.close()
        self.draining.set()
        for c in self.conns:
            c.close()


@T.case
def notify_ready_watchdog_reload_and_stopping(tmp, cleanup):
    broker = ef.Broker(tmp)
    cleanup(broker.stop)
    sensor = svc.KvSensor(tmp, "s1")
    cleanup(sensor.stop)
    ns = NotifySocket(tmp)
    cleanup(ns.stop)
    text = svc.ini(tmp, broker.port, [("s1", sensor.path)])
    gw = ef.Gateway(tmp, text, extra_env=ns.env()).start()
    cleanup(gw.stop)

    ns.wait("READY=1")
    ns.wait("WATCHDOG=1", 3)
    lines = ns.lines()
    assert lines.index("READY=1") < lines.index("WATCHDOG=1"), lines
    assert "STOPPING=1" not in lines

    gw.proc.signal(signal.SIGHUP)
    ns.wait("READY=1", 2)
    lines = ns.lines()
    reloading = lines.index("RELOADING=1")
    assert reloading < len(lines) - 1 - lines[::-1].index("READY=1"), lines
    n = len(ns.times("WATCHDOG=1"))
    ns.wait("WATCHDOG=1", n + 2)  # still pinging after the reload

    gw.proc.signal(signal.SIGTERM)
    assert gw.proc.wait() == 0
    lines = ns.lines()
    assert lines[-1] == "STOPPING=1" or "STOPPING=1" in lines[-3:], lines


@T.case
def notify_reaches_an_abstract_socket(tmp, cleanup):
    broker = ef.Broker(tmp)
    cleanup(broker.stop)
    ns = NotifySocket(tmp, abstract=True)
    cleanup(ns.stop)
    gw = ef.Gateway(tmp, svc.ini(tmp, broker.port, []), extra_env=ns.env()).start()
    cleanup(gw.stop)
    ns.wait("READY=1")
    ns.wait("WATCHDOG=1")
    assert gw.stop() == 0
    ns.wait("STOPPING=1")


@T.case
def no_watchdog_without_watchdog_usec(tmp, cleanup):
    broker = ef.Broker(tmp)
    cleanup(broker.stop)
    ns = NotifySocket(tmp)
    cleanup(ns.stop)
    gw = ef.Gateway(tmp, svc.ini(tmp, broker.port, []),
                    extra_env={"NOTIFY_SOCKET": ns.path}).start()
    cleanup(gw.stop)
    ns.wait("READY=1")
    subscriber = ef.Subscriber(broker.port, ["ef/#"], tmp)  # a round trip or two
    cleanup(subscriber.stop)
    subscriber.wait_payload("ef/gw1/status", "online")
    assert gw.stop() == 0
    assert "WATCHDOG=1" not in ns.lines(), ns.lines()
    assert "STOPPING=1" in ns.lines()


@T.case
def hung_bus_thread_stops_the_watchdog_pings(tmp, cleanup):
    broker = ef.Broker(tmp)
    cleanup(broker.stop)
    peer = DeafPeer()  # the device never answers: the bus thread stays busy
    cleanup(peer.stop)
    peer.drain()
    ns = NotifySocket(tmp)
    cleanup(ns.stop)
    extra = f"""
[bus:b1]
type = tcp
host = 127.0.0.1
port = {peer.port}
timeout_ms = 100
retries = 0

[device:d1]
bus = b1
unit = 1
interval_ms = 200

[point:d1.x]
register = holding:0
"""
    gw = ef.Gateway(tmp, svc.ini(tmp, broker.port, [], extra=extra),
                    extra_env=ns.env()).start()
    cleanup(gw.stop)
    ns.wait("READY=1")
    ns.wait("WATCHDOG=1", 2)

    freezer = ThreadFreezer(tmp, gw.proc.pid, "bus_thread")
    cleanup(freezer.release)
    assert freezer.lwp != gw.proc.pid  # one thread, not the main loop
    frozen_at = time.monotonic()

    # The pings stop: none for three intervals while the process lives on.
    def silent():
        t = ns.times("WATCHDOG=1")
        return gw.proc.alive() and time.monotonic() - t[-1] > 3.0
    ef.wait_until(silent, 40, step=0.2, what="the watchdog pings to stop")
    print(f"pings stopped {ns.times('WATCHDOG=1')[-1] - frozen_at:.1f} s after the freeze")

    # Let the thread go on: the pings resume, so they stopped for the hang only.
    freezer.release()
    released_at = time.monotonic()
    ef.wait_until(lambda: [t for t in ns.times("WATCHDOG=1") if t > released_at], 20,
                  what="the watchdog pings to resume")
    assert gw.stop() == 0


if __name__ == "__main__":
    raise SystemExit(T.run())

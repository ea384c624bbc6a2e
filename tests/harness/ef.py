"""Test harness for edgeferry's integration tests (Python 3 stdlib only).

Real parts, not mocks: a real mosquitto on a free loopback port, the real
edgeferry binary, simulated sensors on real pseudo-terminals and TCP
sockets, and a TCP proxy that can cut the link silently or with resets.
Everything started here is stopped by its pid; readiness is waited for,
never slept for.

Paths come from the environment that CMake's add_test sets:
EF_BIN (edgeferry), EF_MODBUS_SIM, EF_SERIAL_SIM, EF_QUEUE_TOOL, EF_SOURCE_DIR.
"""
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"

# Set by scripts/valgrind.sh: a command put in front of every edgeferry the
# harness starts (e.g. "valgrind --log-file=..."), and a factor for every
# timeout, since a program under valgrind runs tens of times slower.
WRAPPER = os.environ.get("EF_WRAPPER", "").split()
TIME_SCALE = float(os.environ.get("EF_TIME_SCALE", "") or 1)


def env_path(name, default=None):
    v = os.environ.get(name, default)
    if not v:
        raise RuntimeError(f"{name} is not set (run the test through ctest)")
    return v


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=10.0, step=0.02, what="condition"):
    timeout *= TIME_SCALE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_port(port, timeout=10.0):
    def ok():
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return True
        except OSError:
            return False
    wait_until(ok, timeout, what=f"port {port} to accept")


class TempDir:
    def __init__(self, prefix="ef-test-"):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def file(self, name, text=None):
        p = os.path.join(self.path, name)
        if text is not None:
            with open(p, "w") as f:
                f.write(text)
        return p

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Proc:
    """A child process with its output in a file, stopped by pid."""

    def __init__(self, argv, log_path, env=None, stdout_pipe=False):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(
            argv, stdout=subprocess.PIPE if stdout_pipe else self.log,
            stderr=self.log, env=env, start_new_session=True)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            self.p.send_signal(sig)

    def wait(self, timeout=15.0):
        timeout *= TIME_SCALE
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"{self.argv[0]} did not exit within {timeout}s")

    def stop(self, sig=None, timeout=15.0):
        # (a default of signal.SIGTERM here would see the method above, not the module)
        sig = signal.SIGTERM if sig is None else sig
        timeout *= TIME_SCALE
        if self.alive():
            self.signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_output(self, text, timeout=10.0):
        return wait_until(lambda: text in self.output(), timeout, what=f"'{text}' in {self.log_path}")


class Broker:
    """mosquitto on a free loopback port, restartable on the same port."""

    def __init__(self, tmp, port=None, extra_conf="", head_conf=""):
        """EXTRA_CONF is appended (e.g. more listeners); HEAD_CONF goes
        before the first listener (options such as per_listener_settings
        that must come first)."""
        self.tmp = tmp
        self.port = port or free_port()
        self.extra = extra_conf
        if os.environ.get("EF_BROKER_LOG"):  # every packet in the broker log, by hand
            self.extra += "\nlog_type all\n"
        self.head = head_conf
        self.proc = None
        self.start()

    def start(self):
        conf = self.tmp.file(f"mosquitto-{self.port}.conf",
                             f"{self.head}listener {self.port} {HOST}\nallow_anonymous true\n"
                             f"user root\npersistence false\n"
                             f"max_queued_messages 100000\n{self.extra}")
        self.proc = Proc(["mosquitto", "-c", conf],
                         self.tmp.file(f"mosquitto-{self.port}.log"))
        wait_port(self.port)

    def kill(self):
        self.proc.stop(signal.SIGKILL)

    def stop(self):
        if self.proc:
            self.proc.stop()

    def restart(self):
        self.stop()
        self.start()


class Subscriber:
    """mosquitto_sub in the background, collecting (topic, retain, qos,
    payload, arrival time). Ready only once a probe message came back."""

    def __init__(self, port, topics, tmp, qos=1):
        self.port = port
        self.msgs = []
        self.lock = threading.Lock()
        argv = ["mosquitto_sub", "-h", HOST, "-p", str(port), "-q", str(qos),
                "-F", "%t\t%r\t%q\t%p", "-t", "ef-harness/probe"]
        for t in topics:
            argv += ["-t", t]
        self.proc = Proc(argv, tmp.file(f"sub-{id(self)}.log"), stdout_pipe=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            subprocess.run(["mosquitto_pub", "-h", HOST, "-p", str(port),
                            "-t", "ef-harness/probe", "-m", "probe"], check=False)
            try:
                wait_until(lambda: self.find("ef-harness/probe"), 0.5, what="probe")
                return
            except AssertionError:
                pass
        raise AssertionError("subscriber never became ready")

    def _read(self):
        for raw in self.proc.p.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            parts = line.split("\t", 3)
            if len(parts) != 4:
                continue
            with self.lock:
                self.msgs.append({"topic": parts[0], "retain": parts[1] == "1",
                                  "qos": int(parts[2]), "payload": parts[3],
                                  "t": time.monotonic()})

    def all(self, topic=None, prefix=None):
        with self.lock:
            return [m for m in self.msgs
                    if (topic is None or m["topic"] == topic)
                    and (prefix is None or m["topic"].startswith(prefix))]

    def find(self, topic):
        return self.all(topic)

    def json(self, topic):
        return [json.loads(m["payload"]) for m in self.all(topic)]

    def wait_count(self, topic, n, timeout=15.0):
        return wait_until(lambda: len(self.all(topic)) >= n and self.all(topic), timeout,
                          what=f"{n} messages on {topic}")

    def wait_payload(self, topic, payload, timeout=15.0, after=0):
        return wait_until(lambda: [m for m in self.all(topic)[after:] if m["payload"] == payload],
                          timeout, what=f"'{payload}' on {topic}")

    def stop(self):
        self.proc.stop()


class Gateway:
    """The real edgeferry binary on a generated configuration."""

    def __init__(self, tmp, ini_text, name="gw", extra_env=None, wrapper=None):
        self.tmp = tmp
        if os.environ.get("EF_DEBUG"):  # debug logs of every gateway, by hand
            ini_text = ini_text.replace("[gateway]\n", "[gateway]\nlog_level = debug\n", 1)
        self.ini = tmp.file(f"{name}.ini", ini_text)
        self.name = name
        self.env = dict(os.environ)
        self.env.pop("STATE_DIRECTORY", None)
        if extra_env:
            self.env.update(extra_env)
        self.wrapper = list(wrapper) if wrapper else list(WRAPPER)
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        self.proc = Proc(self.wrapper + [env_path("EF_BIN"), "-c", self.ini],
                         self.tmp.file(f"{self.name}-{self.runs}.log"), env=self.env)
        return self

    def rewrite(self, ini_text):
        with open(self.ini, "w") as f:
            f.write(ini_text)

    def stop(self, sig=signal.SIGTERM):
        return self.proc.stop(sig)

    def kill(self):
        return self.proc.stop(signal.SIGKILL)

    def output(self):
        return self.proc.output()


def run_edgeferry(args, timeout=20):
    r = subprocess.run(WRAPPER + [env_path("EF_BIN")] + args, capture_output=True, text=True,
                       timeout=timeout * TIME_SCALE)
    return r.returncode, r.stdout, r.stderr


class PtyPair:
    """Two linked pseudo-terminals made by socat, reachable by symlinks."""

    def __init__(self, tmp, name):
        self.a = os.path.join(tmp.path, f"{name}-a")
        self.b = os.path.join(tmp.path, f"{name}-b")
        self.proc = Proc(["socat", "-d", "-d", f"pty,raw,echo=0,link={self.a}",
                          f"pty,raw,echo=0,link={self.b}"], tmp.file(f"socat-{name}.log"))
        wait_until(lambda: os.path.exists(self.a) and os.path.exists(self.b), 10,
                   what="socat ptys")

    def stop(self):
        self.proc.stop()


class TcpProxy:
    """A cuttable TCP proxy: 'pass' forwards, 'drop' silently discards all
    traffic while keeping connections open (like a dead link, no RST),
    'reset' closes every connection with an RST and refuses new ones."""

    def __init__(self, target_port, port=None):
        self.target = target_port
        self.port = port or free_port()
        self.mode = "pass"
        self.lock = threading.Lock()
        self.conns = []
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((HOST, self.port))
        self.lsock.listen(16)
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def set_mode(self, mode):
        with self.lock:
            self.mode = mode
            if mode == "reset":
                for c in self.conns:
                    for s in c:
                        try:
                            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                         struct.pack("ii", 1, 0))
                            s.close()
                        except OSError:
                            pass
                self.conns = []

    def _accept(self):
        while self.running:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                mode = self.mode
            if mode == "reset":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()
                continue
            try:
                u = socket.create_connection((HOST, self.target), timeout=2)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns.append((c, u))
            threading.Thread(target=self._pipe, args=(c, u), daemon=True).start()

    def _pipe(self, a, b):
        socks = [a, b]
        try:
            while self.running:
                r, _, _ = select.select(socks, [], [], 0.2)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        raise OSError("closed")
                    with self.lock:
                        mode = self.mode
                    if mode == "pass":
                        (b if s is a else a).sendall(data)
                    # 'drop': read and discard, like packets lost on the way
        except OSError:
            pass
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
        with self.lock:
            self.conns = [c for c in self.conns if c != (a, b)]

    def stop(self):
        self.running = False
        self.lsock.close()
        self.set_mode("reset")


class Test:
    """A minimal runner: each test function gets a fresh TempDir; cleanup of
    registered processes is guaranteed. Prints 'N passed, N failed'."""

    def __init__(self):
        self.cases = []

    def case(self, fn):
        self.cases.append(fn)
        return fn

    def run(self, argv=None):
        argv = argv if argv is not None else sys.argv[1:]
        selected = [c for c in self.cases if not argv or c.__name__ in argv]
        passed = failed = 0
        for fn in selected:
            tmp = TempDir()
            cleanups = []
            t0 = time.monotonic()
            try:
                fn(tmp, cleanups.append)
                passed += 1
                print(f"PASS {fn.__name__} ({time.monotonic() - t0:.1f}s)", flush=True)
            except Exception as e:  # noqa: BLE001 - report every failure
                failed += 1
                import traceback
                traceback.print_exc()
                print(f"FAIL {fn.__name__}: {e}", flush=True)
                for name in sorted(os.listdir(tmp.path)):
                    if name.endswith(".log"):
                        print(f"---- {name} ----")
                        with open(os.path.join(tmp.path, name), errors="replace") as f:
                            print(f.read()[-4000:])
            finally:
                for c in reversed(cleanups):
                    try:
                        c()
                    except Exception:  # noqa: BLE001
                        pass
                if os.environ.get("EF_KEEP_TMP"):
                    print(f"kept {tmp.path}")
                else:
                    tmp.cleanup()
        print(f"{passed} passed, {failed} failed", flush=True)
        return 0 if failed == 0 and passed > 0 else 1

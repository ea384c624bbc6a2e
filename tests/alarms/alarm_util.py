"""Helpers of the alarm / report-by-exception / stats integration tests.

ScriptedSensor is a queried kv sensor that the test drives itself: it sits on
the far side of a socat pty pair, and every query the gateway writes is
answered with the next scripted line (or the repeated line, or nothing when
silent). The test therefore knows every value the gateway read, in order,
and the wall-clock time each query arrived.
"""
import json
import os
import subprocess
import sys
import threading
import time
import tty

import ef

SIM = os.path.join(os.environ.get("EF_BUILD_DIR", "build"), "tests/modbus_sim/modbus_sim")
QUERY = b"R\r"


class ScriptedSensor:
    def __init__(self, tmp, name="s"):
        self.pty = ef.PtyPair(tmp, name)
        self.path = self.pty.a  # what the gateway opens
        self.fd = os.open(self.pty.b, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.lock = threading.Lock()
        self.script = []          # lines still to send, one per query
        self.repeat = None        # answer once the script is empty; None: silent
        self.queries = []         # arrival time (time.time()) of every query
        self.answers = []         # (query index, line) of every answer
        self.last_scripted = -1   # query index of the last scripted answer
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        buf = b""
        while self.running:
            try:
                chunk = os.read(self.fd, 256)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while QUERY in buf:
                _, _, buf = buf.partition(QUERY)
                with self.lock:
                    self.queries.append(time.time())
                    if self.script:
                        line = self.script.pop(0)
                        self.last_scripted = len(self.queries) - 1
                    else:
                        line = self.repeat
                    if line is not None:
                        self.answers.append((len(self.queries) - 1, line))
                if line is not None:
                    os.write(self.fd, line.encode() + b"\n")

    def play(self, lines, then=None):
        """Answers the next queries with LINES, then with THEN (None: silence)."""
        with self.lock:
            self.script.extend(lines)
            self.repeat = then

    def set(self, line):
        with self.lock:
            self.script = []
            self.repeat = line

    def nqueries(self):
        with self.lock:
            return len(self.queries)

    def nanswers(self):
        with self.lock:
            return len(self.answers)

    def query_times(self):
        with self.lock:
            return list(self.queries)

    def wait_script_done(self, extra=1, timeout=20):
        """Until the script is used up and EXTRA more queries arrived after its
        last line, so the gateway has handled every scripted answer."""
        def done():
            with self.lock:
                return not self.script and len(self.queries) >= self.last_scripted + 1 + extra
        ef.wait_until(done, timeout, what="scripted answers consumed")

    def stop(self):
        self.running = False
        try:
            os.close(self.fd)
        except OSError:
            pass
        self.pty.stop()


class ModbusSim:
    """tests/modbus_sim/modbus_sim on TCP; PORT 0 picks one (kept for a restart)."""

    def __init__(self, tmp, port=0, *opts):
        self.tmp = tmp
        self.opts = [str(o) for o in opts]
        self.count_file = tmp.file(f"count-{id(self)}")
        self.runs = 0
        self.proc = None
        self.port = port
        self.start()

    def start(self):
        self.runs += 1
        self.proc = ef.Proc([SIM, "--tcp", str(self.port), "--count-file", self.count_file,
                             *self.opts],
                            self.tmp.file(f"sim-{id(self)}-{self.runs}.log"), stdout_pipe=True)
        line = self.proc.p.stdout.readline().decode()
        if line.startswith("port "):
            self.port = int(line.split()[1])
            line = self.proc.p.stdout.readline().decode()
        assert line.strip() == "ready", f"simulator said {line!r}"

    def requests(self, unit):
        try:
            with open(self.count_file) as f:
                for ln in f:
                    parts = ln.split()
                    if parts[:2] == ["unit", str(unit)]:
                        return int(parts[2])
        except FileNotFoundError:
            pass
        return 0

    def stop(self):
        if self.proc:
            self.proc.stop()


def ini(tmp, mqtt_port, body, mqtt_extra="", gw_extra="stats_interval_s = 0"):
    return f"""
[gateway]
id = gw1
state_dir = {tmp.path}/state
{gw_extra}

[mqtt]
uri = tcp://127.0.0.1:{mqtt_port}
keepalive_s = 2
{mqtt_extra}

{body}
"""


def sensor_section(sensor, name="s", extra=""):
    """A queried kv sensor polled every 250 ms; an unanswered query times out
    after 100 ms, well before the next one, so no cycle is ever skipped."""
    return (f"[serial:{name}]\npath = {sensor.path}\nformat = kv\nquery = R\\r\n"
            f"interval_ms = 250\ntimeout_ms = 100\n{extra}\n")


def retained(port, topic, timeout=5):
    """What a new subscriber gets on TOPIC: (payload, retain flag) or None."""
    out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic,
                          "-C", "1", "-W", str(timeout), "-F", "%r\t%p"],
                         capture_output=True, text=True)
    line = out.stdout.strip()
    if not line:
        return None
    flag, _, payload = line.partition("\t")
    return json.loads(payload), flag == "1"


def jsons(sub, topic):
    return [json.loads(m["payload"]) for m in sub.all(topic)]


def wait_json(sub, topic, pred, timeout=20, what=None, after=0):
    """Until a message on TOPIC (from index AFTER on) satisfies PRED; returns
    its index and payload."""
    def found():
        for i, p in enumerate(jsons(sub, topic)):
            if i < after:
                continue
            if pred(p):
                return (i, p)
        return None
    return ef.wait_until(found, timeout, what=what or f"a matching message on {topic}")


def states(sub, topic):
    """The (state, kind, value) of every alarm message on TOPIC, in order."""
    return [(p["state"], p["kind"], p.get("value")) for p in jsons(sub, topic)]


def main(T):
    sys.exit(T.run())

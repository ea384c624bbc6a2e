"""Shared parts of the web view tests: a Modbus simulator, a gateway with
[http] on a free port, and plain HTTP requests (urllib, no third-party
client)."""
import base64
import json
import os
import urllib.error
import urllib.request

import ef

SIM = os.path.join(os.environ.get("EF_BUILD_DIR", "build"), "tests/modbus_sim/modbus_sim")


class ModbusSim:
    """tests/modbus_sim on a free TCP port."""

    def __init__(self, tmp, *opts):
        self.proc = ef.Proc([SIM, "--tcp", "0", *map(str, opts)], tmp.file("sim.log"),
                            stdout_pipe=True)
        line = self.proc.p.stdout.readline().decode()
        assert line.startswith("port "), f"simulator said {line!r}"
        self.port = int(line.split()[1])
        line = self.proc.p.stdout.readline().decode()
        assert line.strip() == "ready", f"simulator said {line!r}"

    def stop(self):
        self.proc.stop()


def ini(tmp, sim_port, broker_port=1, http="", extra=""):
    """Device d1 (unit 1): ramp = holding:2 (changes every 100 ms), temp = a
    float32 with a high alarm that is active, state = a bool."""
    return f"""
[gateway]
id = gw-web
state_dir = {tmp.path}/state
stats_interval_s = 0

[mqtt]
uri = tcp://127.0.0.1:{broker_port}
keepalive_s = 5

{http}

[bus:b]
type = tcp
host = 127.0.0.1
port = {sim_port}
timeout_ms = 500
retries = 0

[device:d1]
bus = b
unit = 1
interval_ms = 200

[point:d1.ramp]
register = holding:2
unit = ds

[point:d1.temp]
register = holding:40
type = float32
unit = °C <b>
alarm_high = 1

[point:d1.state]
register = coil:3
{extra}
"""


def http_section(port, password_file=None, host="127.0.0.1"):
    s = f"[http]\nlisten = {host}:{port}\n"
    if password_file:
        s += f"password_file = {password_file}\n"
    return s


def get(port, path, auth=None, timeout=10, host="127.0.0.1"):
    """(status, headers, body bytes) of GET PATH; AUTH is (user, password)."""
    req = urllib.request.Request(f"http://{host}:{port}{path}")
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout * ef.TIME_SCALE) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def status(port, auth=None):
    code, _, body = get(port, "/api/status", auth)
    assert code == 200, f"/api/status gave {code}: {body[:200]!r}"
    return json.loads(body)


def wait_status(port, pred, what, timeout=30, auth=None):
    """Waits until /api/status answers and PRED(status) holds."""
    def ok():
        try:
            s = status(port, auth)
        except (OSError, AssertionError, ValueError):
            return None
        return s if pred(s) else None
    return ef.wait_until(ok, timeout, step=0.2, what=what)


def point(s, device, name):
    for d in s["devices"]:
        if d["name"] == device:
            for p in d["points"]:
                if p["name"] == name:
                    return p
    return None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def maps(pid):
    with open(f"/proc/{pid}/maps") as f:
        return f.read()

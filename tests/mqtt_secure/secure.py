"""Pieces shared by the secure-MQTT tests: a Modbus simulator as the
telemetry source, mosquitto listener snippets, the aedes broker, and a
gateway configuration with a given [mqtt] section."""
import os
import re
import subprocess

import ef
import pki

HOST = ef.HOST
GID = "gw"
STATUS = f"edgeferry/{GID}/status"
TELEMETRY = f"edgeferry/{GID}/telemetry/meter"
HERE = os.path.dirname(os.path.abspath(__file__))


class ModbusSim:
    """tests/modbus_sim on a free TCP port: unit 1 answers with its id in
    holding register 0, which the gateway publishes as unit_id."""

    def __init__(self, tmp):
        sim = os.path.join(ef.env_path("EF_BUILD_DIR"), "tests/modbus_sim/modbus_sim")
        self.proc = ef.Proc([sim, "--tcp", "0"], tmp.file("modbus-sim.log"), stdout_pipe=True)
        line = self.proc.p.stdout.readline().decode()
        assert line.startswith("port "), f"simulator said {line!r}"
        self.port = int(line.split()[1])
        line = self.proc.p.stdout.readline().decode()
        assert line.strip() == "ready", f"simulator said {line!r}"

    def stop(self):
        self.proc.stop()


def gateway_ini(tmp, sim_port, mqtt, log_level="info"):
    """A gateway polling the simulator 5 times a second; MQTT is the body
    of its [mqtt] section."""
    return f"""[gateway]
id = {GID}
state_dir = {tmp.path}/state
log_level = {log_level}
stats_interval_s = 0

[mqtt]
keepalive_s = 5
telemetry_qos = 1
{mqtt}

# Strict order: when a slow TLS handshake (valgrind) outlasts flush_ms, the
# first readings are spilled, and live-first would send newer ones before
# them; these tests check the link, not the replay order.
[queue]
replay = fifo

[bus:sim]
type = tcp
host = 127.0.0.1
port = {sim_port}
timeout_ms = 500

[device:meter]
bus = sim
unit = 1
interval_ms = 200

[point:meter.unit_id]
register = holding:0
"""


def tls_listener(port, certs, server="server", require_certificate=False):
    """A mosquitto TLS listener presenting certs[SERVER]."""
    crt, key = certs[server]
    text = (f"listener {port} {HOST}\ncafile {certs['ca'][0]}\n"
            f"certfile {crt}\nkeyfile {key}\n")
    if require_certificate:
        text += "require_certificate true\n"
    return text


class Setup:
    """What every case needs, stopped in reverse order by the runner."""

    def __init__(self, tmp, cleanup):
        self.tmp = tmp
        self.cleanup = cleanup
        self.sim = ModbusSim(tmp)
        cleanup(self.sim.stop)
        self._certs = None

    @property
    def certs(self):
        if self._certs is None:
            d = os.path.join(self.tmp.path, "pki")
            os.mkdir(d, 0o700)
            self._certs = pki.make_pki(d)
        return self._certs

    def broker(self, extra="", head=""):
        b = ef.Broker(self.tmp, extra_conf=extra, head_conf=head)
        self.cleanup(b.stop)
        for port in re.findall(r"^listener (\d+)", extra, re.M):
            ef.wait_port(int(port))
        return b

    def subscriber(self, port):
        s = ef.Subscriber(port, [f"edgeferry/{GID}/#"], self.tmp)
        self.cleanup(s.stop)
        return s

    def gateway(self, mqtt, name="gw", log_level="info"):
        g = ef.Gateway(self.tmp, gateway_ini(self.tmp, self.sim.port, mqtt, log_level), name)
        g.start()
        self.cleanup(g.stop)
        return g


def assert_telemetry(sub, n=3, ordered=True, timeout=20):
    """N readings of the simulator's unit 1 arrive, in order unless a
    backlog is being replayed (live-first sends fresh readings first)."""
    sub.wait_count(TELEMETRY, n, timeout=timeout)
    readings = sub.json(TELEMETRY)
    assert all(r["values"]["unit_id"] == 1 for r in readings), readings
    ts = [r["ts"] for r in readings]
    assert not ordered or ts == sorted(ts), ts


def assert_birth_and_will(setup, sub, gw, broker_port):
    """"online" is retained after connecting; after SIGKILL the broker sends
    the will, and a later subscriber still sees "offline" retained."""
    sub.wait_payload(STATUS, "online", timeout=20)
    online = [m for m in sub.all(STATUS) if m["payload"] == "online"]
    assert online[-1]["qos"] == 1, online
    before = len(sub.all(STATUS))
    gw.kill()
    sub.wait_payload(STATUS, "offline", timeout=20, after=before)
    late = setup.subscriber(broker_port)
    late.wait_count(STATUS, 1)
    last = late.all(STATUS)[-1]
    assert last["payload"] == "offline" and last["retain"], last


def count(text, needle):
    return text.count(needle)


def node_or_fail():
    """CI must prove the WebSocket transports: no node, no pass."""
    for tool in ("node", "npm"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise AssertionError(f"{tool} is not installed: the ws:// and wss:// tests need "
                                 "Node.js and npm (apt-get install nodejs npm)")


class Aedes:
    """tests/mqtt_secure/aedes_broker.js: plain MQTT for the test's
    subscriber, plus ws and/or wss listeners on PATH."""

    def __init__(self, tmp, ws=False, wss_cert=None, path="/mqtt"):
        node_or_fail()
        if not os.path.isdir(os.path.join(HERE, "node_modules", "aedes")):
            setup = os.path.join(ef.env_path("EF_SOURCE_DIR"), "scripts/setup-aedes.sh")
            subprocess.run([setup], check=True)
        self.port = ef.free_port()
        argv = ["node", os.path.join(HERE, "aedes_broker.js"), "--tcp", str(self.port),
                "--path", path]
        self.ws_port = self.wss_port = None
        if ws:
            self.ws_port = ef.free_port()
            argv += ["--ws", str(self.ws_port)]
        if wss_cert:
            self.wss_port = ef.free_port()
            argv += ["--wss", str(self.wss_port), "--cert", wss_cert[0], "--key", wss_cert[1]]
        self.proc = ef.Proc(argv, tmp.file(f"aedes-{self.port}.log"))
        self.proc.wait_output("ready", timeout=20)

    def stop(self):
        self.proc.stop()

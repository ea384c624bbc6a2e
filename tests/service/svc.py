"""Shared pieces of the service tests: a streaming kv sensor on a real
pseudo-terminal (socat), and the ini files built around it."""
import os
import threading

import ef


class KvSensor:
    """Writes one "name=value" line to a socat pty every PERIOD seconds; the
    gateway reads the other end. VALUE counts up so every line differs."""

    def __init__(self, tmp, name, period=0.1):
        self.pty = ef.PtyPair(tmp, name)
        self.path = self.pty.b
        self.period = period
        self.n = 0
        self.stop_ev = threading.Event()
        self.fd = os.open(self.pty.a, os.O_WRONLY | os.O_NOCTTY)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_ev.wait(self.period):
            self.n += 1
            try:
                os.write(self.fd, f"v={self.n}\n".encode())
            except OSError:
                return

    def stop(self):
        self.stop_ev.set()
        self.thread.join()
        os.close(self.fd)
        self.pty.stop()


def ini(tmp, broker_port, sensors, gid="gw1", prefix="ef", extra=""):
    """A gateway with one [serial:NAME] kv sensor per (name, path) pair."""
    text = f"""[gateway]
id = {gid}
state_dir = {tmp.path}/state
stats_interval_s = 0

[mqtt]
uri = tcp://127.0.0.1:{broker_port}
topic_prefix = {prefix}
keepalive_s = 5
telemetry_qos = 1
"""
    for name, path in sensors:
        text += f"""
[serial:{name}]
path = {path}
format = kv
interval_ms = 200
"""
    return text + extra


def connections(broker, client_id):
    """How many times CLIENT_ID connected to BROKER, from mosquitto's log."""
    return broker.proc.output().count(f" as {client_id} (")

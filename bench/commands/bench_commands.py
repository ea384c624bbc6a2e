#!/usr/bin/env python3
"""Command round trip: from the PUBLISH of a command to the arrival of its
result at the same client, through the real binary, mosquitto and the Modbus
simulator. Prints median and p99 for three buses:

  idle   Modbus TCP, one device polled once a second
  busy   Modbus TCP, 10 devices x 100 registers every 100 ms (the write
         must get ahead of the polls of ten devices)
  rtu    Modbus RTU over a pty at 9600 baud (the simulator answers at the
         pace of the line), compared with the wire time of the write and its
         read-back

usage: bench/commands/bench_commands.py [BUILD_DIR] [N]   (N commands a bus, default 200)

The client is a minimal MQTT 3.1.1 client on a socket (below), so no process
is spawned per command and the figure is the gateway's, not a tool's."""
import os
import socket
import statistics
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
os.environ.setdefault("EF_BIN", os.path.join(BUILD, "gateway/edgeferry"))
os.environ.setdefault("EF_BUILD_DIR", BUILD)
sys.path[:0] = [os.path.join(ROOT, "tests/harness"), os.path.join(ROOT, "tests/integration")]
import ef  # noqa: E402
from test_modbus_e2e import ModbusSim  # noqa: E402


class MiniMqtt:
    """MQTT 3.1.1, QoS 1 publish and subscribe, nothing else."""

    def __init__(self, port):
        self.s = socket.create_connection((ef.HOST, port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.mid = 0
        cid = b"bench-cmd"
        var = b"\x00\x04MQTT\x04\x02\x00\x3c"
        self._send(0x10, var + struct.pack(">H", len(cid)) + cid)
        assert self._read()[0] == 0x20

    def _send(self, head, body):
        n, rl = len(body), b""
        while True:
            d, n = n % 128, n // 128
            rl += bytes([d | (0x80 if n else 0)])
            if not n:
                break
        self.s.sendall(bytes([head]) + rl + body)

    def _read(self):
        while True:
            if len(self.buf) >= 2:
                mult, n, i = 1, 0, 1
                while i < len(self.buf):
                    n += (self.buf[i] & 127) * mult
                    mult *= 128
                    if not self.buf[i] & 128:
                        break
                    i += 1
                else:
                    i = None
                if i is not None and len(self.buf) >= i + 1 + n:
                    pkt = (self.buf[0], self.buf[i + 1:i + 1 + n])
                    self.buf = self.buf[i + 1 + n:]
                    return pkt
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def subscribe(self, topic):
        self.mid += 1
        t = topic.encode()
        self._send(0x82, struct.pack(">HH", self.mid, len(t)) + t + b"\x01")
        while self._read()[0] != 0x90:
            pass

    def publish(self, topic, payload):
        self.mid += 1
        t = topic.encode()
        self._send(0x32, struct.pack(">H", len(t)) + t + struct.pack(">H", self.mid) + payload)

    def wait_publish(self, topic):
        """Returns the payload of the next PUBLISH on TOPIC (acknowledging it)."""
        while True:
            head, body = self._read()
            if head >> 4 != 3:
                continue
            tl = struct.unpack(">H", body[:2])[0]
            got = body[2:2 + tl].decode()
            rest = body[2 + tl:]
            if (head >> 1) & 3:
                mid = rest[:2]
                rest = rest[2:]
                self._send(0x40, mid)
            if got == topic:
                return rest


def ini(tmp, broker, bus, devices):
    return f"""
[gateway]
id = b1
state_dir = {tmp.path}/state
stats_interval_s = 0
[mqtt]
uri = tcp://127.0.0.1:{broker.port}
[queue]
memory_kb = 4096
{bus}
{devices}"""


def device(name, unit, interval, nregs):
    pts = f"[point:{name}.sp]\nregister = holding:300\nwritable = true\n"
    pts += "".join(f"[point:{name}.r{i}]\nregister = holding:{400 + i}\n" for i in range(nregs))
    return f"[device:{name}]\nbus = b\nunit = {unit}\ninterval_ms = {interval}\n{pts}"


def measure(client, dev, n):
    client.subscribe(f"edgeferry/b1/result/{dev}/sp")
    rtt = []
    for i in range(n):
        t0 = time.perf_counter()
        client.publish(f"edgeferry/b1/set/{dev}/sp", str(i % 1000).encode())
        client.wait_publish(f"edgeferry/b1/result/{dev}/sp")
        rtt.append((time.perf_counter() - t0) * 1000)
    rtt.sort()
    return statistics.median(rtt), rtt[min(len(rtt) - 1, int(len(rtt) * 0.99))]


def run(name, bus_section, devices, sim_args, dev="d1", pty=False):
    tmp = ef.TempDir("ef-bench-cmd-")
    stop = []
    try:
        # Without it mosquitto's Nagle holds each small packet until the
        # previous one is acknowledged: up to 40 ms of delayed ACK a hop,
        # which is the broker's, not the gateway's (docs/performance.md).
        broker = ef.Broker(tmp, extra_conf=NODELAY); stop.append(broker.stop)
        if pty:
            p = ef.PtyPair(tmp, "rtu"); stop.append(p.stop)
            sim = ModbusSim(tmp, "rtu", p.b, *sim_args); stop.append(sim.stop)
            bus = bus_section.format(path=p.a)
        else:
            sim = ModbusSim(tmp, "tcp", 0, *sim_args); stop.append(sim.stop)
            bus = bus_section.format(port=sim.port)
        gw = ef.Gateway(tmp, ini(tmp, broker, bus, devices)).start(); stop.append(gw.stop)
        client = MiniMqtt(broker.port)
        time.sleep(2)  # connected, subscribed, polling
        med, p99 = measure(client, dev, N)
        print(f"{name:6s} {N} commands: median {med:7.2f} ms   p99 {p99:7.2f} ms", flush=True)
        return med, p99
    finally:
        for s in reversed(stop):
            s()
        tmp.cleanup()


NODELAY = "set_tcp_nodelay true\n" if os.environ.get("EF_BROKER_NAGLE") is None else ""


def main():
    tcp = "[bus:b]\ntype = tcp\nhost = 127.0.0.1\nport = {port}\n"
    run("idle", tcp, device("d1", 1, 1000, 1), ["--unit", 1])
    units = []
    for u in range(1, 11):
        units += ["--unit", u]
    run("busy", tcp, "".join(device(f"d{u}", u, 100, 100) for u in range(1, 11)), units)
    rtu = "[bus:b]\ntype = rtu\npath = {path}\nbaud = 9600\ntimeout_ms = 500\n"
    med, _ = run("rtu", rtu, device("d1", 1, 1000, 1), ["--unit", 1, "--baud-pace", 9600],
                 pty=True)
    # FC6 request and echo (8 + 8 bytes), FC3 read-back of one register
    # (8 + 7), each frame followed by 3.5 characters of silence; 10 bits a
    # character at 9600 baud.
    chars = 8 + 8 + 8 + 7 + 4 * 3.5
    wire = chars * 10 / 9600 * 1000
    print(f"rtu    wire time of the write and its read-back at 9600 baud: {wire:.1f} ms; "
          f"the round trip's median is {med / wire:.2f}x that")


if __name__ == "__main__":
    main()

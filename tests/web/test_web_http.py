#!/usr/bin/env python3
"""The local web view over plain HTTP: the real edgeferry with [http] on a
free loopback port, polling the Modbus simulator. Authentication, the
limits on clients and event streams, /api/status, /metrics through
promtool, reloads, and what a gateway without [http] maps."""
import os
import signal
import socket
import subprocess
import time

import ef
from webutil import (ModbusSim, get, http_section, ini, maps, point, rss_kib, status,
                     wait_status)

T = ef.Test()


def start(tmp, cleanup, http, broker_port=1, extra=""):
    sim = ModbusSim(tmp)
    cleanup(sim.stop)
    gw = ef.Gateway(tmp, ini(tmp, sim.port, broker_port, http, extra)).start()
    cleanup(gw.stop)
    return sim, gw


def sse_open(port, host="127.0.0.1", rcvbuf=None, src=None, auth_header=""):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if src:
        s.bind((src, 0))
    s.settimeout(10 * ef.TIME_SCALE)
    s.connect((host, port))
    s.sendall(f"GET /events HTTP/1.1\r\nHost: x\r\n{auth_header}\r\n".encode())
    return s


def read_until(s, marker, limit=1 << 20):
    data = b""
    while marker not in data and len(data) < limit:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@T.case
def http_absent_opens_no_port_and_maps_no_http_library(tmp, cleanup):
    port = ef.free_port()
    sim, gw = start(tmp, cleanup, "")
    ef.wait_until(lambda: "started" in gw.output(), 15, what="start-up")
    time.sleep(1.5)  # a second web publish would have happened by now
    m = maps(gw.proc.pid)
    assert "microhttpd" not in m and "gnutls" not in m, "HTTP library mapped without [http]"
    gw.stop()
    # The same gateway with [http] does map it, so the check above can fail.
    gw2 = ef.Gateway(tmp, ini(tmp, sim.port, 1, http_section(port)), name="gw2").start()
    cleanup(gw2.stop)
    wait_status(port, lambda s: True, "the web view")
    assert "libmicrohttpd" in maps(gw2.proc.pid)


@T.case
def api_status_shows_devices_points_alarms_link_and_queue(tmp, cleanup):
    broker = ef.Broker(tmp)
    cleanup(broker.stop)
    port = ef.free_port()
    sim, gw = start(tmp, cleanup, http_section(port), broker.port)
    s = wait_status(port, lambda s: s["broker"]["connected"] and point(s, "d1", "ramp")["ts"] > 0
                    and point(s, "d1", "state")["ts"] > 0, "values and a connected broker")
    assert s["gateway"] == "gw-web"
    d = s["devices"][0]
    assert d["name"] == "d1" and d["kind"] == "modbus" and d["online"] is True
    assert d["last_poll"] > 0 and d["counters"]["polls"] >= 1
    assert [p["name"] for p in d["points"]] == ["ramp", "temp", "state"]
    temp = point(s, "d1", "temp")
    assert abs(temp["value"] - 3.14159274) < 1e-6 and temp["unit"] == "°C <b>"
    assert temp["alarm"] == "high"
    assert point(s, "d1", "state")["value"] is True  # coil 3: 3 % 3 == 0
    assert {"device": "d1", "point": "temp", "kind": "high"} in s["alarms"]
    assert "queue_memory_msgs" in s["gauges"] and "published" in s["counters"]
    first = point(s, "d1", "ramp")
    wait_status(port, lambda s: point(s, "d1", "ramp")["ts"] > first["ts"], "a newer reading")
    code, hdr, body = get(port, "/api/status")
    assert hdr["Content-Type"] == "application/json"
    # Free text is escaped: the unit's markup cannot reach a page as markup.
    assert b"<b>" not in body and b"\\u003cb\\u003e" in body
    assert get(port, "/nope")[0] == 404
    code, hdr, body = get(port, "/")
    assert code == 200 and hdr["Content-Type"].startswith("text/html") and b"EventSource" in body
    assert "default-src 'none'" in hdr["Content-Security-Policy"]


@T.case
def dead_device_shows_offline_with_its_alarm(tmp, cleanup):
    port = ef.free_port()
    sim = ModbusSim(tmp, "--dead-unit", 2)
    cleanup(sim.stop)
    extra = "[device:d2]\nbus = b\nunit = 2\noffline_after = 1\n[point:d2.x]\nregister = holding:0\n"
    gw = ef.Gateway(tmp, ini(tmp, sim.port, 1, http_section(port), extra)).start()
    cleanup(gw.stop)
    s = wait_status(port, lambda s: not s["devices"][1]["online"], "d2 offline")
    assert s["devices"][0]["online"] and s["devices"][1]["answered"] is False
    assert {"device": "d2", "point": None, "kind": "offline"} in s["alarms"]
    assert point(s, "d2", "x")["value"] is None and point(s, "d2", "x")["ts"] == 0


@T.case
def metrics_pass_promtool_with_per_device_series(tmp, cleanup):
    port = ef.free_port()
    sim, gw = start(tmp, cleanup, http_section(port))
    wait_status(port, lambda s: point(s, "d1", "ramp")["ts"] > 0, "a reading")
    code, hdr, body = get(port, "/metrics")
    assert code == 200 and hdr["Content-Type"].startswith("text/plain; version=0.0.4")
    r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
    assert r.returncode == 0, f"promtool: {r.stdout.decode()} {r.stderr.decode()}"
    text = body.decode()
    for line in ["# TYPE edgeferry_readings_total counter",
                 "# TYPE edgeferry_queue_memory_msgs gauge",
                 "# TYPE edgeferry_broker_connected gauge",
                 "edgeferry_broker_connected 0",
                 "edgeferry_device_online{device=\"d1\"} 1",
                 "edgeferry_alarms_active 1",
                 "edgeferry_point_value{device=\"d1\",point=\"state\"} 1"]:
        assert line + "\n" in text, f"no {line!r} in /metrics"
    polls = [ln for ln in text.splitlines() if ln.startswith('edgeferry_device_polls_total{device="d1"}')]
    assert len(polls) == 1 and int(polls[0].split()[1]) >= 1
    # promtool can fail: a made-up bad line is refused.
    bad = subprocess.run(["promtool", "check", "metrics"], input=body + b"edgeferry bad value\n",
                         capture_output=True)
    assert bad.returncode != 0


@T.case
def basic_auth_refuses_missing_or_wrong_credentials(tmp, cleanup):
    port = ef.free_port()
    pw = tmp.file("http-password", "admin:s3cret:x\n")
    os.chmod(pw, 0o600)
    sim, gw = start(tmp, cleanup, http_section(port, pw))
    ok = ("admin", "s3cret:x")
    wait_status(port, lambda s: True, "the web view", auth=ok)
    for path in ["/", "/api/status", "/metrics", "/events", "/nope"]:
        for auth in [None, ("admin", "s3cret"), ("admin", "s3cret:xy"), ("Admin", "s3cret:x"),
                     ("", "")]:
            code, hdr, body = get(port, path, auth)
            assert code == 401, f"{path} with {auth}: {code}"
            assert hdr["WWW-Authenticate"].startswith("Basic realm=")
            assert b"gw-web" not in body
    for path in ["/", "/api/status", "/metrics"]:
        assert get(port, path, ok)[0] == 200
    s = sse_open(port, auth_header="Authorization: Basic YWRtaW46czNjcmV0Ong=\r\n")
    assert b"data: {" in read_until(s, b"\n\n", 1 << 16)
    s.close()
    # Garbage in the header is refused, not crashed on.
    raw = socket.create_connection(("127.0.0.1", port))
    raw.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!!!====\r\n\r\n")
    assert read_until(raw, b"\r\n").startswith(b"HTTP/1.1 401")
    raw.close()
    assert gw.proc.alive()


@T.case
def non_loopback_listen_without_password_is_an_error_at_its_line(tmp, cleanup):
    path = tmp.file("bad.ini", "[gateway]\nid = g\n[mqtt]\nuri = tcp://127.0.0.1:1\n"
                    "[http]\nlisten = 0.0.0.0:8080\n")
    rc, out, err = ef.run_edgeferry(["--check", "-c", path])
    assert rc == 2 and f"{path}:6: [http] listen: 0.0.0.0 is not a loopback address" in err, err
    with open(path, "a") as f:
        f.write("password_file = /etc/edgeferry/http-password\n")
    rc, out, err = ef.run_edgeferry(["--check", "-c", path])
    assert rc == 0, err


@T.case
def many_idle_clients_cannot_lock_out_another_one(tmp, cleanup):
    port = ef.free_port()
    sim, gw = start(tmp, cleanup, http_section(port))
    wait_status(port, lambda s: True, "the web view")
    rss0 = rss_kib(gw.proc.pid)
    hogs = []
    for _ in range(80):  # well past both the per-address and the total cap
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(b"GET /api/status HTTP/1.1\r\n")  # a request never finished
            hogs.append(c)
        except OSError:
            pass
    time.sleep(0.5)
    # Another address still gets in (127.0.0.2 is loopback too).
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(10 * ef.TIME_SCALE)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    reply = read_until(s, b"\"devices\"")
    assert reply.startswith(b"HTTP/1.1 200") and b"gw-web" in reply, reply[:200]
    s.close()
    assert rss_kib(gw.proc.pid) - rss0 < 4096, "80 idle clients cost more than 4 MiB"

    # The idle ones are closed by the server's idle timeout.
    def closed(c):
        try:
            c.settimeout(0.01)
            return c.recv(4096) == b""
        except socket.timeout:
            return False
        except OSError:
            return True
    ef.wait_until(lambda: all(closed(c) for c in hogs), 90, step=0.5, what="idle clients closed")
    for c in hogs:
        c.close()
    assert get(port, "/api/status")[0] == 200


@T.case
def event_streams_are_capped(tmp, cleanup):
    port = ef.free_port()
    sim, gw = start(tmp, cleanup, http_section(port))
    wait_status(port, lambda s: True, "the web view")
    streams = []
    for i in range(16):  # EF_WEB_MAX_STREAMS, from two addresses (per-address cap)
        s = sse_open(port, src="127.0.0.1" if i < 8 else "127.0.0.3")
        assert b"data: {" in read_until(s, b"\n\n", 1 << 16)
        streams.append(s)
    wait_status(port, lambda s: s["http"]["streams"] == 16, "16 streams counted")
    extra = sse_open(port, src="127.0.0.4")
    head = read_until(extra, b"\r\n")
    assert head.startswith(b"HTTP/1.1 503"), head
    extra.close()
    # Every open stream keeps receiving new snapshots.
    for s in streams:
        assert b"data: {" in read_until(s, b"\n\n", 1 << 20)
    streams.pop().close()
    wait_status(port, lambda s: s["http"]["streams"] == 15, "a closed stream released")
    again = sse_open(port, src="127.0.0.4")
    assert read_until(again, b"\r\n").startswith(b"HTTP/1.1 200")
    # Stopping with streams open ends them and frees them.
    clean_exit(gw)
    for s in streams + [again]:
        s.close()


@T.case
def stalled_event_stream_costs_bounded_memory_and_is_dropped(tmp, cleanup):
    port = ef.free_port()
    # A device with many points: each snapshot is tens of KiB.
    extra = "".join(f"[point:d1.r{i}]\nregister = holding:{200 + i}\nunit = some unit\n"
                    for i in range(300))
    sim, gw = start(tmp, cleanup, http_section(port), extra=extra)
    wait_status(port, lambda s: point(s, "d1", "r299")["ts"] > 0, "the many points")
    size = len(get(port, "/api/status")[2])
    assert size > 20000, size
    stalled = sse_open(port, rcvbuf=4096)  # never read from again
    wait_status(port, lambda s: s["http"]["streams"] == 1, "the stalled stream counted")
    rss0 = rss_kib(gw.proc.pid)
    t0 = time.monotonic()
    # Meanwhile a reading client keeps getting fresh snapshots.
    reader = sse_open(port, src="127.0.0.2")
    got = 0
    while time.monotonic() - t0 < 12 * ef.TIME_SCALE:
        data = read_until(reader, b"\n\n", 1 << 22)
        got += data.count(b"data: {")
    assert got >= 5, f"the reading client got {got} snapshots in 12 s"
    reader.close()
    # Snapshots kept coming (12+ of ~{size} bytes) but the gateway kept one at most.
    # (Not under ASan: its allocator keeps freed memory in quarantine, so
    # RSS grows with every allocation, bounded or not.)
    grown = rss_kib(gw.proc.pid) - rss0
    if os.environ.get("EF_SANITIZED") != "1":
        assert grown < 2048, f"RSS grew by {grown} KiB while a stream was stalled"
    # No byte moves on the stalled stream: the idle timeout ends it.
    wait_status(port, lambda s: s["http"]["streams"] == 0, "the stalled stream dropped", 120)
    stalled.close()
    clean_exit(gw)


@T.case
def reload_restarts_the_server_only_when_http_changes(tmp, cleanup):
    port, port2 = ef.free_port(), ef.free_port()
    pw = tmp.file("pw", "u:one\n")
    os.chmod(pw, 0o600)
    sim = ModbusSim(tmp)
    cleanup(sim.stop)
    gw = ef.Gateway(tmp, ini(tmp, sim.port, 1, http_section(port, pw))).start()
    cleanup(gw.stop)
    wait_status(port, lambda s: True, "the web view", auth=("u", "one"))
    # Unchanged [http]: the same server goes on (an open stream survives).
    s = sse_open(port, auth_header="Authorization: Basic dTpvbmU=\r\n")
    read_until(s, b"\n\n")
    gw.proc.signal(signal.SIGHUP)
    ef.wait_until(lambda: "reload: 1 Modbus" in gw.output(), 20, what="reload")
    assert b"data: {" in read_until(s, b"\n\n")
    assert "http: restarting" not in gw.output()
    # A new password: restarted, the old one refused.
    with open(pw, "w") as f:
        f.write("u:two\n")
    gw.proc.signal(signal.SIGHUP)
    ef.wait_until(lambda: "http: restarting" in gw.output(), 20, what="http restart")
    wait_status(port, lambda s: True, "the web view again", auth=("u", "two"))
    assert get(port, "/api/status", ("u", "one"))[0] == 401
    s.close()
    # A new address: the old port is closed.
    gw.rewrite(ini(tmp, sim.port, 1, http_section(port2, pw)))
    gw.proc.signal(signal.SIGHUP)
    wait_status(port2, lambda s: True, "the web view on the new port", auth=("u", "two"))
    ef.wait_until(lambda: get_refused(port), 10, what="old port closed")
    # [http] removed: no port at all.
    gw.rewrite(ini(tmp, sim.port, 1, ""))
    gw.proc.signal(signal.SIGHUP)
    ef.wait_until(lambda: get_refused(port2), 20, what="http stopped")
    assert gw.proc.alive()
    clean_exit(gw)


def clean_exit(gw):
    """The gateway stops with 0 and, under the sanitizers, reports nothing."""
    rc = gw.stop()
    out = gw.output()
    assert rc == 0, f"exit code {rc}"
    assert "Sanitizer" not in out and "runtime error" not in out, out[-3000:]


def get_refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except OSError:
        return True


if __name__ == "__main__":
    raise SystemExit(T.run())

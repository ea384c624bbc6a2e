#!/usr/bin/env python3
"""Which paho build the gateway loads (gateway/mqtt/paho_dl.c): a plain link
(tcp://, mqtt://, ws://) maps libpaho-mqtt3a and no OpenSSL at all, which is
what keeps its RSS low (docs/performance.md); a TLS link (ssl://) maps
libpaho-mqtt3as; a SIGHUP reload from tcp:// to ssl:// loads the TLS build
next to the other and publishes over TLS. Checked in /proc/PID/maps of the
real binary while it publishes to a real broker."""
import os
import re
import signal

import ef
from secure import TELEMETRY, Aedes, Setup, assert_telemetry, gateway_ini, tls_listener

T = ef.Test()
TLS_LIBS = ("libssl.so", "libcrypto.so")


def mapped(pid):
    """Base names of the files mapped into PID."""
    names = set()
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith("/"):
                names.add(os.path.basename(parts[5].strip()))
    return names


def has(names, prefix):
    """A mapped file named PREFIX followed by a version (libfoo.so.1.2)."""
    return any(re.match(re.escape(prefix) + r"(\.|$)", n) for n in names)


def assert_plain(gw):
    names = mapped(gw.proc.pid)
    assert has(names, "libpaho-mqtt3a.so"), sorted(names)
    assert not has(names, "libpaho-mqtt3as.so"), sorted(names)
    tls = [n for n in names if n.startswith(TLS_LIBS)]
    assert not tls, f"a plain link maps {tls}: {sorted(names)}"


def plain_over(tmp, cleanup, scheme):
    s = Setup(tmp, cleanup)
    broker = s.broker()
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = {scheme}://127.0.0.1:{broker.port}")
    assert_telemetry(sub)
    assert_plain(gw)
    # Still so after more publishing (nothing loads OpenSSL later).
    n = len(sub.all(TELEMETRY))
    sub.wait_count(TELEMETRY, n + 3, timeout=20)
    assert_plain(gw)
    assert gw.stop() == 0, gw.output()


@T.case
def paho_tcp_scheme_maps_the_plain_build_and_no_openssl(tmp, cleanup):
    plain_over(tmp, cleanup, "tcp")


@T.case
def paho_mqtt_scheme_maps_the_plain_build_and_no_openssl(tmp, cleanup):
    plain_over(tmp, cleanup, "mqtt")


@T.case
def paho_ws_scheme_maps_the_plain_build_and_no_openssl(tmp, cleanup):
    s = Setup(tmp, cleanup)
    broker = Aedes(tmp, ws=True, path="/mqtt")
    cleanup(broker.stop)
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = ws://127.0.0.1:{broker.ws_port}/mqtt")
    assert_telemetry(sub)
    assert_plain(gw)


@T.case
def paho_ssl_scheme_maps_the_tls_build(tmp, cleanup):
    s = Setup(tmp, cleanup)
    tls_port = ef.free_port()
    broker = s.broker(tls_listener(tls_port, s.certs))
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = ssl://127.0.0.1:{tls_port}\nca_file = {s.certs['ca'][0]}")
    assert_telemetry(sub)
    names = mapped(gw.proc.pid)
    assert has(names, "libpaho-mqtt3as.so"), sorted(names)
    assert not has(names, "libpaho-mqtt3a.so"), sorted(names)
    assert has(names, "libssl.so") and has(names, "libcrypto.so"), sorted(names)
    assert gw.stop() == 0, gw.output()


@T.case
def paho_reload_from_tcp_to_ssl_loads_the_tls_build(tmp, cleanup):
    s = Setup(tmp, cleanup)
    tls_port = ef.free_port()
    broker = s.broker(tls_listener(tls_port, s.certs))
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = tcp://127.0.0.1:{broker.port}")
    assert_telemetry(sub)
    assert_plain(gw)

    gw.rewrite(gateway_ini(tmp, s.sim.port,
                           f"uri = ssl://127.0.0.1:{tls_port}\nca_file = {s.certs['ca'][0]}"))
    gw.proc.signal(signal.SIGHUP)
    gw.proc.wait_output(f"connected to ssl://127.0.0.1:{tls_port}", timeout=30)
    n = len(sub.all(TELEMETRY))
    sub.wait_count(TELEMETRY, n + 3, timeout=20)
    names = mapped(gw.proc.pid)
    assert has(names, "libpaho-mqtt3as.so") and has(names, "libssl.so"), sorted(names)
    assert has(names, "libpaho-mqtt3a.so"), sorted(names)  # loaded first, never unloaded
    log = gw.output()
    assert "reload: [mqtt] changed, reconnecting" in log, log
    assert "cannot load" not in log, log
    assert gw.stop() == 0, gw.output()


@T.case
def paho_unloadable_client_library_is_named_and_exits_1(tmp, cleanup):
    """A broken or missing paho (here: a file that is not a library, found
    first through LD_LIBRARY_PATH) is reported by name with the Debian
    package to install, and the gateway exits 1 (runtime failure) rather
    than running without a broker connection."""
    s = Setup(tmp, cleanup)
    broker = s.broker()
    libdir = os.path.join(tmp.path, "badlib")
    os.makedirs(libdir)
    with open(os.path.join(libdir, "libpaho-mqtt3a.so.1"), "w") as f:
        f.write("not a shared object\n")
    gw = ef.Gateway(tmp, gateway_ini(tmp, s.sim.port, f"uri = tcp://127.0.0.1:{broker.port}"),
                    extra_env={"LD_LIBRARY_PATH": libdir}).start()
    cleanup(gw.stop)
    rc = gw.proc.wait(timeout=20)
    log = gw.output()
    assert rc == 1, f"exit {rc}: {log}"
    assert "cannot load libpaho-mqtt3a.so.1" in log and "libpaho-mqtt1.3" in log, log
    assert f"cannot create a client for tcp://127.0.0.1:{broker.port}" in log, log


if __name__ == "__main__":
    raise SystemExit(T.run())

#!/usr/bin/env python3
"""MQTT over TLS against a real mosquitto with certificates made by the test:
telemetry, birth and will over ssl:// and mqtts://, client certificates, and
brokers that must be refused (unknown CA, wrong host name, expired
certificate) with a message that says why, once, while retrying."""
import ef
from secure import (HOST, STATUS, TELEMETRY, Setup, assert_birth_and_will, assert_telemetry,
                    tls_listener)

T = ef.Test()


def tls_setup(tmp, cleanup, server="server", require_certificate=False):
    s = Setup(tmp, cleanup)
    tls_port = ef.free_port()
    broker = s.broker(tls_listener(tls_port, s.certs, server, require_certificate))
    return s, broker, tls_port


def telemetry_and_will_over(tmp, cleanup, scheme):
    s, broker, tls_port = tls_setup(tmp, cleanup)
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = {scheme}://127.0.0.1:{tls_port}\nca_file = {s.certs['ca'][0]}")
    assert_telemetry(sub)
    assert_birth_and_will(s, sub, gw, broker.port)
    log = gw.output()
    assert f"connected to {scheme}://127.0.0.1:{tls_port}" in log, log
    assert "tls_verify is off" not in log, log


@T.case
def tls_ssl_scheme_telemetry_birth_and_will(tmp, cleanup):
    telemetry_and_will_over(tmp, cleanup, "ssl")


@T.case
def tls_mqtts_scheme_telemetry_birth_and_will(tmp, cleanup):
    telemetry_and_will_over(tmp, cleanup, "mqtts")


@T.case
def tls_client_certificate_accepted_where_required(tmp, cleanup):
    s, broker, tls_port = tls_setup(tmp, cleanup, require_certificate=True)
    sub = s.subscriber(broker.port)
    crt, key = s.certs["client"]
    gw = s.gateway(f"uri = ssl://127.0.0.1:{tls_port}\nca_file = {s.certs['ca'][0]}\n"
                   f"cert_file = {crt}\nkey_file = {key}")
    assert_telemetry(sub)
    assert_birth_and_will(s, sub, gw, broker.port)


@T.case
def tls_without_client_certificate_refused_where_required(tmp, cleanup):
    s, broker, tls_port = tls_setup(tmp, cleanup, require_certificate=True)
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = ssl://127.0.0.1:{tls_port}\nca_file = {s.certs['ca'][0]}",
                   log_level="debug")
    refused(gw, broker, sub, tls_port, "the broker requires a client certificate")


def refused(gw, broker, sub, tls_port, reason):
    """The gateway logs REASON once, keeps trying (the broker sees several
    TLS connections), and nothing is published."""
    gw.proc.wait_output(f"cannot connect to ssl://127.0.0.1:{tls_port}", timeout=20)
    ef.wait_until(lambda: broker.proc.output().count(f"on port {tls_port}") >= 3, 30,
                  what="three connection attempts at the broker")
    log = gw.output()
    lines = [ln for ln in log.splitlines() if "cannot connect" in ln]
    assert len(lines) == 1, log
    assert reason in lines[0], lines[0]
    assert "connected to" not in log, log
    assert not sub.all(TELEMETRY) and not sub.all(STATUS), sub.all()


@T.case
def tls_unknown_ca_refused_with_reason(tmp, cleanup):
    s, broker, tls_port = tls_setup(tmp, cleanup, server="foreign")
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = ssl://127.0.0.1:{tls_port}\nca_file = {s.certs['ca'][0]}")
    refused(gw, broker, sub, tls_port, "the broker's certificate is signed by an unknown CA")


@T.case
def tls_wrong_host_name_refused_with_reason(tmp, cleanup):
    s, broker, tls_port = tls_setup(tmp, cleanup, server="wronghost")
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = ssl://127.0.0.1:{tls_port}\nca_file = {s.certs['ca'][0]}")
    refused(gw, broker, sub, tls_port,
            "the broker's certificate is not valid for host name 127.0.0.1")


@T.case
def tls_expired_certificate_refused_with_reason(tmp, cleanup):
    s, broker, tls_port = tls_setup(tmp, cleanup, server="expired")
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = ssl://127.0.0.1:{tls_port}\nca_file = {s.certs['ca'][0]}")
    refused(gw, broker, sub, tls_port, "the broker's certificate has expired")


@T.case
def tls_verify_off_connects_to_wrong_host_and_warns_every_connect(tmp, cleanup):
    s, broker, tls_port = tls_setup(tmp, cleanup, server="wronghost")
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = ssl://127.0.0.1:{tls_port}\nca_file = {s.certs['ca'][0]}\n"
                   "tls_verify = false")
    assert_telemetry(sub)
    warning = "tls_verify is off"
    assert gw.output().count(warning) == 1, gw.output()
    broker.restart()  # a second connection must warn again
    ef.wait_until(lambda: gw.output().count(f"connected to ssl://{HOST}:{tls_port}") >= 2, 60,
                  what="a reconnect")
    assert gw.output().count(warning) >= 2, gw.output()


if __name__ == "__main__":
    raise SystemExit(T.run())

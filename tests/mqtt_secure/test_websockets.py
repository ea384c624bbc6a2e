#!/usr/bin/env python3
"""MQTT over WebSockets (ws://) and WebSockets over TLS (wss://) with a path,
against aedes, a second broker implementation (Debian's mosquitto has no
WebSocket listener): telemetry, the birth and the will arrive over each."""
import ef
from secure import TELEMETRY, Aedes, Setup, assert_birth_and_will, assert_telemetry

T = ef.Test()


def over_websocket(tmp, cleanup, tls):
    s = Setup(tmp, cleanup)
    broker = Aedes(tmp, ws=not tls, wss_cert=s.certs["server"] if tls else None,
                   path="/edge/mqtt")
    cleanup(broker.stop)
    sub = s.subscriber(broker.port)
    if tls:
        mqtt = f"uri = wss://127.0.0.1:{broker.wss_port}/edge/mqtt\nca_file = {s.certs['ca'][0]}"
    else:
        mqtt = f"uri = ws://127.0.0.1:{broker.ws_port}/edge/mqtt"
    gw = s.gateway(mqtt)
    assert_telemetry(sub)
    assert "client connected edgeferry-gw" in broker.proc.output(), broker.proc.output()
    assert_birth_and_will(s, sub, gw, broker.port)


@T.case
def ws_path_telemetry_birth_and_will(tmp, cleanup):
    over_websocket(tmp, cleanup, tls=False)


@T.case
def wss_path_telemetry_birth_and_will(tmp, cleanup):
    over_websocket(tmp, cleanup, tls=True)


@T.case
def ws_wrong_path_is_refused(tmp, cleanup):
    """The broker upgrades only /edge/mqtt: a gateway configured with
    another path gets nowhere, which proves the path is really sent."""
    s = Setup(tmp, cleanup)
    broker = Aedes(tmp, ws=True, path="/edge/mqtt")
    cleanup(broker.stop)
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = ws://127.0.0.1:{broker.ws_port}/other")
    gw.proc.wait_output("cannot connect to ws://", timeout=20)
    assert "connected to ws://" not in gw.output(), gw.output()
    assert not sub.all(TELEMETRY)


@T.case
def wss_unknown_ca_refused_with_reason(tmp, cleanup):
    s = Setup(tmp, cleanup)
    broker = Aedes(tmp, wss_cert=s.certs["foreign"], path="/mqtt")
    cleanup(broker.stop)
    gw = s.gateway(f"uri = wss://127.0.0.1:{broker.wss_port}/mqtt\n"
                   f"ca_file = {s.certs['ca'][0]}")
    gw.proc.wait_output("cannot connect to wss://", timeout=20)
    lines = [ln for ln in gw.output().splitlines() if "cannot connect" in ln]
    assert "signed by an unknown CA" in lines[0], lines


if __name__ == "__main__":
    raise SystemExit(T.run())

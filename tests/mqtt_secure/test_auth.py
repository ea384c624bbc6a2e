#!/usr/bin/env python3
"""User name and password_file against a real mosquitto with a password
file, and MQTT 5 sessions: telemetry, birth and will, a wrong password
refused with a clear reason logged once while the gateway keeps retrying,
and the password kept out of the log, --check and the process's
command line and environment."""
import os
import subprocess

import ef
from secure import GID, HOST, STATUS, TELEMETRY, Setup, assert_birth_and_will, assert_telemetry

T = ef.Test()
USER = "meter-gw"
SECRET = "s3cret-Pa55-9f2c"


def auth_setup(tmp, cleanup, version="3.1.1", password=SECRET, mode=0o600):
    """A broker whose first listener stays anonymous (for the test's own
    subscriber) and whose second wants USER/SECRET; the gateway logs in
    with PASSWORD from a file of MODE."""
    s = Setup(tmp, cleanup)
    pwfile = tmp.file("mosquitto.passwd")
    subprocess.run(["mosquitto_passwd", "-b", "-c", pwfile, USER, SECRET], check=True)
    port = ef.free_port()
    broker = s.broker(f"listener {port} {HOST}\nallow_anonymous false\npassword_file {pwfile}\n",
                      head="per_listener_settings true\n")
    secret_file = tmp.file("gw.password", password + "\n")
    os.chmod(secret_file, mode)
    sub = s.subscriber(broker.port)
    mqtt = (f"uri = mqtt://127.0.0.1:{port}\nusername = {USER}\npassword_file = {secret_file}\n"
            f"version = {version}")
    return s, broker, port, sub, mqtt, pwfile


def assert_secret_hidden(gw, secret):
    """The password is nowhere a user or another process could read it."""
    assert secret not in gw.output(), gw.output()
    with open(f"/proc/{gw.proc.pid}/cmdline", "rb") as f:
        assert secret.encode() not in f.read()
    with open(f"/proc/{gw.proc.pid}/environ", "rb") as f:
        assert secret.encode() not in f.read()
    rc, out, err = ef.run_edgeferry(["--check", "-c", gw.ini])
    assert rc == 0, err
    assert secret not in out + err, out + err
    assert USER in out, out  # --check does show who logs in


@T.case
def password_accepted_and_never_shown(tmp, cleanup):
    s, broker, port, sub, mqtt, _ = auth_setup(tmp, cleanup)
    gw = s.gateway(mqtt, log_level="debug")
    assert_telemetry(sub)
    assert_secret_hidden(gw, SECRET)
    assert "readable by other users" not in gw.output(), gw.output()
    assert_birth_and_will(s, sub, gw, broker.port)


@T.case
def password_file_readable_by_others_warns(tmp, cleanup):
    s, broker, port, sub, mqtt, _ = auth_setup(tmp, cleanup, mode=0o644)
    gw = s.gateway(mqtt)
    assert_telemetry(sub)
    gw.proc.wait_output("readable by other users")


def wrong_password_then_fixed(tmp, cleanup, version, reasons):
    wrong = "not-the-" + SECRET
    s, broker, port, sub, mqtt, pwfile = auth_setup(tmp, cleanup, version, password=wrong)
    gw = s.gateway(mqtt, log_level="debug")
    gw.proc.wait_output(f"cannot connect to mqtt://127.0.0.1:{port}", timeout=20)
    ef.wait_until(lambda: gw.output().count("failed again") >= 2, 30, what="two retries")
    ef.wait_until(lambda: broker.proc.output().count(f"on port {port}") >= 3, 30,
                  what="three connection attempts at the broker")
    lines = [ln for ln in gw.output().splitlines() if "cannot connect" in ln]
    assert len(lines) == 1, gw.output()
    assert any(r in lines[0] for r in reasons), lines[0]
    print(lines[0])
    assert not sub.all(TELEMETRY) and not sub.all(STATUS)
    assert_secret_hidden(gw, wrong)
    # The broker now accepts that password: the gateway's next retry gets in.
    subprocess.run(["mosquitto_passwd", "-b", pwfile, USER, wrong], check=True)
    broker.proc.signal(1)  # SIGHUP: mosquitto reloads its password file
    # Back-off may be up to 45 s by now; the backlog comes live-first.
    assert_telemetry(sub, ordered=False, timeout=60)
    sub.wait_payload(STATUS, "online")


@T.case
def wrong_password_logged_once_retried_then_accepted(tmp, cleanup):
    wrong_password_then_fixed(tmp, cleanup, "3.1.1",
                              ["bad user name or password", "not authorized"])


@T.case
def mqtt5_wrong_password_reason_code_logged_once(tmp, cleanup):
    wrong_password_then_fixed(tmp, cleanup, "5",
                              ["Bad user name or password", "Not authorized"])


@T.case
def mqtt5_telemetry_birth_and_will(tmp, cleanup):
    s = Setup(tmp, cleanup)
    broker = s.broker()
    sub = s.subscriber(broker.port)
    gw = s.gateway(f"uri = tcp://127.0.0.1:{broker.port}\nversion = 5")
    assert_telemetry(sub)
    # mosquitto logs the protocol of each client: p5 is MQTT 5.
    ef.wait_until(lambda: f"as edgeferry-{GID} (p5" in broker.proc.output(), 10,
                  what="an MQTT 5 session in the broker log")
    assert_birth_and_will(s, sub, gw, broker.port)


@T.case
def mqtt5_with_password(tmp, cleanup):
    s, broker, port, sub, mqtt, _ = auth_setup(tmp, cleanup, version="5")
    gw = s.gateway(mqtt)
    assert_telemetry(sub)
    assert f"as edgeferry-{GID} (p5" in broker.proc.output(), broker.proc.output()
    assert_secret_hidden(gw, SECRET)


if __name__ == "__main__":
    raise SystemExit(T.run())

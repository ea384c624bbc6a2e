#!/usr/bin/env python3
"""Home Assistant MQTT discovery and device availability, end to end: the
real edgeferry binary, a real mosquitto, the Modbus simulator on TCP and
scripted kv sensors on ptys. The value templates are rendered with a real
Jinja2 (Debian's python3-jinja2) the way Home Assistant's MQTT integration
renders them (variables value, value_json and this; the output stripped),
and the rendered text is fed to a model of what each component then does
with it (homeassistant/components/mqtt/{sensor,binary_sensor,number,switch}.py)."""
import json
import os
import signal
import subprocess
import sys

import ef

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "alarms"))
from alarm_util import ModbusSim, ScriptedSensor, ini, main, sensor_section  # noqa: E402

try:
    import jinja2
    import jinja2.sandbox
except ImportError:  # a clear failure, not a skip: the test needs it
    sys.exit("test_homeassistant_e2e.py needs Jinja2: apt-get install python3-jinja2")

T = ef.Test()
BASE = "edgeferry/gw1"
HA = "homeassistant"
RELOADED = "reload: "


def retained_all(port, topic_filter, timeout=3):
    """Every retained message a new subscriber gets: {topic: payload}."""
    out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t",
                          topic_filter, "-W", str(timeout), "-F", "%r\t%t\t%p",
                          "--retained-only"],
                         capture_output=True, text=True)
    got = {}
    for line in out.stdout.splitlines():
        flag, topic, payload = line.split("\t", 2)
        assert flag == "1", line
        got[topic] = payload
    return got


def modbus_body(sim, name="m", offline_after=2):
    return f"""
[bus:b]
type = tcp
host = 127.0.0.1
port = {sim.port}
timeout_ms = 200
retries = 0

[device:{name}]
bus = b
unit = 1
interval_ms = 200
offline_after = {offline_after}

[point:{name}.voltage]
register = input:11
scale = 0.01
unit = V

[point:{name}.relay]
register = coil:3

[point:{name}.flag]
register = holding:12
bit = 1

[point:{name}.raw]
register = holding:10
type = int16

[point:{name}.pump]
register = coil:4
writable = true

[point:{name}.setpoint]
register = holding:11
scale = 0.01
unit = degC
writable = true
write_min = 5
write_max = 1000
"""


def kv_body(sensor, name="s"):
    return sensor_section(sensor, name) + f"""
[point:{name}.temp]
unit = degC
deadband = 0.5

[point:{name}.count]
"""


def start(tmp, cleanup, body, ha="[homeassistant]\nenabled = true\n"):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sub = ef.Subscriber(broker.port, [f"{BASE}/#", f"{HA}/#"], tmp); cleanup(sub.stop)
    gw = ef.Gateway(tmp, ini(tmp, broker.port, ha + body)).start()
    cleanup(gw.stop)
    return broker, sub, gw


def configs(sub):
    """The latest config per discovery topic seen live, parsed (None: removed)."""
    out = {}
    for m in sub.all(prefix=f"{HA}/"):
        if m["topic"].endswith("/config"):
            out[m["topic"]] = json.loads(m["payload"]) if m["payload"] else None
    return out


# ---- Home Assistant's side, as its MQTT integration does it ----

class This:
    """What `this` gives a template: the entity's current state object."""

    def __init__(self, state):
        self.state = state


ENV = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)


def render(template, payload, state):
    variables = {"value": payload, "this": This(state), "entity_id": "x.y", "name": "y"}
    try:
        variables["value_json"] = json.loads(payload)
    except ValueError:
        pass
    return ENV.from_string(template).render(**variables).strip()


def numeric_expected(cfg):
    return any(k in cfg for k in ("unit_of_measurement", "device_class", "state_class"))


def apply(component, cfg, state, rendered):
    """The entity's state after a message whose template output is RENDERED."""
    if component == "sensor":
        if rendered == "None":
            return None
        if numeric_expected(cfg):
            if rendered == "":
                return state  # "Ignore empty state"
            float(rendered)   # a numeric sensor must get a number
            return rendered
        return rendered
    if component in ("binary_sensor", "switch"):
        if not rendered.strip():
            return state
        on = cfg.get("state_on", cfg.get("payload_on", "ON"))
        off = cfg.get("state_off", cfg.get("payload_off", "OFF"))
        assert rendered in (on, off), (cfg["name"], rendered)
        return "on" if rendered == on else "off"
    if component == "number":
        if not rendered.strip():
            return state
        v = float(rendered)
        if not cfg.get("min", 1) <= v <= cfg.get("max", 100):
            return state  # "Invalid value for ...": ignored
        return str(v)
    raise AssertionError(component)


def follow(topic, cfg, messages, state="unknown"):
    """The states an entity goes through over MESSAGES (payloads of its
    state topic), starting from STATE."""
    component = topic.split("/")[1]
    out = []
    for payload in messages:
        state = apply(component, cfg, state, render(cfg["value_template"], payload, state))
        out.append(state)
    return out


def wait_online(broker, name, timeout=20):
    topic = f"{BASE}/availability/{name}"
    ef.wait_until(lambda: retained_all(broker.port, topic, 1).get(topic) == "online", timeout,
                  what=f"{topic} retained online")


# ---- the tests ----

@T.case
def late_subscriber_finds_every_config_retained_with_each_components_fields(tmp, cleanup):
    sim = ModbusSim(tmp); cleanup(sim.stop)
    sensor = ScriptedSensor(tmp, "s"); cleanup(sensor.stop)
    sensor.set("temp=21.5 count=3")
    broker, sub, gw = start(tmp, cleanup, modbus_body(sim) + kv_body(sensor))
    wait_online(broker, "m")
    wait_online(broker, "s")
    want = {f"{HA}/binary_sensor/gw1/status/config",
            f"{HA}/sensor/gw1_m/voltage/config", f"{HA}/binary_sensor/gw1_m/relay/config",
            f"{HA}/binary_sensor/gw1_m/flag/config", f"{HA}/sensor/gw1_m/raw/config",
            f"{HA}/switch/gw1_m/pump/config", f"{HA}/number/gw1_m/setpoint/config",
            f"{HA}/sensor/gw1_s/temp/config", f"{HA}/sensor/gw1_s/count/config"}
    got = ef.wait_until(lambda: (lambda r: r if set(r) == want else None)(
        retained_all(broker.port, f"{HA}/#")), 20, what="every config retained")
    cfgs = {t: json.loads(p) for t, p in got.items()}

    gwdev = cfgs[f"{HA}/binary_sensor/gw1/status/config"]
    assert gwdev["state_topic"] == f"{BASE}/status" and gwdev["device_class"] == "connectivity"
    assert gwdev["payload_on"] == "online" and gwdev["payload_off"] == "offline"
    assert gwdev["device"]["identifiers"] == ["gw1"] and gwdev["device"]["model"] == "edgeferry"
    version = subprocess.run([ef.env_path("EF_BIN"), "--version"], capture_output=True,
                             text=True).stdout.split()[-1]
    assert gwdev["device"]["sw_version"] == version, (gwdev["device"], version)

    for topic, c in cfgs.items():
        if topic.endswith("/gw1/status/config"):
            continue
        dev, point = topic.split("/")[2][len("gw1_"):], topic.split("/")[3]
        assert c["name"] == point and c["unique_id"] == f"gw1_{dev}_{point}", c
        assert c["state_topic"] == f"{BASE}/telemetry/{dev}", c
        assert c["availability"] == [{"topic": f"{BASE}/status"},
                                     {"topic": f"{BASE}/availability/{dev}"}], c
        assert c["availability_mode"] == "all", c
        assert c["device"]["identifiers"] == [f"gw1_{dev}"] and c["device"]["name"] == dev, c
        assert c["device"]["via_device"] == "gw1", c
        if point in ("pump", "setpoint"):
            assert c["command_topic"] == f"{BASE}/set/{dev}/{point}" and c["qos"] == 1, c
        else:
            assert "command_topic" not in c, c

    v = cfgs[f"{HA}/sensor/gw1_m/voltage/config"]
    assert (v["unit_of_measurement"], v["device_class"], v["state_class"]) == \
        ("V", "voltage", "measurement"), v
    t = cfgs[f"{HA}/sensor/gw1_s/temp/config"]
    assert (t["unit_of_measurement"], t["device_class"], t["state_class"]) == \
        ("°C", "temperature", "measurement"), t
    for name in ("raw", "relay"):
        c = cfgs[[k for k in cfgs if k.endswith(f"/{name}/config")][0]]
        assert not {"unit_of_measurement", "device_class", "state_class"} & set(c), c
    assert "°C" in got[f"{HA}/sensor/gw1_s/temp/config"]  # UTF-8 on the wire, not escaped
    sw = cfgs[f"{HA}/switch/gw1_m/pump/config"]
    assert (sw["payload_on"], sw["payload_off"]) == ("true", "false"), sw
    num = cfgs[f"{HA}/number/gw1_m/setpoint/config"]
    assert (num["min"], num["max"], num["step"], num["unit_of_measurement"],
            num["device_class"]) == (5, 1000, 0.01, "°C", "temperature"), num
    assert "state_class" not in num, num

    # Availability, retained as well.
    avail = retained_all(broker.port, f"{BASE}/availability/#")
    assert avail == {f"{BASE}/availability/m": "online", f"{BASE}/availability/s": "online"}, \
        avail


@T.case
def templates_render_with_jinja2_against_real_telemetry_with_and_without_the_point(tmp, cleanup):
    sim = ModbusSim(tmp); cleanup(sim.stop)
    sensor = ScriptedSensor(tmp, "s"); cleanup(sensor.stop)
    # temp has a deadband of 0.5: the second and fourth lines leave it out.
    sensor.play(["temp=20.0 count=1", "temp=20.2 count=2", "temp=21.0 count=3",
                 "temp=21.1 count=4"], then=None)
    broker, sub, gw = start(tmp, cleanup, modbus_body(sim) + kv_body(sensor))
    ef.wait_until(lambda: len(sub.all(f"{BASE}/telemetry/s")) >= 4, 20, what="4 kv messages")
    ef.wait_until(lambda: len(sub.all(f"{BASE}/telemetry/m")) >= 3, 20, what="Modbus messages")
    cfgs = ef.wait_until(lambda: (lambda c: c if len(c) == 9 else None)(configs(sub)), 20,
                         what="9 configs")

    msgs = [m["payload"] for m in sub.all(f"{BASE}/telemetry/s")][:4]
    assert ["temp" in json.loads(p)["values"] for p in msgs] == [True, False, True, False], msgs
    temp = f"{HA}/sensor/gw1_s/temp/config"
    # (the gateway prints 20.0 as 20, "integers as integers")
    assert follow(temp, cfgs[temp], msgs) == ["20", "20", "21", "21"], \
        follow(temp, cfgs[temp], msgs)
    count = f"{HA}/sensor/gw1_s/count/config"
    assert follow(count, cfgs[count], msgs) == ["1", "2", "3", "4"]

    # A message without the point keeps the state, for each component.
    modbus = [m["payload"] for m in sub.all(f"{BASE}/telemetry/m")][:2]
    empty = json.dumps({"ts": 1, "values": {}})
    for topic, first in ((f"{HA}/sensor/gw1_m/voltage/config", "543.21"),
                         (f"{HA}/binary_sensor/gw1_m/relay/config", "on"),
                         (f"{HA}/binary_sensor/gw1_m/flag/config", "off"),
                         (f"{HA}/sensor/gw1_m/raw/config", "-12345"),
                         (f"{HA}/switch/gw1_m/pump/config", "off"),
                         (f"{HA}/number/gw1_m/setpoint/config", "543.21")):
        states = follow(topic, cfgs[topic], [modbus[0], empty, modbus[1], empty])
        assert states == [first] * 4, (topic, states)
    # ... also from a state set before (a sensor without unit gets this.state).
    for topic, before in ((f"{HA}/sensor/gw1_m/raw/config", "7"),
                          (f"{HA}/sensor/gw1_s/temp/config", "19.5")):
        assert follow(topic, cfgs[topic], [empty], before) == [before], topic


@T.case
def availability_goes_offline_with_the_device_and_online_when_it_answers(tmp, cleanup):
    sim = ModbusSim(tmp); cleanup(sim.stop)
    broker, sub, gw = start(tmp, cleanup, modbus_body(sim))
    wait_online(broker, "m")
    assert [m["payload"] for m in sub.all(f"{BASE}/availability/m")] == ["online"]
    sim.stop()
    ef.wait_until(lambda: [m["payload"] for m in sub.all(f"{BASE}/availability/m")] ==
                  ["online", "offline"], 20, what="offline")
    topic = f"{BASE}/availability/m"
    assert retained_all(broker.port, topic) == {topic: "offline"}
    sim.start()
    ef.wait_until(lambda: [m["payload"] for m in sub.all(topic)] ==
                  ["online", "offline", "online"], 20, what="online again")
    assert retained_all(broker.port, topic) == {topic: "online"}
    # The offline alarm and availability change together.
    alarms = [json.loads(m["payload"])["state"] for m in sub.all(f"{BASE}/alarm/m")]
    assert alarms == ["active", "cleared"], alarms


@T.case
def discovery_is_sent_again_when_home_assistant_says_online(tmp, cleanup):
    sim = ModbusSim(tmp); cleanup(sim.stop)
    broker, sub, gw = start(tmp, cleanup, modbus_body(sim))
    n = 7  # the gateway's own entity and six points
    ef.wait_until(lambda: len(sub.all(prefix=f"{HA}/")) >= n, 20, what="first discovery")
    wait_online(broker, "m")
    assert len(sub.all(prefix=f"{HA}/")) == n

    def publish(payload, retain=False):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                        "-t", f"{HA}/status", "-m", payload] + (["-r"] if retain else []),
                       check=True)

    publish("offline")
    publish("online")
    ef.wait_until(lambda: len([m for m in sub.all(prefix=f"{HA}/")
                               if m["topic"].endswith("/config")]) >= 2 * n, 20,
                  what="discovery again")
    # A retained "online" is old news to a gateway that connects: the
    # connect sends discovery once, the retained status adds nothing.
    publish("online", retain=True)
    ef.wait_until(lambda: len([m for m in sub.all(prefix=f"{HA}/")
                               if m["topic"].endswith("/config")]) >= 3 * n, 20,
                  what="discovery on a live retained publish")
    broker.restart()
    ef.wait_until(lambda: gw.output().count("connected to") >= 2, 30, what="reconnect")
    got = ef.wait_until(lambda: (lambda r: r if len(r) == n else None)(
        retained_all(broker.port, f"{HA}/+/+/+/config")), 20,
        what="configs retained again after a broker restart")
    assert all(p.startswith("{") for p in got.values()), got


@T.case
def reload_empties_the_configs_and_availability_of_removed_points_and_devices(tmp, cleanup):
    sim = ModbusSim(tmp); cleanup(sim.stop)
    sensor = ScriptedSensor(tmp, "s"); cleanup(sensor.stop)
    sensor.set("temp=21.5 count=3")
    broker, sub, gw = start(tmp, cleanup, modbus_body(sim) + kv_body(sensor))
    wait_online(broker, "m")
    wait_online(broker, "s")
    ef.wait_until(lambda: len(retained_all(broker.port, f"{HA}/#")) == 9, 20, what="9 configs")

    # Without device m and without point s.count.
    n = gw.output().count(RELOADED + "0 Modbus")
    gw.rewrite(ini(tmp, broker.port, "[homeassistant]\nenabled = true\n" +
                   sensor_section(sensor, "s") + "[point:s.temp]\nunit = degC\n"))
    gw.proc.signal(signal.SIGHUP)
    ef.wait_until(lambda: gw.output().count(RELOADED + "0 Modbus") > n, 20, what="reload")
    left = {f"{HA}/binary_sensor/gw1/status/config", f"{HA}/sensor/gw1_s/temp/config"}
    ef.wait_until(lambda: set(retained_all(broker.port, f"{HA}/#")) == left, 20,
                  what="only the kept configs retained")
    removed = [t for t, c in configs(sub).items() if c is None]
    assert sorted(removed) == sorted([f"{HA}/sensor/gw1_m/voltage/config",
                                      f"{HA}/binary_sensor/gw1_m/relay/config",
                                      f"{HA}/binary_sensor/gw1_m/flag/config",
                                      f"{HA}/sensor/gw1_m/raw/config",
                                      f"{HA}/switch/gw1_m/pump/config",
                                      f"{HA}/number/gw1_m/setpoint/config",
                                      f"{HA}/sensor/gw1_s/count/config"]), removed
    ef.wait_until(lambda: retained_all(broker.port, f"{BASE}/availability/#") ==
                  {f"{BASE}/availability/s": "online"}, 20, what="m's availability deleted")
    empties = [m for m in sub.all(f"{BASE}/availability/m") if m["payload"] == ""]
    assert len(empties) == 1, sub.all(f"{BASE}/availability/m")

    # Discovery turned off by a reload: everything it published goes.
    gw.rewrite(ini(tmp, broker.port, sensor_section(sensor, "s")))
    gw.proc.signal(signal.SIGHUP)
    ef.wait_until(lambda: retained_all(broker.port, f"{HA}/#") == {}, 20,
                  what="every config deleted")


@T.case
def check_lists_the_discovery_and_availability_topics(tmp, cleanup):
    sensor = ScriptedSensor(tmp, "s"); cleanup(sensor.stop)
    path = tmp.file("c.ini", ini(tmp, 1883, "[homeassistant]\nenabled = true\n"
                                 "discovery_prefix = ha/disc\n" + kv_body(sensor)))
    rc, out, err = ef.run_edgeferry(["--check", "-c", path])
    assert rc == 0, err
    assert "edgeferry/gw1/availability/s (QoS 1, retained)" in out, out
    for t in ("ha/disc/binary_sensor/gw1/status/config", "ha/disc/sensor/gw1_s/temp/config",
              "ha/disc/sensor/gw1_s/count/config"):
        assert f"\n  {t}\n" in out, out
    assert 'on "online" from ha/disc/status' in out, out
    path = tmp.file("d.ini", ini(tmp, 1883, kv_body(sensor)))
    rc, out, _ = ef.run_edgeferry(["--check", "-c", path])
    assert rc == 0 and "homeassistant: discovery off" in out, out


@T.case
def a_writable_switch_payload_on_reaches_the_device_through_the_commands_path(tmp, cleanup):
    """What Home Assistant does when the switch is flipped: it publishes the
    config's payload_on to its command_topic. The simulator must then be sent
    FC5 on the coil, and the next telemetry carries the new state."""
    sim = ModbusSim(tmp); cleanup(sim.stop)
    broker, sub, gw = start(tmp, cleanup, modbus_body(sim))
    topic = f"{HA}/switch/gw1_m/pump/config"
    cfg = ef.wait_until(lambda: configs(sub).get(topic), 15, what="the pump's switch config")
    assert cfg["command_topic"] == f"{BASE}/set/m/pump", cfg
    ef.wait_until(lambda: sub.all(f"{BASE}/telemetry/m"), 15, what="telemetry")
    import time
    time.sleep(0.5)  # the command subscription follows the birth
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                    "-t", cfg["command_topic"], "-m", cfg["payload_on"]], check=True)
    res = ef.wait_until(lambda: sub.all(f"{BASE}/result/m/pump"), 15, what="the result")
    r = json.loads(res[0]["payload"])
    assert r["ok"] is True and r["readback"] is True, r
    with open(sim.count_file) as f:
        assert "write fc=5 unit=1 addr=4 coil=1" in f.read()
    # Home Assistant's view: the state template renders "true" = payload_on.
    msgs = [m["payload"] for m in sub.all(f"{BASE}/telemetry/m")
            if json.loads(m["payload"])["values"].get("pump") is True]
    assert msgs, "the telemetry after the write carries the switch's new state"
    assert render(cfg["value_template"], msgs[-1], "off") == cfg.get("state_on", "true"), cfg


if __name__ == "__main__":
    main(T)

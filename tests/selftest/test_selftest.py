#!/usr/bin/env python3
"""edgeferry --test: one poll of every Modbus device (the simulator over
TCP) and one reading of every serial sensor (the serial simulator on a pty),
a table on stdout, exit 0 only when every device answered. No broker, no
queue: the [mqtt] uri points at a closed port and state_dir stays empty."""
import os
import sys

import ef

T = ef.Test()
SIM = os.path.join(os.environ.get("EF_BUILD_DIR", "build"), "tests/modbus_sim/modbus_sim")
SERIAL_SIM = os.path.join(os.environ.get("EF_SOURCE_DIR", "."), "tests/serial_sim/serial_sim.py")


def modbus_sim(tmp, *opts):
    p = ef.Proc([SIM, "--tcp", "0", *map(str, opts)], tmp.file("sim.log"), stdout_pipe=True)
    port = int(p.p.stdout.readline().decode().split()[1])
    assert p.p.stdout.readline().decode().strip() == "ready"
    return p, port


def serial_sim(tmp, name, *opts):
    link = tmp.file(f"tty-{name}")
    p = ef.Proc([sys.executable, SERIAL_SIM, "--link", link, *map(str, opts)],
                tmp.file(f"serial-{name}.log"), stdout_pipe=True)
    assert p.p.stdout.readline().decode().strip() == "ready"
    return p, link


def config(tmp, port, devices):
    return f"""[gateway]
id = t
state_dir = {tmp.path}/state
[mqtt]
uri = tcp://127.0.0.1:1
[bus:b]
type = tcp
host = 127.0.0.1
port = {port}
timeout_ms = 300
retries = 1
{devices}
"""


LIVE = """[device:meter]
bus = b
unit = 1
[point:meter.temp]
register = holding:40
type = float32
unit = degC
[point:meter.id]
register = holding:0
[point:meter.c3]
register = coil:3
[point:meter.big]
register = holding:70
type = uint64
[point:meter.nothing]
register = holding:1500
"""


def rows(out):
    return [ln.split(None, 4) for ln in out.splitlines()[1:-1]]


@T.case
def live_device_prints_values_and_raw_registers_and_exits_0(tmp, cleanup):
    sim, port = modbus_sim(tmp, "--unit", 1)
    cleanup(sim.stop)
    gps, link = serial_sim(tmp, "gps", "--mode", "nmea", "--period-ms", 100)
    cleanup(gps.stop)
    ini = tmp.file("t.ini", config(tmp, port, LIVE) +
                   f"[serial:gps]\npath = {link}\nformat = nmea\ninterval_ms = 500\n"
                   "[point:gps.alt]\nunit = m\n")
    rc, out, err = ef.run_edgeferry(["--test", "-c", ini], timeout=60)
    assert rc == 0, f"rc {rc}\n{out}\n{err}"
    r = {(x[0], x[1]): x for x in rows(out)}
    assert r[("meter", "temp")][2:] == ["3.1415927", "degC", "0x4049 0x0FDB"], r[("meter", "temp")]
    assert r[("meter", "id")][2:] == ["1", "-", "0x0001"]
    assert r[("meter", "c3")][2:] == ["true", "-", "0x0001"]
    assert r[("meter", "big")][4] == "0xF123 0x4567 0x89AB 0xCDEF"
    # A refused register is that point's error; the device still answered.
    assert r[("meter", "nothing")][4] == "Illegal data address"
    assert r[("gps", "alt")][2:4] == ["545.4", "m"], r[("gps", "alt")]
    assert ("gps", "lat") in r
    assert out.splitlines()[-1] == "2 of 2 devices answered"
    # Neither a queue nor a broker connection was opened.
    assert not os.path.exists(os.path.join(tmp.path, "state"))
    assert "mqtt" not in err and "connect" not in err, err


@T.case
def dead_device_or_sensor_prints_the_error_and_exits_1(tmp, cleanup):
    sim, port = modbus_sim(tmp, "--unit", 1, "--dead-unit", 2)
    cleanup(sim.stop)
    silent, link = serial_sim(tmp, "probe", "--mode", "kv", "--query", "R\\r", "--silent")
    cleanup(silent.stop)
    dead = "[device:dead]\nbus = b\nunit = 2\n[point:dead.x]\nregister = holding:0\n"
    ini = tmp.file("t.ini", config(tmp, port, LIVE + dead))
    rc, out, err = ef.run_edgeferry(["--test", "-c", ini], timeout=60)
    assert rc == 1, f"rc {rc}\n{out}\n{err}"
    r = {(x[0], x[1]): x for x in rows(out)}
    assert r[("dead", "x")][4] == "Connection timed out"
    assert r[("dead", "-")][4] == "device did not answer"
    assert r[("meter", "temp")][2] == "3.1415927"
    assert out.splitlines()[-1] == "1 of 2 devices answered"
    # A sensor that never answers its query fails the test as well.
    ini2 = tmp.file("t2.ini", config(tmp, port, LIVE) +
                    f"[serial:probe]\npath = {link}\nformat = kv\nquery = R\\r\n"
                    "interval_ms = 200\ntimeout_ms = 300\n")
    rc, out, err = ef.run_edgeferry(["--test", "-c", ini2], timeout=60)
    assert rc == 1, f"rc {rc}\n{out}\n{err}"
    assert "no valid line (timeouts 1" in out, out
    # A bus nobody listens on: connection refused, exit 1.
    gone = config(tmp, ef.free_port(), LIVE)
    rc, out, err = ef.run_edgeferry(["--test", "-c", tmp.file("t3.ini", gone)], timeout=60)
    assert rc == 1 and "Connection refused" in out, out


if __name__ == "__main__":
    raise SystemExit(T.run())

#!/usr/bin/env python3
"""One state directory, one gateway, and only its own regular files in it:
the real binary, the Modbus simulator and a real mosquitto behind a
cuttable proxy (so the gateway queues to disk while the broker is out of
reach).

holding:1 of the simulator counts requests, so every poll carries the next
integer and a missing integer is a lost reading; bit 0 of it toggles every
poll, and a limit on that bit raises or clears an alarm every poll (so the
alarm state file is written all the time)."""
import json
import os
import signal
import stat

import ef
from test_modbus_e2e import ModbusSim

T = ef.Test()


def ini(tmp, port, sim_port, state=None):
    return f"""
[gateway]
id = sd
state_dir = {state or tmp.path + '/state'}
stats_interval_s = 0

[mqtt]
uri = tcp://127.0.0.1:{port}
keepalive_s = 2
telemetry_qos = 1

[queue]
flush_ms = 200

[bus:b]
type = tcp
host = 127.0.0.1
port = {sim_port}

[device:d]
bus = b
unit = 1
interval_ms = 50

[point:d.n]
register = holding:1

[point:d.odd]
register = holding:1
bit = 0
alarm_high = 0.5
"""


def counters(sub):
    return [json.loads(m["payload"])["values"]["n"]
            for m in sub.all("edgeferry/sd/telemetry/d")]


def missing(values):
    s = set(values)
    return sorted(set(range(min(s), max(s) + 1)) - s) if s else []


def setup(tmp, cleanup):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    proxy = ef.TcpProxy(broker.port); cleanup(proxy.stop)
    proxy.set_mode("reset")  # the broker is out of reach until a test says otherwise
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim.stop)
    sub = ef.Subscriber(broker.port, ["edgeferry/sd/#"], tmp); cleanup(sub.stop)
    return proxy, sim, sub


def start(tmp, cleanup, text, name):
    gw = ef.Gateway(tmp, text, name=name).start()
    cleanup(gw.stop)
    gw.proc.wait_output("started", timeout=20)
    return gw


def segments(qdir):
    """The queue's own segment files (regular files named like segments)."""
    try:
        return sorted(n for n in os.listdir(qdir) if n.endswith(".q")
                      and stat.S_ISREG(os.lstat(os.path.join(qdir, n)).st_mode))
    except FileNotFoundError:
        return []


@T.case
def a_second_gateway_on_the_same_state_dir_exits_1_naming_the_pid(tmp, cleanup):
    proxy, sim, sub = setup(tmp, cleanup)
    text = ini(tmp, proxy.port, sim.port)
    first = start(tmp, cleanup, text, "first")
    qdir = os.path.join(tmp.path, "state", "queue")
    ef.wait_until(lambda: segments(qdir) and sim.requests(1) > 40, 30,
                  what="the first gateway queueing to disk")
    second = ef.Gateway(tmp, text, name="second").start()
    cleanup(second.stop)
    rc = second.proc.wait(20)
    out = second.output()
    assert rc == 1, f"second gateway exit code {rc}: {out}"
    assert f"PID {first.proc.pid}" in out, out
    assert os.path.join(tmp.path, "state") in out, out
    assert "started" not in out, out
    # The first one lost nothing: every poll from its first to its last
    # reading arrives once the broker is reachable, none twice.
    assert first.proc.alive()
    n_then = sim.requests(1)
    ef.wait_until(lambda: sim.requests(1) > n_then + 20, 30, what="more polls")
    proxy.set_mode("pass")
    sub.wait_payload("edgeferry/sd/status", "online", timeout=60)
    last = sim.requests(1)
    ef.wait_until(lambda: counters(sub) and max(counters(sub)) >= last, 60,
                  what="readings polled after the second gateway gave up")
    ef.wait_until(lambda: not missing(counters(sub)), 60,
                  what=f"backlog: still missing {missing(counters(sub))[:10]}")
    vals = counters(sub)
    assert min(vals) <= 3, f"the first readings are gone: from {min(vals)}"
    assert len(vals) == len(set(vals)), "readings delivered twice"
    assert "corrupt" not in first.output(), first.output()


@T.case
def the_lock_dies_with_a_killed_gateway_and_check_needs_none(tmp, cleanup):
    proxy, sim, sub = setup(tmp, cleanup)
    text = ini(tmp, proxy.port, sim.port)
    first = start(tmp, cleanup, text, "first")
    # --check reads the same file while the state directory is locked.
    rc, out, err = ef.run_edgeferry(["--check", "-c", first.ini])
    assert rc == 0, err
    first.kill()
    second = start(tmp, cleanup, text, "second")
    assert "in use" not in second.output()
    with open(os.path.join(tmp.path, "state", "lock")) as f:
        assert f.read().strip() == str(second.proc.pid)
    # and it really works: what the killed one queued and what it polls arrive
    proxy.set_mode("pass")
    sub.wait_payload("edgeferry/sd/status", "online", timeout=60)
    ef.wait_until(lambda: len(counters(sub)) > 20, 30, what="telemetry from the second")


@T.case
def symlinks_named_like_state_files_are_left_alone(tmp, cleanup):
    proxy, sim, sub = setup(tmp, cleanup)
    state = os.path.join(tmp.path, "state")
    qdir = os.path.join(state, "queue")
    os.makedirs(qdir)
    target = tmp.file("precious", "root:x:0:0:root:/root:/bin/bash\n" * 37)
    size = os.path.getsize(target)
    links = [os.path.join(qdir, n) for n in
             ("telem-0000000000000001.q", "alarm-0000000000000001.q", "cursor", "cursor.tmp")]
    links += [os.path.join(state, n) for n in ("alarms", "alarms.tmp")]
    for p in links:
        os.symlink(target, p)
    gw = start(tmp, cleanup, ini(tmp, proxy.port, sim.port), "gw")
    ef.wait_until(lambda: sim.requests(1) > 30 and len(segments(qdir)) >= 2, 30,
                  what="polls, alarms and queued telemetry")
    proxy.set_mode("pass")
    sub.wait_payload("edgeferry/sd/status", "online", timeout=60)
    ef.wait_until(lambda: len(counters(sub)) > 30, 30, what="telemetry delivered")
    gw.stop()
    with open(target) as f:
        assert f.read() == "root:x:0:0:root:/root:/bin/bash\n" * 37
    assert os.path.getsize(target) == size
    for p in links:
        assert os.path.islink(p), f"{p} was replaced"
    out = gw.output()
    for what in ("telem-0000000000000001.q is a symbolic link",
                 "alarm-0000000000000001.q is a symbolic link",
                 "cursor is a symbolic link", "cursor.tmp: a symbolic link",
                 "alarms not read: a symbolic link"):
        assert what in out, f"not logged: {what}\n{out}"


@T.case
def a_fifo_or_directory_named_like_a_segment_is_left_alone(tmp, cleanup):
    proxy, sim, sub = setup(tmp, cleanup)
    qdir = os.path.join(tmp.path, "state", "queue")
    os.makedirs(qdir)
    fifo = os.path.join(qdir, "alarm-0000000000000001.q")
    sub_dir = os.path.join(qdir, "telem-0000000000000001.q")
    os.mkfifo(fifo)
    os.mkdir(sub_dir)
    gw = start(tmp, cleanup, ini(tmp, proxy.port, sim.port), "gw")  # a FIFO opened would block
    ef.wait_until(lambda: len(segments(qdir)) >= 2, 30, what="queued alarms and telemetry")
    proxy.set_mode("pass")
    ef.wait_until(lambda: len(counters(sub)) > 30, 60, what="telemetry delivered")
    gw.stop()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert stat.S_ISDIR(os.lstat(sub_dir).st_mode)
    out = gw.output()
    assert "alarm-0000000000000001.q is not a regular file" in out, out
    assert "telem-0000000000000001.q is not a regular file" in out, out


@T.case
def a_lock_file_that_is_not_ours_refuses_the_start(tmp, cleanup):
    proxy, sim, sub = setup(tmp, cleanup)
    state = os.path.join(tmp.path, "state")
    os.makedirs(state)
    target = tmp.file("precious", "keep me\n")
    os.symlink(target, os.path.join(state, "lock"))
    gw = ef.Gateway(tmp, ini(tmp, proxy.port, sim.port)).start()
    cleanup(gw.stop)
    assert gw.proc.wait(20) == 1
    assert "lock is a symbolic link" in gw.output(), gw.output()
    with open(target) as f:
        assert f.read() == "keep me\n"


@T.case
def a_symlinked_state_dir_is_used(tmp, cleanup):
    """Users point state_dir at a USB stick: the directory may be a symlink."""
    proxy, sim, sub = setup(tmp, cleanup)
    real = os.path.join(tmp.path, "usb-stick")
    os.makedirs(real)
    link = os.path.join(tmp.path, "state-link")
    os.symlink(real, link)
    gw = start(tmp, cleanup, ini(tmp, proxy.port, sim.port, state=link), "gw")
    ef.wait_until(lambda: len(segments(os.path.join(real, "queue"))) > 0, 30,
                  what="segments on the stick")
    proxy.set_mode("pass")
    ef.wait_until(lambda: len(counters(sub)) > 20, 60, what="telemetry delivered")
    gw.stop(signal.SIGTERM)
    assert os.path.exists(os.path.join(real, "lock"))


if __name__ == "__main__":
    raise SystemExit(T.run())

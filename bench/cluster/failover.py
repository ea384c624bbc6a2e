#!/usr/bin/env python3
"""Failover on a real multi-node broker (a command, not part of CI: the
cluster takes about a minute to form on two cores).

A two-node RabbitMQ cluster with its MQTT plugin (scripts/rabbitmq-cluster.sh)
on this machine; the gateway lists both nodes in [mqtt] uri and connects to
the first; a subscriber sits on the second. The node in use is SIGKILLed
while the simulated device raises or clears an alarm at every poll (bit 0
of its request counter, limit 0.5) and sends QoS 1 telemetry every 100 ms.
Pass: the subscriber on the surviving node got every alarm and every poll
(by acquisition ts and counter), and the retained status there is "online".

usage: failover.py BUILD_DIR [WORK_DIR]   (bench/cluster/run.sh builds and calls it)
"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
import ef  # noqa: E402

P = "edgeferry/cl"
SCRIPT = os.path.join(ROOT, "scripts", "rabbitmq-cluster.sh")


def ini(tmp, uris, sim_port):
    return f"""[gateway]
id = cl
state_dir = {tmp.path}/state
stats_interval_s = 1

[mqtt]
uri = {uris}
keepalive_s = 5
telemetry_qos = 1
alarm_qos = 1

[bus:b]
type = tcp
host = 127.0.0.1
port = {sim_port}

[device:d]
bus = b
unit = 1
interval_ms = 100

[point:d.n]
register = holding:1

[point:d.odd]
register = holding:1
bit = 0
alarm_high = 0.5
"""


def start_cluster(work):
    out = subprocess.run([SCRIPT, "start", work], check=True, capture_output=True,
                         text=True, timeout=600).stdout
    nodes = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "node":  # node N NAME mqtt PORT pid PID
            nodes.append({"name": f[2], "port": int(f[4]), "pid": int(f[6])})
    assert len(nodes) == 2, out
    return nodes


def main():
    build = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else "/tmp/ef-rabbitmq-cluster"
    os.environ.setdefault("EF_BIN", os.path.join(build, "gateway", "edgeferry"))
    sim_bin = os.path.join(build, "tests", "modbus_sim", "modbus_sim")
    tmp = ef.TempDir("ef-cluster-")
    procs = []
    t0 = time.monotonic()
    nodes = start_cluster(work)
    print(f"cluster up in {time.monotonic() - t0:.0f} s: "
          + ", ".join(f"{n['name']} mqtt {n['port']}" for n in nodes), flush=True)
    try:
        sim = subprocess.Popen([sim_bin, "--tcp", "0", "--unit", "1"], stdout=subprocess.PIPE,
                               text=True, start_new_session=True)
        procs.append(sim)
        sim_port = int(sim.stdout.readline().split()[1])
        sim.stdout.readline()  # ready
        sub = ef.Subscriber(nodes[1]["port"], [f"{P}/#"], tmp)
        procs.append(sub.proc.p)
        uris = " ".join(f"tcp://127.0.0.1:{n['port']}" for n in nodes)
        gw = ef.Gateway(tmp, ini(tmp, uris, sim_port)).start()
        procs.append(gw.proc.p)
        gw.proc.wait_output(f"connected to tcp://127.0.0.1:{nodes[0]['port']}", 60)
        sub.wait_count(f"{P}/alarm/d/odd", 20, timeout=60)
        print(f"gateway on {nodes[0]['name']}; {len(sub.all(f'{P}/alarm/d/odd'))} alarms "
              f"seen on {nodes[1]['name']}; SIGKILL {nodes[0]['name']}", flush=True)
        t_kill = time.monotonic()
        os.kill(nodes[0]["pid"], signal.SIGKILL)
        gw.proc.wait_output(f"connected to tcp://127.0.0.1:{nodes[1]['port']}", 120)
        print(f"gateway on {nodes[1]['name']} {time.monotonic() - t_kill:.1f} s after the kill",
              flush=True)
        n_before = len(sub.all(f"{P}/alarm/d/odd"))
        ef.wait_until(lambda: len(sub.all(f"{P}/alarm/d/odd")) >= n_before + 50, 60,
                      what="alarms after the switch")
        time.sleep(1)
        polls = {}
        for m in sub.all(f"{P}/telemetry/d"):
            t = json.loads(m["payload"])
            polls[t["ts"]] = t["values"]["n"]
        alarms = {}
        for m in sub.all(f"{P}/alarm/d/odd"):
            a = json.loads(m["payload"])
            alarms.setdefault(a["ts"], []).append(a["state"])
        first = min(alarms)
        lost_alarms = [n for ts, n in sorted(polls.items()) if ts > first and ts not in alarms]
        counts = sorted(set(polls.values()))
        lost_polls = sorted(set(range(counts[0], counts[-1] + 1)) - set(counts))
        dup_alarms = sum(len(v) - 1 for v in alarms.values())
        status = ef.Subscriber(nodes[1]["port"], [f"{P}/status"], tmp)
        ef.wait_until(lambda: status.all(f"{P}/status"), 10, what="retained status")
        retained = [m["payload"] for m in status.all(f"{P}/status") if m["retain"]]
        status.stop()
        print(f"on {nodes[1]['name']}: {len(alarms)} alarms ({dup_alarms} twice), "
              f"{len(counts)} polls; alarms lost: {len(lost_alarms)}, polls lost: "
              f"{len(lost_polls)}; retained status: {retained[-1] if retained else None}")
        gw.stop()
        ok = not lost_alarms and not lost_polls and retained and retained[-1] == "online"
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run([SCRIPT, "stop", work], check=False, timeout=120)
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())

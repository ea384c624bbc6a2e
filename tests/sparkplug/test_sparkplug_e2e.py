#!/usr/bin/env python3
"""Sparkplug B 3.0 edge node, end to end: the real gateway, a real mosquitto,
the Modbus simulator, and every payload decoded by Eclipse Tahu's
sparkplug-payload (tests/sparkplug/sp.js), not by the gateway's own code.
Case names follow the specification's rules (tck-ids in docs/sparkplug.md)."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import ef
import sp_util as sp
from test_modbus_e2e import ModbusSim

T = ef.Test()
NODE = "spBv1.0/g/{}/n1"
DEV = "spBv1.0/g/{}/n1/d"


def setup(tmp, cleanup, body_kw=None, via_proxy=False, **ini_kw):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sim = ModbusSim(tmp, "tcp", 0, "--unit", 1); cleanup(sim.stop)
    sub = sp.SpSubscriber(broker.port, ["spBv1.0/#", "edgeferry/gw1/#"], tmp); cleanup(sub.stop)
    port = broker.port
    proxy = None
    if via_proxy:
        proxy = ef.TcpProxy(broker.port); cleanup(proxy.stop)
        port = proxy.port
    gw = ef.Gateway(tmp, sp.ini(tmp, port, sp.modbus_body(sim.port, **(body_kw or {})), **ini_kw))
    return broker, sim, sub, gw, proxy


def ddata(sub, n=1, timeout=20.0):
    return sub.wait(lambda: len(sub.all(DEV.format("DDATA"))) >= n and sub.all(DEV.format("DDATA")),
                    timeout, what=f"{n} DDATA")


def bdseq_of(msg):
    return int(sp.metrics_by_name(msg)["bdSeq"]["value"])


@T.case
def nbirth_seq_0_bdseq_and_rebirth_metric_dbirth_every_point_with_datatype_alias_engunit(tmp, cleanup):
    _, _, sub, gw, _ = setup(tmp, cleanup)
    gw.start(); cleanup(gw.stop)
    ddata(sub)
    nb = sub.all(NODE.format("NBIRTH"))[0]
    assert nb["qos"] == 0 and not nb["retain"], nb                    # nbirth-qos
    assert nb["p"]["seq"] == "0", nb["p"]                              # topics-nbirth-seq-num
    assert int(nb["p"]["timestamp"]) > 1.7e12, nb["p"]                 # nbirth-timestamp
    m = sp.metrics_by_name(nb)
    assert m["bdSeq"]["type"] == "Int64" and m["bdSeq"]["value"] == "0", m
    assert m["Node Control/Rebirth"]["type"] == "Boolean" and m["Node Control/Rebirth"]["value"] is False
    db = sub.all(DEV.format("DBIRTH"))[0]
    assert db["qos"] == 0 and db["p"]["seq"] == "1", db["p"]
    dm = sp.metrics_by_name(db)
    want = {"n": "UInt16", "i16": "Int16", "u16": "UInt16", "i32": "Int32", "u32": "UInt32",
            "f32": "Float", "i64": "Int64", "u64": "UInt64", "f64": "Double", "flag": "Boolean",
            "scaled": "Double"}
    assert {k: v["type"] for k, v in dm.items()} == want, dm
    assert dm["i16"]["value"] == -12345 and dm["u16"]["value"] == 54321, dm
    assert dm["i32"]["value"] == -123456789 and dm["u32"]["value"] == 3000000000, dm
    assert dm["i64"]["value"] == "-1234567890123456789", dm["i64"]
    assert dm["u64"]["value"] == "17375808098319191535", dm["u64"]
    assert abs(dm["f32"]["value"] - 3.14159274) < 1e-6 and dm["f64"]["value"] == -2.718281828459045
    assert dm["flag"]["value"] is True and dm["scaled"]["value"] == 5432.1, dm
    assert dm["i16"]["properties"]["engUnit"]["value"] == "degC", dm["i16"]
    assert dm["scaled"]["properties"]["engUnit"]["value"] == "kWh", dm["scaled"]
    # payloads-alias-uniqueness / alias-birth-requirement / name-birth-data-requirement
    aliases = [int(x["alias"]) for x in nb["p"]["metrics"] + db["p"]["metrics"]]
    assert len(set(aliases)) == len(aliases), aliases
    assert all("timestamp" in x and "name" in x for x in db["p"]["metrics"]), db["p"]


@T.case
def ddata_by_alias_only_without_datatype_with_timestamps_values_as_birth(tmp, cleanup):
    _, _, sub, gw, _ = setup(tmp, cleanup)
    gw.start(); cleanup(gw.stop)
    msgs = ddata(sub, 3)
    db = sub.all(DEV.format("DBIRTH"))[0]
    types = {int(x["alias"]): (x["name"], x["datatype"]) for x in db["raw"]["metrics"]}
    for d in msgs[1:]:
        assert "seq" in d["raw"] and "timestamp" in d["raw"], d["raw"]
        for x in d["raw"]["metrics"]:
            assert "name" not in x and "datatype" not in x, x     # alias-data-cmd, datatype-not-req
            assert int(x["alias"]) in types and "timestamp" in x, x
    last = {types[int(x["alias"])][0]: x for x in msgs[-1]["raw"]["metrics"]}
    assert last["u16"]["intValue"] == 54321 and last["u64"]["longValue"] == "17375808098319191535"
    assert last["flag"]["booleanValue"] is True and last["scaled"]["doubleValue"] == 5432.1
    # the counter point moves every poll: it is in every DDATA (no deadband)
    ns = [x["intValue"] for d in msgs for x in d["raw"]["metrics"] if types[int(x["alias"])][0] == "n"]
    assert ns == sorted(ns) and len(set(ns)) == len(ns), ns
    # alarms and status stay JSON on their own topics
    assert sub.all("edgeferry/gw1/status")[-1]["hex"] == "online".encode().hex()
    assert not sub.all(prefix="edgeferry/gw1/telemetry/"), "JSON telemetry while Sparkplug is on"


@T.case
def deadband_leaves_unchanged_points_out_of_ddata(tmp, cleanup):
    _, _, sub, gw, _ = setup(tmp, cleanup, body_kw={"extra": "[point:d.flat]\nregister = holding:11\ndeadband = 5\n"})
    gw.start(); cleanup(gw.stop)
    msgs = ddata(sub, 4)
    db = sub.all(DEV.format("DBIRTH"))[0]
    flat = [int(x["alias"]) for x in db["raw"]["metrics"] if x["name"] == "flat"][0]
    live = [d for d in msgs if not any(x.get("isHistorical") for x in d["raw"]["metrics"])]
    with_flat = [d for d in live if any(int(x["alias"]) == flat for x in d["raw"]["metrics"])]
    assert len(with_flat) <= 1 and len(live) >= 3, (len(with_flat), len(live))


@T.case
def seq_runs_over_every_node_message_wraps_after_255_and_nbirth_restarts_it(tmp, cleanup):
    _, _, sub, gw, _ = setup(tmp, cleanup, body_kw={"interval": 20})
    gw.start(); cleanup(gw.stop)
    sub.wait(lambda: len(sub.all(DEV.format("DDATA"))) >= 300, 60, what="300 DDATA")
    node = [m for m in sub.node_msgs() if "NDEATH" not in m["topic"]]
    s = sp.seqs(node)
    assert s[0] == 0 and node[0]["topic"] == NODE.format("NBIRTH"), node[0]
    assert all(b == (a + 1) % 256 for a, b in zip(s, s[1:])), s   # payloads-sequence-num-incrementing
    assert 255 in s and s[s.index(255) + 1] == 0, "seq did not wrap"


@T.case
def ncmd_rebirth_repeats_nbirth_and_dbirth_with_the_same_bdseq_without_reconnecting(tmp, cleanup):
    broker, _, sub, gw, _ = setup(tmp, cleanup)
    gw.start(); cleanup(gw.stop)
    ddata(sub, 2)
    sp.publish(broker.port, NODE.format("NCMD"), sp.encode(
        {"timestamp": int(time.time() * 1000),
         "metrics": [{"name": "Node Control/Rebirth", "type": "Boolean", "value": True}]}), tmp)
    sub.wait(lambda: len(sub.all(NODE.format("NBIRTH"))) == 2 and len(sub.all(DEV.format("DBIRTH"))) == 2,
             what="second NBIRTH and DBIRTH")
    nb = sub.all(NODE.format("NBIRTH"))
    assert bdseq_of(nb[0]) == bdseq_of(nb[1]) and nb[1]["p"]["seq"] == "0"
    node = [m for m in sub.node_msgs()]
    i = node.index([m for m in node if m["topic"] == NODE.format("NBIRTH")][1])
    assert node[i + 1]["topic"] == DEV.format("DBIRTH") and node[i + 1]["p"]["seq"] == "1"
    ddata(sub, len(sub.all(DEV.format("DDATA"))) + 1)
    after = [m for m in sub.node_msgs()][i:]
    s = sp.seqs(after)
    assert all(b == (a + 1) % 256 for a, b in zip(s, s[1:])), s
    assert "connected to" in gw.output() and gw.output().count("connected to") == 1, "reconnected"
    assert not sub.all(NODE.format("NDEATH")), "an NDEATH on rebirth"


@T.case
def bdseq_goes_up_across_reconnects_restarts_and_sigkill_whose_will_carries_it(tmp, cleanup):
    broker, _, sub, gw, proxy = setup(tmp, cleanup, via_proxy=True)
    gw.start()
    ddata(sub)
    # the will of this connection is NDEATH bdSeq 0: a cut link makes the broker send it
    proxy.set_mode("reset")
    sub.wait(lambda: sub.all(NODE.format("NDEATH")), 30, what="NDEATH (will) after the link cut")
    nd = sub.all(NODE.format("NDEATH"))[0]
    assert nd["qos"] == 1 and not nd["retain"] and "seq" not in nd["raw"], nd
    assert bdseq_of(nd) == 0 and len(nd["p"]["metrics"]) == 1, nd["p"]
    proxy.set_mode("pass")
    sub.wait(lambda: len(sub.all(NODE.format("NBIRTH"))) >= 2, 30, what="NBIRTH after reconnect")
    assert bdseq_of(sub.all(NODE.format("NBIRTH"))[-1]) >= 1
    # restart: SIGTERM publishes NDEATH itself, the next process goes on counting
    gw.stop()
    sub.wait(lambda: len(sub.all(NODE.format("NDEATH"))) >= 2, what="NDEATH on stop")
    last = bdseq_of(sub.all(NODE.format("NBIRTH"))[-1])
    assert bdseq_of(sub.all(NODE.format("NDEATH"))[-1]) == last
    n_births = len(sub.all(NODE.format("NBIRTH")))
    gw.start()
    sub.wait(lambda: len(sub.all(NODE.format("NBIRTH"))) > n_births, what="NBIRTH after restart")
    after_restart = bdseq_of(sub.all(NODE.format("NBIRTH"))[-1])
    assert after_restart == last + 1, (last, after_restart)
    # SIGKILL: the broker publishes the will with this connection's bdSeq
    n_deaths = len(sub.all(NODE.format("NDEATH")))
    gw.kill()  # its socket closes, the proxy closes the broker side: the will goes
    sub.wait(lambda: len(sub.all(NODE.format("NDEATH"))) > n_deaths, 30, what="will after SIGKILL")
    assert bdseq_of(sub.all(NODE.format("NDEATH"))[-1]) == after_restart
    gw.start(); cleanup(gw.stop)
    sub.wait(lambda: len(sub.all(NODE.format("NBIRTH"))) > n_births + 1, what="NBIRTH after SIGKILL")
    assert bdseq_of(sub.all(NODE.format("NBIRTH"))[-1]) == after_restart + 1


@T.case
def device_loss_publishes_ddeath_and_its_return_a_new_dbirth(tmp, cleanup):
    broker = ef.Broker(tmp); cleanup(broker.stop)
    sim_port = ef.free_port()
    sim = ModbusSim(tmp, "tcp", sim_port, "--unit", 1)
    sub = sp.SpSubscriber(broker.port, ["spBv1.0/#"], tmp); cleanup(sub.stop)
    gw = ef.Gateway(tmp, sp.ini(tmp, broker.port, sp.modbus_body(sim_port))).start()
    cleanup(gw.stop)
    ddata(sub)
    sim.stop()
    sub.wait(lambda: sub.all(DEV.format("DDEATH")), 20, what="DDEATH")
    dd = sub.all(DEV.format("DDEATH"))[0]
    assert "seq" in dd["raw"] and "timestamp" in dd["raw"], dd["raw"]  # ddeath-seq-num
    n = len(sub.all(DEV.format("DDATA")))
    sim = ModbusSim(tmp, "tcp", sim_port, "--unit", 1); cleanup(sim.stop)
    sub.wait(lambda: len(sub.all(DEV.format("DBIRTH"))) == 2, 30, what="DBIRTH after return")
    ddata(sub, n + 1)
    node = [m for m in sub.node_msgs()]
    s = sp.seqs(node)
    assert all(b == (a + 1) % 256 for a, b in zip(s, s[1:])), s
    order = [m["topic"].split("/")[2] for m in node]
    i = order.index("DDEATH")
    assert "DDATA" not in order[i + 1:order.index("DBIRTH", i)], order[i:i + 5]


@T.case
def dcmd_by_alias_and_by_name_writes_through_the_commands_path_and_ddata_shows_it(tmp, cleanup):
    writable = ("[point:d.sp]\nregister = holding:300\nwritable = true\n"
                "[point:d.sw]\nregister = coil:6\nwritable = true\n")
    broker, sim, sub, gw, _ = setup(tmp, cleanup, body_kw={"extra": writable})
    gw.start(); cleanup(gw.stop)
    ddata(sub)
    db = sp.metrics_by_name(sub.all(DEV.format("DBIRTH"))[0])
    sp_alias, sw_alias = int(db["sp"]["alias"]), int(db["sw"]["alias"])
    assert db["sp"]["value"] == 300 and db["sw"]["value"] is True, db  # the simulator's map
    now = int(time.time() * 1000)
    sp.publish(broker.port, DEV.format("DCMD"), sp.encode(
        {"timestamp": now, "metrics": [{"alias": sp_alias, "type": "UInt16", "value": 7}]}), tmp)
    sp.publish(broker.port, DEV.format("DCMD"), sp.encode(
        {"timestamp": now, "metrics": [{"name": "sw", "type": "Boolean", "value": False}]}), tmp)

    def shown(alias, key, want):
        return any(int(x["alias"]) == alias and x.get(key) == want
                   for d in sub.all(DEV.format("DDATA")) for x in d["raw"]["metrics"])
    sub.wait(lambda: shown(sp_alias, "intValue", 7), what="DDATA with the written 7")
    sub.wait(lambda: shown(sw_alias, "booleanValue", False), what="DDATA with the coil off")
    with open(sim.count_file) as f:
        writes = f.read()
    assert "write fc=6 unit=1 addr=300 regs=0x0007" in writes, writes
    assert "write fc=5 unit=1 addr=6 coil=0" in writes, writes
    # a point that is not writable is refused by the commands path, logged
    sp.publish(broker.port, DEV.format("DCMD"), sp.encode(
        {"timestamp": now, "metrics": [{"alias": int(db["u16"]["alias"]), "type": "UInt16",
                                        "value": 1}]}), tmp)
    gw.proc.wait_output("is not writable")
    # a payload that is not Sparkplug is refused and counted, nothing written
    sp.publish(broker.port, DEV.format("DCMD"), b"\xff\xff", tmp)
    gw.proc.wait_output("is not a Sparkplug B payload")
    with open(sim.count_file) as f:
        assert f.read().count("write ") == 2


@T.case
def primary_host_state_gates_births_and_its_offline_ends_the_session_storing_data(tmp, cleanup):
    broker, _, sub, gw, _ = setup(tmp, cleanup, sparkplug="primary_host_id = scada")
    state = "spBv1.0/STATE/scada"
    gw.start(); cleanup(gw.stop)
    gw.proc.wait_output("connected to")
    time.sleep(1.5)  # polls go on: nothing may be born without the host
    assert not sub.node_msgs(), [m["topic"] for m in sub.node_msgs()]
    t0 = int(time.time() * 1000)
    sp.publish(broker.port, state, sp.state(True, t0), tmp, retain=True)
    ddata(sub)
    first = sub.node_msgs()
    assert first[0]["topic"] == NODE.format("NBIRTH"), first[0]["topic"]
    hist = [d for d in sub.all(DEV.format("DDATA"))
            if all(x.get("isHistorical") for x in d["raw"]["metrics"])]
    assert hist, "data polled while waiting for the host is not historical"
    # an older offline is ignored; a newer one ends the session (NDEATH, reconnect)
    sp.publish(broker.port, state, sp.state(False, t0 - 1), tmp)
    time.sleep(0.5)
    assert not sub.all(NODE.format("NDEATH"))
    sp.publish(broker.port, state, sp.state(False, t0 + 1), tmp, retain=True)
    sub.wait(lambda: sub.all(NODE.format("NDEATH")), what="NDEATH when the host goes offline")
    n = len(sub.all(DEV.format("DDATA")))
    time.sleep(1.5)
    assert len(sub.all(DEV.format("DDATA"))) <= n + 1, "data sent while the host is offline"
    births = len(sub.all(NODE.format("NBIRTH")))
    assert births == 1
    t1 = int(time.time() * 1000)
    sp.publish(broker.port, state, sp.state(True, t1), tmp, retain=True)
    sub.wait(lambda: len(sub.all(NODE.format("NBIRTH"))) == 2, what="NBIRTH when the host is back")
    nb = sub.all(NODE.format("NBIRTH"))
    assert bdseq_of(nb[1]) == bdseq_of(nb[0]) + 1, "a new connection, a new bdSeq"
    ddata(sub, n + 3)
    stored = [d for d in sub.all(DEV.format("DDATA"))[n:]
              if all(x.get("isHistorical") for x in d["raw"]["metrics"])]
    assert stored and all(int(d["raw"]["timestamp"]) < int(nb[1]["p"]["timestamp"]) for d in stored)


@T.case
def historical_data_after_an_outage_follows_the_births_with_its_own_timestamps(tmp, cleanup):
    _, _, sub, gw, proxy = setup(tmp, cleanup, via_proxy=True, mqtt="telemetry_qos = 1")
    gw.start(); cleanup(gw.stop)
    ddata(sub, 2)
    proxy.set_mode("drop")  # a silent outage: readings go to the queue
    time.sleep(3)
    proxy.set_mode("reset")
    proxy.set_mode("pass")
    sub.wait(lambda: len(sub.all(NODE.format("NBIRTH"))) >= 2, 40, what="NBIRTH after the outage")
    nb2 = sub.all(NODE.format("NBIRTH"))[-1]
    node = sub.node_msgs()
    i = node.index(nb2)

    def live_after():
        return [m for m in sub.node_msgs()[i:] if m["topic"] == DEV.format("DDATA")
                and not any(x.get("isHistorical") for x in m["raw"]["metrics"])]
    sub.wait(lambda: len(live_after()) >= 2, 30, what="live DDATA after the backlog")
    after = [m for m in sub.node_msgs()[i:] if "DEATH" not in m["topic"]]
    assert after[0]["topic"] == NODE.format("NBIRTH") and after[1]["topic"] == DEV.format("DBIRTH")
    data = [m for m in after if m["topic"] == DEV.format("DDATA")]
    hist = [d for d in data if all(x.get("isHistorical") for x in d["raw"]["metrics"])]
    live = [d for d in data if not any(x.get("isHistorical") for x in d["raw"]["metrics"])]
    assert len(hist) >= 5 and live, (len(hist), len(live))
    born = int(nb2["p"]["timestamp"])
    assert all(int(x["timestamp"]) < born for d in hist for x in d["raw"]["metrics"])
    assert all(int(d["raw"]["timestamp"]) >= born for d in live)
    s = sp.seqs(after)
    assert all(b == (a + 1) % 256 for a, b in zip(s, s[1:])), s


@T.case
def check_prints_the_sparkplug_topics_aliases_and_datatypes(tmp, cleanup):
    ini = tmp.file("c.ini", sp.ini(tmp, 1883, sp.modbus_body(1502)))
    rc, out, err = ef.run_edgeferry(["--check", "-c", ini])
    assert rc == 0, err
    assert "sparkplug: group g, edge node n1, primary host (none)" in out, out
    assert "alias 2 n UInt16, alias 3 i16 Int16" in out, out
    assert "spBv1.0/g/{DBIRTH,DDEATH,DDATA,DCMD}/n1/d" in out, out
    bad = tmp.file("bad.ini", sp.ini(tmp, 1883, sp.modbus_body(1502)).replace("group_id = g\n", ""))
    rc, out, err = ef.run_edgeferry(["--check", "-c", bad])
    assert rc == 2 and "group_id is required when Sparkplug is enabled" in err, err


if __name__ == "__main__":
    sys.exit(T.run())

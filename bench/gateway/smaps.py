#!/usr/bin/env python3
"""Where the gateway's resident memory is: Rss (and Pss, Private) of
/proc/PID/smaps grouped by mapping (shared library, heap, thread stacks,
anonymous), for the steady workload of bench.py.
usage: smaps.py BUILD_DIR [SECONDS]"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def smaps(pid):
    groups = {}
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" not in parts[0]:
                name = parts[5] if len(parts) > 5 else "[anon]"
                cur = groups.setdefault(os.path.basename(name), {"Rss": 0, "Pss": 0,
                                                                "Private": 0, "n": 0})
                cur["n"] += 1
            elif parts[0] in ("Rss:", "Pss:"):
                cur[parts[0][:-1]] += int(parts[1])
            elif parts[0] in ("Private_Clean:", "Private_Dirty:"):
                cur["Private"] += int(parts[1])
    return groups


def main():
    rig = bench.Rig(sys.argv[1]).start()
    try:
        bench.ef.wait_until(lambda: rig.sub.snapshot()["first_t"], 10, what="telemetry")
        time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 5)
        g = smaps(rig.gw.proc.pid)
    finally:
        rig.stop()
    tot = {k: sum(v[k] for v in g.values()) for k in ("Rss", "Pss", "Private")}
    print(f"{'mapping':40} {'maps':>4} {'Rss KiB':>8} {'Pss KiB':>8} {'Private':>8}")
    for name, v in sorted(g.items(), key=lambda kv: -kv[1]["Rss"]):
        if v["Rss"]:
            print(f"{name:40} {v['n']:4} {v['Rss']:8} {v['Pss']:8} {v['Private']:8}")
    print(f"{'total':40} {'':4} {tot['Rss']:8} {tot['Pss']:8} {tot['Private']:8}")


if __name__ == "__main__":
    main()

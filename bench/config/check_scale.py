#!/usr/bin/env python3
"""Time of `edgeferry --check` against the size of the file: figures, not a
test. Doubling the points should roughly double the time.
    bench/config/check_scale.py [BUILD_DIR]"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "config"))
import gen_scale  # noqa: E402


def run(binary, path):
    best = None
    for _ in range(3):
        t0 = time.monotonic()
        r = subprocess.run([binary, "--check", "-c", path], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        dt = time.monotonic() - t0
        best = dt if best is None or dt < best else best
    return r.returncode, best


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    binary = os.path.join(build, "gateway", "edgeferry")
    workloads = [(f"one device, {n} points", lambda n=n: gen_scale.one_device(n))
                 for n in (16000, 50000, 100000, 200000)]
    workloads += [(f"{n} devices of 4 points", lambda n=n: gen_scale.many_devices(n))
                  for n in (4000, 50000)]
    workloads += [(f"{n} devices sharing one unit", lambda n=n: gen_scale.duplicate_units(n))
                  for n in (2000, 20000)]
    with tempfile.TemporaryDirectory(prefix="ef-bench-") as tmp:
        for name, make in workloads:
            text, points = make()
            path = os.path.join(tmp, "c.ini")
            with open(path, "w") as f:
                f.write(text)
            rc, secs = run(binary, path)
            print(f"{name:32s} {len(text) / 1e6:6.1f} MB  exit {rc}  {secs:7.3f} s  "
                  f"{secs / points * 1e6:6.2f} us per point or device")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The configuration file as the real edgeferry binary sees it: only a
regular file is read (a FIFO must not hang start-up or --check), and --check
stays fast on very large files. Timeouts turn a hang into a failure."""
import os
import socket
import sys
import time

import ef
import gen_scale

T = ef.Test()


def valid_ini(tmp):
    return (gen_scale.header(f"{tmp.path}/state") +
            "[bus:b]\ntype = tcp\nhost = 127.0.0.1\n[device:d]\nbus = b\nunit = 1\n"
            "[point:d.p]\nregister = coil:1\n")


def refused(path, args, what):
    rc, out, err = ef.run_edgeferry(args + ["-c", path], timeout=20)
    assert rc == 2, (args, rc, out, err)
    assert err.startswith(f"{path}:0: {what}: the configuration must be a regular file\n"), err


@T.case
def only_a_regular_file_is_read_and_a_fifo_never_blocks(tmp, cleanup):
    fifo = tmp.file("fifo.ini")
    os.mkfifo(fifo)
    sock = tmp.file("sock.ini")
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock)
    cleanup(s.close)
    for args in ([], ["--check"]):
        refused(fifo, args, "a FIFO")
        refused("/dev/null", args, "a character device")
        refused(tmp.path, args, "a directory")
        refused(sock, args, "a socket")
    # A symlink to a regular file is that file.
    real = tmp.file("real.ini", valid_ini(tmp))
    link = tmp.file("link.ini")
    os.symlink(real, link)
    rc, out, err = ef.run_edgeferry(["--check", "-c", link])
    assert rc == 0 and "configuration" in out and "is valid" in out, (rc, err)
    rc, _, err = ef.run_edgeferry(["--check", "-c", tmp.file("missing.ini")])
    assert rc == 2 and ":0: cannot read the file: No such file or directory" in err, err


def timed_check(tmp, name, text):
    path = tmp.file(name, text)
    t0 = time.monotonic()
    rc, out, err = ef.run_edgeferry(["--check", "-c", path], timeout=120)
    return rc, out, err, time.monotonic() - t0


@T.case
def check_of_200k_points_finishes_and_prints_every_point(tmp, cleanup):
    # Before: 75 s for one device of 200,000 points (quadratic template
    # merge and plan sort); the timeout above fails such a build.
    for points in (16000, 200000):
        text, npoints = gen_scale.one_device(points)
        rc, out, err, secs = timed_check(tmp, f"one{points}.ini", text)
        assert rc == 0, err[-2000:]
        assert f"requests per poll for {npoints} points" in out, out[-2000:]
        assert out.count("      point ") == npoints
        print(f"figure: --check one device {npoints} points: {secs:.2f} s", flush=True)
    text, npoints = gen_scale.many_devices(50000)
    rc, out, err, secs = timed_check(tmp, "many.ini", text)
    assert rc == 0, err[-2000:]
    assert out.count("  device d") == 50000 and out.count("      point ") == npoints
    print(f"figure: --check 50000 devices {npoints} points: {secs:.2f} s", flush=True)


@T.case
def duplicate_units_give_one_error_each(tmp, cleanup):
    text, n = gen_scale.duplicate_units(2000)
    rc, _, err, secs = timed_check(tmp, "dup.ini", text)
    lines = [l for l in err.splitlines() if "is already [device:d0]" in l]
    assert rc == 2 and len(lines) == n - 1, (rc, len(lines), err[-500:])
    assert f"edgeferry: {n - 1} errors in" in err, err[-300:]
    print(f"figure: --check 2000 devices sharing one unit: {secs:.2f} s", flush=True)


if __name__ == "__main__":
    sys.exit(T.run())

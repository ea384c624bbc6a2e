"""Mounts tests/faultfs/faultfs.py for a test and sends it commands.

FaultMount(tmp) mounts a fresh faultfs on TMP/mnt (backing TMP/backing);
.ctl("fail write EIO"), .cut(torn=True), .status(); .stop() unmounts. When
FUSE cannot be used here (no python3-fuse, no /dev/fuse, not root), skip()
says why: the test exits 77 and ctest reports it skipped, never passed."""
import json
import os
import shutil
import socket
import subprocess
import time

import ef

SKIP = 77
FAULTFS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faultfs", "faultfs.py")


def fuse_python():
    """A python3 that has fuse-python (Debian's python3-fuse), or None."""
    for py in ("/usr/bin/python3", shutil.which("python3")):
        if py and subprocess.run([py, "-c", "import fuse"], capture_output=True).returncode == 0:
            return py
    return None


def skip_reason():
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse"
    if os.geteuid() != 0:
        return "mounting FUSE file systems needs root here"
    if not fuse_python():
        return "python3-fuse is not installed (scripts/deps.sh installs it)"
    return None


def skip_unless_fuse():
    why = skip_reason()
    if why:
        print(f"SKIP: {why}", flush=True)
        raise SystemExit(SKIP)


class FaultMount:
    def __init__(self, tmp, name="fs"):
        self.backing = os.path.join(tmp.path, f"{name}-backing")
        self.path = os.path.join(tmp.path, f"{name}-mnt")
        self.ctl_path = os.path.join(tmp.path, f"{name}.ctl")
        os.makedirs(self.backing)
        os.makedirs(self.path)
        self.proc = ef.Proc([fuse_python(), FAULTFS, self.backing, self.path, self.ctl_path],
                            tmp.file(f"faultfs-{name}.log"))
        try:
            ef.wait_until(lambda: os.path.ismount(self.path) and os.path.exists(self.ctl_path),
                          20, what="faultfs to mount")
        except AssertionError:
            log = self.proc.output()
            self.stop()
            print(f"SKIP: faultfs did not mount: {log[-500:]}", flush=True)
            raise SystemExit(SKIP)

    def ctl(self, line):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(60)
            s.connect(self.ctl_path)
            s.sendall(line.encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        reply = data.decode().strip()
        if reply.startswith("error"):
            raise AssertionError(f"faultfs: {line}: {reply}")
        return reply

    def fail(self, what, err):
        return self.ctl(f"fail {what} {err}")

    def ok(self):
        return self.ctl("ok")

    def cut(self, torn=False):
        return self.ctl("cut torn" if torn else "cut")

    def status(self):
        return json.loads(self.ctl("status"))

    def stop(self):
        if os.path.ismount(self.path):
            subprocess.run(["fusermount", "-u", "-z", self.path], capture_output=True)
            t = time.monotonic()
            while os.path.ismount(self.path) and time.monotonic() - t < 5:
                time.sleep(0.05)
        self.proc.stop()

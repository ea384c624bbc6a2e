#!/usr/bin/env python3
"""faultfs: a FUSE file system for tests that fails on command and forgets
what was never synced, like a disk losing power (in the spirit of lazyfs).

    faultfs.py BACKING MOUNTPOINT CONTROL_SOCKET

It passes everything through to the directory BACKING and takes commands,
one per connection, on the UNIX socket CONTROL_SOCKET (tests/harness/faultfs_mount.py
sends them):

    fail write ERRNO   writes, creates, truncates, renames, deletes and
                       mkdir fail with ERRNO (EIO, ENOSPC, EROFS...; for
                       ENOSPC, renames and deletes still work, as on a
                       full ext4); EROFS also refuses opens for writing
    fail fsync ERRNO   fsync and fdatasync fail with ERRNO (what they
                       should have made durable is not)
    ok                 no more failures
    cut [torn]         a power cut: every file goes back to its content at
                       its last successful fsync; names go back to the last
                       commit (below); "torn" keeps a random part of what was
                       appended since the last sync, as a disk's write-back
                       may have written some of it (a torn tail)
    status             counters, as JSON

The model of durability, pessimistic where ext4 (data=ordered) leaves
room: file data survives a cut only up to the file's last successful
fsync/fdatasync; names (create, rename, unlink) survive from the last
"commit", and any successful fsync or fdatasync of any file commits all of
them (ext4's fsync commits the journal's running transaction, which holds
every earlier metadata change). Directory fsync is left undefined here
(fuse-python 1.0.5 crashes in fsyncdir; the kernel then takes ENOSYS as
success), so a rename followed only by a directory fsync is durable only at
the next file sync: more pessimistic than ext4, never less. Directories
themselves are always durable. The process that used the files must be
dead (SIGKILL) before a cut: the kernel's caches of this mount are not
invalidated for open files (attribute and entry caches are off).

Needs python3-fuse (fuse-python, libfuse 2), /dev/fuse and root."""
import errno
import json
import os
import random
import socket
import stat
import sys
import threading

import fuse

fuse.fuse_python_api = (0, 2)

LOCK = threading.Lock()


class Inode:
    def __init__(self, synced=b""):
        self.synced = synced


class Model:
    """Durable state: per inode its synced content; names as committed."""

    def __init__(self, backing):
        self.backing = backing
        self.ns = {}
        for root, _dirs, files in os.walk(backing):
            for f in files:
                full = os.path.join(root, f)
                if os.path.isfile(full) and not os.path.islink(full):
                    with open(full, "rb") as fh:
                        self.ns["/" + os.path.relpath(full, backing)] = Inode(fh.read())
        self.committed = dict(self.ns)
        self.write_err = 0
        self.fsync_err = 0
        self.counts = {"writes": 0, "fsyncs": 0, "failed_writes": 0, "failed_fsyncs": 0,
                       "cuts": 0, "files_reverted": 0, "files_dropped": 0, "torn_bytes": 0}

    def real(self, path):
        return self.backing + path

    def fails(self, op):
        """The errno OP fails with now, or 0."""
        e = self.write_err
        if e == errno.ENOSPC and op in ("rename", "unlink", "rmdir", "shrink"):
            return 0
        return e

    def commit(self):
        self.committed = dict(self.ns)

    def move(self, old, new):
        for p in [p for p in self.ns if p == old or p.startswith(old + "/")]:
            self.ns[new + p[len(old):]] = self.ns.pop(p)

    def cut(self, torn):
        current = {}
        for p, ino in self.ns.items():
            try:
                with open(self.real(p), "rb") as f:
                    current[id(ino)] = f.read()
            except OSError:
                pass
        for root, _dirs, files in os.walk(self.backing):
            for f in files:
                p = "/" + os.path.relpath(os.path.join(root, f), self.backing)
                if p not in self.committed and os.path.isfile(self.real(p)):
                    os.unlink(self.real(p))
                    self.counts["files_dropped"] += 1
        for p, ino in self.committed.items():
            data = ino.synced
            now = current.get(id(ino))
            if torn and now is not None and len(now) > len(data) and now.startswith(data):
                extra = random.randint(0, len(now) - len(data))
                data = now[:len(data) + extra]
                self.counts["torn_bytes"] += extra
            if now != data:
                self.counts["files_reverted"] += 1
            os.makedirs(os.path.dirname(self.real(p)), exist_ok=True)
            with open(self.real(p), "wb") as f:
                f.write(data)
            ino.synced = data
        self.ns = dict(self.committed)
        self.counts["cuts"] += 1


MODEL = None


def guard(op):
    e = MODEL.fails(op)
    if e:
        MODEL.counts["failed_writes"] += 1
        raise OSError(e, os.strerror(e))


class FaultFile:
    """One open file: an fd on the backing file and the inode it names."""

    def __init__(self, path, flags, *mode):
        with LOCK:
            acc = flags & os.O_ACCMODE
            if acc != os.O_RDONLY and MODEL.write_err == errno.EROFS:
                raise OSError(errno.EROFS, "read-only")
            creating = bool(flags & os.O_CREAT) and path not in MODEL.ns
            if creating or flags & os.O_TRUNC:
                guard("create")
            self.fd = os.open(MODEL.real(path), flags, *mode)
            if path not in MODEL.ns and stat.S_ISREG(os.fstat(self.fd).st_mode):
                MODEL.ns[path] = Inode()
            self.ino = MODEL.ns.get(path)

    def read(self, length, offset):
        return os.pread(self.fd, length, offset)

    def write(self, buf, offset):
        with LOCK:
            guard("write")
            MODEL.counts["writes"] += 1
            return os.pwrite(self.fd, buf, offset)

    def fsync(self, datasync):
        with LOCK:
            e = MODEL.fsync_err
            if e:
                MODEL.counts["failed_fsyncs"] += 1
                raise OSError(e, os.strerror(e))
            os.fsync(self.fd)
            if self.ino is not None:
                # The fd may be write-only; this reopens its file, renamed or not.
                with open(f"/proc/self/fd/{self.fd}", "rb") as f:
                    self.ino.synced = f.read()
            MODEL.commit()
            MODEL.counts["fsyncs"] += 1

    def flush(self):
        return 0

    def release(self, flags):
        os.close(self.fd)

    def fgetattr(self):
        return os.fstat(self.fd)

    def ftruncate(self, length):
        with LOCK:
            guard("shrink" if length <= os.fstat(self.fd).st_size else "write")
            os.ftruncate(self.fd, length)


class FaultFS(fuse.Fuse):
    def getattr(self, path):
        return os.lstat(MODEL.real(path))

    def readdir(self, path, offset):
        for e in [".", ".."] + os.listdir(MODEL.real(path)):
            yield fuse.Direntry(e)

    def readlink(self, path):
        return os.readlink(MODEL.real(path))

    def access(self, path, mode):
        if not os.access(MODEL.real(path), mode):
            return -errno.EACCES
        return 0

    def statfs(self):
        return os.statvfs(MODEL.backing)

    def mkdir(self, path, mode):
        with LOCK:
            guard("mkdir")
            os.mkdir(MODEL.real(path), mode)

    def rmdir(self, path):
        with LOCK:
            guard("rmdir")
            os.rmdir(MODEL.real(path))

    def unlink(self, path):
        with LOCK:
            guard("unlink")
            os.unlink(MODEL.real(path))
            MODEL.ns.pop(path, None)

    def rename(self, old, new):
        with LOCK:
            guard("rename")
            os.rename(MODEL.real(old), MODEL.real(new))
            MODEL.move(old, new)

    def symlink(self, target, path):
        with LOCK:
            guard("create")
            os.symlink(target, MODEL.real(path))

    def mknod(self, path, mode, dev):
        with LOCK:
            guard("create")
            os.mknod(MODEL.real(path), mode, dev)

    def truncate(self, path, length):
        with LOCK:
            guard("shrink" if length <= os.lstat(MODEL.real(path)).st_size else "write")
            os.truncate(MODEL.real(path), length)

    def chmod(self, path, mode):
        with LOCK:
            guard("write")
            os.chmod(MODEL.real(path), mode)

    def chown(self, path, uid, gid):
        with LOCK:
            guard("write")
            os.chown(MODEL.real(path), uid, gid)

    def utimens(self, path, ts_acc, ts_mod):
        os.utime(MODEL.real(path), ns=(ts_acc.tv_sec * 10**9 + ts_acc.tv_nsec,
                                       ts_mod.tv_sec * 10**9 + ts_mod.tv_nsec))

    def fsinit(self):
        threading.Thread(target=serve, args=(CTL,), daemon=True).start()

    def main(self, *a, **kw):
        self.file_class = FaultFile
        return fuse.Fuse.main(self, *a, **kw)


def command(line):
    words = line.split()
    with LOCK:
        if words[:1] == ["fail"] and len(words) == 3 and words[1] in ("write", "fsync", "all"):
            e = getattr(errno, words[2])
            if words[1] in ("write", "all"):
                MODEL.write_err = e
            if words[1] in ("fsync", "all"):
                MODEL.fsync_err = e
            return "ok"
        if words == ["ok"]:
            MODEL.write_err = MODEL.fsync_err = 0
            return "ok"
        if words[:1] == ["cut"]:
            MODEL.cut(torn=words[1:] == ["torn"])
            return "ok"
        if words == ["status"]:
            return json.dumps(dict(MODEL.counts, write_err=MODEL.write_err,
                                   fsync_err=MODEL.fsync_err))
    return "error: unknown command"


def serve(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(4)
    while True:
        c, _ = s.accept()
        with c:
            data = b""
            while not data.endswith(b"\n"):
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            try:
                reply = command(data.decode())
            except Exception as e:  # noqa: BLE001 - the test sees what went wrong
                reply = f"error: {e!r}"
            c.sendall(reply.encode() + b"\n")


CTL = None

if __name__ == "__main__":
    backing, mnt, CTL = sys.argv[1:4]
    MODEL = Model(os.path.abspath(backing))
    server = FaultFS(usage="faultfs.py BACKING MOUNTPOINT CONTROL_SOCKET")
    server.multithreaded = True  # the control thread runs only while FUSE waits in a thread of its own
    server.parse([mnt, "-f", "-o", "big_writes,attr_timeout=0,entry_timeout=0,"
                  "negative_timeout=0,default_permissions"], errex=1)
    server.main()

#!/usr/bin/env python3
"""Simulated line-oriented serial sensors on a real pseudo-terminal.

The simulator opens a pty pair, sets it raw, and points LINK (a symlink) at the
slave side, which is what the gateway opens, exactly as it would open a
socat or ser2net pty or /dev/serial/by-id/... . It prints "ready" on stdout
once the link exists, so tests wait for that instead of sleeping.

Modes (--mode) and the exact values they send:
  nmea  GGA + RMC every period:  lat 48.1173  lon 11.516666667  alt 545.4
        sats 8  fix 1  speed_kn 22.4  course 84.4 (talker GP for GGA, GN for RMC)
  kv    "T=21.5 H=40;ok=true,n=7"
  csv   "21.5,40.2,,7"   (fields temp,hum,wind,count: wind empty)
Faults, each mixed into the stream every period:
  --bad-checksum      a GGA with alt 999.9 and a wrong checksum
  --missing-checksum  a GGA with alt 888.8 and no checksum
  --nofix             send no-fix GGA (empty position, fix 0, sats 0) instead
  --junk              binary bytes without a terminator, so they join the
                      next line, a kv/csv line damaged by a NUL inside it
                      (H=99 / 99.9 must never be published)
  --control           after the good lines, lines that would be valid but for
                      a control byte (before, inside or after them), and a
                      line of noise alone: never published, each counted in
                      lines_rejected (CONTROL_LINES per period). kv: Z1..Z4;
                      csv: wind 91..94; nmea: alt 777.7 / 666.6
  --overlong          a 1000-byte line (made of H=77 pairs / 77 fields) before
                      the good line
  --wrong-count       csv: a line with two fields (99.9,1)
  --vanish-after-ms N --vanish-for-ms M
                      after N ms close the pty and remove the link (the port
                      disappears, as when a USB adapter is unplugged), then
                      after M ms create a new pty and link ("back" on stdout)
Query mode (--query TEXT, escapes \\r \\n \\xHH): stay silent until the query
bytes arrive, then answer with one line; --silent never answers. The number
of queries received is kept in --stats FILE (rewritten atomically):
  queries=N
  answers=N
Stops on SIGTERM/SIGINT and removes the link.
"""
import argparse
import os
import select
import signal
import sys
import time
import tty

GOOD = {
    "nmea": None,  # built below
    "kv": b"T=21.5 H=40;ok=true,n=7",
    "csv": b"21.5,40.2,,7",
}
TERMINATORS = {"nmea": b"\r\n", "kv": b"\n", "csv": b"\r"}


def nmea(body, checksum=True, bad=False):
    cs = 0
    for c in body.encode():
        cs ^= c
    if bad:
        cs ^= 0x5A
    return b"$" + body.encode() + (b"*%02X" % cs if checksum else b"")


GGA = "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"
RMC = "GNRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"
GGA_NOFIX = "GPGGA,123520,,,,,0,00,,,M,,M,,"
GGA_BAD = "GPGGA,123519,1111.111,N,02222.222,E,1,09,0.9,999.9,M,46.9,M,,"
GGA_NOSUM = "GPGGA,123519,1111.111,N,02222.222,E,1,09,0.9,888.8,M,46.9,M,,"


GGA_CTRL = "GPGGA,123519,1111.111,N,02222.222,E,1,09,0.9,777.7,M,46.9,M,,"
GGA_CTRL_INSIDE = "GPGGA,123519,1111.111,N,02222.222,E,1,09,0.9,666.6,M,46.9,M,,\x07"

# Lines rejected per period with --control (every mode sends this many).
CONTROL_LINES = 5


def control_lines(mode):
    term = TERMINATORS[mode]
    if mode == "kv":
        lines = [b"\x01Z1=91", b"Z2=92\x7f", b"\x00Z3=93", b"\x1b[0mZ4=94"]
    elif mode == "csv":
        lines = [b"\x0121.5,40.2,91,7", b"21.5,40.2,92,7\x7f", b"\x0021.5,40.2,93,7",
                 b"\x1b[0m21.5,40.2,94,7"]
    else:
        # The second one's checksum covers its BEL: only the control byte is wrong.
        lines = [b"\x01" + nmea(GGA_CTRL), nmea(GGA_CTRL_INSIDE), b"\x00" + nmea(GGA_CTRL),
                 nmea(GGA_CTRL) + b"\x7f"]
    lines.append(b"\x02\x03\xff")  # noise alone up to a terminator
    assert len(lines) == CONTROL_LINES
    return [ln + term for ln in lines]


def decode_escapes(text):
    out, i = bytearray(), 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "r":
                out += b"\r"; i += 2; continue
            if n == "n":
                out += b"\n"; i += 2; continue
            if n == "x" and i + 3 < len(text) + 1:
                out.append(int(text[i + 2:i + 4], 16)); i += 4; continue
        out += c.encode(); i += 1
    return bytes(out)


class Sim:
    def __init__(self, args):
        self.a = args
        self.master = self.slave = None
        self.queries = 0
        self.answers = 0
        self.rx = b""
        self.write_stats()

    # --- the port -------------------------------------------------------
    def open_port(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        tmp = self.a.link + ".tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.ttyname(self.slave), tmp)
        os.replace(tmp, self.a.link)

    def close_port(self):
        if os.path.lexists(self.a.link):
            os.unlink(self.a.link)
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def send(self, data):
        try:
            os.write(self.master, data)
        except (BlockingIOError, OSError):
            pass  # nobody reads the port: the bytes are lost, as on a real line

    # --- what the sensor says ------------------------------------------
    def lines(self):
        a, mode = self.a, self.a.mode
        out = []
        if a.junk:
            out.append(b"\x00\xff\xfe\x1b\x07")  # noise between lines, no terminator
            if mode == "kv":
                out.append(b"T=2\x001.5 H=99" + TERMINATORS[mode])
            elif mode == "csv":
                out.append(b"99.9,\x0040.2,,7" + TERMINATORS[mode])
        if a.overlong:
            filler = b"H=77 " * 200 if mode != "csv" else b"77," * 333 + b"7"
            out.append(filler + TERMINATORS[mode])
        if a.wrong_count:
            out.append(b"99.9,1" + TERMINATORS[mode])
        if mode == "nmea":
            if a.bad_checksum:
                out.append(nmea(GGA_BAD, bad=True) + b"\r\n")
            if a.missing_checksum:
                out.append(nmea(GGA_NOSUM, checksum=False) + b"\r\n")
            if a.nofix:
                out.append(nmea(GGA_NOFIX) + b"\r\n")
            else:
                out.append(nmea(GGA) + b"\r\n")
                out.append(nmea(RMC) + b"\r\n")
        else:
            out.append(GOOD[mode] + TERMINATORS[mode])
        if a.control:
            out += control_lines(mode)
        return out

    def write_stats(self):
        if not self.a.stats:
            return
        tmp = self.a.stats + ".tmp"
        with open(tmp, "w") as f:
            f.write("queries=%d\nanswers=%d\n" % (self.queries, self.answers))
        os.replace(tmp, self.a.stats)

    def on_input(self):
        try:
            data = os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            return
        self.rx += data
        q = self.query
        while q in self.rx:
            self.rx = self.rx[self.rx.index(q) + len(q):]
            # Counted before answering, so whoever sees the answer also sees the count.
            self.queries += 1
            if not self.a.silent:
                self.answers += 1
            self.write_stats()
            if not self.a.silent:
                for line in self.lines():
                    self.send(line)
        self.rx = self.rx[-len(q):] if len(self.rx) > len(q) else self.rx

    # --- main loop -----------------------------------------------------
    def run(self):
        a = self.a
        self.query = decode_escapes(a.query) if a.query else None
        self.open_port()
        print("ready", flush=True)
        start = time.monotonic()
        next_line = start
        vanished = False
        while True:
            now = time.monotonic()
            if a.vanish_after_ms and not vanished and now - start >= a.vanish_after_ms / 1000:
                self.close_port()
                print("gone", flush=True)
                time.sleep(a.vanish_for_ms / 1000)
                self.open_port()
                print("back", flush=True)
                vanished = True
                now = next_line = time.monotonic()
            if self.query is None and now >= next_line:
                for line in self.lines():
                    self.send(line)
                next_line += a.period_ms / 1000
                if next_line < now:
                    next_line = now + a.period_ms / 1000
            # A queried sensor has no schedule of its own: wait for the query
            # (next_line never moves in that mode, which made this spin).
            timeout = 0.05 if self.query is not None else \
                max(0.0, min(0.05, next_line - time.monotonic()))
            r, _, _ = select.select([self.master], [], [], timeout)
            if r:
                if self.query is not None:
                    self.on_input()
                else:
                    try:
                        os.read(self.master, 4096)  # a streaming sensor ignores input
                    except OSError:
                        pass


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--link", required=True)
    p.add_argument("--mode", choices=["nmea", "kv", "csv"], required=True)
    p.add_argument("--period-ms", type=int, default=100)
    p.add_argument("--query")
    p.add_argument("--silent", action="store_true")
    p.add_argument("--stats")
    for flag in ("bad-checksum", "missing-checksum", "nofix", "junk", "overlong",
                 "wrong-count", "control"):
        p.add_argument("--" + flag, action="store_true")
    p.add_argument("--vanish-after-ms", type=int, default=0)
    p.add_argument("--vanish-for-ms", type=int, default=1000)
    args = p.parse_args()
    sim = Sim(args)

    def stop(_sig, _frm):
        sim.close_port()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sim.run()


if __name__ == "__main__":
    main()

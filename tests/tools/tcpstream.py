#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""tcpstream: a paced TCP file transfer with a progress log, for tests.

    tcpstream.py recv --bind IP --port P --out FILE [--progress LOG]
                      [--accept-timeout S] [--idle-timeout S] [--timeout S]
    tcpstream.py send --connect IP --port P --file FILE [--rate BYTES/S]
                      [--fast-file PATH] [--connect-timeout S] [--timeout S]

recv accepts one connection and writes everything it receives to FILE
until EOF. With --progress it appends "WALLCLOCK BYTES" lines (every
0.05 s while data arrives, and whenever data arrives after a pause), so a
test can see when the stream stalled and when it resumed.

send sends FILE, paced at --rate bytes per second (0: as fast as TCP
goes) until --fast-file exists, then at full speed; then it half-closes
and waits for the receiver's EOF, so that exit 0 means the receiver has
read everything.

Neither computes a checksum: the test compares sha256sum of the files.
Each prints one summary line ("tcpstream: key=value ...") on stdout.
Exit status: 0 done, 1 connection error/reset, 2 usage,
             3 timeout (accept, idle or overall).
"""

import argparse
import os
import socket
import sys
import time


def summary(**kv):
    print("tcpstream: " + " ".join("%s=%s" % (k, v) for k, v in kv.items()))
    sys.stdout.flush()


def do_recv(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    ls.settimeout(a.accept_timeout)
    try:
        s, peer = ls.accept()
    except socket.timeout:
        summary(mode="recv", result="accept_timeout", bytes=0)
        return 3
    ls.close()
    prog = open(a.progress, "a", buffering=1) if a.progress else None
    t0 = time.time()
    last_rx = t0
    last_prog = 0.0
    total = 0
    max_stall = 0.0
    s.settimeout(0.2)
    rc, result = 0, "ok"
    with open(a.out, "wb") as out:
        while True:
            now = time.time()
            if now - t0 > a.timeout:
                rc, result = 3, "timeout"
                break
            if now - last_rx > a.idle_timeout:
                rc, result = 3, "idle_timeout"
                break
            try:
                d = s.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError as e:
                rc, result = 1, "error(%s)" % e.__class__.__name__
                break
            now = time.time()
            if not d:
                break
            gap = now - last_rx
            if gap > max_stall:
                max_stall = gap
            out.write(d)
            total += len(d)
            if prog and (gap > 0.05 or now - last_prog >= 0.05):
                if gap > 0.05:
                    # the last moment before the pause, then now
                    prog.write("%.3f %d\n" % (last_rx, total - len(d)))
                prog.write("%.3f %d\n" % (now, total))
                last_prog = now
            last_rx = now
    if prog:
        prog.write("%.3f %d end=%s\n" % (time.time(), total, result))
        prog.close()
    s.close()
    el = time.time() - t0
    summary(mode="recv", result=result, bytes=total, elapsed="%.3f" % el,
            max_stall_ms=int(max_stall * 1000), peer="%s:%d" % peer)
    return rc


def do_send(a):
    size = os.path.getsize(a.file)
    t0 = time.time()
    try:
        s = socket.create_connection((a.connect, a.port),
                                     timeout=a.connect_timeout)
    except OSError as e:
        summary(mode="send", result="connect_error(%s)" % e, bytes=0)
        return 1
    s.settimeout(a.timeout)
    sent = 0
    paced_until = None
    rc, result = 0, "ok"
    try:
        with open(a.file, "rb") as f:
            while True:
                if a.timeout and time.time() - t0 > a.timeout:
                    raise socket.timeout()
                fast = a.rate <= 0 or (a.fast_file and
                                       os.path.exists(a.fast_file))
                if not fast:
                    # 16 KiB steps, each when the schedule allows it
                    if paced_until is None:
                        paced_until = time.time()
                    chunk = f.read(16384)
                    if not chunk:
                        break
                    ahead = paced_until - time.time()
                    if ahead > 0:
                        time.sleep(ahead)
                    s.sendall(chunk)
                    paced_until = max(paced_until, time.time() - 0.5) + \
                        len(chunk) / a.rate
                else:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    s.sendall(chunk)
                sent += len(chunk)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except socket.timeout:
        rc, result = 3, "timeout"
    except OSError as e:
        rc, result = 1, "error(%s)" % e
    s.close()
    summary(mode="send", result=result, bytes=sent, size=size,
            elapsed="%.3f" % (time.time() - t0))
    return rc


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--bind", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--progress")
    r.add_argument("--accept-timeout", type=float, default=30)
    r.add_argument("--idle-timeout", type=float, default=120)
    r.add_argument("--timeout", type=float, default=600)
    s = sub.add_parser("send")
    s.add_argument("--connect", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--file", required=True)
    s.add_argument("--rate", type=float, default=0)
    s.add_argument("--fast-file")
    s.add_argument("--connect-timeout", type=float, default=5)
    s.add_argument("--timeout", type=float, default=600)
    a = p.parse_args()
    return do_recv(a) if a.mode == "recv" else do_send(a)


if __name__ == "__main__":
    sys.exit(main())

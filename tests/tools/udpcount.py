#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""udpcount: a counted, paced UDP stream, to measure loss, reordering and
rate through a link (tests/net/15-wanem.t).

    udpcount.py send --to IP --port P --count N [--size BYTES]
                     (--pps R | --mbit R)
    udpcount.py recv --bind IP --port P --count N [--idle S] [--timeout S]

send sends N datagrams of --size bytes (at least 8), each starting with
its sequence number (64-bit, network order), paced at --pps datagrams
or --mbit megabits of payload per second. When it falls behind it sends
as fast as it can, and says so in its summary (offered rate).

recv prints "udpcount: ready" once bound, then counts until it has N
distinct sequence numbers, or --idle seconds pass with nothing after the
first datagram, or --timeout seconds pass in all. A datagram is "late"
when a higher number arrived before it (reordered), "dup" when its
number was seen, "stray" when it is not a number below N. The rate is
the payload bits between the first and the last arrival over that time.

Each prints one summary line ("udpcount: key=value ...") on stdout.
Exit status: 0 done, 2 usage, 3 nothing received before --timeout.
"""

import argparse
import socket
import struct
import sys
import time

SEQ = struct.Struct("!Q")
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def summary(**kv):
    print("udpcount: " + " ".join("%s=%s" % (k, v) for k, v in kv.items()))
    sys.stdout.flush()


def do_send(a):
    if a.size < SEQ.size or a.size > 65507:
        sys.exit("udpcount: --size must be 8 to 65507")
    pps = a.pps if a.pps else a.mbit * 1e6 / (a.size * 8)
    if pps <= 0:
        sys.exit("udpcount: the rate must be positive")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((a.to, a.port))
    pad = b"\0" * (a.size - SEQ.size)
    t0 = time.monotonic()
    seq = 0
    refused = 0
    while seq < a.count:
        due = min(a.count, int((time.monotonic() - t0) * pps) + 1)
        if due <= seq:
            time.sleep(min(0.001, (seq - due + 1) / pps))
            continue
        for i in range(seq, due):
            try:
                s.send(SEQ.pack(i) + pad)
            except (ConnectionRefusedError, BlockingIOError):
                refused += 1
        seq = due
    el = time.monotonic() - t0
    summary(sent=a.count, refused=refused, elapsed_s="%.3f" % el,
            pps="%.0f" % (a.count / el),
            mbit="%.1f" % (a.count * a.size * 8 / el / 1e6))


def recv_loop(s, a, st):
    seen = bytearray(a.count)
    high = -1
    start = time.monotonic()
    while st["unique"] < a.count:
        now = time.monotonic()
        left = a.timeout - (now - start)
        if st["first"] is not None:
            left = min(left, a.idle - (now - st["last"]))
        if left <= 0:
            break
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        now = time.monotonic()
        if st["first"] is None:
            st["first"], st["first_len"] = now, len(b)
        st["last"] = now
        st["bytes"] += len(b)
        n = SEQ.unpack_from(b)[0] if len(b) >= SEQ.size else -1
        if n < 0 or n >= a.count:
            st["stray"] += 1
            continue
        if seen[n]:
            st["dup"] += 1
            continue
        seen[n] = 1
        st["unique"] += 1
        if n < high:
            st["late"] += 1
        high = max(high, n)


def do_recv(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind((a.bind, a.port))
    print("udpcount: ready")
    sys.stdout.flush()
    st = dict(unique=0, dup=0, late=0, stray=0, bytes=0, first=None,
              first_len=0, last=None)
    recv_loop(s, a, st)
    span = (st["last"] - st["first"]) if st["first"] is not None else 0
    mbit = (st["bytes"] - st["first_len"]) * 8 / span / 1e6 if span > 0 else 0
    summary(expected=a.count, received=st["unique"],
            missing=a.count - st["unique"], late=st["late"], dup=st["dup"],
            stray=st["stray"], bytes=st["bytes"], span_s="%.3f" % span,
            mbit="%.2f" % mbit)
    return 0 if st["first"] is not None else 3


def main():
    p = argparse.ArgumentParser(description="counted UDP stream")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--to", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--size", type=int, default=64)
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--pps", type=float)
    g.add_argument("--mbit", type=float)
    r = sub.add_parser("recv")
    r.add_argument("--bind", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--idle", type=float, default=1.0)
    r.add_argument("--timeout", type=float, default=30.0)
    a = p.parse_args()
    if a.count <= 0:
        sys.exit("udpcount: --count must be positive")
    if a.cmd == "send":
        do_send(a)
        return 0
    return do_recv(a)


if __name__ == "__main__":
    sys.exit(main())

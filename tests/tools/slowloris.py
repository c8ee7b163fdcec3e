#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""slowloris: open plaintext TCP connections that never send a byte.

    slowloris.py --connect IP --port P [--bind SRC] [--conns N]
                 [--hold SECONDS] [--refused-ms MS]

Opens N connections at once (from SRC when given; IPv4 or IPv6, as IP
says), sends nothing, and
watches each until the server closes it or --hold seconds pass (then we
close it). Each connection is classified by what the server did:

    refused   closed (EOF or reset) within --refused-ms of connecting:
              turned away at accept, before any TLS
    closed    closed later, before --hold: e.g. a handshake timeout
    held      still open after --hold seconds (we closed it)
    failed    the connect itself failed

One summary line on stdout:
    slowloris: conns=N refused=R closed=C held=H failed=F close_ms=a,b,...
(close_ms: when the server closed each "closed" connection, in ms).
Exit status 0 (the classification is the result), 2 on usage errors.
"""

import argparse
import select
import socket
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--connect", required=True)
    p.add_argument("--port", type=int, default=4789)
    p.add_argument("--bind")
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--hold", type=float, default=3.0)
    p.add_argument("--refused-ms", type=float, default=1000)
    a = p.parse_args()
    if not 1 <= a.conns <= 256 or not 0 < a.hold <= 60:
        p.error("--conns 1..256, --hold 0..60")

    socks = {}		# fd -> (socket, connected at)
    res = {"refused": 0, "closed": 0, "held": 0, "failed": 0}
    close_ms = []
    for _ in range(a.conns):
        fam = socket.AF_INET6 if ":" in a.connect else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            if a.bind:
                s.bind((a.bind, 0))
            s.connect((a.connect, a.port))
        except OSError:
            res["failed"] += 1
            s.close()
            continue
        s.setblocking(False)
        socks[s.fileno()] = (s, time.monotonic())
    end = time.monotonic() + a.hold
    while socks:
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select(list(socks), [], [], min(left, 0.1))
        for fd in r:
            s, t = socks[fd]
            try:
                d = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if d:
                continue	# an alert or such: keep waiting for the close
            ms = (time.monotonic() - t) * 1000
            if ms < a.refused_ms:
                res["refused"] += 1
            else:
                res["closed"] += 1
                close_ms.append(int(ms))
            s.close()
            del socks[fd]
    for s, _ in socks.values():
        res["held"] += 1
        s.close()
    print("slowloris: conns=%d refused=%d closed=%d held=%d failed=%d "
          "close_ms=%s" % (a.conns, res["refused"], res["closed"],
                           res["held"], res["failed"],
                           ",".join(map(str, close_ms)) or "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""An authenticated host that floods its link as fast as TLS allows.

tlsflood.py --connect ADDR --port N --cert C --key K --ca CA --mac MAC
            --seconds S

Links up (TLS 1.3, the client certificate), sends HELLO announcing MAC,
then for S seconds writes the same 1 MiB of FRAME records again and
again: 42-byte broadcast ARP frames from random source MACs, which the
proxy's crypt must read, decrypt, parse and drop one by one. Unlike
wirepeer.py's flood, no record is built in the loop, so the sender is
bound by OpenSSL, not by Python. Prints "flood_sent=N flood_bytes=B
seconds=S" at the end. For tests/net/76-fairness.t only.
"""
import argparse
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wirepeer as wp	# noqa: E402  (the wire format, one place)


def chunk(avoid):
    frames = []
    rnd = os.urandom(6 * 16384)
    for i in range(0, len(rnd), 6):
        m = bytearray(rnd[i:i + 6])
        m[0] = (m[0] & 0xfe) | 0x02	# unicast, locally administered
        if bytes(m) == avoid:
            m[1] ^= 0xff
        frames.append(wp.record(wp.FRAME, wp.arp_frame(bytes(m))))
    return b"".join(frames), len(frames)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--connect", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--mac", type=wp.parse_mac, required=True)
    p.add_argument("--seconds", type=float, default=30.0)
    a = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    raw = socket.create_connection((a.connect, a.port), timeout=10)
    s = ctx.wrap_socket(raw)
    s.sendall(wp.hello([a.mac]))
    buf, nframes = chunk(a.mac)
    sent = nbytes = 0
    t0 = time.monotonic()
    end = t0 + a.seconds
    try:
        while time.monotonic() < end:
            s.sendall(buf)
            sent += nframes
            nbytes += len(buf)
    except (OSError, ssl.SSLError) as e:
        print("tlsflood: result=error reason=%r" % str(e))
    print("tlsflood: flood_sent=%d flood_bytes=%d seconds=%.1f" %
          (sent, nbytes, time.monotonic() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

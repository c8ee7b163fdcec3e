#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""wirepeer: a scriptable vnet wire-protocol client, for tests.

It speaks the host side of vnet's wire protocol (lib/wire.h) to a proxy:
TLS 1.3 only, with a client certificate, then records of
    type (1 byte) | payload length (3 bytes, big endian) | payload
HELLO (1):  "VNET" | version 1 | role (1 host) | nmacs (u16 BE) | MACs
FRAME (2):  an Ethernet frame; KEEPALIVE (3): empty; CLOSE (4): u16 reason.

Unlike vnetd it sends whatever it is told to, in this order:
    HELLO (or, with --truncated-hello, a HELLO cut short)
    --send-frame-src MAC --count N   N broadcast ARP frames from MAC
    --flood-random-src N             N broadcast ARP frames, each from a
                                     fresh random unicast source MAC
    --bad-type                       a record of type 9
    --oversize                       a FRAME header claiming 16 MiB
    --idle SECONDS                   stay connected, sending keepalives
then waits --linger seconds for the proxy to close the link.

--bad-then-reset N does something else, N times over: connect, HELLO,
wait for the proxy's HELLO (the link is up), then send a record of type
9 and reset the TCP connection at once (SO_LINGER 0), so the proxy's
close record meets a reset. Summary "wirepeer: resets=N done=K ...";
exit status 0 when all N went so, 1 when one was refused early, 2 on a
connect or TLS error. Everything
the proxy sends is read (so it never blocks on us) and otherwise ignored.

One summary line goes to stdout ("wirepeer: key=value ...").
Exit status: 0 the link was still open at the end (we then closed it),
             1 the proxy closed the link (CLOSE record, EOF, reset, or a
               TLS alert after the handshake: with TLS 1.3 a refused
               client certificate shows up only there),
             2 usage, connect or TLS handshake error.
"""

import argparse
import os
import select
import socket
import ssl
import struct
import sys
import time

HELLO, FRAME, KEEPALIVE, CLOSE = 1, 2, 3, 4
ROLE_HOST = 1
MAX_RECORD = 4 + 65600


class PeerClosed(Exception):
    pass


def parse_mac(s):
    parts = s.split(":")
    if len(parts) != 6:
        raise argparse.ArgumentTypeError("bad MAC %r" % s)
    try:
        b = bytes(int(p, 16) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError("bad MAC %r" % s)
    return b


def fmt_mac(b):
    return ":".join("%02x" % x for x in b)


def record(rtype, payload=b"", length=None):
    n = len(payload) if length is None else length
    return bytes([rtype]) + n.to_bytes(3, "big") + payload


def hello(macs, role=ROLE_HOST):
    return record(HELLO, b"VNET" + bytes([1, role]) +
                  struct.pack(">H", len(macs)) + b"".join(macs))


def arp_frame(src):
    """A broadcast ARP request (42 bytes) from src."""
    return (b"\xff" * 6 + src + b"\x08\x06" +
            struct.pack(">HHBBH", 1, 0x0800, 6, 4, 1) +
            src + bytes([169, 254, 0, 2]) + b"\x00" * 6 +
            bytes([169, 254, 0, 1]))


class Peer:
    def __init__(self, args):
        self.args = args
        self.rbuf = bytearray()
        self.stats = {"rx_records": 0, "rx_frames": 0, "rx_keepalives": 0,
                      "rx_bytes": 0, "tx_records": 0, "tx_bytes": 0}
        self.proxy_hello = False
        self.close_code = None
        self.closed_by_peer = None	# reason string once closed
        self.last_tx = time.monotonic()

    def connect(self):
        a = self.args
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(a.ca)
        ctx.load_cert_chain(a.cert, a.key)
        raw = socket.create_connection((a.connect, a.port), timeout=a.timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = ctx.wrap_socket(raw, do_handshake_on_connect=False)
        self.s.do_handshake()
        self.s.setblocking(False)
        self.tls = "%s cipher=%s" % (self.s.version(), self.s.cipher()[0])

    # ---- reading: everything the proxy sends is parsed and dropped
    def _records(self):
        while len(self.rbuf) >= 4:
            t = self.rbuf[0]
            n = int.from_bytes(self.rbuf[1:4], "big")
            if len(self.rbuf) < 4 + n:
                return
            payload = bytes(self.rbuf[4:4 + n])
            del self.rbuf[:4 + n]
            self.stats["rx_records"] += 1
            if t == HELLO:
                self.proxy_hello = True
            elif t == FRAME:
                self.stats["rx_frames"] += 1
            elif t == KEEPALIVE:
                self.stats["rx_keepalives"] += 1
            elif t == CLOSE:
                if len(payload) == 2:
                    self.close_code = struct.unpack(">H", payload)[0]
                raise PeerClosed("CLOSE record code=%s" % self.close_code)

    def drain(self):
        """Read whatever is there without blocking. Raises PeerClosed."""
        while True:
            try:
                d = self.s.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                    BlockingIOError):
                return
            except ssl.SSLZeroReturnError:
                raise PeerClosed("TLS close_notify")
            except (ConnectionError, ssl.SSLError, OSError) as e:
                raise PeerClosed("read error: %s" % e)
            if not d:
                raise PeerClosed("EOF")
            self.stats["rx_bytes"] += len(d)
            self.rbuf += d
            self._records()

    def wait_readable(self, secs):
        if self.s.pending():
            return
        select.select([self.s], [], [], max(0.0, secs))

    # ---- writing: chunks of at most 16 KiB, retried as OpenSSL wants
    def send(self, data, nrec=1):
        mv = memoryview(data)
        off = 0
        stall = time.monotonic() + self.args.timeout
        while off < len(mv):
            if time.monotonic() > stall:
                raise PeerClosed("write stalled for %gs (the proxy reads "
                                 "nothing)" % self.args.timeout)
            chunk = mv[off:off + 16384]
            try:
                n = self.s.send(chunk)
            except ssl.SSLWantWriteError:
                self.drain()
                select.select([self.s], [self.s], [], 1.0)
                continue
            except ssl.SSLWantReadError:
                self.drain()
                select.select([self.s], [], [], 1.0)
                continue
            except (ConnectionError, ssl.SSLError, OSError) as e:
                # Our write failed: did the proxy say why?
                try:
                    self.drain()
                except PeerClosed as pc:
                    raise pc
                raise PeerClosed("write error: %s" % e)
            off += n
            stall = time.monotonic() + self.args.timeout
            self.drain()
        self.stats["tx_records"] += nrec
        self.stats["tx_bytes"] += len(mv)
        self.last_tx = time.monotonic()

    def keepalive_if_due(self):
        if time.monotonic() - self.last_tx >= self.args.keepalive:
            self.send(record(KEEPALIVE))

    def pump(self, secs):
        """Read (and keep the link alive) for secs seconds."""
        end = time.monotonic() + secs
        while True:
            self.drain()
            self.keepalive_if_due()
            left = end - time.monotonic()
            if left <= 0:
                return
            self.wait_readable(min(left, 0.2))

    def wait_proxy_hello(self, secs):
        end = time.monotonic() + secs
        while not self.proxy_hello and time.monotonic() < end:
            self.drain()
            self.wait_readable(0.1)
        return self.proxy_hello


def bad_then_reset(a):
    """Authenticated links that end in a bad record and a reset."""
    done = 0
    t0 = time.time()
    for i in range(a.bad_then_reset):
        peer = Peer(a)
        try:
            peer.connect()
        except (OSError, ssl.SSLError) as e:
            print("wirepeer: resets=%d done=%d result=error stage=connect "
                  "reason=%r" % (a.bad_then_reset, done, str(e)))
            return 2
        try:
            peer.send(hello(a.mac))
            if not peer.wait_proxy_hello(a.timeout):
                raise PeerClosed("no HELLO from the proxy in %gs" %
                                 a.timeout)
            peer.pump(0.3)
        except PeerClosed as e:
            print("wirepeer: resets=%d done=%d result=closed_by_peer "
                  "reason=%r" % (a.bad_then_reset, done, str(e)))
            return 1
        peer.s.setblocking(True)
        peer.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        try:
            peer.s.sendall(record(9, b"\x00" * 4))
        finally:
            peer.s.close()
        done += 1
        time.sleep(0.3)
    print("wirepeer: resets=%d done=%d elapsed=%.3fs result=done" %
          (a.bad_then_reset, done, time.time() - t0))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--connect", required=True, help="proxy address")
    p.add_argument("--port", type=int, default=4789, help="default 4789")
    p.add_argument("--cert", required=True, help="client certificate (PEM)")
    p.add_argument("--key", required=True, help="its private key (PEM)")
    p.add_argument("--ca", required=True,
                   help="CA the proxy's certificate must chain to")
    p.add_argument("--mac", type=parse_mac, action="append", default=[],
                   help="MAC announced in HELLO (repeatable)")
    p.add_argument("--truncated-hello", action="store_true",
                   help="send a HELLO whose payload is 3 bytes short of "
                   "its nmacs (length field consistent with what is sent)")
    p.add_argument("--send-frame-src", type=parse_mac, metavar="MAC",
                   help="send --count broadcast ARP frames from MAC")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--flood-random-src", type=int, default=0, metavar="N",
                   help="send N broadcast ARP frames, each from a random "
                   "unicast source MAC")
    p.add_argument("--bad-type", action="store_true",
                   help="send a record of type 9")
    p.add_argument("--oversize", action="store_true",
                   help="send a FRAME header claiming 16 MiB")
    p.add_argument("--idle", type=float, default=0, metavar="SECONDS",
                   help="stay connected, sending keepalives")
    p.add_argument("--keepalive", type=float, default=1.0,
                   help="seconds between our keepalives (default 1)")
    p.add_argument("--linger", type=float, default=1.0,
                   help="seconds to wait at the end for the proxy to "
                   "close the link (default 1)")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="connect and handshake timeout")
    p.add_argument("--bad-then-reset", type=int, default=0, metavar="N",
                   help="N times: link up, a record of type 9, then a "
                   "TCP reset at once (nothing else is sent)")
    a = p.parse_args()
    if a.bad_then_reset > 0:
        return bad_then_reset(a)

    peer = Peer(a)
    out = ["wirepeer:"]
    t0 = time.time()
    try:
        peer.connect()
    except (OSError, ssl.SSLError) as e:
        print("wirepeer: result=error stage=connect reason=%r" % str(e))
        return 2
    out.append("tls=%s" % peer.tls)
    result = "open"
    why = ""
    try:
        if not peer.wait_proxy_hello(a.timeout):
            raise PeerClosed("no HELLO from the proxy in %gs" % a.timeout)
        out.append("proxy_hello=yes")
        if a.truncated_hello:
            macs = a.mac or [bytes.fromhex("525400000001")]
            full = (b"VNET" + bytes([1, ROLE_HOST]) +
                    struct.pack(">H", len(macs)) + b"".join(macs))
            cut = full[:-3]
            out.append("hello=truncated(%d of %d bytes)" % (len(cut),
                                                             len(full)))
            peer.send(record(HELLO, cut))
        else:
            out.append("hello=sent macs=%d" % len(a.mac))
            peer.send(hello(a.mac))
        if a.send_frame_src is not None:
            f = record(FRAME, arp_frame(a.send_frame_src))
            for _ in range(a.count):
                peer.send(f)
            out.append("sent_src=%s count=%d" % (fmt_mac(a.send_frame_src),
                                                 a.count))
        if a.flood_random_src > 0:
            n = a.flood_random_src
            avoid = set(a.mac)
            rnd = os.urandom(6 * n)
            recs = bytearray()
            sent = 0
            ts = time.time()
            for i in range(n):
                m = bytearray(rnd[6 * i:6 * i + 6])
                m[0] = (m[0] & 0xfe) | 0x02	# unicast, locally administered
                m = bytes(m)
                if m in avoid:
                    m = bytes([m[0], m[1] ^ 0xff]) + m[2:]
                recs += record(FRAME, arp_frame(m))
                if len(recs) >= 65536 or i == n - 1:
                    peer.send(bytes(recs), nrec=0)
                    recs = bytearray()
                sent = i + 1
            te = time.time()
            peer.stats["tx_records"] += sent
            out.append("flood_sent=%d flood_start=%.3f flood_end=%.3f "
                       "flood_rate=%d/s" % (sent, ts, te,
                                            int(sent / max(te - ts, 1e-6))))
        if a.bad_type:
            out.append("bad_type=sent")
            peer.send(record(9, b"\x00" * 4))
        if a.oversize:
            # The header claims 16 MiB - 1 (the 24-bit maximum); a little
            # payload follows, the rest never does.
            out.append("oversize=sent(claims %d)" % 0xffffff)
            peer.send(record(FRAME, b"\x00" * 64, length=0xffffff))
        if a.idle > 0:
            peer.pump(a.idle)
            out.append("idle=%gs" % a.idle)
        peer.pump(a.linger)
    except PeerClosed as e:
        result = "closed_by_peer"
        why = str(e)
    out.append("rx_records=%d rx_frames=%d rx_keepalives=%d tx_records=%d "
               "tx_bytes=%d" % (peer.stats["rx_records"],
                                peer.stats["rx_frames"],
                                peer.stats["rx_keepalives"],
                                peer.stats["tx_records"],
                                peer.stats["tx_bytes"]))
    out.append("elapsed=%.3fs" % (time.time() - t0))
    out.append("result=%s" % result)
    if why:
        out.append("reason=%r" % why)
    print(" ".join(out))
    sys.stdout.flush()
    try:
        if result == "open":
            try:
                peer.send(record(CLOSE, struct.pack(">H", 1)))
            except PeerClosed:
                pass
        peer.s.close()
    except OSError:
        pass
    return 0 if result == "open" else 1


if __name__ == "__main__":
    sys.exit(main())

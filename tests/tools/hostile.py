#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""hostile: many hostile connection attempts against a vnet proxy, for tests.

    hostile.py --connect IP [--port P] --par N --dir DIR [options]
               KIND:COUNT ...

Runs COUNT attempts of each KIND, shuffled, N at a time (N threads, one
connection each at a time), and prints one line per attempt and a
summary. Certificates come from DIR: ca.crt, and per kind below.

KINDS (what the attempt does; the outcome it reports)
  random      connect, send 1..4096 random bytes, close      sent
  slow_long   plaintext connect from --slow-bind, send nothing, hold
              --hold-long s (past the proxy's handshake timeout)
  slow_short  the same, held 0.5 s                            refused |
              closed | held (the server closed it within --refused-ms,
              later, or not before we did)
  nocert      TLS 1.3 without a client certificate
  rogue       TLS 1.3 with DIR/atkrogue.crt (another CA)
  expired     TLS 1.3 with DIR/atkexp.crt (expired)
  stranger    TLS 1.3 with DIR/stranger.crt (valid, CN not configured)
              for these four: closed (the server ended the connection:
              alert, CLOSE record or EOF) | open (nothing within 5 s)
  macunauth   wire protocol (tests/tools/wirepeer.py's Peer) as
              DIR/atk<thread>.crt: HELLO with --mac-fmt % thread, then
              --frames ARP frames from --bad-mac; linger 0.1 s
              open (link still up: frames are dropped, not the link)
  oversize    HELLO, then a FRAME header claiming 16 MiB
  badtype     HELLO, then a record of type 9
  trunc       a HELLO 3 bytes short
              for these three: closed | open (the proxy kept the link
              for --linger s)

Each thread uses its own atk<thread> certificate, so two attempts never
present the same CN at once (a host's new link replaces its old one).

Output: "attempt KIND OUTCOME DETAIL" lines, then
"hostile: KIND=OUTCOME:N,... elapsed=S". Exit 0, or 2 on usage errors.
"""

import argparse
import os
import queue
import random
import select
import socket
import ssl
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True		# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wirepeer  # noqa: E402  (its Peer and record helpers)

TLS_KINDS = {"nocert": None, "rogue": "atkrogue", "expired": "atkexp",
             "stranger": "stranger"}
WP_KINDS = ("macunauth", "oversize", "badtype", "trunc")
ALL = ("random", "slow_long", "slow_short") + tuple(TLS_KINDS) + WP_KINDS


def attempt_random(a, slot):
    n = random.randint(1, 4096)
    try:
        s = socket.create_connection((a.connect, a.port), timeout=5)
    except OSError as e:
        return "connect_failed", str(e)
    try:
        s.sendall(os.urandom(n))
    except OSError:
        pass
    s.close()
    return "sent", "bytes=%d" % n


def attempt_slow(a, slot, hold):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        if a.slow_bind:
            s.bind((a.slow_bind, 0))
        s.connect((a.connect, a.port))
    except OSError as e:
        s.close()
        return "failed", str(e)
    t0 = time.monotonic()
    end = t0 + hold
    s.setblocking(False)
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return "held", "hold=%gs" % hold
            r, _, _ = select.select([s], [], [], left)
            if not r:
                continue
            try:
                d = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if d:
                continue
            ms = (time.monotonic() - t0) * 1000
            if ms < a.refused_ms:
                return "refused", "after_ms=%d" % ms
            return "closed", "after_ms=%d" % ms
    finally:
        s.close()


CTX = {}
CTX_LOCK = threading.Lock()


def tls_ctx(a, kind):
    """One client context per kind, shared by the threads."""
    with CTX_LOCK:
        if kind not in CTX:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            ctx.check_hostname = False
            ctx.load_verify_locations(os.path.join(a.dir, "ca.crt"))
            name = TLS_KINDS[kind]
            if name:
                ctx.load_cert_chain(os.path.join(a.dir, name + ".crt"),
                                    os.path.join(a.dir, name + ".key"))
            CTX[kind] = ctx
        return CTX[kind]


def attempt_tls(a, slot, kind):
    ctx = tls_ctx(a, kind)
    try:
        raw = socket.create_connection((a.connect, a.port), timeout=5)
    except OSError as e:
        return "connect_failed", str(e)
    try:
        s = ctx.wrap_socket(raw)	# the client's side completes in TLS 1.3
    except (ssl.SSLError, OSError) as e:
        raw.close()
        return "closed", "handshake: %s" % e
    s.settimeout(5)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return "closed", "eof"
            # the proxy's CLOSE record (stranger) or its HELLO
            if d[0] == wirepeer.CLOSE:
                code = struct.unpack(">H", d[4:6])[0] if len(d) >= 6 else -1
                return "closed", "close_record code=%d" % code
    except socket.timeout:
        return "open", "nothing in 5 s"
    except (ssl.SSLError, OSError) as e:
        return "closed", str(e).replace("\n", " ")[:120]
    finally:
        s.close()


def attempt_wire(a, slot, kind):
    wa = argparse.Namespace(
        connect=a.connect, port=a.port, ca=os.path.join(a.dir, "ca.crt"),
        cert=os.path.join(a.dir, "atk%d.crt" % slot),
        key=os.path.join(a.dir, "atk%d.key" % slot),
        keepalive=1.0, timeout=10.0)
    mac = wirepeer.parse_mac(a.mac_fmt % slot)
    p = wirepeer.Peer(wa)
    try:
        p.connect()
    except (OSError, ssl.SSLError) as e:
        return "connect_failed", str(e)
    try:
        if not p.wait_proxy_hello(10):
            return "closed", "no proxy hello"
        if kind == "trunc":
            full = b"VNET" + bytes([1, wirepeer.ROLE_HOST]) + \
                struct.pack(">H", 1) + mac
            p.send(wirepeer.record(wirepeer.HELLO, full[:-3]))
        else:
            p.send(wirepeer.hello([mac]))
        if kind == "macunauth":
            f = wirepeer.record(wirepeer.FRAME,
                                wirepeer.arp_frame(wirepeer.parse_mac(a.bad_mac)))
            p.send(f * a.frames, nrec=a.frames)
            p.pump(0.1)
            return "open", "frames=%d" % a.frames
        if kind == "oversize":
            p.send(wirepeer.record(wirepeer.FRAME, b"\x00" * 64,
                                   length=0xffffff))
        elif kind == "badtype":
            p.send(wirepeer.record(9, b"\x00" * 4))
        p.pump(a.linger)
        return "open", "linger=%gs" % a.linger
    except wirepeer.PeerClosed as e:
        return "closed", str(e)
    finally:
        try:
            p.s.close()
        except OSError:
            pass


def run(a, slot, q, out, lock, tally):
    while True:
        try:
            kind = q.get_nowait()
        except queue.Empty:
            return
        try:
            if kind == "random":
                res = attempt_random(a, slot)
            elif kind == "slow_long":
                res = attempt_slow(a, slot, a.hold_long)
            elif kind == "slow_short":
                res = attempt_slow(a, slot, 0.5)
            elif kind in TLS_KINDS:
                res = attempt_tls(a, slot, kind)
            else:
                res = attempt_wire(a, slot, kind)
        except Exception as e:		# report, never hang the run
            res = ("error", "%s: %s" % (e.__class__.__name__, e))
        with lock:
            out.write("attempt %s %s %s\n" % (kind, res[0], res[1]))
            key = (kind, res[0])
            tally[key] = tally.get(key, 0) + 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--connect", required=True)
    p.add_argument("--port", type=int, default=4789)
    p.add_argument("--par", type=int, default=8)
    p.add_argument("--dir", required=True)
    p.add_argument("--slow-bind")
    p.add_argument("--hold-long", type=float, default=3.0)
    p.add_argument("--refused-ms", type=float, default=1500)
    p.add_argument("--mac-fmt", default="52:54:00:a7:00:%02x")
    p.add_argument("--bad-mac", default="52:54:00:66:66:66")
    p.add_argument("--frames", type=int, default=5)
    p.add_argument("--linger", type=float, default=3.0)
    p.add_argument("jobs", nargs="+", metavar="KIND:COUNT")
    a = p.parse_args()
    kinds = []
    for j in a.jobs:
        k, _, n = j.partition(":")
        if k not in ALL or not n.isdigit():
            p.error("bad job %r" % j)
        kinds += [k] * int(n)
    if not 1 <= a.par <= 64 or len(kinds) > 100000:
        p.error("--par 1..64, at most 100000 attempts")
    random.shuffle(kinds)
    q = queue.Queue()
    for k in kinds:
        q.put(k)
    lock = threading.Lock()
    tally = {}
    t0 = time.time()
    th = [threading.Thread(target=run, args=(a, i, q, sys.stdout, lock, tally),
                           daemon=True) for i in range(a.par)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    print("hostile: %s elapsed=%.3f" % (
        " ".join("%s=%s:%d" % (k, o, n) for (k, o), n in sorted(tally.items())),
        time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())

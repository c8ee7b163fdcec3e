#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""dgramhostile: hostile copies of a vnet host's real UDP datagrams, for tests.

    dgramhostile.py --pcap FILE --proxy IP --port P --iface DEV
                    --epoch-packets N --phase quiet|load [--seed S]
                    [--hold-cmd CMD --release-cmd CMD]

Runs in the host's network namespace. FILE is a tcpdump -w capture of
the host's WAN interface taken from before the link came up, so it
holds the datagrams of the host's first key epoch (counters 0..N-1);
DEV is that interface, sniffed live (AF_PACKET, outgoing) for fresh
datagrams. Everything is sent from a socket of our own to IP:P, the
proxy's UDP port. Datagram layout (lib/dgram.h): type, version, two
zero bytes, receiver id (4), counter (8), ciphertext, 16-byte tag.

The proxy checks, in this order: length and header (dgram_parse), the
receiver id, the key epoch, the replay window, the tag. Each class is
built so that exactly one of those checks refuses it, whatever the
proxy's state within the margins stated below.

--phase quiet (the host sends little: a ping at ~50/s):
  F: 12 fresh datagrams the proxy has received; then CMD --hold-cmd
  ({sport} = the host's source port; it must make the proxy's kernel
  drop the host's datagrams, not ours), H: 8 more that the proxy never
  sees; --release-cmd; then we wait for a newer datagram that reaches
  it. F and H lie in the proxy's current or previous epoch (the epoch
  changes every N packets; only ~1 s has passed), and H's counters are
  unseen and below the window's top.
  replay       F again, in order                    -> replay
  reorder      F reversed, then shuffled            -> replay
  flip_ct      H, one ciphertext bit flipped        -> tag
  flip_tag     H, one tag bit flipped               -> tag
  flip_ctr     H, counter moved to another H's      -> tag
  cut1         H (DATA), last byte cut              -> tag
  held_ok      H as captured                        -> accepted: the
               window was not touched by the failed copies above
  held_replay  H again                              -> replay

--phase load (during a transfer; the proxy is past epoch 1):
  P0: the capture's epoch-0 datagrams; P: any from the capture.
  short        P cut to 0, 1, 8, 15, 16 and 31 bytes -> short
  hdrtag       P cut to header + tag (32 bytes)      -> length
  cut_min      DATA cut to a 13-byte frame           -> length
  version      version byte not 1                    -> version
  reserved     a reserved byte not 0                 -> reserved
  type         type 0 or 4..255                      -> type
  too_long     a datagram over 9216 bytes            -> too_long
  flip_rid     P, one receiver-id bit flipped        -> unknown_id
  flip_hi      P, a counter bit 20..63 set           -> future_epoch
  old_replay   P0 in order                           -> old_epoch
  old_reorder  P0 reversed, then shuffled            -> old_epoch
  old_flip_ct, old_flip_tag, old_cut1: P0 altered   -> old_epoch
  live_replay  fresh datagrams sniffed now, sent back 3 ms later: replay,
               or old_epoch if the proxy moved two epochs on meanwhile
  The first datagram of each reason goes 125 ms apart, so that each
  reason gets an audit record past the proxy's 10/s limit.

Output: one line "dgramhostile: phase=... CLASS=N ... total=N", where
total counts every datagram sent (held_ok included), and "# " notes on
stderr. Exit 0; 1 when the capture or the live traffic lacks what a
class needs; 2 on usage errors.
"""

import argparse
import random
import socket
import struct
import subprocess
import sys
import time

HDR, TAG = 16, 16
FRAME_MIN = 14			# VNET_FRAME_MIN: an Ethernet header
UDP_BUF = 9216			# crypt's receive buffer (crypt/udp.c)
DATA, PROBE, PROBE_ACK = 1, 2, 3
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def note(*a):
    print("#", *a, file=sys.stderr)
    sys.stderr.flush()


def ctr_of(d):
    return struct.unpack_from(">Q", d, 8)[0]


def rid_of(d):
    return struct.unpack_from(">I", d, 4)[0]


def udp_payload(frame, proxy, port):
    """(sport, payload) of an Ethernet/IPv4/UDP frame to proxy:port."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0f) * 4
    if ip[0] >> 4 != 4 or ip[9] != 17 or len(ip) < ihl + 8:
        return None
    if struct.unpack_from(">H", ip, 6)[0] & 0x3fff:	# a fragment
        return None
    if ip[16:20] != proxy:
        return None
    sport, dport, ulen = struct.unpack_from(">HHH", ip, ihl)
    if dport != port:
        return None
    return sport, bytes(ip[ihl + 8:ihl + ulen])


def read_pcap(path, proxy, port):
    """The datagrams to proxy:port in a classic pcap, in capture order."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: no pcap header" % path)
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s: not a pcap file (pcapng?)" % path)
    if struct.unpack_from(e + "I", data, 20)[0] != 1:
        raise ValueError("%s: not an Ethernet capture" % path)
    out, off = [], 24
    while off + 16 <= len(data):
        incl, orig = struct.unpack_from(e + "II", data, off + 8)
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if incl != orig:
            continue		# cut by the snap length
        r = udp_payload(frame, proxy, port)
        if r is not None and len(r[1]) >= HDR + TAG:
            out.append(r)
    return out


class Sniffer:
    """The host's outgoing datagrams to proxy:port, live."""

    def __init__(self, iface, proxy, port, own_port):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                               socket.htons(ETH_P_ALL))
        self.s.bind((iface, 0))
        self.proxy, self.port, self.own = proxy, port, own_port
        self.sport = None

    def next(self, deadline, rid=None):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                frame, addr = self.s.recvfrom(65536)
            except socket.timeout:
                return None
            if addr[2] != PACKET_OUTGOING:
                continue
            r = udp_payload(frame, self.proxy, self.port)
            if r is None or r[0] == self.own or len(r[1]) < HDR + TAG:
                continue
            if rid is not None and rid_of(r[1]) != rid:
                continue
            self.sport = r[0]
            return r[1]

    def drain(self):
        """Forget what queued up while we were not reading."""
        self.s.setblocking(False)
        try:
            while True:
                self.s.recv(65536)
        except BlockingIOError:
            pass
        self.s.setblocking(True)

    def take(self, n, secs, rid):
        got, end = [], time.monotonic() + secs
        while len(got) < n:
            d = self.next(end, rid)
            if d is None:
                break
            got.append(d)
        return got


class Sender:
    def __init__(self, proxy, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("0.0.0.0", 0))
        self.to = (socket.inet_ntoa(proxy), port)
        self.port = self.s.getsockname()[1]
        self.sent = {}
        self.n = 0

    def send(self, cls, d):
        self.s.sendto(d, self.to)
        self.sent[cls] = self.sent.get(cls, 0) + 1
        self.n += 1
        if self.n % 16 == 0:
            time.sleep(0.002)	# paced: the proxy's socket never fills

    def count(self, cls):
        self.sent.setdefault(cls, 0)


def flip(d, lo, hi, rng):
    """d with one random bit flipped in bytes [lo, hi)."""
    b = bytearray(d)
    i = rng.randrange(lo, hi)
    b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def with_ctr(d, c):
    b = bytearray(d)
    struct.pack_into(">Q", b, 8, c)
    return bytes(b)


def run_cmd(cmd, sport):
    c = cmd.replace("{sport}", str(sport))
    r = subprocess.run(c, shell=True, capture_output=True, text=True,
                       timeout=10)
    if r.returncode != 0:
        note("command failed (%d): %s: %s" % (r.returncode, c,
                                                r.stderr.strip()))
        return False
    return True


def phase_quiet(a, sn, tx, rng, rid, ep):
    f = sn.take(12, 10, rid)
    if len(f) < 12:
        note("only %d fresh datagrams within 10 s" % len(f))
        return 1
    if not run_cmd(a.hold_cmd, sn.sport):
        return 1
    # What the socket queued before the command returned may have got
    # through: only datagrams seen after it are surely held.
    sn.drain()
    try:
        h = sn.take(8, 10, rid)
    finally:
        ok = run_cmd(a.release_cmd, sn.sport)
    if len(h) < 8 or not ok:
        note("held %d datagrams (release %s)" % (len(h), ok))
        return 1
    sn.drain()			# likewise: held, not newer
    top = max(ctr_of(x) for x in h)
    newer = None
    end = time.monotonic() + 5
    while newer is None or ctr_of(newer) <= top:
        newer = sn.next(end, rid)
        if newer is None:
            note("no datagram after the held ones within 5 s")
            return 1
    time.sleep(0.05)		# the proxy has read it by now
    cur = ctr_of(newer) // ep
    fresh = [x for x in f if ctr_of(x) // ep >= cur - 1]
    note("fresh counters %d..%d, held %d..%d, newest %d, epoch %d; "
         "%d fresh in epochs %d..%d" % (
             ctr_of(f[0]), ctr_of(f[-1]), ctr_of(h[0]), ctr_of(h[-1]),
             ctr_of(newer), cur, len(fresh), cur - 1, cur))
    if len(fresh) < 4 or min(ctr_of(x) for x in h) // ep < cur - 1:
        note("too little in the proxy's current and previous epochs")
        return 1
    hset = {ctr_of(x) for x in h}
    hdata = [x for x in h if x[0] == DATA and len(x) - HDR - TAG > 0]
    for c in ("replay", "reorder", "flip_ct", "flip_tag", "flip_ctr",
              "cut1", "held_ok", "held_replay"):
        tx.count(c)
    # One of each reason first, so that each gets an audit record.
    tx.send("replay", fresh[0])
    tx.send("flip_tag", flip(h[0], len(h[0]) - TAG, len(h[0]), rng))
    for x in fresh[1:]:
        tx.send("replay", x)
    for x in reversed(fresh):
        tx.send("reorder", x)
    for x in rng.sample(fresh, len(fresh)):
        tx.send("reorder", x)
    for x in hdata:
        tx.send("flip_ct", flip(x, HDR, len(x) - TAG, rng))
    for x in h[1:]:
        tx.send("flip_tag", flip(x, len(x) - TAG, len(x), rng))
    for x in h:
        c = ctr_of(x)
        for k in range(8):
            if c ^ (1 << k) in hset:
                tx.send("flip_ctr", with_ctr(x, c ^ (1 << k)))
                break
    for x in hdata:
        if len(x) - 1 - HDR - TAG >= FRAME_MIN:
            tx.send("cut1", x[:-1])
    for x in h:
        tx.send("held_ok", x)
    time.sleep(0.05)		# read before their replays
    for x in h:
        tx.send("held_replay", x)
    return 0


def load_classes(p, p0, rid, rng):
    """(class, datagram) lists of the load phase, one per class."""
    data = [x for x in p if x[0] == DATA]
    d0 = [x for x in p0 if x[0] == DATA]
    pick = lambda src, n: [rng.choice(src) for _ in range(n)]
    c = {}
    c["short"] = [x[:n] for n in (0, 1, 8, 15, 16, 31) for x in pick(p, 2)]
    c["hdrtag"] = [x[:HDR + TAG] for x in pick(p, 10)]
    c["cut_min"] = [x[:HDR] + x[HDR:HDR + FRAME_MIN - 1] + x[-TAG:]
                    for x in pick(data, 10)]
    c["version"] = [x[:1] + bytes([v]) + x[2:] for x, v in
                    zip(pick(p, 10), [0, 2, 3, 255] + [rng.choice(
                        [v for v in range(256) if v != 1]) for _ in range(6)])]
    c["reserved"] = []
    for x in pick(p, 10):
        b = bytearray(x)
        b[rng.choice((2, 3))] = rng.randrange(1, 256)
        c["reserved"].append(bytes(b))
    c["type"] = [bytes([t]) + x[1:] for x, t in
                 zip(pick(p, 10), [0, 4, 255] + [rng.randrange(4, 256)
                                                   for _ in range(7)])]
    c["too_long"] = [x[:HDR] + rng.randbytes(n) for x, n in
                     zip(pick(p, 4), (UDP_BUF + 1 - HDR, 9500, 12000, 30000))]
    c["flip_rid"] = [flip(x, 4, 8, rng) for x in pick(p, 10)]
    c["flip_hi"] = [with_ctr(x, ctr_of(x) | 1 << rng.randrange(20, 64))
                    for x in pick(p, 10)]
    c["old_replay"] = list(p0)
    c["old_reorder"] = list(reversed(p0)) + rng.sample(p0, len(p0))
    c["old_flip_ct"] = [flip(x, HDR, len(x) - TAG, rng) for x in pick(d0, 10)]
    c["old_flip_tag"] = [flip(x, len(x) - TAG, len(x), rng)
                         for x in pick(p0, 10)]
    c["old_cut1"] = [x[:-1] for x in d0 if len(x) - 1 - HDR - TAG >=
                     FRAME_MIN][:10]
    return c


# The first class of each reason, in the order they are opened with.
FIRST = ("short", "hdrtag", "version", "reserved", "type", "too_long",
         "flip_rid", "flip_hi", "old_replay")


def phase_load(a, sn, tx, rng, rid, ep, p):
    live = sn.take(1, 5, rid)
    if not live:
        note("no live datagram within 5 s")
        return 1
    cur = ctr_of(live[0]) // ep
    p0 = [x for x in p if ctr_of(x) < ep]
    data0 = [x for x in p0 if x[0] == DATA]
    if cur < 3 or len(p0) < 8 or len(data0) < 10:
        note("need the proxy past epoch 2 (at %d) and epoch-0 datagrams "
             "(%d, %d DATA) in the capture" % (cur, len(p0), len(data0)))
        return 1
    c = load_classes(p, p0, rid, rng)
    for k in c:
        tx.count(k)
    tx.count("live_replay")
    tx.send("live_replay", live[0])
    for k in FIRST:
        time.sleep(0.125)
        tx.send(k, c[k].pop(0))
    sn.drain()
    for _ in range(15):
        x = sn.next(time.monotonic() + 2, rid)
        if x is not None:
            # Its original, just handed to the veth, is ahead of our
            # copy by then (another CPU's backlog could let a copy
            # sent at once overtake it, and then be the genuine one).
            time.sleep(0.003)
            tx.send("live_replay", x)
    rest = [(k, x) for k in c for x in c[k]]
    for k, x in rest:
        tx.send(k, x)
    note("live counters near %d (epoch %d); %d epoch-0 datagrams (%d DATA)"
         % (ctr_of(live[0]), cur, len(p0), len(data0)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--epoch-packets", type=int, required=True)
    ap.add_argument("--phase", choices=("quiet", "load"), required=True)
    ap.add_argument("--hold-cmd")
    ap.add_argument("--release-cmd")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    if a.phase == "quiet" and not (a.hold_cmd and a.release_cmd):
        ap.error("--phase quiet needs --hold-cmd and --release-cmd")
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    proxy = socket.inet_aton(a.proxy)
    try:
        p = read_pcap(a.pcap, proxy, a.port)
    except (OSError, ValueError) as e:
        note(str(e))
        return 1
    tx = Sender(proxy, a.port)
    sn = Sniffer(a.iface, proxy, a.port, tx.port)
    # The link's receiver id is what the host uses now.
    first = sn.take(1, 5, None)
    if not first:
        note("no datagram from the host within 5 s")
        return 1
    rid = rid_of(first[0])
    p = [d for s, d in p if rid_of(d) == rid]
    if not p:
        note("no datagram with receiver id %#x in %s" % (rid, a.pcap))
        return 1
    if a.phase == "quiet":
        rc = phase_quiet(a, sn, tx, rng, rid, a.epoch_packets)
    else:
        rc = phase_load(a, sn, tx, rng, rid, a.epoch_packets, p)
    print("dgramhostile: phase=%s seed=%d rid=%#x %s total=%d" % (
        a.phase, seed, rid, " ".join("%s=%d" % kv for kv in
                                     tx.sent.items()), tx.n))
    return rc


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Split pcap files into a small, deduplicated set of seed frames.

Usage: pcapsplit.py [--max N] [--per-kind K] [--largest L] FRAME_DIR OFFLOAD_DIR PCAP...

Reads classic pcap files (tcpdump -w, link type Ethernet), drops exact
duplicates, sorts the frames into kinds (VLAN tags, ethertype, transport
protocol, TCP flags, IPv6 extension headers, fragment, size class) and
keeps the L largest frames of each (VLAN tags, ethertype, protocol) group
(the GSO super-frames), then the first K of each kind (only one of a kind
above 8 KiB), at most N in all. Each kept frame is written to FRAME_DIR
(input of the frame target) and, with the 3-byte MTU prefix the offload
target reads, to OFFLOAD_DIR: MTU 1500 for every frame, and 576 and 9000
as well for TCP frames of 595 to 9018 bytes and the largest of each
group.
"""
import argparse
import hashlib
import os
import struct
import sys

ETH_VLAN = (0x8100, 0x88A8)
EXT = (0, 43, 44, 51, 60)
MTU_PREFIX = {1500: b"\x00\x00\x00", 576: b"\x05\x00\x00", 9000: b"\x04\x00\x00"}


def read_pcap(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            end = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            end = ">"
        else:
            sys.exit(f"{path}: not a pcap file")
        linktype = struct.unpack(end + "I", hdr[20:24])[0]
        if linktype != 1:
            sys.exit(f"{path}: link type {linktype}, not Ethernet")
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            _, _, incl, orig = struct.unpack(end + "IIII", rec)
            data = f.read(incl)
            if len(data) < incl:
                return
            if incl == orig:            # never a truncated frame
                yield data


def kind(fr):
    """What sort of frame this is, for picking a few of each sort."""
    n = len(fr)
    if n < 14:
        return ("short",)
    off, et, nvlan = 14, struct.unpack(">H", fr[12:14])[0], 0
    while et in ETH_VLAN and n >= off + 4 and nvlan < 3:
        et = struct.unpack(">H", fr[off + 2:off + 4])[0]
        off += 4
        nvlan += 1
    proto, flags, ext, frag = None, None, (), False
    if et == 0x0800 and n >= off + 20:
        ihl = (fr[off] & 15) * 4
        proto = fr[off + 9]
        frag = struct.unpack(">H", fr[off + 6:off + 8])[0] & 0x3FFF != 0
        l4 = off + ihl
        ext = ("opt",) if ihl > 20 else ()
    elif et == 0x86DD and n >= off + 40:
        proto, l4, exts = fr[off + 6], off + 40, []
        while proto in EXT and n >= l4 + 8 and len(exts) < 8:
            exts.append(proto)
            if proto == 44:
                frag = True
            hl = (fr[l4 + 1] + 2) * 4 if proto == 51 else (fr[l4 + 1] + 1) * 8
            proto, l4 = fr[l4], l4 + hl
        ext = tuple(exts)
    else:
        l4 = None
    if proto == 6 and not frag and l4 is not None and n >= l4 + 14:
        flags = fr[l4 + 13] & 0x3F
    size = n.bit_length()
    return (nvlan, et, proto, flags, ext, frag, size)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=300)
    ap.add_argument("--per-kind", type=int, default=3)
    ap.add_argument("--largest", type=int, default=2)
    ap.add_argument("frame_dir")
    ap.add_argument("offload_dir")
    ap.add_argument("pcap", nargs="+")
    a = ap.parse_args()

    seen, frames = set(), []
    for p in a.pcap:
        for fr in read_pcap(p):
            h = hashlib.sha1(fr).digest()
            if h not in seen:
                seen.add(h)
                frames.append(fr)
    total = len(frames)

    keep, per, group, top = [], {}, {}, set()
    for fr in sorted(frames, key=len, reverse=True):
        g = kind(fr)[:3]
        if group.get(g, 0) < a.largest:
            if g not in group:
                top.add(hashlib.sha1(fr).digest())
            group[g] = group.get(g, 0) + 1
            keep.append(fr)
    chosen = {hashlib.sha1(fr).digest() for fr in keep}
    for fr in frames:
        if len(keep) >= a.max:
            break
        k = kind(fr)
        if per.get(k, 0) >= (a.per_kind if len(fr) <= 8192 else 1):
            continue
        h = hashlib.sha1(fr).digest()
        if h in chosen:
            continue
        per[k] = per.get(k, 0) + 1
        chosen.add(h)
        keep.append(fr)

    os.makedirs(a.frame_dir, exist_ok=True)
    os.makedirs(a.offload_dir, exist_ok=True)
    nbytes = 0
    for fr in keep:
        k = kind(fr)
        name = "%s-%s-%d-%s" % (
            "%04x" % k[1] if len(k) > 1 else "short",
            "p%s" % k[2] if len(k) > 2 and k[2] is not None else "x",
            len(fr), hashlib.sha1(fr).hexdigest()[:8])
        with open(os.path.join(a.frame_dir, name), "wb") as f:
            f.write(fr)
        mtus = [1500]
        if len(k) > 2 and k[2] == 6 and (576 + 18 < len(fr) <= 9018 or
                                         hashlib.sha1(fr).digest() in top):
            mtus += [576, 9000]
        for m in mtus:
            with open(os.path.join(a.offload_dir, "mtu%d-%s" % (m, name)), "wb") as f:
                f.write(MTU_PREFIX[m] + fr)
        nbytes += len(fr)
    print("pcapsplit: %d distinct frames of %d files; kept %d (%d kinds, "
          "%d bytes, largest %d)" % (total, len(a.pcap), len(keep), len(per),
                                     nbytes, max((len(f) for f in keep), default=0)))


if __name__ == "__main__":
    main()

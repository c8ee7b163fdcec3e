#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Send frames the capture topology does not make by itself.

Usage (inside the VM's namespace): craft.py IFNAME SRC_MAC DST_MAC

Run by fuzz/mkcorpus.sh from the VM's eth0, so that each frame takes the
daemon's real path (host bridge, vnet-capture, TLS, the proxy's
vnet-inject) and is captured on the way like any other traffic:

  - 802.1Q and 802.1ad+802.1Q (QinQ) tagged ARP, ICMP, ICMPv6, UDP and
    TCP (for kernels without the 8021q module, where mkcorpus.sh cannot
    create VLAN interfaces);
  - IPv6 TCP behind a destination-options header, an AH header and an
    SRv6 routing header with segments left (the pseudo-header then uses
    the final destination);
  - TCP whose checksum field holds only the pseudo-header sum, as a
    sender with checksum offload leaves it, and UDP likewise;
  - tagged and untagged TCP GSO super-frames (sent with a virtio-net
    header, PACKET_VNET_HDR), IPv4 and IPv6.
"""
import socket
import struct
import sys

SOL_PACKET = 263
PACKET_VNET_HDR = 15
ETH_P_ALL = 0x0003


def csum(data, start=0):
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ip4(s):
    return socket.inet_pton(socket.AF_INET, s)


def ip6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def eth(dst, src, tags, ethertype):
    h = dst + src
    for tpid, tci in tags:
        h += struct.pack("!HH", tpid, tci)
    return h + struct.pack("!H", ethertype)


def ipv4(src, dst, proto, payload, ident=1):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                    0x4000, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", ~csum(h) & 0xFFFF) + h[12:]
    return h + payload


def pseudo4(src, dst, proto, n):
    return csum(src + dst + struct.pack("!BBH", 0, proto, n))


def pseudo6(src, dst, proto, n):
    return csum(src + dst + struct.pack("!IxxxB", n, proto))


def l4_csum(seg, off, ph, partial):
    """Fill the checksum at off: complete, or only the pseudo sum."""
    if partial:
        v = ph
    else:
        v = ~csum(seg[:off] + b"\0\0" + seg[off + 2:], ph) & 0xFFFF
        v = v or 0xFFFF
    return seg[:off] + struct.pack("!H", v) + seg[off + 2:]


def tcp(sport, dport, seq, flags, payload, opts=b""):
    doff = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 1, doff << 4, flags,
                       65535, 0, 0) + opts + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64,
                       src, dst) + payload


def main():
    ifname, src, dst = sys.argv[1], mac(sys.argv[2]), mac(sys.argv[3])
    bcast = b"\xff" * 6
    v4a, v4b = ip4("10.203.0.20"), ip4("10.203.0.10")
    v6a, v6b = ip6("fd00:203::20"), ip6("fd00:203::10")
    seg1, seg0 = ip6("fd00:203::99"), v6b      # SRv6: final is seg0
    q100 = [(0x8100, 0x6064)]                   # PCP 3, VID 100
    qinq = [(0x88A8, 300), (0x8100, 400)]
    opts = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + b"\0" * 8 + b"\x01\x03\x03\x07"
    frames = []

    # 802.1Q: ARP, ICMP echo, ICMPv6 echo.
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src, v4a,
                      b"\0" * 6, v4b)
    frames.append(eth(bcast, src, q100, 0x0806) + arp)
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x77, 1) + b"vnet" * 14
    icmp = icmp[:2] + struct.pack("!H", ~csum(icmp) & 0xFFFF) + icmp[4:]
    frames.append(eth(dst, src, q100, 0x0800) + ipv4(v4a, v4b, 1, icmp))
    icmp6 = struct.pack("!BBHHH", 128, 0, 0, 0x77, 1) + b"vnet" * 14
    icmp6 = l4_csum(icmp6, 2, pseudo6(v6a, v6b, 58, len(icmp6)), False)
    frames.append(eth(dst, src, q100, 0x86DD) + ipv6(v6a, v6b, 58, icmp6))

    # QinQ: UDP over IPv4 (complete) and IPv6 (pseudo-header only).
    u = udp(40000, 7000, b"q" * 1000)
    u = l4_csum(u, 6, pseudo4(v4a, v4b, 17, len(u)), False)
    frames.append(eth(dst, src, qinq, 0x0800) + ipv4(v4a, v4b, 17, u))
    u = udp(40001, 7000, b"Q" * 333)
    u = l4_csum(u, 6, pseudo6(v6a, v6b, 17, len(u)), True)
    frames.append(eth(dst, src, qinq, 0x86DD) + ipv6(v6a, v6b, 17, u))

    # 802.1Q TCP: a SYN with options, a full-size segment, both partial.
    t = tcp(40002, 5000, 1000, 0x02, b"", opts)
    t = l4_csum(t, 16, pseudo4(v4a, v4b, 6, len(t)), True)
    frames.append(eth(dst, src, q100, 0x0800) + ipv4(v4a, v4b, 6, t))
    t = tcp(40002, 5000, 1001, 0x18, b"T" * 1400)
    t = l4_csum(t, 16, pseudo4(v4a, v4b, 6, len(t)), True)
    frames.append(eth(dst, src, q100, 0x0800) + ipv4(v4a, v4b, 6, t))

    # IPv6 extension headers before TCP (partial checksums).
    t = tcp(40003, 5000, 5000, 0x18, b"D" * 600)
    dopt = struct.pack("!BB6s", 6, 0, b"\x01\x04\0\0\0\0")   # PadN
    t6 = l4_csum(t, 16, pseudo6(v6a, v6b, 6, len(t)), True)
    frames.append(eth(dst, src, [], 0x86DD) + ipv6(v6a, v6b, 60, dopt + t6))
    ah = struct.pack("!BBHII", 6, 4, 0, 0x1234, 7) + b"\0" * 12  # 24 bytes
    frames.append(eth(dst, src, [], 0x86DD) + ipv6(v6a, v6b, 51, ah + t6))
    srh = struct.pack("!BBBBBBH", 6, 4, 4, 1, 1, 0, 0) + seg0 + seg1
    t6 = l4_csum(t, 16, pseudo6(v6a, seg0, 6, len(t)), True)
    frames.append(eth(dst, src, [], 0x86DD) + ipv6(v6a, seg1, 43, srh + t6))

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    sent = 0
    for f in frames:
        try:
            s.send(f)
            sent += 1
        except OSError as e:
            print("craft: %d-byte frame: %s" % (len(f), e), file=sys.stderr)

    # GSO super-frames, described by a virtio-net header.
    g = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    g.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    g.bind((ifname, 0))
    gso = []
    for tags in ([], q100):
        l2 = eth(dst, src, tags, 0x0800)
        t = tcp(40004, 5000, 90000, 0x18, bytes(range(256)) * 80)
        t = l4_csum(t, 16, pseudo4(v4a, v4b, 6, len(t)), True)
        gso.append((1, len(l2), len(l2) + 20, l2 + ipv4(v4a, v4b, 6, t, 9)))
        l2 = eth(dst, src, tags, 0x86DD)
        t = tcp(40005, 5000, 90000, 0x19, bytes(range(255, -1, -1)) * 60)
        t = l4_csum(t, 16, pseudo6(v6a, v6b, 6, len(t)), True)
        gso.append((4, len(l2), len(l2) + 40, l2 + ipv6(v6a, v6b, 6, t)))
    for gtype, l3, l4, f in gso:
        vh = struct.pack("=BBHHHH", 1, gtype, l4 + 20, 1400, l4, 16)
        try:
            g.send(vh + f)
            sent += 1
        except OSError as e:
            print("craft: GSO %d-byte frame: %s" % (len(f), e), file=sys.stderr)
    print("craft: sent %d of %d frames" % (sent, len(frames) + len(gso)))


if __name__ == "__main__":
    main()

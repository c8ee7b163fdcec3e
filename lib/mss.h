/* SPDX-License-Identifier: ISC */
/*
 * MSS clamping, as OpenVPN's mssfix does: the UDP data channel carries
 * a frame in one datagram only if it fits the WAN's MTU, so the MSS a
 * TCP SYN (or SYN-ACK) announces is lowered on its way into the tunnel
 * until the connection's full-size segments fit. Pure functions, no
 * I/O; the fuzzer and the unit tests run the same code.
 */
#ifndef VNET_LIB_MSS_H
#define VNET_LIB_MSS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The largest MSS whose full-size segment (Ethernet header, IPv4 or
 * IPv6 fixed header, 20-byte TCP header) is at most max_frame bytes;
 * 0 if none is (max_frame too small for the headers).
 */
uint16_t	 mss_for_frame(size_t max_frame, int ipv6);

/*
 * If frame is a TCP segment with SYN set, over IPv4 (not a fragment) or
 * IPv6 (TCP right after the fixed header), optionally with one 802.1Q
 * tag, whose MSS option is above mss4 (IPv4) or mss6 (IPv6), lower it
 * and update the TCP checksum incrementally (RFC 1624). Every length
 * is checked against len; options are walked as RFC 9293 says, and a
 * malformed option list leaves the frame alone. Returns 1 if the frame
 * was changed, 0 if not.
 */
int		 mss_clamp(uint8_t *frame, size_t len, uint16_t mss4,
		    uint16_t mss6);

#endif

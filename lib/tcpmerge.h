/* SPDX-License-Identifier: ISC */
/*
 * Receive-side coalescing of TCP segments, as the kernel's GRO does for
 * a NIC. Frames that crossed the UDP data channel arrive as segments of
 * at most a datagram's size; handed to inject one by one, every one
 * costs a system call there and a trip through the LAN's stack. Joined
 * back into one super-frame, inject hands the kernel one GSO frame
 * (lib/offload.c), which it segments at the LAN's MTU. Pure function.
 */
#ifndef VNET_LIB_TCPMERGE_H
#define VNET_LIB_TCPMERGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Append b's TCP payload to a (a holds *alen bytes in a buffer of acap)
 * when b is the next segment of a's flow: both untagged IPv4 (no
 * options, not a fragment) or IPv6 (no extension header) TCP with
 * payload; the same Ethernet header, addresses, TTL or hop limit, TOS
 * or traffic class, ports, acknowledgement, window and TCP options; a
 * carries ACK alone and b ACK or ACK|PSH; b's sequence number follows
 * a's payload; the result fits acap and IP's 16-bit length. Then a's
 * IP length (and IPv4 header checksum) grow, PSH carries over, and
 * Ethernet padding after a's datagram is cut. The TCP checksum is left
 * as it was: inject's offload_prepare() always sets it again. Returns
 * 1 if merged, 0 if a and b were left as they were.
 */
int	 tcpmerge(uint8_t *a, size_t *alen, size_t acap, const uint8_t *b,
	    size_t blen);

#endif

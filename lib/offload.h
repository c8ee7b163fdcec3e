/* SPDX-License-Identifier: ISC */
/*
 * Turning a captured frame into something the kernel will inject
 * correctly. libpcap on Linux hands us 64 KiB GSO super-frames and
 * frames whose TCP/UDP checksum is only the pseudo-header sum (checksum
 * offload of a local sender). Injected as captured they fail with
 * EMSGSIZE or are dropped by the receiver for a bad checksum.
 *
 * offload_prepare() fixes a frame in place and describes it with a
 * virtio-net header, so that an AF_PACKET socket with PACKET_VNET_HDR
 * lets the kernel segment and finish checksums. offload_segment() is
 * the userspace fallback (and the reference the fuzzer checks against).
 */
#ifndef VNET_LIB_OFFLOAD_H
#define VNET_LIB_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#include "lib/frame.h"

enum offload_err {
	OFFLOAD_OK = 0,
	OFFLOAD_E_PARSE,	/* frame_parse() failed (see frame_strerror) */
	OFFLOAD_E_OVERSIZE,	/* larger than the MTU and not segmentable */
	OFFLOAD_E_MTU,		/* MTU too small for the headers */
	OFFLOAD_E_SPACE,	/* output buffer too small (offload_segment) */
	OFFLOAD_E_FLOOR,	/* segments too small and too many to make */
	OFFLOAD_E_MAX
};

/*
 * The GSO floor. The kernel is never handed a GSO frame whose segments
 * would carry fewer than OFFLOAD_GSO_MIN_SIZE bytes of payload (the
 * smallest MSS every IPv4 host must accept, RFC 879) or that would
 * make more than OFFLOAD_GSO_MAX_SEGS segments: headers long enough to
 * leave tiny segments (IPv6 extension headers) are a peer's way to
 * turn one frame into hundreds of packets, and the kernel's GSO paths
 * are where tiny sizes have crashed it before. Such a frame is cut in
 * userspace instead (OFFLOAD_SEGMENT), up to OFFLOAD_SEG_MAX segments;
 * beyond that it is refused (OFFLOAD_E_FLOOR). Every frame with
 * segments of at least OFFLOAD_GSO_MIN_SIZE fits in OFFLOAD_SEG_MAX.
 */
#define OFFLOAD_GSO_MIN_SIZE	536
#define OFFLOAD_GSO_MAX_SEGS	64
#define OFFLOAD_SEG_MAX		128

/* offload_prepare(): prepared, but segment it with offload_segment(). */
#define OFFLOAD_SEGMENT		1

/*
 * mtu is the interface's L3 MTU (1500 on plain Ethernet). A frame fits
 * when len - l3_off <= mtu.
 *
 * Rules, in order:
 *  - Trailing bytes after an IP datagram are cut: *outlen says how many
 *    bytes to send (never more than len).
 *  - TCP (not a fragment): the checksum field is set to the folded
 *    pseudo-header sum over the real L4 length, and vh gets
 *    VIRTIO_NET_HDR_F_NEEDS_CSUM with csum_start/csum_offset. If the
 *    datagram does not fit the MTU, vh also gets gso_type TCPV4/TCPV6
 *    (| ECN when CWR is set), gso_size = mtu - IP header - TCP header,
 *    and hdr_len = payload_off. If that GSO frame is below the floor
 *    above (gso_size < OFFLOAD_GSO_MIN_SIZE, or more than
 *    OFFLOAD_GSO_MAX_SEGS segments), the answer is OFFLOAD_SEGMENT
 *    with the same vh, which must not go to the kernel: the caller
 *    passes buf and vh to offload_segment(). If it would also make
 *    more than OFFLOAD_SEG_MAX segments: OFFLOAD_E_FLOOR.
 *  - UDP that fits (not a fragment): full checksum computed in software
 *    (IPv4 checksum 0 means "none" and is kept; a computed 0 becomes
 *    0xffff). UDP that does not fit: OFFLOAD_E_OVERSIZE.
 *  - Anything else that does not fit: OFFLOAD_E_OVERSIZE.
 *  - Anything else that fits: untouched, vh all zero.
 * The virtio header fields are in host byte order (what AF_PACKET uses
 * on this architecture). Returns OFFLOAD_OK, OFFLOAD_SEGMENT or a
 * negated offload_err; on an error neither buf nor vh was written.
 */
int	 offload_prepare(uint8_t *buf, size_t len, size_t mtu,
	    struct virtio_net_hdr *vh, size_t *outlen);

/*
 * Userspace segmentation: given a frame already passed through
 * offload_prepare() with a GSO vh, write MTU-sized frames with complete
 * IPv4 header and TCP checksums into out (back to back), their lengths
 * into lens[0..*nseg). Sequence numbers advance, IPv4 ids increment,
 * FIN/PSH only on the last segment, CWR only on the first. With a
 * non-GSO vh it writes one frame with its checksum completed.
 */
int	 offload_segment(const uint8_t *frame, size_t len,
	    const struct virtio_net_hdr *vh, uint8_t *out, size_t outsize,
	    size_t *lens, size_t maxseg, size_t *nseg);

const char	*offload_strerror(int err);

#endif

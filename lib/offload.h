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
	OFFLOAD_E_MAX
};

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
 *    and hdr_len = payload_off.
 *  - UDP that fits (not a fragment): full checksum computed in software
 *    (IPv4 checksum 0 means "none" and is kept; a computed 0 becomes
 *    0xffff). UDP that does not fit: OFFLOAD_E_OVERSIZE.
 *  - Anything else that does not fit: OFFLOAD_E_OVERSIZE.
 *  - Anything else that fits: untouched, vh all zero.
 * The virtio header fields are in host byte order (what AF_PACKET uses
 * on this architecture). Returns OFFLOAD_OK or a negated offload_err.
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

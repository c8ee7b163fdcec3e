/* SPDX-License-Identifier: ISC */
/*
 * Ethernet frame parsing: pure functions, no I/O, no globals.
 * Everything here may be handed bytes from a hostile network.
 */
#ifndef VNET_LIB_FRAME_H
#define VNET_LIB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define VNET_ETH_ALEN	6
#define VNET_ETH_HLEN	14
/* Smallest frame we carry: a bare Ethernet header. */
#define VNET_FRAME_MIN	VNET_ETH_HLEN
/*
 * Largest frame we carry: a 64 KiB GSO super-frame (IP total length is
 * 16 bits) plus Ethernet header and up to two VLAN tags, rounded up.
 */
#define VNET_FRAME_MAX	(65536 + 64)

/* Network layer found by frame_parse(). */
enum frame_l3 {
	FRAME_L3_OTHER = 0,	/* unknown ethertype: carried, not inspected */
	FRAME_L3_ARP,
	FRAME_L3_IPV4,
	FRAME_L3_IPV6,
};

/* Errors returned (negated) by frame_parse(). */
enum frame_err {
	FRAME_OK = 0,
	FRAME_E_SHORT,		/* shorter than an Ethernet header */
	FRAME_E_VLAN,		/* truncated VLAN tag or more than 2 tags */
	FRAME_E_ARP,		/* truncated or inconsistent ARP */
	FRAME_E_IPV4,		/* bad version, header length or total length */
	FRAME_E_IPV6,		/* bad version or payload length, bad ext hdr */
	FRAME_E_TCP,		/* truncated TCP header or bad data offset */
	FRAME_E_UDP,		/* truncated UDP header or bad length */
	FRAME_E_MAX
};

struct frame_info {
	size_t		 len;		/* frame length as given */
	uint16_t	 ethertype;	/* after any VLAN tags, host order */
	uint8_t		 nvlan;		/* 0, 1 or 2 */
	uint16_t	 vlan_tci[2];	/* host order */
	enum frame_l3	 l3;
	size_t		 l3_off;	/* offset of the network header */
	size_t		 l3_end;	/* l3_off + IP total length (IP only) */
	uint8_t		 l4_proto;	/* IPPROTO_*; 0 when none */
	size_t		 l4_off;	/* offset of the transport header, 0 if none */
	size_t		 l4_len;	/* transport header + payload, per IP */
	size_t		 payload_off;	/* after TCP/UDP header (TCP/UDP only) */
	uint8_t		 tcp_flags;	/* TCP only */
	int		 fragment;	/* IPv4/IPv6 fragment: L4 not parsed */
};

/*
 * Parse buf[0..len). Returns FRAME_OK (0) and fills *fi, or a negated
 * enum frame_err. Never reads outside buf. Trailing bytes after the IP
 * datagram (Ethernet padding) are allowed and reported through l3_end.
 */
int		 frame_parse(const uint8_t *buf, size_t len, struct frame_info *fi);
const char	*frame_strerror(int err);

/* MAC helpers. */
static inline int
mac_is_group(const uint8_t *mac)
{
	return (mac[0] & 1) != 0;	/* broadcast or multicast */
}
/* Parse "aa:bb:cc:dd:ee:ff" (exactly; hex case-insensitive). 0 or -1. */
int		 mac_parse(const char *s, uint8_t mac[VNET_ETH_ALEN]);
/* Format into buf (at least 18 bytes). Returns buf. */
char		*mac_format(const uint8_t mac[VNET_ETH_ALEN], char *buf);

#endif

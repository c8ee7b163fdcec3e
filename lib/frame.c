/* SPDX-License-Identifier: ISC */
/*
 * Ethernet frame parsing. Every length below comes from the wire, so
 * each read is preceded by a check of the bytes left, written as
 * "end - off < n" with off <= end kept invariant: no sum can wrap.
 */
#include <string.h>

#include "lib/bytes.h"
#include "lib/frame.h"

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_ARP		0x0806
#define ETHERTYPE_VLAN		0x8100
#define ETHERTYPE_QINQ		0x88a8
#define ETHERTYPE_IPV6		0x86dd

#define ARP_HDR_LEN		8
#define ARP_ETH_IPV4_LEN	28
#define IPV4_HDR_MIN		20
#define IPV6_HDR_LEN		40
#define IPV6_EXT_MIN		8
/* More than this many extension headers is an attack, not traffic. */
#define IPV6_EXT_MAX		8
#define TCP_HDR_MIN		20
#define UDP_HDR_LEN		8

#define PROTO_HOPOPTS		0
#define PROTO_TCP		6
#define PROTO_UDP		17
#define PROTO_ROUTING		43
#define PROTO_FRAGMENT		44
#define PROTO_AH		51
#define PROTO_DSTOPTS		60

static int
parse_vlan(const uint8_t *buf, size_t len, struct frame_info *fi)
{
	size_t		 off = VNET_ETH_HLEN;
	uint16_t	 type = get_be16(buf + 12);

	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) {
		if (fi->nvlan == 2 || len - off < 4)
			return -FRAME_E_VLAN;
		fi->vlan_tci[fi->nvlan++] = get_be16(buf + off);
		type = get_be16(buf + off + 2);
		off += 4;
	}
	fi->ethertype = type;
	fi->l3_off = off;
	return FRAME_OK;
}

static int
parse_arp(const uint8_t *arp, size_t avail)
{
	if (avail < ARP_HDR_LEN)
		return -FRAME_E_ARP;
	/* Only Ethernet/IPv4 has a body we know the size of. */
	if (get_be16(arp) != 1 || get_be16(arp + 2) != ETHERTYPE_IPV4)
		return FRAME_OK;
	if (arp[4] != VNET_ETH_ALEN || arp[5] != 4 ||
	    avail < ARP_ETH_IPV4_LEN)
		return -FRAME_E_ARP;
	return FRAME_OK;
}

static int
parse_ipv4(const uint8_t *buf, size_t len, struct frame_info *fi)
{
	const uint8_t	*ip = buf + fi->l3_off;
	size_t		 avail = len - fi->l3_off, hl, tot;

	if (avail < IPV4_HDR_MIN || ip[0] >> 4 != 4)
		return -FRAME_E_IPV4;
	hl = (size_t)(ip[0] & 0x0f) * 4;
	tot = get_be16(ip + 2);
	if (hl < IPV4_HDR_MIN || tot < hl || tot > avail)
		return -FRAME_E_IPV4;
	fi->l3_end = fi->l3_off + tot;
	fi->l4_proto = ip[9];
	/* MF set or a non-zero offset: the L4 header may not be here. */
	fi->fragment = (get_be16(ip + 6) & 0x3fff) != 0;
	if (!fi->fragment) {
		fi->l4_off = fi->l3_off + hl;
		fi->l4_len = tot - hl;
	}
	return FRAME_OK;
}

static int
ipv6_is_ext(uint8_t nh)
{
	return nh == PROTO_HOPOPTS || nh == PROTO_ROUTING ||
	    nh == PROTO_FRAGMENT || nh == PROTO_AH || nh == PROTO_DSTOPTS;
}

/* Length of the extension header at p, or 0 if malformed. */
static size_t
ipv6_ext_len(uint8_t nh, const uint8_t *p)
{
	if (nh == PROTO_FRAGMENT)
		return 8;
	if (nh == PROTO_AH)	/* 32-bit units, minus 2; SPI+seq need 12 */
		return p[1] == 0 ? 0 : ((size_t)p[1] + 2) * 4;
	return ((size_t)p[1] + 1) * 8;
}

static int
parse_ipv6_ext(const uint8_t *buf, struct frame_info *fi, uint8_t nh)
{
	size_t	 off = fi->l3_off + IPV6_HDR_LEN, end = fi->l3_end, hlen;
	int	 n;

	for (n = 0; ipv6_is_ext(nh); n++) {
		/* RFC 8200: hop-by-hop only right after the IPv6 header. */
		if (n == IPV6_EXT_MAX || (nh == PROTO_HOPOPTS && n != 0))
			return -FRAME_E_IPV6;
		if (end - off < IPV6_EXT_MIN)
			return -FRAME_E_IPV6;
		hlen = ipv6_ext_len(nh, buf + off);
		if (hlen == 0 || hlen > end - off)
			return -FRAME_E_IPV6;
		if (nh == PROTO_FRAGMENT) {
			fi->fragment = 1;
			fi->l4_proto = buf[off];
			return FRAME_OK;
		}
		nh = buf[off];
		off += hlen;
	}
	fi->l4_proto = nh;
	fi->l4_off = off;
	fi->l4_len = end - off;
	return FRAME_OK;
}

static int
parse_ipv6(const uint8_t *buf, size_t len, struct frame_info *fi)
{
	const uint8_t	*ip = buf + fi->l3_off;
	size_t		 avail = len - fi->l3_off, plen;

	if (avail < IPV6_HDR_LEN || ip[0] >> 4 != 6)
		return -FRAME_E_IPV6;
	plen = get_be16(ip + 4);
	/* 0 announces a jumbogram: never on an Ethernet we carry. */
	if (plen == 0 || plen > avail - IPV6_HDR_LEN)
		return -FRAME_E_IPV6;
	fi->l3_end = fi->l3_off + IPV6_HDR_LEN + plen;
	return parse_ipv6_ext(buf, fi, ip[6]);
}

static int
parse_tcp(const uint8_t *buf, struct frame_info *fi)
{
	const uint8_t	*th = buf + fi->l4_off;
	size_t		 doff;

	if (fi->l4_len < TCP_HDR_MIN)
		return -FRAME_E_TCP;
	doff = (size_t)(th[12] >> 4) * 4;
	if (doff < TCP_HDR_MIN || doff > fi->l4_len)
		return -FRAME_E_TCP;
	fi->payload_off = fi->l4_off + doff;
	fi->tcp_flags = th[13];
	return FRAME_OK;
}

static int
parse_udp(const uint8_t *buf, struct frame_info *fi)
{
	size_t	 ulen;

	if (fi->l4_len < UDP_HDR_LEN)
		return -FRAME_E_UDP;
	/* Shorter than the IP payload is legal: the rest is IP padding. */
	ulen = get_be16(buf + fi->l4_off + 4);
	if (ulen < UDP_HDR_LEN || ulen > fi->l4_len)
		return -FRAME_E_UDP;
	fi->payload_off = fi->l4_off + UDP_HDR_LEN;
	return FRAME_OK;
}

static int
parse_l3(const uint8_t *buf, size_t len, struct frame_info *fi)
{
	int	 rc;

	switch (fi->ethertype) {
	case ETHERTYPE_ARP:
		fi->l3 = FRAME_L3_ARP;
		return parse_arp(buf + fi->l3_off, len - fi->l3_off);
	case ETHERTYPE_IPV4:
		fi->l3 = FRAME_L3_IPV4;
		rc = parse_ipv4(buf, len, fi);
		break;
	case ETHERTYPE_IPV6:
		fi->l3 = FRAME_L3_IPV6;
		rc = parse_ipv6(buf, len, fi);
		break;
	default:
		return FRAME_OK;
	}
	if (rc != FRAME_OK || fi->fragment)
		return rc;
	if (fi->l4_proto == PROTO_TCP)
		return parse_tcp(buf, fi);
	if (fi->l4_proto == PROTO_UDP)
		return parse_udp(buf, fi);
	return FRAME_OK;
}

int
frame_parse(const uint8_t *buf, size_t len, struct frame_info *fi)
{
	int	 rc;

	memset(fi, 0, sizeof(*fi));
	fi->len = len;
	/* Non-IP frames have no datagram end: all of it is carried. */
	fi->l3_end = len;
	if (buf == NULL || len < VNET_ETH_HLEN)
		rc = -FRAME_E_SHORT;
	else if ((rc = parse_vlan(buf, len, fi)) == FRAME_OK)
		rc = parse_l3(buf, len, fi);
	if (rc != FRAME_OK) {
		/* Leave nothing half-filled for a caller to trust. */
		memset(fi, 0, sizeof(*fi));
		fi->len = len;
	}
	return rc;
}

const char *
frame_strerror(int err)
{
	static const char *const msg[FRAME_E_MAX] = {
		[FRAME_OK] = "no error",
		[FRAME_E_SHORT] = "frame shorter than an Ethernet header",
		[FRAME_E_VLAN] = "truncated VLAN tag or more than two tags",
		[FRAME_E_ARP] = "truncated or inconsistent ARP packet",
		[FRAME_E_IPV4] = "bad IPv4 version, header or total length",
		[FRAME_E_IPV6] = "bad IPv6 version, length or extension header",
		[FRAME_E_TCP] = "truncated TCP header or bad data offset",
		[FRAME_E_UDP] = "truncated UDP header or bad length",
	};

	if (err < 0 && err > -FRAME_E_MAX)
		err = -err;
	if (err < 0 || err >= FRAME_E_MAX)
		return "unknown frame error";
	return msg[err];
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mac_parse(const char *s, uint8_t mac[VNET_ETH_ALEN])
{
	uint8_t	 tmp[VNET_ETH_ALEN];
	size_t	 i;
	int	 hi, lo;

	if (s == NULL || mac == NULL)
		return -1;
	/* Read strictly in order so a short string stops at its NUL. */
	for (i = 0; i < VNET_ETH_ALEN; i++) {
		if ((hi = hexval(s[0])) == -1 || (lo = hexval(s[1])) == -1)
			return -1;
		tmp[i] = (uint8_t)(hi << 4 | lo);
		if (i < VNET_ETH_ALEN - 1 && s[2] != ':')
			return -1;
		s += i < VNET_ETH_ALEN - 1 ? 3 : 2;
	}
	if (*s != '\0')
		return -1;
	memcpy(mac, tmp, sizeof(tmp));
	return 0;
}

char *
mac_format(const uint8_t mac[VNET_ETH_ALEN], char *buf)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;
	char			*p = buf;

	for (i = 0; i < VNET_ETH_ALEN; i++) {
		*p++ = hex[mac[i] >> 4];
		*p++ = hex[mac[i] & 0x0f];
		*p++ = i < VNET_ETH_ALEN - 1 ? ':' : '\0';
	}
	return buf;
}

/* SPDX-License-Identifier: ISC */
/*
 * TCP segment coalescing (see lib/tcpmerge.h). Every input is a frame a
 * peer sent: everything is parsed with frame_parse() and compared within
 * what it reported.
 */
#include <string.h>

#include "lib/bytes.h"
#include "lib/csum.h"
#include "lib/frame.h"
#include "lib/tcpmerge.h"

#define ETH_HLEN	14
#define TCP_ACK		0x10
#define TCP_PSH		0x08
#define IP_MAXLEN	65535

/* A segment that may take part: untagged, plain header, with payload. */
static int
mergeable(const uint8_t *f, size_t len, struct frame_info *fi)
{
	size_t	 iph;

	if (frame_parse(f, len, fi) != 0 || fi->nvlan != 0 ||
	    fi->l4_proto != 6 || fi->fragment || fi->l4_off == 0 ||
	    fi->payload_off >= fi->l3_end)
		return 0;
	iph = fi->l4_off - fi->l3_off;
	if (fi->l3 == FRAME_L3_IPV4)
		return iph == 20;
	return fi->l3 == FRAME_L3_IPV6 && iph == 40;
}

/* The IP header fields that must agree: all but lengths, id, checksum. */
static int
same_ip(const uint8_t *a, const uint8_t *b, const struct frame_info *fi)
{
	if (fi->l3 == FRAME_L3_IPV4)
		return a[0] == b[0] && a[1] == b[1] &&
		    memcmp(a + 6, b + 6, 4) == 0 && memcmp(a + 12, b + 12, 8) == 0;
	return memcmp(a, b, 4) == 0 && memcmp(a + 6, b + 6, 34) == 0;
}

/* Ports, ack, offset, window and options agree; b follows a. */
static int
same_tcp(const uint8_t *a, const uint8_t *b, size_t hlen, size_t apay)
{
	if (memcmp(a, b, 4) != 0 || memcmp(a + 8, b + 8, 5) != 0 ||
	    memcmp(a + 14, b + 14, 2) != 0 ||
	    memcmp(a + 20, b + 20, hlen - 20) != 0)
		return 0;
	if (a[13] != TCP_ACK || (b[13] != TCP_ACK && b[13] !=
	    (TCP_ACK | TCP_PSH)))
		return 0;
	return get_be32(b + 4) == (uint32_t)(get_be32(a + 4) + apay);
}

static void
grow_ip(uint8_t *ip, const struct frame_info *fi, size_t add)
{
	if (fi->l3 == FRAME_L3_IPV6) {
		put_be16(ip + 4, (uint16_t)(get_be16(ip + 4) + add));
		return;
	}
	put_be16(ip + 2, (uint16_t)(get_be16(ip + 2) + add));
	ip[10] = ip[11] = 0;
	put_be16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, 20)));
}

int
tcpmerge(uint8_t *a, size_t *alen, size_t acap, const uint8_t *b,
    size_t blen)
{
	struct frame_info	 fa, fb;
	size_t			 hlen, apay, bpay;

	if (!mergeable(a, *alen, &fa) || !mergeable(b, blen, &fb) ||
	    fa.l3 != fb.l3 || memcmp(a, b, ETH_HLEN) != 0 ||
	    fa.payload_off != fb.payload_off)
		return 0;
	hlen = fa.payload_off - fa.l4_off;
	apay = fa.l3_end - fa.payload_off;
	bpay = fb.l3_end - fb.payload_off;
	if (!same_ip(a + fa.l3_off, b + fb.l3_off, &fa) ||
	    !same_tcp(a + fa.l4_off, b + fb.l4_off, hlen, apay) ||
	    fa.l3_end + bpay > acap ||
	    fa.l3_end - fa.l3_off + bpay > IP_MAXLEN)
		return 0;
	memcpy(a + fa.l3_end, b + fb.payload_off, bpay);
	grow_ip(a + fa.l3_off, &fa, bpay);
	a[fa.l4_off + 13] = b[fb.l4_off + 13];
	*alen = fa.l3_end + bpay;
	return 1;
}

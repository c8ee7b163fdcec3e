/* SPDX-License-Identifier: ISC */
/*
 * frame_parse() and MAC helper tests. Frames are built by hand, byte by
 * byte, so every offset asserted below can be checked against the
 * builder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/frame.h"
#include "tests/unit/pkt.h"

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ip6_ll1[16] = { 0xfe, 0x80, [15] = 1 };
static const uint8_t ip6_ll2[16] = { 0xfe, 0x80, [15] = 2 };

/* Builders beyond tests/unit/pkt.h's. */

static void
eth(struct pkt *p, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	p->n = 0;
	pbytes(p, dst, 6);
	pbytes(p, src, 6);
	p16(p, type);
}

/* IPv4 header, ihl 5 + optwords, tot_len set by ipv4_end. */
static size_t
ipv4(struct pkt *p, uint8_t proto, const uint8_t *src, const uint8_t *dst,
    size_t optwords)
{
	return pkt_ipv4(p, proto, 0, 0x1234, src, dst, optwords);
}

static void
ipv4_end(struct pkt *p, size_t l3)
{
	set16(p, l3 + 2, (uint16_t)(p->n - l3));
}

/* payload_len set by ipv6_end. */
static size_t
ipv6(struct pkt *p, uint8_t nh, const uint8_t *src, const uint8_t *dst)
{
	return pkt_ipv6(p, nh, 255, src, dst);
}

static void
ipv6_end(struct pkt *p, size_t l3)
{
	set16(p, l3 + 4, (uint16_t)(p->n - l3 - 40));
}

static void
tcp(struct pkt *p, uint8_t flags, size_t optwords)
{
	pkt_tcp(p, 80, 0x01020304, flags, 65535, optwords);
}

static void
udp(struct pkt *p, uint16_t sport, uint16_t dport, size_t paylen)
{
	p16(p, sport);
	p16(p, dport);
	p16(p, (uint16_t)(8 + paylen));
	p16(p, 0);
	pfill(p, 0xab, paylen);
}

/* A header of the given length (in 8-octet units beyond the first). */
static void
ext6(struct pkt *p, uint8_t nh, uint8_t len8)
{
	p8(p, nh);
	p8(p, len8);
	pfill(p, 0, 6 + (size_t)len8 * 8);
}

/* The frames. Each returns the expected parse of the full frame. */

static struct frame_info
build_arp(struct pkt *p)
{
	struct frame_info	 fi = { .ethertype = 0x0806,
	    .l3 = FRAME_L3_ARP, .l3_off = 14 };

	eth(p, bcast, mac_a, 0x0806);
	p16(p, 1);
	p16(p, 0x0800);
	p8(p, 6);
	p8(p, 4);
	p16(p, 1);		/* request */
	pbytes(p, mac_a, 6);
	pbytes(p, ip_a, 4);
	pfill(p, 0, 6);
	pbytes(p, ip_b, 4);
	pfill(p, 0, 18);	/* Ethernet padding to 60 */
	fi.len = fi.l3_end = p->n;
	return fi;
}

static struct frame_info
build_dhcp(struct pkt *p)
{
	static const uint8_t	 any[4], all[4] = { 255, 255, 255, 255 };
	struct frame_info	 fi = { .ethertype = 0x0800,
	    .l3 = FRAME_L3_IPV4, .l3_off = 14, .l4_proto = 17, .l4_off = 34,
	    .payload_off = 42 };
	size_t			 l3;

	eth(p, bcast, mac_a, 0x0800);
	l3 = ipv4(p, 17, any, all, 0);
	udp(p, 68, 67, 0);
	p8(p, 1);		/* BOOTREQUEST, Ethernet, hlen 6 */
	p8(p, 1);
	p8(p, 6);
	p8(p, 0);
	p32(p, 0xdeadbeef);	/* xid */
	pfill(p, 0, 20);	/* secs, flags, ciaddr..giaddr */
	pbytes(p, mac_a, 6);
	pfill(p, 0, 10 + 64 + 128);
	p32(p, 0x63825363);	/* magic cookie */
	pbytes(p, "\x35\x01\x01\xff", 4);
	set16(p, 38, (uint16_t)(p->n - 34));
	ipv4_end(p, l3);
	fi.len = fi.l3_end = p->n;
	fi.l4_len = p->n - 34;
	return fi;
}

static struct frame_info
build_tcp4(struct pkt *p)
{
	struct frame_info	 fi = { .ethertype = 0x0800,
	    .l3 = FRAME_L3_IPV4, .l3_off = 14, .l4_proto = 6, .l4_off = 34,
	    .payload_off = 34 + 32, .tcp_flags = 0x18 };
	size_t			 l3;

	eth(p, mac_b, mac_a, 0x0800);
	l3 = ipv4(p, 6, ip_a, ip_b, 0);
	tcp(p, 0x18, 3);
	pbytes(p, "GET / HTTP/1.0\r\n\r\n", 18);
	ipv4_end(p, l3);
	fi.len = fi.l3_end = p->n;
	fi.l4_len = p->n - 34;
	return fi;
}

static struct frame_info
build_ns6(struct pkt *p)
{
	static const uint8_t	 snm[16] = { 0xff, 0x02, [11] = 1,
	    [12] = 0xff, [15] = 2 };
	static const uint8_t	 mcast[6] = { 0x33, 0x33, 0xff, 0, 0, 2 };
	struct frame_info	 fi = { .ethertype = 0x86dd,
	    .l3 = FRAME_L3_IPV6, .l3_off = 14, .l4_proto = 58, .l4_off = 54,
	    .l4_len = 32 };
	size_t			 l3;

	eth(p, mcast, mac_a, 0x86dd);
	l3 = ipv6(p, 58, ip6_ll1, snm);
	p8(p, 135);		/* neighbour solicitation */
	p8(p, 0);
	p16(p, 0);
	p32(p, 0);
	pbytes(p, ip6_ll2, 16);
	p8(p, 1);		/* source link-layer address option */
	p8(p, 1);
	pbytes(p, mac_a, 6);
	ipv6_end(p, l3);
	fi.len = fi.l3_end = p->n;
	return fi;
}

/* Hop-by-hop, routing, destination options, AH, then TCP. */
static struct frame_info
build_ext6(struct pkt *p)
{
	struct frame_info	 fi = { .ethertype = 0x86dd,
	    .l3 = FRAME_L3_IPV6, .l3_off = 14, .l4_proto = 6,
	    .l4_off = 14 + 40 + 8 + 24 + 8 + 24, .tcp_flags = 0x02 };
	size_t			 l3;

	eth(p, mac_b, mac_a, 0x86dd);
	l3 = ipv6(p, 0, ip6_ll1, ip6_ll2);
	ext6(p, 43, 0);
	p8(p, 60);		/* routing type 0, segments left 0 */
	p8(p, 2);
	p8(p, 0);
	p8(p, 0);
	pfill(p, 0, 4);
	pbytes(p, ip6_ll2, 16);
	ext6(p, 51, 0);
	p8(p, 6);		/* AH: (4 + 2) * 4 = 24 bytes */
	p8(p, 4);
	pfill(p, 0, 22);
	tcp(p, 0x02, 0);
	ipv6_end(p, l3);
	fi.payload_off = fi.l4_off + 20;
	fi.len = fi.l3_end = p->n;
	fi.l4_len = p->n - fi.l4_off;
	return fi;
}

static struct frame_info
build_frag6(struct pkt *p)
{
	struct frame_info	 fi = { .ethertype = 0x86dd,
	    .l3 = FRAME_L3_IPV6, .l3_off = 14, .l4_proto = 17,
	    .fragment = 1 };
	size_t			 l3;

	eth(p, mac_b, mac_a, 0x86dd);
	l3 = ipv6(p, 44, ip6_ll1, ip6_ll2);
	p8(p, 17);
	p8(p, 0);
	p16(p, 0x0001);		/* offset 0, more fragments */
	p32(p, 0x11223344);
	p16(p, 53);		/* a UDP header claiming more than is here */
	p16(p, 53);
	p16(p, 3000);
	p16(p, 0);
	ipv6_end(p, l3);
	fi.len = fi.l3_end = p->n;
	return fi;
}

static struct frame_info
build_vlan(struct pkt *p)
{
	struct frame_info	 fi = { .ethertype = 0x0800, .nvlan = 1,
	    .vlan_tci = { 0x2064 }, .l3 = FRAME_L3_IPV4, .l3_off = 18,
	    .l4_proto = 6, .l4_off = 38 + 4, .payload_off = 38 + 4 + 20,
	    .tcp_flags = 0x11 };
	size_t			 l3;

	eth(p, mac_b, mac_a, 0x8100);
	vlan(p, 0x2064, 0x0800);
	l3 = ipv4(p, 6, ip_a, ip_b, 1);
	tcp(p, 0x11, 0);
	ipv4_end(p, l3);
	pfill(p, 0, 64 - p->n);	/* padding: not part of the datagram */
	fi.len = p->n;
	fi.l3_end = 18 + 44;
	fi.l4_len = 20;
	return fi;
}

static struct frame_info
build_qinq(struct pkt *p)
{
	struct frame_info	 fi = { .ethertype = 0x0800, .nvlan = 2,
	    .vlan_tci = { 0x000a, 0x0014 }, .l3 = FRAME_L3_IPV4,
	    .l3_off = 22, .l4_proto = 17, .l4_off = 42, .l4_len = 12,
	    .payload_off = 50 };
	size_t			 l3;

	eth(p, mac_b, mac_a, 0x88a8);
	vlan(p, 0x000a, 0x8100);
	vlan(p, 0x0014, 0x0800);
	l3 = ipv4(p, 17, ip_a, ip_b, 0);
	udp(p, 5353, 5353, 4);
	ipv4_end(p, l3);
	fi.len = fi.l3_end = p->n;
	return fi;
}

typedef struct frame_info (*builder)(struct pkt *);

static const builder builders[] = {
	build_arp, build_dhcp, build_tcp4, build_ns6, build_ext6,
	build_frag6, build_vlan, build_qinq,
};

/* Checks. */

static void
assert_info_eq(const struct frame_info *a, const struct frame_info *b)
{
	assert_int_equal(a->len, b->len);
	assert_int_equal(a->ethertype, b->ethertype);
	assert_int_equal(a->nvlan, b->nvlan);
	assert_int_equal(a->vlan_tci[0], b->vlan_tci[0]);
	assert_int_equal(a->vlan_tci[1], b->vlan_tci[1]);
	assert_int_equal(a->l3, b->l3);
	assert_int_equal(a->l3_off, b->l3_off);
	assert_int_equal(a->l3_end, b->l3_end);
	assert_int_equal(a->l4_proto, b->l4_proto);
	assert_int_equal(a->l4_off, b->l4_off);
	assert_int_equal(a->l4_len, b->l4_len);
	assert_int_equal(a->payload_off, b->payload_off);
	assert_int_equal(a->tcp_flags, b->tcp_flags);
	assert_int_equal(a->fragment, b->fragment);
}

/* What must hold for any input, valid or not. */
static void
assert_sane(int rc, const struct frame_info *fi, size_t n)
{
	struct frame_info	 zero = { .len = n };
	int			 ip;

	assert_true(rc <= 0 && rc > -FRAME_E_MAX);
	assert_int_equal(fi->len, n);
	if (rc != 0) {
		assert_memory_equal(fi, &zero, sizeof(zero));
		return;
	}
	ip = fi->l3 == FRAME_L3_IPV4 || fi->l3 == FRAME_L3_IPV6;
	assert_true(fi->nvlan <= 2);
	assert_int_equal(fi->l3_off, 14 + 4 * (size_t)fi->nvlan);
	assert_true(fi->l3_end <= n && fi->l3_off <= fi->l3_end);
	if (!ip) {
		assert_int_equal(fi->l3_end, n);
		assert_int_equal(fi->l4_off, 0);
	}
	if (fi->l4_off != 0) {
		assert_true(fi->l4_off > fi->l3_off);
		assert_int_equal(fi->l4_off + fi->l4_len, fi->l3_end);
	}
	if (fi->payload_off != 0) {
		assert_true(fi->payload_off > fi->l4_off);
		assert_true(fi->payload_off <= fi->l3_end);
	}
	if (fi->fragment)
		assert_true(fi->l4_off == 0 && fi->payload_off == 0);
}

/* Parse from a heap copy of exactly n bytes so ASan sees any overread. */
static int
parse_exact(const uint8_t *src, size_t n, struct frame_info *fi)
{
	uint8_t	*copy = malloc(n == 0 ? 1 : n);
	int	 rc;

	assert_non_null(copy);
	memcpy(copy, src, n);
	rc = frame_parse(n == 0 ? NULL : copy, n, fi);
	free(copy);
	return rc;
}

static void
expect_parse(struct pkt *p, int want)
{
	struct frame_info	 fi;

	assert_int_equal(parse_exact(p->b, p->n, &fi), want);
	assert_sane(want, &fi, p->n);
}

/* Tests: valid frames. */

static void
check_builder(builder b)
{
	struct pkt		 p;
	struct frame_info	 want = b(&p), got;

	assert_int_equal(parse_exact(p.b, p.n, &got), FRAME_OK);
	assert_sane(FRAME_OK, &got, p.n);
	assert_info_eq(&got, &want);
}

static void
test_valid_arp(void **state)
{
	(void)state;
	check_builder(build_arp);
}

static void
test_valid_dhcp(void **state)
{
	struct pkt	 p;

	(void)state;
	check_builder(build_dhcp);
	build_dhcp(&p);
	assert_true(mac_is_group(p.b));
	assert_false(mac_is_group(p.b + 6));
	assert_int_equal(p.n, 14 + 20 + 8 + 244);
}

static void
test_valid_tcp4(void **state)
{
	(void)state;
	check_builder(build_tcp4);
}

static void
test_valid_ns6(void **state)
{
	struct pkt	 p;

	(void)state;
	check_builder(build_ns6);
	build_ns6(&p);
	assert_true(mac_is_group(p.b));
	assert_int_equal(p.b[0], 0x33);
	assert_int_equal(p.b[2], 0xff);
}

static void
test_valid_ext6(void **state)
{
	(void)state;
	check_builder(build_ext6);
}

static void
test_valid_frag6(void **state)
{
	(void)state;
	check_builder(build_frag6);
}

static void
test_valid_vlan(void **state)
{
	(void)state;
	check_builder(build_vlan);
}

static void
test_valid_qinq(void **state)
{
	(void)state;
	check_builder(build_qinq);
}

static void
test_arp_other_kind(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;

	(void)state;
	eth(&p, bcast, mac_a, 0x0806);
	p16(&p, 6);		/* IEEE 802, IPX: only the fixed part */
	p16(&p, 0x8137);
	p8(&p, 6);
	p8(&p, 4);
	p16(&p, 1);
	assert_int_equal(parse_exact(p.b, p.n, &fi), FRAME_OK);
	assert_int_equal(fi.l3, FRAME_L3_ARP);
	p.n--;
	expect_parse(&p, -FRAME_E_ARP);
	/* InfiniBand over IPv4: 20-byte hardware addresses are fine. */
	eth(&p, bcast, mac_a, 0x0806);
	p16(&p, 32);
	p16(&p, 0x0800);
	p8(&p, 20);
	p8(&p, 4);
	p16(&p, 1);
	expect_parse(&p, FRAME_OK);
}

static void
test_unknown_ethertype(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;

	(void)state;
	eth(&p, mac_b, mac_a, 0x88cc);	/* LLDP */
	pfill(&p, 0x42, 30);
	assert_int_equal(parse_exact(p.b, p.n, &fi), FRAME_OK);
	assert_int_equal(fi.l3, FRAME_L3_OTHER);
	assert_int_equal(fi.ethertype, 0x88cc);
	assert_int_equal(fi.l3_off, 14);
	assert_int_equal(fi.l3_end, p.n);
	assert_int_equal(fi.l4_proto, 0);
	/* A bare Ethernet header is the smallest frame we carry. */
	p.n = VNET_FRAME_MIN;
	expect_parse(&p, FRAME_OK);
}

static void
test_ipv4_fragment(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	size_t			 l3;

	(void)state;
	eth(&p, mac_b, mac_a, 0x0800);
	l3 = ipv4(&p, 6, ip_a, ip_b, 0);
	pfill(&p, 0xee, 8);	/* no valid TCP header: must not be parsed */
	ipv4_end(&p, l3);
	set16(&p, l3 + 6, 0x00b9);	/* offset 185 * 8 */
	assert_int_equal(parse_exact(p.b, p.n, &fi), FRAME_OK);
	assert_true(fi.fragment);
	assert_int_equal(fi.l4_proto, 6);
	assert_int_equal(fi.l4_off, 0);
	assert_int_equal(fi.l3_end, p.n);
	set16(&p, l3 + 6, 0x2000);	/* MF, offset 0 */
	assert_int_equal(parse_exact(p.b, p.n, &fi), FRAME_OK);
	assert_true(fi.fragment);
	assert_int_equal(fi.payload_off, 0);
	set16(&p, l3 + 6, 0x4000);	/* DF only: a whole datagram */
	expect_parse(&p, -FRAME_E_TCP);
}

static void
test_ipv4_options(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	size_t			 l3;

	(void)state;
	eth(&p, mac_b, mac_a, 0x0800);
	l3 = ipv4(&p, 1, ip_a, ip_b, 10);	/* ihl 15: 60 bytes */
	pfill(&p, 0, 8);			/* ICMP echo */
	ipv4_end(&p, l3);
	assert_int_equal(parse_exact(p.b, p.n, &fi), FRAME_OK);
	assert_int_equal(fi.l4_off, 14 + 60);
	assert_int_equal(fi.l4_len, 8);
	assert_int_equal(fi.payload_off, 0);
}

static void
test_udp_shorter_than_ip(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;

	(void)state;
	build_dhcp(&p);
	set16(&p, 38, 8);	/* UDP length 8 inside a longer datagram */
	assert_int_equal(parse_exact(p.b, p.n, &fi), FRAME_OK);
	assert_int_equal(fi.l4_len, p.n - 34);
}

/* Tests: errors. */

static void
test_err_short(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	size_t			 n;

	(void)state;
	build_tcp4(&p);
	for (n = 0; n < VNET_ETH_HLEN; n++)
		assert_int_equal(parse_exact(p.b, n, &fi), -FRAME_E_SHORT);
	assert_int_equal(frame_parse(NULL, 100, &fi), -FRAME_E_SHORT);
}

static void
test_err_vlan(void **state)
{
	struct pkt	 p;

	(void)state;
	eth(&p, mac_b, mac_a, 0x8100);
	p16(&p, 1);
	p16(&p, 0x8100);
	p16(&p, 2);
	p16(&p, 0x88a8);	/* a third tag */
	p16(&p, 3);
	p16(&p, 0x0806);
	expect_parse(&p, -FRAME_E_VLAN);
	p.n = 17;		/* half a tag */
	expect_parse(&p, -FRAME_E_VLAN);
	p.n = 18;		/* a tag, then no room for the next */
	p.b[16] = 0x88;
	p.b[17] = 0xa8;
	expect_parse(&p, -FRAME_E_VLAN);
}

static void
test_err_arp(void **state)
{
	struct pkt	 p;

	(void)state;
	build_arp(&p);
	p.b[18] = 8;		/* hlen 8 claimed for Ethernet */
	expect_parse(&p, -FRAME_E_ARP);
	build_arp(&p);
	p.b[19] = 16;		/* plen 16 claimed for IPv4 */
	expect_parse(&p, -FRAME_E_ARP);
	build_arp(&p);
	p.n = 14 + 27;
	expect_parse(&p, -FRAME_E_ARP);
	p.n = 14 + 28;
	expect_parse(&p, FRAME_OK);
}

static void
test_err_ipv4(void **state)
{
	struct pkt	 p;

	(void)state;
	build_tcp4(&p);
	p.b[14] = 0x65;		/* version 6 in an IPv4 ethertype */
	expect_parse(&p, -FRAME_E_IPV4);
	build_tcp4(&p);
	p.b[14] = 0x44;		/* ihl 4 */
	expect_parse(&p, -FRAME_E_IPV4);
	build_tcp4(&p);
	p.b[14] = 0x4f;		/* ihl 15: more than tot_len allows */
	set16(&p, 16, 56);
	expect_parse(&p, -FRAME_E_IPV4);
	build_tcp4(&p);
	set16(&p, 16, 19);	/* tot_len < header */
	expect_parse(&p, -FRAME_E_IPV4);
	build_tcp4(&p);
	set16(&p, 16, (uint16_t)(p.n - 14 + 1));	/* beyond the frame */
	expect_parse(&p, -FRAME_E_IPV4);
	build_tcp4(&p);
	p.n = 14 + 19;
	expect_parse(&p, -FRAME_E_IPV4);
}

static void
test_err_ipv6(void **state)
{
	struct pkt	 p;

	(void)state;
	build_ns6(&p);
	p.b[14] = 0x40;
	expect_parse(&p, -FRAME_E_IPV6);
	build_ns6(&p);
	set16(&p, 18, 0);	/* jumbogram */
	expect_parse(&p, -FRAME_E_IPV6);
	build_ns6(&p);
	set16(&p, 18, 33);	/* one more than the frame holds */
	expect_parse(&p, -FRAME_E_IPV6);
	build_ns6(&p);
	p.n = 14 + 39;
	expect_parse(&p, -FRAME_E_IPV6);
}

static void
build_chain6(struct pkt *p, size_t nhdr)
{
	size_t	 l3, i;

	eth(p, mac_b, mac_a, 0x86dd);
	l3 = ipv6(p, 60, ip6_ll1, ip6_ll2);
	for (i = 0; i < nhdr; i++)
		ext6(p, i + 1 < nhdr ? 60 : 59, 0);
	ipv6_end(p, l3);
}

static void
test_err_ipv6_ext(void **state)
{
	struct pkt	 p;

	(void)state;
	build_ext6(&p);
	p.b[14 + 40 + 1] = 200;	/* hop-by-hop longer than the datagram */
	expect_parse(&p, -FRAME_E_IPV6);
	build_ext6(&p);
	p.b[14 + 40 + 8 + 24 + 8 + 1] = 0;	/* AH shorter than 12 */
	expect_parse(&p, -FRAME_E_IPV6);
	build_ext6(&p);
	p.b[14 + 40 + 8] = 0;	/* hop-by-hop after routing */
	expect_parse(&p, -FRAME_E_IPV6);
	build_ext6(&p);
	set16(&p, 18, 7);	/* datagram ends inside the first header */
	p.n = 14 + 40 + 7;
	expect_parse(&p, -FRAME_E_IPV6);
	build_chain6(&p, 1);
	set16(&p, 18, 1);	/* one byte: not even the length field */
	p.n = 14 + 40 + 1;
	expect_parse(&p, -FRAME_E_IPV6);
	build_frag6(&p);
	set16(&p, 18, 7);	/* fragment header cut short */
	p.n = 14 + 40 + 7;
	expect_parse(&p, -FRAME_E_IPV6);
}

static void
test_ipv6_ext_bound(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;

	(void)state;
	build_chain6(&p, 8);
	assert_int_equal(parse_exact(p.b, p.n, &fi), FRAME_OK);
	assert_int_equal(fi.l4_proto, 59);	/* no next header */
	assert_int_equal(fi.l4_off, p.n);
	assert_int_equal(fi.l4_len, 0);
	build_chain6(&p, 9);
	expect_parse(&p, -FRAME_E_IPV6);
}

static void
test_err_tcp(void **state)
{
	struct pkt	 p;

	(void)state;
	build_tcp4(&p);
	p.b[34 + 12] = 0x40;	/* data offset 4 */
	expect_parse(&p, -FRAME_E_TCP);
	build_tcp4(&p);
	p.b[34 + 12] = 0xf0;	/* 60 bytes, more than the 50 here */
	expect_parse(&p, -FRAME_E_TCP);
	build_tcp4(&p);
	set16(&p, 16, 20 + 19);	/* 19 bytes of TCP */
	expect_parse(&p, -FRAME_E_TCP);
	build_tcp4(&p);
	p.b[34 + 12] = 0xc0;	/* exactly all 48 bytes: no payload */
	set16(&p, 16, 20 + 48);
	expect_parse(&p, FRAME_OK);
}

static void
test_err_udp(void **state)
{
	struct pkt	 p;

	(void)state;
	build_qinq(&p);
	set16(&p, 42 + 4, 13);	/* longer than the IP payload */
	expect_parse(&p, -FRAME_E_UDP);
	build_qinq(&p);
	set16(&p, 42 + 4, 7);
	expect_parse(&p, -FRAME_E_UDP);
	build_qinq(&p);
	set16(&p, 22 + 2, 20 + 7);	/* 7 bytes of UDP */
	expect_parse(&p, -FRAME_E_UDP);
}

/*
 * Every prefix of every valid frame: an error, or (once the datagram is
 * complete) the same parse as the whole frame.
 */
static void
check_truncations(builder b)
{
	struct pkt		 p;
	struct frame_info	 want = b(&p), got;
	size_t			 n, need;
	int			 rc;

	need = want.l3 == FRAME_L3_ARP ? want.l3_off + 28 : want.l3_end;
	for (n = 0; n <= p.n; n++) {
		rc = parse_exact(p.b, n, &got);
		assert_sane(rc, &got, n);
		if (n < need) {
			assert_int_not_equal(rc, FRAME_OK);
			continue;
		}
		assert_int_equal(rc, FRAME_OK);
		want.len = n;
		if (want.l3 == FRAME_L3_ARP)
			want.l3_end = n;
		assert_info_eq(&got, &want);
	}
}

static void
test_truncation(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(builders) / sizeof(builders[0]); i++)
		check_truncations(builders[i]);
}

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Random damage to valid frames: only the invariants can be checked. */
static void
test_mutations(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	uint32_t		 seed = 0x9e3779b9;
	size_t			 i, k, nb;
	int			 rc, ok = 0;

	(void)state;
	nb = sizeof(builders) / sizeof(builders[0]);
	for (i = 0; i < 20000; i++) {
		builders[i % nb](&p);
		for (k = xorshift(&seed) % 4 + 1; k > 0; k--)
			p.b[xorshift(&seed) % p.n] = (uint8_t)xorshift(&seed);
		if (xorshift(&seed) % 4 == 0)
			p.n = xorshift(&seed) % (p.n + 1);
		rc = parse_exact(p.b, p.n, &fi);
		assert_sane(rc, &fi, p.n);
		ok += rc == FRAME_OK;
	}
	/* Both outcomes must be common, or the test proves little. */
	assert_true(ok > 1000 && ok < 19000);
}

/* Tests: strings. */

static void
test_strerror(void **state)
{
	int	 i, j;

	(void)state;
	for (i = 0; i < FRAME_E_MAX; i++) {
		assert_non_null(frame_strerror(-i));
		assert_string_equal(frame_strerror(-i), frame_strerror(i));
		for (j = 0; j < i; j++)
			assert_string_not_equal(frame_strerror(i),
			    frame_strerror(j));
	}
	assert_string_equal(frame_strerror(FRAME_E_MAX),
	    frame_strerror(-1000));
	assert_string_not_equal(frame_strerror(-FRAME_E_MAX),
	    frame_strerror(-FRAME_E_UDP));
	assert_non_null(frame_strerror(-2147483647 - 1));
}

static void
test_mac_parse(void **state)
{
	static const uint8_t	 want[6] = { 0xaa, 0xbb, 0x0c, 0xdd, 0xe0,
	    0x1f };
	static const char *const bad[] = {
		"", "aa:bb:0c:dd:e0:1", "aa:bb:0c:dd:e0:1f:",
		"aa:bb:0c:dd:e0:1f0",
		"aa-bb-0c-dd-e0-1f", "aabb.0cdd.e01f", "aa:bb:0c:dd:e0:1g",
		" aa:bb:0c:dd:e0:1f", "a:bb:0c:dd:e0:1ff", "aa:bb:0c:dd:e0:",
		"aa:bb:0c:dd:e0\0:1f", "aa::bb:0c:dd:e0:1", "+a:bb:0c:dd:e0:1f",
	};
	uint8_t			 mac[6];
	size_t			 i;

	(void)state;
	assert_int_equal(mac_parse("aa:bb:0c:dd:e0:1f", mac), 0);
	assert_memory_equal(mac, want, 6);
	memset(mac, 0, sizeof(mac));
	assert_int_equal(mac_parse("AA:Bb:0C:dD:E0:1F", mac), 0);
	assert_memory_equal(mac, want, 6);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(mac, 0x55, sizeof(mac));
		assert_int_equal(mac_parse(bad[i], mac), -1);
		/* A failed parse leaves the output alone. */
		assert_int_equal(mac[0], 0x55);
	}
	assert_int_equal(mac_parse(NULL, mac), -1);
}

static void
test_mac_short_string(void **state)
{
	uint8_t	 mac[6];
	char	*s;
	size_t	 n;

	(void)state;
	/* Heap strings of every shorter length: no read past the NUL. */
	for (n = 0; n < 17; n++) {
		s = malloc(n + 1);
		assert_non_null(s);
		memcpy(s, "01:23:45:67:89:ab", n);
		s[n] = '\0';
		assert_int_equal(mac_parse(s, mac), -1);
		free(s);
	}
}

static void
test_mac_format(void **state)
{
	static const uint8_t	 mac[6] = { 0x00, 0x1A, 0x2b, 0xff, 0x80,
	    0x09 };
	uint8_t			 back[6];
	char			 buf[18];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_ptr_equal(mac_format(mac, buf), buf);
	assert_string_equal(buf, "00:1a:2b:ff:80:09");
	assert_int_equal(mac_parse(buf, back), 0);
	assert_memory_equal(back, mac, 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_arp),
		cmocka_unit_test(test_valid_dhcp),
		cmocka_unit_test(test_valid_tcp4),
		cmocka_unit_test(test_valid_ns6),
		cmocka_unit_test(test_valid_ext6),
		cmocka_unit_test(test_valid_frag6),
		cmocka_unit_test(test_valid_vlan),
		cmocka_unit_test(test_valid_qinq),
		cmocka_unit_test(test_arp_other_kind),
		cmocka_unit_test(test_unknown_ethertype),
		cmocka_unit_test(test_ipv4_fragment),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_udp_shorter_than_ip),
		cmocka_unit_test(test_err_short),
		cmocka_unit_test(test_err_vlan),
		cmocka_unit_test(test_err_arp),
		cmocka_unit_test(test_err_ipv4),
		cmocka_unit_test(test_err_ipv6),
		cmocka_unit_test(test_err_ipv6_ext),
		cmocka_unit_test(test_ipv6_ext_bound),
		cmocka_unit_test(test_err_tcp),
		cmocka_unit_test(test_err_udp),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_mac_parse),
		cmocka_unit_test(test_mac_short_string),
		cmocka_unit_test(test_mac_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

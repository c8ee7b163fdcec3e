/* SPDX-License-Identifier: ISC */
/*
 * Checksum and offload tests. Checksums are verified with a reference
 * written here from RFC 1071 and RFC 8200 (pseudo-headers laid out as
 * bytes), and anchored by known answers computed outside this code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/csum.h"
#include "lib/frame.h"
#include "lib/offload.h"
#include "tests/unit/pkt.h"

#define TH_FIN		0x01
#define TH_SYN		0x02
#define TH_PSH		0x08
#define TH_ACK		0x10
#define TH_CWR		0x80

static const uint8_t ip6_a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t ip6_b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t ip6_c[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 1, 3 };
static const uint8_t ip6_d[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 1, 4 };

/* Reference checksum: bytes at even offsets are the high halves. */

static uint16_t
ref_fold(uint64_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint64_t
ref_sum(uint64_t sum, const uint8_t *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sum += i % 2 == 0 ? (uint64_t)b[i] << 8 : b[i];
	return sum;
}

/* Pseudo-header as laid out in RFC 768 / RFC 8200, then summed. */
static uint64_t
ref_pseudo(const uint8_t *ip, const uint8_t *dst6, uint8_t proto, size_t len)
{
	uint8_t	 ph[40];

	memset(ph, 0, sizeof(ph));
	if (ip[0] >> 4 == 4) {
		memcpy(ph, ip + 12, 8);
		ph[9] = proto;
		put_be16(ph + 10, (uint16_t)len);
		return ref_sum(0, ph, 12);
	}
	memcpy(ph, ip + 8, 16);
	memcpy(ph + 16, dst6 != NULL ? dst6 : ip + 24, 16);
	put_be16(ph + 32, (uint16_t)(len >> 16));
	put_be16(ph + 34, (uint16_t)len);
	ph[39] = proto;
	return ref_sum(0, ph, 40);
}

/* Does the transport checksum verify from scratch? */
static int
ref_l4_ok(const uint8_t *frame, const struct frame_info *fi,
    const uint8_t *dst6, size_t l4len)
{
	uint64_t	 sum;

	sum = ref_pseudo(frame + fi->l3_off, dst6, fi->l4_proto, l4len);
	return ref_fold(ref_sum(sum, frame + fi->l4_off, l4len)) == 0xffff;
}

static uint16_t
ref_l4_csum(uint8_t *frame, const struct frame_info *fi, size_t ckoff,
    size_t l4len)
{
	uint8_t		 save[2];
	uint16_t	 ck;
	uint64_t	 sum;

	memcpy(save, frame + fi->l4_off + ckoff, 2);
	memset(frame + fi->l4_off + ckoff, 0, 2);
	sum = ref_pseudo(frame + fi->l3_off, NULL, fi->l4_proto, l4len);
	ck = (uint16_t)~ref_fold(ref_sum(sum, frame + fi->l4_off, l4len));
	memcpy(frame + fi->l4_off + ckoff, save, 2);
	return ck;
}

/* Builders beyond tests/unit/pkt.h's. */

/* A payload whose bytes depend on their position, to catch reordering. */
static void
ppattern(struct pkt *p, size_t n)
{
	size_t	 i;

	assert_true(n <= sizeof(p->b) - p->n);
	for (i = 0; i < n; i++)
		p->b[p->n++] = (uint8_t)(i * 7 + i / 251);
}

static void
eth(struct pkt *p, uint16_t type)
{
	p->n = 0;
	pbytes(p, mac_b, 6);
	pbytes(p, mac_a, 6);
	p16(p, type);
}

/* From ip_a to ip_b, TOS 0x02: ECT(0). */
static size_t
ipv4(struct pkt *p, uint8_t proto, uint16_t id, size_t optwords)
{
	return pkt_ipv4(p, proto, 0x02, id, ip_a, ip_b, optwords);
}

/* Set tot_len (to the datagram end `end`) and the header checksum. */
static void
ipv4_end(struct pkt *p, size_t l3, size_t end)
{
	size_t	 hl = (size_t)(p->b[l3] & 0x0f) * 4;

	put_be16(p->b + l3 + 2, (uint16_t)(end - l3));
	put_be16(p->b + l3 + 10, 0);
	put_be16(p->b + l3 + 10,
	    (uint16_t)~ref_fold(ref_sum(0, p->b + l3, hl)));
}

static size_t
ipv6(struct pkt *p, uint8_t nh, const uint8_t *dst)
{
	return pkt_ipv6(p, nh, 64, ip6_a, dst);
}

static void
ipv6_end(struct pkt *p, size_t l3, size_t end)
{
	put_be16(p->b + l3 + 4, (uint16_t)(end - l3 - 40));
}

static void
tcp(struct pkt *p, uint32_t seq, uint8_t flags, size_t optwords)
{
	pkt_tcp(p, 443, seq, flags, 501, optwords);
}

static void
udp(struct pkt *p, size_t paylen)
{
	p16(p, 5000);
	p16(p, 6000);
	p16(p, (uint16_t)(8 + paylen));
	p16(p, 0);
	ppattern(p, paylen);
}

static struct frame_info
parse_ok(const uint8_t *b, size_t n)
{
	struct frame_info	 fi;

	assert_int_equal(frame_parse(b, n, &fi), FRAME_OK);
	return fi;
}

/* Kernel-style partial checksum: the folded pseudo-header sum. */
static void
make_partial(struct pkt *p, size_t ckoff)
{
	struct frame_info	 fi = parse_ok(p->b, p->n);
	size_t			 len = fi.l4_len;

	if (fi.l4_proto == 17)
		len = get_be16(p->b + fi.l4_off + 4);
	put_be16(p->b + fi.l4_off + ckoff,
	    ref_fold(ref_pseudo(p->b + fi.l3_off, NULL, fi.l4_proto, len)));
}

static void
build_tcp4(struct pkt *p, size_t paylen, uint8_t flags, size_t optwords)
{
	size_t	 l3;

	eth(p, 0x0800);
	l3 = ipv4(p, 6, 0x1234, 0);
	tcp(p, 0x01020304, flags, optwords);
	ppattern(p, paylen);
	ipv4_end(p, l3, p->n);
}

static void
build_udp4(struct pkt *p, size_t paylen)
{
	size_t	 l3;

	eth(p, 0x0800);
	l3 = ipv4(p, 17, 0x1234, 0);
	udp(p, paylen);
	ipv4_end(p, l3, p->n);
}

static void
build_udp6(struct pkt *p, size_t paylen)
{
	size_t	 l3;

	eth(p, 0x86dd);
	l3 = ipv6(p, 17, ip6_b);
	udp(p, paylen);
	ipv6_end(p, l3, p->n);
}

static void
assert_vh_zero(const struct virtio_net_hdr *vh)
{
	static const struct virtio_net_hdr	 zero;

	assert_memory_equal(vh, &zero, sizeof(zero));
}

static void
assert_vh(const struct virtio_net_hdr *vh, uint8_t gso_type, size_t gso_size,
    size_t hdr_len, size_t csum_start)
{
	assert_int_equal(vh->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(vh->gso_type, gso_type);
	assert_int_equal(vh->gso_size, gso_size);
	assert_int_equal(vh->hdr_len, hdr_len);
	assert_int_equal(vh->csum_start, csum_start);
	assert_int_equal(vh->csum_offset, 16);
}

/* Finish a NEEDS_CSUM frame the way the kernel does. */
static void
complete_csum(uint8_t *b, size_t len, const struct virtio_net_hdr *vh)
{
	size_t	 start = vh->csum_start, at = start + vh->csum_offset;

	assert_true(at + 2 <= len);
	put_be16(b + at,
	    (uint16_t)~ref_fold(ref_sum(0, b + start, len - start)));
}

/* Checksum known answers. */

static void
test_csum_rfc1071(void **state)
{
	static const uint8_t	 b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4,
	    0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(csum_fold(csum_add(0, b, 8)), 0xddf2);
	assert_int_equal(csum_fold(csum_add(csum_add(0, b, 4), b + 4, 4)),
	    0xddf2);
	/* An odd tail is padded with a zero low byte. */
	assert_int_equal(csum_fold(csum_add(0, b + 2, 1)), 0xf200);
	assert_int_equal(csum_fold(csum_add(0, b, 0)), 0);
	assert_int_equal(csum_fold(0x0001ffff), 0x0001);
	assert_int_equal(csum_fold(0xffffffff), 0xffff);
}

static void
test_csum_ipv4_header(void **state)
{
	uint8_t	 h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
	    0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0,
	    0xa8, 0x00, 0xc7 };

	(void)state;
	assert_int_equal(csum_fold(csum_add(0, h, sizeof(h))), 0xffff);
	h[10] = h[11] = 0;
	assert_int_equal((uint16_t)~csum_fold(csum_add(0, h, sizeof(h))),
	    0xb861);
}

static void
test_csum_pseudo(void **state)
{
	static const uint8_t	 s4[4] = { 192, 168, 0, 1 },
				 d4[4] = { 192, 168, 0, 199 };
	static const uint8_t	 s6[16] = { 0xfe, 0x80, [15] = 1 },
				 d6[16] = { 0xff, 0x02, [11] = 1, 0xff,
				     [15] = 2 };

	(void)state;
	assert_int_equal(csum_fold(csum_pseudo4(s4, d4, 17, 0x5f)), 0x8289);
	assert_int_equal(csum_fold(csum_pseudo6(s6, d6, 58, 32)), 0xfce2);
	/* IPv6 lengths are 32 bits. */
	assert_int_equal(csum_fold(csum_pseudo6(s6, d6, 6, 0x12345)), 0x1fd5);
}

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_csum_large(void **state)
{
	uint8_t		*b = malloc(65536);
	uint32_t	 seed = 12345, init;
	size_t		 n, cut, i;

	(void)state;
	assert_non_null(b);
	memset(b, 0xff, 65536);
	/* The accumulator must not overflow on a maximal datagram. */
	assert_int_equal(csum_fold(csum_add(0xffffffff, b, 65536)), 0xffff);
	for (i = 0; i < 65536; i++)
		b[i] = (uint8_t)xorshift(&seed);
	for (n = 0; n <= 65536; n += n < 300 ? 1 : 4093) {
		init = xorshift(&seed);
		assert_int_equal(csum_fold(csum_add(init, b, n)),
		    ref_fold(ref_sum(init, b, n)));
		cut = (n / 2) & ~(size_t)1;
		assert_int_equal(csum_fold(csum_add(csum_add(init, b, cut),
		    b + cut, n - cut)), ref_fold(ref_sum(init, b, n)));
	}
	free(b);
}

/* A real IPv4/UDP frame whose checksum field holds the partial sum. */
static void
test_udp_known_answer(void **state)
{
	uint8_t	 f[14 + 33] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02,
	    0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x08, 0x00,
	    0x45, 0x00, 0x00, 0x21, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11,
	    0x9c, 0x6d, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	    0x30, 0x39, 0x00, 0x35, 0x00, 0x0d, 0x82, 0x37,
	    'v', 'n', 'e', 't', '\n' };
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	(void)state;
	assert_int_equal(offload_prepare(f, sizeof(f), 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(outlen, sizeof(f));
	assert_vh_zero(&vh);
	assert_int_equal(get_be16(f + 40), 0x676a);
}

/* A real IPv6/TCP frame: partial sum, then the kernel's completion. */
static void
test_tcp6_known_answer(void **state)
{
	struct pkt		 p;
	struct virtio_net_hdr	 vh;
	uint8_t			 out[128];
	size_t			 outlen, lens[1], nseg, l3;
	const uint8_t		 ll1[16] = { 0xfe, 0x80, [15] = 1 },
				 ll2[16] = { 0xfe, 0x80, [15] = 2 };

	(void)state;
	eth(&p, 0x86dd);
	l3 = ipv6(&p, 6, ll2);
	memcpy(p.b + l3 + 8, ll1, 16);
	p16(&p, 40000);
	p16(&p, 80);
	p32(&p, 1);
	p32(&p, 2);
	p16(&p, 0x5018);
	p16(&p, 0xffff);
	p32(&p, 0);
	pbytes(&p, "hello", 5);
	ipv6_end(&p, l3, p.n);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_vh(&vh, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 54);
	assert_int_equal(get_be16(p.b + 54 + 16), 0xfd23);
	assert_int_equal(offload_segment(p.b, outlen, &vh, out, sizeof(out),
	    lens, 1, &nseg), OFFLOAD_OK);
	assert_int_equal(nseg, 1);
	assert_int_equal(lens[0], p.n);
	assert_int_equal(get_be16(out + 54 + 16), 0xd25d);
}

/* offload_prepare: small frames. */

static void
check_small_tcp(struct pkt *p)
{
	struct frame_info	 fi = parse_ok(p->b, p->n);
	struct virtio_net_hdr	 vh;
	size_t			 outlen;
	uint16_t		 want;

	assert_int_equal(offload_prepare(p->b, p->n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(outlen, fi.l3_end);
	assert_vh(&vh, VIRTIO_NET_HDR_GSO_NONE, 0, 0, fi.l4_off);
	want = ref_fold(ref_pseudo(p->b + fi.l3_off, NULL, 6, fi.l4_len));
	assert_int_equal(get_be16(p->b + fi.l4_off + 16), want);
	assert_false(ref_l4_ok(p->b, &fi, NULL, fi.l4_len));
	complete_csum(p->b, outlen, &vh);
	assert_true(ref_l4_ok(p->b, &fi, NULL, fi.l4_len));
}

static void
test_tcp_partial(void **state)
{
	struct pkt	 p;

	(void)state;
	build_tcp4(&p, 100, TH_ACK | TH_PSH, 3);
	make_partial(&p, 16);
	check_small_tcp(&p);
}

static void
test_tcp_complete_stays_valid(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	uint16_t		 good;

	(void)state;
	build_tcp4(&p, 33, TH_ACK, 0);
	fi = parse_ok(p.b, p.n);
	good = ref_l4_csum(p.b, &fi, 16, fi.l4_len);
	put_be16(p.b + fi.l4_off + 16, good);
	check_small_tcp(&p);
	assert_int_equal(get_be16(p.b + fi.l4_off + 16), good);
}

static void
test_padding_cut(void **state)
{
	struct pkt		 p;
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	(void)state;
	build_tcp4(&p, 1, TH_ACK, 0);		/* 55 bytes */
	make_partial(&p, 16);
	pfill(&p, 0xa5, 60 - p.n);		/* junk padding, not summed */
	check_small_tcp(&p);
	assert_int_equal(p.b[55], 0xa5);
	assert_int_equal(p.b[59], 0xa5);
	/* Non-TCP IP is cut too, and otherwise untouched. */
	build_udp4(&p, 2);
	pfill(&p, 0xa5, 60 - p.n);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(outlen, 14 + 20 + 10);
}

static void
test_udp4_partial(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	struct virtio_net_hdr	 vh;
	size_t			 outlen;
	uint16_t		 want;

	(void)state;
	build_udp4(&p, 333);
	make_partial(&p, 6);
	fi = parse_ok(p.b, p.n);
	want = ref_l4_csum(p.b, &fi, 6, fi.l4_len);
	assert_false(ref_l4_ok(p.b, &fi, NULL, fi.l4_len));
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_vh_zero(&vh);
	assert_int_equal(outlen, p.n);
	assert_int_equal(get_be16(p.b + fi.l4_off + 6), want);
	assert_true(ref_l4_ok(p.b, &fi, NULL, fi.l4_len));
}

static void
test_udp6_partial(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	(void)state;
	build_udp6(&p, 1000);
	make_partial(&p, 6);
	fi = parse_ok(p.b, p.n);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_vh_zero(&vh);
	assert_true(ref_l4_ok(p.b, &fi, NULL, fi.l4_len));
	/* IPv6 has no "no checksum": a zero field is computed too. */
	put_be16(p.b + fi.l4_off + 6, 0);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_true(ref_l4_ok(p.b, &fi, NULL, fi.l4_len));
}

/* UDP shorter than its IP payload: sum and pseudo-header use its own. */
static void
test_udp_short_length(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	(void)state;
	build_udp6(&p, 100);
	put_be16(p.b + 54 + 4, 8 + 60);
	make_partial(&p, 6);
	fi = parse_ok(p.b, p.n);
	assert_int_equal(fi.l4_len, 108);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(outlen, p.n);
	assert_true(ref_l4_ok(p.b, &fi, NULL, 68));
}

static void
test_udp4_no_checksum(void **state)
{
	struct pkt		 p, copy;
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	(void)state;
	build_udp4(&p, 40);
	copy = p;
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_memory_equal(p.b, copy.b, p.n);
	assert_vh_zero(&vh);
}

/* A payload chosen so that the true checksum is 0: it must go as ffff. */
static void
test_udp_zero_becomes_ffff(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	struct virtio_net_hdr	 vh;
	size_t			 outlen, last;
	uint64_t		 sum;

	(void)state;
	build_udp4(&p, 20);
	fi = parse_ok(p.b, p.n);
	last = p.n - 2;
	put_be16(p.b + last, 0);
	sum = ref_pseudo(p.b + fi.l3_off, NULL, 17, fi.l4_len);
	sum = ref_sum(sum, p.b + fi.l4_off, fi.l4_len);
	put_be16(p.b + last, (uint16_t)~ref_fold(sum));
	make_partial(&p, 6);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(get_be16(p.b + fi.l4_off + 6), 0xffff);
	assert_true(ref_l4_ok(p.b, &fi, NULL, fi.l4_len));
}

static void
expect_untouched(struct pkt *p, size_t mtu)
{
	struct pkt		 copy = *p;
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	assert_int_equal(offload_prepare(p->b, p->n, mtu, &vh, &outlen),
	    OFFLOAD_OK);
	assert_vh_zero(&vh);
	assert_int_equal(outlen, p->n);
	assert_memory_equal(p->b, copy.b, p->n);
}

static void
expect_error(struct pkt *p, size_t mtu, int err)
{
	struct pkt		 copy = *p;
	struct virtio_net_hdr	 vh;
	size_t			 outlen = 1;

	memset(&vh, 0x5a, sizeof(vh));
	assert_int_equal(offload_prepare(p->b, p->n, mtu, &vh, &outlen), err);
	assert_vh_zero(&vh);
	assert_int_equal(outlen, 0);
	assert_memory_equal(p->b, copy.b, p->n);
}

static void
test_oversize(void **state)
{
	struct pkt	 p;
	size_t		 l3;

	(void)state;
	build_udp4(&p, 2000);
	make_partial(&p, 6);
	expect_error(&p, 1500, -OFFLOAD_E_OVERSIZE);
	build_udp6(&p, 1500);
	expect_error(&p, 1500, -OFFLOAD_E_OVERSIZE);
	eth(&p, 0x0800);			/* ICMP echo */
	l3 = ipv4(&p, 1, 1, 0);
	ppattern(&p, 1600);
	ipv4_end(&p, l3, p.n);
	expect_error(&p, 1500, -OFFLOAD_E_OVERSIZE);
	expect_untouched(&p, 1620);
	eth(&p, 0x88b5);			/* unknown ethertype */
	pfill(&p, 0, 1501);
	expect_error(&p, 1500, -OFFLOAD_E_OVERSIZE);
	p.n--;
	expect_untouched(&p, 1500);
}

static void
test_fragment_untouched(void **state)
{
	struct pkt	 p;

	(void)state;
	build_tcp4(&p, 200, TH_ACK, 0);
	p.b[14 + 6] = 0x20;			/* MF */
	p.b[14 + 10] = p.b[14 + 11] = 0;	/* header checksum not ours */
	expect_untouched(&p, 1500);
	expect_error(&p, 100, -OFFLOAD_E_OVERSIZE);
}

static void
test_parse_error(void **state)
{
	struct pkt	 p;

	(void)state;
	build_tcp4(&p, 10, TH_ACK, 0);
	p.b[14 + 32] = 0x30;			/* data offset 3 */
	expect_error(&p, 1500, -OFFLOAD_E_PARSE);
	p.n = 10;
	expect_error(&p, 1500, -OFFLOAD_E_PARSE);
}

static void
test_icmpv6_untouched(void **state)
{
	struct pkt	 p;
	size_t		 l3;

	(void)state;
	eth(&p, 0x86dd);
	l3 = ipv6(&p, 58, ip6_b);
	p8(&p, 135);
	ppattern(&p, 31);
	ipv6_end(&p, l3, p.n);
	expect_untouched(&p, 1500);
}

/* Segment checks, shared by every GSO test. */

struct seg_ctx {
	const uint8_t		*orig;
	struct frame_info	 fi;
	const uint8_t		*dst6;	/* NULL: the header's */
	size_t			 mtu;
	size_t			 sent;
};

static void
check_ip(const struct seg_ctx *c, const uint8_t *s, size_t len, size_t i)
{
	const uint8_t	*o = c->orig + c->fi.l3_off;
	const uint8_t	*ip = s + c->fi.l3_off;
	size_t		 iphl = c->fi.l4_off - c->fi.l3_off;

	if (c->fi.l3 == FRAME_L3_IPV6) {
		assert_int_equal(get_be16(ip + 4), len - c->fi.l3_off - 40);
		assert_memory_equal(ip, o, 4);
		assert_memory_equal(ip + 6, o + 6, iphl - 6);
		return;
	}
	assert_int_equal(get_be16(ip + 2), len - c->fi.l3_off);
	assert_int_equal(get_be16(ip + 4), (uint16_t)(get_be16(o + 4) + i));
	assert_int_equal(ref_fold(ref_sum(0, ip, iphl)), 0xffff);
	assert_memory_equal(ip, o, 2);
	assert_memory_equal(ip + 6, o + 6, 4);
	assert_memory_equal(ip + 12, o + 12, iphl - 12);
}

static void
check_tcp(struct seg_ctx *c, const uint8_t *s, size_t len, int first,
    int last)
{
	const uint8_t	*o = c->orig + c->fi.l4_off;
	const uint8_t	*th = s + c->fi.l4_off;
	size_t		 thl = c->fi.payload_off - c->fi.l4_off;
	uint8_t		 flags = o[13];

	if (!first)
		flags &= (uint8_t)~TH_CWR;
	if (!last)
		flags &= (uint8_t)~(TH_FIN | TH_PSH);
	assert_int_equal(th[13], flags);
	assert_int_equal(get_be32(th + 4),
	    (uint32_t)(get_be32(o + 4) + c->sent));
	assert_memory_equal(th, o, 4);
	assert_memory_equal(th + 8, o + 8, 5);
	assert_memory_equal(th + 14, o + 14, 2);
	assert_memory_equal(th + 18, o + 18, thl - 18);
	assert_true(ref_l4_ok(s, &c->fi, c->dst6, len - c->fi.l4_off));
}

static void
check_segments(struct seg_ctx *c, const struct virtio_net_hdr *vh,
    const uint8_t *out, const size_t *lens, size_t nseg)
{
	size_t			 i, hdrs = c->fi.payload_off, chunk;
	size_t			 total = c->fi.l3_end - hdrs;
	struct frame_info	 sfi;

	c->sent = 0;
	assert_true(nseg >= 1);
	for (i = 0; i < nseg; out += lens[i], i++) {
		assert_true(lens[i] <= c->mtu + c->fi.l3_off);
		assert_true(lens[i] >= hdrs);
		chunk = lens[i] - hdrs;
		if (i + 1 < nseg)
			assert_int_equal(chunk, vh->gso_size);
		assert_true(chunk > 0 || total == 0);
		sfi = parse_ok(out, lens[i]);
		assert_int_equal(sfi.l3_end, lens[i]);
		assert_int_equal(sfi.payload_off, hdrs);
		assert_memory_equal(out, c->orig, c->fi.l3_off);
		check_ip(c, out, lens[i], i);
		check_tcp(c, out, lens[i], i == 0, i + 1 == nseg);
		assert_memory_equal(out + hdrs, c->orig + hdrs + c->sent,
		    chunk);
		c->sent += chunk;
	}
	assert_int_equal(c->sent, total);
}

/* Exactly the bytes and segments a GSO frame needs. */
static void
seg_need(const struct frame_info *fi, const struct virtio_net_hdr *vh,
    size_t *bytes, size_t *nseg)
{
	size_t	 pay = fi->l3_end - fi->payload_off;

	*nseg = pay == 0 ? 1 : (pay + vh->gso_size - 1) / vh->gso_size;
	*bytes = *nseg * fi->payload_off + pay;
}

/* Segment with exactly enough room, and check the result. */
static size_t
segment_and_check(const uint8_t *b, size_t len, size_t mtu,
    const struct virtio_net_hdr *vh, const uint8_t *dst6)
{
	struct seg_ctx	 c = { .orig = b, .dst6 = dst6, .mtu = mtu };
	size_t		 need, maxseg, nseg, *lens;
	uint8_t		*out;

	c.fi = parse_ok(b, len);
	seg_need(&c.fi, vh, &need, &maxseg);
	out = malloc(need);
	lens = calloc(maxseg, sizeof(*lens));
	assert_true(out != NULL && lens != NULL);
	assert_int_equal(offload_segment(b, len, vh, out, need, lens, maxseg,
	    &nseg), OFFLOAD_OK);
	assert_int_equal(nseg, maxseg);
	check_segments(&c, vh, out, lens, nseg);
	free(out);
	free(lens);
	return nseg;
}

/* offload_prepare + offload_segment: super-frames. */

static void
build_super4(struct pkt *p, uint8_t flags)
{
	size_t	 l3;

	eth(p, 0x0800);
	l3 = ipv4(p, 6, 0xfffe, 0);		/* ids wrap after 2 */
	tcp(p, 0xffff0000, flags, 3);		/* seq wraps too */
	ppattern(p, 65535 - 20 - 32);
	ipv4_end(p, l3, p->n);
	make_partial(p, 16);
}

static void
test_gso_ipv4(void **state)
{
	struct pkt		 p;
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	(void)state;
	build_super4(&p, TH_ACK | TH_PSH | TH_FIN | TH_CWR);
	assert_int_equal(p.n, 14 + 65535);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(outlen, p.n);
	assert_vh(&vh, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
	    1500 - 20 - 32, 14 + 20 + 32, 34);
	assert_int_equal(get_be16(p.b + 34 + 16),
	    ref_fold(ref_pseudo(p.b + 14, NULL, 6, 65535 - 20)));
	/* 65483 bytes: 45 full segments of 1448 and one of 323. */
	assert_int_equal(segment_and_check(p.b, outlen, 1500, &vh, NULL), 46);
}

static void
test_gso_ipv4_no_cwr(void **state)
{
	struct pkt		 p;
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	(void)state;
	build_super4(&p, TH_ACK);
	assert_int_equal(offload_prepare(p.b, p.n, 9000, &vh, &outlen),
	    OFFLOAD_OK);
	assert_vh(&vh, VIRTIO_NET_HDR_GSO_TCPV4, 9000 - 52, 66, 34);
	assert_int_equal(segment_and_check(p.b, outlen, 9000, &vh, NULL), 8);
}

/* VLAN, IPv6, a destination options header: all in the header sizes. */
static void
build_super6(struct pkt *p, uint8_t flags)
{
	size_t	 l3;

	eth(p, 0x8100);
	vlan(p, 0x0064, 0x86dd);
	l3 = ipv6(p, 60, ip6_b);
	p8(p, 6);
	p8(p, 0);
	pfill(p, 0, 6);
	tcp(p, 1000, flags, 0);
	ppattern(p, 65535 - 8 - 20);
	ipv6_end(p, l3, p->n);
	make_partial(p, 16);
}

static void
test_gso_ipv6(void **state)
{
	struct pkt		 p;
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	(void)state;
	build_super6(&p, TH_ACK | TH_PSH);
	assert_int_equal(p.n, 18 + 40 + 65535);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_vh(&vh, VIRTIO_NET_HDR_GSO_TCPV6, 1500 - 48 - 20,
	    18 + 48 + 20, 18 + 48);
	assert_int_equal(get_be16(p.b + 66 + 16),
	    ref_fold(ref_pseudo(p.b + 18, NULL, 6, 65535 - 8)));
	/* 65507 / 1432 = 45.7 */
	assert_int_equal(segment_and_check(p.b, outlen, 1500, &vh, NULL), 46);
}

static void
test_gso_ipv6_ecn(void **state)
{
	struct pkt		 p;
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	(void)state;
	build_super6(&p, TH_ACK | TH_CWR | TH_FIN);
	assert_int_equal(offload_prepare(p.b, p.n, 4000, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(vh.gso_type,
	    VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN);
	assert_int_equal(segment_and_check(p.b, outlen, 4000, &vh, NULL), 17);
}

static void
test_mtu_boundary(void **state)
{
	struct pkt		 p;
	struct virtio_net_hdr	 vh;
	size_t			 outlen, dlen;

	(void)state;
	build_tcp4(&p, 100, TH_ACK | TH_FIN, 0);
	make_partial(&p, 16);
	dlen = p.n - 14;
	assert_int_equal(offload_prepare(p.b, p.n, dlen, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	/* 99-byte segments are below the GSO floor: cut them here. */
	assert_int_equal(offload_prepare(p.b, p.n, dlen - 1, &vh, &outlen),
	    OFFLOAD_SEGMENT);
	assert_vh(&vh, VIRTIO_NET_HDR_GSO_TCPV4, 99, 54, 34);
	assert_int_equal(segment_and_check(p.b, outlen, dlen - 1, &vh, NULL),
	    2);
	/* No room for a single payload byte. */
	expect_error(&p, 40, -OFFLOAD_E_MTU);
	expect_error(&p, 0, -OFFLOAD_E_MTU);
	assert_int_equal(offload_prepare(p.b, p.n, 41, &vh, &outlen),
	    OFFLOAD_SEGMENT);
	assert_int_equal(vh.gso_size, 1);
	assert_int_equal(segment_and_check(p.b, outlen, 41, &vh, NULL), 100);
}

/* IPv4 with options: the header length, not 20, goes into gso_size. */
static void
test_gso_ipv4_options(void **state)
{
	struct pkt		 p;
	struct virtio_net_hdr	 vh;
	size_t			 outlen, l3;

	(void)state;
	eth(&p, 0x0800);
	l3 = ipv4(&p, 6, 7, 2);
	tcp(&p, 5, TH_ACK, 0);
	ppattern(&p, 3000);
	ipv4_end(&p, l3, p.n);
	make_partial(&p, 16);
	pfill(&p, 0xcc, 7);	/* padding must not become payload */
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(outlen, p.n - 7);
	assert_vh(&vh, VIRTIO_NET_HDR_GSO_TCPV4, 1500 - 28 - 20, 62, 42);
	assert_int_equal(segment_and_check(p.b, p.n, 1500, &vh, NULL), 3);
}

/*
 * A routing header on its way to ip6_d: the pseudo-header must use the
 * final destination, ip6_c for SRv6 (listed first), ip6_b for type 0.
 */
static void
build_srh(struct pkt *p, uint8_t type, uint8_t segleft, size_t paylen)
{
	size_t	 l3;

	eth(p, 0x86dd);
	l3 = ipv6(p, 43, ip6_d);
	p8(p, 6);
	p8(p, 4);		/* two addresses */
	p8(p, type);
	p8(p, segleft);
	p8(p, 1);		/* last entry */
	pfill(p, 0, 3);
	pbytes(p, ip6_c, 16);
	pbytes(p, ip6_b, 16);
	tcp(p, 77, TH_ACK, 0);
	ppattern(p, paylen);
	ipv6_end(p, l3, p->n);
}

static void
test_routing_header(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	struct virtio_net_hdr	 vh;
	uint8_t			 out[4000];
	size_t			 outlen, lens[8], nseg;

	(void)state;
	build_srh(&p, 4, 1, 3000);
	fi = parse_ok(p.b, p.n);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(get_be16(p.b + fi.l4_off + 16),
	    ref_fold(ref_pseudo(p.b + 14, ip6_c, 6, fi.l4_len)));
	assert_int_equal(segment_and_check(p.b, outlen, 1500, &vh, ip6_c), 3);
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	/* Segments left 0: the header's destination is the final one. */
	build_srh(&p, 4, 0, 100);
	check_small_tcp(&p);
	build_srh(&p, 0, 2, 100);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(get_be16(p.b + fi.l4_off + 16),
	    ref_fold(ref_pseudo(p.b + 14, ip6_b, 6, 120)));
	/* RPL compresses addresses: not ours to guess. */
	build_srh(&p, 3, 1, 100);
	expect_untouched(&p, 1500);
	build_srh(&p, 3, 1, 3000);
	expect_error(&p, 1500, -OFFLOAD_E_OVERSIZE);
	/* Nor will the segmenter guess for a vh from elsewhere. */
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	vh.gso_size = 1000;
	vh.hdr_len = 94 + 20;
	vh.csum_start = 94;
	assert_int_equal(offload_segment(p.b, p.n, &vh, out, sizeof(out),
	    lens, 8, &nseg), -OFFLOAD_E_PARSE);
}

/* offload_segment: errors and the non-GSO path. */

static void
test_segment_space(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	struct virtio_net_hdr	 vh;
	size_t			 outlen, need, maxseg, nseg = 9, *lens;
	uint8_t			*out;

	(void)state;
	build_super4(&p, TH_ACK);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	fi = parse_ok(p.b, outlen);
	seg_need(&fi, &vh, &need, &maxseg);
	out = malloc(need);
	lens = calloc(maxseg, sizeof(*lens));
	assert_true(out != NULL && lens != NULL);
	assert_int_equal(offload_segment(p.b, outlen, &vh, out, need - 1,
	    lens, maxseg, &nseg), -OFFLOAD_E_SPACE);
	assert_int_equal(nseg, 0);
	nseg = 9;
	assert_int_equal(offload_segment(p.b, outlen, &vh, out, need,
	    lens, maxseg - 1, &nseg), -OFFLOAD_E_SPACE);
	assert_int_equal(nseg, 0);
	assert_int_equal(offload_segment(p.b, outlen, &vh, out, 0,
	    lens, 0, &nseg), -OFFLOAD_E_SPACE);
	memset(&vh, 0, sizeof(vh));
	assert_int_equal(offload_segment(p.b, outlen, &vh, out, outlen - 1,
	    lens, 1, &nseg), -OFFLOAD_E_SPACE);
	assert_int_equal(offload_segment(p.b, outlen, &vh, out, outlen,
	    lens, 0, &nseg), -OFFLOAD_E_SPACE);
	free(out);
	free(lens);
}

static void
test_segment_bad_vh(void **state)
{
	struct pkt		 p;
	struct virtio_net_hdr	 vh, bad;
	uint8_t			*out = malloc(100000);
	size_t			 outlen, lens[64], nseg;

	(void)state;
	assert_non_null(out);
	build_tcp4(&p, 3000, TH_ACK, 0);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	bad = vh;
	bad.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(offload_segment(p.b, outlen, &bad, out, 100000,
	    lens, 64, &nseg), -OFFLOAD_E_PARSE);
	bad = vh;
	bad.gso_size = 0;
	assert_int_equal(offload_segment(p.b, outlen, &bad, out, 100000,
	    lens, 64, &nseg), -OFFLOAD_E_PARSE);
	bad = vh;
	bad.hdr_len++;
	assert_int_equal(offload_segment(p.b, outlen, &bad, out, 100000,
	    lens, 64, &nseg), -OFFLOAD_E_PARSE);
	bad = vh;
	bad.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(offload_segment(p.b, outlen, &bad, out, 100000,
	    lens, 64, &nseg), -OFFLOAD_E_PARSE);
	/* Non-GSO: the checksum field must lie inside the datagram. */
	memset(&bad, 0, sizeof(bad));
	bad.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	bad.csum_start = (uint16_t)(outlen - 10);
	bad.csum_offset = 9;
	assert_int_equal(offload_segment(p.b, outlen, &bad, out, 100000,
	    lens, 64, &nseg), -OFFLOAD_E_PARSE);
	bad.csum_offset = 8;
	assert_int_equal(offload_segment(p.b, outlen, &bad, out, 100000,
	    lens, 64, &nseg), OFFLOAD_OK);
	p.n = 13;
	assert_int_equal(offload_segment(p.b, p.n, &vh, out, 100000,
	    lens, 64, &nseg), -OFFLOAD_E_PARSE);
	free(out);
}

static void
test_segment_one(void **state)
{
	struct pkt		 p;
	struct frame_info	 fi;
	struct virtio_net_hdr	 vh;
	uint8_t			 out[2048];
	size_t			 outlen, lens[2], nseg;

	(void)state;
	build_tcp4(&p, 500, TH_ACK | TH_FIN, 2);
	make_partial(&p, 16);
	pfill(&p, 0x77, 9);
	assert_int_equal(offload_prepare(p.b, p.n, 1500, &vh, &outlen),
	    OFFLOAD_OK);
	/* The padded length: segment cuts the padding itself. */
	assert_int_equal(offload_segment(p.b, p.n, &vh, out, sizeof(out),
	    lens, 2, &nseg), OFFLOAD_OK);
	assert_int_equal(nseg, 1);
	assert_int_equal(lens[0], outlen);
	fi = parse_ok(out, lens[0]);
	assert_true(ref_l4_ok(out, &fi, NULL, fi.l4_len));
	complete_csum(p.b, outlen, &vh);
	assert_memory_equal(out, p.b, outlen);
	/* Without NEEDS_CSUM it is a plain copy. */
	memset(&vh, 0, sizeof(vh));
	assert_int_equal(offload_segment(p.b, p.n, &vh, out, sizeof(out),
	    lens, 2, &nseg), OFFLOAD_OK);
	assert_memory_equal(out, p.b, outlen);
}

/* Random TCP frames of every shape through prepare and segment. */
static size_t
build_random(struct pkt *p, uint32_t *seed)
{
	size_t	 nvlan = xorshift(seed) % 3, opt = xorshift(seed) % 11;
	size_t	 topt = xorshift(seed) % 11, pay, maxpay, next, l3, i;
	int	 v6 = xorshift(seed) % 2;

	eth(p, nvlan > 0 ? 0x88a8 : v6 ? 0x86dd : 0x0800);
	for (i = 0; i < nvlan; i++)
		vlan(p, (uint16_t)xorshift(seed),
		    i + 1 < nvlan ? 0x8100 : v6 ? 0x86dd : 0x0800);
	l3 = v6 ? ipv6(p, opt % 4 ? 60 : 6, ip6_b) : ipv4(p, 6, 9, opt);
	for (i = 0; v6 && i < opt % 4; i++) {
		next = i + 1 < opt % 4 ? 60 : 6;
		p8(p, (uint8_t)next);
		p8(p, (uint8_t)(opt / 4));
		pfill(p, 0, 6 + opt / 4 * 8);
	}
	tcp(p, xorshift(seed), (uint8_t)xorshift(seed), topt);
	maxpay = 65535 - (p->n - l3) + (v6 ? 40 : 0);
	pay = xorshift(seed) % 4 == 0 ? maxpay : xorshift(seed) % maxpay;
	ppattern(p, pay);
	if (v6)
		ipv6_end(p, l3, p->n);
	else
		ipv4_end(p, l3, p->n);
	make_partial(p, 16);
	return l3;
}

/* Segments of size payload bytes that fi's payload makes. */
static size_t
floor_segs(const struct frame_info *fi, size_t size)
{
	return (fi->l3_end - fi->payload_off + size - 1) / size;
}

static void
check_random_tcp(struct pkt *p, size_t mtu)
{
	struct frame_info	 fi = parse_ok(p->b, p->n);
	struct virtio_net_hdr	 vh;
	size_t			 outlen, hdrs;
	int			 rc;

	hdrs = fi.payload_off - fi.l3_off;
	rc = offload_prepare(p->b, p->n, mtu, &vh, &outlen);
	if (fi.l3_end - fi.l3_off <= mtu) {
		assert_int_equal(rc, OFFLOAD_OK);
		assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		complete_csum(p->b, outlen, &vh);
		assert_true(ref_l4_ok(p->b, &fi, NULL, fi.l4_len));
	} else if (mtu <= hdrs) {
		assert_int_equal(rc, -OFFLOAD_E_MTU);
	} else if (floor_segs(&fi, mtu - hdrs) > OFFLOAD_SEG_MAX) {
		assert_int_equal(rc, -OFFLOAD_E_FLOOR);
		assert_vh_zero(&vh);
	} else {
		assert_int_equal(rc, mtu - hdrs < OFFLOAD_GSO_MIN_SIZE ||
		    floor_segs(&fi, mtu - hdrs) > OFFLOAD_GSO_MAX_SEGS ?
		    OFFLOAD_SEGMENT : OFFLOAD_OK);
		assert_int_equal(vh.gso_size, mtu - hdrs);
		assert_int_equal(vh.hdr_len, fi.payload_off);
		assert_int_equal(vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN,
		    fi.l3 == FRAME_L3_IPV4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
		    VIRTIO_NET_HDR_GSO_TCPV6);
		assert_int_equal((vh.gso_type & VIRTIO_NET_HDR_GSO_ECN) != 0,
		    (fi.tcp_flags & TH_CWR) != 0);
		segment_and_check(p->b, outlen, mtu, &vh, NULL);
	}
}

static void
test_random_tcp(void **state)
{
	struct pkt	*p = malloc(sizeof(*p));
	uint32_t	 seed = 0xc0ffee;
	size_t		 i, mtu;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < 300; i++) {
		build_random(p, &seed);
		switch (xorshift(&seed) % 4) {
		case 0:
			mtu = 1500;
			break;
		case 1:	/* around the smallest workable MTU */
			mtu = 60 + 60 + xorshift(&seed) % 200;
			mtu = mtu > 180 ? mtu : xorshift(&seed) % 140;
			break;
		default:
			mtu = 576 + xorshift(&seed) % 9000;
			break;
		}
		check_random_tcp(p, mtu);
	}
	free(p);
}

/* Damaged frames: nothing may crash, and prepare's word is kept. */
static void
check_mutated(struct pkt *p, size_t mtu)
{
	struct virtio_net_hdr	 vh;
	struct frame_info	 fi;
	size_t			 outlen, need, maxseg, nseg, i, sum;
	size_t			*lens;
	uint8_t			*out;

	int			 rc;

	if ((rc = offload_prepare(p->b, p->n, mtu, &vh, &outlen)) < 0) {
		assert_vh_zero(&vh);
		assert_int_equal(outlen, 0);
		return;
	}
	assert_true(outlen <= p->n);
	if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		assert_int_equal(rc, OFFLOAD_OK);
		return;
	}
	fi = parse_ok(p->b, outlen);
	seg_need(&fi, &vh, &need, &maxseg);
	/* What the kernel may be given, and what userspace may make. */
	if (rc == OFFLOAD_OK)
		assert_true(vh.gso_size >= OFFLOAD_GSO_MIN_SIZE &&
		    maxseg <= OFFLOAD_GSO_MAX_SEGS);
	else
		assert_true(rc == OFFLOAD_SEGMENT &&
		    (vh.gso_size < OFFLOAD_GSO_MIN_SIZE ||
		    maxseg > OFFLOAD_GSO_MAX_SEGS) && maxseg <= OFFLOAD_SEG_MAX);
	out = malloc(need);
	lens = calloc(maxseg, sizeof(*lens));
	assert_true(out != NULL && lens != NULL);
	assert_int_equal(offload_segment(p->b, outlen, &vh, out, need, lens,
	    maxseg, &nseg), OFFLOAD_OK);
	for (i = 0, sum = 0; i < nseg; i++) {
		assert_true(lens[i] <= mtu + fi.l3_off);
		sum += lens[i] - fi.payload_off;
	}
	assert_int_equal(sum, fi.l3_end - fi.payload_off);
	free(out);
	free(lens);
}

static void
test_random_mutations(void **state)
{
	struct pkt	*p = malloc(sizeof(*p));
	uint32_t	 seed = 0xfeed;
	size_t		 i, k, l3, span;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < 3000; i++) {
		l3 = build_random(p, &seed);
		/* Aim at the headers, where the decisions are made. */
		span = p->n < l3 + 160 ? p->n : l3 + 160;
		for (k = xorshift(&seed) % 3 + 1; k > 0; k--)
			p->b[xorshift(&seed) % span] = (uint8_t)xorshift(&seed);
		if (xorshift(&seed) % 8 == 0)
			p->n = xorshift(&seed) % (p->n + 1);
		check_mutated(p, 200 + xorshift(&seed) % 9000);
	}
	free(p);
}

/*
 * IPv6 to ip6_b with n destination options headers of hl 8-byte units
 * each (long extension headers), then TCP with paylen bytes.
 */
static void
build_longext6(struct pkt *p, size_t n, size_t hl, size_t paylen)
{
	size_t	 l3, i;

	eth(p, 0x86dd);
	l3 = ipv6(p, 60, ip6_b);
	for (i = 0; i < n; i++) {
		p8(p, i + 1 < n ? 60 : 6);
		p8(p, (uint8_t)(hl - 1));
		pfill(p, 1, 6);		/* two PadN options, then Pad1s */
		pfill(p, 0, (hl - 1) * 8);
	}
	tcp(p, 7, TH_ACK, 0);
	ppattern(p, paylen);
	ipv6_end(p, l3, p->n);
	make_partial(p, 16);
}

/*
 * The GSO floor (offload.h): segments under 536 bytes or more than 64
 * of them are never for the kernel; cut here up to 128, else refused.
 */
static void
test_gso_floor(void **state)
{
	struct pkt		*p = malloc(sizeof(*p));
	struct virtio_net_hdr	 vh;
	size_t			 outlen;

	(void)state;
	assert_non_null(p);
	/* 2 x 512 bytes of options: 1500 - 40 - 1024 - 20 = 416 a segment. */
	build_longext6(p, 2, 64, 65535 - 1024 - 20);
	expect_error(p, 1500, -OFFLOAD_E_FLOOR);
	build_longext6(p, 2, 64, 416 * 128);
	assert_int_equal(offload_prepare(p->b, p->n, 1500, &vh, &outlen),
	    OFFLOAD_SEGMENT);
	assert_vh(&vh, VIRTIO_NET_HDR_GSO_TCPV6, 416, 14 + 40 + 1024 + 20,
	    14 + 40 + 1024);
	assert_int_equal(segment_and_check(p->b, outlen, 1500, &vh, NULL),
	    128);
	build_longext6(p, 2, 64, 416 * 128 + 1);
	expect_error(p, 1500, -OFFLOAD_E_FLOOR);
	/* A jumbo MTU does not excuse it: 9000 - 8000 - 60 = 940 is fine. */
	build_longext6(p, 8, 125, 30000);
	assert_int_equal(offload_prepare(p->b, p->n, 9000, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(vh.gso_size, 940);
	build_longext6(p, 8, 125, 30000);
	assert_int_equal(offload_prepare(p->b, p->n, 8500, &vh, &outlen),
	    OFFLOAD_SEGMENT);
	assert_int_equal(vh.gso_size, 440);
	assert_int_equal(segment_and_check(p->b, outlen, 8500, &vh, NULL),
	    69);

	/* IPv4, 40 bytes of headers: the edges of each bound. */
	build_tcp4(p, 536 * 64, TH_ACK, 0);
	make_partial(p, 16);
	assert_int_equal(offload_prepare(p->b, p->n, 576, &vh, &outlen),
	    OFFLOAD_OK);
	assert_int_equal(vh.gso_size, 536);
	build_tcp4(p, 536 * 64 + 1, TH_ACK, 0);
	make_partial(p, 16);
	assert_int_equal(offload_prepare(p->b, p->n, 576, &vh, &outlen),
	    OFFLOAD_SEGMENT);
	assert_int_equal(segment_and_check(p->b, outlen, 576, &vh, NULL), 65);
	build_tcp4(p, 535 * 2, TH_ACK, 0);
	make_partial(p, 16);
	assert_int_equal(offload_prepare(p->b, p->n, 575, &vh, &outlen),
	    OFFLOAD_SEGMENT);
	assert_int_equal(segment_and_check(p->b, outlen, 575, &vh, NULL), 2);
	/* A plain 64 KiB super-frame on a small MTU: cut here, not lost. */
	build_tcp4(p, 65535 - 40, TH_ACK, 0);
	make_partial(p, 16);
	assert_int_equal(offload_prepare(p->b, p->n, 576, &vh, &outlen),
	    OFFLOAD_SEGMENT);
	assert_int_equal(segment_and_check(p->b, outlen, 576, &vh, NULL),
	    123);
	/* Tiny segments, many of them: refused before anything is written. */
	build_tcp4(p, 100 * 128 + 1, TH_ACK, 0);
	make_partial(p, 16);
	expect_error(p, 140, -OFFLOAD_E_FLOOR);
	free(p);
}

static void
test_strerror(void **state)
{
	int	 i, j;

	(void)state;
	for (i = 0; i < OFFLOAD_E_MAX; i++) {
		assert_string_equal(offload_strerror(-i), offload_strerror(i));
		for (j = 0; j < i; j++)
			assert_string_not_equal(offload_strerror(-i),
			    offload_strerror(-j));
	}
	assert_string_equal(offload_strerror(OFFLOAD_E_MAX),
	    offload_strerror(-99));
	assert_string_not_equal(offload_strerror(-OFFLOAD_E_MAX),
	    offload_strerror(-OFFLOAD_E_SPACE));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_rfc1071),
		cmocka_unit_test(test_csum_ipv4_header),
		cmocka_unit_test(test_csum_pseudo),
		cmocka_unit_test(test_csum_large),
		cmocka_unit_test(test_udp_known_answer),
		cmocka_unit_test(test_tcp6_known_answer),
		cmocka_unit_test(test_tcp_partial),
		cmocka_unit_test(test_tcp_complete_stays_valid),
		cmocka_unit_test(test_padding_cut),
		cmocka_unit_test(test_udp4_partial),
		cmocka_unit_test(test_udp6_partial),
		cmocka_unit_test(test_udp_short_length),
		cmocka_unit_test(test_udp4_no_checksum),
		cmocka_unit_test(test_udp_zero_becomes_ffff),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_gso_floor),
		cmocka_unit_test(test_fragment_untouched),
		cmocka_unit_test(test_parse_error),
		cmocka_unit_test(test_icmpv6_untouched),
		cmocka_unit_test(test_gso_ipv4),
		cmocka_unit_test(test_gso_ipv4_no_cwr),
		cmocka_unit_test(test_gso_ipv6),
		cmocka_unit_test(test_gso_ipv6_ecn),
		cmocka_unit_test(test_mtu_boundary),
		cmocka_unit_test(test_gso_ipv4_options),
		cmocka_unit_test(test_routing_header),
		cmocka_unit_test(test_segment_space),
		cmocka_unit_test(test_segment_bad_vh),
		cmocka_unit_test(test_segment_one),
		cmocka_unit_test(test_random_tcp),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

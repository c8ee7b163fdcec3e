/* SPDX-License-Identifier: ISC */
/* lib/tcpmerge.c: which segments join, and what the joined frame says. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "lib/bytes.h"
#include "lib/csum.h"
#include "lib/frame.h"
#include "lib/tcpmerge.h"
#include "tests/unit/pkt.h"

static const uint8_t ip6_a[16] = { 0xfd, 0, [15] = 1 };
static const uint8_t ip6_b[16] = { 0xfd, 0, [15] = 2 };

/* An IPv4 TCP segment of n payload bytes of value fill. */
static void
seg4(struct pkt *p, uint32_t seq, uint8_t flags, size_t n, uint8_t fill,
    size_t opts)
{
	size_t	 l3;

	p->n = 0;
	pbytes(p, mac_b, 6);
	pbytes(p, mac_a, 6);
	p16(p, 0x0800);
	l3 = pkt_ipv4(p, 6, 0, 7, ip_a, ip_b, 0);
	pkt_tcp(p, 80, seq, flags, 512, opts);
	pfill(p, fill, n);
	set16(p, l3 + 2, (uint16_t)(p->n - l3));
}

static void
seg6(struct pkt *p, uint32_t seq, uint8_t flags, size_t n, uint8_t fill)
{
	size_t	 l3;

	p->n = 0;
	pbytes(p, mac_b, 6);
	pbytes(p, mac_a, 6);
	p16(p, 0x86dd);
	l3 = pkt_ipv6(p, 6, 64, ip6_a, ip6_b);
	pkt_tcp(p, 80, seq, flags, 512, 0);
	pfill(p, fill, n);
	set16(p, l3 + 4, (uint16_t)(p->n - l3 - 40));
}

static struct pkt	 A, B;

/* Three in-order segments join into one whose payload is theirs. */
static void
test_join_v4(void **state)
{
	struct frame_info	 fi;
	size_t			 n;

	(void)state;
	seg4(&A, 1000, 0x10, 1400, 'a', 3);
	n = A.n;
	seg4(&B, 2400, 0x10, 1400, 'b', 3);
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 1);
	seg4(&B, 3800, 0x18, 100, 'c', 3);
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 1);
	assert_int_equal(frame_parse(A.b, n, &fi), 0);
	assert_int_equal(fi.l3_end, n);
	assert_int_equal(get_be16(A.b + 14 + 2), 20 + 32 + 2900);
	assert_int_equal(fi.tcp_flags, 0x18);		/* PSH carried over */
	assert_int_equal(get_be32(A.b + fi.l4_off + 4), 1000);
	assert_int_equal(A.b[fi.payload_off], 'a');
	assert_int_equal(A.b[fi.payload_off + 1400], 'b');
	assert_int_equal(A.b[fi.payload_off + 2800], 'c');
	/* The IPv4 header checksum is right for the new length. */
	assert_int_equal(csum_fold(csum_add(0, A.b + 14, 20)), 0xffff);
}

static void
test_join_v6(void **state)
{
	size_t	 n;

	(void)state;
	seg6(&A, 5, 0x10, 1000, 'a');
	n = A.n;
	seg6(&B, 1005, 0x10, 1000, 'b');
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 1);
	assert_int_equal(get_be16(A.b + 14 + 4), 20 + 2000);
	assert_int_equal(n, 14 + 40 + 20 + 2000);
}

/* Each difference that keeps two segments apart. */
static void
test_refuse(void **state)
{
	size_t	 n, i;
	struct { size_t off; uint8_t x; } d[] = {
		{ 0, 1 },		/* destination MAC */
		{ 14 + 1, 4 },		/* TOS */
		{ 14 + 6, 0x40 },	/* DF */
		{ 14 + 8, 1 },		/* TTL */
		{ 14 + 15, 1 },		/* source address */
		{ 34 + 1, 1 },		/* source port */
		{ 34 + 8, 1 },		/* acknowledgement */
		{ 34 + 15, 1 },		/* window */
		{ 34 + 21, 1 },		/* an option byte */
	};

	(void)state;
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		seg4(&A, 1000, 0x10, 100, 'a', 2);
		n = A.n;
		seg4(&B, 1100, 0x10, 100, 'b', 2);
		B.b[d[i].off] ^= d[i].x;
		assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 0);
		assert_int_equal(n, A.n);
	}
	/* Not the next sequence number: a gap, an overlap. */
	seg4(&A, 1000, 0x10, 100, 'a', 0);
	n = A.n;
	seg4(&B, 1101, 0x10, 100, 'b', 0);
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 0);
	seg4(&B, 1099, 0x10, 100, 'b', 0);
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 0);
}

/* Flags: a must be ACK alone, b ACK or ACK|PSH; no empty segment. */
static void
test_flags(void **state)
{
	const uint8_t	 bad_a[] = { 0x18, 0x11, 0x12, 0x14, 0x30, 0x50, 0x90 };
	const uint8_t	 bad_b[] = { 0x11, 0x12, 0x14, 0x30, 0x50, 0x90, 0x08 };
	size_t		 n, i;

	(void)state;
	for (i = 0; i < sizeof(bad_a); i++) {
		seg4(&A, 1000, bad_a[i], 100, 'a', 0);
		n = A.n;
		seg4(&B, 1100, 0x10, 100, 'b', 0);
		assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 0);
	}
	for (i = 0; i < sizeof(bad_b); i++) {
		seg4(&A, 1000, 0x10, 100, 'a', 0);
		n = A.n;
		seg4(&B, 1100, bad_b[i], 100, 'b', 0);
		assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 0);
	}
	seg4(&A, 1000, 0x10, 0, 'a', 0);
	n = A.n;
	seg4(&B, 1000, 0x10, 100, 'b', 0);
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 0);
	seg4(&A, 1000, 0x10, 100, 'a', 0);
	n = A.n;
	seg4(&B, 1100, 0x10, 0, 'b', 0);
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 0);
}

/* No room, IP's 16-bit length, other families, a fragment, padding. */
static void
test_limits(void **state)
{
	size_t	 n;

	(void)state;
	seg4(&A, 1000, 0x10, 1400, 'a', 0);
	n = A.n;
	seg4(&B, 2400, 0x10, 1400, 'b', 0);
	assert_int_equal(tcpmerge(A.b, &n, A.n + 1399, B.b, B.n), 0);
	assert_int_equal(tcpmerge(A.b, &n, A.n + 1400, B.b, B.n), 1);
	seg4(&A, 1000, 0x10, 65535 - 40, 'a', 0);
	n = A.n;
	seg4(&B, 1000 + 65495, 0x10, 1, 'b', 0);
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 0);
	/* IPv4 after IPv6 */
	seg6(&A, 1000, 0x10, 100, 'a');
	n = A.n;
	seg4(&B, 1100, 0x10, 100, 'b', 0);
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 0);
	/* A fragment (MF set) is never joined. */
	seg4(&A, 1000, 0x10, 100, 'a', 0);
	n = A.n;
	seg4(&B, 1100, 0x10, 100, 'b', 0);
	A.b[14 + 6] |= 0x20;
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 0);
	/* Ethernet padding after a's datagram is cut, not carried. */
	seg4(&A, 1000, 0x10, 2, 'a', 0);
	pfill(&A, 0, 4);
	n = A.n;
	seg4(&B, 1002, 0x10, 3, 'b', 0);
	assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), B.b, B.n), 1);
	assert_int_equal(n, 14 + 20 + 20 + 5);
	assert_int_equal(A.b[n - 1], 'b');
}

/* Truncated input at every length: never read outside, never joined. */
static void
test_truncated(void **state)
{
	uint8_t	*b;
	size_t	 n, len;

	(void)state;
	seg4(&A, 1000, 0x10, 20, 'a', 1);
	seg4(&B, 1020, 0x10, 20, 'b', 1);
	for (len = 0; len < B.n; len++) {
		b = malloc(len ? len : 1);
		assert_non_null(b);
		memcpy(b, B.b, len);
		n = A.n;
		assert_int_equal(tcpmerge(A.b, &n, sizeof(A.b), b, len), 0);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_v4),
		cmocka_unit_test(test_join_v6),
		cmocka_unit_test(test_refuse),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

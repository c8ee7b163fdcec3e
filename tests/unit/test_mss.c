/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for MSS clamping (lib/mss.c): which SYNs are lowered and
 * which frames are left exactly as they came, and a checksum that still
 * verifies when recomputed from scratch. Frames under test are
 * exact-size heap copies, so ASan sees any access past their end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/mss.h"
#include "tests/unit/pkt.h"

#define SYN		0x02
#define ACK		0x10
#define MSS4		1400
#define MSS6		1380

static const uint8_t ip6_a[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 1 };
static const uint8_t ip6_b[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 2 };

/* Options: MSS 1460, SACK permitted, timestamps, NOP, window scale. */
static const uint8_t opt_std[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10,
    1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7 };

struct shape {
	int		 v6;
	int		 tag;		/* one 802.1Q tag */
	uint8_t		 flags;
	const uint8_t	*opt;
	size_t		 optlen;	/* a multiple of 4 */
	size_t		 paylen;
};

/* Where the builder put things. */
struct where {
	size_t		 l3, l4;
};

/* RFC 1071 byte by byte, independent of lib/csum.c. */
static uint32_t
ref_sum(uint32_t s, const uint8_t *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		s += i % 2 == 0 ? (uint32_t)b[i] << 8 : b[i];
	return s;
}

static uint16_t
ref_fold(uint32_t s)
{
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The TCP checksum over pseudo-header and segment, from scratch. */
static uint16_t
tcp_sum(const uint8_t *f, const struct where *w, int v6)
{
	size_t		 l4len;
	uint32_t	 s;

	if (v6) {
		l4len = get_be16(f + w->l3 + 4);
		s = ref_sum(0, f + w->l3 + 8, 32);
	} else {
		l4len = get_be16(f + w->l3 + 2) - (size_t)(f[w->l3] & 15) * 4;
		s = ref_sum(0, f + w->l3 + 12, 8);
	}
	s += 6 + (uint32_t)l4len;
	return ref_fold(ref_sum(s, f + w->l4, l4len));
}

static void
build(struct pkt *p, const struct shape *sh, struct where *w)
{
	size_t	 i;

	memset(p, 0, sizeof(*p));
	pbytes(p, mac_b, 6);
	pbytes(p, mac_a, 6);
	if (sh->tag) {
		p16(p, 0x8100);
		p16(p, 0x2064);
	}
	p16(p, sh->v6 ? 0x86dd : 0x0800);
	w->l3 = sh->v6 ? pkt_ipv6(p, 6, 64, ip6_a, ip6_b) :
	    pkt_ipv4(p, 6, 0, 0x1234, ip_a, ip_b, 0);
	w->l4 = p->n;
	pkt_tcp(p, 443, 0x11223344, sh->flags, 64240, sh->optlen / 4);
	memcpy(p->b + w->l4 + 20, sh->opt, sh->optlen);
	for (i = 0; i < sh->paylen; i++)
		p8(p, (uint8_t)(i * 3 + 1));
	if (sh->v6)
		set16(p, w->l3 + 4, (uint16_t)(p->n - w->l4));
	else
		set16(p, w->l3 + 2, (uint16_t)(p->n - w->l3));
	set16(p, w->l4 + 16, (uint16_t)~tcp_sum(p->b, w, sh->v6));
	assert_int_equal(tcp_sum(p->b, w, sh->v6), 0xffff);
}

/* mss_clamp on an exact-size copy of f[0..len); the result in out. */
static int
clamp(const uint8_t *f, size_t len, uint8_t *out)
{
	uint8_t	*q = malloc(len ? len : 1);
	int	 rv;

	assert_non_null(q);
	memcpy(q, f, len);
	rv = mss_clamp(q, len, MSS4, MSS6);
	memcpy(out, q, len);
	free(q);
	return rv;
}

/*
 * A clamped frame differs from the original only in the MSS values at
 * the offsets listed (TCP header) and in the checksum, which verifies.
 */
static void
check_clamped(const struct pkt *p, const struct where *w, int v6,
    const size_t *at, size_t nat, uint16_t want)
{
	static struct pkt	 o;
	size_t			 i;

	assert_int_equal(clamp(p->b, p->n, o.b), 1);
	assert_int_equal(tcp_sum(o.b, w, v6), 0xffff);
	for (i = 0; i < nat; i++) {
		assert_int_equal(get_be16(o.b + w->l4 + at[i]), want);
		put_be16(o.b + w->l4 + at[i], get_be16(p->b + w->l4 + at[i]));
	}
	o.b[w->l4 + 16] = p->b[w->l4 + 16];
	o.b[w->l4 + 17] = p->b[w->l4 + 17];
	/* Only the MSS values changed (then the checksum, undone above). */
	assert_memory_equal(o.b, p->b, p->n);
}

static void
check_clamp_verifies(const struct pkt *p, const struct where *w, int v6)
{
	static struct pkt	 o;

	assert_int_equal(clamp(p->b, p->n, o.b), 1);
	assert_int_equal(tcp_sum(o.b, w, v6), 0xffff);
}

static void
check_untouched(const struct pkt *p)
{
	static struct pkt	 o;

	assert_int_equal(clamp(p->b, p->n, o.b), 0);
	assert_memory_equal(o.b, p->b, p->n);
}

static void
test_for_frame(void **state)
{
	(void)state;
	assert_int_equal(mss_for_frame(1514, 0), 1460);
	assert_int_equal(mss_for_frame(1514, 1), 1440);
	assert_int_equal(mss_for_frame(1440, 0), 1386);
	assert_int_equal(mss_for_frame(55, 0), 1);
	assert_int_equal(mss_for_frame(54, 0), 0);
	assert_int_equal(mss_for_frame(75, 1), 1);
	assert_int_equal(mss_for_frame(74, 1), 0);
	assert_int_equal(mss_for_frame(0, 1), 0);
	assert_int_equal(mss_for_frame(100000, 0), 65535);
}

static void
clamp_shape(int v6, int tag, uint8_t flags)
{
	struct shape	 sh = { v6, tag, flags, opt_std, sizeof(opt_std),
			    0 };
	struct pkt	*p = malloc(sizeof(*p));
	struct where	 w;
	size_t		 at = 22;

	assert_non_null(p);
	build(p, &sh, &w);
	check_clamped(p, &w, v6, &at, 1, v6 ? MSS6 : MSS4);
	/* Ethernet padding after the IP packet changes nothing. */
	pfill(p, 0, 30);
	check_clamped(p, &w, v6, &at, 1, v6 ? MSS6 : MSS4);
	free(p);
}

static void
test_clamp_syn(void **state)
{
	(void)state;
	clamp_shape(0, 0, SYN);
	clamp_shape(1, 0, SYN);
	clamp_shape(0, 1, SYN);
	clamp_shape(1, 1, SYN);
	clamp_shape(0, 0, SYN | ACK);
	clamp_shape(1, 1, SYN | ACK);
}

static void
test_untouched(void **state)
{
	static const uint8_t no_mss[] = { 1, 1, 4, 2, 1, 3, 3, 7 };
	static const uint8_t low[] = { 2, 4, 0x05, 0x14, 1, 1, 1, 0 };
	static const uint8_t equal[] = { 2, 4, 0x05, 0x78, 0, 0, 0, 0 };
	struct shape	 sh = { 0, 0, SYN, opt_std, sizeof(opt_std), 0 };
	struct pkt	*p = malloc(sizeof(*p));
	struct where	 w;

	(void)state;
	assert_non_null(p);
	sh.opt = no_mss;
	sh.optlen = sizeof(no_mss);
	build(p, &sh, &w);
	check_untouched(p);
	sh.opt = low;			/* 1300 */
	build(p, &sh, &w);
	check_untouched(p);
	sh.opt = equal;			/* 1400 */
	build(p, &sh, &w);
	check_untouched(p);
	sh.opt = opt_std;
	sh.optlen = sizeof(opt_std);
	sh.flags = ACK;
	sh.paylen = 100;
	build(p, &sh, &w);
	check_untouched(p);
	/* IPv4 fragments: more fragments, or an offset. */
	sh.flags = SYN;
	build(p, &sh, &w);
	check_clamp_verifies(p, &w, 0);		/* not yet a fragment */
	set16(p, w.l3 + 6, 0x2000);
	check_untouched(p);
	set16(p, w.l3 + 6, 0x0001);
	check_untouched(p);
	/* Not TCP; IPv6 with an extension header first; not IP. */
	build(p, &sh, &w);
	p->b[w.l3 + 9] = 17;
	check_untouched(p);
	sh.v6 = 1;
	build(p, &sh, &w);
	p->b[w.l3 + 6] = 0;
	check_untouched(p);
	build(p, &sh, &w);
	set16(p, 12, 0x0806);
	check_untouched(p);
	/* Two tags (802.1ad outside): not what mss_clamp looks into. */
	sh.tag = 1;
	build(p, &sh, &w);
	set16(p, 12, 0x88a8);
	check_untouched(p);
	free(p);
}

static void
test_bad_headers(void **state)
{
	struct shape	 sh = { 0, 0, SYN, opt_std, sizeof(opt_std), 0 };
	struct pkt	*p = malloc(sizeof(*p));
	struct where	 w;

	(void)state;
	assert_non_null(p);
	build(p, &sh, &w);
	p->b[w.l3] = 0x44;		/* IHL 4 */
	check_untouched(p);
	p->b[w.l3] = 0x65;		/* version 6 in an IPv4 ethertype */
	check_untouched(p);
	build(p, &sh, &w);
	set16(p, w.l3 + 2, (uint16_t)(p->n - w.l3 + 1));  /* past the end */
	check_untouched(p);
	set16(p, w.l3 + 2, 19);		/* shorter than its header */
	check_untouched(p);
	set16(p, w.l3 + 2, 20 + 19);	/* no room for a TCP header */
	check_untouched(p);
	build(p, &sh, &w);
	p->b[w.l4 + 12] = 0x40;		/* data offset 4 */
	check_untouched(p);
	p->b[w.l4 + 12] = 0xf0;		/* 60 bytes: past the segment */
	check_untouched(p);
	sh.v6 = 1;
	build(p, &sh, &w);
	set16(p, w.l3 + 4, (uint16_t)(p->n - w.l4 + 1));
	check_untouched(p);
	set16(p, w.l3 + 4, 0);		/* a jumbogram's */
	check_untouched(p);
	p->b[w.l3] = 0x40;
	check_untouched(p);
	free(p);
}

/* Malformed option lists leave the frame alone, even after an MSS. */
static void
test_bad_options(void **state)
{
	static const uint8_t bad[][8] = {
		{ 2, 4, 0x05, 0xb4, 8, 0, 0, 0 },	/* length 0 */
		{ 2, 4, 0x05, 0xb4, 8, 1, 0, 0 },	/* length 1 */
		{ 2, 4, 0x05, 0xb4, 8, 5, 0, 0 },	/* runs past */
		{ 2, 4, 0x05, 0xb4, 1, 1, 1, 8 },	/* no length byte */
		{ 2, 3, 0x05, 1, 1, 1, 1, 1 },	/* MSS of length 3 */
		{ 2, 5, 0x05, 0xb4, 1, 1, 1, 1 },	/* MSS of length 5 */
		{ 1, 1, 1, 1, 1, 2, 4, 0x05 },	/* MSS runs past */
	};
	struct shape	 sh = { 0, 0, SYN, NULL, 8, 0 };
	struct pkt	*p = malloc(sizeof(*p));
	struct where	 w;
	size_t		 i;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sh.opt = bad[i];
		build(p, &sh, &w);
		check_untouched(p);
	}
	free(p);
}

/* Odd offsets, two MSS options, EOL, and the checksum's corner cases. */
static void
test_option_walk(void **state)
{
	static const uint8_t odd[] = { 1, 2, 4, 0x05, 0xb4, 1, 1, 1 };
	static const uint8_t two[] = { 2, 4, 0x05, 0xb4, 1, 2, 4, 0x23,
	    0x28, 0, 0, 0 };
	static const uint8_t eol[] = { 1, 0, 2, 4, 0x05, 0xb4, 0, 0 };
	static const size_t at_odd = 23, at_two[] = { 22, 27 };
	struct shape	 sh = { 0, 0, SYN, odd, sizeof(odd), 0 };
	struct pkt	*p = malloc(sizeof(*p));
	struct where	 w;
	uint32_t	 v;

	(void)state;
	assert_non_null(p);
	build(p, &sh, &w);
	check_clamped(p, &w, 0, &at_odd, 1, MSS4);
	sh.opt = two;
	sh.optlen = sizeof(two);
	sh.v6 = 1;
	build(p, &sh, &w);
	check_clamped(p, &w, 1, at_two, 2, MSS6);
	sh.opt = eol;		/* an MSS after the end of the list */
	sh.optlen = sizeof(eol);
	build(p, &sh, &w);
	check_untouched(p);
	/*
	 * Old values across the range, at an odd offset, half of them with
	 * a checksum of 0x0000 (a payload word chosen to make it so).
	 */
	sh.opt = odd;
	sh.optlen = sizeof(odd);
	sh.v6 = 0;
	sh.paylen = 2;
	for (v = MSS4 + 1; v <= 0xffff; v += 97) {
		build(p, &sh, &w);
		put_be16(p->b + w.l4 + 23, (uint16_t)v);
		set16(p, w.l4 + 16, 0);
		if (v % 2)
			set16(p, w.l4 + 28, ref_fold(get_be16(p->b + w.l4 +
			    28) + (uint16_t)~tcp_sum(p->b, &w, 0)));
		set16(p, w.l4 + 16, (uint16_t)~tcp_sum(p->b, &w, 0));
		assert_int_equal(tcp_sum(p->b, &w, 0), 0xffff);
		if (v % 2)
			assert_int_equal(get_be16(p->b + w.l4 + 16), 0);
		check_clamp_verifies(p, &w, 0);
	}
	free(p);
}

/* Cut short anywhere: never touched, never read past its end. */
static void
test_truncated(void **state)
{
	struct shape	 sh = { 0, 0, SYN, opt_std, sizeof(opt_std), 10 };
	struct pkt	*p = malloc(sizeof(*p));
	static uint8_t	 o[PKT_MAX];
	struct where	 w;
	size_t		 len;
	int		 k;

	(void)state;
	assert_non_null(p);
	for (k = 0; k < 4; k++) {
		sh.v6 = k & 1;
		sh.tag = k >> 1;
		build(p, &sh, &w);
		for (len = 0; len < p->n; len++) {
			assert_int_equal(clamp(p->b, len, o), 0);
			assert_memory_equal(o, p->b, len);
		}
		assert_int_equal(clamp(p->b, len, o), 1);
	}
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_for_frame),
		cmocka_unit_test(test_clamp_syn),
		cmocka_unit_test(test_untouched),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_option_walk),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

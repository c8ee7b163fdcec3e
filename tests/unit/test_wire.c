/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the record codec (lib/wire.c).
 * Inputs under test are copied into heap buffers of exactly the length
 * given, so ASan catches any read past len.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/wire.h"

static const uint8_t mac1[VNET_ETH_ALEN] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

/* An exact-size heap copy, so any overread is an ASan error. */
static uint8_t *
dup_exact(const uint8_t *p, size_t len)
{
	uint8_t	*q = malloc(len ? len : 1);

	assert_non_null(q);
	if (len)
		memcpy(q, p, len);
	return q;
}

/* Only the return value and the header fields may be used after this. */
static ssize_t
decode_exact(const uint8_t *p, size_t len, struct wire_rec *rec)
{
	uint8_t	*q = dup_exact(p, len);
	ssize_t	 n = wire_decode(q, len, rec);

	free(q);
	return n;
}

/* Header only, as a peer announcing a record would send it. */
static ssize_t
decode_hdr(uint8_t type, size_t plen)
{
	uint8_t		hdr[WIRE_HDR_LEN];
	struct wire_rec	rec;

	wire_put_hdr(hdr, type, plen);
	return decode_exact(hdr, sizeof(hdr), &rec);
}

/* A FRAME record with plen bytes of recognizable payload. */
static size_t
make_frame(uint8_t *out, size_t plen)
{
	size_t	i;

	wire_put_hdr(out, WIRE_FRAME, plen);
	for (i = 0; i < plen; i++)
		out[WIRE_HDR_LEN + i] = (uint8_t)(i * 7 + 1);
	return WIRE_HDR_LEN + plen;
}

static void
test_hdr_layout(void **state)
{
	uint8_t	h[WIRE_HDR_LEN];

	(void)state;
	wire_put_hdr(h, WIRE_FRAME, 0x012345);
	assert_int_equal(h[0], WIRE_FRAME);
	assert_int_equal(h[1], 0x01);
	assert_int_equal(h[2], 0x23);
	assert_int_equal(h[3], 0x45);
}

static void
test_hello_roundtrip(void **state)
{
	static uint8_t		 macs[WIRE_HELLO_MAX_MACS * VNET_ETH_ALEN];
	static uint8_t		 buf[WIRE_HDR_LEN + WIRE_HELLO_FIXED +
				    sizeof(macs)];
	const size_t		 counts[] = { 0, 1, 3, WIRE_HELLO_MAX_MACS };
	struct wire_rec		 rec;
	struct wire_hello	 h;
	uint8_t			*q;
	size_t			 i, k, n;
	ssize_t			 len;

	(void)state;
	for (i = 0; i < sizeof(macs); i++)
		macs[i] = (uint8_t)(i * 13);
	for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		n = counts[k];
		len = wire_encode_hello(buf, sizeof(buf), WIRE_ROLE_PROXY,
		    macs, n);
		assert_int_equal(len, WIRE_HDR_LEN + WIRE_HELLO_FIXED +
		    n * VNET_ETH_ALEN);
		assert_memory_equal(buf + WIRE_HDR_LEN, "VNET", 4);
		q = dup_exact(buf, (size_t)len);
		assert_int_equal(wire_decode(q, (size_t)len, &rec), len);
		assert_int_equal(rec.type, WIRE_HELLO);
		assert_int_equal(rec.len, (size_t)len - WIRE_HDR_LEN);
		assert_int_equal(wire_parse_hello(rec.payload, rec.len, &h), 0);
		assert_int_equal(h.version, WIRE_VERSION);
		assert_int_equal(h.role, WIRE_ROLE_PROXY);
		assert_int_equal(h.nmacs, n);
		assert_ptr_equal(h.macs, q + WIRE_HDR_LEN + WIRE_HELLO_FIXED);
		if (n > 0)
			assert_memory_equal(h.macs, macs, n * VNET_ETH_ALEN);
		free(q);
	}
	/* The host role, and a NULL list when there are no MACs. */
	len = wire_encode_hello(buf, sizeof(buf), WIRE_ROLE_HOST, NULL, 0);
	assert_int_equal(len, WIRE_HDR_LEN + WIRE_HELLO_FIXED);
	assert_int_equal(wire_decode(buf, (size_t)len, &rec), len);
	assert_int_equal(wire_parse_hello(rec.payload, rec.len, &h), 0);
	assert_int_equal(h.role, WIRE_ROLE_HOST);
	assert_int_equal(h.nmacs, 0);
}

static void
test_keepalive_roundtrip(void **state)
{
	uint8_t		buf[WIRE_HDR_LEN];
	struct wire_rec	rec;

	(void)state;
	assert_int_equal(wire_encode_keepalive(buf, sizeof(buf)), WIRE_HDR_LEN);
	assert_int_equal(decode_exact(buf, sizeof(buf), &rec), WIRE_HDR_LEN);
	assert_int_equal(rec.type, WIRE_KEEPALIVE);
	assert_int_equal(rec.len, 0);
}

static void
test_close_roundtrip(void **state)
{
	const uint16_t	reasons[] = { WIRE_CLOSE_SHUTDOWN, WIRE_CLOSE_PROTOCOL,
			    WIRE_CLOSE_UNAUTHORIZED, WIRE_CLOSE_TIMEOUT, 0xbeef };
	uint8_t		buf[WIRE_HDR_LEN + 2];
	struct wire_rec	rec;
	uint16_t	reason;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		assert_int_equal(wire_encode_close(buf, sizeof(buf), reasons[i]),
		    sizeof(buf));
		assert_int_equal(wire_decode(buf, sizeof(buf), &rec),
		    sizeof(buf));
		assert_int_equal(rec.type, WIRE_CLOSE);
		assert_int_equal(rec.len, 2);
		reason = 0;
		assert_int_equal(wire_parse_close(rec.payload, rec.len,
		    &reason), 0);
		assert_int_equal(reason, reasons[i]);
	}
	/* Big-endian on the wire. */
	wire_encode_close(buf, sizeof(buf), 0x0102);
	assert_int_equal(buf[4], 1);
	assert_int_equal(buf[5], 2);
}

static void
test_frame_roundtrip(void **state)
{
	const size_t	 sizes[] = { VNET_FRAME_MIN, 60, 1514, VNET_FRAME_MAX };
	uint8_t		*buf = malloc(WIRE_MAX_RECORD);
	struct wire_rec	 rec;
	size_t		 i, n;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = make_frame(buf, sizes[i]);
		assert_int_equal(decode_exact(buf, n, &rec), n);
		assert_int_equal(rec.type, WIRE_FRAME);
		assert_int_equal(rec.len, sizes[i]);
	}
	/* The payload pointer points into the caller's buffer. */
	n = make_frame(buf, 60);
	assert_int_equal(wire_decode(buf, n, &rec), n);
	assert_ptr_equal(rec.payload, buf + WIRE_HDR_LEN);
	free(buf);
}

static void
test_reject_type(void **state)
{
	const uint8_t	bad[] = { 0, 7, 8, 0x7f, 0x80, 0xff };
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad); i++) {
		assert_int_equal(decode_hdr(bad[i], 0), -WIRE_E_TYPE);
		assert_int_equal(decode_hdr(bad[i], 14), -WIRE_E_TYPE);
	}
}

/* Each type's length rules, judged from the 4 header bytes alone. */
static void
test_reject_length(void **state)
{
	const size_t	hello_max = WIRE_HELLO_FIXED +
			    WIRE_HELLO_MAX_MACS * VNET_ETH_ALEN;
	size_t		n;

	(void)state;
	for (n = 0; n < WIRE_HELLO_FIXED; n++)
		assert_int_equal(decode_hdr(WIRE_HELLO, n), -WIRE_E_LENGTH);
	for (n = WIRE_HELLO_FIXED + 1; n < WIRE_HELLO_FIXED + 6; n++)
		assert_int_equal(decode_hdr(WIRE_HELLO, n), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_HELLO, hello_max + 6), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_HELLO, 0xffffff), -WIRE_E_LENGTH);
	/* Allowed lengths only need their payload. */
	assert_int_equal(decode_hdr(WIRE_HELLO, WIRE_HELLO_FIXED), 0);
	assert_int_equal(decode_hdr(WIRE_HELLO, hello_max), 0);

	assert_int_equal(decode_hdr(WIRE_FRAME, 0), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_FRAME, VNET_FRAME_MIN - 1),
	    -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_FRAME, VNET_FRAME_MAX + 1),
	    -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_FRAME, 0xffffff), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_FRAME, VNET_FRAME_MIN), 0);
	assert_int_equal(decode_hdr(WIRE_FRAME, VNET_FRAME_MAX), 0);

	for (n = 1; n < 8; n++)
		assert_int_equal(decode_hdr(WIRE_KEEPALIVE, n), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_KEEPALIVE, 0xffffff), -WIRE_E_LENGTH);

	assert_int_equal(decode_hdr(WIRE_CLOSE, 0), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_CLOSE, 1), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_CLOSE, 3), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_CLOSE, 0xffffff), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_CLOSE, 2), 0);
}

/* A 4-byte buffer announcing a giant record is refused at once. */
static void
test_oversize_header_only(void **state)
{
	uint8_t		hdr[WIRE_HDR_LEN] = { WIRE_FRAME, 0x01, 0x00, 0x41 };
	struct wire_rec	rec;

	(void)state;
	/* 0x010041 = VNET_FRAME_MAX + 1 */
	assert_int_equal(0x010041, VNET_FRAME_MAX + 1);
	assert_int_equal(decode_exact(hdr, sizeof(hdr), &rec), -WIRE_E_LENGTH);
	hdr[1] = hdr[2] = hdr[3] = 0xff;
	assert_int_equal(decode_exact(hdr, sizeof(hdr), &rec), -WIRE_E_LENGTH);
}

static void
test_reject_hello(void **state)
{
	uint8_t			 buf[64];
	uint8_t			*pl = buf + WIRE_HDR_LEN;
	struct wire_hello	 h;
	size_t			 len, n;
	int			 i;

	(void)state;
	len = (size_t)wire_encode_hello(buf, sizeof(buf), WIRE_ROLE_HOST,
	    mac1, 1) - WIRE_HDR_LEN;
	assert_int_equal(wire_parse_hello(pl, len, &h), 0);

	for (n = 0; n < WIRE_HELLO_FIXED; n++)
		assert_int_equal(wire_parse_hello(pl, n, &h), -WIRE_E_LENGTH);

	for (i = 0; i < 4; i++) {
		pl[i] ^= 0x20;
		assert_int_equal(wire_parse_hello(pl, len, &h), -WIRE_E_MAGIC);
		pl[i] ^= 0x20;
	}
	pl[4] = 0;
	assert_int_equal(wire_parse_hello(pl, len, &h), -WIRE_E_VERSION);
	pl[4] = WIRE_VERSION + 1;
	assert_int_equal(wire_parse_hello(pl, len, &h), -WIRE_E_VERSION);
	pl[4] = WIRE_VERSION;
	pl[5] = 0;
	assert_int_equal(wire_parse_hello(pl, len, &h), -WIRE_E_ROLE);
	pl[5] = 3;
	assert_int_equal(wire_parse_hello(pl, len, &h), -WIRE_E_ROLE);
	pl[5] = WIRE_ROLE_HOST;

	/* nmacs disagreeing with the length, either way. */
	pl[7] = 2;
	assert_int_equal(wire_parse_hello(pl, len, &h), -WIRE_E_MACS);
	pl[7] = 0;
	assert_int_equal(wire_parse_hello(pl, len, &h), -WIRE_E_MACS);
	pl[7] = 1;
	assert_int_equal(wire_parse_hello(pl, len - 1, &h), -WIRE_E_MACS);
	assert_int_equal(wire_parse_hello(pl, len, &h), 0);
}

static void
test_reject_hello_too_many(void **state)
{
	const size_t	 n = WIRE_HELLO_MAX_MACS + 1;
	const size_t	 len = WIRE_HELLO_FIXED + n * VNET_ETH_ALEN;
	uint8_t		*pl = calloc(1, len);
	struct wire_hello h;

	(void)state;
	assert_non_null(pl);
	memcpy(pl, WIRE_MAGIC, 4);
	pl[4] = WIRE_VERSION;
	pl[5] = WIRE_ROLE_HOST;
	pl[6] = (uint8_t)(n >> 8);
	pl[7] = (uint8_t)n;
	assert_int_equal(wire_parse_hello(pl, len, &h), -WIRE_E_MACS);
	pl[6] = pl[7] = 0xff;
	assert_int_equal(wire_parse_hello(pl, len, &h), -WIRE_E_MACS);
	free(pl);
}

static void
test_reject_close(void **state)
{
	const uint8_t	p[3] = { 0, 1, 2 };
	uint16_t	reason = 77;

	(void)state;
	assert_int_equal(wire_parse_close(p, 0, &reason), -WIRE_E_LENGTH);
	assert_int_equal(wire_parse_close(p, 1, &reason), -WIRE_E_LENGTH);
	assert_int_equal(wire_parse_close(p, 3, &reason), -WIRE_E_LENGTH);
	assert_int_equal(reason, 77);
}

/* Encoders refuse a short buffer and write nothing past its end. */
static void
test_encode_space(void **state)
{
	const size_t	 need = WIRE_HDR_LEN + WIRE_HELLO_FIXED + 2 * 6;
	uint8_t		 macs[12];
	uint8_t		*out;
	size_t		 n;

	(void)state;
	memcpy(macs, mac1, 6);
	memcpy(macs + 6, mac1, 6);
	for (n = 0; n < need; n++) {
		out = malloc(n ? n : 1);
		assert_non_null(out);
		assert_int_equal(wire_encode_hello(out, n, WIRE_ROLE_HOST,
		    macs, 2), -WIRE_E_SPACE);
		if (n < WIRE_HDR_LEN)
			assert_int_equal(wire_encode_keepalive(out, n),
			    -WIRE_E_SPACE);
		if (n < WIRE_HDR_LEN + 2)
			assert_int_equal(wire_encode_close(out, n, 1),
			    -WIRE_E_SPACE);
		free(out);
	}
	out = malloc(need);
	assert_non_null(out);
	assert_int_equal(wire_encode_hello(out, need, WIRE_ROLE_HOST, macs, 2),
	    need);
	free(out);
}

/* The encoder never builds a hello the decoder would refuse. */
static void
test_encode_hello_invalid(void **state)
{
	static uint8_t	out[WIRE_MAX_RECORD];
	static uint8_t	macs[(WIRE_HELLO_MAX_MACS + 1) * VNET_ETH_ALEN];

	(void)state;
	assert_int_equal(wire_encode_hello(out, sizeof(out), 0, mac1, 1),
	    -WIRE_E_ROLE);
	assert_int_equal(wire_encode_hello(out, sizeof(out), 3, mac1, 1),
	    -WIRE_E_ROLE);
	assert_int_equal(wire_encode_hello(out, sizeof(out), WIRE_ROLE_HOST,
	    macs, WIRE_HELLO_MAX_MACS + 1), -WIRE_E_MACS);
}

/* Every proper prefix of a valid record reads as "need more". */
static void
check_all_splits(const uint8_t *rec, size_t len)
{
	struct wire_rec	r;
	size_t		k;

	for (k = 0; k < len; k++)
		assert_int_equal(decode_exact(rec, k, &r), 0);
	assert_int_equal(decode_exact(rec, len, &r), (ssize_t)len);
}

static void
test_partial(void **state)
{
	uint8_t	*buf = malloc(WIRE_MAX_RECORD);
	uint8_t	 macs[3 * VNET_ETH_ALEN] = { 0 };
	ssize_t	 n;

	(void)state;
	assert_non_null(buf);
	n = wire_encode_hello(buf, WIRE_MAX_RECORD, WIRE_ROLE_HOST, macs, 3);
	check_all_splits(buf, (size_t)n);
	n = wire_encode_keepalive(buf, WIRE_MAX_RECORD);
	check_all_splits(buf, (size_t)n);
	n = wire_encode_close(buf, WIRE_MAX_RECORD, WIRE_CLOSE_TIMEOUT);
	check_all_splits(buf, (size_t)n);
	check_all_splits(buf, make_frame(buf, 60));
	check_all_splits(buf, make_frame(buf, VNET_FRAME_MIN));
	free(buf);
}

struct expect {
	uint8_t	type;
	size_t	len;
};

/* Several records back to back, decoded in order. */
static size_t
build_stream(uint8_t *buf, size_t size, struct expect *ex)
{
	size_t	off = 0;
	ssize_t	n;

	n = wire_encode_hello(buf, size, WIRE_ROLE_HOST, mac1, 1);
	ex[0] = (struct expect){ WIRE_HELLO, (size_t)n - WIRE_HDR_LEN };
	off += (size_t)n;
	ex[1] = (struct expect){ WIRE_FRAME, 60 };
	off += make_frame(buf + off, 60);
	n = wire_encode_keepalive(buf + off, size - off);
	ex[2] = (struct expect){ WIRE_KEEPALIVE, 0 };
	off += (size_t)n;
	ex[3] = (struct expect){ WIRE_FRAME, 1514 };
	off += make_frame(buf + off, 1514);
	n = wire_encode_close(buf + off, size - off, WIRE_CLOSE_SHUTDOWN);
	ex[4] = (struct expect){ WIRE_CLOSE, 2 };
	off += (size_t)n;
	return off;
}

static void
test_stream(void **state)
{
	static uint8_t	buf[4096];
	struct expect	ex[5];
	struct wire_rec	rec;
	size_t		total, off = 0, i;
	ssize_t		n;
	uint16_t	reason;

	(void)state;
	total = build_stream(buf, sizeof(buf), ex);
	for (i = 0; i < 5; i++) {
		n = wire_decode(buf + off, total - off, &rec);
		assert_true(n > 0);
		assert_int_equal(rec.type, ex[i].type);
		assert_int_equal(rec.len, ex[i].len);
		assert_ptr_equal(rec.payload, buf + off + WIRE_HDR_LEN);
		off += (size_t)n;
	}
	assert_int_equal(off, total);
	assert_int_equal(wire_parse_close(rec.payload, rec.len, &reason), 0);
	assert_int_equal(reason, WIRE_CLOSE_SHUTDOWN);
	assert_int_equal(wire_decode(buf + off, 0, &rec), 0);
}

/* The same stream fed one byte at a time, as a slow socket would. */
static void
test_stream_bytewise(void **state)
{
	static uint8_t	buf[4096];
	struct expect	ex[5];
	struct wire_rec	rec;
	size_t		total, start = 0, have, i = 0;
	ssize_t		n;

	(void)state;
	total = build_stream(buf, sizeof(buf), ex);
	for (have = 1; have <= total; have++) {
		n = decode_exact(buf + start, have - start, &rec);
		assert_true(n >= 0);
		if (n == 0)
			continue;
		assert_true(i < 5);
		assert_int_equal(rec.type, ex[i].type);
		assert_int_equal(rec.len, ex[i].len);
		assert_int_equal((size_t)n, have - start);
		start = have;
		i++;
	}
	assert_int_equal(i, 5);
	assert_int_equal(start, total);
}

/* A bad record in mid-stream is reported where it starts. */
static void
test_stream_bad_record(void **state)
{
	uint8_t		buf[32];
	struct wire_rec	rec;
	ssize_t		n;

	(void)state;
	n = wire_encode_keepalive(buf, sizeof(buf));
	wire_put_hdr(buf + n, 9, 0);
	assert_int_equal(wire_decode(buf, 8, &rec), WIRE_HDR_LEN);
	assert_int_equal(wire_decode(buf + n, 8 - (size_t)n, &rec),
	    -WIRE_E_TYPE);
}

static void
test_strings(void **state)
{
	int	e, f;

	(void)state;
	for (e = 0; e < WIRE_E_MAX; e++) {
		assert_non_null(wire_strerror(e));
		assert_string_equal(wire_strerror(e), wire_strerror(-e));
		assert_string_not_equal(wire_strerror(e), "unknown error");
		for (f = 0; f < e; f++)
			assert_string_not_equal(wire_strerror(e),
			    wire_strerror(f));
	}
	assert_string_equal(wire_strerror(WIRE_E_MAX), "unknown error");
	assert_string_equal(wire_strerror(-WIRE_E_MAX), "unknown error");
	assert_string_equal(wire_strerror(-2147483647 - 1), "unknown error");
	assert_string_equal(wire_type_name(WIRE_HELLO), "HELLO");
	assert_string_equal(wire_type_name(WIRE_FRAME), "FRAME");
	assert_string_equal(wire_type_name(WIRE_KEEPALIVE), "KEEPALIVE");
	assert_string_equal(wire_type_name(WIRE_CLOSE), "CLOSE");
	assert_string_equal(wire_type_name(0), "unknown");
	assert_string_equal(wire_type_name(200), "unknown");
}

/* The UDP offer and the transport record: round trip and every refusal. */
static void
test_udp_records(void **state)
{
	struct wire_udp	 w = { .aead = 1, .rid = 0xdeadbeef, .port = 4789,
			    .epoch_packets = 64 }, g;
	struct wire_rec	 r;
	uint8_t		 buf[64], p[WIRE_UDP_LEN], t;
	size_t		 i;

	(void)state;
	assert_int_equal(wire_encode_udp(buf, sizeof(buf), &w),
	    WIRE_HDR_LEN + WIRE_UDP_LEN);
	assert_int_equal(wire_decode(buf, sizeof(buf), &r),
	    WIRE_HDR_LEN + WIRE_UDP_LEN);
	assert_int_equal(r.type, WIRE_UDP);
	assert_int_equal(wire_parse_udp(r.payload, r.len, 64, 1 << 24, &g), 0);
	assert_int_equal(g.aead, 1);
	assert_int_equal(g.rid, 0xdeadbeef);
	assert_int_equal(g.port, 4789);
	assert_int_equal(g.epoch_packets, 64);
	assert_int_equal(decode_hdr(WIRE_UDP, WIRE_UDP_LEN - 1), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_UDP, WIRE_UDP_LEN + 1), -WIRE_E_LENGTH);
	/* Each reserved byte, the version, an AEAD, the id, the limits. */
	memcpy(p, r.payload, sizeof(p));
	for (i = 0; i < sizeof(p); i++) {
		if (i != 0 && i != 1 && i != 2 && i != 3 && i != 10 && i != 11)
			continue;
		p[i] ^= 0x40;
		assert_int_equal(wire_parse_udp(p, sizeof(p), 64, 1 << 24, &g),
		    -WIRE_E_UDP);
		p[i] ^= 0x40;
	}
	w.aead = 3;
	wire_encode_udp(buf, sizeof(buf), &w);
	assert_int_equal(wire_parse_udp(buf + WIRE_HDR_LEN, WIRE_UDP_LEN, 64,
	    1 << 24, &g), -WIRE_E_UDP);
	w.aead = 2;
	w.rid = 0;
	wire_encode_udp(buf, sizeof(buf), &w);
	assert_int_equal(wire_parse_udp(buf + WIRE_HDR_LEN, WIRE_UDP_LEN, 64,
	    1 << 24, &g), -WIRE_E_UDP);
	w.rid = 1;
	w.epoch_packets = 63;
	wire_encode_udp(buf, sizeof(buf), &w);
	assert_int_equal(wire_parse_udp(buf + WIRE_HDR_LEN, WIRE_UDP_LEN, 64,
	    1 << 24, &g), -WIRE_E_UDP);
	w.epoch_packets = (1 << 24) + 1;
	wire_encode_udp(buf, sizeof(buf), &w);
	assert_int_equal(wire_parse_udp(buf + WIRE_HDR_LEN, WIRE_UDP_LEN, 64,
	    1 << 24, &g), -WIRE_E_UDP);
	assert_int_equal(wire_encode_udp(buf, WIRE_HDR_LEN + WIRE_UDP_LEN - 1,
	    &w), -WIRE_E_SPACE);

	assert_int_equal(wire_encode_transport(buf, sizeof(buf),
	    WIRE_TRANSPORT_UDP), WIRE_HDR_LEN + 1);
	assert_int_equal(wire_decode(buf, sizeof(buf), &r), WIRE_HDR_LEN + 1);
	assert_int_equal(r.type, WIRE_TRANSPORT);
	assert_int_equal(wire_parse_transport(r.payload, r.len, &t), 0);
	assert_int_equal(t, WIRE_TRANSPORT_UDP);
	t = 3;
	assert_int_equal(wire_parse_transport(&t, 1, &t), -WIRE_E_UDP);
	t = 0;
	assert_int_equal(wire_parse_transport(&t, 1, &t), -WIRE_E_UDP);
	assert_int_equal(decode_hdr(WIRE_TRANSPORT, 0), -WIRE_E_LENGTH);
	assert_int_equal(decode_hdr(WIRE_TRANSPORT, 2), -WIRE_E_LENGTH);
	assert_string_equal(wire_type_name(WIRE_UDP), "UDP");
	assert_string_equal(wire_type_name(WIRE_TRANSPORT), "TRANSPORT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_layout),
		cmocka_unit_test(test_hello_roundtrip),
		cmocka_unit_test(test_keepalive_roundtrip),
		cmocka_unit_test(test_close_roundtrip),
		cmocka_unit_test(test_frame_roundtrip),
		cmocka_unit_test(test_reject_type),
		cmocka_unit_test(test_udp_records),
		cmocka_unit_test(test_reject_length),
		cmocka_unit_test(test_oversize_header_only),
		cmocka_unit_test(test_reject_hello),
		cmocka_unit_test(test_reject_hello_too_many),
		cmocka_unit_test(test_reject_close),
		cmocka_unit_test(test_encode_space),
		cmocka_unit_test(test_encode_hello_invalid),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_stream_bytewise),
		cmocka_unit_test(test_stream_bad_record),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

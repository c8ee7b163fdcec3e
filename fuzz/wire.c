/* SPDX-License-Identifier: ISC */
/*
 * The wire decoder as crypt runs it (crypt/link.c link_read and
 * link_records): bytes arrive in pieces into a LINK_RBUF buffer, every
 * complete record is decoded and handled, the rest is moved to the
 * front, and reading goes on. HELLO and CLOSE payloads go through
 * wire_parse_hello / wire_parse_close, as link_record does.
 *
 * Input: byte 0 & 15 = k - 1, then k big-endian u16 piece sizes (each
 * taken modulo 16385, a TLS record's worth, 0 meaning 1), used in turn;
 * the rest is the decrypted stream. The same stream is also decoded in
 * one piece, and both must see the same records and the same error at
 * the same offset, found as soon as the bad header is in.
 */
#include <string.h>

#include "crypt/crypt.h"	/* LINK_RBUF: the daemon's buffer size */
#include "fuzz/fuzz.h"
#include "lib/wire.h"

#define MAXPIECES	16

struct seen {
	uint8_t		 type;
	size_t		 len;
	size_t		 off;		/* in the stream */
};

static const uint8_t	*stream;

/*
 * A UDP offer: accepted exactly when a model of lib/wire.h's rules
 * accepts it, and then encoded back to the same bytes.
 */
static void
check_udp(const struct wire_rec *r, const uint8_t *at, ssize_t n)
{
	const uint8_t	*p = r->payload;
	struct wire_udp	 u;
	uint8_t		 enc[WIRE_HDR_LEN + WIRE_UDP_LEN];
	uint32_t	 ep;
	int		 want, rv;

	FUZZ_ASSERT(r->len == WIRE_UDP_LEN);
	ep = fz_get32(p + 12);
	want = p[0] == WIRE_UDP_VERSION && (p[1] == 1 || p[1] == 2) &&
	    p[2] == 0 && p[3] == 0 && p[10] == 0 && p[11] == 0 &&
	    fz_get32(p + 4) != 0 && ep >= 64 && ep <= (1u << 24);
	rv = wire_parse_udp(p, r->len, 64, 1u << 24, &u);
	FUZZ_ASSERT((rv == 0) == want);
	if (rv != 0)
		return;
	FUZZ_ASSERT(u.rid == fz_get32(p + 4) && u.port == fz_get16(p + 8) &&
	    u.epoch_packets == ep && u.aead == p[1]);
	FUZZ_ASSERT(wire_encode_udp(enc, sizeof(enc), &u) == n);
	FUZZ_ASSERT(memcmp(enc, at, (size_t)n) == 0);
}

/* Every check one decoded record must pass, wherever it was decoded. */
static void
check_record(const uint8_t *at, size_t avail, ssize_t n,
    const struct wire_rec *r)
{
	uint8_t			 enc[WIRE_HDR_LEN + WIRE_HELLO_FIXED +
				    6 * WIRE_HELLO_MAX_MACS];
	struct wire_hello	 h;
	uint16_t		 reason;
	uint8_t			 tr;
	size_t			 k;
	int			 rv;

	FUZZ_ASSERT(n > 0 && (size_t)n <= avail);
	FUZZ_ASSERT((size_t)n == WIRE_HDR_LEN + r->len);
	FUZZ_ASSERT((size_t)n <= WIRE_MAX_RECORD);
	FUZZ_ASSERT(r->payload == at + WIRE_HDR_LEN);
	FUZZ_ASSERT(r->type == at[0]);
	FUZZ_ASSERT(r->len == ((size_t)at[1] << 16 | (size_t)at[2] << 8 |
	    at[3]));
	FUZZ_ASSERT(strcmp(wire_type_name(r->type), "unknown") != 0);
	/* Any shorter prefix is "read more", never a record or an error. */
	for (k = 0; k <= WIRE_HDR_LEN; k++) {
		struct wire_rec t;

		FUZZ_ASSERT(wire_decode(at, k, &t) == 0 || k == (size_t)n);
	}
	{
		struct wire_rec t;

		FUZZ_ASSERT(wire_decode(at, (size_t)n - 1, &t) == 0);
	}

	switch (r->type) {
	case WIRE_HELLO:
		FUZZ_ASSERT(r->len >= WIRE_HELLO_FIXED &&
		    (r->len - WIRE_HELLO_FIXED) % 6 == 0 &&
		    r->len <= WIRE_HELLO_FIXED + 6 * WIRE_HELLO_MAX_MACS);
		rv = wire_parse_hello(r->payload, r->len, &h);
		if (rv != 0) {
			FUZZ_ASSERT(strcmp(wire_strerror(rv),
			    "unknown error") != 0);
			if (memcmp(r->payload, WIRE_MAGIC, 4) != 0)
				FUZZ_ASSERT(rv == -WIRE_E_MAGIC);
			else if (r->payload[4] != WIRE_VERSION)
				FUZZ_ASSERT(rv == -WIRE_E_VERSION);
			else if (r->payload[5] != WIRE_ROLE_HOST &&
			    r->payload[5] != WIRE_ROLE_PROXY)
				FUZZ_ASSERT(rv == -WIRE_E_ROLE);
			else
				FUZZ_ASSERT(rv == -WIRE_E_MACS);
			break;
		}
		FUZZ_ASSERT(h.version == WIRE_VERSION);
		FUZZ_ASSERT(h.role == WIRE_ROLE_HOST ||
		    h.role == WIRE_ROLE_PROXY);
		FUZZ_ASSERT(h.nmacs <= WIRE_HELLO_MAX_MACS);
		FUZZ_ASSERT(WIRE_HELLO_FIXED + 6 * (size_t)h.nmacs == r->len);
		FUZZ_ASSERT(h.macs == r->payload + WIRE_HELLO_FIXED);
		/* What our encoder makes of it is the very same record. */
		FUZZ_ASSERT(wire_encode_hello(enc, sizeof(enc), h.role, h.macs,
		    h.nmacs) == n);
		FUZZ_ASSERT(memcmp(enc, at, (size_t)n) == 0);
		FUZZ_ASSERT(wire_encode_hello(enc, (size_t)n - 1, h.role,
		    h.macs, h.nmacs) == -WIRE_E_SPACE);
		break;
	case WIRE_FRAME:
		FUZZ_ASSERT(r->len >= VNET_FRAME_MIN &&
		    r->len <= VNET_FRAME_MAX);
		wire_put_hdr(enc, WIRE_FRAME, r->len);
		FUZZ_ASSERT(memcmp(enc, at, WIRE_HDR_LEN) == 0);
		break;
	case WIRE_KEEPALIVE:
		FUZZ_ASSERT(r->len == 0);
		FUZZ_ASSERT(wire_encode_keepalive(enc, sizeof(enc)) == n);
		FUZZ_ASSERT(memcmp(enc, at, (size_t)n) == 0);
		break;
	case WIRE_CLOSE:
		FUZZ_ASSERT(r->len == 2);
		FUZZ_ASSERT(wire_parse_close(r->payload, r->len, &reason) == 0);
		FUZZ_ASSERT(reason == fz_get16(r->payload));
		FUZZ_ASSERT(wire_encode_close(enc, sizeof(enc), reason) == n);
		FUZZ_ASSERT(memcmp(enc, at, (size_t)n) == 0);
		FUZZ_ASSERT(wire_encode_close(enc, (size_t)n - 1, reason) ==
		    -WIRE_E_SPACE);
		break;
	case WIRE_UDP:
		check_udp(r, at, n);
		break;
	case WIRE_TRANSPORT:
		FUZZ_ASSERT(r->len == 1);
		rv = wire_parse_transport(r->payload, r->len, &tr);
		FUZZ_ASSERT((rv == 0) == (r->payload[0] == WIRE_TRANSPORT_TCP ||
		    r->payload[0] == WIRE_TRANSPORT_UDP));
		if (rv == 0) {
			FUZZ_ASSERT(wire_encode_transport(enc, sizeof(enc), tr) ==
			    n);
			FUZZ_ASSERT(memcmp(enc, at, (size_t)n) == 0);
		}
		break;
	default:
		FUZZ_ASSERT(!"decoded a record of an unknown type");
	}
}

static void
check_error(const uint8_t *at, size_t avail, ssize_t n)
{
	FUZZ_ASSERT(n == -WIRE_E_TYPE || n == -WIRE_E_LENGTH);
	FUZZ_ASSERT(avail >= WIRE_HDR_LEN);
	FUZZ_ASSERT((n == -WIRE_E_TYPE) ==
	    (at[0] < WIRE_HELLO || at[0] > WIRE_TRANSPORT));
	FUZZ_ASSERT(strcmp(wire_strerror((int)n), "unknown error") != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		 piece[MAXPIECES], k, i, slen, nseen = 0, cap;
	size_t		 off, end = 0, pos, rlen, soff, c, before, pi = 0;
	struct seen	*seen;
	struct wire_rec	 r;
	ssize_t		 n, err = 0;
	uint8_t		*rbuf;

	if (size < 1)
		return 0;
	k = (size_t)(data[0] & 15) + 1;
	for (i = 0; i < k; i++) {
		c = 1 + 2 * i + 1 < size ? fz_get16(data + 1 + 2 * i) : 16384;
		c %= 16385;
		piece[i] = c == 0 ? 1 : c;
	}
	off = 1 + 2 * k < size ? 1 + 2 * k : size;
	stream = data + off;
	slen = size - off;

	/* The whole stream in one buffer. */
	cap = slen / WIRE_HDR_LEN + 1;
	seen = malloc(cap * sizeof(*seen));
	FUZZ_ASSERT(seen != NULL);
	for (off = 0; ; off += (size_t)n) {
		n = wire_decode(stream + off, slen - off, &r);
		if (n == 0)
			break;
		if (n < 0) {
			check_error(stream + off, slen - off, n);
			err = n;
			break;
		}
		check_record(stream + off, slen - off, n, &r);
		FUZZ_ASSERT(nseen < cap);
		seen[nseen++] = (struct seen){ r.type, r.len, off };
	}
	end = off;	/* first byte not in a complete record, or the error */

	/* In pieces, into crypt's buffer, compacting after each read. */
	rbuf = malloc(LINK_RBUF);
	FUZZ_ASSERT(rbuf != NULL);
	for (pos = 0, rlen = 0, soff = 0, i = 0; pos < slen; ) {
		/* A full buffer would make SSL_read ask for 0 bytes. */
		FUZZ_ASSERT(rlen < LINK_RBUF);
		c = piece[pi++ % k];
		if (c > LINK_RBUF - rlen)
			c = LINK_RBUF - rlen;
		if (c > slen - pos)
			c = slen - pos;
		memcpy(rbuf + rlen, stream + pos, c);
		before = pos;
		rlen += c;
		pos += c;
		for (off = 0; ; off += (size_t)n) {
			n = wire_decode(rbuf + off, rlen - off, &r);
			if (n == 0)
				break;
			if (n < 0) {
				/* Same error, same place, as early as can be. */
				FUZZ_ASSERT(n == err);
				FUZZ_ASSERT(soff + off == end);
				FUZZ_ASSERT(before < end + WIRE_HDR_LEN &&
				    end + WIRE_HDR_LEN <= pos);
				goto out;
			}
			check_record(rbuf + off, rlen - off, n, &r);
			FUZZ_ASSERT(i < nseen);
			FUZZ_ASSERT(seen[i].type == r.type &&
			    seen[i].len == r.len && seen[i].off == soff + off);
			FUZZ_ASSERT(memcmp(r.payload,
			    stream + seen[i].off + WIRE_HDR_LEN, r.len) == 0);
			i++;
		}
		memmove(rbuf, rbuf + off, rlen - off);
		rlen -= off;
		soff += off;
	}
	/* An error would have been met once its header was in. */
	FUZZ_ASSERT(err == 0);
	FUZZ_ASSERT(i == nseen && soff == end && rlen == slen - end);
out:
	free(rbuf);
	free(seen);
	return 0;
}

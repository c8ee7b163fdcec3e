/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the UDP channel's datagrams (lib/dgram.c): what a
 * receiver accepts and refuses, and why, for every way a datagram can
 * be damaged, replayed or come from the wrong key epoch. Datagrams
 * handed to dgram_parse are exact-size heap copies, so ASan sees any
 * read past their end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/dgram.h"

#define RID		0x01020304u
#define EP		DGRAM_EPOCH_MIN	/* tiny epochs: many rekeys */
#define T0		1000000		/* a receiver's clock, ms */
#define BIG		(DGRAM_MAX_LEN + 64)

/* The exporter's stand-in: key and IV a function of the epoch. */
struct kdf {
	uint8_t		 seed;
	int		 fail_from;	/* fails for epochs >= this */
	int		 calls;
};

static int
derive(void *arg, uint32_t epoch, uint8_t key[DGRAM_KEY_LEN],
    uint8_t iv[DGRAM_IV_LEN])
{
	struct kdf	*d = arg;
	size_t		 i;

	d->calls++;
	if (d->fail_from >= 0 && epoch >= (uint32_t)d->fail_from)
		return -1;
	for (i = 0; i < DGRAM_KEY_LEN; i++)
		key[i] = (uint8_t)(d->seed + epoch * 7 + i);
	for (i = 0; i < DGRAM_IV_LEN; i++)
		iv[i] = (uint8_t)(d->seed ^ (epoch * 13 + i * 31));
	return 0;
}

struct pair {
	struct kdf	 kdf;
	struct dgram_tx	 tx;
	struct dgram_rx	 rx;
	uint8_t		 pt[BIG], ct[BIG], out[BIG];
};

static struct pair *
pair_new(enum dgram_aead aead, uint64_t ep)
{
	struct pair	*p = calloc(1, sizeof(*p));
	size_t		 i;

	assert_non_null(p);
	p->kdf.fail_from = -1;
	p->kdf.seed = 0x5a;
	assert_int_equal(dgram_tx_init(&p->tx, aead, ep, RID, derive,
	    &p->kdf), 0);
	assert_int_equal(dgram_rx_init(&p->rx, aead, ep, derive, &p->kdf), 0);
	for (i = 0; i < sizeof(p->pt); i++)
		p->pt[i] = (uint8_t)(i * 7 + 3);
	return p;
}

static void
pair_free(struct pair *p)
{
	dgram_tx_free(&p->tx);
	dgram_rx_free(&p->rx);
	free(p);
}

/* Parse an exact-size heap copy of buf[0..len). */
static int
parse_exact(const uint8_t *buf, size_t len, struct dgram_hdr *h, uint8_t **q)
{
	*q = malloc(len ? len : 1);
	assert_non_null(*q);
	memcpy(*q, buf, len);
	return dgram_parse(*q, len, h);
}

/* Parse and open buf as the receiver would; the plaintext in p->out. */
static ssize_t
deliver(struct pair *p, const uint8_t *buf, size_t len, uint64_t now)
{
	struct dgram_hdr	 h;
	uint8_t			*q;
	ssize_t			 n;
	int			 rv;

	if ((rv = parse_exact(buf, len, &h, &q)) != 0) {
		free(q);
		return rv;
	}
	n = dgram_rx_open(&p->rx, &h, now, p->out, sizeof(p->out));
	free(q);
	return n;
}

/* Seal a DATA datagram of ptlen bytes into dst; its length. */
static size_t
seal(struct pair *p, size_t ptlen, uint8_t *dst)
{
	ssize_t	 n;

	n = dgram_seal(&p->tx, DGRAM_DATA, p->pt, ptlen, dst, BIG);
	assert_int_equal(n, (ssize_t)(ptlen + DGRAM_OVERHEAD));
	return (size_t)n;
}

/* Sealed, delivered, the same plaintext back. */
static void
round_trip(struct pair *p, uint8_t type, size_t ptlen)
{
	ssize_t	 n;

	n = dgram_seal(&p->tx, type, p->pt, ptlen, p->ct, sizeof(p->ct));
	assert_int_equal(n, (ssize_t)(ptlen + DGRAM_OVERHEAD));
	assert_int_equal(deliver(p, p->ct, (size_t)n, T0), (ssize_t)ptlen);
	assert_memory_equal(p->out, p->pt, ptlen);
}

static void
test_round_trip(void **state)
{
	enum dgram_aead	 a[] = { DGRAM_AES_256_GCM,
			    DGRAM_CHACHA20_POLY1305 };
	size_t		 i;
	struct pair	*p;

	(void)state;
	for (i = 0; i < 2; i++) {
		p = pair_new(a[i], DGRAM_EPOCH_PACKETS);
		round_trip(p, DGRAM_DATA, VNET_FRAME_MIN);
		round_trip(p, DGRAM_DATA, 1514);
		round_trip(p, DGRAM_PROBE, DGRAM_PROBE_LEN);
		round_trip(p, DGRAM_PROBE_ACK, DGRAM_PROBE_LEN);
		round_trip(p, DGRAM_DATA, DGRAM_MAX_FRAME);
		assert_int_equal(p->tx.next, 5);
		assert_int_equal(p->tx.rekeys, 0);
		pair_free(p);
	}
}

/*
 * The datagram is what RFC 5116 AEAD gives for key and nonce = iv XOR
 * counter (computed here, not by the library), with the 16 header
 * bytes as additional data: a one-shot encryption must match it.
 */
static void
known_answer(enum dgram_aead aead, const char *cipher)
{
	uint8_t		 key[DGRAM_KEY_LEN], iv[DGRAM_IV_LEN], want[BIG];
	struct pair	*p = pair_new(aead, DGRAM_EPOCH_PACKETS);
	EVP_CIPHER_CTX	*x;
	EVP_CIPHER	*c;
	uint64_t	 ctr = 0x00f2030405060708ULL;
	size_t		 len = 100, i;
	int		 l;

	p->tx.next = ctr;
	seal(p, len, p->ct);
	assert_int_equal(derive(&p->kdf, (uint32_t)(ctr /
	    DGRAM_EPOCH_PACKETS), key, iv), 0);
	for (i = 0; i < 8; i++)
		iv[4 + i] ^= (uint8_t)(ctr >> (56 - 8 * i));
	assert_non_null(x = EVP_CIPHER_CTX_new());
	assert_non_null(c = EVP_CIPHER_fetch(NULL, cipher, NULL));
	assert_int_equal(EVP_EncryptInit_ex2(x, c, key, iv, NULL), 1);
	EVP_CIPHER_free(c);
	assert_int_equal(EVP_EncryptUpdate(x, NULL, &l, p->ct, 16), 1);
	assert_int_equal(EVP_EncryptUpdate(x, want, &l, p->pt, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(x, want + len, &l), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16,
	    want + len), 1);
	EVP_CIPHER_CTX_free(x);
	assert_int_equal(p->ct[0], DGRAM_DATA);
	assert_int_equal(p->ct[1], DGRAM_VERSION);
	assert_memory_equal(p->ct + 2, "\0\0\x01\x02\x03\x04", 6);
	assert_memory_equal(p->ct + 8, "\x00\xf2\x03\x04\x05\x06\x07\x08", 8);
	assert_memory_equal(p->ct + 16, want, len + 16);
	pair_free(p);
}

static void
test_known_answer(void **state)
{
	(void)state;
	known_answer(DGRAM_AES_256_GCM, "AES-256-GCM");
	known_answer(DGRAM_CHACHA20_POLY1305, "ChaCha20-Poly1305");
}

/* A header and ptlen bytes of body and tag, for the parser. */
static size_t
raw(uint8_t *b, uint8_t type, uint8_t ver, uint8_t r2, uint8_t r3,
    size_t ptlen)
{
	memset(b, 0xee, ptlen + DGRAM_OVERHEAD);
	b[0] = type;
	b[1] = ver;
	b[2] = r2;
	b[3] = r3;
	return ptlen + DGRAM_OVERHEAD;
}

static int
parse_raw(uint8_t type, uint8_t ver, uint8_t r2, uint8_t r3, size_t ptlen)
{
	static uint8_t		 b[BIG];
	struct dgram_hdr	 h;
	uint8_t			*q;
	int			 rv;

	rv = parse_exact(b, raw(b, type, ver, r2, r3, ptlen), &h, &q);
	free(q);
	return rv;
}

static void
test_parse(void **state)
{
	static uint8_t		 b[BIG];
	struct dgram_hdr	 h;
	uint8_t			*q;
	size_t			 len;

	(void)state;
	for (len = 0; len < DGRAM_OVERHEAD; len++) {
		assert_int_equal(parse_exact(b, len, &h, &q), -DGRAM_E_SHORT);
		free(q);
	}
	assert_int_equal(parse_raw(0, 1, 0, 0, 20), -DGRAM_E_TYPE);
	assert_int_equal(parse_raw(4, 1, 0, 0, 20), -DGRAM_E_TYPE);
	assert_int_equal(parse_raw(1, 0, 0, 0, 20), -DGRAM_E_VERSION);
	assert_int_equal(parse_raw(1, 2, 0, 0, 20), -DGRAM_E_VERSION);
	assert_int_equal(parse_raw(1, 1, 1, 0, 20), -DGRAM_E_RESERVED);
	assert_int_equal(parse_raw(1, 1, 0, 0x80, 20), -DGRAM_E_RESERVED);
	assert_int_equal(parse_raw(1, 1, 0, 0, 0), -DGRAM_E_LENGTH);
	assert_int_equal(parse_raw(1, 1, 0, 0, VNET_FRAME_MIN - 1),
	    -DGRAM_E_LENGTH);
	assert_int_equal(parse_raw(1, 1, 0, 0, DGRAM_MAX_FRAME + 1),
	    -DGRAM_E_LENGTH);
	assert_int_equal(parse_raw(2, 1, 0, 0, 7), -DGRAM_E_LENGTH);
	assert_int_equal(parse_raw(3, 1, 0, 0, 9), -DGRAM_E_LENGTH);
	assert_int_equal(parse_raw(2, 1, 0, 0, 0), -DGRAM_E_LENGTH);
	assert_int_equal(parse_raw(1, 1, 0, 0, VNET_FRAME_MIN), 0);
	assert_int_equal(parse_raw(1, 1, 0, 0, DGRAM_MAX_FRAME), 0);
	assert_int_equal(parse_raw(2, 1, 0, 0, 8), 0);
	assert_int_equal(parse_raw(3, 1, 0, 0, 8), 0);

	len = raw(b, DGRAM_PROBE, 1, 0, 0, 8);
	memcpy(b + 4, "\xde\xad\xbe\xef\x00\x00\x00\x01\x02\x03\x04\x05", 12);
	assert_int_equal(parse_exact(b, len, &h, &q), 0);
	assert_int_equal(h.type, DGRAM_PROBE);
	assert_int_equal(h.rid, 0xdeadbeef);
	assert_true(h.ctr == 0x0000000102030405ULL);
	assert_ptr_equal(h.ct, q + DGRAM_HDR_LEN);
	assert_int_equal(h.ctlen, 8);
	free(q);
}

static void
test_seal_errors(void **state)
{
	struct pair	*p = pair_new(DGRAM_AES_256_GCM,
			    DGRAM_EPOCH_PACKETS);

	(void)state;
	assert_int_equal(dgram_seal(&p->tx, 9, p->pt, 100, p->ct, BIG),
	    -DGRAM_E_TYPE);
	assert_int_equal(dgram_seal(&p->tx, DGRAM_DATA, p->pt, 13, p->ct,
	    BIG), -DGRAM_E_LENGTH);
	assert_int_equal(dgram_seal(&p->tx, DGRAM_DATA, p->pt,
	    DGRAM_MAX_FRAME + 1, p->ct, BIG), -DGRAM_E_LENGTH);
	assert_int_equal(dgram_seal(&p->tx, DGRAM_PROBE, p->pt, 9, p->ct,
	    BIG), -DGRAM_E_LENGTH);
	assert_int_equal(dgram_seal(&p->tx, DGRAM_DATA, p->pt, 100, p->ct,
	    100 + DGRAM_OVERHEAD - 1), -DGRAM_E_SPACE);
	assert_int_equal(p->tx.next, 0);		/* nothing spent */
	assert_int_equal(dgram_seal(&p->tx, DGRAM_DATA, p->pt, 100, p->ct,
	    100 + DGRAM_OVERHEAD), 100 + DGRAM_OVERHEAD);
	assert_int_equal(p->tx.next, 1);

	/* The receiver's buffer one byte short. */
	{
		struct dgram_hdr	 h;

		assert_int_equal(dgram_parse(p->ct, 100 + DGRAM_OVERHEAD, &h),
		    0);
		assert_int_equal(dgram_rx_open(&p->rx, &h, T0, p->out, 99),
		    -DGRAM_E_SPACE);
		assert_int_equal(dgram_rx_open(&p->rx, &h, T0, p->out, 100),
		    100);
	}
	pair_free(p);
}

static void
test_exhausted(void **state)
{
	struct pair	*p = pair_new(DGRAM_AES_256_GCM, EP);

	(void)state;
	p->tx.next = UINT64_MAX;
	assert_int_equal(dgram_seal(&p->tx, DGRAM_DATA, p->pt, 100, p->ct,
	    BIG), -DGRAM_E_EXHAUSTED);
	/* The last counter of the last epoch, then no more. */
	p->tx.next = ((uint64_t)UINT32_MAX + 1) * EP - 1;
	seal(p, 100, p->ct);
	assert_int_equal(dgram_seal(&p->tx, DGRAM_DATA, p->pt, 100, p->ct,
	    BIG), -DGRAM_E_EXHAUSTED);
	assert_true(p->tx.next == ((uint64_t)UINT32_MAX + 1) * EP);
	pair_free(p);
}

static void
test_replay_window(void **state)
{
	struct dgram_replay	 w;
	uint64_t		 c;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(dgram_replay_check(&w, 0), 0);
	dgram_replay_update(&w, 0);
	assert_int_equal(dgram_replay_check(&w, 0), -DGRAM_E_REPLAY);
	dgram_replay_update(&w, 10000);
	/* Exactly DGRAM_WINDOW counters up to the top. */
	assert_int_equal(dgram_replay_check(&w, 10000 - DGRAM_WINDOW + 1), 0);
	assert_int_equal(dgram_replay_check(&w, 10000 - DGRAM_WINDOW),
	    -DGRAM_E_REPLAY);
	assert_int_equal(dgram_replay_check(&w, 10000), -DGRAM_E_REPLAY);
	/* Out of order within the window: each accepted once. */
	for (c = 9999; c > 10000 - DGRAM_WINDOW; c -= 3) {
		assert_int_equal(dgram_replay_check(&w, c), 0);
		dgram_replay_update(&w, c);
		assert_int_equal(dgram_replay_check(&w, c), -DGRAM_E_REPLAY);
		assert_int_equal(dgram_replay_check(&w, c - 1), 0);
	}
	/* A slide by less than the window forgets only what it passed. */
	dgram_replay_update(&w, 10100);
	assert_int_equal(dgram_replay_check(&w, 9999), -DGRAM_E_REPLAY);
	assert_int_equal(dgram_replay_check(&w, 10050), 0);
	assert_int_equal(dgram_replay_check(&w, 10100 - DGRAM_WINDOW),
	    -DGRAM_E_REPLAY);
	/* A slide by more than the window: every counter in it is new. */
	dgram_replay_update(&w, 10100 + DGRAM_WINDOW + 5);
	for (c = 10101 + 5; c < 10100 + DGRAM_WINDOW + 5; c++)
		assert_int_equal(dgram_replay_check(&w, c), 0);
	assert_int_equal(dgram_replay_check(&w, 10100 + DGRAM_WINDOW + 5),
	    -DGRAM_E_REPLAY);
	assert_int_equal(dgram_replay_check(&w, 10100), -DGRAM_E_REPLAY);
}

/* Bits of the ring wrap: every counter a window back is forgotten. */
static void
test_replay_slide(void **state)
{
	struct dgram_replay	 w;
	uint64_t		 c, top, step;

	(void)state;
	for (step = 1; step < 200; step += 37) {
		memset(&w, 0, sizeof(w));
		for (top = 0; top < 3 * DGRAM_WINDOW; top += step)
			dgram_replay_update(&w, top);
		top -= step;
		for (c = top + 1 > DGRAM_WINDOW ? top + 1 - DGRAM_WINDOW : 0;
		    c <= top; c++)
			assert_int_equal(dgram_replay_check(&w, c) == 0,
			    c % step != 0);
	}
}

/* Sealed datagrams kept for delivery in any order. */
struct batch {
	uint8_t		*d[64 * 6];
	size_t		 len[64 * 6];
	size_t		 n;
};

static void
batch_seal(struct pair *p, struct batch *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		assert_true(b->n < sizeof(b->d) / sizeof(b->d[0]));
		p->pt[0] = (uint8_t)b->n;
		b->len[b->n] = seal(p, 60, p->ct);
		assert_non_null(b->d[b->n] = malloc(b->len[b->n]));
		memcpy(b->d[b->n], p->ct, b->len[b->n]);
		b->n++;
	}
}

static ssize_t
batch_deliver(struct pair *p, struct batch *b, size_t i, uint64_t now)
{
	ssize_t	 n = deliver(p, b->d[i], b->len[i], now);

	if (n == 60)
		assert_int_equal(p->out[0], (uint8_t)i);
	return n;
}

static void
batch_free(struct batch *b)
{
	while (b->n > 0)
		free(b->d[--b->n]);
}

static void
test_replay_open(void **state)
{
	struct pair	*p = pair_new(DGRAM_CHACHA20_POLY1305,
			    DGRAM_EPOCH_PACKETS);
	struct batch	 b = { .n = 0 };
	size_t		 i;

	(void)state;
	batch_seal(p, &b, 10);
	assert_int_equal(batch_deliver(p, &b, 5, T0), 60);
	assert_int_equal(batch_deliver(p, &b, 5, T0), -DGRAM_E_REPLAY);
	for (i = 0; i < 10; i++)
		if (i != 5)
			assert_int_equal(batch_deliver(p, &b, i, T0), 60);
	for (i = 0; i < 10; i++)
		assert_int_equal(batch_deliver(p, &b, i, T0), -DGRAM_E_REPLAY);
	/* Far ahead: everything before the window is refused. */
	p->tx.next = 10 + DGRAM_WINDOW;
	batch_seal(p, &b, 1);
	assert_int_equal(batch_deliver(p, &b, 10, T0), 60);
	batch_free(&b);
	p->tx.next = 10;
	batch_seal(p, &b, 1);
	assert_int_equal(batch_deliver(p, &b, 0, T0), -DGRAM_E_REPLAY);
	batch_free(&b);
	pair_free(p);
}

/*
 * A forged datagram with a fresh counter fails its tag and leaves the
 * window alone: the genuine one with that counter still gets in.
 */
static void
test_forged_then_genuine(void **state)
{
	struct pair	*p = pair_new(DGRAM_AES_256_GCM,
			    DGRAM_EPOCH_PACKETS);
	uint8_t		 forged[BIG];
	size_t		 len;

	(void)state;
	round_trip(p, DGRAM_DATA, 100);
	len = seal(p, 100, p->ct);
	memcpy(forged, p->ct, len);
	forged[40] ^= 1;
	assert_int_equal(deliver(p, forged, len, T0), -DGRAM_E_TAG);
	assert_int_equal(p->rx.win.top, 0);
	assert_int_equal(deliver(p, p->ct, len, T0), 100);
	assert_int_equal(p->rx.win.top, 1);
	assert_int_equal(deliver(p, p->ct, len, T0), -DGRAM_E_REPLAY);
	pair_free(p);
}

/* The sender crosses five epochs; the receiver follows every one. */
static void
test_epochs(void **state)
{
	struct pair	*p = pair_new(DGRAM_AES_256_GCM, EP);
	struct batch	 b = { .n = 0 };
	size_t		 i;

	(void)state;
	batch_seal(p, &b, 5 * EP + 3);
	assert_int_equal(p->tx.rekeys, 5);
	assert_int_equal(p->tx.key.epoch, 5);
	assert_int_equal(p->kdf.calls, 6);
	for (i = 0; i < b.n; i++)
		assert_int_equal(batch_deliver(p, &b, i, T0 + i), 60);
	assert_int_equal(p->rx.rekeys, 5);
	assert_int_equal(p->rx.cur.epoch, 5);
	assert_int_equal(p->rx.prev.epoch, 4);
	assert_true(p->rx.prev_until_ms == T0 + 5 * EP + DGRAM_OVERLAP_MS);
	batch_free(&b);
	pair_free(p);
}

/*
 * Reordered across a boundary: the next epoch's first packets arrive
 * before the last of the old one, which is still accepted until the
 * overlap ends, and refused as an old epoch after it.
 */
static void
test_epoch_overlap(void **state)
{
	struct pair	*p = pair_new(DGRAM_CHACHA20_POLY1305, EP);
	struct batch	 b = { .n = 0 };
	size_t		 i;

	(void)state;
	batch_seal(p, &b, 2 * EP + 2);
	for (i = 0; i < EP - 4; i++)
		assert_int_equal(batch_deliver(p, &b, i, T0), 60);
	for (i = EP; i < EP + 3; i++)
		assert_int_equal(batch_deliver(p, &b, i, T0), 60);
	assert_int_equal(p->rx.cur.epoch, 1);
	assert_int_equal(batch_deliver(p, &b, EP - 4, T0 + DGRAM_OVERLAP_MS -
	    1), 60);
	assert_int_equal(batch_deliver(p, &b, EP - 3, T0 + DGRAM_OVERLAP_MS),
	    -DGRAM_E_OLD_EPOCH);
	assert_int_equal(p->rx.prev.valid, 0);		/* wiped */
	assert_int_equal(batch_deliver(p, &b, EP - 2, T0 + 20000),
	    -DGRAM_E_OLD_EPOCH);
	/* Two epochs back is old whatever the clock says. */
	for (i = EP + 3; i < 2 * EP + 2; i++)
		assert_int_equal(batch_deliver(p, &b, i, T0 + 20000), 60);
	assert_int_equal(p->rx.cur.epoch, 2);
	assert_int_equal(batch_deliver(p, &b, EP - 1, T0 + 20000),
	    -DGRAM_E_OLD_EPOCH);
	assert_int_equal(batch_deliver(p, &b, 2 * EP - 1, T0 + 20000),
	    -DGRAM_E_REPLAY);
	batch_free(&b);
	pair_free(p);
}

static void
test_future_epoch(void **state)
{
	struct pair	*p = pair_new(DGRAM_AES_256_GCM, EP);
	struct batch	 b = { .n = 0 };

	(void)state;
	/* Before any packet, one epoch past the skip from the first. */
	p->tx.next = (DGRAM_MAX_SKIP + 1) * EP;
	batch_seal(p, &b, 1);
	assert_int_equal(batch_deliver(p, &b, 0, T0), -DGRAM_E_FUTURE_EPOCH);
	assert_int_equal(p->kdf.calls, 1);	/* the sender's key only */
	batch_free(&b);
	p->tx.next = 0;
	batch_seal(p, &b, 1);
	p->tx.next = (DGRAM_MAX_SKIP + 1) * EP;
	batch_seal(p, &b, 1);
	assert_int_equal(batch_deliver(p, &b, 0, T0), 60);
	assert_int_equal(batch_deliver(p, &b, 1, T0), -DGRAM_E_FUTURE_EPOCH);
	/* An epoch no sender can reach. */
	memset(b.d[1] + 8, 0xff, 8);
	assert_int_equal(batch_deliver(p, &b, 1, T0), -DGRAM_E_FUTURE_EPOCH);
	assert_int_equal(p->rx.cur.epoch, 0);
	assert_int_equal(p->rx.rekeys, 0);
	batch_free(&b);
	pair_free(p);
}

/*
 * A sender whose datagrams were all lost for whole epochs (UDP blocked)
 * is followed up to DGRAM_MAX_SKIP epochs ahead, also before its first
 * datagram arrived; forgeries claiming one later epoch derive its key
 * once, not once each.
 */
static void
test_epoch_skip(void **state)
{
	struct pair	*p = pair_new(DGRAM_AES_256_GCM, EP);
	struct batch	 b = { .n = 0 };
	unsigned	 calls, i;

	(void)state;
	p->tx.next = 2 * EP;			/* the first two epochs lost */
	batch_seal(p, &b, 1);
	p->tx.next = (2 + DGRAM_MAX_SKIP) * EP;	/* then a long blockade */
	batch_seal(p, &b, 2);
	assert_int_equal(batch_deliver(p, &b, 0, T0), 60);
	assert_int_equal(p->rx.cur.epoch, 2);
	calls = p->kdf.calls;
	/* The same later epoch, forged again and again: one derivation. */
	for (i = 0; i < 5; i++) {
		b.d[1][DGRAM_HDR_LEN] ^= 0x40;
		assert_int_equal(batch_deliver(p, &b, 1, T0), -DGRAM_E_TAG);
		b.d[1][DGRAM_HDR_LEN] ^= 0x40;
	}
	assert_int_equal(p->kdf.calls, calls + 1);
	assert_int_equal(p->rx.cur.epoch, 2);
	assert_int_equal(batch_deliver(p, &b, 1, T0), 60);
	assert_int_equal(p->kdf.calls, calls + 1);
	assert_int_equal(p->rx.cur.epoch, 2 + DGRAM_MAX_SKIP);
	assert_int_equal(batch_deliver(p, &b, 2, T0), 60);
	batch_free(&b);
	pair_free(p);
}

/* A forged datagram of the next epoch makes no key current. */
static void
test_forged_next_epoch(void **state)
{
	struct pair	*p = pair_new(DGRAM_AES_256_GCM, EP);
	struct batch	 b = { .n = 0 };

	(void)state;
	batch_seal(p, &b, EP + 1);
	assert_int_equal(batch_deliver(p, &b, 0, T0), 60);
	b.d[EP][DGRAM_HDR_LEN] ^= 0x40;
	assert_int_equal(batch_deliver(p, &b, EP, T0), -DGRAM_E_TAG);
	assert_int_equal(p->rx.cur.epoch, 0);
	assert_int_equal(p->rx.prev.valid, 0);
	assert_int_equal(p->rx.rekeys, 0);
	assert_int_equal(batch_deliver(p, &b, 1, T0), 60);
	batch_free(&b);
	pair_free(p);
}

/* Any one bit flipped anywhere, or any byte cut off: refused. */
static void
test_damage(void **state)
{
	struct pair	*p = pair_new(DGRAM_CHACHA20_POLY1305, EP);
	uint8_t		 bad[200];
	size_t		 len, i, bit;
	ssize_t		 n;

	(void)state;
	round_trip(p, DGRAM_DATA, 100);
	len = seal(p, 100, p->ct);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, p->ct, len);
			bad[i] ^= (uint8_t)(1 << bit);
			n = deliver(p, bad, len, T0);
			if (i >= DGRAM_HDR_LEN)
				assert_int_equal(n, -DGRAM_E_TAG);
			else
				assert_true(n < 0);
		}
	}
	for (i = 0; i < len; i++)
		assert_true(deliver(p, p->ct, i, T0) < 0);
	assert_int_equal(p->rx.win.top, 0);
	assert_int_equal(deliver(p, p->ct, len, T0), 100);
	pair_free(p);
}

/* The rid is bound by the tag too, although the caller reads it. */
static void
test_rid_bound(void **state)
{
	struct pair	*p = pair_new(DGRAM_AES_256_GCM, EP);
	size_t		 len;

	(void)state;
	len = seal(p, 100, p->ct);
	p->ct[7] ^= 1;
	assert_int_equal(deliver(p, p->ct, len, T0), -DGRAM_E_TAG);
	pair_free(p);
}

static void
test_derive_fails(void **state)
{
	struct pair	*p = pair_new(DGRAM_AES_256_GCM, EP);
	struct batch	 b = { .n = 0 };

	(void)state;
	batch_seal(p, &b, EP + 1);
	p->kdf.fail_from = 1;
	p->tx.next = 2 * EP;
	assert_int_equal(dgram_seal(&p->tx, DGRAM_DATA, p->pt, 100, p->ct,
	    BIG), -DGRAM_E_CRYPTO);
	assert_true(p->tx.next == 2 * EP);		/* not spent */
	assert_int_equal(p->tx.key.epoch, 1);
	assert_int_equal(batch_deliver(p, &b, 0, T0), 60);
	assert_int_equal(batch_deliver(p, &b, EP, T0), -DGRAM_E_CRYPTO);
	assert_int_equal(p->rx.cur.epoch, 0);
	p->kdf.fail_from = -1;
	assert_int_equal(batch_deliver(p, &b, EP, T0), 60);
	batch_free(&b);
	pair_free(p);

	p = pair_new(DGRAM_CHACHA20_POLY1305, EP);
	p->kdf.fail_from = 0;
	assert_int_equal(dgram_seal(&p->tx, DGRAM_DATA, p->pt, 100, p->ct,
	    BIG), -DGRAM_E_CRYPTO);
	assert_int_equal(p->tx.next, 0);
	pair_free(p);
}

static void
test_init_and_free(void **state)
{
	struct dgram_tx	 tx;
	struct dgram_rx	 rx;
	struct kdf	 kdf = { 1, -1, 0 };
	struct pair	*p;

	(void)state;
	assert_int_equal(dgram_tx_init(&tx, 3, EP, RID, derive, &kdf),
	    -DGRAM_E_CRYPTO);
	assert_int_equal(dgram_tx_init(&tx, DGRAM_AES_256_GCM, EP - 1, RID,
	    derive, &kdf), -DGRAM_E_CRYPTO);
	assert_int_equal(dgram_rx_init(&rx, DGRAM_AES_256_GCM, 0, derive,
	    &kdf), -DGRAM_E_CRYPTO);
	assert_int_equal(dgram_rx_init(&rx, DGRAM_AES_256_GCM,
	    DGRAM_EPOCH_PACKETS + 1, derive, &kdf), -DGRAM_E_CRYPTO);
	memset(&tx, 0, sizeof(tx));
	memset(&rx, 0, sizeof(rx));
	dgram_tx_free(&tx);
	dgram_rx_free(&rx);
	assert_int_equal(kdf.calls, 0);

	p = pair_new(DGRAM_AES_256_GCM, EP);
	round_trip(p, DGRAM_DATA, 100);
	dgram_tx_free(&p->tx);
	dgram_rx_free(&p->rx);
	assert_int_equal(p->tx.key.valid, 0);
	assert_null(p->tx.key.ctx);
	assert_memory_equal(p->tx.key.iv, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	assert_int_equal(p->rx.cur.valid, 0);
	assert_null(p->rx.cur.ctx);
	assert_memory_equal(p->rx.cur.iv, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	pair_free(p);		/* frees again: must be harmless */
}

static void
test_names(void **state)
{
	int	 e, f;

	(void)state;
	for (e = 1; e < DGRAM_E_MAX; e++) {
		assert_string_not_equal(dgram_strerror(-e), "unknown error");
		assert_string_not_equal(dgram_reason(-e), "unknown");
		for (f = 1; f < e; f++)
			assert_string_not_equal(dgram_reason(-e),
			    dgram_reason(-f));
	}
	assert_string_equal(dgram_reason(-DGRAM_E_REPLAY), "replay");
	assert_string_equal(dgram_reason(-DGRAM_E_OLD_EPOCH), "old_epoch");
	assert_string_equal(dgram_strerror(-DGRAM_E_MAX), "unknown error");
	assert_string_equal(dgram_reason(-DGRAM_E_MAX), "unknown");
	assert_string_equal(dgram_aead_name(DGRAM_AES_256_GCM),
	    "aes-256-gcm");
	assert_string_equal(dgram_aead_name(DGRAM_CHACHA20_POLY1305),
	    "chacha20-poly1305");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_seal_errors),
		cmocka_unit_test(test_exhausted),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_replay_slide),
		cmocka_unit_test(test_replay_open),
		cmocka_unit_test(test_forged_then_genuine),
		cmocka_unit_test(test_epochs),
		cmocka_unit_test(test_epoch_overlap),
		cmocka_unit_test(test_future_epoch),
		cmocka_unit_test(test_epoch_skip),
		cmocka_unit_test(test_forged_next_epoch),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_rid_bound),
		cmocka_unit_test(test_derive_fails),
		cmocka_unit_test(test_init_and_free),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

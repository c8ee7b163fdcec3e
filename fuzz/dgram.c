/* SPDX-License-Identifier: ISC */
/*
 * The UDP channel's receiver (lib/dgram.c) as crypt runs it: every
 * datagram through dgram_parse, then dgram_rx_open, against a sender
 * with the same fixed keys. The fuzzer drives both sides: raw datagrams
 * of its own, and datagrams the sender seals, delivered in any order,
 * again, late, damaged or cut short, across key epochs of 64 packets.
 *
 * Checked: dgram_parse refuses exactly what a model of lib/dgram.h
 * refuses, with its reason; no counter is ever accepted twice; a
 * refused datagram leaves the replay window as it was; a damaged
 * datagram is never accepted; a genuine one is refused only as a
 * replay or for its epoch, and is accepted when its epoch is current
 * (or the one before, for DGRAM_OVERLAP_MS after the receiver moved
 * on) and its counter new in the window; what is accepted is what was
 * sealed. Before the steps, seal then open of the input itself (any
 * plaintext, on a fresh pair) must give the input back.
 *
 * Input: byte 0: bit 0 the AEAD; then steps, each an op byte and its
 * arguments (see step()).
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/dgram.h"

#define EP		DGRAM_EPOCH_MIN
#define RID		0x766e6574u
#define HIST		16
#define MAXACC		4096
#define PTMAX		2048	/* sealed plaintexts: small, fast */

/* The exporter's stand-in: key and IV a fixed function of the epoch. */
static int
derive(void *arg, uint32_t epoch, uint8_t key[DGRAM_KEY_LEN],
    uint8_t iv[DGRAM_IV_LEN])
{
	size_t	 i;

	(void)arg;
	for (i = 0; i < DGRAM_KEY_LEN; i++)
		key[i] = (uint8_t)(0x42 + epoch * 11 + i);
	for (i = 0; i < DGRAM_IV_LEN; i++)
		iv[i] = (uint8_t)(0x24 ^ (epoch * 5 + i * 17));
	return 0;
}

struct sent {
	uint8_t		 d[PTMAX + DGRAM_OVERHEAD];
	size_t		 len;
	uint64_t	 ctr;
};

static struct {
	struct dgram_tx	 tx;
	struct dgram_rx	 rx;
	struct sent	 hist[HIST];
	size_t		 nhist;
	uint64_t	 acc[MAXACC];	/* counters accepted */
	size_t		 nacc;
	uint64_t	 now;
	uint64_t	 promoted;	/* when rx last made a key current */
	uint64_t	 prev;		/* the epoch current before that */
	uint8_t		 out[DGRAM_MAX_LEN];
	uint8_t		 big[DGRAM_MAX_LEN];
} S;

struct in {
	const uint8_t	*p;
	size_t		 n;
};

static uint8_t
take8(struct in *in)
{
	uint8_t	 v;

	if (in->n == 0)
		return 0;
	v = in->p[0];
	in->p++;
	in->n--;
	return v;
}

static uint16_t
take16(struct in *in)
{
	return (uint16_t)(take8(in) << 8 | take8(in));
}

/* What dgram.h says dgram_parse answers. */
static int
model_parse(const uint8_t *b, size_t len)
{
	size_t	 pl = len - DGRAM_OVERHEAD;

	if (len < DGRAM_OVERHEAD)
		return -DGRAM_E_SHORT;
	if (b[1] != DGRAM_VERSION)
		return -DGRAM_E_VERSION;
	if (b[0] < DGRAM_DATA || b[0] > DGRAM_PROBE_ACK)
		return -DGRAM_E_TYPE;
	if (b[2] != 0 || b[3] != 0)
		return -DGRAM_E_RESERVED;
	if (b[0] == DGRAM_DATA ? pl < VNET_FRAME_MIN || pl > DGRAM_MAX_FRAME :
	    pl != DGRAM_PROBE_LEN)
		return -DGRAM_E_LENGTH;
	return 0;
}

static int
accepted_before(uint64_t ctr)
{
	size_t	 i;

	for (i = 0; i < S.nacc; i++)
		if (S.acc[i] == ctr)
			return 1;
	return 0;
}

/*
 * Parse and open b[0..len) (an exact-size heap copy); genuine is the
 * datagram as sealed when b is one of ours, NULL for a raw one.
 */
static void
deliver(const uint8_t *b, size_t len, const struct sent *genuine)
{
	struct dgram_replay	 win;
	struct dgram_hdr	 h;
	uint8_t			*q = malloc(len ? len : 1);
	uint64_t		 cur = S.rx.cur.valid ? S.rx.cur.epoch : 0, e;
	uint64_t		 rekeys = S.rx.rekeys;
	int			 rv, same, fresh, overlap;
	ssize_t			 n;

	FUZZ_ASSERT(q != NULL);
	memcpy(q, b, len);
	rv = dgram_parse(q, len, &h);
	FUZZ_ASSERT(rv == model_parse(q, len));
	FUZZ_ASSERT(strcmp(dgram_reason(rv), "unknown") != 0);
	if (rv != 0)
		goto out;
	FUZZ_ASSERT(h.type == q[0] && h.ct == q + DGRAM_HDR_LEN &&
	    h.ctlen == len - DGRAM_OVERHEAD);
	same = genuine != NULL && genuine->len == len &&
	    memcmp(genuine->d, b, len) == 0;
	e = h.ctr / EP;
	fresh = !accepted_before(h.ctr) && (!S.rx.win.any ||
	    h.ctr > S.rx.win.top || S.rx.win.top - h.ctr < DGRAM_WINDOW);
	/* The previous epoch, within DGRAM_OVERLAP_MS of the new one. */
	overlap = S.rx.rekeys > 0 && e == S.prev &&
	    S.now < S.promoted + DGRAM_OVERLAP_MS;
	memcpy(&win, &S.rx.win, sizeof(win));
	n = dgram_rx_open(&S.rx, &h, S.now, S.out, sizeof(S.out));
	if (S.rx.rekeys != rekeys) {
		FUZZ_ASSERT(n >= 0 && S.rx.rekeys == rekeys + 1 &&
		    e > cur && e - cur <= DGRAM_MAX_SKIP && S.rx.cur.epoch == e);
		S.promoted = S.now;
		S.prev = cur;
	}
	if (n < 0) {
		FUZZ_ASSERT(n > -DGRAM_E_MAX && n != -DGRAM_E_SPACE &&
		    n != -DGRAM_E_CRYPTO && n != -DGRAM_E_EXHAUSTED);
		FUZZ_ASSERT(memcmp(&win, &S.rx.win, sizeof(win)) == 0);
		if (same) {
			FUZZ_ASSERT(n != -DGRAM_E_TAG);
			FUZZ_ASSERT(!(fresh && (e == cur || overlap)));
		}
		goto out;
	}
	/* Accepted: ours, undamaged, once, under a key the rx still has. */
	FUZZ_ASSERT((size_t)n == h.ctlen);
	FUZZ_ASSERT(genuine == NULL || same);
	FUZZ_ASSERT(!accepted_before(h.ctr));
	FUZZ_ASSERT(e == S.rx.cur.epoch || overlap);
	FUZZ_ASSERT(S.rx.win.any && S.rx.win.top >= h.ctr);
	FUZZ_ASSERT(dgram_replay_check(&S.rx.win, h.ctr) == -DGRAM_E_REPLAY);
	if (S.nacc < MAXACC)
		S.acc[S.nacc++] = h.ctr;
out:
	free(q);
}

/* Seal len bytes of the input as a datagram of the sender's. */
static void
do_seal(struct in *in, uint8_t op)
{
	struct sent	*s = &S.hist[S.nhist % HIST];
	uint8_t		 pt[PTMAX], type = (uint8_t)(1 + (op >> 3) % 3);
	size_t		 len = take16(in) % PTMAX, i;
	uint64_t	 ctr = S.tx.next, rekeys = S.tx.rekeys;
	int		 rekey;
	ssize_t		 n;

	rekey = S.tx.key.valid && S.tx.key.epoch != ctr / EP;
	if (type != DGRAM_DATA)
		len = DGRAM_PROBE_LEN;
	for (i = 0; i < len; i++)
		pt[i] = take8(in);
	n = dgram_seal(&S.tx, type, pt, len, s->d, sizeof(s->d));
	if (type == DGRAM_DATA && len < VNET_FRAME_MIN) {
		FUZZ_ASSERT(n == -DGRAM_E_LENGTH && S.tx.next == ctr);
		return;
	}
	FUZZ_ASSERT(n == (ssize_t)(len + DGRAM_OVERHEAD));
	FUZZ_ASSERT(S.tx.next == ctr + 1 && S.tx.key.epoch == ctr / EP);
	FUZZ_ASSERT(S.tx.rekeys == rekeys + (uint64_t)rekey);
	FUZZ_ASSERT(s->d[0] == type && fz_get32(s->d + 4) == RID &&
	    ((uint64_t)fz_get32(s->d + 8) << 32 | fz_get32(s->d + 12)) == ctr);
	s->len = (size_t)n;
	s->ctr = ctr;
	S.nhist++;
}

/* Deliver an earlier datagram, as sent or damaged. */
static void
do_send(struct in *in, uint8_t op)
{
	struct sent	*s, bad;
	uint16_t	 at;
	uint8_t		 x;

	if (S.nhist == 0)
		return;
	s = &S.hist[take8(in) % (S.nhist < HIST ? S.nhist : HIST)];
	switch ((op >> 3) & 3) {
	case 0:
	case 1:
		deliver(s->d, s->len, s);
		break;
	case 2:			/* a byte flipped */
		at = (uint16_t)(take16(in) % s->len);
		x = take8(in);
		bad = *s;
		bad.d[at] ^= x == 0 ? 1 : x;
		deliver(bad.d, bad.len, s);
		break;
	case 3:			/* cut short */
		at = take16(in);
		deliver(s->d, at < s->len ? at : s->len, s);
		break;
	}
}

/* A datagram straight from the input. */
static void
do_raw(struct in *in)
{
	size_t	 len = take16(in);

	if (len > in->n)
		len = in->n;
	deliver(in->p, len, NULL);
	in->p += len;
	in->n -= len;
}

static void
step(struct in *in)
{
	uint8_t	 op = take8(in);

	switch (op & 7) {
	case 0:
	case 1:
		do_seal(in, op);
		break;
	case 2:
	case 3:
		do_send(in, op);
		break;
	case 4:
		do_raw(in);
		break;
	case 5:			/* the sender skips counters */
		S.tx.next += (uint64_t)take8(in) * (op & 8 ? EP : 1);
		break;
	case 6:			/* time passes, up to 4 s */
		S.now += take16(in) % (2 * DGRAM_OVERLAP_MS + 1);
		break;
	case 7:
		S.now += DGRAM_OVERLAP_MS;
		break;
	}
}

/* Whatever plaintext, sealed then opened on a fresh pair: itself. */
static void
round_trip(enum dgram_aead aead, const uint8_t *pt, size_t len)
{
	struct dgram_tx		 tx;
	struct dgram_rx		 rx;
	struct dgram_hdr	 h;
	uint8_t			 type = DGRAM_DATA;
	ssize_t			 n;

	if (len > DGRAM_MAX_FRAME)
		len = DGRAM_MAX_FRAME;
	if (len < VNET_FRAME_MIN) {
		if (len < DGRAM_PROBE_LEN)
			return;
		type = DGRAM_PROBE;
		len = DGRAM_PROBE_LEN;
	}
	FUZZ_ASSERT(dgram_tx_init(&tx, aead, EP, RID, derive, NULL) == 0);
	FUZZ_ASSERT(dgram_rx_init(&rx, aead, EP, derive, NULL) == 0);
	n = dgram_seal(&tx, type, pt, len, S.big, len + DGRAM_OVERHEAD);
	FUZZ_ASSERT(n == (ssize_t)(len + DGRAM_OVERHEAD));
	FUZZ_ASSERT(dgram_parse(S.big, (size_t)n, &h) == 0);
	FUZZ_ASSERT(dgram_rx_open(&rx, &h, 0, S.out, len) == (ssize_t)len);
	FUZZ_ASSERT(memcmp(S.out, pt, len) == 0);
	dgram_tx_free(&tx);
	dgram_rx_free(&rx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in		 in = { data, size };
	enum dgram_aead		 aead;
	int			 steps;

	if (size < 1)
		return 0;
	aead = data[0] & 1 ? DGRAM_CHACHA20_POLY1305 : DGRAM_AES_256_GCM;
	round_trip(aead, data + 1, size - 1);
	memset(&S, 0, sizeof(S) - sizeof(S.out) - sizeof(S.big));
	S.now = 1000;
	FUZZ_ASSERT(dgram_tx_init(&S.tx, aead, EP, RID, derive, NULL) == 0);
	FUZZ_ASSERT(dgram_rx_init(&S.rx, aead, EP, derive, NULL) == 0);
	take8(&in);
	for (steps = 0; in.n > 0 && steps < 256; steps++)
		step(&in);
	dgram_tx_free(&S.tx);
	dgram_rx_free(&S.rx);
	return 0;
}

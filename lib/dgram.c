/* SPDX-License-Identifier: ISC */
/*
 * The UDP data channel's datagrams (see lib/dgram.h).
 *
 * Every datagram is hostile until its tag verifies: the header alone is
 * enough to refuse it (parse, epoch, replay), so a flood of forged or
 * replayed datagrams costs no AEAD work, and nothing a datagram says
 * changes any state before its tag has verified.
 *
 * One EVP_CIPHER_CTX per key and epoch, its key set once; per packet
 * only the nonce is set again, so the key schedule is never redone and
 * nothing is allocated on the packet path.
 */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/bytes.h"
#include "lib/dgram.h"

/* The receiver's state before any packet: epoch 0, derived on demand. */
#define FIRST_EPOCH	0

static void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* 0 when a plaintext of len bytes may travel as this type. */
static int
check_type(uint8_t type, size_t len)
{
	switch (type) {
	case DGRAM_DATA:
		if (len < VNET_FRAME_MIN || len > DGRAM_MAX_FRAME)
			return -DGRAM_E_LENGTH;
		return 0;
	case DGRAM_PROBE:
	case DGRAM_PROBE_ACK:
		return len == DGRAM_PROBE_LEN ? 0 : -DGRAM_E_LENGTH;
	default:
		return -DGRAM_E_TYPE;
	}
}

/*
 * The version is checked before the type, so that a datagram of a later
 * version is named as such even if it uses types we do not know.
 */
int
dgram_parse(const uint8_t *buf, size_t len, struct dgram_hdr *h)
{
	int	 rv;

	if (len < DGRAM_OVERHEAD)
		return -DGRAM_E_SHORT;
	if (buf[1] != DGRAM_VERSION)
		return -DGRAM_E_VERSION;
	if (buf[0] < DGRAM_DATA || buf[0] > DGRAM_PROBE_ACK)
		return -DGRAM_E_TYPE;
	if (buf[2] != 0 || buf[3] != 0)
		return -DGRAM_E_RESERVED;
	if ((rv = check_type(buf[0], len - DGRAM_OVERHEAD)) != 0)
		return rv;
	h->type = buf[0];
	h->rid = get_be32(buf + 4);
	h->ctr = get_be64(buf + 8);
	h->ct = buf + DGRAM_HDR_LEN;
	h->ctlen = len - DGRAM_OVERHEAD;
	return 0;
}

static void
put_hdr(uint8_t *p, uint8_t type, uint32_t rid, uint64_t ctr)
{
	p[0] = type;
	p[1] = DGRAM_VERSION;
	p[2] = p[3] = 0;
	put_be32(p + 4, rid);
	put_be64(p + 8, ctr);
}

/*
 * The replay window is a ring of DGRAM_WINDOW bits, counter c at bit
 * c % DGRAM_WINDOW: it holds exactly the DGRAM_WINDOW counters ending
 * at top, and advancing top clears the bits of the counters it skips.
 */
#define WIN_BIT(c)	((c) % DGRAM_WINDOW)

int
dgram_replay_check(const struct dgram_replay *w, uint64_t ctr)
{
	uint64_t	 b;

	if (!w->any || ctr > w->top)
		return 0;
	if (w->top - ctr >= DGRAM_WINDOW)
		return -DGRAM_E_REPLAY;
	b = WIN_BIT(ctr);
	if (w->bits[b / 64] & (1ULL << (b % 64)))
		return -DGRAM_E_REPLAY;
	return 0;
}

/* Clear n bits of the ring from bit b on (n < DGRAM_WINDOW). */
static void
win_clear(struct dgram_replay *w, uint64_t b, uint64_t n)
{
	uint64_t	 k, mask;

	while (n > 0) {
		k = 64 - b % 64;
		if (k > n)
			k = n;
		mask = k == 64 ? ~0ULL : ((1ULL << k) - 1) << (b % 64);
		w->bits[b / 64] &= ~mask;
		n -= k;
		b = WIN_BIT(b + k);
	}
}

void
dgram_replay_update(struct dgram_replay *w, uint64_t ctr)
{
	uint64_t	 b;

	if (!w->any) {
		memset(w->bits, 0, sizeof(w->bits));
		w->any = 1;
		w->top = ctr;
	} else if (ctr > w->top) {
		if (ctr - w->top >= DGRAM_WINDOW)
			memset(w->bits, 0, sizeof(w->bits));
		else
			win_clear(w, WIN_BIT(w->top + 1), ctr - w->top);
		w->top = ctr;
	} else if (w->top - ctr >= DGRAM_WINDOW)
		return;	/* its bit now stands for a newer counter */
	b = WIN_BIT(ctr);
	w->bits[b / 64] |= 1ULL << (b % 64);
}

static const char *
cipher_name(enum dgram_aead aead)
{
	switch (aead) {
	case DGRAM_AES_256_GCM:
		return "AES-256-GCM";
	case DGRAM_CHACHA20_POLY1305:
		return "ChaCha20-Poly1305";
	default:
		return NULL;
	}
}

static void
key_free(struct dgram_key *k)
{
	EVP_CIPHER_CTX_free(k->ctx);	/* wipes the key schedule */
	OPENSSL_cleanse(k->iv, sizeof(k->iv));
	k->ctx = NULL;
	k->valid = 0;
	k->epoch = 0;
}

/* Derive epoch's key into k, ready to seal (enc 1) or open (enc 0). */
static int
key_make(struct dgram_key *k, enum dgram_aead aead, dgram_derive_fn derive,
    void *arg, uint32_t epoch, int enc)
{
	uint8_t		 key[DGRAM_KEY_LEN];
	EVP_CIPHER	*c = NULL;
	int		 rv = -DGRAM_E_CRYPTO;

	memset(k, 0, sizeof(*k));
	if (cipher_name(aead) == NULL || derive(arg, epoch, key, k->iv) != 0)
		goto out;
	if ((c = EVP_CIPHER_fetch(NULL, cipher_name(aead), NULL)) == NULL ||
	    (k->ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex2(k->ctx, c, key, NULL, enc, NULL) != 1)
		goto out;
	k->valid = 1;
	k->epoch = epoch;
	rv = 0;
out:
	EVP_CIPHER_free(c);	/* the context holds its own reference */
	OPENSSL_cleanse(key, sizeof(key));
	if (rv != 0)
		key_free(k);
	return rv;
}

/* The nonce: the epoch's IV, its last 8 bytes XORed with the counter. */
static void
nonce(const struct dgram_key *k, uint64_t ctr, uint8_t n[DGRAM_IV_LEN])
{
	int	 i;

	memcpy(n, k->iv, DGRAM_IV_LEN);
	for (i = DGRAM_IV_LEN - 1; i >= DGRAM_IV_LEN - 8; i--, ctr >>= 8)
		n[i] ^= (uint8_t)ctr;
}

static int
aead_seal(const struct dgram_key *k, uint64_t ctr, const uint8_t *aad,
    const uint8_t *pt, size_t len, uint8_t *ct)
{
	EVP_CIPHER_CTX	*x = k->ctx;
	uint8_t		 n[DGRAM_IV_LEN];
	int		 l, l2;

	nonce(k, ctr, n);
	if (EVP_EncryptInit_ex(x, NULL, NULL, NULL, n) != 1 ||
	    EVP_EncryptUpdate(x, NULL, &l, aad, DGRAM_HDR_LEN) != 1 ||
	    EVP_EncryptUpdate(x, ct, &l, pt, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(x, ct + l, &l2) != 1 ||
	    (size_t)l + (size_t)l2 != len ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, DGRAM_TAG_LEN,
	    ct + len) != 1)
		return -DGRAM_E_CRYPTO;
	return 0;
}

/* Plaintext into pt only if the tag verifies; pt is wiped otherwise. */
static int
aead_open(const struct dgram_key *k, uint64_t ctr, const uint8_t *aad,
    const uint8_t *ct, size_t len, uint8_t *pt)
{
	EVP_CIPHER_CTX	*x = k->ctx;
	uint8_t		 n[DGRAM_IV_LEN], tag[DGRAM_TAG_LEN];
	int		 l, l2;

	nonce(k, ctr, n);
	memcpy(tag, ct + len, sizeof(tag));	/* pt may overlay ct */
	if (EVP_DecryptInit_ex(x, NULL, NULL, NULL, n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, DGRAM_TAG_LEN,
	    tag) != 1 ||
	    EVP_DecryptUpdate(x, NULL, &l, aad, DGRAM_HDR_LEN) != 1 ||
	    EVP_DecryptUpdate(x, pt, &l, ct, (int)len) != 1)
		return -DGRAM_E_CRYPTO;
	if (EVP_DecryptFinal_ex(x, pt + l, &l2) != 1) {
		OPENSSL_cleanse(pt, len);
		return -DGRAM_E_TAG;
	}
	return 0;
}

/* epoch_packets is refused outside what a test or the AEAD allows. */
static int
check_params(enum dgram_aead aead, uint64_t epoch_packets)
{
	if (cipher_name(aead) == NULL || epoch_packets < DGRAM_EPOCH_MIN ||
	    epoch_packets > DGRAM_EPOCH_PACKETS)
		return -DGRAM_E_CRYPTO;
	return 0;
}

int
dgram_tx_init(struct dgram_tx *tx, enum dgram_aead aead,
    uint64_t epoch_packets, uint32_t rid, dgram_derive_fn derive, void *arg)
{
	memset(tx, 0, sizeof(*tx));
	if (check_params(aead, epoch_packets) != 0 || derive == NULL)
		return -DGRAM_E_CRYPTO;
	tx->aead = aead;
	tx->epoch_packets = epoch_packets;
	tx->rid = rid;
	tx->derive = derive;
	tx->arg = arg;
	return 0;
}

int
dgram_rx_init(struct dgram_rx *rx, enum dgram_aead aead,
    uint64_t epoch_packets, dgram_derive_fn derive, void *arg)
{
	memset(rx, 0, sizeof(*rx));
	if (check_params(aead, epoch_packets) != 0 || derive == NULL)
		return -DGRAM_E_CRYPTO;
	rx->aead = aead;
	rx->epoch_packets = epoch_packets;
	rx->derive = derive;
	rx->arg = arg;
	return 0;
}

void
dgram_tx_free(struct dgram_tx *tx)
{
	key_free(&tx->key);
}

void
dgram_rx_free(struct dgram_rx *rx)
{
	key_free(&rx->cur);
	key_free(&rx->prev);
	key_free(&rx->next);
	rx->prev_until_ms = 0;
}

/* The key for counter ctr, derived when the counter enters its epoch. */
static int
tx_key(struct dgram_tx *tx, uint64_t ctr)
{
	struct dgram_key	 k;
	uint64_t		 e = ctr / tx->epoch_packets;
	int			 rv;

	if (tx->key.valid && tx->key.epoch == e)
		return 0;
	if (e > UINT32_MAX)
		return -DGRAM_E_EXHAUSTED;
	if ((rv = key_make(&k, tx->aead, tx->derive, tx->arg, (uint32_t)e,
	    1)) != 0)
		return rv;
	if (tx->key.valid)
		tx->rekeys++;
	key_free(&tx->key);
	tx->key = k;
	return 0;
}

ssize_t
dgram_seal(struct dgram_tx *tx, uint8_t type, const uint8_t *pt,
    size_t ptlen, uint8_t *out, size_t outlen)
{
	int	 rv;

	if (tx->epoch_packets == 0)
		return -DGRAM_E_CRYPTO;		/* not set up */
	if ((rv = check_type(type, ptlen)) != 0)
		return rv;
	if (outlen < ptlen + DGRAM_OVERHEAD)
		return -DGRAM_E_SPACE;
	/*
	 * tx_key() refuses an epoch past UINT32_MAX, which also keeps the
	 * counter below 2^56 (epoch_packets <= 2^24): it never wraps.
	 */
	if ((rv = tx_key(tx, tx->next)) != 0)
		return rv;
	put_hdr(out, type, tx->rid, tx->next);
	if ((rv = aead_seal(&tx->key, tx->next, out, pt, ptlen,
	    out + DGRAM_HDR_LEN)) != 0) {
		OPENSSL_cleanse(out, ptlen + DGRAM_OVERHEAD);
		return rv;
	}
	tx->next++;
	return (ssize_t)(ptlen + DGRAM_OVERHEAD);
}

/* The previous epoch's key is dropped once its overlap is over. */
static void
rx_expire(struct dgram_rx *rx, uint64_t now_ms)
{
	if (rx->prev.valid && now_ms >= rx->prev_until_ms)
		key_free(&rx->prev);
}

/*
 * The key for epoch e: cur or prev, or NULL with *next set when e is
 * a later one (rx->next, to be derived if it is not that epoch's yet,
 * and made cur only once a packet verifies under it). Epoch 0 is the
 * first cur, derived on demand.
 */
static int
rx_pick(struct dgram_rx *rx, uint64_t e, struct dgram_key **k, int *next)
{
	int	 rv;

	*k = NULL;
	*next = 0;
	if (e > UINT32_MAX)
		return -DGRAM_E_FUTURE_EPOCH;
	if (!rx->cur.valid && e <= FIRST_EPOCH + DGRAM_MAX_SKIP &&
	    (rv = key_make(&rx->cur, rx->aead, rx->derive, rx->arg,
	    FIRST_EPOCH, 0)) != 0)
		return rv;
	if (!rx->cur.valid)
		return -DGRAM_E_FUTURE_EPOCH;
	if (e == rx->cur.epoch)
		*k = &rx->cur;
	else if (e > rx->cur.epoch && e - rx->cur.epoch <= DGRAM_MAX_SKIP)
		*next = 1;
	else if (e > rx->cur.epoch)
		return -DGRAM_E_FUTURE_EPOCH;
	else if (rx->prev.valid && e == rx->prev.epoch)
		*k = &rx->prev;
	else
		return -DGRAM_E_OLD_EPOCH;
	return 0;
}

/* The later epoch's key verified a packet: it becomes cur. */
static void
rx_promote(struct dgram_rx *rx, uint64_t now_ms)
{
	key_free(&rx->prev);
	rx->prev = rx->cur;
	rx->prev_until_ms = now_ms + DGRAM_OVERLAP_MS;
	rx->cur = rx->next;
	memset(&rx->next, 0, sizeof(rx->next));
	rx->rekeys++;
}

/* rx->next for epoch e, derived unless it already is e's. */
static int
rx_next(struct dgram_rx *rx, uint64_t e)
{
	if (rx->next.valid && rx->next.epoch == e)
		return 0;
	key_free(&rx->next);
	return key_make(&rx->next, rx->aead, rx->derive, rx->arg,
	    (uint32_t)e, 0);
}

ssize_t
dgram_rx_open(struct dgram_rx *rx, const struct dgram_hdr *h,
    uint64_t now_ms, uint8_t *out, size_t outlen)
{
	struct dgram_key	*k;
	uint8_t			 aad[DGRAM_HDR_LEN];
	uint64_t		 e;
	int			 next, rv;

	if (rx->epoch_packets == 0 || h->ctlen > DGRAM_MAX_FRAME)
		return -DGRAM_E_CRYPTO;	/* not set up, or not parsed */
	if (outlen < h->ctlen)
		return -DGRAM_E_SPACE;
	rx_expire(rx, now_ms);
	e = h->ctr / rx->epoch_packets;
	if ((rv = rx_pick(rx, e, &k, &next)) != 0)
		return rv;
	if ((rv = dgram_replay_check(&rx->win, h->ctr)) != 0)
		return rv;
	if (next) {
		if ((rv = rx_next(rx, e)) != 0)
			return rv;
		k = &rx->next;
	}
	put_hdr(aad, h->type, h->rid, h->ctr);
	if ((rv = aead_open(k, h->ctr, aad, h->ct, h->ctlen, out)) != 0)
		return rv;
	if (next)
		rx_promote(rx, now_ms);
	dgram_replay_update(&rx->win, h->ctr);
	return (ssize_t)h->ctlen;
}

const char *
dgram_strerror(int err)
{
	static const char *const msg[DGRAM_E_MAX] = {
		[DGRAM_OK] = "no error",
		[DGRAM_E_SHORT] = "datagram shorter than header and tag",
		[DGRAM_E_TYPE] = "unknown datagram type",
		[DGRAM_E_VERSION] = "unsupported datagram version",
		[DGRAM_E_RESERVED] = "reserved header bytes not zero",
		[DGRAM_E_LENGTH] = "length not allowed for the datagram type",
		[DGRAM_E_REPLAY] = "counter replayed or older than the window",
		[DGRAM_E_OLD_EPOCH] = "key epoch no longer accepted",
		[DGRAM_E_FUTURE_EPOCH] = "key epoch too far ahead",
		[DGRAM_E_TAG] = "authentication failed",
		[DGRAM_E_SPACE] = "output buffer too small",
		[DGRAM_E_CRYPTO] = "crypto library failure",
		[DGRAM_E_EXHAUSTED] = "counter or key epochs used up",
	};
	unsigned	 u;

	u = err < 0 ? 0U - (unsigned)err : (unsigned)err;
	if (u >= DGRAM_E_MAX)
		return "unknown error";
	return msg[u];
}

const char *
dgram_reason(int err)
{
	static const char *const name[DGRAM_E_MAX] = {
		[DGRAM_OK] = "ok",
		[DGRAM_E_SHORT] = "short",
		[DGRAM_E_TYPE] = "type",
		[DGRAM_E_VERSION] = "version",
		[DGRAM_E_RESERVED] = "reserved",
		[DGRAM_E_LENGTH] = "length",
		[DGRAM_E_REPLAY] = "replay",
		[DGRAM_E_OLD_EPOCH] = "old_epoch",
		[DGRAM_E_FUTURE_EPOCH] = "future_epoch",
		[DGRAM_E_TAG] = "tag",
		[DGRAM_E_SPACE] = "space",
		[DGRAM_E_CRYPTO] = "crypto",
		[DGRAM_E_EXHAUSTED] = "exhausted",
	};
	unsigned	 u;

	u = err < 0 ? 0U - (unsigned)err : (unsigned)err;
	if (u >= DGRAM_E_MAX)
		return "unknown";
	return name[u];
}

const char *
dgram_aead_name(enum dgram_aead aead)
{
	switch (aead) {
	case DGRAM_AES_256_GCM:
		return "aes-256-gcm";
	case DGRAM_CHACHA20_POLY1305:
		return "chacha20-poly1305";
	default:
		return "unknown";
	}
}

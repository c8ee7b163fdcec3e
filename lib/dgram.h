/* SPDX-License-Identifier: ISC */
/*
 * The UDP data channel's datagrams. TLS 1.3 over TCP stays the control
 * channel (handshake, hello, authorization); frames then travel as
 * AEAD-sealed datagrams whose keys come from the TLS session's exporter,
 * one key per direction and key epoch.
 *
 * A datagram, all integers big-endian:
 *   byte 0      type (enum dgram_type)
 *   byte 1      version, DGRAM_VERSION
 *   bytes 2-3   zero
 *   bytes 4-7   receiver id: the 32-bit id the receiving end announced
 *               over TLS for this link (wire.h, WIRE_UDP)
 *   bytes 8-15  counter: the sender's packet number in this direction,
 *               from 0, never reused; epoch = counter / epoch_packets
 *   then the ciphertext and a DGRAM_TAG_LEN-byte tag.
 * The 16 header bytes are the AEAD's additional data; the nonce is the
 * epoch's 12-byte IV XORed with the counter in its last 8 bytes.
 * Plaintext by type: DATA an Ethernet frame (VNET_FRAME_MIN..
 * DGRAM_MAX_FRAME bytes); PROBE and PROBE_ACK exactly DGRAM_PROBE_LEN
 * bytes (a probe's id, echoed by the ack).
 *
 * Receiving: dgram_parse() (pure: no keys, no state) checks the header
 * and lengths; dgram_rx_open() then picks the epoch's key, refuses a
 * replay before any crypto, verifies the tag, and only then marks the
 * counter seen in the replay window. Every refusal is a negated
 * enum dgram_err naming its reason.
 */
#ifndef VNET_LIB_DGRAM_H
#define VNET_LIB_DGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/frame.h"

#define DGRAM_VERSION		1
#define DGRAM_HDR_LEN		16
#define DGRAM_TAG_LEN		16
#define DGRAM_OVERHEAD		(DGRAM_HDR_LEN + DGRAM_TAG_LEN)
#define DGRAM_PROBE_LEN		8
/* A UDP payload can hold at most 65507 bytes (IPv4). */
#define DGRAM_MAX_LEN		65507
#define DGRAM_MAX_FRAME		(DGRAM_MAX_LEN - DGRAM_OVERHEAD)
#define DGRAM_KEY_LEN		32
#define DGRAM_IV_LEN		12
/* Replay window, in packets (a multiple of 64). */
#define DGRAM_WINDOW		4096
/*
 * Packets per key epoch, by default: under AES-GCM's limit of 2^24.5
 * full-size records (RFC 8446, 5.5), ChaCha20-Poly1305's is higher.
 */
#define DGRAM_EPOCH_PACKETS	(1ULL << 24)
#define DGRAM_EPOCH_MIN		64	/* the lowest a test may set */
/* The previous epoch's key stays usable this long after a new one. */
#define DGRAM_OVERLAP_MS	2000
/*
 * How far ahead of the current epoch a datagram may be: a sender whose
 * datagrams were all lost for whole epochs (UDP blocked, a probe at a
 * time) must not be locked out for good.
 */
#define DGRAM_MAX_SKIP		1024

enum dgram_type {
	DGRAM_DATA = 1,
	DGRAM_PROBE = 2,
	DGRAM_PROBE_ACK = 3,
};

enum dgram_aead {
	DGRAM_AES_256_GCM = 1,
	DGRAM_CHACHA20_POLY1305 = 2,
};

enum dgram_err {
	DGRAM_OK = 0,
	DGRAM_E_SHORT,		/* shorter than header + tag */
	DGRAM_E_TYPE,		/* unknown type */
	DGRAM_E_VERSION,	/* another version */
	DGRAM_E_RESERVED,	/* reserved bytes not zero */
	DGRAM_E_LENGTH,		/* plaintext length not allowed for the type */
	DGRAM_E_REPLAY,		/* counter seen, or older than the window */
	DGRAM_E_OLD_EPOCH,	/* epoch whose key is gone */
	DGRAM_E_FUTURE_EPOCH,	/* epoch more than DGRAM_MAX_SKIP ahead */
	DGRAM_E_TAG,		/* authentication failed */
	DGRAM_E_SPACE,		/* output buffer too small */
	DGRAM_E_CRYPTO,		/* the library failed (not the packet) */
	DGRAM_E_EXHAUSTED,	/* sender: counter or epoch space used up */
	DGRAM_E_MAX
};

struct dgram_hdr {
	uint8_t		 type;
	uint32_t	 rid;
	uint64_t	 ctr;
	const uint8_t	*ct;		/* ciphertext, into the datagram */
	size_t		 ctlen;		/* ciphertext = plaintext length */
};

/* Check a datagram's header and length. 0 or a negated dgram_err. */
int		 dgram_parse(const uint8_t *buf, size_t len,
		    struct dgram_hdr *h);

/* The replay window: the highest counter seen and a bitmap below it. */
struct dgram_replay {
	int		 any;		/* a counter has been accepted */
	uint64_t	 top;
	uint64_t	 bits[DGRAM_WINDOW / 64];
};
/* 0 if ctr may be new, -DGRAM_E_REPLAY if seen or below the window. */
int		 dgram_replay_check(const struct dgram_replay *, uint64_t ctr);
/* Mark ctr seen (after its tag verified). */
void		 dgram_replay_update(struct dgram_replay *, uint64_t ctr);

/*
 * Key material of one direction and epoch, from the TLS exporter: the
 * caller's derive() fills key and iv for an epoch; 0 or -1.
 */
typedef int	(*dgram_derive_fn)(void *arg, uint32_t epoch,
		    uint8_t key[DGRAM_KEY_LEN], uint8_t iv[DGRAM_IV_LEN]);

struct dgram_key {
	int		 valid;
	uint32_t	 epoch;
	uint8_t		 iv[DGRAM_IV_LEN];
	void		*ctx;		/* EVP_CIPHER_CTX, key set */
};

struct dgram_tx {
	enum dgram_aead	 aead;
	uint64_t	 epoch_packets;
	uint64_t	 next;		/* next counter */
	uint32_t	 rid;		/* the receiver's id */
	struct dgram_key key;
	dgram_derive_fn	 derive;
	void		*arg;
	uint64_t	 rekeys;	/* epochs entered after the first */
};

struct dgram_rx {
	enum dgram_aead	 aead;
	uint64_t	 epoch_packets;	/* the sender's, from its WIRE_UDP */
	struct dgram_replay win;
	struct dgram_key cur, prev;
	struct dgram_key next;		/* a later epoch's, not yet verified */
	uint64_t	 prev_until_ms;	/* prev usable until then */
	dgram_derive_fn	 derive;
	void		*arg;
	uint64_t	 rekeys;
};

/* Set up; no key is derived yet. 0 or -DGRAM_E_CRYPTO. */
int		 dgram_tx_init(struct dgram_tx *, enum dgram_aead,
		    uint64_t epoch_packets, uint32_t rid, dgram_derive_fn,
		    void *arg);
int		 dgram_rx_init(struct dgram_rx *, enum dgram_aead,
		    uint64_t epoch_packets, dgram_derive_fn, void *arg);
/* Free and wipe every key. Safe on a zeroed or freed struct. */
void		 dgram_tx_free(struct dgram_tx *);
void		 dgram_rx_free(struct dgram_rx *);

/*
 * Seal one plaintext as a datagram of this type into out, taking the
 * next counter (and the next epoch's key when the counter crosses into
 * it). Returns the datagram's length or a negated dgram_err; the
 * counter is spent only on success.
 */
ssize_t		 dgram_seal(struct dgram_tx *, uint8_t type, const uint8_t *pt,
		    size_t ptlen, uint8_t *out, size_t outlen);

/*
 * Open a datagram dgram_parse() accepted. Key choice: the current
 * epoch's, the previous one's until prev_until_ms, or a later epoch's,
 * at most DGRAM_MAX_SKIP ahead (derived once and kept in next, made
 * current only once a packet verifies under it; the old current
 * becomes prev for DGRAM_OVERLAP_MS). Forgeries that claim a later
 * epoch cost one derivation per distinct epoch, not one per packet. Order: epoch, replay
 * window, tag, then the window is updated. Returns the plaintext length
 * (in out) or a negated dgram_err.
 */
ssize_t		 dgram_rx_open(struct dgram_rx *, const struct dgram_hdr *,
		    uint64_t now_ms, uint8_t *out, size_t outlen);

const char	*dgram_strerror(int err);
/* A short name for counters and audit records: "replay", "tag", .. */
const char	*dgram_reason(int err);
const char	*dgram_aead_name(enum dgram_aead);

#endif

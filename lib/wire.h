/* SPDX-License-Identifier: ISC */
/*
 * The peer-to-peer wire protocol, spoken inside TLS 1.3.
 *
 * Every record: a 4-byte header, then the payload.
 *   byte 0     type (enum wire_type)
 *   bytes 1-3  payload length, 24-bit big-endian
 * Per-type payload rules (anything else is an error, never guessed at):
 *   HELLO      exactly 8 + 6 * nmacs bytes:
 *                "VNET" magic (4), version (1), role (1),
 *                nmacs (2, big-endian, <= WIRE_HELLO_MAX_MACS), macs
 *   FRAME      an Ethernet frame, VNET_FRAME_MIN..VNET_FRAME_MAX bytes
 *   KEEPALIVE  exactly 0 bytes
 *   CLOSE      exactly 2 bytes: reason code (big-endian, enum wire_close)
 *   UDP        exactly WIRE_UDP_LEN bytes: the sender's UDP offer
 *                version (1), AEAD it seals with (1, enum dgram_aead),
 *                zero (2), receiver id it wants datagrams under (4),
 *                its UDP port (2, 0 on a host), zero (2),
 *                packets per key epoch it seals (4)
 *   TRANSPORT  exactly 1 byte: what the host sends frames on from now
 *                (enum wire_transport); the proxy follows
 * Pure functions: no I/O, no globals, no allocation.
 */
#ifndef VNET_LIB_WIRE_H
#define VNET_LIB_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/frame.h"

#define WIRE_MAGIC		"VNET"
#define WIRE_VERSION		1
#define WIRE_HDR_LEN		4
#define WIRE_HELLO_MAX_MACS	1024
#define WIRE_HELLO_FIXED	8
#define WIRE_MAX_PAYLOAD	VNET_FRAME_MAX
#define WIRE_MAX_RECORD		(WIRE_HDR_LEN + WIRE_MAX_PAYLOAD)

enum wire_type {
	WIRE_HELLO = 1,
	WIRE_FRAME = 2,
	WIRE_KEEPALIVE = 3,
	WIRE_CLOSE = 4,
	WIRE_UDP = 5,
	WIRE_TRANSPORT = 6,
};

#define WIRE_UDP_LEN		16
#define WIRE_UDP_VERSION	1

enum wire_transport {
	WIRE_TRANSPORT_TCP = 1,
	WIRE_TRANSPORT_UDP = 2,
};

struct wire_udp {
	uint8_t		 aead;
	uint32_t	 rid;
	uint16_t	 port;
	uint32_t	 epoch_packets;
};

enum wire_role {
	WIRE_ROLE_HOST = 1,
	WIRE_ROLE_PROXY = 2,
};

enum wire_close {
	WIRE_CLOSE_SHUTDOWN = 1,	/* orderly stop */
	WIRE_CLOSE_PROTOCOL = 2,	/* peer broke the protocol */
	WIRE_CLOSE_UNAUTHORIZED = 3,	/* peer not authorized */
	WIRE_CLOSE_TIMEOUT = 4,		/* keepalive timeout */
};

enum wire_err {
	WIRE_OK = 0,
	WIRE_E_TYPE,		/* unknown record type */
	WIRE_E_LENGTH,		/* length not allowed for this type */
	WIRE_E_MAGIC,		/* hello without the magic */
	WIRE_E_VERSION,		/* unsupported protocol version */
	WIRE_E_ROLE,		/* unknown role */
	WIRE_E_MACS,		/* nmacs too large or inconsistent with length */
	WIRE_E_SPACE,		/* encoder output buffer too small */
	WIRE_E_UDP,		/* bad UDP offer (version, zero bytes, values) */
	WIRE_E_MAX
};

struct wire_rec {
	uint8_t		 type;
	size_t		 len;		/* payload length */
	const uint8_t	*payload;	/* points into the decoded buffer */
};

struct wire_hello {
	uint8_t		 version;
	uint8_t		 role;
	uint16_t	 nmacs;
	const uint8_t	*macs;		/* nmacs * 6 bytes, into the payload */
};

/*
 * Decode one record from the front of buf. Returns the number of bytes
 * the record occupies (> 0) with *rec filled, 0 when buf holds only part
 * of a record (read more), or a negated enum wire_err. Header checks
 * (type, length bounds) are done as soon as the 4 header bytes are in,
 * so an oversize record is refused before its payload arrives.
 */
ssize_t		 wire_decode(const uint8_t *buf, size_t len, struct wire_rec *rec);
/* Validate and split a HELLO payload. 0 or a negated enum wire_err. */
int		 wire_parse_hello(const uint8_t *p, size_t len, struct wire_hello *h);
/* Validate a CLOSE payload; *reason gets the code. */
int		 wire_parse_close(const uint8_t *p, size_t len, uint16_t *reason);

/*
 * Validate a UDP offer: version, zero bytes, an AEAD of enum
 * dgram_aead, a nonzero receiver id, epoch_packets in
 * [epoch_min, epoch_max]. 0 or a negated enum wire_err.
 */
int		 wire_parse_udp(const uint8_t *p, size_t len, uint32_t epoch_min,
		    uint32_t epoch_max, struct wire_udp *u);
/* Validate a TRANSPORT payload; *t gets enum wire_transport. */
int		 wire_parse_transport(const uint8_t *p, size_t len, uint8_t *t);
ssize_t		 wire_encode_udp(uint8_t *out, size_t outlen,
		    const struct wire_udp *u);
ssize_t		 wire_encode_transport(uint8_t *out, size_t outlen, uint8_t t);

/* Write a record header. */
void		 wire_put_hdr(uint8_t out[WIRE_HDR_LEN], uint8_t type, size_t len);
/* Encoders: return bytes written (header included) or -WIRE_E_SPACE. */
ssize_t		 wire_encode_hello(uint8_t *out, size_t outlen, uint8_t role,
		    const uint8_t *macs, size_t nmacs);
ssize_t		 wire_encode_keepalive(uint8_t *out, size_t outlen);
ssize_t		 wire_encode_close(uint8_t *out, size_t outlen, uint16_t reason);

const char	*wire_strerror(int err);
const char	*wire_type_name(uint8_t type);

#endif

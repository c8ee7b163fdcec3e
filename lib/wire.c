/* SPDX-License-Identifier: ISC */
/*
 * Record codec for the peer-to-peer protocol (see lib/wire.h).
 * Every input is hostile: lengths are checked before any byte is read,
 * and the header alone is enough to refuse a record, so a peer cannot
 * make us buffer a payload we would reject anyway.
 */
#include <string.h>

#include "lib/bytes.h"
#include "lib/wire.h"

#define WIRE_HELLO_MAX	(WIRE_HELLO_FIXED + VNET_ETH_ALEN * WIRE_HELLO_MAX_MACS)

/* 0 when a payload of plen bytes may follow a header of this type. */
static int
check_hdr(uint8_t type, size_t plen)
{
	switch (type) {
	case WIRE_HELLO:
		if (plen < WIRE_HELLO_FIXED || plen > WIRE_HELLO_MAX ||
		    (plen - WIRE_HELLO_FIXED) % VNET_ETH_ALEN != 0)
			return -WIRE_E_LENGTH;
		return 0;
	case WIRE_FRAME:
		if (plen < VNET_FRAME_MIN || plen > VNET_FRAME_MAX)
			return -WIRE_E_LENGTH;
		return 0;
	case WIRE_KEEPALIVE:
		return plen == 0 ? 0 : -WIRE_E_LENGTH;
	case WIRE_CLOSE:
		return plen == 2 ? 0 : -WIRE_E_LENGTH;
	case WIRE_UDP:
		return plen == WIRE_UDP_LEN ? 0 : -WIRE_E_LENGTH;
	case WIRE_TRANSPORT:
		return plen == 1 ? 0 : -WIRE_E_LENGTH;
	default:
		return -WIRE_E_TYPE;
	}
}

ssize_t
wire_decode(const uint8_t *buf, size_t len, struct wire_rec *rec)
{
	size_t	plen;
	int	rv;

	if (len < WIRE_HDR_LEN)
		return 0;
	plen = get_be24(buf + 1);
	if ((rv = check_hdr(buf[0], plen)) != 0)
		return rv;
	if (len - WIRE_HDR_LEN < plen)
		return 0;
	rec->type = buf[0];
	rec->len = plen;
	rec->payload = buf + WIRE_HDR_LEN;
	return (ssize_t)(WIRE_HDR_LEN + plen);
}

int
wire_parse_hello(const uint8_t *p, size_t len, struct wire_hello *h)
{
	uint16_t	n;

	if (len < WIRE_HELLO_FIXED)
		return -WIRE_E_LENGTH;
	if (memcmp(p, WIRE_MAGIC, 4) != 0)
		return -WIRE_E_MAGIC;
	if (p[4] != WIRE_VERSION)
		return -WIRE_E_VERSION;
	if (p[5] != WIRE_ROLE_HOST && p[5] != WIRE_ROLE_PROXY)
		return -WIRE_E_ROLE;
	n = get_be16(p + 6);
	if (n > WIRE_HELLO_MAX_MACS ||
	    len != WIRE_HELLO_FIXED + (size_t)n * VNET_ETH_ALEN)
		return -WIRE_E_MACS;
	h->version = p[4];
	h->role = p[5];
	h->nmacs = n;
	h->macs = p + WIRE_HELLO_FIXED;
	return 0;
}

/* Any reason code is accepted: a newer peer may know more of them. */
int
wire_parse_close(const uint8_t *p, size_t len, uint16_t *reason)
{
	if (len != 2)
		return -WIRE_E_LENGTH;
	*reason = get_be16(p);
	return 0;
}

int
wire_parse_udp(const uint8_t *p, size_t len, uint32_t epoch_min,
    uint32_t epoch_max, struct wire_udp *u)
{
	if (len != WIRE_UDP_LEN)
		return -WIRE_E_LENGTH;
	if (p[0] != WIRE_UDP_VERSION || p[2] != 0 || p[3] != 0 ||
	    p[10] != 0 || p[11] != 0)
		return -WIRE_E_UDP;
	u->aead = p[1];
	u->rid = get_be32(p + 4);
	u->port = get_be16(p + 8);
	u->epoch_packets = get_be32(p + 12);
	/* 1 and 2: enum dgram_aead (lib/dgram.h), kept out of this file. */
	if ((u->aead != 1 && u->aead != 2) || u->rid == 0 ||
	    u->epoch_packets < epoch_min || u->epoch_packets > epoch_max)
		return -WIRE_E_UDP;
	return 0;
}

int
wire_parse_transport(const uint8_t *p, size_t len, uint8_t *t)
{
	if (len != 1)
		return -WIRE_E_LENGTH;
	if (p[0] != WIRE_TRANSPORT_TCP && p[0] != WIRE_TRANSPORT_UDP)
		return -WIRE_E_UDP;
	*t = p[0];
	return 0;
}

ssize_t
wire_encode_udp(uint8_t *out, size_t outlen, const struct wire_udp *u)
{
	if (outlen < WIRE_HDR_LEN + WIRE_UDP_LEN)
		return -WIRE_E_SPACE;
	wire_put_hdr(out, WIRE_UDP, WIRE_UDP_LEN);
	out += WIRE_HDR_LEN;
	memset(out, 0, WIRE_UDP_LEN);
	out[0] = WIRE_UDP_VERSION;
	out[1] = u->aead;
	put_be32(out + 4, u->rid);
	put_be16(out + 8, u->port);
	put_be32(out + 12, u->epoch_packets);
	return WIRE_HDR_LEN + WIRE_UDP_LEN;
}

ssize_t
wire_encode_transport(uint8_t *out, size_t outlen, uint8_t t)
{
	if (outlen < WIRE_HDR_LEN + 1)
		return -WIRE_E_SPACE;
	wire_put_hdr(out, WIRE_TRANSPORT, 1);
	out[WIRE_HDR_LEN] = t;
	return WIRE_HDR_LEN + 1;
}

void
wire_put_hdr(uint8_t out[WIRE_HDR_LEN], uint8_t type, size_t len)
{
	out[0] = type;
	put_be24(out + 1, (uint32_t)len);
}

/*
 * Besides -WIRE_E_SPACE, refuses (with -WIRE_E_ROLE / -WIRE_E_MACS) to
 * build a hello that wire_parse_hello() on the other side would reject.
 */
ssize_t
wire_encode_hello(uint8_t *out, size_t outlen, uint8_t role,
    const uint8_t *macs, size_t nmacs)
{
	size_t	plen;

	if (role != WIRE_ROLE_HOST && role != WIRE_ROLE_PROXY)
		return -WIRE_E_ROLE;
	if (nmacs > WIRE_HELLO_MAX_MACS)
		return -WIRE_E_MACS;
	plen = WIRE_HELLO_FIXED + nmacs * VNET_ETH_ALEN;
	if (outlen < WIRE_HDR_LEN + plen)
		return -WIRE_E_SPACE;
	wire_put_hdr(out, WIRE_HELLO, plen);
	out += WIRE_HDR_LEN;
	memcpy(out, WIRE_MAGIC, 4);
	out[4] = WIRE_VERSION;
	out[5] = role;
	put_be16(out + 6, (uint16_t)nmacs);
	if (nmacs > 0)
		memcpy(out + WIRE_HELLO_FIXED, macs, nmacs * VNET_ETH_ALEN);
	return (ssize_t)(WIRE_HDR_LEN + plen);
}

ssize_t
wire_encode_keepalive(uint8_t *out, size_t outlen)
{
	if (outlen < WIRE_HDR_LEN)
		return -WIRE_E_SPACE;
	wire_put_hdr(out, WIRE_KEEPALIVE, 0);
	return WIRE_HDR_LEN;
}

ssize_t
wire_encode_close(uint8_t *out, size_t outlen, uint16_t reason)
{
	if (outlen < WIRE_HDR_LEN + 2)
		return -WIRE_E_SPACE;
	wire_put_hdr(out, WIRE_CLOSE, 2);
	put_be16(out + WIRE_HDR_LEN, reason);
	return WIRE_HDR_LEN + 2;
}

/* Takes the code either way round, since decoders return it negated. */
const char *
wire_strerror(int err)
{
	static const char *const msg[WIRE_E_MAX] = {
		[WIRE_OK] = "no error",
		[WIRE_E_TYPE] = "unknown record type",
		[WIRE_E_LENGTH] = "record length not allowed for its type",
		[WIRE_E_MAGIC] = "hello without the VNET magic",
		[WIRE_E_VERSION] = "unsupported protocol version",
		[WIRE_E_ROLE] = "unknown role",
		[WIRE_E_MACS] = "bad MAC count in hello",
		[WIRE_E_SPACE] = "output buffer too small",
		[WIRE_E_UDP] = "bad UDP offer or transport",
	};
	unsigned	u;

	u = err < 0 ? 0U - (unsigned)err : (unsigned)err;
	if (u >= WIRE_E_MAX)
		return "unknown error";
	return msg[u];
}

const char *
wire_type_name(uint8_t type)
{
	switch (type) {
	case WIRE_HELLO:
		return "HELLO";
	case WIRE_FRAME:
		return "FRAME";
	case WIRE_KEEPALIVE:
		return "KEEPALIVE";
	case WIRE_CLOSE:
		return "CLOSE";
	case WIRE_UDP:
		return "UDP";
	case WIRE_TRANSPORT:
		return "TRANSPORT";
	default:
		return "unknown";
	}
}

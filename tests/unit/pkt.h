/* SPDX-License-Identifier: ISC */
/*
 * Frame builders shared by the unit tests (test_frame.c, test_offload.c).
 * A frame is appended field by field in network order, so each offset
 * a test asserts can be read off its builder; running out of room is a
 * test failure, never an overflow. Include after cmocka.h.
 */
#ifndef VNET_TESTS_UNIT_PKT_H
#define VNET_TESTS_UNIT_PKT_H

#include <stdint.h>
#include <string.h>

#include "lib/bytes.h"
#include "lib/frame.h"

/* Room for the largest frame vnet carries, and a little to spare. */
#define PKT_MAX		(VNET_FRAME_MAX + 64)

struct pkt {
	uint8_t	 b[PKT_MAX];
	size_t	 n;
};

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };
static const uint8_t ip_a[4] = { 10, 0, 0, 1 };
static const uint8_t ip_b[4] = { 10, 0, 0, 2 };

static inline void
p8(struct pkt *p, uint8_t v)
{
	assert_true(p->n < sizeof(p->b));
	p->b[p->n++] = v;
}

static inline void
p16(struct pkt *p, uint16_t v)
{
	p8(p, (uint8_t)(v >> 8));
	p8(p, (uint8_t)v);
}

static inline void
p32(struct pkt *p, uint32_t v)
{
	p16(p, (uint16_t)(v >> 16));
	p16(p, (uint16_t)v);
}

static inline void
pbytes(struct pkt *p, const void *src, size_t n)
{
	assert_true(n <= sizeof(p->b) - p->n);
	memcpy(p->b + p->n, src, n);
	p->n += n;
}

static inline void
pfill(struct pkt *p, uint8_t v, size_t n)
{
	assert_true(n <= sizeof(p->b) - p->n);
	memset(p->b + p->n, v, n);
	p->n += n;
}

/* Overwrite a 16-bit field already appended (a length, a checksum). */
static inline void
set16(struct pkt *p, size_t off, uint16_t v)
{
	assert_true(off + 2 <= p->n);
	put_be16(p->b + off, v);
}

/* A VLAN tag's TCI and the ethertype that follows it. */
static inline void
vlan(struct pkt *p, uint16_t tci, uint16_t next)
{
	p16(p, tci);
	p16(p, next);
}

/*
 * An IPv4 header with DF, TTL 64, optwords words of NOP options, and
 * total length and checksum 0 for the test to set. Returns its offset.
 */
static inline size_t
pkt_ipv4(struct pkt *p, uint8_t proto, uint8_t tos, uint16_t id,
    const uint8_t *src, const uint8_t *dst, size_t optwords)
{
	size_t	 l3 = p->n;

	p8(p, (uint8_t)(0x40 | (5 + optwords)));
	p8(p, tos);
	p16(p, 0);
	p16(p, id);
	p16(p, 0x4000);
	p8(p, 64);
	p8(p, proto);
	p16(p, 0);
	pbytes(p, src, 4);
	pbytes(p, dst, 4);
	pfill(p, 1, optwords * 4);
	return l3;
}

/*
 * A TCP header from port 40000, ack 0x0a0b0c0d, optwords words of NOP
 * options, checksum 0 for the test to set.
 */
static inline void
pkt_tcp(struct pkt *p, uint16_t dport, uint32_t seq, uint8_t flags,
    uint16_t win, size_t optwords)
{
	p16(p, 40000);
	p16(p, dport);
	p32(p, seq);
	p32(p, 0x0a0b0c0d);
	p8(p, (uint8_t)((5 + optwords) << 4));
	p8(p, flags);
	p16(p, win);
	p16(p, 0);
	p16(p, 0);
	pfill(p, 1, optwords * 4);
}

/* An IPv6 header, payload length 0 for the test to set. Its offset. */
static inline size_t
pkt_ipv6(struct pkt *p, uint8_t nh, uint8_t hlim, const uint8_t *src,
    const uint8_t *dst)
{
	size_t	 l3 = p->n;

	p32(p, 0x60000000);
	p16(p, 0);
	p8(p, nh);
	p8(p, hlim);
	pbytes(p, src, 16);
	pbytes(p, dst, 16);
	return l3;
}

#endif

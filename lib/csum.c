/* SPDX-License-Identifier: ISC */
/*
 * Internet checksum (RFC 1071). Sums are of big-endian 16-bit words, so
 * a folded result is stored on the wire with a big-endian write.
 */
#include "lib/csum.h"

/* End-around carry back into 32 bits: 2^32 == 1 modulo 0xffff. */
static uint32_t
fold64(uint64_t acc)
{
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

/*
 * An odd len pads with a zero byte, so only the last chunk of a
 * multi-call sum may have an odd length. The 64-bit accumulator cannot
 * overflow below 2^48 bytes.
 */
uint32_t
csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	uint64_t	 acc = sum;
	size_t		 i;

	for (i = 0; len - i >= 2; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		acc += (uint32_t)p[i] << 8;
	return fold64(acc);
}

uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t
pseudo_tail(uint32_t sum, uint8_t proto, uint32_t l4len)
{
	uint64_t	 acc = sum;

	/* Same words for both families: zero-padded protocol, length. */
	acc += proto;
	acc += l4len >> 16;
	acc += l4len & 0xffff;
	return fold64(acc);
}

uint32_t
csum_pseudo4(const uint8_t saddr[4], const uint8_t daddr[4], uint8_t proto,
    uint32_t l4len)
{
	uint32_t	 sum;

	sum = csum_add(0, saddr, 4);
	sum = csum_add(sum, daddr, 4);
	return pseudo_tail(sum, proto, l4len);
}

uint32_t
csum_pseudo6(const uint8_t saddr[16], const uint8_t daddr[16], uint8_t proto,
    uint32_t l4len)
{
	uint32_t	 sum;

	sum = csum_add(0, saddr, 16);
	sum = csum_add(sum, daddr, 16);
	return pseudo_tail(sum, proto, l4len);
}

/* SPDX-License-Identifier: ISC */
/* Internet checksum helpers (RFC 1071): pure functions. */
#ifndef VNET_LIB_CSUM_H
#define VNET_LIB_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add buf to a running 32-bit one's complement accumulator. */
uint32_t	 csum_add(uint32_t sum, const void *buf, size_t len);
/* Fold to 16 bits (not inverted). */
uint16_t	 csum_fold(uint32_t sum);
/* Pseudo-header sums (not folded, not inverted); addresses in network order. */
uint32_t	 csum_pseudo4(const uint8_t saddr[4], const uint8_t daddr[4],
		    uint8_t proto, uint32_t l4len);
uint32_t	 csum_pseudo6(const uint8_t saddr[16], const uint8_t daddr[16],
		    uint8_t proto, uint32_t l4len);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Shared by the libFuzzer harnesses in fuzz/: the invariant check, a
 * checksum reference independent of lib/csum.c, and byte helpers.
 * Harnesses never parse their input themselves: they hand it to the
 * function the daemon calls and check what comes back.
 */
#ifndef VNET_FUZZ_H
#define VNET_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * A broken invariant aborts, and says which one: fuzz/run.sh names the
 * saved crash after the function and line ("invariant-FUNC-LINE").
 */
#define FUZZ_ASSERT(c)	do {						\
	if (!(c))							\
		fuzz_fail(#c, __FILE__, __LINE__, __func__);		\
} while (0)

static inline void __attribute__((noreturn))
fuzz_fail(const char *what, const char *file, int line, const char *fn)
{
	fprintf(stderr, "==FUZZ== invariant violated in %s (%s:%d): %s\n",
	    fn, file, line, what);
	fflush(stderr);
	abort();
}

static inline uint16_t
fz_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
fz_get32(const uint8_t *p)
{
	return (uint32_t)fz_get16(p) << 16 | fz_get16(p + 2);
}

/*
 * RFC 1071 written out byte by byte (bytes at even offsets are the high
 * halves), so lib/csum.c is checked, not trusted.
 */
static inline uint64_t
ref_sum(uint64_t sum, const uint8_t *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sum += i % 2 == 0 ? (uint64_t)b[i] << 8 : b[i];
	return sum;
}

static inline uint16_t
ref_fold(uint64_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header as laid out in RFC 768 / RFC 8200. */
static inline uint64_t
ref_pseudo(const uint8_t *src, const uint8_t *dst, size_t alen,
    uint8_t proto, uint32_t l4len)
{
	uint64_t	 s = 0;

	s = ref_sum(s, src, alen);
	s = ref_sum(s, dst, alen);
	s += proto;
	s += l4len >> 16;
	s += l4len & 0xffff;
	return s;
}

#endif

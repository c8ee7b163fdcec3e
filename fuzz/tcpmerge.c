/* SPDX-License-Identifier: ISC */
/*
 * TCP segment coalescing (lib/tcpmerge.c) on two frames a peer sent.
 * Input: byte 0 the room after a (x 256 bytes), bytes 1-2 a's length
 * (big-endian), a, then b. a sits in an exact-size heap buffer of its
 * length plus that room, so ASan sees any write past it.
 *
 * Checked: a refusal leaves a and its length as they were; a join
 * stays within the room, parses, ends where its IP datagram ends, and
 * carries a's headers' sequence number and a's payload followed by b's,
 * with b's flags.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/frame.h"
#include "lib/tcpmerge.h"

#define HDR	3

static int
tcp_payload(const uint8_t *f, size_t len, struct frame_info *fi)
{
	return frame_parse(f, len, fi) == 0 && fi->l4_proto == 6 &&
	    !fi->fragment && fi->l4_off != 0 && fi->payload_off <= fi->l3_end;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_info	 fa, fb, fm;
	size_t			 alen, blen, cap, n, apay, bpay;
	uint8_t			*a, *orig;
	int			 rc;

	if (size < HDR)
		return 0;
	alen = fz_get16(data + 1);
	if (alen > size - HDR)
		alen = size - HDR;
	blen = size - HDR - alen;
	cap = alen + (size_t)data[0] * 256;
	a = malloc(cap ? cap : 1);
	orig = malloc(alen ? alen : 1);
	FUZZ_ASSERT(a != NULL && orig != NULL);
	memcpy(a, data + HDR, alen);
	memcpy(orig, data + HDR, alen);
	n = alen;
	rc = tcpmerge(a, &n, cap, data + HDR + alen, blen);
	FUZZ_ASSERT(rc == 0 || rc == 1);
	if (rc == 0) {
		FUZZ_ASSERT(n == alen && memcmp(a, orig, alen) == 0);
		goto out;
	}
	FUZZ_ASSERT(tcp_payload(orig, alen, &fa));
	FUZZ_ASSERT(tcp_payload(data + HDR + alen, blen, &fb));
	apay = fa.l3_end - fa.payload_off;
	bpay = fb.l3_end - fb.payload_off;
	FUZZ_ASSERT(apay > 0 && bpay > 0);
	FUZZ_ASSERT(n <= cap && n == fa.l3_end + bpay);
	FUZZ_ASSERT(tcp_payload(a, n, &fm) && fm.l3_end == n);
	FUZZ_ASSERT(fm.payload_off == fa.payload_off);
	FUZZ_ASSERT(memcmp(a, orig, fa.l3_off) == 0);
	FUZZ_ASSERT(memcmp(a + fa.l4_off, orig + fa.l4_off, 8) == 0);
	FUZZ_ASSERT(memcmp(a + fa.payload_off, orig + fa.payload_off,
	    apay) == 0);
	FUZZ_ASSERT(memcmp(a + fa.payload_off + apay,
	    data + HDR + alen + fb.payload_off, bpay) == 0);
	FUZZ_ASSERT(fm.tcp_flags == fb.tcp_flags);
out:
	free(a);
	free(orig);
	return 0;
}

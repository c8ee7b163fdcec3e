/* SPDX-License-Identifier: ISC */
/*
 * frame_parse(), as inject (through offload_prepare) and the unit tests
 * call it, on an arbitrary frame. The input is the frame: libFuzzer's
 * buffer is a heap block of exactly that size, so any read past the end
 * is an ASan report. A result is checked for internal consistency
 * against the bytes it claims to describe.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/frame.h"

#define ET_IPV4		0x0800
#define ET_ARP		0x0806
#define ET_VLAN		0x8100
#define ET_QINQ		0x88a8
#define ET_IPV6		0x86dd

static void
check_failure(int rc, const struct frame_info *fi, size_t len)
{
	struct frame_info	 zero;

	FUZZ_ASSERT(rc < 0 && rc > -FRAME_E_MAX);
	if (len < 14)
		FUZZ_ASSERT(rc == -FRAME_E_SHORT);
	else
		FUZZ_ASSERT(rc != -FRAME_E_SHORT);
	/* "Leave nothing half-filled for a caller to trust." */
	memset(&zero, 0, sizeof(zero));
	zero.len = len;
	FUZZ_ASSERT(memcmp(fi, &zero, sizeof(zero)) == 0);
	FUZZ_ASSERT(strcmp(frame_strerror(rc), "unknown frame error") != 0);
}

static void
check_ip(const uint8_t *buf, const struct frame_info *fi)
{
	const uint8_t	*ip = buf + fi->l3_off;
	size_t		 hl;

	if (fi->l3 == FRAME_L3_IPV4) {
		FUZZ_ASSERT(fi->len - fi->l3_off >= 20);
		FUZZ_ASSERT(ip[0] >> 4 == 4);
		hl = (size_t)(ip[0] & 0x0f) * 4;
		FUZZ_ASSERT(hl >= 20);
		FUZZ_ASSERT(fi->l3_end == fi->l3_off + fz_get16(ip + 2));
		FUZZ_ASSERT(fi->l3_end >= fi->l3_off + hl);
		FUZZ_ASSERT(fi->l4_proto == ip[9]);
		FUZZ_ASSERT(fi->fragment == ((fz_get16(ip + 6) & 0x3fff) != 0));
		if (!fi->fragment)
			FUZZ_ASSERT(fi->l4_off == fi->l3_off + hl);
	} else {
		FUZZ_ASSERT(fi->len - fi->l3_off >= 40);
		FUZZ_ASSERT(ip[0] >> 4 == 6);
		FUZZ_ASSERT(fz_get16(ip + 4) != 0);
		FUZZ_ASSERT(fi->l3_end == fi->l3_off + 40 + fz_get16(ip + 4));
		if (!fi->fragment) {
			FUZZ_ASSERT(fi->l4_off >= fi->l3_off + 40);
			/* Extension headers come in units of 4 (AH) or 8. */
			FUZZ_ASSERT((fi->l4_off - fi->l3_off) % 4 == 0);
			/* At most 8 extension headers of at most 2 KiB each. */
			FUZZ_ASSERT(fi->l4_off - fi->l3_off <= 40 + 8 * 2048);
			if (fi->l4_off == fi->l3_off + 40)
				FUZZ_ASSERT(fi->l4_proto == ip[6]);
		}
	}
	FUZZ_ASSERT(fi->l3_end <= fi->len);
	if (fi->fragment) {
		/* L4 not parsed: nothing about it may be claimed. */
		FUZZ_ASSERT(fi->l4_off == 0 && fi->l4_len == 0);
		FUZZ_ASSERT(fi->payload_off == 0 && fi->tcp_flags == 0);
		return;
	}
	FUZZ_ASSERT(fi->l4_off <= fi->l3_end);
	FUZZ_ASSERT(fi->l4_off + fi->l4_len == fi->l3_end);
	if (fi->l4_proto == 6) {
		const uint8_t	*th = buf + fi->l4_off;
		size_t		 doff;

		FUZZ_ASSERT(fi->l4_len >= 20);
		doff = (size_t)(th[12] >> 4) * 4;
		FUZZ_ASSERT(doff >= 20 && doff <= fi->l4_len);
		FUZZ_ASSERT(fi->payload_off == fi->l4_off + doff);
		FUZZ_ASSERT(fi->payload_off <= fi->l3_end);
		FUZZ_ASSERT(fi->tcp_flags == th[13]);
	} else if (fi->l4_proto == 17) {
		size_t	 ulen;

		FUZZ_ASSERT(fi->l4_len >= 8);
		ulen = fz_get16(buf + fi->l4_off + 4);
		FUZZ_ASSERT(ulen >= 8 && ulen <= fi->l4_len);
		FUZZ_ASSERT(fi->payload_off == fi->l4_off + 8);
		FUZZ_ASSERT(fi->tcp_flags == 0);
	} else
		FUZZ_ASSERT(fi->payload_off == 0 && fi->tcp_flags == 0);
}

static void
check_success(const uint8_t *buf, size_t len, const struct frame_info *fi)
{
	size_t	 i;

	FUZZ_ASSERT(fi->len == len);
	FUZZ_ASSERT(len >= 14);
	FUZZ_ASSERT(fi->nvlan <= 2);
	FUZZ_ASSERT(fi->l3_off == 14 + 4 * (size_t)fi->nvlan);
	FUZZ_ASSERT(fi->l3_off <= len);
	/* The tags are the ones in the frame, and the type follows them. */
	for (i = 0; i < fi->nvlan; i++) {
		uint16_t tpid = fz_get16(buf + 12 + 4 * i);

		FUZZ_ASSERT(tpid == ET_VLAN || tpid == ET_QINQ);
		FUZZ_ASSERT(fi->vlan_tci[i] == fz_get16(buf + 14 + 4 * i));
	}
	for (; i < 2; i++)
		FUZZ_ASSERT(fi->vlan_tci[i] == 0);
	FUZZ_ASSERT(fi->ethertype == fz_get16(buf + fi->l3_off - 2));
	FUZZ_ASSERT(fi->ethertype != ET_VLAN && fi->ethertype != ET_QINQ);

	switch (fi->ethertype) {
	case ET_ARP:
		FUZZ_ASSERT(fi->l3 == FRAME_L3_ARP);
		FUZZ_ASSERT(len - fi->l3_off >= 8);
		break;
	case ET_IPV4:
		FUZZ_ASSERT(fi->l3 == FRAME_L3_IPV4);
		break;
	case ET_IPV6:
		FUZZ_ASSERT(fi->l3 == FRAME_L3_IPV6);
		break;
	default:
		FUZZ_ASSERT(fi->l3 == FRAME_L3_OTHER);
		break;
	}
	if (fi->l3 == FRAME_L3_IPV4 || fi->l3 == FRAME_L3_IPV6) {
		check_ip(buf, fi);
		return;
	}
	/* Not IP: all of it is carried, and there is no L4. */
	FUZZ_ASSERT(fi->l3_end == len);
	FUZZ_ASSERT(fi->l4_proto == 0 && fi->l4_off == 0 && fi->l4_len == 0);
	FUZZ_ASSERT(fi->payload_off == 0 && fi->tcp_flags == 0);
	FUZZ_ASSERT(fi->fragment == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_info	 fi, again;
	int			 rc;

	memset(&fi, 0xa5, sizeof(fi));	/* nothing may survive from before */
	rc = frame_parse(data, size, &fi);
	if (rc == FRAME_OK)
		check_success(data, size, &fi);
	else
		check_failure(rc, &fi, size);

	/* A pure function: same bytes, same verdict, same description. */
	memset(&again, 0x5a, sizeof(again));
	FUZZ_ASSERT(frame_parse(data, size, &again) == rc);
	FUZZ_ASSERT(memcmp(&fi, &again, sizeof(fi)) == 0);

	/* Trailing bytes are padding: cutting them changes nothing. */
	if (rc == FRAME_OK && fi.l3_end < size) {
		FUZZ_ASSERT(frame_parse(data, fi.l3_end, &again) == FRAME_OK);
		FUZZ_ASSERT(again.l3_end == fi.l3_end &&
		    again.l4_off == fi.l4_off && again.l4_len == fi.l4_len &&
		    again.payload_off == fi.payload_off &&
		    again.l4_proto == fi.l4_proto &&
		    again.fragment == fi.fragment);
	}
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * Differential target for lib/offload.c: what inject does with every
 * frame crypt hands it (offload_prepare, then offload_segment when the
 * kernel refuses a GSO frame), checked against a model of the rules in
 * offload.h and against checksums recomputed from scratch, the GSO
 * floor included: no GSO frame the kernel is handed has segments under
 * OFFLOAD_GSO_MIN_SIZE or more than OFFLOAD_GSO_MAX_SEGS of them.
 *
 * Input: 3 bytes that choose the MTU, then the frame.
 *   byte 0 & 7: 0-3 -> 1500, 4 -> 9000, 5 -> 576,
 *               6 -> 576..9000 from bytes 1-2,
 *               7 -> 68..65535 from bytes 1-2 (tiny MTUs included)
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/csum.h"
#include "lib/frame.h"
#include "lib/offload.h"

#define MTU_HDR		3
#define P_TCP		6
#define P_UDP		17
#define P_ROUTING	43
#define P_AH		51
#define TH_FIN		0x01
#define TH_PSH		0x08
#define TH_CWR		0x80

static size_t
pick_mtu(const uint8_t *d)
{
	switch (d[0] & 7) {
	case 4:
		return 9000;
	case 5:
		return 576;
	case 6:
		return 576 + fz_get16(d + 1) % (9000 - 576 + 1);
	case 7:
		return 68 + fz_get16(d + 1) % (65535 - 68 + 1);
	default:
		return 1500;
	}
}

/*
 * The pseudo-header destination (RFC 8200 8.1): the final one from a
 * routing header still in transit. 0 with *dst set, or -1 when the
 * routing type hides it (offload.h: L4 is then left alone).
 */
static int
ref_dst6(const uint8_t *f, const struct frame_info *fi, const uint8_t **dst)
{
	size_t		 off = fi->l3_off + 40, hl, n;
	uint8_t		 nh = f[fi->l3_off + 6];
	const uint8_t	*p;

	*dst = f + fi->l3_off + 24;
	while (off < fi->l4_off) {
		p = f + off;
		hl = nh == P_AH ? ((size_t)p[1] + 2) * 4 :
		    ((size_t)p[1] + 1) * 8;
		if (nh == P_ROUTING && p[3] != 0) {
			n = (hl - 8) / 16;
			if (n == 0)
				return -1;
			if (p[2] == 0 || p[2] == 2) {
				*dst = p + 8 + (n - 1) * 16;	/* last */
				return 0;
			}
			if (p[2] == 4) {			/* SRv6 */
				*dst = p + 8;
				return 0;
			}
			return -1;
		}
		nh = p[0];
		off += hl;
	}
	return 0;
}

/* Reference pseudo-header sum of frame f (as parsed in fi). */
static int
ref_ph(const uint8_t *f, const struct frame_info *fi, uint8_t proto,
    size_t l4len, uint64_t *sum)
{
	const uint8_t	*ip = f + fi->l3_off, *dst;

	if (fi->l3 == FRAME_L3_IPV4) {
		*sum = ref_pseudo(ip + 12, ip + 16, 4, proto, (uint32_t)l4len);
		return 0;
	}
	if (ref_dst6(f, fi, &dst) == -1)
		return -1;
	*sum = ref_pseudo(ip + 8, dst, 16, proto, (uint32_t)l4len);
	return 0;
}

/* lib/csum.c against the byte-wise reference. */
static void
check_csum(const uint8_t *b, size_t n)
{
	size_t		 k = (n / 2) & ~(size_t)1;	/* an even split */
	uint32_t	 s;

	FUZZ_ASSERT(csum_fold(csum_add(0, b, n)) ==
	    ref_fold(ref_sum(0, b, n)));
	s = csum_add(csum_add(0, b, k), b + k, n - k);
	FUZZ_ASSERT(csum_fold(s) == ref_fold(ref_sum(0, b, n)));
	if (n >= 36) {
		FUZZ_ASSERT(csum_fold(csum_pseudo4(b, b + 4, b[8],
		    fz_get32(b + 9))) == ref_fold(ref_pseudo(b, b + 4, 4,
		    b[8], fz_get32(b + 9))));
		FUZZ_ASSERT(csum_fold(csum_pseudo6(b, b + 16, b[32],
		    fz_get32(b + 32))) == ref_fold(ref_pseudo(b, b + 16, 16,
		    b[32], fz_get32(b + 32))));
	}
}

/* buf equals orig except (maybe) the 2 bytes at skip; skip = len: none. */
static void
check_same_but(const uint8_t *buf, const uint8_t *orig, size_t len,
    size_t skip)
{
	if (skip >= len) {
		FUZZ_ASSERT(memcmp(buf, orig, len) == 0);
		return;
	}
	FUZZ_ASSERT(memcmp(buf, orig, skip) == 0);
	FUZZ_ASSERT(memcmp(buf + skip + 2, orig + skip + 2,
	    len - skip - 2) == 0);
}

/* A TCP segment (or whole frame) whose checksum must now verify. */
static void
check_tcp_csum(const uint8_t *seg, const struct frame_info *sfi)
{
	uint64_t	 ph;

	FUZZ_ASSERT(ref_ph(seg, sfi, P_TCP, sfi->l4_len, &ph) == 0);
	FUZZ_ASSERT(ref_fold(ref_sum(ph, seg + sfi->l4_off, sfi->l4_len)) ==
	    0xffff);
}

/* Non-GSO NEEDS_CSUM: software completion gives a verifying frame. */
static void
check_complete(const uint8_t *buf, size_t outlen,
    const struct virtio_net_hdr *vh, const struct frame_info *fi)
{
	struct frame_info	 sfi;
	uint8_t			*out = malloc(outlen);
	size_t			 lens[1], nseg = 99;

	FUZZ_ASSERT(out != NULL);
	/* One byte short: refused, nothing claimed. */
	FUZZ_ASSERT(offload_segment(buf, outlen, vh, out, outlen - 1, lens, 1,
	    &nseg) == -OFFLOAD_E_SPACE && nseg == 0);
	FUZZ_ASSERT(offload_segment(buf, outlen, vh, out, outlen, lens, 1,
	    &nseg) == OFFLOAD_OK);
	FUZZ_ASSERT(nseg == 1 && lens[0] == outlen);
	check_same_but(out, buf, outlen, fi->l4_off + 16);
	FUZZ_ASSERT(frame_parse(out, outlen, &sfi) == FRAME_OK);
	check_tcp_csum(out, &sfi);
	free(out);
}

/* GSO: userspace segmentation, every segment checked. */
static void
check_segments(const uint8_t *buf, size_t outlen, size_t mtu,
    const struct virtio_net_hdr *vh, const struct frame_info *fi)
{
	struct frame_info	 sfi;
	size_t			 hdrs = fi->payload_off, gso = vh->gso_size;
	size_t			 paylen = fi->l3_end - hdrs, want, total;
	size_t			*lens, nseg = 99, i, off, sent, chunk;
	size_t			 iphl = fi->l4_off - fi->l3_off;
	uint8_t			*out, *seg, *ip, *th, flags;
	const uint8_t		*oip = buf + fi->l3_off, *oth = buf + fi->l4_off;
	uint32_t		 seq0 = fz_get32(oth + 4);

	FUZZ_ASSERT(gso > 0 && paylen > 0);
	want = (paylen + gso - 1) / gso;
	total = want * hdrs + paylen;
	out = malloc(total);
	lens = malloc(want * sizeof(*lens));
	FUZZ_ASSERT(out != NULL && lens != NULL);

	/* Too few slots: refused. */
	if (want > 1)
		FUZZ_ASSERT(offload_segment(buf, outlen, vh, out, total, lens,
		    want - 1, &nseg) == -OFFLOAD_E_SPACE && nseg == 0);
	/* Exactly enough room, so ASan sees any write past it. */
	FUZZ_ASSERT(offload_segment(buf, outlen, vh, out, total, lens, want,
	    &nseg) == OFFLOAD_OK);
	FUZZ_ASSERT(nseg == want);

	for (i = 0, off = 0, sent = 0; i < nseg; i++) {
		seg = out + off;
		chunk = paylen - sent < gso ? paylen - sent : gso;
		FUZZ_ASSERT(lens[i] == hdrs + chunk);
		FUZZ_ASSERT(lens[i] - fi->l3_off <= mtu);
		FUZZ_ASSERT(frame_parse(seg, lens[i], &sfi) == FRAME_OK);
		FUZZ_ASSERT(sfi.l3 == fi->l3 && sfi.l4_proto == P_TCP &&
		    !sfi.fragment);
		FUZZ_ASSERT(sfi.l3_end == lens[i]);
		FUZZ_ASSERT(sfi.l4_off == fi->l4_off &&
		    sfi.payload_off == hdrs);
		/* L2 untouched. */
		FUZZ_ASSERT(memcmp(seg, buf, fi->l3_off) == 0);
		ip = seg + fi->l3_off;
		th = seg + fi->l4_off;
		if (fi->l3 == FRAME_L3_IPV4) {
			FUZZ_ASSERT(ref_fold(ref_sum(0, ip, iphl)) == 0xffff);
			FUZZ_ASSERT(fz_get16(ip + 2) == lens[i] - fi->l3_off);
			FUZZ_ASSERT(fz_get16(ip + 4) ==
			    (uint16_t)(fz_get16(oip + 4) + i));
			FUZZ_ASSERT(memcmp(ip, oip, 2) == 0);
			FUZZ_ASSERT(memcmp(ip + 6, oip + 6, 4) == 0);
			FUZZ_ASSERT(memcmp(ip + 12, oip + 12, iphl - 12) == 0);
		} else {
			FUZZ_ASSERT(fz_get16(ip + 4) ==
			    lens[i] - fi->l3_off - 40);
			FUZZ_ASSERT(memcmp(ip, oip, 4) == 0);
			FUZZ_ASSERT(memcmp(ip + 6, oip + 6, iphl - 6) == 0);
		}
		/* Sequence numbers advance by the payload sent before. */
		FUZZ_ASSERT(fz_get32(th + 4) == (uint32_t)(seq0 + sent));
		flags = oth[13];
		if (i != 0)
			flags &= (uint8_t)~TH_CWR;
		if (i + 1 != nseg)
			flags &= (uint8_t)~(TH_FIN | TH_PSH);
		FUZZ_ASSERT(th[13] == flags);
		FUZZ_ASSERT(memcmp(th, oth, 4) == 0);
		FUZZ_ASSERT(memcmp(th + 8, oth + 8, 5) == 0);
		FUZZ_ASSERT(memcmp(th + 14, oth + 14, 2) == 0);
		FUZZ_ASSERT(memcmp(th + 18, oth + 18,
		    hdrs - fi->l4_off - 18) == 0);
		check_tcp_csum(seg, &sfi);
		/* The payload, in order, with nothing lost or repeated. */
		FUZZ_ASSERT(memcmp(seg + hdrs, buf + hdrs + sent, chunk) == 0);
		sent += chunk;
		off += lens[i];
	}
	FUZZ_ASSERT(sent == paylen && off == total);
	free(out);
	free(lens);
}

/* What offload.h says offload_prepare() must answer. */
static int
model(const uint8_t *f, size_t len, size_t mtu, struct frame_info *fi)
{
	uint64_t	 ph;
	size_t		 gso, segs;
	int		 fits;

	if (frame_parse(f, len, fi) != FRAME_OK)
		return -OFFLOAD_E_PARSE;
	fits = fi->l3_end - fi->l3_off <= mtu;
	if ((fi->l3 != FRAME_L3_IPV4 && fi->l3 != FRAME_L3_IPV6) ||
	    fi->fragment || (fi->l4_proto != P_TCP && fi->l4_proto != P_UDP) ||
	    ref_ph(f, fi, fi->l4_proto, 0, &ph) == -1)
		return fits ? OFFLOAD_OK : -OFFLOAD_E_OVERSIZE;
	if (fi->l4_proto == P_UDP)
		return fits ? OFFLOAD_OK : -OFFLOAD_E_OVERSIZE;
	if (fi->payload_off > UINT16_MAX)
		return -OFFLOAD_E_OVERSIZE;
	if (fits)
		return OFFLOAD_OK;
	gso = mtu - (fi->payload_off - fi->l3_off);
	if (mtu <= fi->payload_off - fi->l3_off)
		return -OFFLOAD_E_MTU;
	/* The GSO floor. */
	segs = (fi->l3_end - fi->payload_off + gso - 1) / gso;
	if (segs > OFFLOAD_SEG_MAX)
		return -OFFLOAD_E_FLOOR;
	if (gso < OFFLOAD_GSO_MIN_SIZE || segs > OFFLOAD_GSO_MAX_SEGS)
		return OFFLOAD_SEGMENT;
	return OFFLOAD_OK;
}

static void
check_ok(int rc, uint8_t *buf, const uint8_t *orig, size_t len, size_t mtu,
    const struct virtio_net_hdr *vh, size_t outlen, struct frame_info *fi)
{
	struct virtio_net_hdr	 zero;
	uint64_t		 ph;
	size_t			 hdrs, ulen, segs;
	int			 fits = fi->l3_end - fi->l3_off <= mtu;
	const uint8_t		*uh;

	memset(&zero, 0, sizeof(zero));
	FUZZ_ASSERT(rc == OFFLOAD_OK || rc == OFFLOAD_SEGMENT);
	FUZZ_ASSERT(outlen == fi->l3_end && outlen <= len);
	if ((fi->l3 != FRAME_L3_IPV4 && fi->l3 != FRAME_L3_IPV6) ||
	    fi->fragment || (fi->l4_proto != P_TCP && fi->l4_proto != P_UDP) ||
	    ref_ph(orig, fi, fi->l4_proto, 0, &ph) == -1) {
		/* Untouched. */
		FUZZ_ASSERT(fits && rc == OFFLOAD_OK);
		FUZZ_ASSERT(memcmp(vh, &zero, sizeof(zero)) == 0);
		FUZZ_ASSERT(memcmp(buf, orig, len) == 0);
		return;
	}
	if (fi->l4_proto == P_UDP) {
		FUZZ_ASSERT(fits && rc == OFFLOAD_OK);
		FUZZ_ASSERT(memcmp(vh, &zero, sizeof(zero)) == 0);
		check_same_but(buf, orig, len, fi->l4_off + 6);
		uh = buf + fi->l4_off;
		if (fi->l3 == FRAME_L3_IPV4 &&
		    fz_get16(orig + fi->l4_off + 6) == 0) {
			FUZZ_ASSERT(fz_get16(uh + 6) == 0);	/* "none" kept */
			return;
		}
		ulen = fz_get16(uh + 4);
		FUZZ_ASSERT(fz_get16(uh + 6) != 0);
		FUZZ_ASSERT(ref_ph(buf, fi, P_UDP, ulen, &ph) == 0);
		FUZZ_ASSERT(ref_fold(ref_sum(ph, uh, ulen)) == 0xffff);
		return;
	}

	/* TCP: the field holds the pseudo-header sum over the real length. */
	check_same_but(buf, orig, len, fi->l4_off + 16);
	FUZZ_ASSERT(ref_ph(buf, fi, P_TCP, fi->l4_len, &ph) == 0);
	FUZZ_ASSERT(fz_get16(buf + fi->l4_off + 16) == ref_fold(ph));
	FUZZ_ASSERT(vh->flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	FUZZ_ASSERT(vh->csum_start == fi->l4_off && vh->csum_offset == 16);
	if (fits) {
		FUZZ_ASSERT(rc == OFFLOAD_OK);
		FUZZ_ASSERT(vh->gso_type == VIRTIO_NET_HDR_GSO_NONE);
		FUZZ_ASSERT(vh->gso_size == 0 && vh->hdr_len == 0);
		check_complete(buf, outlen, vh, fi);
		return;
	}
	hdrs = fi->payload_off - fi->l3_off;
	FUZZ_ASSERT((vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) ==
	    (fi->l3 == FRAME_L3_IPV4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
	    VIRTIO_NET_HDR_GSO_TCPV6));
	FUZZ_ASSERT(!!(vh->gso_type & VIRTIO_NET_HDR_GSO_ECN) ==
	    !!(fi->tcp_flags & TH_CWR));
	FUZZ_ASSERT(vh->gso_size == mtu - hdrs);
	FUZZ_ASSERT(vh->hdr_len == fi->payload_off);
	/* The floor: what the kernel may be handed as GSO. */
	segs = (fi->l3_end - fi->payload_off + vh->gso_size - 1) /
	    vh->gso_size;
	FUZZ_ASSERT(segs <= OFFLOAD_SEG_MAX);
	FUZZ_ASSERT((rc == OFFLOAD_OK) == (vh->gso_size >=
	    OFFLOAD_GSO_MIN_SIZE && segs <= OFFLOAD_GSO_MAX_SEGS));
	check_segments(buf, outlen, mtu, vh, fi);
}

/*
 * A UDP checksum that computes to 0 must go out as 0xffff, and a random
 * input almost never sums to that: set the first payload word so that it
 * does, and check again.
 */
static void
check_udp_zero(const uint8_t *orig, size_t len, size_t mtu,
    const struct frame_info *fi)
{
	struct virtio_net_hdr	 vh;
	struct frame_info	 fi2;
	uint8_t			*v, *o;
	uint64_t		 ph;
	size_t			 ulen, outlen;
	uint16_t		 w;

	if ((fi->l3 != FRAME_L3_IPV4 && fi->l3 != FRAME_L3_IPV6) ||
	    fi->l4_proto != P_UDP || fi->fragment)
		return;
	ulen = fz_get16(orig + fi->l4_off + 4);
	if (ulen < 10 ||
	    (fi->l3 == FRAME_L3_IPV4 && fz_get16(orig + fi->l4_off + 6) == 0) ||
	    ref_ph(orig, fi, P_UDP, ulen, &ph) == -1)
		return;
	v = malloc(len);
	FUZZ_ASSERT(v != NULL);
	memcpy(v, orig, len);
	v[fi->l4_off + 6] = v[fi->l4_off + 7] = 0;
	v[fi->l4_off + 8] = v[fi->l4_off + 9] = 0;
	w = (uint16_t)(0xffff - ref_fold(ref_sum(ph, v + fi->l4_off, ulen)));
	v[fi->l4_off + 8] = (uint8_t)(w >> 8);
	v[fi->l4_off + 9] = (uint8_t)w;
	v[fi->l4_off + 6] = 0x12;	/* any non-zero "checksum present" */
	o = malloc(len);
	FUZZ_ASSERT(o != NULL);
	memcpy(o, v, len);
	FUZZ_ASSERT(model(o, len, mtu, &fi2) == OFFLOAD_OK);
	FUZZ_ASSERT(offload_prepare(v, len, mtu, &vh, &outlen) == OFFLOAD_OK);
	FUZZ_ASSERT(fz_get16(v + fi->l4_off + 6) == 0xffff);
	check_ok(OFFLOAD_OK, v, o, len, mtu, &vh, outlen, &fi2);
	free(o);
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr	 vh, zero;
	struct frame_info	 fi;
	const uint8_t		*orig;
	uint8_t			*buf;
	size_t			 mtu, len, outlen = 12345;
	int			 rc, want;

	if (size < MTU_HDR)
		return 0;
	mtu = pick_mtu(data);
	orig = data + MTU_HDR;
	len = size - MTU_HDR;
	check_csum(orig, len);

	/* Exactly len bytes on the heap, as in the daemon's batch. */
	buf = malloc(len > 0 ? len : 1);
	FUZZ_ASSERT(buf != NULL);
	if (len > 0)
		memcpy(buf, orig, len);
	memset(&vh, 0xa5, sizeof(vh));
	rc = offload_prepare(buf, len, mtu, &vh, &outlen);
	want = model(orig, len, mtu, &fi);
	FUZZ_ASSERT(rc == want);
	if (rc < 0) {
		/* "Every error is found before buf or vh is written." */
		memset(&zero, 0, sizeof(zero));
		FUZZ_ASSERT(rc < 0 && rc > -OFFLOAD_E_MAX);
		FUZZ_ASSERT(outlen == 0);
		FUZZ_ASSERT(memcmp(&vh, &zero, sizeof(vh)) == 0);
		FUZZ_ASSERT(memcmp(buf, orig, len) == 0);
		FUZZ_ASSERT(strcmp(offload_strerror(rc),
		    "unknown offload error") != 0);
	} else {
		check_ok(rc, buf, orig, len, mtu, &vh, outlen, &fi);
		check_udp_zero(orig, len, mtu, &fi);
	}
	free(buf);
	return 0;
}

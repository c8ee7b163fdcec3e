/* SPDX-License-Identifier: ISC */
/*
 * Checksum and segmentation offload for captured frames: see offload.h.
 * The TCP checksum field convention is the kernel's CHECKSUM_PARTIAL
 * one: it holds the folded, non-inverted pseudo-header sum, and
 * whoever finishes it sums from csum_start to the end of the datagram.
 */
#include <string.h>

#include "lib/bytes.h"
#include "lib/csum.h"
#include "lib/frame.h"
#include "lib/offload.h"

#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_ROUTING	43
#define PROTO_AH	51

#define IPV4_HDR_MIN	20
#define IPV6_HDR_LEN	40
#define TCP_CSUM_OFF	16
#define UDP_CSUM_OFF	6

#define TH_FIN		0x01
#define TH_PSH		0x08
#define TH_CWR		0x80

/* Where a segment goes in offload_segment()'s output. */
struct seg_out {
	uint8_t		*buf;
	size_t		 size;
	size_t		 used;
	size_t		*lens;
	size_t		 max;
	size_t		 n;
};

static int
is_ip(const struct frame_info *fi)
{
	return fi->l3 == FRAME_L3_IPV4 || fi->l3 == FRAME_L3_IPV6;
}

/*
 * The final destination of a routing header still in transit, which
 * the sender used in the pseudo-header (RFC 8200 8.1). Types 0 and 2
 * list it last, SRv6 (type 4) first; others (RPL compresses them) we
 * cannot read, and -1 tells the caller to leave L4 alone.
 */
static int
rh_final_dst(const uint8_t *rh, size_t hlen, const uint8_t **dst)
{
	size_t	 n = (hlen - 8) / 16;

	if (n == 0)
		return -1;
	switch (rh[2]) {
	case 0:
	case 2:
		*dst = rh + 8 + (n - 1) * 16;
		return 0;
	case 4:
		*dst = rh + 8;
		return 0;
	default:
		return -1;
	}
}

/* Pseudo-header destination of a parsed, unfragmented IPv6 frame. */
static int
ipv6_pseudo_dst(const uint8_t *buf, const struct frame_info *fi,
    const uint8_t **dst)
{
	const uint8_t	*p;
	size_t		 off = fi->l3_off + IPV6_HDR_LEN, hlen;
	uint8_t		 nh = buf[fi->l3_off + 6];

	*dst = buf + fi->l3_off + 24;
	/* frame_parse() validated this walk; re-check rather than trust. */
	while (off < fi->l4_off) {
		p = buf + off;
		if (fi->l4_off - off < 8)
			return -1;
		hlen = nh == PROTO_AH ? ((size_t)p[1] + 2) * 4 :
		    ((size_t)p[1] + 1) * 8;
		if (hlen > fi->l4_off - off)
			return -1;
		if (nh == PROTO_ROUTING && p[3] != 0)
			return rh_final_dst(p, hlen, dst);
		nh = p[0];
		off += hlen;
	}
	return 0;
}

/* Pseudo-header sum for l4len bytes of fi's transport protocol. */
static int
pseudo_sum(const uint8_t *buf, const struct frame_info *fi, size_t l4len,
    uint32_t *sum)
{
	const uint8_t	*ip = buf + fi->l3_off, *dst;

	if (fi->l3 == FRAME_L3_IPV4) {
		*sum = csum_pseudo4(ip + 12, ip + 16, fi->l4_proto,
		    (uint32_t)l4len);
		return 0;
	}
	if (ipv6_pseudo_dst(buf, fi, &dst) == -1)
		return -1;
	*sum = csum_pseudo6(ip + 8, dst, fi->l4_proto, (uint32_t)l4len);
	return 0;
}

static int
prepare_udp(uint8_t *buf, const struct frame_info *fi, uint32_t ph)
{
	uint8_t		*uh = buf + fi->l4_off;
	size_t		 ulen = get_be16(uh + 4);
	uint16_t	 ck;

	if (fi->l3 == FRAME_L3_IPV4 && get_be16(uh + UDP_CSUM_OFF) == 0)
		return OFFLOAD_OK;
	put_be16(uh + UDP_CSUM_OFF, 0);
	ck = (uint16_t)~csum_fold(csum_add(ph, uh, ulen));
	/* 0 on the wire would mean "no checksum". */
	put_be16(uh + UDP_CSUM_OFF, ck == 0 ? 0xffff : ck);
	return OFFLOAD_OK;
}

/* Segments of at most size payload bytes that fi's payload makes. */
static size_t
gso_segs(const struct frame_info *fi, size_t size)
{
	size_t	 paylen = fi->l3_end - fi->payload_off;

	return (paylen + size - 1) / size;
}

static int
prepare_tcp(uint8_t *buf, const struct frame_info *fi, size_t mtu, int fits,
    uint32_t ph, struct virtio_net_hdr *vh)
{
	size_t	 hdrs = fi->payload_off - fi->l3_off;

	/*
	 * The virtio header has 16 bits for offsets. frame_parse()'s bound
	 * on IPv6 extension headers keeps us far below; don't rely on it.
	 */
	if (fi->payload_off > UINT16_MAX)
		return -OFFLOAD_E_OVERSIZE;
	if (!fits && mtu <= hdrs)
		return -OFFLOAD_E_MTU;
	if (!fits && gso_segs(fi, mtu - hdrs) > OFFLOAD_SEG_MAX)
		return -OFFLOAD_E_FLOOR;
	put_be16(buf + fi->l4_off + TCP_CSUM_OFF, csum_fold(ph));
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)fi->l4_off;
	vh->csum_offset = TCP_CSUM_OFF;
	if (fits)
		return OFFLOAD_OK;
	vh->gso_type = fi->l3 == FRAME_L3_IPV4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
	    VIRTIO_NET_HDR_GSO_TCPV6;
	if (fi->tcp_flags & TH_CWR)
		vh->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	/* mtu < datagram length <= 65535 + 40: fits in 16 bits. */
	vh->gso_size = (uint16_t)(mtu - hdrs);
	vh->hdr_len = (uint16_t)fi->payload_off;
	if (vh->gso_size < OFFLOAD_GSO_MIN_SIZE ||
	    gso_segs(fi, vh->gso_size) > OFFLOAD_GSO_MAX_SEGS)
		return OFFLOAD_SEGMENT;
	return OFFLOAD_OK;
}

static int
prepare_frame(uint8_t *buf, const struct frame_info *fi, size_t mtu,
    struct virtio_net_hdr *vh)
{
	int		 fits = fi->l3_end - fi->l3_off <= mtu;
	uint32_t	 ph;
	size_t		 len;

	if (!is_ip(fi) || fi->fragment ||
	    (fi->l4_proto != PROTO_TCP && fi->l4_proto != PROTO_UDP))
		return fits ? OFFLOAD_OK : -OFFLOAD_E_OVERSIZE;
	len = fi->l4_proto == PROTO_UDP ?
	    get_be16(buf + fi->l4_off + 4) : fi->l4_len;
	if (pseudo_sum(buf, fi, len, &ph) == -1)
		return fits ? OFFLOAD_OK : -OFFLOAD_E_OVERSIZE;
	if (fi->l4_proto == PROTO_TCP)
		return prepare_tcp(buf, fi, mtu, fits, ph, vh);
	return fits ? prepare_udp(buf, fi, ph) : -OFFLOAD_E_OVERSIZE;
}

int
offload_prepare(uint8_t *buf, size_t len, size_t mtu,
    struct virtio_net_hdr *vh, size_t *outlen)
{
	struct frame_info	 fi;
	int			 rc;

	memset(vh, 0, sizeof(*vh));
	*outlen = 0;
	if (frame_parse(buf, len, &fi) != FRAME_OK)
		return -OFFLOAD_E_PARSE;
	/* Every error is found before buf or vh is written. */
	if ((rc = prepare_frame(buf, &fi, mtu, vh)) < 0)
		return rc;
	*outlen = fi.l3_end;
	return rc;
}

/* A slot for one more frame of flen bytes, or NULL. */
static uint8_t *
seg_reserve(struct seg_out *so, size_t flen)
{
	uint8_t	*p;

	if (so->n >= so->max || so->size - so->used < flen)
		return NULL;
	p = so->buf + so->used;
	so->lens[so->n++] = flen;
	so->used += flen;
	return p;
}

static int
segment_one(const uint8_t *frame, const struct frame_info *fi,
    const struct virtio_net_hdr *vh, struct seg_out *so)
{
	size_t		 end = fi->l3_end, start = vh->csum_start;
	size_t		 ck = start + vh->csum_offset;
	uint8_t		*p;
	uint16_t	 sum;

	if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (start >= end || ck >= end || end - ck < 2))
		return -OFFLOAD_E_PARSE;
	if ((p = seg_reserve(so, end)) == NULL)
		return -OFFLOAD_E_SPACE;
	memcpy(p, frame, end);
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* The field already holds the pseudo-header sum. */
		sum = (uint16_t)~csum_fold(csum_add(0, p + start, end - start));
		put_be16(p + ck, sum == 0 ? 0xffff : sum);
	}
	return OFFLOAD_OK;
}

/* Does vh describe fi the way offload_prepare() would have? */
static int
gso_matches(const struct frame_info *fi, const struct virtio_net_hdr *vh)
{
	uint8_t	 want;

	if (!is_ip(fi) || fi->fragment || fi->l4_proto != PROTO_TCP)
		return 0;
	want = fi->l3 == FRAME_L3_IPV4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
	    VIRTIO_NET_HDR_GSO_TCPV6;
	return (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == want &&
	    vh->gso_size != 0 && vh->csum_start == fi->l4_off &&
	    vh->csum_offset == TCP_CSUM_OFF && vh->hdr_len == fi->payload_off;
}

static void
fix_ip(uint8_t *seg, const struct frame_info *fi, size_t i, size_t l4len)
{
	uint8_t	*ip = seg + fi->l3_off;
	size_t	 iphl = fi->l4_off - fi->l3_off;

	if (fi->l3 == FRAME_L3_IPV6) {
		put_be16(ip + 4, (uint16_t)(iphl - IPV6_HDR_LEN + l4len));
		return;
	}
	put_be16(ip + 2, (uint16_t)(iphl + l4len));
	put_be16(ip + 4, (uint16_t)(get_be16(ip + 4) + i));
	put_be16(ip + 10, 0);
	put_be16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, iphl)));
}

static void
fix_tcp(uint8_t *seg, const struct frame_info *fi, uint32_t ph, size_t l4len,
    size_t sent, int first, int last)
{
	uint8_t	*th = seg + fi->l4_off;

	put_be32(th + 4, get_be32(th + 4) + (uint32_t)sent);
	if (!first)
		th[13] &= (uint8_t)~TH_CWR;
	if (!last)
		th[13] &= (uint8_t)~(TH_FIN | TH_PSH);
	put_be16(th + TCP_CSUM_OFF, 0);
	put_be16(th + TCP_CSUM_OFF,
	    (uint16_t)~csum_fold(csum_add(ph, th, l4len)));
}

static int
segment_gso(const uint8_t *frame, const struct frame_info *fi,
    const struct virtio_net_hdr *vh, struct seg_out *so)
{
	size_t		 hdrs = fi->payload_off, thl = hdrs - fi->l4_off;
	size_t		 paylen = fi->l3_end - hdrs, sent, chunk, i;
	uint32_t	 ph;
	uint8_t		*p;

	if (!gso_matches(fi, vh))
		return -OFFLOAD_E_PARSE;
	for (i = 0, sent = 0; i == 0 || sent < paylen; i++, sent += chunk) {
		chunk = paylen - sent < vh->gso_size ? paylen - sent :
		    vh->gso_size;
		/* Fails on the first segment, if at all: nothing written. */
		if (pseudo_sum(frame, fi, thl + chunk, &ph) == -1)
			return -OFFLOAD_E_PARSE;
		if ((p = seg_reserve(so, hdrs + chunk)) == NULL)
			return -OFFLOAD_E_SPACE;
		memcpy(p, frame, hdrs);
		memcpy(p + hdrs, frame + hdrs + sent, chunk);
		fix_ip(p, fi, i, thl + chunk);
		fix_tcp(p, fi, ph, thl + chunk, sent, i == 0,
		    sent + chunk == paylen);
	}
	return OFFLOAD_OK;
}

int
offload_segment(const uint8_t *frame, size_t len,
    const struct virtio_net_hdr *vh, uint8_t *out, size_t outsize,
    size_t *lens, size_t maxseg, size_t *nseg)
{
	struct frame_info	 fi;
	struct seg_out		 so = { .buf = out, .size = outsize,
	    .lens = lens, .max = maxseg };
	int			 rc;

	*nseg = 0;
	if (frame_parse(frame, len, &fi) != FRAME_OK)
		return -OFFLOAD_E_PARSE;
	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		rc = segment_one(frame, &fi, vh, &so);
	else
		rc = segment_gso(frame, &fi, vh, &so);
	if (rc == OFFLOAD_OK)
		*nseg = so.n;
	return rc;
}

const char *
offload_strerror(int err)
{
	static const char *const msg[OFFLOAD_E_MAX] = {
		[OFFLOAD_OK] = "no error",
		[OFFLOAD_E_PARSE] = "frame does not parse",
		[OFFLOAD_E_OVERSIZE] = "larger than the MTU, not segmentable",
		[OFFLOAD_E_MTU] = "MTU too small for the frame's headers",
		[OFFLOAD_E_SPACE] = "output buffer too small",
		[OFFLOAD_E_FLOOR] = "GSO segments below the floor, too many "
		    "to segment",
	};

	if (err < 0 && err > -OFFLOAD_E_MAX)
		err = -err;
	if (err < 0 || err >= OFFLOAD_E_MAX)
		return "unknown offload error";
	return msg[err];
}

/* SPDX-License-Identifier: ISC */
/*
 * MSS clamping (see lib/mss.h). The frame comes from a VM and is
 * hostile: every offset is checked against len before it is read, and
 * anything not plainly a well-formed SYN is left exactly as it came.
 */
#include "lib/bytes.h"
#include "lib/csum.h"
#include "lib/frame.h"
#include "lib/mss.h"

#define ETH_P_IPV4	0x0800
#define ETH_P_IPV6	0x86dd
#define ETH_P_8021Q	0x8100
#define P_TCP		6
#define TH_SYN		0x02
#define TCP_HLEN	20
#define OPT_EOL		0
#define OPT_NOP		1
#define OPT_MSS		2
#define OPT_MSS_LEN	4

/* Where the TCP header starts and how many bytes IP says it spans. */
struct seg {
	size_t		 l4;
	size_t		 l4len;
	int		 ipv6;
};

uint16_t
mss_for_frame(size_t max_frame, int ipv6)
{
	size_t	 hdrs = VNET_ETH_HLEN + (ipv6 ? 40 : 20) + TCP_HLEN;

	if (max_frame <= hdrs)
		return 0;
	if (max_frame - hdrs > UINT16_MAX)
		return UINT16_MAX;
	return (uint16_t)(max_frame - hdrs);
}

/* An IPv4 TCP datagram, not a fragment, inside f[l3..len). */
static int
find_ipv4(const uint8_t *f, size_t len, size_t l3, struct seg *s)
{
	size_t	 hl, tot;

	if (len - l3 < 20 || f[l3] >> 4 != 4)
		return -1;
	hl = (size_t)(f[l3] & 0x0f) * 4;
	tot = get_be16(f + l3 + 2);
	if (hl < 20 || tot < hl || tot > len - l3)
		return -1;
	/* A fragment: MF set or an offset; only the first has TCP. */
	if ((get_be16(f + l3 + 6) & 0x3fff) != 0 || f[l3 + 9] != P_TCP)
		return -1;
	s->l4 = l3 + hl;
	s->l4len = tot - hl;
	s->ipv6 = 0;
	return 0;
}

/* An IPv6 packet with TCP right after the fixed header. */
static int
find_ipv6(const uint8_t *f, size_t len, size_t l3, struct seg *s)
{
	size_t	 plen;

	if (len - l3 < 40 || f[l3] >> 4 != 6 || f[l3 + 6] != P_TCP)
		return -1;
	plen = get_be16(f + l3 + 4);
	if (plen > len - l3 - 40)
		return -1;
	s->l4 = l3 + 40;
	s->l4len = plen;
	s->ipv6 = 1;
	return 0;
}

static int
find_seg(const uint8_t *f, size_t len, struct seg *s)
{
	size_t		 l3 = VNET_ETH_HLEN;
	uint16_t	 et;

	if (len < VNET_ETH_HLEN)
		return -1;
	et = get_be16(f + 12);
	if (et == ETH_P_8021Q) {
		if (len < VNET_ETH_HLEN + 4)
			return -1;
		et = get_be16(f + 16);
		l3 += 4;
	}
	if (et == ETH_P_IPV4)
		return find_ipv4(f, len, l3, s);
	if (et == ETH_P_IPV6)
		return find_ipv6(f, len, l3, s);
	return -1;
}

static uint16_t
swap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for the 16-bit value at
 * th[off]. The checksum sums 16-bit words from the start of the TCP
 * header, so a value at an odd offset adds in with its bytes swapped.
 */
static void
fix_csum(uint8_t *th, size_t off, uint16_t m, uint16_t m2)
{
	uint32_t	 sum;

	if (off % 2 != 0) {
		m = swap16(m);
		m2 = swap16(m2);
	}
	sum = (uint32_t)(uint16_t)~get_be16(th + 16) + (uint16_t)~m + m2;
	put_be16(th + 16, (uint16_t)~csum_fold(sum));
}

/*
 * Walk the options in th[TCP_HLEN..hl) (RFC 9293 3.2): 0 if well
 * formed, -1 if not. Every MSS option before the end of the list is
 * lowered when fix is set (a receiver may take any of them).
 */
static int
walk_opts(uint8_t *th, size_t hl, uint16_t mss, int fix, int *changed)
{
	size_t		 i = TCP_HLEN, olen;
	uint16_t	 old;

	while (i < hl && th[i] != OPT_EOL) {
		if (th[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (hl - i < 2 || (olen = th[i + 1]) < 2 || olen > hl - i)
			return -1;
		if (th[i] == OPT_MSS && olen != OPT_MSS_LEN)
			return -1;
		if (th[i] == OPT_MSS && fix &&
		    (old = get_be16(th + i + 2)) > mss) {
			fix_csum(th, i + 2, old, mss);
			put_be16(th + i + 2, mss);
			*changed = 1;
		}
		i += olen;
	}
	return 0;
}

int
mss_clamp(uint8_t *frame, size_t len, uint16_t mss4, uint16_t mss6)
{
	struct seg	 s;
	uint8_t		*th;
	size_t		 hl;
	int		 changed = 0;

	if (find_seg(frame, len, &s) != 0 || s.l4len < TCP_HLEN)
		return 0;
	th = frame + s.l4;
	hl = (size_t)(th[12] >> 4) * 4;
	if (hl < TCP_HLEN || hl > s.l4len || !(th[13] & TH_SYN))
		return 0;
	/* The whole list is checked before any byte of it is changed. */
	if (walk_opts(th, hl, 0, 0, &changed) != 0)
		return 0;
	walk_opts(th, hl, s.ipv6 ? mss6 : mss4, 1, &changed);
	return changed;
}

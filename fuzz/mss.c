/* SPDX-License-Identifier: ISC */
/*
 * MSS clamping (lib/mss.c) on whatever frame a VM sends, against a model
 * of the rules in lib/mss.h: a frame is changed exactly when the model
 * finds a SYN with a well-formed option list and an MSS above the limit,
 * and then only in those MSS values and the checksum, whose one's
 * complement sum over the segment is what it was (so a checksum that
 * verified still does). The frame is an exact-size heap copy, so ASan
 * sees any access outside it; clamping twice changes nothing more.
 *
 * Input: mss4 and mss6 (big-endian u16 each), then the frame.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/mss.h"

#define HDR		4
#define P_TCP		6

struct loc {
	size_t		 l3, l4, l4len, hl;
	int		 v6;
};

/* Where the TCP header is, per lib/mss.h; -1 if it is not looked at. */
static int
locate(const uint8_t *f, size_t len, struct loc *x)
{
	size_t		 ihl, tot;
	uint16_t	 et;

	if (len < 14)
		return -1;
	x->l3 = 14;
	if ((et = fz_get16(f + 12)) == 0x8100) {
		if (len < 18)
			return -1;
		et = fz_get16(f + 16);
		x->l3 = 18;
	}
	if (et == 0x0800 && len >= x->l3 + 20 && f[x->l3] >> 4 == 4) {
		ihl = (size_t)(f[x->l3] & 15) * 4;
		tot = fz_get16(f + x->l3 + 2);
		if (ihl < 20 || tot < ihl || x->l3 + tot > len ||
		    (fz_get16(f + x->l3 + 6) & 0x3fff) != 0 ||
		    f[x->l3 + 9] != P_TCP)
			return -1;
		x->l4 = x->l3 + ihl;
		x->l4len = tot - ihl;
		x->v6 = 0;
	} else if (et == 0x86dd && len >= x->l3 + 40 && f[x->l3] >> 4 == 6 &&
	    f[x->l3 + 6] == P_TCP &&
	    x->l3 + 40 + fz_get16(f + x->l3 + 4) <= len) {
		x->l4 = x->l3 + 40;
		x->l4len = fz_get16(f + x->l3 + 4);
		x->v6 = 1;
	} else
		return -1;
	if (x->l4len < 20)
		return -1;
	x->hl = (size_t)(f[x->l4 + 12] >> 4) * 4;
	if (x->hl < 20 || x->hl > x->l4len || !(f[x->l4 + 13] & 0x02))
		return -1;
	return 0;
}

/*
 * The option list of th: -1 if malformed; else how many MSS values are
 * above lim, each set to lim in want (when not NULL).
 */
static int
model_opts(const uint8_t *th, size_t hl, uint16_t lim, uint8_t *want)
{
	size_t	 i = 20, olen;
	int	 n = 0;

	while (i < hl) {
		if (th[i] == 0)
			break;
		if (th[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl)
			return -1;
		olen = th[i + 1];
		if (olen < 2 || i + olen > hl || (th[i] == 2 && olen != 4))
			return -1;
		if (th[i] == 2 && fz_get16(th + i + 2) > lim) {
			if (want != NULL) {
				want[i + 2] = (uint8_t)(lim >> 8);
				want[i + 3] = (uint8_t)lim;
			}
			n++;
		}
		i += olen;
	}
	return n;
}

/* The segment's one's complement sum, pseudo-header included. */
static uint16_t
seg_sum(const uint8_t *f, const struct loc *x)
{
	const uint8_t	*ip = f + x->l3;
	uint64_t	 s;

	if (x->v6)
		s = ref_pseudo(ip + 8, ip + 24, 16, P_TCP, (uint32_t)x->l4len);
	else
		s = ref_pseudo(ip + 12, ip + 16, 4, P_TCP, (uint32_t)x->l4len);
	return ref_fold(ref_sum(s, f + x->l4, x->l4len));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loc	 x;
	uint16_t	 m4, m6, lim;
	uint8_t		*buf, *want;
	size_t		 len;
	int		 rc, n = 0;

	if (size < HDR)
		return 0;
	m4 = fz_get16(data);
	m6 = fz_get16(data + 2);
	len = size - HDR;
	buf = malloc(len ? len : 1);
	want = malloc(len ? len : 1);
	FUZZ_ASSERT(buf != NULL && want != NULL);
	memcpy(buf, data + HDR, len);
	memcpy(want, data + HDR, len);

	rc = mss_clamp(buf, len, m4, m6);
	FUZZ_ASSERT(rc == 0 || rc == 1);
	if (locate(want, len, &x) == 0) {
		lim = x.v6 ? m6 : m4;
		if ((n = model_opts(want + x.l4, x.hl, lim, NULL)) > 0)
			model_opts(want + x.l4, x.hl, lim, want + x.l4);
	}
	FUZZ_ASSERT(rc == (n > 0));
	if (rc == 1) {
		/* Only the MSS values and the checksum changed... */
		want[x.l4 + 16] = buf[x.l4 + 16];
		want[x.l4 + 17] = buf[x.l4 + 17];
		/* ...and the checksum still sums as it did. */
		FUZZ_ASSERT(seg_sum(buf, &x) == seg_sum(data + HDR, &x));
	}
	FUZZ_ASSERT(memcmp(buf, want, len) == 0);
	/* Clamped once is clamped for good. */
	FUZZ_ASSERT(mss_clamp(buf, len, m4, m6) == 0);
	FUZZ_ASSERT(memcmp(buf, want, len) == 0);
	free(want);
	free(buf);
	return 0;
}

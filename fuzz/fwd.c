/* SPDX-License-Identifier: ISC */
/*
 * The forwarding decision (lib/fwd.c) over a run of frames: whatever
 * the frames and their order, a verdict is well formed, never sends a
 * frame back where it came from, and the table only ever holds a MAC on
 * a link whose host block lists it (doc/ARCHITECTURE.md, "Forwarding").
 *
 * Input: byte 0 bit 0 = role (1 host); then three 16-bit masks, the MACs
 * of the universe each host block lists (on the host: the first is its
 * VMs); then 4-byte steps: what (capture, link 0..2, age, a link gone),
 * dst and src (indexes into the universe), milliseconds to wait / 4096.
 */
#include <string.h>
#include <sys/types.h>

#include "fuzz/fuzz.h"
#include "lib/frame.h"
#include "lib/fwd.h"
#include "lib/macset.h"

#define NU	20		/* 0..13 unicast, 14..15 group, 16..19 LAN */
#define NL	3

struct link {
	int	 id;
};

static struct {
	conf_mac		 uni[NU];
	conf_mac		 hmac[NL][16];
	struct conf_host	 h[NL];
	conf_mac		 macs[NL * 16];
	struct fwd_entry	 e[NL * 16];
	struct fwd_table	 t;
	struct link		 l[NL];
	struct ratelim		 r[NL];
	struct fwd_src		 s[NL];
} F;

static void
fz_setup(const uint8_t *d)
{
	size_t	 i, j, n = 0;

	memset(&F, 0, sizeof(F));
	for (i = 0; i < NU; i++) {
		F.uni[i][0] = i >= 14 && i < 16 ? 0x01 : 0x02;
		F.uni[i][5] = (uint8_t)i;
	}
	F.t.role = d[0] & 1 ? CONF_ROLE_HOST : CONF_ROLE_PROXY;
	for (i = 0; i < NL; i++) {
		uint16_t mask = fz_get16(d + 1 + 2 * i);

		F.h[i].macs = F.hmac[i];
		for (j = 0; j < 16; j++)
			if (mask & (1u << j))
				memcpy(F.hmac[i][F.h[i].nmacs++], F.uni[j], 6);
		if (F.t.role == CONF_ROLE_HOST && i > 0)
			continue;
		memcpy(F.macs[n], F.hmac[i], F.h[i].nmacs * 6);
		n += F.h[i].nmacs;
		F.l[i].id = (int)i;
		ratelim_init(&F.r[i], FWD_MOVES_PER_SEC, 1000);
		F.s[i].link = &F.l[i];
		F.s[i].host = F.t.role == CONF_ROLE_HOST ? NULL : &F.h[i];
		F.s[i].moves = &F.r[i];
	}
	F.t.macs = F.macs;
	F.t.e = F.e;
	F.t.n = macset_build(F.macs, n);
}

static int
fz_served(const uint8_t *mac)
{
	return macset_find(F.t.macs, F.t.n, mac) != -1;
}

/* Any verdict: a drop sends nothing; a send names where, consistently. */
static void
fz_verdict(const struct fwd_verdict *v, const struct link *from,
    const uint8_t *dst)
{
	size_t	 i;

	FUZZ_ASSERT((v->drop != FWD_PASS) == (v->to == 0));
	FUZZ_ASSERT(((v->to & FWD_TO_LINK) != 0) == (v->link != NULL));
	FUZZ_ASSERT(v->link == NULL || v->link != from);
	FUZZ_ASSERT(v->moved_from == NULL || v->moved_from != from);
	FUZZ_ASSERT(!(v->to & FWD_TO_LINK) || !mac_is_group(dst));
	for (i = 0; i < NL; i++)
		if (fwd_floods_to(v, &F.l[i], F.s[i].host, dst))
			FUZZ_ASSERT((v->to & FWD_TO_FLOOD) && &F.l[i] != from);
	if (F.t.role == CONF_ROLE_HOST)
		FUZZ_ASSERT((v->to & ~(unsigned)(from == NULL ? FWD_TO_UPLINK :
		    FWD_TO_INJECT)) == 0);
	else
		FUZZ_ASSERT(!(v->to & FWD_TO_UPLINK));
}

/* The table: only listed MACs, on a link whose host lists them. */
static void
fz_table(uint64_t now)
{
	size_t	 i;

	for (i = 0; i < F.t.n; i++) {
		const struct link *l = F.e[i].link;

		if (l == NULL)
			continue;
		FUZZ_ASSERT(F.t.role == CONF_ROLE_PROXY);
		FUZZ_ASSERT(conf_host_allows(&F.h[l->id], F.macs[i]));
		FUZZ_ASSERT(!mac_is_group(F.macs[i]));
		FUZZ_ASSERT(F.e[i].seen_ms <= now);
	}
}

static void
fz_from_link(size_t k, const uint8_t *dst, const uint8_t *src, uint64_t now)
{
	struct fwd_verdict	 v;
	ssize_t			 i;

	v = fwd_decide_link(&F.t, &F.s[k], dst, src, now);
	fz_verdict(&v, &F.l[k], dst);
	if (F.t.role == CONF_ROLE_HOST) {
		FUZZ_ASSERT(v.drop != FWD_PASS ||
		    (!fz_served(src) && (mac_is_group(dst) || fz_served(dst))));
		return;
	}
	if (v.drop == FWD_DROP_UNAUTHORIZED || v.drop == FWD_DROP_MOVE_LIMIT)
		FUZZ_ASSERT(v.moved_from == NULL);
	FUZZ_ASSERT((v.drop == FWD_DROP_UNAUTHORIZED) == (mac_is_group(src) ||
	    !conf_host_allows(&F.h[k], src)));
	/* Let through: its source is learned on this link, now. */
	if (v.drop == FWD_PASS || v.drop == FWD_DROP_LOOP) {
		i = macset_find(F.t.macs, F.t.n, src);
		FUZZ_ASSERT(i != -1);
		FUZZ_ASSERT(F.e[i].link == &F.l[k] && F.e[i].seen_ms == now);
		FUZZ_ASSERT(v.moved_from == NULL || F.e[i].moved_ms == now);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_verdict	 v;
	uint64_t		 now = 1000000;
	size_t			 off, k;

	if (size < 7)
		return 0;
	fz_setup(data);
	for (off = 7; off + 4 <= size; off += 4) {
		const uint8_t	*dst = F.uni[data[off + 1] % NU];
		const uint8_t	*src = F.uni[data[off + 2] % NU];

		now += (uint64_t)data[off + 3] * 4096;
		k = data[off] % 6;
		if (k == 0) {
			v = fwd_decide_capture(&F.t, dst, src);
			fz_verdict(&v, NULL, dst);
			FUZZ_ASSERT(v.moved_from == NULL);
		} else if (k <= NL) {
			if (F.s[k - 1].link == NULL)
				continue;	/* the host has one link */
			fz_from_link(k - 1, dst, src, now);
		} else if (k == 4) {
			(void)fwd_expire(&F.t, now);
			for (k = 0; k < F.t.n; k++)
				FUZZ_ASSERT(F.e[k].link == NULL ||
				    now - F.e[k].seen_ms <= FWD_AGE_MS);
		} else {
			fwd_forget(&F.t, &F.l[data[off + 1] % NL]);
			for (k = 0; k < F.t.n; k++)
				FUZZ_ASSERT(F.e[k].link !=
				    &F.l[data[off + 1] % NL]);
		}
		fz_table(now);
	}
	return 0;
}

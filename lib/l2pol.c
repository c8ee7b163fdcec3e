/* SPDX-License-Identifier: ISC */
/* Layer-2 policy (see l2pol.h): pure functions of a frame and a config. */
#include <stdlib.h>
#include <string.h>

#include "lib/bytes.h"
#include "lib/l2pol.h"
#include "lib/macset.h"

#define VID_MASK	0x0fff

int
l2pol_build(struct l2pol *p, const struct conf *c)
{
	size_t	 i, total = 0, off = 0;

	memset(p, 0, sizeof(*p));
	p->role = c->role;
	memcpy(p->vlan_allow, c->vlan_allow, sizeof(p->vlan_allow));
	if (c->role == CONF_ROLE_HOST)
		total = c->nvms;
	else
		for (i = 0; i < c->nhosts; i++)
			total += c->hosts[i].nmacs;
	if ((p->macs = calloc(total ? total : 1, sizeof(conf_mac))) == NULL)
		return -1;
	if (c->role == CONF_ROLE_HOST && total > 0)
		memcpy(p->macs, c->vms, total * sizeof(conf_mac));
	else
		for (i = 0; i < c->nhosts; i++) {
			memcpy(p->macs + off, c->hosts[i].macs,
			    c->hosts[i].nmacs * sizeof(conf_mac));
			off += c->hosts[i].nmacs;
		}
	p->nmacs = macset_build(p->macs, total);
	return 0;
}

void
l2pol_free(struct l2pol *p)
{
	free(p->macs);
	memset(p, 0, sizeof(*p));
}

static int
is_tpid(uint16_t t)
{
	return t == L2POL_TPID_8021Q || t == L2POL_TPID_8021AD ||
	    t == L2POL_TPID_QINQ_OLD;
}

/* 01:80:c2:00:00:00 to 0f: IEEE 802.1D/802.1Q reserved, link-local. */
static int
is_reserved(const uint8_t *dst)
{
	static const uint8_t	 pfx[5] = { 0x01, 0x80, 0xc2, 0x00, 0x00 };

	return memcmp(dst, pfx, sizeof(pfx)) == 0 && dst[5] <= 0x0f;
}

enum l2pol_verdict
l2pol_hygiene(const struct l2pol *p, const uint8_t *f, size_t len)
{
	uint16_t	 type, vid;

	if (len < VNET_ETH_HLEN)
		return L2POL_SHORT;
	if (is_reserved(f))
		return L2POL_RESERVED;
	type = get_be16(f + 12);
	if (!is_tpid(type))
		return L2POL_PASS;
	/* Only one 802.1Q tag, whose VID is listed, and nothing stacked. */
	if (type != L2POL_TPID_8021Q)
		return L2POL_VLAN;
	if (len < VNET_ETH_HLEN + 4)
		return L2POL_SHORT;
	vid = get_be16(f + 14) & VID_MASK;
	if (is_tpid(get_be16(f + 16)))
		return L2POL_VLAN;
	if (vid > CONF_VLAN_MAX || !((p->vlan_allow[vid / 8] >> (vid % 8)) & 1))
		return L2POL_VLAN;
	return L2POL_PASS;
}

static int
is_zero(const uint8_t *mac)
{
	static const uint8_t	 zero[VNET_ETH_ALEN];

	return memcmp(mac, zero, VNET_ETH_ALEN) == 0;
}

enum l2pol_verdict
l2pol_inject(const struct l2pol *p, const uint8_t *f, size_t len)
{
	const uint8_t		*dst = f, *src = f + VNET_ETH_ALEN;
	enum l2pol_verdict	 v;
	int			 src_served;

	if ((v = l2pol_hygiene(p, f, len)) != L2POL_PASS)
		return v;
	if (mac_is_group(src) || is_zero(src))
		return L2POL_SRC_INVALID;
	src_served = macset_find(p->macs, p->nmacs, src) != -1;
	if (p->role != CONF_ROLE_HOST)
		return src_served ? L2POL_PASS : L2POL_SRC_UNAUTH;
	if (src_served)
		return L2POL_SRC_SERVED;
	if (!mac_is_group(dst) && macset_find(p->macs, p->nmacs, dst) == -1)
		return L2POL_DST_UNSERVED;
	return L2POL_PASS;
}

const char *
l2pol_counter(enum l2pol_verdict v)
{
	static const char *const name[L2POL_MAX] = {
		[L2POL_PASS] = NULL,
		[L2POL_SHORT] = "drop_short",
		[L2POL_VLAN] = "drop_vlan",
		[L2POL_RESERVED] = "drop_reserved_dst",
		[L2POL_SRC_INVALID] = "drop_src_invalid",
		[L2POL_SRC_UNAUTH] = "drop_src_unauthorized",
		[L2POL_SRC_SERVED] = "drop_src_served",
		[L2POL_DST_UNSERVED] = "drop_dst_unserved",
	};

	if ((unsigned)v >= L2POL_MAX)
		return "drop_unknown";
	return name[v];
}

int
l2pol_conf_same(const struct conf *a, const struct conf *b)
{
	struct l2pol	 pa, pb;
	int		 same;

	if (l2pol_build(&pa, a) == -1)
		return 0;
	if (l2pol_build(&pb, b) == -1) {
		l2pol_free(&pa);
		return 0;
	}
	same = pa.role == pb.role && pa.nmacs == pb.nmacs &&
	    memcmp(pa.macs, pb.macs, pa.nmacs * sizeof(conf_mac)) == 0 &&
	    memcmp(pa.vlan_allow, pb.vlan_allow, sizeof(pa.vlan_allow)) == 0;
	l2pol_free(&pa);
	l2pol_free(&pb);
	return same;
}

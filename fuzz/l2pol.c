/* SPDX-License-Identifier: ISC */
/*
 * The layer-2 policy (lib/l2pol.c): l2pol_hygiene(), which capture runs
 * on every frame from a VM or the LAN, and l2pol_inject(), which inject
 * runs on every frame crypt hands it, checked against a model of the
 * rules in l2pol.h written out here, independently.
 *
 * Input: byte 0 (bit 0: role host, else proxy; bit 1: vlan-allow the
 * VID in bytes 1-2, mod 4096), then the frame, in an exact-size heap
 * buffer so that any read past it is caught.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/l2pol.h"

#define HDR	3

/* The configuration's MACs: unicast, so some frames hit them. */
static conf_mac	 macs[3] = {
	{ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	{ 0x00, 0x80, 0xc2, 0x00, 0x00, 0x00 },
};

static int
listed(const uint8_t *m)
{
	size_t	 i;

	for (i = 0; i < 3; i++)
		if (memcmp(macs[i], m, 6) == 0)
			return 1;
	return 0;
}

static int
tpid(uint16_t t)
{
	return t == 0x8100 || t == 0x88a8 || t == 0x9100;
}

static enum l2pol_verdict
model_hygiene(const uint8_t *f, size_t len, int allow, unsigned vid)
{
	uint16_t	 t;

	if (len < 14)
		return L2POL_SHORT;
	if (f[0] == 0x01 && f[1] == 0x80 && f[2] == 0xc2 && f[3] == 0 &&
	    f[4] == 0 && f[5] < 0x10)
		return L2POL_RESERVED;
	t = fz_get16(f + 12);
	if (!tpid(t))
		return L2POL_PASS;
	if (t != 0x8100)
		return L2POL_VLAN;
	if (len < 18)
		return L2POL_SHORT;
	if (tpid(fz_get16(f + 16)))
		return L2POL_VLAN;
	if (!allow || (fz_get16(f + 14) & 0xfff) != vid || vid > 4094)
		return L2POL_VLAN;
	return L2POL_PASS;
}

static enum l2pol_verdict
model_inject(const uint8_t *f, size_t len, int host, int allow, unsigned vid)
{
	static const uint8_t	 zero[6];
	enum l2pol_verdict	 v;

	if ((v = model_hygiene(f, len, allow, vid)) != L2POL_PASS)
		return v;
	if ((f[6] & 1) || memcmp(f + 6, zero, 6) == 0)
		return L2POL_SRC_INVALID;
	if (!host)
		return listed(f + 6) ? L2POL_PASS : L2POL_SRC_UNAUTH;
	if (listed(f + 6))
		return L2POL_SRC_SERVED;
	if (!(f[0] & 1) && !listed(f))
		return L2POL_DST_UNSERVED;
	return L2POL_PASS;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_host	 h;
	struct conf		 c;
	struct l2pol		 p;
	enum l2pol_verdict	 hv, iv;
	uint8_t			*f;
	size_t			 len;
	unsigned		 vid;
	int			 host, allow;

	if (size < HDR)
		return 0;
	host = data[0] & 1;
	allow = (data[0] >> 1) & 1;
	vid = fz_get16(data + 1) % 4096;
	len = size - HDR;

	memset(&c, 0, sizeof(c));
	memset(&h, 0, sizeof(h));
	c.role = host ? CONF_ROLE_HOST : CONF_ROLE_PROXY;
	if (host) {
		c.vms = macs;
		c.nvms = 3;
	} else {
		h.macs = macs;
		h.nmacs = 3;
		c.hosts = &h;
		c.nhosts = 1;
	}
	if (allow && vid <= CONF_VLAN_MAX)
		c.vlan_allow[vid / 8] |= (uint8_t)(1u << (vid % 8));
	FUZZ_ASSERT(l2pol_build(&p, &c) == 0);
	FUZZ_ASSERT(l2pol_conf_same(&c, &c) == 1);

	f = malloc(len > 0 ? len : 1);
	FUZZ_ASSERT(f != NULL);
	if (len > 0)
		memcpy(f, data + HDR, len);
	hv = l2pol_hygiene(&p, f, len);
	iv = l2pol_inject(&p, f, len);
	FUZZ_ASSERT(hv == model_hygiene(f, len, allow, vid));
	FUZZ_ASSERT(iv == model_inject(f, len, host, allow, vid));
	/* Inject applies hygiene first, and never undoes it. */
	FUZZ_ASSERT(hv == L2POL_PASS || iv == hv);
	FUZZ_ASSERT((iv == L2POL_PASS) == (l2pol_counter(iv) == NULL));
	FUZZ_ASSERT(memcmp(f, data + HDR, len) == 0);
	free(f);
	l2pol_free(&p);
	return 0;
}

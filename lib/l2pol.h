/* SPDX-License-Identifier: ISC */
/*
 * Layer-2 policy: what a side may put on its wire, decided from its own
 * configuration alone, so that no process has to trust the one before
 * it (inject re-checks what crypt hands it; capture refuses what a VM
 * or the LAN should never send across).
 *
 * Hygiene (both sides, capture and inject): no VLAN-tagged frame unless
 * it carries exactly one 802.1Q tag whose VID vlan-allow lists (service
 * tags 0x88a8 and 0x9100 and stacked tags never pass: they are how a
 * frame hops into a VLAN it does not belong to), and nothing to the
 * IEEE 802.1D reserved group addresses 01:80:c2:00:00:00..0f (STP,
 * PAUSE, LACP, 802.1X: link-local, never meant to be forwarded).
 *
 * Inject, by role:
 *  - proxy: the source must be a unicast MAC some host block lists;
 *  - host: the source must not be a served VM (those frames belong on
 *    the bridge, not from home), and the destination must be a served
 *    VM or a group address.
 * Both: never a group or all-zero source.
 */
#ifndef VNET_LIB_L2POL_H
#define VNET_LIB_L2POL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"

/* Each verdict but PASS is a drop; l2pol_counter() names its counter. */
enum l2pol_verdict {
	L2POL_PASS = 0,
	L2POL_SHORT,		/* shorter than an Ethernet header (+ tag) */
	L2POL_VLAN,		/* a tag vlan-allow does not let through */
	L2POL_RESERVED,		/* to 01:80:c2:00:00:00..0f */
	L2POL_SRC_INVALID,	/* group or all-zero source */
	L2POL_SRC_UNAUTH,	/* proxy: source no host may send from */
	L2POL_SRC_SERVED,	/* host: source claims a served VM */
	L2POL_DST_UNSERVED,	/* host: unicast to a MAC it does not serve */
	L2POL_MAX
};

/* The Ethernet types that mean "a tag follows". */
#define L2POL_TPID_8021Q	0x8100
#define L2POL_TPID_8021AD	0x88a8
#define L2POL_TPID_QINQ_OLD	0x9100	/* pre-802.1ad stacking */

struct l2pol {
	enum conf_role	 role;
	conf_mac	*macs;		/* sorted: host its VMs, proxy all hosts' */
	size_t		 nmacs;
	uint8_t		 vlan_allow[(CONF_VLAN_MAX + 8) / 8];
};

/* From a parsed configuration; 0, or -1 when out of memory. */
int	 l2pol_build(struct l2pol *, const struct conf *);
void	 l2pol_free(struct l2pol *);
/* Hygiene only: what capture checks on both sides. */
enum l2pol_verdict l2pol_hygiene(const struct l2pol *, const uint8_t *f,
	    size_t len);
/* Hygiene, then the role's rules: what inject checks. */
enum l2pol_verdict l2pol_inject(const struct l2pol *, const uint8_t *f,
	    size_t len);
/* The counter (and audit reason) of a drop: "drop_vlan"; NULL for PASS. */
const char *l2pol_counter(enum l2pol_verdict);
/*
 * 1 if a and b make the same policy (role, MAC set, vlan-allow), which
 * inject's reload record says.
 */
int	 l2pol_conf_same(const struct conf *a, const struct conf *b);

#endif

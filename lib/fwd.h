/* SPDX-License-Identifier: ISC */
/*
 * The forwarding decision: where a frame goes, from the table and the
 * frame's addresses alone. crypt does the sending, counting and logging
 * (crypt/fwd.c); the rules are in doc/ARCHITECTURE.md, "Forwarding".
 */
#ifndef VNET_LIB_FWD_H
#define VNET_LIB_FWD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/ratelim.h"

/*
 * crypt's link. Forwarding only stores and compares pointers to it,
 * so it stays an incomplete type here.
 */
struct link;

/* Forget a silent MAC, as a bridge does. */
#define FWD_AGE_MS		300000
/* Entries one link may take over per second, new ones and moves. */
#define FWD_MOVES_PER_SEC	64

/* Every MAC this side may see on a link, and where it was last seen. */
struct fwd_entry {
	struct link	*link;		/* NULL: not seen, aged, link gone */
	uint64_t	 seen_ms;	/* last frame from it */
	uint64_t	 moved_ms;	/* last change of link; 0 never */
};

/*
 * The table: host, its VMs; proxy, every MAC some host block lists.
 * Bounded by the configuration, so an unauthorized MAC never enters.
 */
struct fwd_table {
	enum conf_role	 role;
	const conf_mac	*macs;		/* sorted by macset_build */
	struct fwd_entry *e;		/* parallel to macs */
	size_t		 n;
};

/* Why a frame goes nowhere; each is one of crypt's drop counters. */
enum fwd_drop {
	FWD_PASS,
	FWD_DROP_SRC_UNKNOWN,	/* host: captured, but from no served VM */
	FWD_DROP_LOOP,		/* it would go back where it came from */
	FWD_DROP_BAD_DST,	/* to nobody this side may deliver to */
	FWD_DROP_UNAUTHORIZED,	/* proxy: source not in the link's host block */
	FWD_DROP_MOVE_LIMIT,	/* proxy: the link took over too many entries */
};

/* Where a frame goes; any combination. */
#define FWD_TO_INJECT	0x01	/* host: the VMs; proxy: the home LAN */
#define FWD_TO_UPLINK	0x02	/* host: the one link, to the proxy */
#define FWD_TO_LINK	0x04	/* proxy: the link in .link */
#define FWD_TO_FLOOD	0x08	/* proxy: every up link fwd_floods_to() takes */

struct fwd_verdict {
	enum fwd_drop	 drop;
	unsigned	 to;		/* FWD_TO_*; 0 when dropped */
	struct link	*link;		/* FWD_TO_LINK */
	struct link	*except;	/* FWD_TO_FLOOD: never to this one */
	struct link	*moved_from;	/* the source MAC left this link */
};

/*
 * The link a frame came from: who it authenticated as (the proxy knows
 * the host; on the host side NULL) and its budget of entries to take.
 */
struct fwd_src {
	struct link		*link;
	const struct conf_host	*host;
	struct ratelim		*moves;
};

/* A frame capture handed over (from the VMs, or from the home LAN). */
struct fwd_verdict fwd_decide_capture(const struct fwd_table *,
	    const uint8_t *dst, const uint8_t *src);
/*
 * A frame from a link: on the proxy, authorize its source and learn
 * where it is (a move, or a new entry, spends the link's budget).
 */
struct fwd_verdict fwd_decide_link(struct fwd_table *, const struct fwd_src *,
	    const uint8_t *dst, const uint8_t *src, uint64_t now_ms);
/* Does a flood for dst go to link l, whose host is h? */
int	 fwd_floods_to(const struct fwd_verdict *, const struct link *l,
	    const struct conf_host *h, const uint8_t *dst);
/* Forget every MAC silent for FWD_AGE_MS; returns how many. */
size_t	 fwd_expire(struct fwd_table *, uint64_t now_ms);
/* A link is gone: its MACs are not seen anywhere now. */
void	 fwd_forget(struct fwd_table *, const struct link *);

#endif

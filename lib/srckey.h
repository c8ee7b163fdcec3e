/* SPDX-License-Identifier: ISC */
/*
 * Which "source" a connection comes from, for the proxy's limits on
 * connections not yet authenticated (max-pending-per-source). An IPv4
 * source is its address; an IPv6 source is its /64, since one host
 * usually holds a whole /64 and picks addresses in it at will. An
 * IPv4-mapped IPv6 address (a dual-stack listener's IPv4 client) is
 * the IPv4 address it maps, not the ::ffff:0:0/96 all of them share.
 */
#ifndef VNET_LIB_SRCKEY_H
#define VNET_LIB_SRCKEY_H

#include <sys/socket.h>

#include <stdint.h>

struct src_key {
	uint8_t		 family;	/* 4, 6, or 0: no source (never equal) */
	uint8_t		 addr[8];	/* IPv4 address, or the IPv6 /64 */
};

/* The source of a peer address (sockaddr_in or sockaddr_in6). */
void	 src_key(const struct sockaddr_storage *, struct src_key *);
/* 1 when both are the same source. */
int	 src_key_equal(const struct src_key *, const struct src_key *);

#endif

#ifndef VNET_CAPTURE_CAPTURE_H
#define VNET_CAPTURE_CAPTURE_H

#include <stddef.h>

#include "lib/conf.h"

/*
 * The MACs this side serves, sorted: on a host its VMs, on the proxy
 * every MAC any host may send from.
 */
struct served {
	conf_mac	*macs;
	size_t		 n;
};

/* capture/filter.c */
int	 served_build(const struct conf *, struct served *);
char	*filter_build(const struct conf *, const struct served *);
int	 filter_wants(const struct conf *, const struct served *,
	    const uint8_t *frame, size_t len);

#endif

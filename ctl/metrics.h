/* SPDX-License-Identifier: ISC */
/*
 * `vnetctl metrics`: the control socket's JSON replies (stats, links,
 * macs) rewritten in the Prometheus text exposition format, version
 * 0.0.4. Pure apart from the output stream.
 */
#ifndef VNET_CTL_METRICS_H
#define VNET_CTL_METRICS_H

#include <stdio.h>

#include "ctl/json.h"

struct metrics_in {
	const struct json	*stats;		/* vnetctl -j stats */
	const struct json	*links;		/* vnetctl -j links */
	const struct json	*macs;		/* vnetctl -j macs */
	const char		*instance;	/* NULL, or a vnetd@ instance */
};

/* 0, or -1 with *why when a reply does not have the expected shape. */
int	 metrics_write(FILE *out, const struct metrics_in *in,
	    const char **why);

#endif

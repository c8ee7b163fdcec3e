/* SPDX-License-Identifier: ISC */
/*
 * Control socket requests: one line, "COMMAND[ json]\n", nothing else.
 * Parsed by a pure function so the fuzzer drives the daemon's code.
 */
#ifndef VNET_LIB_CTLREQ_H
#define VNET_LIB_CTLREQ_H

#include <stddef.h>

#define CTLREQ_MAX	64	/* bytes in a request, newline included */

enum ctl_cmd {
	CTL_NONE = 0,
	CTL_STATUS,	/* version, uptime, workers */
	CTL_LINKS,	/* up links with TLS details and counters */
	CTL_MACS,	/* the forwarding table */
	CTL_STATS,	/* every worker's counters */
	CTL_RELOAD,	/* re-read the configuration */
};

struct ctl_req {
	enum ctl_cmd	 cmd;
	int		 json;
};

/*
 * Parse buf[0..len), which must be exactly one request ending in its
 * only newline. Returns 0, or -1 with *why saying what is wrong.
 */
int		 ctlreq_parse(const char *buf, size_t len, struct ctl_req *r,
		    const char **why);
const char	*ctlreq_name(enum ctl_cmd cmd);

#endif

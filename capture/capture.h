/* SPDX-License-Identifier: ISC */
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

struct bpf_program;

/* capture/filter.c */
int	 served_build(const struct conf *, struct served *, int unbound_only);
char	*filter_build(const struct conf *, const struct served *);
int	 filter_wants(const struct conf *, const struct served *,
	    const uint8_t *frame, size_t len);
/*
 * capture/bpf.c: the same rule as a BPF program that searches the set
 * (bf_insns is malloc()ed), or -1 with errno E2BIG when it would be too
 * long for the kernel.
 */
int	 filter_program(const struct conf *, const struct served *,
	    unsigned snaplen, struct bpf_program *);

#endif

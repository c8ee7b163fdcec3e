/* SPDX-License-Identifier: ISC */
/* A sorted set of MAC addresses: bounded by construction, no growth. */
#ifndef VNET_LIB_MACSET_H
#define VNET_LIB_MACSET_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/conf.h"

/* Sort in place and drop duplicates; returns the new count. */
size_t	 macset_build(conf_mac *macs, size_t n);
/* Index of mac in a set built by macset_build, or -1. */
ssize_t	 macset_find(const conf_mac *macs, size_t n, const uint8_t *mac);

#endif

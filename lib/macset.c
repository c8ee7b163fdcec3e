/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "lib/macset.h"

static int
mac_cmp(const void *a, const void *b)
{
	return memcmp(a, b, VNET_ETH_ALEN);
}

size_t
macset_build(conf_mac *macs, size_t n)
{
	size_t	 i, out;

	if (n == 0)
		return 0;
	qsort(macs, n, sizeof(conf_mac), mac_cmp);
	for (out = 1, i = 1; i < n; i++)
		if (memcmp(macs[i], macs[out - 1], VNET_ETH_ALEN) != 0)
			memmove(macs[out++], macs[i], VNET_ETH_ALEN);
	return out;
}

ssize_t
macset_find(const conf_mac *macs, size_t n, const uint8_t *mac)
{
	size_t	 lo = 0, hi = n;

	while (lo < hi) {
		size_t	 mid = lo + (hi - lo) / 2;
		int	 c = memcmp(macs[mid], mac, VNET_ETH_ALEN);

		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

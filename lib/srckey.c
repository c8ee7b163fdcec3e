/* SPDX-License-Identifier: ISC */
#include <netinet/in.h>
#include <string.h>

#include "lib/srckey.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff };

void
src_key(const struct sockaddr_storage *ss, struct src_key *k)
{
	memset(k, 0, sizeof(*k));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		k->family = 4;
		memcpy(k->addr, &s->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;
		const uint8_t *a = s->sin6_addr.s6_addr;

		if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
			k->family = 4;
			memcpy(k->addr, a + 12, 4);
		} else {
			k->family = 6;
			memcpy(k->addr, a, 8);
		}
	}
}

int
src_key_equal(const struct src_key *a, const struct src_key *b)
{
	return a->family != 0 && a->family == b->family &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

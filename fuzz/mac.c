/* SPDX-License-Identifier: ISC */
/*
 * The MAC helpers that meet outside bytes: mac_parse() (configuration
 * text) with mac_format(), and the sorted set capture's filter and
 * crypt's forwarding build from the configuration and then query with
 * the addresses of every frame (macset_build, macset_find).
 *
 * Input: byte 0 % 32 = k, then k bytes of text for mac_parse (given as
 * a NUL-terminated string of exactly that size), then 6-byte MACs: the
 * first half build the set, all of them (and neighbours) are looked up.
 */
#include <ctype.h>
#include <string.h>
#include <sys/types.h>

#include "fuzz/fuzz.h"
#include "lib/frame.h"
#include "lib/macset.h"

#define MAXMACS		512

/* "aa:bb:cc:dd:ee:ff", written out independently of lib/frame.c. */
static int
looks_like_mac(const char *s)
{
	size_t	 i;

	if (strlen(s) != 17)
		return 0;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static void
check_parse(const uint8_t *d, size_t k)
{
	char		*s = malloc(k + 1), out[18], low[18];
	uint8_t		 mac[6], back[6];
	size_t		 i;
	int		 rc;

	FUZZ_ASSERT(s != NULL);
	memcpy(s, d, k);
	s[k] = '\0';
	memset(mac, 0xee, sizeof(mac));
	rc = mac_parse(s, mac);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	FUZZ_ASSERT((rc == 0) == looks_like_mac(s));
	if (rc == 0) {
		/* Formatting gives the same text, in lower case. */
		for (i = 0; i < 17; i++)
			low[i] = (char)tolower((unsigned char)s[i]);
		low[17] = '\0';
		FUZZ_ASSERT(mac_format(mac, out) == out);
		FUZZ_ASSERT(strcmp(out, low) == 0);
	} else {
		for (i = 0; i < 6; i++)
			FUZZ_ASSERT(mac[i] == 0xee);	/* untouched */
	}
	/* Whatever six bytes: format, then parse, gives them back. */
	if (k >= 6) {
		mac_format(d, out);
		FUZZ_ASSERT(looks_like_mac(out));
		FUZZ_ASSERT(mac_parse(out, back) == 0);
		FUZZ_ASSERT(memcmp(back, d, 6) == 0);
	}
	free(s);
}

static ssize_t
linear(const conf_mac *set, size_t n, const uint8_t *mac)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (memcmp(set[i], mac, 6) == 0)
			return (ssize_t)i;
	return -1;
}

static void
check_set(const uint8_t *d, size_t len)
{
	size_t		 nall = len / 6, nset, m, i, j;
	conf_mac	*set;
	uint8_t		 probe[6];
	ssize_t		 got;

	if (nall > MAXMACS)
		nall = MAXMACS;
	nset = nall / 2;
	set = malloc((nset > 0 ? nset : 1) * sizeof(*set));
	FUZZ_ASSERT(set != NULL);
	if (nset > 0)
		memcpy(set, d, nset * 6);
	m = macset_build(set, nset);
	FUZZ_ASSERT(m <= nset && (nset == 0) == (m == 0));
	/* Sorted, no duplicates, nothing invented. */
	for (i = 1; i < m; i++)
		FUZZ_ASSERT(memcmp(set[i - 1], set[i], 6) < 0);
	for (i = 0; i < m; i++) {
		for (j = 0; j < nset; j++)
			if (memcmp(set[i], d + 6 * j, 6) == 0)
				break;
		FUZZ_ASSERT(j < nset);
	}
	/* Every lookup agrees with a linear search. */
	for (i = 0; i < nall; i++) {
		memcpy(probe, d + 6 * i, 6);
		got = macset_find(set, m, probe);
		FUZZ_ASSERT(got == linear(set, m, probe));
		if (i < nset)
			FUZZ_ASSERT(got >= 0);	/* members are found */
		probe[5]++;
		FUZZ_ASSERT(macset_find(set, m, probe) ==
		    linear(set, m, probe));
		probe[5] -= 2;
		FUZZ_ASSERT(macset_find(set, m, probe) ==
		    linear(set, m, probe));
	}
	free(set);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	 k;

	if (size < 1)
		return 0;
	k = data[0] % 32;
	if (k > size - 1)
		k = size - 1;
	check_parse(data + 1, k);
	check_set(data + 1 + k, size - 1 - k);
	return 0;
}

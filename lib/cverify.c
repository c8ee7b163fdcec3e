/* SPDX-License-Identifier: ISC */
#include <string.h>

#include "lib/cverify.h"

static const char *const cverify_ctx[] = {
	[CVERIFY_SERVER] = "TLS 1.3, server CertificateVerify",
	[CVERIFY_CLIENT] = "TLS 1.3, client CertificateVerify",
};

const char *
cverify_check(const uint8_t *tbs, size_t len, enum cverify_side side)
{
	const char	*want = cverify_ctx[side];
	const char	*other = cverify_ctx[side == CVERIFY_SERVER ?
			    CVERIFY_CLIENT : CVERIFY_SERVER];
	size_t		 i, hl;

	if (len < CVERIFY_PAD + CVERIFY_CTXLEN + 1)
		return "length";
	for (i = 0; i < CVERIFY_PAD; i++)
		if (tbs[i] != 0x20)
			return "prefix";
	if (memcmp(tbs + CVERIFY_PAD, other, CVERIFY_CTXLEN) == 0)
		return "role";
	if (memcmp(tbs + CVERIFY_PAD, want, CVERIFY_CTXLEN) != 0 ||
	    tbs[CVERIFY_PAD + CVERIFY_CTXLEN] != 0)
		return "context";
	hl = len - CVERIFY_PAD - CVERIFY_CTXLEN - 1;
	if (hl != 32 && hl != 48)
		return "hash_length";
	return NULL;
}

size_t
cverify_build(uint8_t *out, enum cverify_side side, const uint8_t *hash,
    size_t hlen)
{
	memset(out, 0x20, CVERIFY_PAD);
	memcpy(out + CVERIFY_PAD, cverify_ctx[side], CVERIFY_CTXLEN + 1);
	memcpy(out + CVERIFY_PAD + CVERIFY_CTXLEN + 1, hash, hlen);
	return CVERIFY_PAD + CVERIFY_CTXLEN + 1 + hlen;
}

/* SPDX-License-Identifier: ISC */
/*
 * The content a TLS 1.3 CertificateVerify signs (RFC 8446, 4.4.3): 64
 * bytes of 0x20, the context string of the signer's side, a zero byte,
 * and the transcript hash. The monitor signs nothing else for crypt.
 */
#ifndef VNET_LIB_CVERIFY_H
#define VNET_LIB_CVERIFY_H

#include <stddef.h>
#include <stdint.h>

enum cverify_side {
	CVERIFY_SERVER,		/* the proxy */
	CVERIFY_CLIENT		/* a host */
};

#define CVERIFY_PAD	64
#define CVERIFY_CTXLEN	33	/* "TLS 1.3, server CertificateVerify" */

/*
 * NULL if tbs[0..len) is the content of a CertificateVerify of side
 * with a SHA-256 or SHA-384 transcript hash, else why not, in one word:
 * length, prefix, role (the other side's context), context, hash_length.
 */
const char *cverify_check(const uint8_t *tbs, size_t len,
	    enum cverify_side side);
/* Build one, with hlen bytes of hash, into out (room for 64+34+hlen). */
size_t	 cverify_build(uint8_t *out, enum cverify_side side,
	    const uint8_t *hash, size_t hlen);

#endif

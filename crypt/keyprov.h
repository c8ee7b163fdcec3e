/* SPDX-License-Identifier: ISC */
/*
 * crypt's own OpenSSL provider ("vnetkey"): keys that hold only the
 * public half of the certificate's key, and a signature operation that
 * asks the monitor, which alone holds the private key, to sign.
 */
#ifndef VNET_CRYPT_KEYPROV_H
#define VNET_CRYPT_KEYPROV_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Who signs for the provider: alg and md are enum msg_sign_alg and
 * enum msg_sign_md, tbs the whole content (EVP_DigestSign's input).
 * Returns 0 with the signature in sig (at most *siglen bytes, *siglen
 * set to its length), -1 when there is none (refused, no answer).
 */
typedef int keyprov_signer(int alg, int md, const uint8_t *tbs,
	    size_t tbslen, uint8_t *sig, size_t *siglen);

/*
 * Register and load the provider next to OpenSSL's default one, which
 * stays the one everything else uses. Fatal on failure.
 */
void	 keyprov_init(keyprov_signer *);
void	 keyprov_fini(void);
/*
 * A key of the provider for the certificate's public key (EC P-256 or
 * P-384, RSA, RSA-PSS, Ed25519), for SSL_CTX_use_PrivateKey. NULL if
 * the certificate's key is of another kind.
 */
EVP_PKEY *keyprov_key(X509 *cert);

#endif

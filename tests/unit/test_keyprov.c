/* SPDX-License-Identifier: ISC */
/*
 * crypt's key provider (crypt/keyprov.c) in a real TLS 1.3 handshake,
 * over a BIO pair: the server's key is the provider's (public half
 * only) and its signer signs in this process with the private key, as
 * the monitor does. For every kind of key vnet supports, the handshake
 * completes, the signer is asked exactly once, and what it is asked to
 * sign passes the monitor's check (lib/cverify.c). A signer that
 * refuses makes the handshake fail. And the check itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#include "crypt/keyprov.h"
#include "lib/cverify.h"
#include "privsep/msg.h"

static EVP_PKEY	*tk_key;		/* the "monitor's" private key */
static int	 tk_calls, tk_refuse, tk_shape_ok;

static int
tk_signer(int alg, int md, const uint8_t *tbs, size_t len, uint8_t *sig,
    size_t *siglen)
{
	static const char *const mdn[] = { NULL, "SHA256", "SHA384",
	    "SHA512" };
	EVP_MD_CTX	*mc;
	EVP_PKEY_CTX	*pc;
	int		 ok;

	tk_calls++;
	tk_shape_ok = cverify_check(tbs, len, CVERIFY_SERVER) == NULL;
	if (tk_refuse)
		return -1;
	assert_non_null(mc = EVP_MD_CTX_new());
	ok = EVP_DigestSignInit_ex(mc, &pc, mdn[md], NULL, NULL, tk_key,
	    NULL) == 1;
	if (ok && alg == MSG_SIGN_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(pc,
		    RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc,
		    RSA_PSS_SALTLEN_DIGEST) == 1;
	ok = ok && EVP_DigestSign(mc, sig, siglen, tbs, len) == 1;
	EVP_MD_CTX_free(mc);
	return ok ? 0 : -1;
}

static X509 *
tk_cert(EVP_PKEY *k)
{
	X509	*x = X509_new();

	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"proxy", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_PKEY_is_a(k, "ED25519") ? NULL :
	    EVP_sha256()) > 0);
	return x;
}

/* One handshake: 1 if both ends finished. */
static int
tk_handshake(X509 *x, EVP_PKEY *pk)
{
	SSL_CTX		*sc = SSL_CTX_new(TLS_server_method());
	SSL_CTX		*cc = SSL_CTX_new(TLS_client_method());
	SSL		*s, *c;
	BIO		*b1, *b2;
	int		 rs = 0, rc = 0, i;

	assert_true(SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION));
	assert_true(SSL_CTX_set_min_proto_version(cc, TLS1_3_VERSION));
	assert_int_equal(SSL_CTX_use_certificate(sc, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sc, pk), 1);
	assert_int_equal(SSL_CTX_check_private_key(sc), 1);
	assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(cc), x),
	    1);
	SSL_CTX_set_verify(cc, SSL_VERIFY_PEER, NULL);
	s = SSL_new(sc);
	c = SSL_new(cc);
	assert_int_equal(BIO_new_bio_pair(&b1, 0, &b2, 0), 1);
	SSL_set_bio(s, b1, b1);
	SSL_set_bio(c, b2, b2);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (i = 0; i < 10 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1)
			rs = SSL_do_handshake(s);
	}
	ERR_clear_error();
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(sc);
	SSL_CTX_free(cc);
	return rs == 1 && rc == 1;
}

/* A key of type; param is the EC curve. RSA and RSA-PSS: 2048 bits. */
static EVP_PKEY *
tk_gen(const char *type, const char *param)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*k = NULL;

	if (strcmp(type, "EC") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, type, param);
	else {
		assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, type,
		    NULL));
		assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
		(void)EVP_PKEY_generate(ctx, &k);
		EVP_PKEY_CTX_free(ctx);
	}
	assert_non_null(k);
	return k;
}

static void
tk_kind(const char *type, const char *param)
{
	EVP_PKEY	*pk;
	X509		*x;

	tk_key = tk_gen(type, param);
	x = tk_cert(tk_key);
	assert_non_null(pk = keyprov_key(x));
	/* It holds no private part to hand out. */
	assert_int_equal(EVP_PKEY_get_bn_param(pk, "priv", &(BIGNUM *){ NULL }),
	    0);
	tk_calls = tk_refuse = tk_shape_ok = 0;
	assert_true(tk_handshake(x, pk));
	assert_int_equal(tk_calls, 1);
	assert_true(tk_shape_ok);
	/* No signature from the monitor: no handshake. */
	tk_calls = 0;
	tk_refuse = 1;
	assert_false(tk_handshake(x, pk));
	assert_int_equal(tk_calls, 1);
	ERR_clear_error();
	EVP_PKEY_free(pk);
	X509_free(x);
	EVP_PKEY_free(tk_key);
}

static void
test_kinds(void **state)
{
	(void)state;
	tk_kind("EC", "P-256");
	tk_kind("EC", "P-384");
	tk_kind("RSA", NULL);
	tk_kind("RSA-PSS", NULL);
	tk_kind("ED25519", NULL);
}

static void
test_other_curve(void **state)
{
	EVP_PKEY	*k = tk_gen("EC", "P-521");
	X509		*x = tk_cert(k);

	(void)state;
	assert_null(keyprov_key(x));
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_cverify(void **state)
{
	uint8_t	 b[CVERIFY_PAD + CVERIFY_CTXLEN + 1 + 64], h[64];
	size_t	 n;

	(void)state;
	memset(h, 0x11, sizeof(h));
	n = cverify_build(b, CVERIFY_SERVER, h, 32);
	assert_int_equal(n, 130);
	assert_null(cverify_check(b, n, CVERIFY_SERVER));
	assert_string_equal(cverify_check(b, n, CVERIFY_CLIENT), "role");
	n = cverify_build(b, CVERIFY_CLIENT, h, 48);
	assert_null(cverify_check(b, n, CVERIFY_CLIENT));
	assert_string_equal(cverify_check(b, n, CVERIFY_SERVER), "role");
	n = cverify_build(b, CVERIFY_CLIENT, h, 64);
	assert_string_equal(cverify_check(b, n, CVERIFY_CLIENT),
	    "hash_length");
	n = cverify_build(b, CVERIFY_CLIENT, h, 0);
	assert_string_equal(cverify_check(b, n, CVERIFY_CLIENT),
	    "hash_length");
	assert_string_equal(cverify_check(b, n - 1, CVERIFY_CLIENT),
	    "length");
	n = cverify_build(b, CVERIFY_SERVER, h, 32);
	b[63] = 0x21;
	assert_string_equal(cverify_check(b, n, CVERIFY_SERVER), "prefix");
	b[63] = 0x20;
	b[CVERIFY_PAD + CVERIFY_CTXLEN] = 1;	/* no zero byte */
	assert_string_equal(cverify_check(b, n, CVERIFY_SERVER), "context");
	b[CVERIFY_PAD + CVERIFY_CTXLEN] = 0;
	b[CVERIFY_PAD] = 't';
	assert_string_equal(cverify_check(b, n, CVERIFY_SERVER), "context");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cverify),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_other_curve),
	};

	int	 rv;

	keyprov_init(tk_signer);
	rv = cmocka_run_group_tests_name("keyprov", tests, NULL, NULL);
	keyprov_fini();
	return rv;
}

/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the certificate identity rules (lib/x509id.c) on
 * certificates built in memory: subjects no openssl command line can
 * write (a NUL inside a CN, a CN of exactly 255 or 256 bytes) included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "lib/x509id.h"

static EVP_PKEY	*key;

struct cn {
	const char	*s;
	int		 len;		/* -1: strlen */
};

/* A signed certificate with these CNs (up to 2), EKU and key usage. */
static X509 *
mkcert(const struct cn *cns, int ncn, const char *eku, const char *ku)
{
	X509		*x = X509_new();
	X509_NAME	*n = X509_NAME_new();
	X509V3_CTX	 ctx;
	X509_EXTENSION	*e;
	int		 i;

	assert_non_null(x);
	assert_non_null(n);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	assert_int_equal(X509_NAME_add_entry_by_NID(n, NID_organizationName,
	    MBSTRING_ASC, (const unsigned char *)"vnet", -1, -1, 0), 1);
	for (i = 0; i < ncn; i++)
		assert_int_equal(X509_NAME_add_entry_by_NID(n, NID_commonName,
		    V_ASN1_UTF8STRING, (const unsigned char *)cns[i].s,
		    cns[i].len, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	X509_NAME_free(n);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (eku != NULL) {
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, eku);
		assert_non_null(e);
		assert_int_equal(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	if (ku != NULL) {
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, ku);
		assert_non_null(e);
		assert_int_equal(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static X509 *
leaf(const char *cn, const char *eku, const char *ku)
{
	struct cn	c = { cn, -1 };

	return mkcert(&c, 1, eku, ku);
}

static void
expect_usage(X509 *x, int server, const char *needle)
{
	const char	*why = x509id_usage(x, server);

	if (needle == NULL && why != NULL)
		fail_msg("refused as %s: %s", server ? "server" : "client",
		    why);
	if (needle != NULL && (why == NULL || strstr(why, needle) == NULL))
		fail_msg("as %s: got '%s', want '%s'", server ? "server" :
		    "client", why ? why : "(accepted)", needle);
}

static void
test_usage(void **state)
{
	X509	*x;

	(void)state;
	x = leaf("proxy", "serverAuth", "critical,digitalSignature");
	expect_usage(x, 1, NULL);
	expect_usage(x, 0, "lacks clientAuth, which a host's needs");
	X509_free(x);

	x = leaf("vmhost1", "clientAuth", "critical,digitalSignature");
	expect_usage(x, 0, NULL);
	expect_usage(x, 1, "lacks serverAuth, which a proxy's needs");
	X509_free(x);

	/* OpenSSL's purpose check alone would pass this one. */
	x = leaf("vmhost1", NULL, "critical,digitalSignature");
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0), 1);
	expect_usage(x, 0, "no extended key usage; a host's needs clientAuth");
	expect_usage(x, 1, "no extended key usage; a proxy's needs serverAuth");
	X509_free(x);

	/* Both usages: fit for either role (vnet-pki never issues this). */
	x = leaf("both", "serverAuth,clientAuth", NULL);
	expect_usage(x, 0, NULL);
	expect_usage(x, 1, NULL);
	X509_free(x);

	/* The right EKU, but a key usage that forbids signing. */
	x = leaf("vmhost1", "clientAuth", "critical,keyCertSign");
	expect_usage(x, 0, "key usage does not allow a TLS client");
	X509_free(x);
	x = leaf("proxy", "serverAuth", "critical,cRLSign");
	expect_usage(x, 1, "key usage does not allow a TLS server");
	X509_free(x);
}

static void
expect_cn(const struct cn *cns, int ncn, const char *needle)
{
	X509		*x = mkcert(cns, ncn, "clientAuth", NULL);
	const char	*why = x509id_cn(x, 256);

	if (needle == NULL && why != NULL)
		fail_msg("refused: %s", why);
	if (needle != NULL && (why == NULL || strstr(why, needle) == NULL))
		fail_msg("got '%s', want '%s'", why ? why : "(accepted)",
		    needle);
	X509_free(x);
}

static void
test_cn(void **state)
{
	char		 longcn[257];
	struct cn	 one[] = { { "vmhost1", -1 } };
	struct cn	 two[] = { { "vmhost1", -1 }, { "vmhost2", -1 } };
	struct cn	 same[] = { { "vmhost1", -1 }, { "vmhost1", -1 } };
	struct cn	 nul[] = { { "vmhost1\0evil", 12 } };
	struct cn	 empty[] = { { "", 0 } };
	struct cn	 lng[] = { { longcn, 255 } };

	(void)state;
	expect_cn(one, 1, NULL);
	expect_cn(one, 0, "has no CN");
	expect_cn(two, 2, "more than one CN");
	expect_cn(same, 2, "more than one CN");
	expect_cn(nul, 1, "contains a NUL byte");
	expect_cn(empty, 1, "CN is empty");
	/* 255 bytes fit the 256-byte field the proxy compares in. */
	memset(longcn, 'a', sizeof(longcn));
	expect_cn(lng, 1, NULL);
	lng[0].len = 256;
	expect_cn(lng, 1, "CN is too long");
}

static int
setup(void **state)
{
	(void)state;
	key = EVP_EC_gen("P-256");
	return key == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_cn),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

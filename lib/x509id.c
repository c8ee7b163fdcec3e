/* SPDX-License-Identifier: ISC */
/*
 * The proxy and a host prove different things with their certificates,
 * so each must carry the extended key usage of its TLS role: a host's
 * certificate that also passed as a server's would let a stolen host
 * key pose as the proxy. OpenSSL's own purpose check accepts a
 * certificate without any extendedKeyUsage extension as fit for every
 * use; here the extension and its bit are required.
 */
#include <openssl/x509v3.h>
#include <string.h>

#include "lib/x509id.h"

const char *
x509id_usage(X509 *x, int server)
{
	uint32_t	 want = server ? XKU_SSL_SERVER : XKU_SSL_CLIENT;
	int		 purpose = server ? X509_PURPOSE_SSL_SERVER :
			    X509_PURPOSE_SSL_CLIENT;

	if (X509_get_extension_flags(x) & EXFLAG_INVALID)
		return "certificate has a malformed extension";
	if (!(X509_get_extension_flags(x) & EXFLAG_XKUSAGE))
		return server ? "certificate has no extended key usage; a "
		    "proxy's needs serverAuth" : "certificate has no extended "
		    "key usage; a host's needs clientAuth";
	if (!(X509_get_extended_key_usage(x) & want))
		return server ? "certificate's extended key usage lacks "
		    "serverAuth, which a proxy's needs" : "certificate's "
		    "extended key usage lacks clientAuth, which a host's needs";
	/* keyUsage and the old Netscape type may still forbid the role. */
	if (X509_check_purpose(x, purpose, 0) != 1)
		return server ? "certificate's key usage does not allow a TLS "
		    "server (the proxy)" : "certificate's key usage does not "
		    "allow a TLS client (a host)";
	return NULL;
}

/*
 * The proxy compares the CN as a C string with "host NAME { cn ... }":
 * a second CN would make the answer depend on which one is read, a NUL
 * would cut it short, and a long one would be truncated to a prefix.
 */
const char *
x509id_cn(X509 *x, size_t maxlen)
{
	const X509_NAME		*n = X509_get_subject_name(x);
	const ASN1_STRING	*d;
	int			 i, next;

	if ((i = X509_NAME_get_index_by_NID(n, NID_commonName, -1)) < 0)
		return "certificate subject has no CN";
	next = X509_NAME_get_index_by_NID(n, NID_commonName, i);
	if (next >= 0)
		return "certificate subject has more than one CN";
	d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	if (d == NULL || ASN1_STRING_length(d) <= 0)
		return "certificate CN is empty";
	if (memchr(ASN1_STRING_get0_data(d), '\0',
	    (size_t)ASN1_STRING_length(d)) != NULL)
		return "certificate CN contains a NUL byte";
	if ((size_t)ASN1_STRING_length(d) >= maxlen)
		return "certificate CN is too long";
	return NULL;
}

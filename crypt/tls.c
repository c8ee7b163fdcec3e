/*
 * TLS 1.3 only, X.509 on both ends against the configured CA. The
 * certificate and CA arrive from the monitor in memory; crypt opens no
 * file, and the private key stays in the monitor (crypt/keyprov.c).
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypt/crypt.h"
#include "crypt/keyprov.h"
#include "lib/x509id.h"
#include "privsep/log.h"
#include "privsep/worker.h"

static BIO *
tls_bio(struct crypt *cr, int i)
{
	BIO	*b = BIO_new_mem_buf(cr->pem[i], (int)cr->pem_len[i]);

	if (b == NULL)
		fatalx("event=error what=tls reason=\"out of memory\"");
	return b;
}

static void
tls_load_cert(struct crypt *cr, SSL_CTX *ctx)
{
	BIO	*b = tls_bio(cr, 0);
	X509	*x;

	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1)
		fatalx("event=error what=tls reason=\"bad certificate %s\"",
		    cr->conf.certificate);
	X509_free(x);
	/* Intermediates, if the file holds a chain. */
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1)
			fatalx("event=error what=tls reason=\"bad chain\"");
	ERR_clear_error();
	BIO_free(b);
}

/*
 * The key is the provider's: the certificate's public half, and a
 * signature that the monitor makes. Whether the monitor's private key
 * matches the certificate, the monitor checked at start.
 */
static void
tls_load_key(struct crypt *cr, SSL_CTX *ctx)
{
	EVP_PKEY	*k;

	if ((k = keyprov_key(SSL_CTX_get0_certificate(ctx))) == NULL ||
	    SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		fatalx("event=error what=tls reason=\"certificate %s: its key "
		    "is not EC P-256/P-384, RSA or Ed25519\"",
		    cr->conf.certificate);
	EVP_PKEY_free(k);
}

static void
tls_load_ca(struct crypt *cr, SSL_CTX *ctx)
{
	BIO		*b = tls_bio(cr, 1);
	X509_STORE	*st = SSL_CTX_get_cert_store(ctx);
	X509		*x;
	int		 n = 0;

	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(st, x) != 1)
			fatalx("event=error what=tls reason=\"bad CA\"");
		X509_free(x);
		n++;
	}
	ERR_clear_error();
	BIO_free(b);
	if (n == 0)
		fatalx("event=error what=tls reason=\"no CA certificate in "
		    "%s\"", cr->conf.ca);
}

/* A certificate's subject (log-safe), its sha256 fingerprint and digest. */
static void
tls_describe(X509 *x, char *subject, size_t slen, char *fp, size_t fplen,
    uint8_t digest[32])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 dlen = 0, i;

	subject[0] = fp[0] = '\0';
	if (digest != NULL)
		memset(digest, 0, 32);
	X509_NAME_oneline(X509_get_subject_name(x), subject, (int)slen);
	logsafe(subject);
	if (X509_digest(x, EVP_sha256(), md, &dlen) != 1 || dlen != 32)
		return;
	if (digest != NULL)
		memcpy(digest, md, 32);
	for (i = 0; i < dlen && 2 * i + 2 < fplen; i++)
		snprintf(fp + 2 * i, 3, "%02x", md[i]);
}

static void
tls_refuse(struct crypt *cr, SSL *ssl, X509 *x, const char *why)
{
	const struct link	*l = SSL_get_app_data(ssl);
	char			 subject[256], fp[65];
	uint64_t		 supp;

	tls_describe(x, subject, sizeof(subject), fp, sizeof(fp), NULL);
	cr->c.peers_rejected++;
	if (ratelim_allow(&cr->rl_event, now_ms(), &supp))
		audit("event=peer_rejected peer=%s subject=\"%s\" "
		    "fingerprint=%s reason=\"%s\" total=%llu suppressed=%llu",
		    l != NULL ? l->peer : "?", subject, fp, why,
		    (unsigned long long)cr->c.peers_rejected,
		    (unsigned long long)supp);
}

/*
 * OpenSSL calls this for each certificate of the peer's chain. Our rules
 * are about the peer's own certificate (depth 0), and they run once the
 * CA's signature on it has been checked, so a record names only a subject
 * the CA vouched for. OpenSSL's purpose check fails the same certificate
 * earlier, before the signatures: that verdict waits for ours, which
 * covers it (lib/x509id.c) and says why.
 */
static int
tls_verify(int ok, X509_STORE_CTX *xs)
{
	SSL		*ssl;
	struct crypt	*cr;
	X509		*x;
	const char	*why;
	int		 host;

	if (X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	if (!ok)
		return X509_STORE_CTX_get_error(xs) ==
		    X509_V_ERR_INVALID_PURPOSE;
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	x = X509_STORE_CTX_get_current_cert(xs);
	if (ssl == NULL || x == NULL)
		return 0;
	cr = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	host = cr->conf.role == CONF_ROLE_HOST;
	/* The host checks the proxy's certificate, the proxy a host's. */
	if ((why = x509id_usage(x, host)) != NULL)
		X509_STORE_CTX_set_error(xs, X509_V_ERR_INVALID_PURPOSE);
	else if (!host && (why = x509id_cn(x, CONF_MAX_STR)) != NULL)
		X509_STORE_CTX_set_error(xs,
		    X509_V_ERR_APPLICATION_VERIFICATION);
	else
		return 1;
	tls_refuse(cr, ssl, x, why);
	return 0;
}

SSL_CTX *
tls_ctx(struct crypt *cr)
{
	SSL_CTX	*ctx;
	SSL	*probe;
	int	 host = cr->conf.role == CONF_ROLE_HOST, i;

	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1)
		fatalx("event=error what=tls reason=\"init\"");
	keyprov_init(crypt_sign);
	ctx = SSL_CTX_new(host ? TLS_client_method() : TLS_server_method());
	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		fatalx("event=error what=tls reason=\"context\"");
	tls_load_cert(cr, ctx);
	tls_load_key(cr, ctx);
	tls_load_ca(cr, ctx);
	SSL_CTX_set_app_data(ctx, cr);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tls_verify);
	/* No resumption: every link proves its certificate afresh. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (!host)
		SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/*
	 * Throughput: read as many records as the socket holds in one
	 * read(2) instead of one syscall per record, and keep the buffers
	 * (SSL_MODE_RELEASE_BUFFERS would free them whenever idle).
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
	/* Load whatever OpenSSL loads lazily while files are still there. */
	if ((probe = SSL_new(ctx)) == NULL)
		fatalx("event=error what=tls reason=\"probe\"");
	SSL_free(probe);
	for (i = 0; i < 2; i++) {
		explicit_bzero(cr->pem[i], cr->pem_len[i]);
		free(cr->pem[i]);
		cr->pem[i] = NULL;
	}
	return ctx;
}

void
tls_identity(SSL *ssl, char *subject, size_t slen, char *cn, size_t cnlen,
    char *fp, size_t fplen, uint8_t digest[32])
{
	X509		*x = SSL_get0_peer_certificate(ssl);

	subject[0] = cn[0] = fp[0] = '\0';
	memset(digest, 0, 32);
	if (x == NULL)
		return;
	tls_describe(x, subject, slen, fp, fplen, digest);
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, (int)cnlen) < 0)
		cn[0] = '\0';
}

/* Why a handshake failed, in words an operator can act on. */
void
tls_reason(SSL *ssl, int ret, char *buf, size_t len)
{
	unsigned long	 e = ERR_peek_last_error();
	long		 vr = SSL_get_verify_result(ssl);
	char		 es[256];

	if (e != 0)
		ERR_error_string_n(e, es, sizeof(es));
	else if (SSL_get_error(ssl, ret) == SSL_ERROR_SYSCALL)
		snprintf(es, sizeof(es), "connection closed during handshake");
	else
		snprintf(es, sizeof(es), "handshake failed");
	if (vr != X509_V_OK)
		snprintf(buf, len, "%s (certificate: %s)", es,
		    X509_verify_cert_error_string(vr));
	else
		snprintf(buf, len, "%s", es);
	logsafe(buf);
	ERR_clear_error();
}

/* SPDX-License-Identifier: ISC */
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
#include <time.h>

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

static const char *
tls_load_cert(struct crypt *cr, SSL_CTX *ctx)
{
	BIO		*b = tls_bio(cr, 0);
	X509		*x;
	const char	*bad = NULL;

	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1)
		bad = "bad certificate";
	X509_free(x);
	/* Intermediates, if the file holds a chain. */
	while (bad == NULL &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			bad = "bad chain";
		}
	ERR_clear_error();
	BIO_free(b);
	return bad;
}

/*
 * The key is the provider's: the certificate's public half, and a
 * signature that the monitor makes. Whether the monitor's private key
 * matches the certificate, the monitor checked before sending it.
 */
static const char *
tls_load_key(SSL_CTX *ctx)
{
	EVP_PKEY	*k;
	const char	*bad = NULL;

	if ((k = keyprov_key(SSL_CTX_get0_certificate(ctx))) == NULL ||
	    SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		bad = "the certificate's key is not EC P-256/P-384, RSA or "
		    "Ed25519";
	EVP_PKEY_free(k);
	ERR_clear_error();
	return bad;
}

/* An ASN1 time as seconds since the epoch; 0 if it cannot be read. */
static int64_t
tls_time(const ASN1_TIME *t)
{
	struct tm	 tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/*
 * The CA file, and the CRLs the monitor appended to it (the crl file,
 * checked there against the CA). With CRLs, every peer certificate is
 * checked against its issuer's CRL, and every certificate of the chain
 * when the CA file holds intermediates too.
 */
static const char *
tls_load_ca(struct crypt *cr, SSL_CTX *ctx, int64_t *crl_next)
{
	BIO			*b = tls_bio(cr, 1);
	X509_STORE		*st = SSL_CTX_get_cert_store(ctx);
	STACK_OF(X509_INFO)	*sk;
	X509_INFO		*xi;
	const char		*bad = NULL;
	int			 i, ncert = 0, ncrl = 0;
	int64_t			 t;

	*crl_next = 0;
	if ((sk = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL)) == NULL)
		bad = "no CA certificate";
	for (i = 0; bad == NULL && i < sk_X509_INFO_num(sk); i++) {
		xi = sk_X509_INFO_value(sk, i);
		if (xi->x509 != NULL && X509_STORE_add_cert(st, xi->x509) != 1)
			bad = "bad CA";
		else if (xi->crl != NULL &&
		    X509_STORE_add_crl(st, xi->crl) != 1)
			bad = "bad CRL";
		ncert += xi->x509 != NULL;
		if (xi->crl == NULL)
			continue;
		ncrl++;
		t = tls_time(X509_CRL_get0_nextUpdate(xi->crl));
		if (*crl_next == 0 || (t != 0 && t < *crl_next))
			*crl_next = t;
	}
	sk_X509_INFO_pop_free(sk, X509_INFO_free);
	ERR_clear_error();
	BIO_free(b);
	if (bad == NULL && ncert == 0)
		bad = "no CA certificate";
	if (bad == NULL && ncrl > 0)
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
		    (ncert > 1 ? X509_V_FLAG_CRL_CHECK_ALL : 0));
	return bad;
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
 * An expired CRL (its nextUpdate passed) is still used: what it revokes
 * stays revoked, and a peer it does not list is accepted. Refusing
 * every peer would turn a late CRL refresh into a lockout of the whole
 * fleet; crypt audits event=crl_expired instead, at start, at reload
 * and every CRYPT_CRL_AUDIT_MS while it lasts (tls_crl_due).
 */
static int
tls_crl_expired_ok(int ok, X509_STORE_CTX *xs)
{
	return !ok && X509_STORE_CTX_get_error(xs) ==
	    X509_V_ERR_CRL_HAS_EXPIRED;
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

	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL)
		return 0;
	cr = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if (tls_crl_expired_ok(ok, xs)) {
		cr->c.crl_expired_accepted++;
		return 1;
	}
	if (X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	if (!ok)
		return X509_STORE_CTX_get_error(xs) ==
		    X509_V_ERR_INVALID_PURPOSE;
	x = X509_STORE_CTX_get_current_cert(xs);
	if (x == NULL)
		return 0;
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

/* A context from the PEM texts the monitor sent; NULL with *why. */
static SSL_CTX *
tls_build(struct crypt *cr, int64_t *crl_next, const char **why)
{
	SSL_CTX	*ctx;
	SSL	*probe;
	int	 host = cr->conf.role == CONF_ROLE_HOST;

	*why = NULL;
	ctx = SSL_CTX_new(host ? TLS_client_method() : TLS_server_method());
	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		*why = "context";
	if (*why == NULL && (*why = tls_load_cert(cr, ctx)) == NULL &&
	    (*why = tls_load_key(ctx)) == NULL)
		*why = tls_load_ca(cr, ctx, crl_next);
	if (*why != NULL) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
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
	if ((probe = SSL_new(ctx)) == NULL) {
		SSL_CTX_free(ctx);
		*why = "probe";
		return NULL;
	}
	SSL_free(probe);
	return ctx;
}

static void
tls_wipe(struct crypt *cr)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (cr->pem[i] != NULL)
			explicit_bzero(cr->pem[i], cr->pem_len[i]);
		free(cr->pem[i]);
		cr->pem[i] = NULL;
	}
}

/* The CRL's state, audited now and then while it is out of date. */
static void
tls_crl_audit(struct crypt *cr, const char *when)
{
	int64_t	 now = (int64_t)time(NULL);

	cr->crl_audit_ms = now_ms();
	if (cr->crl_next == 0 || now < cr->crl_next)
		return;
	audit("event=crl_expired when=%s crl=%s next_update=%lld "
	    "expired_for=%llds policy=accept accepted=%llu", when,
	    cr->conf.crl, (long long)cr->crl_next,
	    (long long)(now - cr->crl_next),
	    (unsigned long long)cr->c.crl_expired_accepted);
}

void
tls_crl_due(struct crypt *cr, uint64_t now)
{
	if (cr->crl_next != 0 && now - cr->crl_audit_ms >= CRYPT_CRL_AUDIT_MS)
		tls_crl_audit(cr, "periodic");
}

SSL_CTX *
tls_ctx(struct crypt *cr)
{
	SSL_CTX		*ctx;
	const char	*why;

	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1)
		fatalx("event=error what=tls reason=\"init\"");
	keyprov_init(crypt_sign);
	if ((ctx = tls_build(cr, &cr->crl_next, &why)) == NULL)
		fatalx("event=error what=tls reason=\"%s (certificate %s, ca "
		    "%s)\"", why, cr->conf.certificate, cr->conf.ca);
	tls_wipe(cr);
	tls_crl_audit(cr, "start");
	return ctx;
}

/*
 * New material from a reload: a context for the handshakes to come.
 * Links keep the context they were made with (OpenSSL counts its
 * references); tls_recheck() judges them by the new one.
 */
int
tls_reload(struct crypt *cr)
{
	SSL_CTX		*ctx;
	const char	*why;
	int64_t		 next;

	if (cr->pem[0] == NULL || cr->pem[1] == NULL) {
		tls_wipe(cr);
		return 0;
	}
	ctx = tls_build(cr, &next, &why);
	tls_wipe(cr);
	if (ctx == NULL) {
		audit("event=reload result=rejected what=key_material "
		    "reason=\"%s\"", why);
		return -1;
	}
	SSL_CTX_free(cr->ctx);
	cr->ctx = ctx;
	cr->crl_next = next;
	tls_crl_audit(cr, "reload");
	return 1;
}

/* Verifying a chain again outside a handshake: the same leniencies. */
static int
tls_recheck_cb(int ok, X509_STORE_CTX *xs)
{
	if (tls_crl_expired_ok(ok, xs))
		return 1;
	/* x509id_usage() below says it better; see tls_verify(). */
	if (!ok && X509_STORE_CTX_get_error_depth(xs) == 0 &&
	    X509_STORE_CTX_get_error(xs) == X509_V_ERR_INVALID_PURPOSE)
		return 1;
	return ok;
}

/*
 * Would this established link's peer be accepted now, by the current
 * context's CA and CRL, at this time, and by the identity rules? NULL
 * if so, else why not.
 */
const char *
tls_recheck(struct crypt *cr, SSL *ssl)
{
	X509		*x = SSL_get0_peer_certificate(ssl);
	X509_STORE_CTX	*xs;
	const char	*why = NULL;
	int		 host = cr->conf.role == CONF_ROLE_HOST;

	if (x == NULL)
		return "no peer certificate";
	if ((xs = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(xs, SSL_CTX_get_cert_store(cr->ctx), x,
	    SSL_get_peer_cert_chain(ssl)) != 1 ||
	    X509_STORE_CTX_set_default(xs, host ? "ssl_server" :
	    "ssl_client") != 1 ||
	    X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(xs),
	    SSL_get0_param(ssl)) != 1)
		why = "out of memory";
	else {
		X509_STORE_CTX_set_verify_cb(xs, tls_recheck_cb);
		if (X509_verify_cert(xs) != 1)
			why = X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(xs));
		else if ((why = x509id_usage(x, host)) == NULL && !host)
			why = x509id_cn(x, CONF_MAX_STR);
	}
	X509_STORE_CTX_free(xs);
	ERR_clear_error();
	return why;
}

/* When the peer's chain stops being valid: its earliest notAfter. */
int64_t
tls_not_after(SSL *ssl)
{
	STACK_OF(X509)	*ch = SSL_get0_verified_chain(ssl);
	int64_t		 t, min = 0;
	int		 i;

	for (i = 0; ch != NULL && i < sk_X509_num(ch); i++) {
		t = tls_time(X509_get0_notAfter(sk_X509_value(ch, i)));
		if (t != 0 && (min == 0 || t < min))
			min = t;
	}
	return min;
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

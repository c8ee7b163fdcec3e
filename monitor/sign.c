/* SPDX-License-Identifier: ISC */
/*
 * The private key, and the only signatures it makes. crypt speaks TLS
 * but holds no private key (crypt/keyprov.c): for each handshake it
 * sends the content of its CertificateVerify here. The monitor signs
 * only what a TLS 1.3 CertificateVerify of crypt's role looks like, at
 * most sign-rate times a second, and answers anything else with a
 * refusal, counted and audited, so that handshake fails and nothing
 * else does. A crypt taken over can thus make signatures only of
 * handshake transcripts, as fast as a busy proxy would, and never
 * reads the key.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/cverify.h"
#include "monitor/monitor.h"
#include "privsep/log.h"

#define SIGN_AUDIT_PER_SEC 20

static const char *const sign_alg_names[MSG_SIGN_ALG_MAX] = {
	[MSG_SIGN_ECDSA] = "ecdsa", [MSG_SIGN_RSA_PSS] = "rsa_pss",
	[MSG_SIGN_ED25519] = "ed25519",
};

static const char *
sign_mdname(int md)
{
	switch (md) {
	case MSG_SIGN_SHA256:
		return "SHA256";
	case MSG_SIGN_SHA384:
		return "SHA384";
	case MSG_SIGN_SHA512:
		return "SHA512";
	default:
		return NULL;
	}
}

static uint64_t
sign_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
sign_do(struct signer *s, int md, const uint8_t *tbs, size_t len,
    uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX	*mc;
	EVP_PKEY_CTX	*pc = NULL;
	int		 ok;

	if ((mc = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit_ex(mc, &pc, sign_mdname(md), NULL, NULL,
	    s->key, NULL) == 1;
	/* TLS 1.3 signs with RSA only as PSS, salt as long as the hash. */
	if (ok && s->alg == MSG_SIGN_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(pc,
		    RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc,
		    RSA_PSS_SALTLEN_DIGEST) == 1;
	ok = ok && EVP_DigestSign(mc, sig, siglen, tbs, len) == 1;
	EVP_MD_CTX_free(mc);
	ERR_clear_error();
	return ok ? 0 : -1;
}

/* Which kind the key is, as crypt's provider names it; 0 for none. */
static int
sign_alg(EVP_PKEY *k)
{
	char	 g[64];
	size_t	 gl;

	if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS"))
		return MSG_SIGN_RSA_PSS;
	if (EVP_PKEY_is_a(k, "ED25519"))
		return MSG_SIGN_ED25519;
	if (EVP_PKEY_is_a(k, "EC") &&
	    EVP_PKEY_get_group_name(k, g, sizeof(g), &gl) == 1 &&
	    (strcmp(g, "prime256v1") == 0 || strcmp(g, "secp384r1") == 0))
		return MSG_SIGN_ECDSA;
	return 0;
}

/* One signature of a well-formed content: proves the key works now. */
static int
sign_selftest(struct signer *s, enum cverify_side side)
{
	uint8_t	 tbs[CVERIFY_PAD + CVERIFY_CTXLEN + 1 + 32], hash[32];
	uint8_t	 sig[MSG_SIGN_SIG_MAX];
	size_t	 siglen = sizeof(sig), n;

	memset(hash, 0xa5, sizeof(hash));
	n = cverify_build(tbs, side, hash, sizeof(hash));
	return sign_do(s, s->alg == MSG_SIGN_ED25519 ? MSG_SIGN_MD_NONE :
	    MSG_SIGN_SHA256, tbs, n, sig, &siglen);
}

/* A host is the TLS client, the proxy the server. */
static enum cverify_side
sign_side(const struct monitor *m)
{
	return m->conf.role == CONF_ROLE_HOST ? CVERIFY_CLIENT :
	    CVERIFY_SERVER;
}

void
sign_set_rate(struct monitor *m)
{
	ratelim_init(&m->signer.rl, m->conf.sign_rate, 1000);
}

/*
 * Parse a key, check it is the certificate's and that it signs. NULL
 * with the key in *t, or what is wrong with it.
 */
static const char *
sign_parse(struct signer *t, const char *pem_key, size_t klen,
    const char *pem_cert, size_t clen, enum cverify_side side)
{
	BIO		*b = NULL, *cb = NULL;
	X509		*x = NULL;
	const char	*err = NULL;

	if ((b = BIO_new_mem_buf(pem_key, (int)klen)) == NULL ||
	    (cb = BIO_new_mem_buf(pem_cert, (int)clen)) == NULL)
		err = "out of memory";
	else if ((t->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) ==
	    NULL)
		err = "not a PEM private key";
	else if ((x = PEM_read_bio_X509(cb, NULL, NULL, NULL)) == NULL ||
	    X509_check_private_key(x, t->key) != 1)
		err = "does not match the certificate";
	else if ((t->alg = sign_alg(t->key)) == 0)
		err = "not EC P-256/P-384, RSA or Ed25519";
	else if (sign_selftest(t, side) == -1)
		err = "cannot sign";
	BIO_free(b);
	BIO_free(cb);
	X509_free(x);
	ERR_clear_error();
	if (err != NULL) {
		EVP_PKEY_free(t->key);
		t->key = NULL;
	}
	return err;
}

static void
sign_wipe(char **pem, size_t *len)
{
	if (*pem != NULL)
		explicit_bzero(*pem, *len);
	free(*pem);
	*pem = NULL;
	*len = 0;
}

/*
 * Parse the key the monitor read, check it is the certificate's, and
 * keep it as the only copy: the PEM text is wiped here.
 */
int
sign_init(struct monitor *m, char *why, size_t wlen)
{
	struct signer	*s = &m->signer;
	const char	*err;

	memset(s, 0, sizeof(*s));
	err = sign_parse(s, m->pem_key, m->pem_key_len, m->pem_cert,
	    m->pem_cert_len, sign_side(m));
	sign_wipe(&m->pem_key, &m->pem_key_len);
	if (err != NULL) {
		snprintf(why, wlen, "vnetd: key %s: %s", m->conf.key, err);
		return -1;
	}
	sign_set_rate(m);
	ratelim_init(&s->rl_audit, SIGN_AUDIT_PER_SEC, 1000);
	return 0;
}

/*
 * A reload's key: checked against the reload's certificate like the
 * first, and swapped in only if it passes; otherwise the running key
 * stays. The PEM text is wiped either way.
 */
int
sign_replace(struct monitor *m, const char *path, char **pem_key,
    size_t *klen, const char *pem_cert, size_t clen, char *why, size_t wlen)
{
	struct signer	 t;
	const char	*err;

	memset(&t, 0, sizeof(t));
	err = sign_parse(&t, *pem_key, *klen, pem_cert, clen, sign_side(m));
	sign_wipe(pem_key, klen);
	if (err != NULL) {
		snprintf(why, wlen, "key %s: %s", path, err);
		return -1;
	}
	EVP_PKEY_free(m->signer.key);
	m->signer.key = t.key;
	m->signer.alg = t.alg;
	return 0;
}

void
sign_free(struct monitor *m)
{
	EVP_PKEY_free(m->signer.key);
	m->signer.key = NULL;
}

static void
sign_refuse(struct worker *w, const struct msg_sign_req *r, size_t tlen,
    const char *reason)
{
	struct signer		*s = &w->mon->signer;
	struct msg_sign_ans	 a = { .id = r->id,
				    .status = MSG_SIGN_REFUSED };
	uint64_t		 supp;

	s->refused++;
	if (ratelim_allow(&s->rl_audit, sign_now_ms(), &supp))
		audit("event=sign_refused worker=%s pid=%ld reason=%s "
		    "alg=%s len=%zu total=%llu suppressed=%llu", w->name,
		    (long)w->pid, reason, r->alg < MSG_SIGN_ALG_MAX ?
		    sign_alg_names[r->alg] : "?", tlen,
		    (unsigned long long)s->refused, (unsigned long long)supp);
	if (msg_send(w->ctl, MSG_SIGNATURE, &a, sizeof(a)) == -1)
		log_warn("event=error what=sign_answer worker=%s", w->name);
}

/*
 * A burst of refusals past the audit budget is reported once its window
 * ends (event=suppressed), not only when the next refusal comes; *timeout_ms
 * is lowered to wake the monitor then.
 */
void
sign_due(struct monitor *m, int *timeout_ms)
{
	struct ratelim	*r = &m->signer.rl_audit;
	uint64_t	 now = sign_now_ms(), n, left;

	if (r->suppressed == 0)
		return;
	if (ratelim_flush(r, now, &n)) {
		audit("event=suppressed what=sign_refused suppressed=%llu "
		    "total=%llu", (unsigned long long)n,
		    (unsigned long long)m->signer.refused);
		return;
	}
	left = r->window_ms + r->period_ms - now;
	if (*timeout_ms == -1 || left < (uint64_t)*timeout_ms)
		*timeout_ms = (int)left + 1;
}

/* MSG_SIGN_REQ from crypt (monitor/supervise.c, from_crypt). */
void
sign_on_req(struct msg *msg, void *ctx)
{
	struct worker		*w = ctx;
	struct signer		*s = &w->mon->signer;
	struct msg_sign_req	 r;
	struct msg_sign_ans	 a;
	uint8_t			 out[sizeof(a) + MSG_SIGN_SIG_MAX];
	const uint8_t		*tbs = msg->payload + sizeof(r);
	size_t			 tlen = msg->len - sizeof(r);
	size_t			 siglen = MSG_SIGN_SIG_MAX;
	const char		*why;
	uint64_t		 supp;

	memcpy(&r, msg->payload, sizeof(r));
	if (s->key == NULL)
		why = "no_key";
	else if (r.alg != s->alg)
		why = "algorithm";
	else if ((why = cverify_check(tbs, tlen, sign_side(w->mon))) != NULL)
		;
	/* Only a well-formed request spends the budget. */
	else if (!ratelim_allow(&s->rl, sign_now_ms(), &supp))
		why = "rate";
	else if (sign_do(s, r.md, tbs, tlen, out + sizeof(a), &siglen) == -1)
		why = "sign_error";
	if (why != NULL) {
		sign_refuse(w, &r, tlen, why);
		return;
	}
	s->made++;
	a.id = r.id;
	a.status = MSG_SIGN_OK;
	memcpy(out, &a, sizeof(a));
	if (msg_send(w->ctl, MSG_SIGNATURE, out, sizeof(a) + siglen) == -1)
		log_warn("event=error what=sign_answer worker=%s", w->name);
}

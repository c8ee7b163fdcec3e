/* SPDX-License-Identifier: ISC */
/*
 * crypt's OpenSSL provider, built in (OSSL_PROVIDER_add_builtin): the
 * private key never enters crypt. Its keys wrap the certificate's
 * public key (a key of the default provider, which answers every
 * question libssl asks about size, group and digests), and its one
 * signature algorithm gathers what EVP_DigestSign is given and hands
 * it whole to the monitor, through the signer crypt registers.
 *
 * libssl finds the signature through the key: the key management
 * answers OSSL_OP_SIGNATURE with "VNET-SIGN", a name no other provider
 * has, so no signature of the default provider can be paired with a
 * key that holds nothing to sign with. The keys cannot be exported.
 */
#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "crypt/keyprov.h"
#include "privsep/log.h"
#include "privsep/msg.h"

#define KP_NAME		"vnetkey"
#define KP_PROPS	"provider=vnetkey"
#define KP_DEFAULT	"provider=default"
#define KP_SIGNAME	"VNET-SIGN"

enum kp_kind { KP_EC, KP_RSA, KP_RSA_PSS, KP_ED25519, KP_NKINDS };

static const struct {
	const char	*name;		/* the key type, as libssl asks */
	int		 alg;		/* enum msg_sign_alg */
} kp_kinds[KP_NKINDS] = {
	[KP_EC] = { "EC", MSG_SIGN_ECDSA },
	[KP_RSA] = { "RSA", MSG_SIGN_RSA_PSS },
	[KP_RSA_PSS] = { "RSA-PSS", MSG_SIGN_RSA_PSS },
	[KP_ED25519] = { "ED25519", MSG_SIGN_ED25519 },
};

static keyprov_signer	*kp_signer;

/* A key: its kind and the public half, in the default provider. */
struct kp_key {
	enum kp_kind	 kind;
	EVP_PKEY	*pub;
};

static void *
kp_new(enum kp_kind kind)
{
	struct kp_key	*k = calloc(1, sizeof(*k));

	if (k != NULL)
		k->kind = kind;
	return k;
}

static void *kp_new_ec(void *p) { (void)p; return kp_new(KP_EC); }
static void *kp_new_rsa(void *p) { (void)p; return kp_new(KP_RSA); }
static void *kp_new_pss(void *p) { (void)p; return kp_new(KP_RSA_PSS); }
static void *kp_new_ed(void *p) { (void)p; return kp_new(KP_ED25519); }

static void
kp_free(void *kd)
{
	struct kp_key	*k = kd;

	if (k == NULL)
		return;
	EVP_PKEY_free(k->pub);
	free(k);
}

/*
 * The public half and its parameters, and never a private part: the
 * point of the provider is that crypt has none to hold.
 */
static int
kp_import(void *kd, int selection, const OSSL_PARAM params[])
{
	struct kp_key	*k = kd;
	EVP_PKEY_CTX	*ctx;
	int		 ok;

	(void)selection;
	if (k == NULL || k->pub != NULL ||
	    OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PRIV_KEY) ||
	    OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_D))
		return 0;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, kp_kinds[k->kind].name,
	    KP_DEFAULT)) == NULL)
		return 0;
	ok = EVP_PKEY_fromdata_init(ctx) == 1 && EVP_PKEY_fromdata(ctx,
	    &k->pub, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static const OSSL_PARAM kp_key_params[] = {
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	    NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
kp_import_types(int selection)
{
	(void)selection;
	return kp_key_params;
}

static const OSSL_PARAM *
kp_gettable(void *provctx)
{
	(void)provctx;
	return kp_key_params;
}

/* Size, group, digests: the public key knows them all. */
static int
kp_get_params(void *kd, OSSL_PARAM params[])
{
	struct kp_key	*k = kd;

	return k != NULL && k->pub != NULL &&
	    EVP_PKEY_get_params(k->pub, params) == 1;
}

/* It can sign (through the monitor): it counts as a whole key pair. */
static int
kp_has(const void *kd, int selection)
{
	const struct kp_key	*k = kd;

	(void)selection;
	return k != NULL && k->pub != NULL;
}

static int
kp_match(const void *a, const void *b, int selection)
{
	const struct kp_key	*x = a, *y = b;

	if (x->pub == NULL || y->pub == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
		return EVP_PKEY_parameters_eq(x->pub, y->pub) == 1;
	return EVP_PKEY_eq(x->pub, y->pub) == 1;
}

static const char *
kp_opname(int op)
{
	return op == OSSL_OP_SIGNATURE ? KP_SIGNAME : NULL;
}

#define FN(id, f)	{ id, (void (*)(void))(f) }
#define KP_KEYMGMT(tag)							\
static const OSSL_DISPATCH kp_km_##tag[] = {				\
	FN(OSSL_FUNC_KEYMGMT_NEW, kp_new_##tag),			\
	FN(OSSL_FUNC_KEYMGMT_FREE, kp_free),				\
	FN(OSSL_FUNC_KEYMGMT_IMPORT, kp_import),			\
	FN(OSSL_FUNC_KEYMGMT_IMPORT_TYPES, kp_import_types),		\
	FN(OSSL_FUNC_KEYMGMT_GET_PARAMS, kp_get_params),		\
	FN(OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, kp_gettable),		\
	FN(OSSL_FUNC_KEYMGMT_HAS, kp_has),				\
	FN(OSSL_FUNC_KEYMGMT_MATCH, kp_match),				\
	FN(OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, kp_opname),		\
	{ 0, NULL }							\
}
KP_KEYMGMT(ec);
KP_KEYMGMT(rsa);
KP_KEYMGMT(pss);
KP_KEYMGMT(ed);

/* One signature context: the key, the digest, and the content so far. */
struct kp_sig {
	struct kp_key	*key;
	int		 md;		/* enum msg_sign_md */
	int		 pss;		/* RSA: PSS padding was asked for */
	int		 bad;		/* a parameter we cannot honour */
	uint8_t		 tbs[MSG_SIGN_TBS_MAX];
	size_t		 tbslen;
	int		 toolong;
};

static void *
kp_sig_new(void *provctx, const char *propq)
{
	(void)provctx;
	(void)propq;
	return calloc(1, sizeof(struct kp_sig));
}

static void
kp_sig_free(void *sc)
{
	free(sc);
}

static void *
kp_sig_dup(void *sc)
{
	struct kp_sig	*n = malloc(sizeof(*n));

	if (n != NULL)
		memcpy(n, sc, sizeof(*n));
	return n;
}

/* The digests a TLS 1.3 signature scheme uses; -1 for any other. */
static int
kp_md(const char *name)
{
	static const struct { const char *n; int md; } mds[] = {
		{ "SHA256", MSG_SIGN_SHA256 }, { "SHA384", MSG_SIGN_SHA384 },
		{ "SHA512", MSG_SIGN_SHA512 },
	};
	EVP_MD	*md;
	size_t	 i;
	int	 r = -1;

	if (name == NULL || name[0] == '\0')
		return MSG_SIGN_MD_NONE;
	if ((md = EVP_MD_fetch(NULL, name, KP_DEFAULT)) == NULL)
		return -1;
	for (i = 0; i < sizeof(mds) / sizeof(mds[0]); i++)
		if (EVP_MD_is_a(md, mds[i].n))
			r = mds[i].md;
	EVP_MD_free(md);
	return r;
}

static int
kp_pad_param(const OSSL_PARAM *p, struct kp_sig *s)
{
	const char	*str;
	int		 mode;

	if (p->data_type == OSSL_PARAM_UTF8_STRING) {
		if (OSSL_PARAM_get_utf8_string_ptr(p, &str) != 1)
			return 0;
		s->pss = strcmp(str, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0;
	} else {
		if (OSSL_PARAM_get_int(p, &mode) != 1)
			return 0;
		s->pss = mode == RSA_PKCS1_PSS_PADDING;
	}
	return 1;
}

/* The monitor's PSS salt is as long as the digest, as TLS 1.3 wants. */
static int
kp_salt_param(const OSSL_PARAM *p, struct kp_sig *s)
{
	const char	*str;
	int		 len;

	if (p->data_type == OSSL_PARAM_UTF8_STRING) {
		if (OSSL_PARAM_get_utf8_string_ptr(p, &str) != 1)
			return 0;
		if (strcmp(str, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) != 0)
			s->bad = 1;
	} else {
		if (OSSL_PARAM_get_int(p, &len) != 1)
			return 0;
		if (len != RSA_PSS_SALTLEN_DIGEST)
			s->bad = 1;
	}
	return 1;
}

static int
kp_sig_set(void *sc, const OSSL_PARAM params[])
{
	struct kp_sig	*s = sc;
	const OSSL_PARAM *p;
	const char	*str;

	if (params == NULL)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL && !kp_pad_param(p, s))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL &&
	    !kp_salt_param(p, s))
		return 0;
	/* MGF1 with another digest than the signature's: not ours. */
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL) {
		if (OSSL_PARAM_get_utf8_string_ptr(p, &str) != 1)
			return 0;
		if (kp_md(str) != s->md)
			s->bad = 1;
	}
	return 1;
}

static const OSSL_PARAM *
kp_sig_settable(void *sc, void *provctx)
{
	static const OSSL_PARAM settable[] = {
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL,
		    0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL,
		    0),
		OSSL_PARAM_END
	};

	(void)sc;
	(void)provctx;
	return settable;
}

static int
kp_sig_init(void *sc, const char *mdname, void *kd, const OSSL_PARAM p[])
{
	struct kp_sig	*s = sc;
	struct kp_key	*k = kd;

	if (s == NULL || k == NULL || k->pub == NULL)
		return 0;
	memset(s, 0, sizeof(*s));
	s->key = k;
	if ((s->md = kp_md(mdname)) == -1)
		return 0;
	/* Ed25519 takes no digest; every other kind must have one. */
	if ((k->kind == KP_ED25519) != (s->md == MSG_SIGN_MD_NONE))
		return 0;
	/* An RSA-PSS key signs with PSS whatever is set. */
	s->pss = k->kind == KP_RSA_PSS;
	return kp_sig_set(s, p);
}

static int
kp_sig_update(void *sc, const unsigned char *data, size_t len)
{
	struct kp_sig	*s = sc;

	if (len > sizeof(s->tbs) - s->tbslen) {
		s->toolong = 1;
		return 0;
	}
	memcpy(s->tbs + s->tbslen, data, len);
	s->tbslen += len;
	return 1;
}

static int
kp_sig_final(void *sc, unsigned char *sig, size_t *siglen, size_t sigsize)
{
	struct kp_sig	*s = sc;
	size_t		 n = sigsize;
	int		 max = EVP_PKEY_get_size(s->key->pub);

	if (sig == NULL) {
		*siglen = max > 0 ? (size_t)max : MSG_SIGN_SIG_MAX;
		return 1;
	}
	if (s->toolong || s->bad || s->tbslen == 0 || kp_signer == NULL ||
	    ((s->key->kind == KP_RSA || s->key->kind == KP_RSA_PSS) &&
	    !s->pss))
		return 0;
	if (kp_signer(kp_kinds[s->key->kind].alg, s->md, s->tbs, s->tbslen,
	    sig, &n) == -1)
		return 0;
	*siglen = n;
	return 1;
}

/* The one-shot form libssl uses for CertificateVerify. */
static int
kp_sig_oneshot(void *sc, unsigned char *sig, size_t *siglen, size_t sigsize,
    const unsigned char *tbs, size_t tbslen)
{
	struct kp_sig	*s = sc;

	if (sig != NULL) {
		s->tbslen = 0;
		if (!kp_sig_update(s, tbs, tbslen))
			return 0;
	}
	return kp_sig_final(s, sig, siglen, sigsize);
}

static const OSSL_DISPATCH kp_signature[] = {
	FN(OSSL_FUNC_SIGNATURE_NEWCTX, kp_sig_new),
	FN(OSSL_FUNC_SIGNATURE_FREECTX, kp_sig_free),
	FN(OSSL_FUNC_SIGNATURE_DUPCTX, kp_sig_dup),
	FN(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, kp_sig_init),
	FN(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, kp_sig_update),
	FN(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, kp_sig_final),
	FN(OSSL_FUNC_SIGNATURE_DIGEST_SIGN, kp_sig_oneshot),
	FN(OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, kp_sig_set),
	FN(OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, kp_sig_settable),
	{ 0, NULL }
};

static const OSSL_ALGORITHM kp_keymgmts[] = {
	{ "EC", KP_PROPS, kp_km_ec, "vnet: EC, signed by the monitor" },
	{ "RSA", KP_PROPS, kp_km_rsa, "vnet: RSA, signed by the monitor" },
	{ "RSA-PSS", KP_PROPS, kp_km_pss, "vnet: RSA-PSS, signed by the "
	    "monitor" },
	{ "ED25519", KP_PROPS, kp_km_ed, "vnet: Ed25519, signed by the "
	    "monitor" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM kp_signatures[] = {
	{ KP_SIGNAME, KP_PROPS, kp_signature, "vnet: signed by the monitor" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *
kp_query(void *provctx, int op, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	if (op == OSSL_OP_KEYMGMT)
		return kp_keymgmts;
	if (op == OSSL_OP_SIGNATURE)
		return kp_signatures;
	return NULL;
}

static const OSSL_DISPATCH kp_provider[] = {
	FN(OSSL_FUNC_PROVIDER_QUERY_OPERATION, kp_query),
	{ 0, NULL }
};

static int
kp_provider_init(const OSSL_CORE_HANDLE *h, const OSSL_DISPATCH *in,
    const OSSL_DISPATCH **out, void **provctx)
{
	(void)in;
	*out = kp_provider;
	*provctx = (void *)(uintptr_t)h;
	return 1;
}
#undef FN
#undef KP_KEYMGMT

/* The two providers keyprov_init() loaded, for keyprov_fini(). */
static OSSL_PROVIDER	*kp_default, *kp_ours;

void
keyprov_init(keyprov_signer *signer)
{
	kp_signer = signer;
	/*
	 * Loading a provider by hand stops the default one from loading
	 * by itself, so it is loaded here too; it stays what every fetch
	 * prefers, and only keyprov_key() asks for ours by name.
	 */
	if (OSSL_PROVIDER_add_builtin(NULL, KP_NAME, kp_provider_init) != 1 ||
	    (kp_default = OSSL_PROVIDER_load(NULL, "default")) == NULL ||
	    (kp_ours = OSSL_PROVIDER_load(NULL, KP_NAME)) == NULL ||
	    EVP_set_default_properties(NULL, "?" KP_DEFAULT) != 1)
		fatalx("event=error what=tls reason=\"key provider\"");
}

/* crypt keeps its providers for life; a test that ends gives them back. */
void
keyprov_fini(void)
{
	if (kp_ours != NULL)
		(void)OSSL_PROVIDER_unload(kp_ours);
	if (kp_default != NULL)
		(void)OSSL_PROVIDER_unload(kp_default);
	kp_ours = kp_default = NULL;
	kp_signer = NULL;
}

/* P-256 and P-384: the curves vnet documents and tests. */
static int
kp_curve_ok(EVP_PKEY *pub)
{
	char	 g[64];
	size_t	 gl;

	if (EVP_PKEY_get_group_name(pub, g, sizeof(g), &gl) != 1)
		return 0;
	return strcmp(g, "prime256v1") == 0 || strcmp(g, "P-256") == 0 ||
	    strcmp(g, "secp384r1") == 0 || strcmp(g, "P-384") == 0;
}

EVP_PKEY *
keyprov_key(X509 *cert)
{
	EVP_PKEY	*pub = X509_get0_pubkey(cert), *pk = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	OSSL_PARAM	*params = NULL;
	int		 i;

	if (pub == NULL)
		return NULL;
	for (i = 0; i < KP_NKINDS; i++)
		if (EVP_PKEY_is_a(pub, kp_kinds[i].name))
			break;
	if (i == KP_NKINDS || (i == KP_EC && !kp_curve_ok(pub)))
		return NULL;
	if (EVP_PKEY_todata(pub, EVP_PKEY_PUBLIC_KEY, &params) != 1 ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, kp_kinds[i].name,
	    KP_PROPS)) == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pk;
}

/* SPDX-License-Identifier: ISC */
/* Loading the configuration and the key material, and the sockets. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/x509id.h"
#include "monitor/monitor.h"
#include "privsep/log.h"
#include "privsep/privsep.h"

/*
 * Read the whole regular file open on fd, at most max bytes. NULL with
 * errno on failure; a secret's partial copy is wiped before it is freed.
 */
static char *
read_fd(int fd, const struct stat *st, size_t max, size_t *lenp, int secret)
{
	char	*buf;
	size_t	 off = 0;
	ssize_t	 n;

	if (!S_ISREG(st->st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	if ((size_t)st->st_size > max) {
		errno = EFBIG;
		return NULL;
	}
	if ((buf = malloc((size_t)st->st_size + 1)) == NULL)
		return NULL;
	while (off < (size_t)st->st_size) {
		n = read(fd, buf + off, (size_t)st->st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && secret) {
			explicit_bzero(buf, off);
			free(buf);
			return NULL;
		}
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	*lenp = off;
	return buf;
}

/* Read a whole file of at most max bytes. NULL with errno on failure. */
char *
setup_read(const char *path, size_t max, size_t *lenp)
{
	struct stat	 st;
	char		*buf = NULL;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == 0)
		buf = read_fd(fd, &st, max, lenp, 0);
	saved = errno;
	close(fd);
	errno = saved;
	return buf;
}

/*
 * The private key file must be root's alone: anyone else who can read
 * it can pose as this vnetd, and anyone who can write it can make it
 * one of theirs. Checked on the descriptor that is then read.
 */
static int
key_owner_ok(const char *path, const struct stat *st, char *why,
    size_t wlen)
{
	if (st->st_uid != 0) {
		snprintf(why, wlen, "vnetd: key %s: owned by uid %lu, not by "
		    "root (chown root %s)", path, (unsigned long)st->st_uid,
		    path);
		return -1;
	}
	if (st->st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(why, wlen, "vnetd: key %s: mode %04o gives group or "
		    "others access, must be 0600 or 0400 (chmod 0600 %s)",
		    path, (unsigned)(st->st_mode & 07777), path);
		return -1;
	}
	return 0;
}

static int
load_key(struct monitor *m, char *why, size_t wlen)
{
	const char	*path = m->conf.key;
	struct stat	 st;
	int		 fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(why, wlen, "vnetd: key %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (key_owner_ok(path, &st, why, wlen) == -1)
		goto out;
	if ((m->pem_key = read_fd(fd, &st, MSG_MAX_PAYLOAD, &m->pem_key_len,
	    1)) == NULL) {
		snprintf(why, wlen, "vnetd: key %s: %s", path, strerror(errno));
		goto out;
	}
	if (m->pem_key_len == 0) {
		snprintf(why, wlen, "vnetd: key %s: empty file", path);
		goto out;
	}
	rv = 0;
out:
	close(fd);
	return rv;
}

static int
load_pem(const char *what, const char *path, char **buf, size_t *len,
    char *why, size_t wlen)
{
	if ((*buf = setup_read(path, MSG_MAX_PAYLOAD, len)) == NULL) {
		snprintf(why, wlen, "vnetd: %s %s: %s", what, path,
		    strerror(errno));
		return -1;
	}
	if (*len == 0) {
		snprintf(why, wlen, "vnetd: %s %s: empty file", what, path);
		return -1;
	}
	return 0;
}

/*
 * Our own certificate must be fit for our role: a peer would refuse it at
 * every handshake, so say so once, now, instead of failing links forever.
 */
static int
check_cert_text(const struct conf *c, const char *pem, size_t len, char *why,
    size_t wlen)
{
	BIO		*b;
	X509		*x = NULL;
	const char	*bad;
	int		 host = c->role == CONF_ROLE_HOST;

	if ((b = BIO_new_mem_buf(pem, (int)len)) != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		bad = "no PEM certificate in the file";
	else if ((bad = x509id_usage(x, !host)) == NULL && host)
		bad = x509id_cn(x, CONF_MAX_STR);
	X509_free(x);
	ERR_clear_error();
	if (bad == NULL)
		return 0;
	snprintf(why, wlen, "vnetd: %s: %s (this is the %s's own "
	    "certificate)", c->certificate, bad, host ? "host" : "proxy");
	return -1;
}

/* Every certificate in a PEM text; NULL if none parses. */
static STACK_OF(X509) *
trust_certs(const char *pem, size_t len)
{
	STACK_OF(X509)	*sk = sk_X509_new_null();
	BIO		*b = BIO_new_mem_buf(pem, (int)len);
	X509		*x;

	while (sk != NULL && b != NULL &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(sk, x) == 0)
			X509_free(x);
	BIO_free(b);
	ERR_clear_error();
	if (sk != NULL && sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		sk = NULL;
	}
	return sk;
}

/* Is this CRL signed by one of the CA certificates? */
static int
trust_crl_signed(X509_CRL *crl, STACK_OF(X509) *cas)
{
	X509	*ca;
	int	 i;

	for (i = 0; i < sk_X509_num(cas); i++) {
		ca = sk_X509_value(cas, i);
		if (X509_NAME_cmp(X509_get_subject_name(ca),
		    X509_CRL_get_issuer(crl)) == 0 &&
		    X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
			return 1;
	}
	return 0;
}

/* Every CRL of the crl file parses and is signed by the CA. */
static const char *
trust_check_crls(const char *pem, size_t len, STACK_OF(X509) *cas)
{
	BIO		*b = BIO_new_mem_buf(pem, (int)len);
	X509_CRL	*crl;
	const char	*bad = NULL;
	int		 n = 0;

	while (b != NULL && bad == NULL &&
	    (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		n++;
		if (!trust_crl_signed(crl, cas))
			bad = "a CRL in it is not signed by a certificate of "
			    "the ca file";
		X509_CRL_free(crl);
	}
	BIO_free(b);
	ERR_clear_error();
	if (bad == NULL && n == 0)
		bad = "no PEM CRL in the file";
	return bad;
}

/*
 * The CA text must hold a certificate; the crl file, if configured,
 * CRLs that CA signed. The CRLs are appended to the CA text: crypt
 * takes both as one message (MSG_PEM_CA). Whether a CRL is out of date
 * is not a reason to refuse it here (see crypt/tls.c).
 */
int
setup_trust(const struct conf *c, char **ca, size_t *calen, char *why,
    size_t wlen)
{
	STACK_OF(X509)	*cas;
	const char	*bad;
	char		*crl, *both;
	size_t		 crllen;

	if ((cas = trust_certs(*ca, *calen)) == NULL) {
		snprintf(why, wlen, "vnetd: ca %s: no PEM certificate in the "
		    "file", c->ca);
		return -1;
	}
	if (c->crl[0] == '\0') {
		sk_X509_pop_free(cas, X509_free);
		return 0;
	}
	if (load_pem("crl", c->crl, &crl, &crllen, why, wlen) == -1) {
		sk_X509_pop_free(cas, X509_free);
		return -1;
	}
	bad = trust_check_crls(crl, crllen, cas);
	sk_X509_pop_free(cas, X509_free);
	if (bad == NULL && *calen + 1 + crllen > MSG_MAX_PAYLOAD)
		bad = "the ca and crl files together exceed the message size";
	if (bad == NULL && (both = realloc(*ca, *calen + 1 + crllen + 1)) ==
	    NULL)
		bad = "out of memory";
	if (bad != NULL) {
		snprintf(why, wlen, "vnetd: crl %s: %s", c->crl, bad);
		free(crl);
		return -1;
	}
	both[*calen] = '\n';
	memcpy(both + *calen + 1, crl, crllen + 1);
	*ca = both;
	*calen += 1 + crllen;
	free(crl);
	return 0;
}

/* The sha256 fingerprint of a PEM certificate, hex, as link_up shows. */
void
setup_cert_fp(const char *pem, size_t len, char out[65])
{
	BIO		*b = BIO_new_mem_buf(pem, (int)len);
	X509		*x = NULL;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0, i;

	out[0] = '\0';
	if (b != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x != NULL && X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32)
		for (i = 0; i < n; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	X509_free(x);
	ERR_clear_error();
}

static int
same_text(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/*
 * A reload's key material, read afresh from the new configuration's
 * paths (the files may have been replaced in place) and checked as at
 * start: the certificate fits the role, the key is the certificate's
 * and signs, the CA parses, the CRLs are the CA's. Only if all pass do
 * the monitor's key and texts change; otherwise nothing does and why
 * says what is wrong.
 */
int
setup_material(struct monitor *m, const struct conf *nc, int *changed,
    char *why, size_t wlen)
{
	char	*cert = NULL, *key = NULL, *ca = NULL;
	size_t	 certlen = 0, keylen = 0, calen = 0;
	int	 rv = -1;

	if (load_pem("certificate", nc->certificate, &cert, &certlen, why,
	    wlen) == -1 ||
	    load_pem("key", nc->key, &key, &keylen, why, wlen) == -1 ||
	    load_pem("ca", nc->ca, &ca, &calen, why, wlen) == -1 ||
	    check_cert_text(nc, cert, certlen, why, wlen) == -1 ||
	    setup_trust(nc, &ca, &calen, why, wlen) == -1 ||
	    sign_replace(m, nc->key, &key, &keylen, cert, certlen, why,
	    wlen) == -1)
		goto out;
	*changed = !same_text(cert, certlen, m->pem_cert, m->pem_cert_len) ||
	    !same_text(ca, calen, m->pem_ca, m->pem_ca_len);
	free(m->pem_cert);
	free(m->pem_ca);
	m->pem_cert = cert;
	m->pem_cert_len = certlen;
	m->pem_ca = ca;
	m->pem_ca_len = calen;
	cert = ca = NULL;
	rv = 0;
out:
	if (key != NULL)
		explicit_bzero(key, keylen);
	free(key);
	free(cert);
	free(ca);
	return rv;
}

/* Our own certificate, as read at start. */
static int
check_certificate(struct monitor *m, char *why, size_t wlen)
{
	return check_cert_text(&m->conf, m->pem_cert, m->pem_cert_len, why,
	    wlen);
}

/*
 * Resolve one connect line, here, so crypt needs no resolver. The error
 * names the line: with several proxies, "connect foo" alone may not say
 * which one is wrong.
 */
static int
resolve_one(struct monitor *m, const struct conf_connect *cc,
    struct msg_addr *out, char *why, size_t wlen)
{
	struct addrinfo	 hints, *res;
	char		 port[8];
	int		 rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", cc->port);
	if ((rv = getaddrinfo(cc->addr, port, &hints, &res))) {
		snprintf(why, wlen, "vnetd: %s:%u: connect %s: %s",
		    m->conffile, cc->line, cc->addr, gai_strerror(rv));
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->family = (uint16_t)res->ai_family;
	out->port = cc->port;
	if (res->ai_family == AF_INET)
		memcpy(out->addr,
		    &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
	else
		memcpy(out->addr,
		    &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
	freeaddrinfo(res);
	return 0;
}

/* Every proxy at start: a typo in the third must not wait for a failover. */
static int
resolve_connect(struct monitor *m, char *why, size_t wlen)
{
	size_t	 i;

	for (i = 0; i < m->conf.nconnect; i++)
		if (resolve_one(m, &m->conf.connect[i], &m->connect[i], why,
		    wlen) == -1)
			return -1;
	m->nconnect = m->conf.nconnect;
	return 0;
}

/* The configuration's fingerprint, for the audit trail. */
void
setup_hash(const char *text, size_t len, char out[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0, i;

	out[0] = '\0';
	if (EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/*
 * Everything the monitor needs from the file system and the resolver,
 * checked before anything starts. On failure, why says what is wrong in
 * the words of the old stderr messages (file:line: ... for syntax).
 */
int
setup_load(struct monitor *m, const char *file, int check_only, char *why,
    size_t wlen)
{
	struct conf_error	 err;
	const char		*cwhy;
	struct passwd		*pw;
	struct group		*gr;

	m->conffile = file;
	if ((m->conftext = setup_read(file, CONF_MAX_TEXT, &m->conflen)) ==
	    NULL) {
		snprintf(why, wlen, "vnetd: %s: %s", file, strerror(errno));
		return -1;
	}
	setup_hash(m->conftext, m->conflen, m->confhash);
	if (conf_parse(m->conftext, m->conflen, &m->conf, &err) == -1) {
		if (err.line > 0)
			snprintf(why, wlen, "%s:%u: %s", file, err.line,
			    err.msg);
		else
			snprintf(why, wlen, "%s: %s", file, err.msg);
		return -1;
	}
	m->parsed = 1;
	if ((pw = getpwnam(m->conf.user)) == NULL) {
		snprintf(why, wlen, "%s: user %s does not exist", file,
		    m->conf.user);
		return -1;
	}
	if ((gr = getgrnam(m->conf.control_group)) == NULL) {
		snprintf(why, wlen, "%s: control-group %s does not exist", file,
		    m->conf.control_group);
		return -1;
	}
	m->control_gid = gr->gr_gid;
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(why, wlen, "%s: user %s must not have uid or gid 0",
		    file, m->conf.user);
		return -1;
	}
	if (privsep_check_chroot(m->conf.chroot, &cwhy) == -1) {
		snprintf(why, wlen, "%s: chroot %s: %s", file, m->conf.chroot,
		    cwhy);
		return -1;
	}
	if (load_pem("certificate", m->conf.certificate, &m->pem_cert,
	    &m->pem_cert_len, why, wlen) == -1 ||
	    load_key(m, why, wlen) == -1 ||
	    load_pem("ca", m->conf.ca, &m->pem_ca, &m->pem_ca_len, why,
	    wlen) == -1 ||
	    check_certificate(m, why, wlen) == -1 ||
	    setup_trust(&m->conf, &m->pem_ca, &m->pem_ca_len, why, wlen) == -1)
		return -1;
	if (m->conf.role == CONF_ROLE_HOST && resolve_connect(m, why, wlen) ==
	    -1)
		return -1;
	if (!check_only && if_nametoindex(m->conf.interface) == 0) {
		snprintf(why, wlen, "vnetd: interface %s: %s",
		    m->conf.interface, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A UDP socket for the data channel, bound to sa (a host: the
 * wildcard, port 0). Large buffers: a round of crypt's loop may come
 * late, and what the socket cannot hold is lost. This runs before
 * monitor_confine(), still as root, so FORCE goes past
 * net.core.[rw]mem_max; the plain call is the fallback.
 */
static int
setup_udp(struct monitor *m, size_t i, const struct sockaddr *sa,
    socklen_t salen)
{
	int	 fd, buf = UDP_SOCKBUF;

	if ((fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) ==
	    -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) ==
	    -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, sa, salen) == -1) {
		close(fd);
		return -1;
	}
	m->udp_fd[i] = fd;
	m->udp_family[i] = sa->sa_family;
	return 0;
}

/* A host's: one per family, for whichever family its proxy has. */
static int
setup_udp_host(struct monitor *m)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	if (setup_udp(m, 0, (struct sockaddr *)&s4, sizeof(s4)) == -1) {
		log_warn("event=error what=udp_socket family=inet");
		return -1;
	}
	/* A host without IPv6 is not an error: its proxy is IPv4. */
	if (setup_udp(m, 1, (struct sockaddr *)&s6, sizeof(s6)) == -1)
		log_debug("event=udp_socket family=inet6 result=none");
	return 0;
}

/*
 * The proxy's listening socket (and UDP socket, on the same address
 * and port) is made here and passed to crypt, so a crypt restart keeps
 * the port and crypt needs no bind rights.
 */
int
setup_sockets(struct monitor *m)
{
	struct addrinfo	 hints, *res;
	char		 port[8];
	int		 fd, on = 1, rv;

	m->listen_fd = m->udp_fd[0] = m->udp_fd[1] = -1;
	if (m->conf.role == CONF_ROLE_HOST)
		return m->conf.transport == CONF_TRANSPORT_TCP ? 0 :
		    setup_udp_host(m);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", m->conf.listen_port);
	if ((rv = getaddrinfo(m->conf.listen_addr, port, &hints, &res))) {
		log_warnx("event=error what=listen addr=%s reason=\"%s\"",
		    m->conf.listen_addr, gai_strerror(rv));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 128) == -1) {
		log_warn("event=error what=listen addr=%s port=%u",
		    m->conf.listen_addr, m->conf.listen_port);
		if (fd != -1)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	m->listen_fd = fd;
	if (m->conf.transport != CONF_TRANSPORT_TCP &&
	    setup_udp(m, 0, res->ai_addr, res->ai_addrlen) == -1) {
		log_warn("event=error what=udp_socket addr=%s port=%u",
		    m->conf.listen_addr, m->conf.listen_port);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return 0;
}

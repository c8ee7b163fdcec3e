/* Loading the configuration and the key material, and the sockets. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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
check_certificate(struct monitor *m, char *why, size_t wlen)
{
	BIO		*b;
	X509		*x = NULL;
	const char	*bad;
	int		 host = m->conf.role == CONF_ROLE_HOST;

	if ((b = BIO_new_mem_buf(m->pem_cert, (int)m->pem_cert_len)) != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		bad = "no PEM certificate in the file";
	else if ((bad = x509id_usage(x, !host)) == NULL && host)
		bad = x509id_cn(x, CONF_MAX_STR);
	X509_free(x);
	if (bad == NULL)
		return 0;
	snprintf(why, wlen, "vnetd: %s: %s (this is the %s's own "
	    "certificate)", m->conf.certificate, bad, host ? "host" : "proxy");
	return -1;
}

/* Resolve the proxy address once, here, so crypt needs no resolver. */
static int
resolve_connect(struct monitor *m, char *why, size_t wlen)
{
	struct addrinfo	 hints, *res;
	char		 port[8];
	int		 rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", m->conf.connect_port);
	if ((rv = getaddrinfo(m->conf.connect_addr, port, &hints, &res))) {
		snprintf(why, wlen, "vnetd: %s: connect %s: %s", m->conffile,
		    m->conf.connect_addr, gai_strerror(rv));
		return -1;
	}
	memset(&m->connect, 0, sizeof(m->connect));
	m->connect.family = (uint16_t)res->ai_family;
	m->connect.port = m->conf.connect_port;
	if (res->ai_family == AF_INET)
		memcpy(m->connect.addr,
		    &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
	else
		memcpy(m->connect.addr,
		    &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
	freeaddrinfo(res);
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
	    check_certificate(m, why, wlen) == -1)
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
 * The proxy's listening socket is made here and passed to crypt, so a
 * crypt restart keeps the port and crypt needs no bind rights.
 */
int
setup_sockets(struct monitor *m)
{
	struct addrinfo	 hints, *res;
	char		 port[8];
	int		 fd, on = 1, rv;

	m->listen_fd = -1;
	if (m->conf.role != CONF_ROLE_PROXY)
		return 0;
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
	freeaddrinfo(res);
	m->listen_fd = fd;
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * A link: one TLS connection to a peer and its wire protocol. Anything
 * malformed or unexpected closes that link, with a logged reason and a
 * counter, and touches no other link.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypt/crypt.h"
#include "lib/srckey.h"
#include "privsep/log.h"
#include "privsep/worker.h"

static void	link_established(struct crypt *, struct link *);
static void	link_records(struct crypt *, struct link *);

static void	link_proxy_addr(const struct crypt *, size_t,
		    struct sockaddr_storage *, socklen_t *);
static int	link_event_allowed(struct crypt *, uint64_t *);

/*
 * Host: the dial to connect[proxy] failed, or its link went down. Move
 * on to the next proxy in the list, audited. It is dialed after
 * RECONNECT_MIN_MS (not at once: a list of proxies that all refuse
 * must not spin); once a whole pass brought no link up, the wait
 * doubles up to RECONNECT_MAX_MS. A link up resets both
 * (link_dial_up). With one proxy, each failure is a whole pass.
 */
static void
link_backoff(struct crypt *cr, const char *reason)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 from[64], to[64];
	uint64_t		 supp, wait = RECONNECT_MIN_MS;
	size_t			 n = cr->nconnect > 0 ? cr->nconnect : 1;

	/* The links close at exit too: that is no failover. */
	if (worker_quit)
		return;
	if (++cr->nfailed % n == 0) {
		wait = cr->redial_ms;
		cr->redial_ms = cr->redial_ms * 2 > RECONNECT_MAX_MS ?
		    RECONNECT_MAX_MS : cr->redial_ms * 2;
	}
	cr->redial_at_ms = now_ms() + wait;
	if (n < 2)
		return;
	link_proxy_addr(cr, cr->proxy, &ss, &sl);
	link_peername(&ss, from, sizeof(from));
	cr->proxy = (cr->proxy + 1) % n;
	link_proxy_addr(cr, cr->proxy, &ss, &sl);
	link_peername(&ss, to, sizeof(to));
	cr->c.failovers++;
	if (link_event_allowed(cr, &supp))
		audit("event=proxy_failover from=%s to=%s reason=\"%s\" "
		    "total=%llu suppressed=%llu", from, to, reason,
		    (unsigned long long)cr->c.failovers,
		    (unsigned long long)supp);
}

/* Host: the link to connect[proxy] is up; the next failure starts afresh. */
static void
link_dial_up(struct crypt *cr)
{
	cr->redial_ms = RECONNECT_MIN_MS;
	cr->nfailed = 0;
}

static int
link_event_allowed(struct crypt *cr, uint64_t *supp)
{
	return ratelim_allow(&cr->rl_event, now_ms(), supp);
}

struct link *
link_new(struct crypt *cr, int fd, const char *peer, int client)
{
	struct link	*l;

	if (cr->nlinks >= CRYPT_MAXLINKS || (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->fd = fd;
	snprintf(l->peer, sizeof(l->peer), "%s", peer);
	/* The record buffers come with authentication (link_established). */
	l->ssl = SSL_new(cr->ctx);
	if (l->ssl == NULL || SSL_set_fd(l->ssl, fd) != 1 ||
	    SSL_set_app_data(l->ssl, l) != 1) {
		SSL_free(l->ssl);
		free(l->rbuf);
		free(l->wbuf);
		free(l);
		return NULL;
	}
	if (client) {
		SSL_set_connect_state(l->ssl);
		if (cr->conf.peer_name[0] != '\0' &&
		    SSL_set1_host(l->ssl, cr->conf.peer_name) != 1) {
			SSL_free(l->ssl);
			free(l->rbuf);
			free(l->wbuf);
			free(l);
			return NULL;
		}
	} else
		SSL_set_accept_state(l->ssl);
	l->state = client ? L_CONNECTING : L_HANDSHAKE;
	ratelim_init(&l->rl_moves, FWD_MOVES_PER_SEC, 1000);
	l->since_ms = l->last_rx_ms = l->last_tx_ms = now_ms();
	cr->links[cr->nlinks++] = l;
	return l;
}

static void
link_queue(struct link *l, const uint8_t *p, size_t n)
{
	memcpy(l->wbuf + l->wlen, p, n);
	l->wlen += n;
	l->last_tx_ms = now_ms();
}

/* Room for n more bytes, compacting first. */
static int
link_room(struct link *l, size_t n)
{
	if (l->woff > 0 && LINK_WBUF - l->wlen < n) {
		memmove(l->wbuf, l->wbuf + l->woff, l->wlen - l->woff);
		l->wlen -= l->woff;
		l->woff = 0;
	}
	return LINK_WBUF - l->wlen >= n;
}

/*
 * Write what is queued, as far as TLS takes it now. On a hard error
 * returns -1 with the reason; what that ends is the caller's to say.
 */
static int
link_write(struct link *l, char *why, size_t len)
{
	int	 n, err;

	while (l->state != L_DEAD && l->woff < l->wlen) {
		n = SSL_write(l->ssl, l->wbuf + l->woff,
		    (int)(l->wlen - l->woff));
		if (n > 0) {
			l->woff += (size_t)n;
			continue;
		}
		err = SSL_get_error(l->ssl, n);
		if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
			l->want_write = err == SSL_ERROR_WANT_WRITE;
			return 0;
		}
		tls_reason(l->ssl, n, why, len);
		l->wlen = l->woff = 0;
		return -1;
	}
	l->want_write = 0;
	if (l->woff == l->wlen)
		l->woff = l->wlen = 0;
	return 0;
}

/*
 * Tell the peer why, best effort: it may not be listening. A write
 * error here must not close the link again from inside its close.
 */
static void
link_send_close(struct link *l, uint16_t code)
{
	uint8_t	 rec[WIRE_HDR_LEN + 2];
	char	 why[256];
	ssize_t	 n;

	if ((n = wire_encode_close(rec, sizeof(rec), code)) <= 0)
		return;
	if (l->wbuf != NULL && link_room(l, (size_t)n)) {
		link_queue(l, rec, (size_t)n);
		(void)link_write(l, why, sizeof(why));
	} else
		(void)SSL_write(l->ssl, rec, (int)n);	/* refused peer */
}

/*
 * End a link. send_close says whether a close record with code goes
 * out first; only a link whose TLS handshake is done can carry one.
 */
static void
link_end(struct crypt *cr, struct link *l, const char *reason,
    uint16_t code, int send_close)
{
	if (l->state == L_DEAD)
		return;
	if (l->state == L_UP) {
		audit("event=link_down peer=%s host=%s subject=\"%s\" "
		    "reason=\"%s\" rx_frames=%llu tx_frames=%llu "
		    "rx_bytes=%llu tx_bytes=%llu", l->peer,
		    l->host ? l->host->name : "proxy", l->subject, reason,
		    (unsigned long long)l->rx_frames,
		    (unsigned long long)l->tx_frames,
		    (unsigned long long)l->rx_bytes,
		    (unsigned long long)l->tx_bytes);
		cr->c.links_up--;
	} else
		log_debug("event=link_closed peer=%s reason=\"%s\"", l->peer,
		    reason);
	if (send_close)
		link_send_close(l, code);
	if (l->state != L_CONNECTING && l->state != L_DEAD)
		(void)SSL_shutdown(l->ssl);
	ERR_clear_error();
	close(l->fd);
	l->fd = -1;
	l->state = L_DEAD;
	fwd_link_gone(cr, l);
	udp_link_gone(cr, l);
	if (l == cr->uplink) {
		cr->uplink = NULL;
		link_backoff(cr, reason);
	}
}

/* A code of 0 closes silently; otherwise the peer hears it if it can. */
void
link_close(struct crypt *cr, struct link *l, const char *reason,
    uint16_t code)
{
	link_end(cr, l, reason, code, code != 0 &&
	    (l->state == L_HELLO || l->state == L_UP));
}

void
link_reap(struct crypt *cr)
{
	size_t	 i, out = 0;

	for (i = 0; i < cr->nlinks; i++) {
		struct link *l = cr->links[i];

		if (l->state != L_DEAD) {
			cr->links[out++] = l;
			continue;
		}
		SSL_free(l->ssl);
		free(l->rbuf);
		free(l->wbuf);
		free(l);
	}
	cr->nlinks = out;
}

void
link_flush(struct crypt *cr, struct link *l)
{
	char	 why[256];

	if (link_write(l, why, sizeof(why)) == -1)
		link_close(cr, l, why, 0);
}

/* A control record (UDP offer, transport) in the TLS stream. */
void
link_send_record(struct crypt *cr, struct link *l, const uint8_t *rec,
    size_t n)
{
	if (!link_room(l, n)) {
		link_flush(cr, l);
		if (!link_room(l, n)) {
			link_close(cr, l, "no room for a control record", 0);
			return;
		}
	}
	link_queue(l, rec, n);
}

int
link_send_frame(struct crypt *cr, struct link *l, const uint8_t *f,
    size_t len)
{
	uint8_t	 hdr[WIRE_HDR_LEN];

	if (l->state != L_UP)
		return -1;
	if (l->udp != NULL) {
		f = udp_clamp(cr, l, f, len);
		if (udp_send_frame(cr, l, f, len)) {
			l->tx_frames++;
			l->tx_bytes += len;
			cr->c.tx_frames++;
			cr->c.tx_bytes += len;
			return 0;
		}
	}
	if (!link_room(l, WIRE_HDR_LEN + len)) {
		link_flush(cr, l);
		if (!link_room(l, WIRE_HDR_LEN + len)) {
			cr->c.drop_congested++;
			return -1;
		}
	}
	wire_put_hdr(hdr, WIRE_FRAME, len);
	link_queue(l, hdr, sizeof(hdr));
	link_queue(l, f, len);
	l->tx_frames++;
	l->tx_bytes += len;
	cr->c.tx_frames++;
	cr->c.tx_bytes += len;
	return 0;
}

static void
link_handshake_failed(struct crypt *cr, struct link *l, int ret)
{
	char		 why[512];
	uint64_t	 supp;

	tls_reason(l->ssl, ret, why, sizeof(why));
	cr->c.handshake_failures++;
	if (link_event_allowed(cr, &supp))
		audit("event=tls_handshake_failed peer=%s reason=\"%s\" "
		    "total=%llu suppressed=%llu", l->peer, why,
		    (unsigned long long)cr->c.handshake_failures,
		    (unsigned long long)supp);
	link_close(cr, l, why, 0);
}

static void
link_handshake(struct crypt *cr, struct link *l)
{
	int	 rv, err;

	rv = SSL_do_handshake(l->ssl);
	if (rv == 1) {
		link_established(cr, l);
		return;
	}
	err = SSL_get_error(l->ssl, rv);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		l->want_write = err == SSL_ERROR_WANT_WRITE;
		return;
	}
	link_handshake_failed(cr, l, rv);
}

static void
link_connecting(struct crypt *cr, struct link *l)
{
	int		 err = 0;
	socklen_t	 sl = sizeof(err);
	char		 why[128];

	if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
		err = errno;
	if (err != 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		log_info("event=connect_failed peer=%s reason=\"%s\"", l->peer,
		    why);
		link_close(cr, l, why, 0);
		return;
	}
	l->state = L_HANDSHAKE;
	l->since_ms = now_ms();
	link_handshake(cr, l);
}

/*
 * What one link may deliver per round of crypt's loop: four full TLS
 * records, or 128 frames, whichever comes first (checked after each
 * record, so at least one record is read). Without a bound, a peer that
 * keeps its socket readable (a fast or hostile one) keeps crypt in this
 * loop, and the other links, the capture ring and the monitor's
 * requests wait behind it. Frames count too, as each costs crypt a
 * forwarding decision whatever its size: a record of tiny frames is
 * hundreds of them.
 */
#define LINK_READ_BUDGET	(4 * 16384)
#define LINK_READ_FRAMES	128

/*
 * Whether OpenSSL holds data of this link's (a decrypted record, or
 * bytes read from the socket but not yet decrypted) that poll() cannot
 * see: a link that ran out of budget is then serviced next round
 * without waiting for its socket.
 */
int
link_backlog(const struct link *l)
{
	return (l->state == L_HELLO || l->state == L_UP) &&
	    SSL_has_pending(l->ssl);
}

static void
link_read(struct crypt *cr, struct link *l)
{
	uint64_t f0 = l->rx_frames;
	size_t	 got = 0;
	int	 n, err;
	char	 why[512];

	while (l->state == L_HELLO || l->state == L_UP) {
		if (got >= LINK_READ_BUDGET ||
		    l->rx_frames - f0 >= LINK_READ_FRAMES)
			return;
		n = SSL_read(l->ssl, l->rbuf + l->rlen,
		    (int)(LINK_RBUF - l->rlen));
		if (n > 0) {
			got += (size_t)n;
			l->rlen += (size_t)n;
			l->last_rx_ms = now_ms();
			link_records(cr, l);
			continue;
		}
		err = SSL_get_error(l->ssl, n);
		if (err == SSL_ERROR_WANT_READ)
			return;
		if (err == SSL_ERROR_WANT_WRITE) {
			l->want_write = 1;
			return;
		}
		if (err == SSL_ERROR_ZERO_RETURN) {
			link_close(cr, l, "peer closed the connection", 0);
			return;
		}
		/*
		 * With TLS 1.3 a client learns that its certificate was
		 * refused only here, after its handshake "succeeded".
		 */
		if (l->state == L_HELLO) {
			link_handshake_failed(cr, l, n);
			return;
		}
		tls_reason(l->ssl, n, why, sizeof(why));
		link_close(cr, l, why, 0);
		return;
	}
}

void
link_io(struct crypt *cr, struct link *l, short revents)
{
	if (l->state == L_CONNECTING) {
		if (revents & (POLLOUT | POLLERR | POLLHUP))
			link_connecting(cr, l);
		return;
	}
	if (l->state == L_HANDSHAKE)
		link_handshake(cr, l);
	if (l->state == L_HELLO || l->state == L_UP) {
		link_read(cr, l);
		link_flush(cr, l);
	}
}

void
link_malformed(struct crypt *cr, struct link *l, const char *why)
{
	uint64_t	 supp;

	cr->c.malformed_records++;
	if (link_event_allowed(cr, &supp))
		audit("event=malformed_record peer=%s host=%s reason=\"%s\" "
		    "total=%llu suppressed=%llu", l->peer,
		    l->host ? l->host->name : "-", why,
		    (unsigned long long)cr->c.malformed_records,
		    (unsigned long long)supp);
	link_close(cr, l, why, WIRE_CLOSE_PROTOCOL);
}

static void
link_up(struct crypt *cr, struct link *l, const struct wire_hello *h)
{
	char		 mac[18];
	uint16_t	 i;
	uint64_t	 supp;

	if (l->host != NULL)
		for (i = 0; i < h->nmacs; i++)
			if (!conf_host_allows(l->host, h->macs + 6 * i) &&
			    link_event_allowed(cr, &supp))
				audit("event=hello_mac_unauthorized peer=%s "
				    "host=%s mac=%s suppressed=%llu", l->peer,
				    l->host->name, mac_format(h->macs + 6 * i, mac),
				    (unsigned long long)supp);
	l->state = L_UP;
	l->since_ms = now_ms();
	cr->c.links_up++;
	l->transport = WIRE_TRANSPORT_TCP;
	if (l == cr->uplink)
		link_dial_up(cr);
	audit("event=link_up peer=%s host=%s subject=\"%s\" fingerprint=%s "
	    "tls=%s cipher=%s macs_announced=%u", l->peer,
	    l->host ? l->host->name : "proxy", l->subject, l->fingerprint,
	    SSL_get_version(l->ssl), SSL_get_cipher_name(l->ssl), h->nmacs);
	udp_link_up(cr, l);
}

static int
link_record(struct crypt *cr, struct link *l, const struct wire_rec *r)
{
	struct wire_hello	 h;
	uint16_t		 reason;
	char			 why[128];
	int			 rv;
	uint8_t			 want = cr->conf.role == CONF_ROLE_HOST ?
				    WIRE_ROLE_PROXY : WIRE_ROLE_HOST;

	switch (r->type) {
	case WIRE_HELLO:
		if (l->state != L_HELLO) {
			link_malformed(cr, l, "hello repeated");
			return -1;
		}
		if ((rv = wire_parse_hello(r->payload, r->len, &h)) != 0) {
			snprintf(why, sizeof(why), "bad hello: %s",
			    wire_strerror(rv));
			link_malformed(cr, l, why);
			return -1;
		}
		if (h.role != want) {
			link_malformed(cr, l, "hello from the wrong role");
			return -1;
		}
		link_up(cr, l, &h);
		return 0;
	case WIRE_FRAME:
		if (l->state != L_UP) {
			link_malformed(cr, l, "frame before hello");
			return -1;
		}
		l->rx_frames++;
		l->rx_bytes += r->len;
		cr->c.rx_frames++;
		cr->c.rx_bytes += r->len;
		fwd_from_link(cr, l, r->payload, r->len);
		return 0;
	case WIRE_KEEPALIVE:
		return 0;
	case WIRE_UDP:
	case WIRE_TRANSPORT:
		if (l->state != L_UP) {
			link_malformed(cr, l, "udp record before hello");
			return -1;
		}
		return r->type == WIRE_UDP ?
		    udp_on_offer(cr, l, r->payload, r->len) :
		    udp_on_transport(cr, l, r->payload, r->len);
	case WIRE_CLOSE:
		if (wire_parse_close(r->payload, r->len, &reason) != 0) {
			link_malformed(cr, l, "bad close record");
			return -1;
		}
		snprintf(why, sizeof(why), "peer closed the link (code %u)",
		    reason);
		link_close(cr, l, why, 0);
		return -1;
	}
	link_malformed(cr, l, "unknown record type");
	return -1;
}

static void
link_records(struct crypt *cr, struct link *l)
{
	struct wire_rec	 r;
	size_t		 off = 0;
	ssize_t		 n;
	char		 why[128];

	while (l->state != L_DEAD) {
		n = wire_decode(l->rbuf + off, l->rlen - off, &r);
		if (n == 0)
			break;
		if (n < 0) {
			snprintf(why, sizeof(why), "%s", wire_strerror((int)n));
			link_malformed(cr, l, why);
			return;
		}
		off += (size_t)n;
		if (link_record(cr, l, &r) == -1)
			return;
	}
	if (off > 0 && l->state != L_DEAD) {
		memmove(l->rbuf, l->rbuf + off, l->rlen - off);
		l->rlen -= off;
	}
}

static int
link_pin_ok(const uint8_t *want, const uint8_t *got)
{
	return CRYPTO_memcmp(want, got, 32) == 0;
}

/* The up link of the same host that l would replace (a redial), if any. */
static struct link *
link_old(struct crypt *cr, const struct link *l)
{
	size_t	 i;

	for (i = 0; l->host != NULL && i < cr->nlinks; i++)
		if (cr->links[i] != l && cr->links[i]->host == l->host &&
		    cr->links[i]->state == L_UP)
			return cr->links[i];
	return NULL;
}

/* A host that redials replaces its old link at once. */
static void
link_replace_old(struct crypt *cr, const struct link *l)
{
	struct link	*old;

	while ((old = link_old(cr, l)) != NULL)
		link_close(cr, old, "replaced by a new link from the same "
		    "host", WIRE_CLOSE_SHUTDOWN);
}

/*
 * May this peer stay? Returns NULL if so, else why not (in why). On the
 * proxy it also learns which host the peer is (l->host).
 */
static const char *
link_authorize(struct crypt *cr, struct link *l, const char *cn,
    const uint8_t *digest, char *why, size_t len)
{
	if (cr->conf.role == CONF_ROLE_HOST) {
		if (cr->conf.has_pin && !link_pin_ok(cr->conf.pin, digest)) {
			snprintf(why, len, "proxy certificate does not match "
			    "the pinned sha256");
			return why;
		}
		return NULL;
	}
	if ((l->host = conf_host_by_cn(&cr->conf, cn)) == NULL)
		snprintf(why, len, "no host is configured for certificate "
		    "CN '%s'", cn);
	else if (l->host->has_pin && !link_pin_ok(l->host->pin, digest))
		snprintf(why, len, "certificate of host %s does not match its "
		    "pinned sha256", l->host->name);
	else if (cr->c.links_up >= cr->conf.max_links &&
	    link_old(cr, l) == NULL) {
		cr->c.refused_links++;
		snprintf(why, len, "max-links (%u) authenticated links reached",
		    cr->conf.max_links);
	} else
		return NULL;
	return why;
}

/* Refused after its handshake: counted, audited, and told why. */
static void
link_reject(struct crypt *cr, struct link *l, char *why)
{
	uint64_t	 supp;

	logsafe(why);
	cr->c.peers_rejected++;
	if (link_event_allowed(cr, &supp))
		audit("event=peer_rejected peer=%s subject=\"%s\" "
		    "fingerprint=%s reason=\"%s\" total=%llu "
		    "suppressed=%llu", l->peer, l->subject,
		    l->fingerprint, why,
		    (unsigned long long)cr->c.peers_rejected,
		    (unsigned long long)supp);
	link_end(cr, l, why, WIRE_CLOSE_UNAUTHORIZED, 1);
}

/* Our hello: the host announces its VMs, the proxy nothing. */
static void
link_send_hello(struct crypt *cr, struct link *l)
{
	uint8_t		 hello[WIRE_HDR_LEN + WIRE_HELLO_FIXED +
			    6 * WIRE_HELLO_MAX_MACS];
	ssize_t		 n;

	if (cr->conf.role == CONF_ROLE_HOST)
		n = wire_encode_hello(hello, sizeof(hello), WIRE_ROLE_HOST,
		    (const uint8_t *)cr->conf.vms, cr->conf.nvms >
		    WIRE_HELLO_MAX_MACS ? WIRE_HELLO_MAX_MACS : cr->conf.nvms);
	else
		n = wire_encode_hello(hello, sizeof(hello), WIRE_ROLE_PROXY,
		    NULL, 0);
	if (n < 0 || !link_room(l, (size_t)n)) {
		link_close(cr, l, "cannot encode hello", 0);
		return;
	}
	link_queue(l, hello, (size_t)n);
	link_flush(cr, l);
}

/*
 * A handshake begun before a reload was verified against the old CA
 * and CRL: judge its peer by the new ones too.
 */
static const char *
link_stale_ctx(struct crypt *cr, struct link *l, char *why, size_t len)
{
	const char	*bad;

	if (SSL_get_SSL_CTX(l->ssl) == cr->ctx ||
	    (bad = tls_recheck(cr, l->ssl)) == NULL)
		return NULL;
	snprintf(why, len, "peer certificate: %s", bad);
	return why;
}

/* TLS is up: decide who the peer is and whether it may stay. */
static void
link_established(struct crypt *cr, struct link *l)
{
	char		 cn[256], why[384];
	uint8_t		 digest[32];

	tls_identity(l->ssl, l->subject, sizeof(l->subject), cn, sizeof(cn),
	    l->fingerprint, sizeof(l->fingerprint), digest);
	if (link_authorize(cr, l, cn, digest, why, sizeof(why)) != NULL ||
	    link_stale_ctx(cr, l, why, sizeof(why)) != NULL) {
		link_reject(cr, l, why);
		return;
	}
	l->not_after = tls_not_after(l->ssl);
	link_replace_old(cr, l);
	/*
	 * Only an authenticated peer gets record buffers: a stream of
	 * hostile connections must not cost 2 MiB each.
	 */
	if ((l->rbuf = malloc(LINK_RBUF)) == NULL ||
	    (l->wbuf = malloc(LINK_WBUF)) == NULL) {
		link_close(cr, l, "out of memory for link buffers", 0);
		return;
	}
	l->state = L_HELLO;
	l->since_ms = now_ms();
	link_send_hello(cr, l);
}

/* The peer's certificate (or its CA's) ran out while the link was up. */
static void
link_expired(struct crypt *cr, struct link *l)
{
	cr->c.peers_revoked++;
	audit("event=peer_revoked peer=%s host=%s subject=\"%s\" "
	    "fingerprint=%s reason=\"certificate has expired\" "
	    "not_after=%lld total=%llu", l->peer,
	    l->host ? l->host->name : "proxy", l->subject, l->fingerprint,
	    (long long)l->not_after, (unsigned long long)cr->c.peers_revoked);
	link_close(cr, l, "peer certificate: certificate has expired",
	    WIRE_CLOSE_UNAUTHORIZED);
}

void
link_timers(struct crypt *cr, struct link *l, uint64_t now)
{
	uint64_t	 ka = (uint64_t)cr->conf.keepalive * 1000;
	uint8_t		 rec[WIRE_HDR_LEN];
	ssize_t		 n;

	if (l->state == L_DEAD)
		return;
	if (l->state != L_UP) {
		if (now - l->since_ms >
		    (uint64_t)cr->conf.handshake_timeout * 1000) {
			if (l->state == L_CONNECTING) {
				log_info("event=connect_failed peer=%s "
				    "reason=\"connect timeout\"", l->peer);
				link_close(cr, l, "connect timeout", 0);
			} else {
				uint64_t supp;

				ERR_clear_error();
				cr->c.handshake_failures++;
				if (link_event_allowed(cr, &supp))
					audit("event=tls_handshake_failed "
					    "peer=%s reason=\"handshake timeout\" "
					    "total=%llu suppressed=%llu", l->peer,
					    (unsigned long long)
					    cr->c.handshake_failures,
					    (unsigned long long)supp);
				link_close(cr, l, "handshake timeout", 0);
			}
		}
		return;
	}
	if (l->not_after != 0 && (int64_t)time(NULL) >= l->not_after) {
		link_expired(cr, l);
		return;
	}
	if (now - l->last_rx_ms > 3 * ka) {
		link_close(cr, l, "keepalive timeout", WIRE_CLOSE_TIMEOUT);
		return;
	}
	if (now - l->last_tx_ms >= ka &&
	    (n = wire_encode_keepalive(rec, sizeof(rec))) > 0 &&
	    link_room(l, (size_t)n)) {
		link_queue(l, rec, (size_t)n);
		link_flush(cr, l);
	}
}

/* "address:port" of an IPv4 or IPv6 socket address, for records. */
void
link_peername(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char	 a[INET6_ADDRSTRLEN] = "?";
	int	 port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		port = ntohs(s->sin6_port);
	}
	snprintf(buf, len, "%s:%d", a, port);
}

/*
 * Over a limit, refuse before any TLS is spent on it: close at once,
 * count, and audit with rate limiting (a scanner must not flood the log).
 */
static int
link_admit(struct crypt *cr, const struct sockaddr_storage *ss,
    const char *peer)
{
	struct src_key	 src, other;
	size_t		 i, pending = 0, same = 0;
	uint64_t	 supp, *ctr;
	const char	*why;

	/* A source is an IPv4 address or an IPv6 /64 (lib/srckey.h). */
	src_key(ss, &src);
	for (i = 0; i < cr->nlinks; i++) {
		const struct link *l = cr->links[i];

		if (l->state == L_UP || l->state == L_DEAD)
			continue;
		pending++;
		src_key(&l->addr, &other);
		same += src_key_equal(&src, &other);
	}
	if (pending >= cr->conf.max_pending) {
		ctr = &cr->c.refused_pending;
		why = "too many connections not yet authenticated";
	} else if (same >= cr->conf.max_pending_per_source) {
		ctr = &cr->c.refused_source;
		why = "too many unauthenticated connections from this source";
	} else if (cr->nlinks >= CRYPT_MAXLINKS) {
		ctr = &cr->c.refused_links;
		why = "no room for another link";
	} else
		return 0;
	(*ctr)++;
	if (ratelim_allow(&cr->rl_refuse, now_ms(), &supp))
		audit("event=refused peer=%s reason=\"%s\" total=%llu "
		    "suppressed=%llu", peer, why, (unsigned long long)*ctr,
		    (unsigned long long)supp);
	return -1;
}

void
link_accept(struct crypt *cr)
{
	struct sockaddr_storage	 ss;
	struct link		*l;
	socklen_t		 sl;
	char			 peer[64];
	int			 fd, on = 1;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(cr->listen_fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("event=error what=accept");
			return;
		}
		link_peername(&ss, peer, sizeof(peer));
		cr->c.links_accepted++;
		if (link_admit(cr, &ss, peer) == -1) {
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if ((l = link_new(cr, fd, peer, 0)) == NULL) {
			log_warnx("event=error what=link peer=%s", peer);
			close(fd);
			continue;
		}
		l->addr = ss;
	}
}

/* Host: connect[i] as a socket address. */
static void
link_proxy_addr(const struct crypt *cr, size_t i, struct sockaddr_storage *ss,
    socklen_t *sl)
{
	const struct msg_addr	*a = &cr->connect[i];

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s = (void *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(a->port);
		memcpy(&s->sin_addr, a->addr, 4);
		*sl = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (void *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(a->port);
		memcpy(&s->sin6_addr, a->addr, 16);
		*sl = sizeof(*s);
	}
}

/*
 * Host: dial the proxy we are at in the list. The link keeps the
 * address it was dialed at in l->addr, as an accepted link keeps its
 * source: the current proxy's address, for whoever needs it.
 */
void
link_dial(struct crypt *cr)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 peer[64];
	char			 why[128];
	int			 fd, on = 1;

	if (cr->uplink != NULL || now_ms() < cr->redial_at_ms ||
	    cr->nconnect == 0)
		return;
	link_proxy_addr(cr, cr->proxy, &ss, &sl);
	link_peername(&ss, peer, sizeof(peer));
	if (cr->dialed)
		cr->c.reconnects++;
	cr->dialed = 1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		log_warn("event=error what=socket");
		link_backoff(cr, "socket failed");
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (struct sockaddr *)&ss, sl) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		log_info("event=connect_failed peer=%s reason=\"%s\"", peer,
		    why);
		close(fd);
		link_backoff(cr, why);
		return;
	}
	if ((cr->uplink = link_new(cr, fd, peer, 1)) == NULL) {
		close(fd);
		link_backoff(cr, "out of memory");
		return;
	}
	cr->uplink->addr = ss;		/* where its UDP goes too */
}

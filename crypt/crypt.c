/* SPDX-License-Identifier: ISC */
/*
 * The crypt worker: the only process that talks to the network. It
 * holds no capability once running, loads its keys from the monitor's
 * messages, and parses everything a peer sends with lib/wire.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypt/crypt.h"
#include "privsep/log.h"
#include "privsep/privsep.h"
#include "privsep/worker.h"

static struct crypt	 cr;
static uint8_t		 rxbuf[MSG_MAX];
static uint8_t		 injbuf[MSG_MAX];
static struct pollfd	 pfd[5 + CRYPT_MAXLINKS];
static struct link	*pfl[5 + CRYPT_MAXLINKS];

#define S(n)	{ #n, &cr.c.n }
static const struct worker_stat crypt_stats[] = {
	S(from_capture), S(to_inject), S(tx_frames), S(rx_frames),
	S(tx_bytes), S(rx_bytes), S(links_up), S(links_accepted),
	S(reconnects), S(handshake_failures), S(peers_rejected),
	S(malformed_records), S(drop_mac_unauthorized), S(drop_no_link),
	S(drop_congested), S(drop_inject_full), S(drop_bad_dst),
	S(drop_src_unknown), S(drop_loop), S(moves), S(drop_move_limit),
	S(aged), S(refused_pending), S(refused_source), S(refused_links),
	S(sign_requests), S(sign_failures), S(crl_expired_accepted),
	S(peers_revoked), S(failovers), S(udp_tx_frames), S(udp_rx_frames),
	S(udp_cut), S(udp_joined),
	S(udp_oversize_tcp), S(mss_clamped), S(udp_probes),
	S(udp_probes_unasked), S(transport_switches), S(udp_rekeys),
	S(udp_send_errors), S(udp_recv_errors), S(udp_drop_malformed),
	S(udp_drop_unknown_id), S(udp_drop_replay), S(udp_drop_old_epoch),
	S(udp_drop_future_epoch), S(udp_drop_tag), S(udp_drop_error),
};
#undef S
/* One MSG_STATS carries them all: more would be cut off unseen. */
_Static_assert(sizeof(crypt_stats) / sizeof(crypt_stats[0]) <=
    MSG_STATS_MAX, "crypt's counters do not fit one MSG_STATS");

/*
 * The certificate and the CA (with the CRLs), loaded from memory before
 * the drop. Once running, a reload sends both again before its
 * MSG_RELOAD, which applies them (crypt/reload.c).
 */
static void
crypt_on_pem(struct msg *m, void *arg)
{
	struct crypt	*c = arg;
	int		 i;

	i = m->type == MSG_PEM_CERT ? 0 : 1;
	if (c->pem[i] != NULL) {
		explicit_bzero(c->pem[i], c->pem_len[i]);
		free(c->pem[i]);
	}
	if ((c->pem[i] = malloc(m->len)) == NULL)
		fatal("setup");
	memcpy(c->pem[i], m->payload, m->len);
	c->pem_len[i] = m->len;
	/*
	 * The message arrived in the worker's receive buffer, which the
	 * next, shorter messages would only partly overwrite: wipe it here,
	 * so the one copy left is c->pem[i], which tls_ctx() wipes.
	 */
	explicit_bzero((void *)(uintptr_t)m->payload, m->len);
}

static void
crypt_on_listen(struct msg *m, void *arg)
{
	struct crypt	*c = arg;

	c->listen_fd = m->fd;
	m->fd = -1;
}

static void
crypt_on_udp(struct msg *m, void *arg)
{
	struct crypt	*c = arg;
	uint16_t	 fam;

	memcpy(&fam, m->payload, sizeof(fam));
	if (udp_add_socket(c, fam, m->fd) == 0)
		m->fd = -1;
}

static void
crypt_on_connect(struct msg *m, void *arg)
{
	struct crypt	*c = arg;

	/* The channel's row bounds the length: 1..CONF_MAX_CONNECT whole. */
	c->nconnect = m->len / sizeof(c->connect[0]);
	if (c->nconnect > CONF_MAX_CONNECT)
		c->nconnect = CONF_MAX_CONNECT;
	memcpy(c->connect, m->payload, c->nconnect * sizeof(c->connect[0]));
	c->have_connect = 1;
}

static void
crypt_on_reload(struct msg *m, void *arg)
{
	struct crypt	*c = arg;

	/* Before we run, nothing is built yet that a reload could change. */
	if (!worker_running())
		return;
	/*
	 * In the middle of a handshake (waiting for a signature) a reload
	 * could cut the very link being handshaken: it waits for the loop.
	 * A newer text replaces an older one; each is a whole file.
	 */
	if (c->signing) {
		free(c->reload_text);
		if ((c->reload_text = malloc(m->len)) == NULL)
			fatal("reload");
		memcpy(c->reload_text, m->payload, m->len);
		c->reload_len = m->len;
		return;
	}
	crypt_reload(c, (const char *)m->payload, m->len);
}

/* A signature that came back after its handshake gave up: dropped. */
static void
crypt_on_signature(struct msg *m, void *arg)
{
	(void)m;
	(void)arg;
}

static int
crypt_sign_fail(const char *reason)
{
	cr.c.sign_failures++;
	log_warnx("event=sign_failed reason=%s total=%llu", reason,
	    (unsigned long long)cr.c.sign_failures);
	return -1;
}

/*
 * The key provider's signer (crypt/keyprov.c): the monitor holds the
 * private key and signs, one round trip inside the handshake. crypt
 * waits for it, and a monitor that does not answer in time fails this
 * handshake only.
 */
int
crypt_sign(int alg, int md, const uint8_t *tbs, size_t tbslen,
    uint8_t *sig, size_t *siglen)
{
	uint8_t			 req[sizeof(struct msg_sign_req) +
				    MSG_SIGN_TBS_MAX];
	struct msg_sign_req	 r = { .id = ++cr.sign_id,
				    .alg = (uint16_t)alg, .md = (uint16_t)md };
	struct msg_sign_ans	 a;
	struct msg		 m;
	uint64_t		 end = now_ms() + CRYPT_SIGN_TIMEOUT_MS, now;
	int			 rv;

	if (tbslen == 0 || tbslen > MSG_SIGN_TBS_MAX)
		return crypt_sign_fail("length");
	memcpy(req, &r, sizeof(r));
	memcpy(req + sizeof(r), tbs, tbslen);
	cr.c.sign_requests++;
	if (msg_send(FD_MONITOR, MSG_SIGN_REQ, req, sizeof(r) + tbslen) == -1)
		return crypt_sign_fail("send");
	cr.signing = 1;
	for (;;) {
		if ((now = now_ms()) >= end) {
			rv = 0;
			break;
		}
		if ((rv = worker_ctl_wait(MSG_SIGNATURE, (int)(end - now),
		    &m)) != 1)
			break;
		memcpy(&a, m.payload, sizeof(a));
		if (a.id == r.id)	/* else a late answer to an older one */
			break;
	}
	cr.signing = 0;
	if (rv == 0)
		return crypt_sign_fail("timeout");
	if (rv == -1)
		return crypt_sign_fail("monitor_gone");
	if (a.status != MSG_SIGN_OK)
		return crypt_sign_fail("refused");
	if (m.len - sizeof(a) > *siglen)
		return crypt_sign_fail("signature_size");
	*siglen = m.len - sizeof(a);
	memcpy(sig, m.payload + sizeof(a), *siglen);
	return 0;
}

/* A reload held back by a signature round trip, applied now. */
static void
crypt_reload_pending(struct crypt *c)
{
	if (c->reload_text == NULL)
		return;
	crypt_reload(c, c->reload_text, c->reload_len);
	free(c->reload_text);
	c->reload_text = NULL;
}

/* What crypt takes from the monitor besides what every worker takes. */
static const struct msg_rule crypt_ctl_rows[] = {
	{ MSG_PEM_CERT,		crypt_on_pem },
	{ MSG_PEM_CA,		crypt_on_pem },
	{ MSG_LISTEN_FD,	crypt_on_listen },
	{ MSG_CONNECT_ADDR,	crypt_on_connect },
	{ MSG_UDP_FD,		crypt_on_udp },
	{ MSG_RELOAD,		crypt_on_reload },
	{ MSG_SIGNATURE,	crypt_on_signature },
};
static const struct msg_table crypt_ctl =
    MSG_TABLE(crypt_ctl_rows, &worker_ctl_table);

static void
crypt_data(struct msg_chan *chan, struct msg_chan *bell)
{
	struct msg	 m;
	const uint8_t	*f;
	size_t		 off, len;
	int		 k;

	for (k = 0; k < 64 && worker_data_recv(&cr.from_capture_ring, chan,
	    bell, rxbuf, &m); k++) {
		off = 0;
		while (batch_next(m.payload, m.len, &off, &f, &len))
			fwd_from_capture(&cr, f, len);
	}
}

/* crypt's part of a report, after its counters: links, then MACs. */
static void
crypt_report(void *arg)
{
	fwd_report_links(arg);
	fwd_report(arg);
}

/*
 * A burst's last suppressed records are reported once its window ends,
 * not only when the next record of the kind happens to come.
 */
static void
crypt_suppressed(uint64_t now)
{
	uint64_t	 n;

	if (ratelim_flush(&cr.rl_unauth, now, &n))
		audit("event=suppressed what=drop reason=mac_unauthorized "
		    "suppressed=%llu total=%llu", (unsigned long long)n,
		    (unsigned long long)cr.c.drop_mac_unauthorized);
	if (ratelim_flush(&cr.rl_drop, now, &n))
		log_warnx("event=suppressed what=drop "
		    "reason=inject_channel_full suppressed=%llu total=%llu",
		    (unsigned long long)n,
		    (unsigned long long)cr.c.drop_inject_full);
	if (ratelim_flush(&cr.rl_event, now, &n))
		audit("event=suppressed what=link_events suppressed=%llu "
		    "handshake_failures=%llu peers_rejected=%llu "
		    "malformed_records=%llu", (unsigned long long)n,
		    (unsigned long long)cr.c.handshake_failures,
		    (unsigned long long)cr.c.peers_rejected,
		    (unsigned long long)cr.c.malformed_records);
	if (ratelim_flush(&cr.rl_refuse, now, &n))
		audit("event=suppressed what=refused suppressed=%llu "
		    "refused_pending=%llu refused_source=%llu",
		    (unsigned long long)n,
		    (unsigned long long)cr.c.refused_pending,
		    (unsigned long long)cr.c.refused_source);
	if (ratelim_flush(&cr.rl_udp, now, &n))
		audit("event=suppressed what=datagram_dropped suppressed=%llu "
		    "total=%llu", (unsigned long long)n,
		    (unsigned long long)(cr.c.udp_drop_malformed +
		    cr.c.udp_drop_unknown_id + cr.c.udp_drop_replay +
		    cr.c.udp_drop_old_epoch + cr.c.udp_drop_future_epoch +
		    cr.c.udp_drop_tag + cr.c.udp_drop_error));
}

/*
 * Returns the number of descriptors; *busy is set when work is waiting
 * that poll() would not report: frames left in the ring, or a link with
 * data buffered in OpenSSL after it ran out of its read budget.
 */
static nfds_t
crypt_pollset(int *busy)
{
	nfds_t	 n = 0;
	size_t	 i;

	*busy = ring_pending(&cr.from_capture_ring);

	pfd[n].fd = FD_MONITOR;
	pfd[n].events = POLLIN;
	pfl[n++] = NULL;
	pfd[n].fd = cr.from_capture_ring.bell;
	pfd[n].events = POLLIN;
	pfl[n++] = NULL;
	if (cr.listen_fd != -1) {
		pfd[n].fd = cr.listen_fd;
		pfd[n].events = POLLIN;
		pfl[n++] = NULL;
	}
	for (i = 0; i < cr.nlinks; i++) {
		struct link *l = cr.links[i];

		pfd[n].fd = l->fd;
		pfd[n].events = POLLIN;
		if (l->state == L_CONNECTING || l->want_write ||
		    l->woff < l->wlen)
			pfd[n].events |= POLLOUT;
		pfl[n++] = l;
		if (link_backlog(l))
			*busy = 1;
	}
	/*
	 * After the links: a host's UDP offer (TLS) and its first probe
	 * (UDP) often arrive in the same round, and the offer must be
	 * read first for the probe to find its link ready.
	 */
	for (i = 0; i < 2; i++) {
		if (cr.udp_fd[i] == -1)
			continue;
		pfd[n].fd = cr.udp_fd[i];
		pfd[n].events = POLLIN;
		pfl[n++] = NULL;
	}
	return n;
}

static void
crypt_loop(struct msg_chan *data, struct msg_chan *bell)
{
	nfds_t	 n, i;
	size_t	 k;
	uint64_t now;
	int	 busy;

	while (!worker_quit) {
		if (cr.conf.role == CONF_ROLE_HOST)
			link_dial(&cr);
		n = crypt_pollset(&busy);
		/* Work left over by a fairness bound: no sleeping. */
		if (poll(pfd, n, busy ? 0 : 200) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents && worker_ctl(crypt_stats,
		    sizeof(crypt_stats) / sizeof(crypt_stats[0]),
		    crypt_report) == -1)
			return;
		crypt_reload_pending(&cr);
		if (pfd[1].revents || ring_pending(&cr.from_capture_ring))
			crypt_data(data, bell);
		for (i = 2; i < n; i++) {
			if (pfd[i].revents == 0 && (pfl[i] == NULL ||
			    !link_backlog(pfl[i])))
				continue;
			if (pfl[i] == NULL && pfd[i].fd == cr.listen_fd)
				link_accept(&cr);
			else if (pfl[i] == NULL)
				udp_read(&cr, pfd[i].fd);
			else if (pfl[i]->state != L_DEAD)
				link_io(&cr, pfl[i], pfd[i].revents);
		}
		now = now_ms();
		fwd_age(&cr, now);
		tls_crl_due(&cr, now);
		crypt_suppressed(now);
		for (k = 0; k < cr.nlinks; k++) {
			link_timers(&cr, cr.links[k], now);
			udp_timers(&cr, cr.links[k], now);
			if (cr.links[k]->woff < cr.links[k]->wlen)
				link_flush(&cr, cr.links[k]);
		}
		udp_flush(&cr);
		fwd_flush_inject(&cr);
		crypt_reload_pending(&cr);
		link_reap(&cr);
	}
}

static struct worker_role crypt_role;

/*
 * Everything before the drop: the setup it was given checked, the TLS
 * context loaded from memory, the forwarding table, the rings. crypt
 * holds no network capability; it reads nothing from the network yet.
 */
static void
crypt_open(void *arg)
{
	struct crypt		*c = arg;
	const struct worker_fds	*fds = privsep_worker_fds(SANDBOX_CRYPT);
	size_t			 i;

	if (c->pem[0] == NULL || c->pem[1] == NULL)
		fatalx("setup: key material missing");
	if (c->conf.role == CONF_ROLE_PROXY && c->listen_fd == -1)
		fatalx("setup: no listening socket");
	if (c->conf.role == CONF_ROLE_HOST && !c->have_connect)
		fatalx("setup: no proxy address");
	if (c->listen_fd != -1 && fcntl(c->listen_fd, F_SETFL,
	    fcntl(c->listen_fd, F_GETFL) | O_NONBLOCK) == -1)
		fatal("setup: listen socket");
	c->ctx = tls_ctx(c);
	if (fwd_init(c) == -1)
		fatal("setup: forwarding table");
	if (ring_attach(&c->from_capture_ring, fds->ring_in, fds->bell_in,
	    0) == -1 || ring_attach(&c->to_inject_ring, fds->ring_out,
	    fds->bell_out, 1) == -1)
		fatal("setup: data rings");
	ring_batch_start(&c->to_inject_ring, &c->to_inject, injbuf);
	ratelim_init(&c->rl_drop, 10, 1000);
	ratelim_init(&c->rl_unauth, 10, 1000);
	ratelim_init(&c->rl_event, 20, 1000);
	ratelim_init(&c->rl_refuse, 5, 1000);
	ratelim_init(&c->rl_udp, 10, 1000);
	for (i = 0; i < 2; i++)
		if (c->udp_fd[i] != -1 && fcntl(c->udp_fd[i], F_SETFL,
		    fcntl(c->udp_fd[i], F_GETFL) | O_NONBLOCK) == -1)
			fatal("setup: udp socket");
	/*
	 * Known only now, from the configuration: the proxy's crypt is
	 * confined to accepting, the host's to dialing.
	 */
	crypt_role.sandbox = c->conf.role == CONF_ROLE_PROXY ?
	    SANDBOX_CRYPT_PROXY : SANDBOX_CRYPT;
}

static struct worker_role crypt_role = { .sandbox = SANDBOX_CRYPT,
    .ctl = &crypt_ctl, .nofile = CRYPT_MAXLINKS + 16, .open = crypt_open };

int
main(int argc, char *argv[])
{
	struct msg_chan	 data, bell;
	size_t		 i;

	worker_init(argc, argv, "crypt");
	/*
	 * Keep large buffers (links' record buffers, TLS read buffers)
	 * mmap()ed, so closing a link returns them: glibc's moving threshold
	 * would put them in the heap, where churn keeps pages resident.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	cr.listen_fd = cr.udp_fd[0] = cr.udp_fd[1] = -1;
	cr.redial_ms = RECONNECT_MIN_MS;
	msg_chan_init(&data, "capture", &msg_tab_frames);
	msg_chan_init(&bell, "capture", &msg_tab_wake);
	worker_start(&crypt_role, &cr.conf, &cr);

	crypt_loop(&data, &bell);

	for (i = 0; i < cr.nlinks; i++)
		link_close(&cr, cr.links[i], "shutdown", WIRE_CLOSE_SHUTDOWN);
	link_reap(&cr);
	SSL_CTX_free(cr.ctx);
	free(cr.macs);
	free(cr.fwd);
	ring_detach(&cr.from_capture_ring);
	ring_detach(&cr.to_inject_ring);
	conf_free(&cr.conf);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * The UDP data channel. A link's TLS stream stays its control channel:
 * both ends offer UDP there (WIRE_UDP: the receiver id each wants, its
 * AEAD, its rekey limit, the proxy's port), and the keys of every
 * direction and epoch come from that TLS session's exporter. Frames
 * then travel as datagrams (lib/dgram.c) when UDP gets through, and in
 * the TLS stream when it does not.
 *
 * The host decides which: it probes UDP, moves its link onto UDP when
 * the proxy's acknowledgement comes back, off it when acknowledgements
 * stop for UDP_DEAD_MS, and says so in a WIRE_TRANSPORT record, which
 * the proxy follows. A frame too big for a datagram is cut (a TCP
 * super-frame, lib/offload.c) or goes in the TLS stream; MSS clamping
 * keeps TCP's segments within a datagram. Every datagram that fails a
 * check is dropped, counted under its reason and audited, and touches
 * nothing else.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypt/crypt.h"
#include "lib/bytes.h"
#include "lib/mss.h"
#include "lib/offload.h"
#include "lib/tcpmerge.h"
#include "privsep/log.h"
#include "privsep/worker.h"

#define UDP_BATCH	64		/* datagrams per sendmmsg/recvmmsg */
#define UDP_BUF		9216		/* > CONF_WAN_MTU_MAX */
#define UDP_READ_ROUNDS	4		/* recvmmsg calls per loop round */
#define UDP_PROBE_MS	500		/* on UDP, and just after a switch */
#define UDP_DEAD_MS	1500		/* on UDP: no ack for this long */
#define UDP_FAST_PROBES	6		/* on TCP: at UDP_PROBE_MS first */
#define RID_TAB		4096		/* > CRYPT_MAXLINKS, a power of 2 */

static const char LABEL_H2P[] = "EXPORTER-vnet-udp host to proxy";
static const char LABEL_P2H[] = "EXPORTER-vnet-udp proxy to host";

/* Datagrams sealed this round, sent with one sendmmsg per socket. */
static struct {
	int			 fd;
	unsigned		 n;
	struct mmsghdr		 m[UDP_BATCH];
	struct iovec		 iov[UDP_BATCH];
	struct sockaddr_storage	 to[UDP_BATCH];
	uint8_t			 buf[UDP_BATCH][UDP_BUF];
} out = { .fd = -1 };

/* Datagrams received, and their plaintext. */
static struct {
	struct mmsghdr		 m[UDP_BATCH];
	struct iovec		 iov[UDP_BATCH];
	struct sockaddr_storage	 from[UDP_BATCH];
	uint8_t			 buf[UDP_BATCH][UDP_BUF];
} in;
static uint8_t	 plain[UDP_BUF];
static uint8_t	 scratch[VNET_FRAME_MAX];
static uint8_t	 segs[OFFLOAD_SEG_MAX * UDP_BUF];
static size_t	 seglens[OFFLOAD_SEG_MAX];

/* Receiver id -> link, open addressing. */
static struct link	*rids[RID_TAB];

static size_t
rid_slot(uint32_t rid)
{
	return (rid * 2654435761u) & (RID_TAB - 1);
}

static struct link *
rid_find(uint32_t rid)
{
	size_t	 i, s = rid_slot(rid);

	for (i = 0; i < RID_TAB; i++, s = (s + 1) & (RID_TAB - 1)) {
		if (rids[s] == NULL)
			return NULL;
		if (rids[s]->udp->rid == rid)
			return rids[s];
	}
	return NULL;
}

/* A fresh, nonzero id no other link has. */
static int
rid_add(struct link *l)
{
	uint32_t	 rid;
	size_t		 s;
	int		 tries;

	for (tries = 0; tries < 16; tries++) {
		if (RAND_bytes((unsigned char *)&rid, sizeof(rid)) != 1)
			return -1;
		if (rid == 0 || rid_find(rid) != NULL)
			continue;
		l->udp->rid = rid;
		for (s = rid_slot(rid); rids[s] != NULL;
		    s = (s + 1) & (RID_TAB - 1))
			;
		rids[s] = l;
		return 0;
	}
	return -1;
}

/* Remove, then re-insert the rest of the cluster (no tombstones). */
static void
rid_del(struct link *l)
{
	size_t		 s, i;
	struct link	*m;

	for (s = rid_slot(l->udp->rid), i = 0; i < RID_TAB && rids[s] != l;
	    i++, s = (s + 1) & (RID_TAB - 1))
		if (rids[s] == NULL)
			return;
	if (rids[s] != l)
		return;
	rids[s] = NULL;
	for (s = (s + 1) & (RID_TAB - 1); rids[s] != NULL;
	    s = (s + 1) & (RID_TAB - 1)) {
		m = rids[s];
		rids[s] = NULL;
		for (i = rid_slot(m->udp->rid); rids[i] != NULL;
		    i = (i + 1) & (RID_TAB - 1))
			;
		rids[i] = m;
	}
}

int
udp_add_socket(struct crypt *cr, uint16_t family, int fd)
{
	size_t	 i = family == AF_INET6 ? 1 : 0;

	if (cr->udp_fd[i] != -1)
		return -1;
	cr->udp_fd[i] = fd;
	return 0;
}

/* Keys of one direction and epoch from the TLS session (RFC 8446, 7.5). */
static int
udp_derive(void *arg, uint32_t epoch, uint8_t key[DGRAM_KEY_LEN],
    uint8_t iv[DGRAM_IV_LEN])
{
	const struct udp_dir	*d = arg;
	uint8_t			 km[DGRAM_KEY_LEN + DGRAM_IV_LEN], ctx[4];
	const char		*label = d->h2p ? LABEL_H2P : LABEL_P2H;
	int			 rv;

	put_be32(ctx, epoch);
	rv = SSL_export_keying_material(d->link->ssl, km, sizeof(km), label,
	    strlen(label), ctx, sizeof(ctx), 1);
	if (rv == 1) {
		memcpy(key, km, DGRAM_KEY_LEN);
		memcpy(iv, km + DGRAM_KEY_LEN, DGRAM_IV_LEN);
	}
	OPENSSL_cleanse(km, sizeof(km));
	return rv == 1 ? 0 : -1;
}

static const char *
udp_host_name(const struct link *l)
{
	return l->host ? l->host->name : "proxy";
}

/* Counted always; the address is formatted only for a record. */
static void
udp_drop(struct crypt *cr, const struct link *l,
    const struct sockaddr_storage *from, const char *reason, uint64_t *ctr)
{
	uint64_t	 supp;
	char		 peer[64];

	(*ctr)++;
	if (l != NULL)
		l->udp->drops++;
	if (!ratelim_allow(&cr->rl_udp, now_ms(), &supp))
		return;
	link_peername(from, peer, sizeof(peer));
	audit("event=datagram_dropped peer=%s host=%s reason=%s "
	    "total=%llu suppressed=%llu", peer, l ? udp_host_name(l) : "-",
	    reason, (unsigned long long)*ctr, (unsigned long long)supp);
}

/* The counter a refusal from lib/dgram.c goes under. */
static uint64_t *
udp_ctr(struct crypt *cr, int err)
{
	switch (-err) {
	case DGRAM_E_REPLAY:
		return &cr->c.udp_drop_replay;
	case DGRAM_E_OLD_EPOCH:
		return &cr->c.udp_drop_old_epoch;
	case DGRAM_E_FUTURE_EPOCH:
		return &cr->c.udp_drop_future_epoch;
	case DGRAM_E_TAG:
		return &cr->c.udp_drop_tag;
	case DGRAM_E_CRYPTO:
	case DGRAM_E_SPACE:
		return &cr->c.udp_drop_error;
	default:
		return &cr->c.udp_drop_malformed;
	}
}

/* Which socket serves a peer of this family; -1 if none. */
static int
udp_fd_for(const struct crypt *cr, int family)
{
	if (cr->conf.role == CONF_ROLE_PROXY)
		return cr->udp_fd[0];
	return cr->udp_fd[family == AF_INET6 ? 1 : 0];
}

/* The largest frame one datagram carries over this link's WAN path. */
static size_t
udp_max_frame(const struct crypt *cr, int family)
{
	size_t	 ip = family == AF_INET6 ? 40 : 20;

	return cr->conf.wan_mtu - ip - 8 - DGRAM_OVERHEAD;
}

static void
udp_send_offer(struct crypt *cr, struct link *l)
{
	struct wire_udp	 w;
	uint8_t		 rec[WIRE_HDR_LEN + WIRE_UDP_LEN];
	ssize_t		 n;

	memset(&w, 0, sizeof(w));
	w.aead = DGRAM_AES_256_GCM;
	w.rid = l->udp->rid;
	w.port = cr->conf.role == CONF_ROLE_PROXY ? cr->conf.listen_port : 0;
	w.epoch_packets = cr->conf.rekey_packets;
	if ((n = wire_encode_udp(rec, sizeof(rec), &w)) > 0)
		link_send_record(cr, l, rec, (size_t)n);
}

/*
 * The peer's hello is in: offer UDP, unless this side carries frames
 * over TCP only or has no socket for the peer's family.
 */
void
udp_link_up(struct crypt *cr, struct link *l)
{
	struct link_udp	*u;

	if (cr->conf.transport == CONF_TRANSPORT_TCP ||
	    udp_fd_for(cr, l->addr.ss_family) == -1)
		return;
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		log_warnx("event=error what=udp peer=%s reason=\"out of "
		    "memory\"", l->peer);
		return;
	}
	l->udp = u;
	u->fd = udp_fd_for(cr, l->addr.ss_family);
	u->max_frame = udp_max_frame(cr, l->addr.ss_family);
	u->mss4 = mss_for_frame(u->max_frame, 0);
	u->mss6 = mss_for_frame(u->max_frame, 1);
	u->dtx.link = u->drx.link = l;
	u->dtx.h2p = cr->conf.role == CONF_ROLE_HOST;
	u->drx.h2p = !u->dtx.h2p;
	if (rid_add(l) == -1) {
		log_warnx("event=error what=udp peer=%s reason=\"no receiver "
		    "id\"", l->peer);
		free(u);
		l->udp = NULL;
		return;
	}
	udp_send_offer(cr, l);
}

static void	udp_forget_held(const struct link *);

void
udp_link_gone(struct crypt *cr, struct link *l)
{
	(void)cr;
	if (l->udp == NULL)
		return;
	udp_forget_held(l);
	rid_del(l);
	dgram_tx_free(&l->udp->tx);
	dgram_rx_free(&l->udp->rx);
	free(l->udp);
	l->udp = NULL;
}

static void
udp_audit_switch(struct crypt *cr, struct link *l, uint8_t from,
    const char *why)
{
	cr->c.transport_switches++;
	audit("event=transport peer=%s host=%s from=%s to=%s reason=\"%s\"",
	    l->peer, udp_host_name(l), from == WIRE_TRANSPORT_UDP ? "udp" :
	    "tcp", l->transport == WIRE_TRANSPORT_UDP ? "udp" : "tcp", why);
}

/* Host: carry this link's frames on `to` from now, and tell the proxy. */
static void
udp_switch(struct crypt *cr, struct link *l, uint8_t to, const char *why)
{
	uint8_t		 rec[WIRE_HDR_LEN + 1], from = l->transport;
	ssize_t		 n;
	uint64_t	 now = now_ms();

	if (from == to)
		return;
	l->transport = to;
	l->udp->switched_ms = now;
	l->udp->fast_probes = 0;
	l->udp->probe_at_ms = now + (to == WIRE_TRANSPORT_UDP ? UDP_PROBE_MS :
	    0);
	if ((n = wire_encode_transport(rec, sizeof(rec), to)) > 0)
		link_send_record(cr, l, rec, (size_t)n);
	udp_audit_switch(cr, l, from, why);
}

/* Host: point its socket at the proxy's address and announced port. */
static int
udp_host_peer(struct crypt *cr, struct link *l, uint16_t port)
{
	struct link_udp	*u = l->udp;

	(void)cr;
	u->peer = l->addr;
	if (u->peer.ss_family == AF_INET) {
		((struct sockaddr_in *)&u->peer)->sin_port = htons(port);
		u->peerlen = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&u->peer)->sin6_port = htons(port);
		u->peerlen = sizeof(struct sockaddr_in6);
	}
	/* Connected: the kernel drops datagrams from anyone else. */
	if (connect(u->fd, (struct sockaddr *)&u->peer, u->peerlen) == -1) {
		log_warn("event=error what=udp_connect peer=%s", l->peer);
		return -1;
	}
	u->have_peer = 1;
	return 0;
}

/* The peer's WIRE_UDP: both ends offered, so keys can be derived. */
int
udp_on_offer(struct crypt *cr, struct link *l, const uint8_t *p, size_t len)
{
	struct link_udp	*u = l->udp;
	struct wire_udp	 w;
	char		 why[128];
	int		 rv;

	if ((rv = wire_parse_udp(p, len, CONF_REKEY_MIN, CONF_REKEY_MAX,
	    &w)) != 0 || (cr->conf.role == CONF_ROLE_HOST && w.port == 0)) {
		snprintf(why, sizeof(why), "bad udp offer: %s",
		    wire_strerror(rv != 0 ? rv : -WIRE_E_UDP));
		link_malformed(cr, l, why);
		return -1;
	}
	if (u == NULL)		/* we carry frames over TCP only */
		return 0;
	if (u->ready) {
		link_malformed(cr, l, "udp offer repeated");
		return -1;
	}
	if (dgram_tx_init(&u->tx, DGRAM_AES_256_GCM, cr->conf.rekey_packets,
	    w.rid, udp_derive, &u->dtx) != 0 ||
	    dgram_rx_init(&u->rx, w.aead, w.epoch_packets, udp_derive,
	    &u->drx) != 0 ||
	    (cr->conf.role == CONF_ROLE_HOST && udp_host_peer(cr, l,
	    w.port) == -1)) {
		log_warnx("event=error what=udp peer=%s reason=\"cannot set "
		    "up the data channel\"", l->peer);
		udp_link_gone(cr, l);
		return 0;
	}
	u->ready = 1;
	log_info("event=udp_ready peer=%s host=%s aead_tx=%s aead_rx=%s "
	    "max_frame=%zu mss=%u", l->peer, udp_host_name(l),
	    dgram_aead_name(DGRAM_AES_256_GCM), dgram_aead_name(w.aead),
	    u->max_frame, u->mss4);
	if (cr->conf.role == CONF_ROLE_HOST &&
	    cr->conf.transport == CONF_TRANSPORT_UDP)
		udp_switch(cr, l, WIRE_TRANSPORT_UDP, "transport udp");
	return 0;
}

/* The host's WIRE_TRANSPORT: the proxy sends as the host does. */
int
udp_on_transport(struct crypt *cr, struct link *l, const uint8_t *p,
    size_t len)
{
	uint8_t	 t, from = l->transport;

	if (cr->conf.role != CONF_ROLE_PROXY ||
	    wire_parse_transport(p, len, &t) != 0 ||
	    (t == WIRE_TRANSPORT_UDP && (l->udp == NULL || !l->udp->ready))) {
		link_malformed(cr, l, "bad transport record");
		return -1;
	}
	if (t == from)
		return 0;
	l->transport = t;
	udp_audit_switch(cr, l, from, "the host's choice");
	return 0;
}

void
udp_flush(struct crypt *cr)
{
	/*
	 * Its own limit: sharing rl_udp would swallow the suppressed
	 * count of datagram drops that this record cannot report.
	 */
	static struct ratelim	 rl_send = { .burst = 10, .period_ms = 1000 };
	uint64_t		 supp;
	unsigned		 done = 0;
	int			 n;

	while (done < out.n) {
		n = sendmmsg(out.fd, out.m + done, out.n - done, 0);
		if (n > 0) {
			done += (unsigned)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		/*
		 * A full socket buffer, or on a host an ICMP error from an
		 * earlier datagram: what is left is lost, as on a lossy
		 * path, and the VM's TCP resends it.
		 */
		cr->c.udp_send_errors += out.n - done;
		if (errno != EAGAIN && errno != ENOBUFS &&
		    errno != ECONNREFUSED && ratelim_allow(&rl_send,
		    now_ms(), &supp))
			log_warn("event=error what=udp_send suppressed=%llu",
			    (unsigned long long)supp);
		break;
	}
	out.n = 0;
}

/* Seal one plaintext for this link into the batch. */
static int
udp_seal(struct crypt *cr, struct link *l, uint8_t type, const uint8_t *pt,
    size_t len)
{
	struct link_udp	*u = l->udp;
	unsigned	 i;
	ssize_t		 n;

	if (out.n == UDP_BATCH || (out.n > 0 && out.fd != u->fd))
		udp_flush(cr);
	i = out.n;
	n = dgram_seal(&u->tx, type, pt, len, out.buf[i], UDP_BUF);
	if (n < 0) {
		cr->c.udp_send_errors++;
		if (n == -DGRAM_E_EXHAUSTED)
			link_close(cr, l, "udp key space used up",
			    WIRE_CLOSE_SHUTDOWN);
		return -1;
	}
	out.fd = u->fd;
	out.iov[i].iov_base = out.buf[i];
	out.iov[i].iov_len = (size_t)n;
	memset(&out.m[i], 0, sizeof(out.m[i]));
	out.m[i].msg_hdr.msg_iov = &out.iov[i];
	out.m[i].msg_hdr.msg_iovlen = 1;
	if (cr->conf.role == CONF_ROLE_PROXY) {
		memcpy(&out.to[i], &u->peer, u->peerlen);
		out.m[i].msg_hdr.msg_name = &out.to[i];
		out.m[i].msg_hdr.msg_namelen = u->peerlen;
	}
	out.n++;
	if (u->tx.rekeys != u->tx_rekeys_seen) {
		u->tx_rekeys_seen = u->tx.rekeys;
		cr->c.udp_rekeys++;
	}
	return 0;
}

static int
udp_seal_frame(struct crypt *cr, struct link *l, const uint8_t *f,
    size_t len)
{
	if (udp_seal(cr, l, DGRAM_DATA, f, len) == -1)
		return -1;
	l->udp->tx_frames++;
	cr->c.udp_tx_frames++;
	return 0;
}

/*
 * A frame larger than a datagram: a TCP super-frame is cut into
 * segments that fit (lib/offload.c, as inject would); 0 sends anything
 * else whole in the TLS stream instead.
 */
static int
udp_send_cut(struct crypt *cr, struct link *l, const uint8_t *f, size_t len)
{
	struct virtio_net_hdr	 vh;
	struct frame_info	 fi;
	size_t			 n, nseg, i, off;
	int			 rv;

	if (len > sizeof(scratch) || frame_parse(f, len, &fi) != 0 ||
	    fi.l3_off >= l->udp->max_frame)
		goto tcp;
	memcpy(scratch, f, len);
	rv = offload_prepare(scratch, len, l->udp->max_frame - fi.l3_off, &vh,
	    &n);
	if (rv < 0)
		goto tcp;
	if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return n <= l->udp->max_frame ? udp_seal_frame(cr, l, scratch,
		    n) == 0 : 0;
	if (offload_segment(scratch, n, &vh, segs, sizeof(segs), seglens,
	    OFFLOAD_SEG_MAX, &nseg) != 0)
		goto tcp;
	cr->c.udp_cut++;
	for (i = 0, off = 0; i < nseg; off += seglens[i++])
		if (udp_seal_frame(cr, l, segs + off, seglens[i]) == -1)
			return -1;
	return 1;
tcp:
	cr->c.udp_oversize_tcp++;
	return 0;
}

/*
 * 1: sent (or dropped and counted) as datagrams; 0: the caller sends
 * it in the TLS stream.
 */
int
udp_send_frame(struct crypt *cr, struct link *l, const uint8_t *f,
    size_t len)
{
	struct link_udp	*u = l->udp;

	if (u == NULL || !u->ready || !u->have_peer ||
	    l->transport != WIRE_TRANSPORT_UDP)
		return 0;
	if (len <= u->max_frame) {
		(void)udp_seal_frame(cr, l, f, len);
		return 1;
	}
	return udp_send_cut(cr, l, f, len) != 0;
}

/*
 * A TCP SYN on its way to a link that may carry UDP: lower its MSS so
 * that the connection's segments fit a datagram, whichever transport
 * carries them later. Returns the frame to send (f or a clamped copy).
 */
const uint8_t *
udp_clamp(struct crypt *cr, struct link *l, const uint8_t *f, size_t len)
{
	static uint8_t	 syn[256];

	if (l->udp == NULL || len > sizeof(syn))
		return f;
	memcpy(syn, f, len);
	if (mss_clamp(syn, len, l->udp->mss4, l->udp->mss6) != 1)
		return f;
	cr->c.mss_clamped++;
	return syn;
}

static void
udp_probe(struct crypt *cr, struct link *l, uint64_t now)
{
	struct link_udp	*u = l->udp;
	uint8_t		 id[DGRAM_PROBE_LEN];

	u->probe_id++;
	put_be32(id, (uint32_t)(u->probe_id >> 32));
	put_be32(id + 4, (uint32_t)u->probe_id);
	if (udp_seal(cr, l, DGRAM_PROBE, id, sizeof(id)) == 0)
		cr->c.udp_probes++;
	if (l->transport == WIRE_TRANSPORT_UDP ||
	    u->fast_probes++ < UDP_FAST_PROBES)
		u->probe_at_ms = now + UDP_PROBE_MS;
	else
		u->probe_at_ms = now + (uint64_t)cr->conf.udp_probe * 1000;
}

/* Host: probe, and leave UDP when its acknowledgements stop. */
void
udp_timers(struct crypt *cr, struct link *l, uint64_t now)
{
	struct link_udp	*u = l->udp;

	if (u == NULL || !u->ready || l->state != L_UP ||
	    cr->conf.role != CONF_ROLE_HOST)
		return;
	if (l->transport == WIRE_TRANSPORT_UDP &&
	    cr->conf.transport != CONF_TRANSPORT_UDP &&
	    now - u->last_ack_ms > UDP_DEAD_MS &&
	    now - u->switched_ms > UDP_DEAD_MS)
		udp_switch(cr, l, WIRE_TRANSPORT_TCP, "no udp reply for "
		    "1500 ms");
	if (l->state == L_UP && now >= u->probe_at_ms)
		udp_probe(cr, l, now);
}

static void
udp_on_probe(struct crypt *cr, struct link *l, const uint8_t *id,
    size_t len)
{
	if (cr->conf.role == CONF_ROLE_PROXY) {
		/* Answered over UDP: the reply is the test of that path. */
		(void)udp_seal(cr, l, DGRAM_PROBE_ACK, id, len);
		return;
	}
	cr->c.udp_probes_unasked++;
}

static void
udp_on_ack(struct crypt *cr, struct link *l, const uint8_t *id, size_t len)
{
	struct link_udp	*u = l->udp;
	uint64_t	 got;

	if (cr->conf.role != CONF_ROLE_HOST || len != DGRAM_PROBE_LEN)
		return;
	got = (uint64_t)get_be32(id) << 32 | get_be32(id + 4);
	/* Only an answer to one of ours, and not from long ago. */
	if (got == 0 || got > u->probe_id || u->probe_id - got > 8)
		return;
	u->last_ack_ms = now_ms();
	if (l->transport != WIRE_TRANSPORT_UDP)
		udp_switch(cr, l, WIRE_TRANSPORT_UDP, "udp probe answered");
}

/* The source of a verified datagram is where the proxy answers. */
static void
udp_learn_peer(struct link *l, const struct sockaddr_storage *from,
    socklen_t fromlen)
{
	struct link_udp	*u = l->udp;
	char		 udp[64];

	if (u->have_peer && u->peerlen == fromlen &&
	    memcmp(&u->peer, from, fromlen) == 0)
		return;
	memcpy(&u->peer, from, fromlen);
	u->peerlen = fromlen;
	u->have_peer = 1;
	/* Where datagrams go now: the TLS peer alone does not say. */
	link_peername(from, udp, sizeof(udp));
	log_info("event=udp_peer peer=%s host=%s udp=%s", l->peer,
	    udp_host_name(l), udp);
}

/*
 * Frames received as datagrams wait here, joined while they are the
 * next segments of one TCP flow (lib/tcpmerge.c), and go on when the
 * next frame does not join, and at the end of each recvmmsg batch:
 * inject then hands the kernel one GSO frame, not dozens of segments.
 */
static struct {
	struct link	*link;
	size_t		 len;
	uint8_t		 buf[VNET_FRAME_MAX];
} held;

static void
udp_forget_held(const struct link *l)
{
	if (held.link == l)
		held.link = NULL;
}

static void
udp_release(struct crypt *cr)
{
	if (held.link != NULL && held.link->state == L_UP)
		fwd_from_link(cr, held.link, held.buf, held.len);
	held.link = NULL;
}

static void
udp_hold(struct crypt *cr, struct link *l, const uint8_t *f, size_t n)
{
	if (held.link == l && tcpmerge(held.buf, &held.len, sizeof(held.buf),
	    f, n)) {
		cr->c.udp_joined++;
		return;
	}
	udp_release(cr);
	memcpy(held.buf, f, n);
	held.len = n;
	held.link = l;
}

static void
udp_deliver(struct crypt *cr, struct link *l, uint8_t type, size_t n)
{
	switch (type) {
	case DGRAM_DATA:
		l->rx_frames++;
		l->rx_bytes += n;
		l->udp->rx_frames++;
		cr->c.rx_frames++;
		cr->c.rx_bytes += n;
		cr->c.udp_rx_frames++;
		udp_hold(cr, l, plain, n);
		break;
	case DGRAM_PROBE:
		udp_on_probe(cr, l, plain, n);
		break;
	case DGRAM_PROBE_ACK:
		udp_on_ack(cr, l, plain, n);
		break;
	}
}

static void
udp_datagram(struct crypt *cr, unsigned i)
{
	struct dgram_hdr h;
	struct link	*l;
	size_t		 len = in.m[i].msg_len;
	ssize_t		 n;
	uint64_t	 top;
	int		 rv, fresh;

	if (in.m[i].msg_hdr.msg_flags & MSG_TRUNC) {
		udp_drop(cr, NULL, &in.from[i], "too_long",
		    &cr->c.udp_drop_malformed);
		return;
	}
	if ((rv = dgram_parse(in.buf[i], len, &h)) != 0) {
		udp_drop(cr, NULL, &in.from[i], dgram_reason(rv),
		    udp_ctr(cr, rv));
		return;
	}
	if ((l = rid_find(h.rid)) == NULL || l->state != L_UP) {
		udp_drop(cr, NULL, &in.from[i], "unknown_id",
		    &cr->c.udp_drop_unknown_id);
		return;
	}
	/* Its peer's offer is still on the way over TLS. */
	if (!l->udp->ready) {
		udp_drop(cr, l, &in.from[i], "not_ready",
		    &cr->c.udp_drop_unknown_id);
		return;
	}
	top = l->udp->rx.win.top;
	fresh = !l->udp->rx.win.any;
	n = dgram_rx_open(&l->udp->rx, &h, now_ms(), plain, sizeof(plain));
	if (n < 0) {
		udp_drop(cr, l, &in.from[i], dgram_reason((int)n), udp_ctr(cr,
		    (int)n));
		return;
	}
	if (l->udp->rx.rekeys != l->udp->rx_rekeys_seen) {
		l->udp->rx_rekeys_seen = l->udp->rx.rekeys;
		cr->c.udp_rekeys++;
	}
	/* Only the newest datagram may move the proxy's idea of the host. */
	if (cr->conf.role == CONF_ROLE_PROXY && (fresh || h.ctr > top))
		udp_learn_peer(l, &in.from[i], in.m[i].msg_hdr.msg_namelen);
	udp_deliver(cr, l, h.type, (size_t)n);
}

/* Read what the socket holds, up to a bound per round of the loop. */
void
udp_read(struct crypt *cr, int fd)
{
	unsigned	 i;
	int		 n, r;

	for (r = 0; r < UDP_READ_ROUNDS; r++) {
		for (i = 0; i < UDP_BATCH; i++) {
			in.iov[i].iov_base = in.buf[i];
			in.iov[i].iov_len = UDP_BUF;
			memset(&in.m[i], 0, sizeof(in.m[i]));
			in.m[i].msg_hdr.msg_iov = &in.iov[i];
			in.m[i].msg_hdr.msg_iovlen = 1;
			in.m[i].msg_hdr.msg_name = &in.from[i];
			in.m[i].msg_hdr.msg_namelen = sizeof(in.from[i]);
		}
		n = recvmmsg(fd, in.m, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			/* A host's ICMP errors come back here: not fatal. */
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				cr->c.udp_recv_errors++;
			return;
		}
		for (i = 0; i < (unsigned)n; i++)
			udp_datagram(cr, i);
		udp_release(cr);
		if (n < UDP_BATCH)
			return;
	}
}

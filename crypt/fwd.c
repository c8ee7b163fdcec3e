/* SPDX-License-Identifier: ISC */
/*
 * Forwarding: lib/fwd.c decides where each frame goes (the rules and
 * their tests live there); this file carries the verdict out: it sends,
 * counts every drop under its reason, and audits moves and frames from
 * unauthorized source MACs. A peer never decides what it may send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypt/crypt.h"
#include "lib/macset.h"
#include "privsep/log.h"
#include "privsep/worker.h"

int
fwd_init(struct crypt *cr)
{
	size_t	 i, total = 0, off = 0;

	if (cr->conf.role == CONF_ROLE_HOST)
		total = cr->conf.nvms;
	else
		for (i = 0; i < cr->conf.nhosts; i++)
			total += cr->conf.hosts[i].nmacs;
	cr->macs = calloc(total ? total : 1, sizeof(conf_mac));
	cr->fwd = calloc(total ? total : 1, sizeof(struct fwd_entry));
	if (cr->macs == NULL || cr->fwd == NULL)
		return -1;
	if (cr->conf.role == CONF_ROLE_HOST)
		memcpy(cr->macs, cr->conf.vms, total * sizeof(conf_mac));
	else
		for (i = 0; i < cr->conf.nhosts; i++) {
			memcpy(cr->macs + off, cr->conf.hosts[i].macs,
			    cr->conf.hosts[i].nmacs * sizeof(conf_mac));
			off += cr->conf.hosts[i].nmacs;
		}
	cr->nmacs = macset_build(cr->macs, total);
	return 0;
}

void
fwd_flush_inject(struct crypt *cr)
{
	uint64_t	 supp;
	size_t		 n = cr->to_inject.nframes;

	if (n == 0)
		return;
	if (ring_send_batch(&cr->to_inject_ring, &cr->to_inject) == 0)
		cr->c.to_inject += n;
	else {
		cr->c.drop_inject_full += n;
		if (ratelim_allow(&cr->rl_drop, now_ms(), &supp))
			log_warnx("event=drop reason=inject_channel_full "
			    "frames=%zu total=%llu suppressed=%llu", n,
			    (unsigned long long)cr->c.drop_inject_full,
			    (unsigned long long)supp);
	}
}

static void
fwd_to_inject(struct crypt *cr, const uint8_t *f, size_t len)
{
	if (!batch_add(&cr->to_inject, f, len)) {
		fwd_flush_inject(cr);
		(void)batch_add(&cr->to_inject, f, len);
	}
}

/* The table as lib/fwd.c sees it. */
static struct fwd_table
fwd_table(struct crypt *cr)
{
	struct fwd_table	 t = { .role = cr->conf.role, .macs = cr->macs,
				    .e = cr->fwd, .n = cr->nmacs };

	return t;
}

static int
fwd_usable(const struct link *l)
{
	return l != NULL && l->state == L_UP;
}

/* Every up link the verdict floods to; returns how many took it. */
static size_t
fwd_flood(struct crypt *cr, const struct fwd_verdict *v, const uint8_t *f,
    size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < cr->nlinks; i++) {
		struct link *l = cr->links[i];

		if (!fwd_usable(l) || !fwd_floods_to(v, l, l->host, f))
			continue;
		if (link_send_frame(cr, l, f, len) == 0)
			n++;
	}
	return n;
}

static void
fwd_unauthorized(struct crypt *cr, struct link *l, const uint8_t *src)
{
	char		 mac[18];
	uint64_t	 supp;

	cr->c.drop_mac_unauthorized++;
	if (ratelim_allow(&cr->rl_unauth, now_ms(), &supp))
		audit("event=drop reason=mac_unauthorized src=%s host=%s "
		    "peer=%s total=%llu suppressed=%llu", mac_format(src, mac),
		    l->host->name, l->peer,
		    (unsigned long long)cr->c.drop_mac_unauthorized,
		    (unsigned long long)supp);
}

static void
fwd_moved(struct crypt *cr, const struct link *from, const struct link *to,
    const uint8_t *src)
{
	char	 mac[18];

	cr->c.moves++;
	audit("event=mac_moved mac=%s from=%s to=%s peer=%s",
	    mac_format(src, mac), from->host ? from->host->name : "-",
	    to->host ? to->host->name : "-", to->peer);
}

/* Each drop has its counter; a spoofed source is also audited. */
static void
fwd_dropped(struct crypt *cr, enum fwd_drop why, struct link *l,
    const uint8_t *src)
{
	switch (why) {
	case FWD_PASS:
		break;
	case FWD_DROP_SRC_UNKNOWN:
		cr->c.drop_src_unknown++;
		break;
	case FWD_DROP_LOOP:
		cr->c.drop_loop++;
		break;
	case FWD_DROP_BAD_DST:
		cr->c.drop_bad_dst++;
		break;
	case FWD_DROP_UNAUTHORIZED:
		fwd_unauthorized(cr, l, src);
		break;
	case FWD_DROP_MOVE_LIMIT:
		cr->c.drop_move_limit++;
		break;
	}
}

/* Carry out a verdict for frame f, which came from link l (or capture). */
static void
fwd_apply(struct crypt *cr, struct link *l, const struct fwd_verdict *v,
    const uint8_t *f, size_t len)
{
	const uint8_t	*src = f + VNET_ETH_ALEN;

	if (v->moved_from != NULL)
		fwd_moved(cr, v->moved_from, l, src);
	if (v->drop != FWD_PASS) {
		fwd_dropped(cr, v->drop, l, src);
		return;
	}
	if (v->to & FWD_TO_INJECT)
		fwd_to_inject(cr, f, len);
	if ((v->to & FWD_TO_UPLINK) && (!fwd_usable(cr->uplink) ||
	    link_send_frame(cr, cr->uplink, f, len) == -1))
		cr->c.drop_no_link++;
	if ((v->to & FWD_TO_LINK) &&
	    link_send_frame(cr, v->link, f, len) == -1)
		cr->c.drop_no_link++;
	/* A unicast flood no link takes is a frame lost. */
	if ((v->to & FWD_TO_FLOOD) && fwd_flood(cr, v, f, len) == 0 &&
	    !mac_is_group(f))
		cr->c.drop_no_link++;
}

void
fwd_from_capture(struct crypt *cr, const uint8_t *f, size_t len)
{
	struct fwd_table	 t = fwd_table(cr);
	struct fwd_verdict	 v;

	cr->c.from_capture++;
	v = fwd_decide_capture(&t, f, f + VNET_ETH_ALEN);
	fwd_apply(cr, NULL, &v, f, len);
}

void
fwd_from_link(struct crypt *cr, struct link *l, const uint8_t *f, size_t len)
{
	struct fwd_table	 t = fwd_table(cr);
	struct fwd_src		 s = { .link = l, .host = l->host,
				    .moves = &l->rl_moves };
	struct fwd_verdict	 v;

	v = fwd_decide_link(&t, &s, f, f + VNET_ETH_ALEN, now_ms());
	fwd_apply(cr, l, &v, f, len);
}

void
fwd_link_gone(struct crypt *cr, struct link *l)
{
	struct fwd_table	 t = fwd_table(cr);

	fwd_forget(&t, l);
}

/* A MAC silent for FWD_AGE_MS is forgotten: floods find it again. */
void
fwd_age(struct crypt *cr, uint64_t now)
{
	struct fwd_table	 t = fwd_table(cr);

	cr->c.aged += fwd_expire(&t, now);
}

/* The table, for the operator: one MSG_MACS to the monitor. */
void
fwd_report(struct crypt *cr)
{
	static uint8_t	 buf[4 + MSG_MACS_MAX * sizeof(struct msg_mac)];
	struct msg_mac	 e;
	uint64_t	 now = now_ms();
	uint32_t	 total = 0;
	size_t		 i, n = 0;

	for (i = 0; i < cr->nmacs; i++) {
		const struct fwd_entry *f = &cr->fwd[i];

		if (f->link == NULL)
			continue;
		total++;
		if (n == MSG_MACS_MAX)
			continue;
		memset(&e, 0, sizeof(e));
		memcpy(e.mac, cr->macs[i], sizeof(e.mac));
		logsafe_copy(e.host, sizeof(e.host), f->link->host ?
		    f->link->host->name : "proxy");
		logsafe_copy(e.peer, sizeof(e.peer), f->link->peer);
		e.seen_ago_ms = now - f->seen_ms;
		e.moved_ago_ms = f->moved_ms ? now - f->moved_ms : MSG_NEVER;
		memcpy(buf + 4 + n++ * sizeof(e), &e, sizeof(e));
	}
	memcpy(buf, &total, sizeof(total));
	if (msg_send(FD_MONITOR, MSG_MACS, buf, 4 + n * sizeof(e)) == -1)
		log_warn("event=error what=report_macs");
}

/* The up links, for the operator: one MSG_LINKS to the monitor. */
void
fwd_report_links(struct crypt *cr)
{
	static uint8_t	 buf[4 + MSG_LINKS_MAX * sizeof(struct msg_link)];
	struct msg_link	 k;
	uint64_t	 now = now_ms();
	uint32_t	 total = 0;
	size_t		 i, n = 0;

	for (i = 0; i < cr->nlinks; i++) {
		const struct link *l = cr->links[i];

		if (l->state != L_UP)
			continue;
		total++;
		if (n == MSG_LINKS_MAX)
			continue;
		memset(&k, 0, sizeof(k));
		logsafe_copy(k.peer, sizeof(k.peer), l->peer);
		logsafe_copy(k.host, sizeof(k.host),
		    l->host ? l->host->name : "proxy");
		logsafe_copy(k.subject, sizeof(k.subject), l->subject);
		logsafe_copy(k.tls, sizeof(k.tls), SSL_get_version(l->ssl));
		logsafe_copy(k.cipher, sizeof(k.cipher),
		    SSL_get_cipher_name(l->ssl));
		logsafe_copy(k.transport, sizeof(k.transport),
		    l->transport == WIRE_TRANSPORT_UDP ? "udp" : "tcp");
		if (l->udp != NULL) {
			k.udp_rx_frames = l->udp->rx_frames;
			k.udp_tx_frames = l->udp->tx_frames;
			k.udp_drops = l->udp->drops;
		}
		k.up_ms = now - l->since_ms;
		k.rx_frames = l->rx_frames;
		k.tx_frames = l->tx_frames;
		k.rx_bytes = l->rx_bytes;
		k.tx_bytes = l->tx_bytes;
		memcpy(buf + 4 + n++ * sizeof(k), &k, sizeof(k));
	}
	memcpy(buf, &total, sizeof(total));
	if (msg_send(FD_MONITOR, MSG_LINKS, buf, 4 + n * sizeof(k)) == -1)
		log_warn("event=error what=report_links");
}

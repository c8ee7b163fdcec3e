/*
 * Forwarding: which frames go where. The table holds every MAC this
 * side may ever see on a link (taken from the configuration, so it is
 * bounded and an unauthorized MAC can never enter it) with the link it
 * was last seen on. A frame from a link whose source MAC the receiving
 * side's configuration does not allow for that peer is dropped, counted
 * and audited: a peer never decides what it may send.
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

static int
fwd_usable(const struct link *l)
{
	return l != NULL && l->state == L_UP;
}

/* Every up link except one; on the proxy, only hosts allowed dst. */
static size_t
fwd_flood(struct crypt *cr, const struct link *except, const uint8_t *f,
    size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < cr->nlinks; i++) {
		struct link *l = cr->links[i];

		if (l == except || !fwd_usable(l))
			continue;
		if (!mac_is_group(f) && l->host != NULL &&
		    !conf_host_allows(l->host, f))
			continue;
		if (link_send_frame(cr, l, f, len) == 0)
			n++;
	}
	return n;
}

void
fwd_from_capture(struct crypt *cr, const uint8_t *f, size_t len)
{
	const uint8_t	*dst = f, *src = f + VNET_ETH_ALEN;
	ssize_t		 i;

	cr->c.from_capture++;
	if (cr->conf.role == CONF_ROLE_HOST) {
		if (macset_find(cr->macs, cr->nmacs, src) == -1) {
			cr->c.drop_src_unknown++;
			return;
		}
		if (!fwd_usable(cr->uplink) ||
		    link_send_frame(cr, cr->uplink, f, len) == -1)
			cr->c.drop_no_link++;
		return;
	}
	/* Proxy: the loop rule, checked again behind the capture filter. */
	if (macset_find(cr->macs, cr->nmacs, src) != -1) {
		cr->c.drop_loop++;
		return;
	}
	if (mac_is_group(dst)) {
		(void)fwd_flood(cr, NULL, f, len);
		return;
	}
	if ((i = macset_find(cr->macs, cr->nmacs, dst)) == -1) {
		cr->c.drop_bad_dst++;
		return;
	}
	if (fwd_usable(cr->fwd[i].link)) {
		if (link_send_frame(cr, cr->fwd[i].link, f, len) == -1)
			cr->c.drop_no_link++;
		return;
	}
	/* Not seen yet: only the hosts that may carry it. */
	if (fwd_flood(cr, NULL, f, len) == 0)
		cr->c.drop_no_link++;
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

/*
 * Learn where a VM is. A move (migration: the VM's announcement arrives
 * on another authorized link) takes effect at once and is logged. One
 * link may take over only so many entries per second, so a host cannot
 * churn the table; frames beyond that are dropped and counted.
 * Returns 0 to forward the frame, -1 to drop it.
 */
static int
fwd_learn(struct crypt *cr, struct link *l, const uint8_t *src)
{
	ssize_t		 i = macset_find(cr->macs, cr->nmacs, src);
	uint64_t	 now = now_ms(), supp;
	char		 mac[18];

	if (i == -1)
		return 0;
	if (cr->fwd[i].link != l) {
		if (!ratelim_allow(&l->rl_moves, now, &supp)) {
			cr->c.drop_move_limit++;
			return -1;
		}
		if (cr->fwd[i].link != NULL) {
			cr->c.moves++;
			cr->fwd[i].moved_ms = now;
			audit("event=mac_moved mac=%s from=%s to=%s peer=%s",
			    mac_format(src, mac), cr->fwd[i].link->host ?
			    cr->fwd[i].link->host->name : "-", l->host ?
			    l->host->name : "-", l->peer);
		}
		cr->fwd[i].link = l;
	}
	cr->fwd[i].seen_ms = now;
	return 0;
}

/* A MAC silent for FWD_AGE_MS is forgotten: floods find it again. */
void
fwd_age(struct crypt *cr, uint64_t now)
{
	size_t	 i;

	for (i = 0; i < cr->nmacs; i++)
		if (cr->fwd[i].link != NULL &&
		    now - cr->fwd[i].seen_ms > FWD_AGE_MS) {
			cr->fwd[i].link = NULL;
			cr->c.aged++;
		}
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

void
fwd_from_link(struct crypt *cr, struct link *l, const uint8_t *f, size_t len)
{
	const uint8_t	*dst = f, *src = f + VNET_ETH_ALEN;
	ssize_t		 i;

	if (cr->conf.role == CONF_ROLE_HOST) {
		/* Only for our VMs, and never claiming to be one of them. */
		if (macset_find(cr->macs, cr->nmacs, src) != -1) {
			cr->c.drop_loop++;
			return;
		}
		if (!mac_is_group(dst) &&
		    macset_find(cr->macs, cr->nmacs, dst) == -1) {
			cr->c.drop_bad_dst++;
			return;
		}
		fwd_to_inject(cr, f, len);
		return;
	}
	if (mac_is_group(src) || !conf_host_allows(l->host, src)) {
		fwd_unauthorized(cr, l, src);
		return;
	}
	if (fwd_learn(cr, l, src) == -1)
		return;
	if (mac_is_group(dst)) {
		/* The home LAN and every other link; never back. */
		fwd_to_inject(cr, f, len);
		(void)fwd_flood(cr, l, f, len);
		return;
	}
	if ((i = macset_find(cr->macs, cr->nmacs, dst)) != -1) {
		/* VM to VM: link to link, never through the LAN. */
		if (cr->fwd[i].link == l)
			cr->c.drop_loop++;
		else if (cr->fwd[i].link != NULL) {
			if (link_send_frame(cr, cr->fwd[i].link, f, len) == -1)
				cr->c.drop_no_link++;
		} else if (fwd_flood(cr, l, f, len) == 0)
			/* Not seen yet: only the other hosts that may carry it. */
			cr->c.drop_no_link++;
		return;
	}
	fwd_to_inject(cr, f, len);
}

void
fwd_link_gone(struct crypt *cr, struct link *l)
{
	size_t	 i;

	for (i = 0; i < cr->nmacs; i++)
		if (cr->fwd[i].link == l)
			cr->fwd[i].link = NULL;
}

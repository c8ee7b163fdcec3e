/* SPDX-License-Identifier: ISC */
/*
 * A new configuration applied while links are up. The monitor has
 * checked it and refused any change that needs a restart; what may
 * change here is who is authorized for what: host blocks, their MACs
 * and pins, a host's VMs, timers and limits, and the key material
 * (certificate, CA, CRL: new handshakes use them, and every link is
 * judged again by them). A link whose host block is gone, whose
 * identity (cn, pin) changed, or whose peer certificate is no longer
 * accepted, is cut; every other link stays up and keeps its traffic.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "crypt/crypt.h"
#include "lib/macset.h"
#include "privsep/log.h"

static const struct conf_host *
reload_host(const struct conf *c, const struct conf_host *old)
{
	size_t	 i;

	for (i = 0; i < c->nhosts; i++) {
		const struct conf_host *h = &c->hosts[i];

		if (strcmp(h->name, old->name) != 0)
			continue;
		if (strcmp(h->cn, old->cn) != 0 || h->has_pin != old->has_pin ||
		    (h->has_pin && memcmp(h->pin, old->pin, 32) != 0))
			return NULL;
		return h;
	}
	return NULL;
}

/* Carry over where each still-authorized MAC was seen. */
static void
reload_table(struct crypt *cr, conf_mac *omacs, struct fwd_entry *ofwd,
    size_t onmacs)
{
	size_t	 i;
	ssize_t	 j;

	for (i = 0; i < cr->nmacs; i++) {
		if ((j = macset_find(omacs, onmacs, cr->macs[i])) == -1)
			continue;
		cr->fwd[i] = ofwd[j];
		if (cr->fwd[i].link != NULL &&
		    (cr->fwd[i].link->state == L_DEAD ||
		    (cr->fwd[i].link->host != NULL &&
		    !conf_host_allows(cr->fwd[i].link->host, cr->macs[i]))))
			cr->fwd[i].link = NULL;
	}
}

/*
 * New key material: links whose peer the new CA and CRL no longer
 * accept (revoked, expired, untrusted, or failing the identity rules)
 * are cut; the others keep their TLS session and their traffic.
 */
static size_t
reload_recheck(struct crypt *cr)
{
	const char	*why;
	char		 reason[160];
	size_t		 i, cut = 0;

	for (i = 0; i < cr->nlinks; i++) {
		struct link *l = cr->links[i];

		if ((l->state != L_HELLO && l->state != L_UP) ||
		    (why = tls_recheck(cr, l->ssl)) == NULL)
			continue;
		cr->c.peers_revoked++;
		audit("event=peer_revoked peer=%s host=%s subject=\"%s\" "
		    "fingerprint=%s reason=\"%s\" total=%llu", l->peer,
		    l->host ? l->host->name : "proxy", l->subject,
		    l->fingerprint, why,
		    (unsigned long long)cr->c.peers_revoked);
		snprintf(reason, sizeof(reason), "peer certificate: %s", why);
		link_close(cr, l, reason, WIRE_CLOSE_UNAUTHORIZED);
		cut++;
	}
	return cut;
}

void
crypt_reload(struct crypt *cr, const char *text, size_t len)
{
	struct conf		 nc, oc;
	struct conf_error	 err;
	const struct conf_host	*nh[CRYPT_MAXLINKS];
	conf_mac		*omacs = cr->macs;
	struct fwd_entry	*ofwd = cr->fwd;
	size_t			 onmacs = cr->nmacs, i, cut = 0;

	if (conf_parse(text, len, &nc, &err) == -1) {
		log_warnx("event=reload result=rejected reason=\"line %u: %s\"",
		    err.line, err.msg);
		return;
	}
	/* Cut first, while the old names are still there to log. */
	for (i = 0; i < cr->nlinks; i++) {
		struct link *l = cr->links[i];

		nh[i] = NULL;
		if (l->host == NULL || l->state == L_DEAD)
			continue;
		if ((nh[i] = reload_host(&nc, l->host)) == NULL) {
			link_close(cr, l, "authorization removed by reload",
			    WIRE_CLOSE_UNAUTHORIZED);
			cut++;
		}
	}
	for (i = 0; i < cr->nlinks; i++)
		if (cr->links[i]->host != NULL)
			cr->links[i]->host = nh[i];
	oc = cr->conf;
	cr->conf = nc;
	if (tls_reload(cr) == 1)
		cut += reload_recheck(cr);
	if (fwd_init(cr) == -1) {
		/* Keep the old table: nothing points into the old config. */
		cr->macs = omacs;
		cr->fwd = ofwd;
		cr->nmacs = onmacs;
		conf_free(&oc);
		log_warnx("event=reload result=partial reason=\"out of memory "
		    "for the forwarding table\"");
		return;
	}
	reload_table(cr, omacs, ofwd, onmacs);
	free(omacs);
	free(ofwd);
	conf_free(&oc);
	audit("event=reload result=applied hosts=%zu macs=%zu links_cut=%zu",
	    cr->conf.nhosts, cr->nmacs, cut);
}

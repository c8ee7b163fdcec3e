/* SPDX-License-Identifier: ISC */
/*
 * Where each frame goes. Pure: the table and the addresses in, a
 * verdict out; nothing here sends, counts or logs.
 */
#include "lib/frame.h"
#include "lib/fwd.h"
#include "lib/macset.h"

static struct fwd_verdict
fwd_dropped(enum fwd_drop why)
{
	struct fwd_verdict	 v = { .drop = why };

	return v;
}

static struct fwd_verdict
fwd_to(unsigned to, struct link *link, struct link *except)
{
	struct fwd_verdict	 v = { .to = to, .link = link,
				    .except = except };

	return v;
}

static int
fwd_served(const struct fwd_table *t, const uint8_t *mac)
{
	return macset_find(t->macs, t->n, mac) != -1;
}

/* Host: what the VMs send goes to the proxy, and only that. */
static struct fwd_verdict
fwd_host_capture(const struct fwd_table *t, const uint8_t *src)
{
	if (!fwd_served(t, src))
		return fwd_dropped(FWD_DROP_SRC_UNKNOWN);
	return fwd_to(FWD_TO_UPLINK, NULL, NULL);
}

/*
 * Proxy, from the LAN: group frames to every link; unicast to where the
 * VM was seen, or, not seen yet, to every host that may carry it.
 */
static struct fwd_verdict
fwd_proxy_capture(const struct fwd_table *t, const uint8_t *dst,
    const uint8_t *src)
{
	ssize_t	 i;

	/* The loop rule, checked again behind the capture filter. */
	if (fwd_served(t, src))
		return fwd_dropped(FWD_DROP_LOOP);
	if (mac_is_group(dst))
		return fwd_to(FWD_TO_FLOOD, NULL, NULL);
	if ((i = macset_find(t->macs, t->n, dst)) == -1)
		return fwd_dropped(FWD_DROP_BAD_DST);
	if (t->e[i].link != NULL)
		return fwd_to(FWD_TO_LINK, t->e[i].link, NULL);
	return fwd_to(FWD_TO_FLOOD, NULL, NULL);
}

struct fwd_verdict
fwd_decide_capture(const struct fwd_table *t, const uint8_t *dst,
    const uint8_t *src)
{
	if (t->role == CONF_ROLE_HOST)
		return fwd_host_capture(t, src);
	return fwd_proxy_capture(t, dst, src);
}

/* Host: only for our VMs or a group, and never claiming to be a VM. */
static struct fwd_verdict
fwd_host_link(const struct fwd_table *t, const uint8_t *dst,
    const uint8_t *src)
{
	if (fwd_served(t, src))
		return fwd_dropped(FWD_DROP_LOOP);
	if (!mac_is_group(dst) && !fwd_served(t, dst))
		return fwd_dropped(FWD_DROP_BAD_DST);
	return fwd_to(FWD_TO_INJECT, NULL, NULL);
}

/*
 * Learn where a VM is. A move (migration: the VM's frames arrive on
 * another authorized link) takes effect at once. One link may take over
 * only so many entries per second, so a host cannot churn the table.
 * Returns 0 to go on, -1 to drop the frame.
 */
static int
fwd_learn(struct fwd_table *t, const struct fwd_src *s, const uint8_t *src,
    uint64_t now, struct link **moved_from)
{
	ssize_t		 i = macset_find(t->macs, t->n, src);
	uint64_t	 supp;

	*moved_from = NULL;
	if (i == -1)
		return 0;
	if (t->e[i].link != s->link) {
		if (!ratelim_allow(s->moves, now, &supp))
			return -1;
		if (t->e[i].link != NULL) {
			*moved_from = t->e[i].link;
			t->e[i].moved_ms = now;
		}
		t->e[i].link = s->link;
	}
	t->e[i].seen_ms = now;
	return 0;
}

/*
 * Proxy, from a link: group frames to the LAN and every other link;
 * unicast to a VM seen elsewhere link to link, never through the LAN,
 * and never back; anything else to the LAN.
 */
static struct fwd_verdict
fwd_proxy_link(struct fwd_table *t, const struct fwd_src *s,
    const uint8_t *dst, const uint8_t *src, uint64_t now)
{
	struct fwd_verdict	 v;
	struct link		*moved_from;
	ssize_t			 i;

	if (mac_is_group(src) || !conf_host_allows(s->host, src))
		return fwd_dropped(FWD_DROP_UNAUTHORIZED);
	if (fwd_learn(t, s, src, now, &moved_from) == -1)
		return fwd_dropped(FWD_DROP_MOVE_LIMIT);
	if (mac_is_group(dst))
		v = fwd_to(FWD_TO_INJECT | FWD_TO_FLOOD, NULL, s->link);
	else if ((i = macset_find(t->macs, t->n, dst)) == -1)
		v = fwd_to(FWD_TO_INJECT, NULL, NULL);
	else if (t->e[i].link == s->link)
		v = fwd_dropped(FWD_DROP_LOOP);	/* its own bridge had it */
	else if (t->e[i].link != NULL)
		v = fwd_to(FWD_TO_LINK, t->e[i].link, NULL);
	else
		v = fwd_to(FWD_TO_FLOOD, NULL, s->link);
	v.moved_from = moved_from;
	return v;
}

struct fwd_verdict
fwd_decide_link(struct fwd_table *t, const struct fwd_src *s,
    const uint8_t *dst, const uint8_t *src, uint64_t now)
{
	if (t->role == CONF_ROLE_HOST)
		return fwd_host_link(t, dst, src);
	return fwd_proxy_link(t, s, dst, src, now);
}

/* Group frames go to every link; unicast only to hosts that may carry it. */
int
fwd_floods_to(const struct fwd_verdict *v, const struct link *l,
    const struct conf_host *h, const uint8_t *dst)
{
	if (!(v->to & FWD_TO_FLOOD) || l == v->except)
		return 0;
	return mac_is_group(dst) || h == NULL || conf_host_allows(h, dst);
}

size_t
fwd_expire(struct fwd_table *t, uint64_t now)
{
	size_t	 i, n = 0;

	for (i = 0; i < t->n; i++)
		if (t->e[i].link != NULL &&
		    now - t->e[i].seen_ms > FWD_AGE_MS) {
			t->e[i].link = NULL;
			n++;
		}
	return n;
}

void
fwd_forget(struct fwd_table *t, const struct link *l)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].link == l)
			t->e[i].link = NULL;
}

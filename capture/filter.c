/* SPDX-License-Identifier: ISC */
/*
 * What capture takes from the wire. On a host: frames from a served VM
 * that are not for another VM on the same bridge. On the proxy: frames
 * to a served VM, broadcast or multicast, and never frames whose
 * source is a served VM (the loop rule: those are our own injections,
 * or a VM's frame looping back). The kernel filter does the bulk; the
 * same rule is checked again here so it holds even when the kernel
 * filter had to be widened (too many MACs for one BPF program).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "lib/macset.h"

/*
 * The MACs whose frames capture takes: every served one, or with
 * unbound_only only the VMs no port binds (those capture takes from the
 * bridge; a bound VM's frames come from its port, capture_port_read()).
 */
int
served_build(const struct conf *c, struct served *s, int unbound_only)
{
	size_t	 i, total = 0, off = 0;

	if (c->role == CONF_ROLE_HOST)
		total = c->nvms;
	else
		for (i = 0; i < c->nhosts; i++)
			total += c->hosts[i].nmacs;
	if ((s->macs = calloc(total ? total : 1, sizeof(conf_mac))) == NULL)
		return -1;
	if (c->role == CONF_ROLE_HOST) {
		/* A VM bound to its port is taken from that port only. */
		for (i = 0; i < c->nvms; i++)
			if (!unbound_only || c->vm_ports == NULL ||
			    c->vm_ports[i][0] == '\0')
				memcpy(s->macs[off++], c->vms[i],
				    sizeof(conf_mac));
		total = off;
	} else
		for (i = 0; i < c->nhosts; i++) {
			memcpy(s->macs + off, c->hosts[i].macs,
			    c->hosts[i].nmacs * sizeof(conf_mac));
			off += c->hosts[i].nmacs;
		}
	s->n = macset_build(s->macs, total);
	return 0;
}

/* "ether KIND m1 or ether KIND m2 ..." */
static int
filter_list(char **buf, size_t *len, size_t *cap, const char *kind,
    const struct served *s)
{
	char	 mac[18];
	size_t	 i;

	for (i = 0; i < s->n; i++) {
		size_t need = strlen(kind) + 40;

		if (*cap - *len < need) {
			char *nb = realloc(*buf, *cap * 2 + need);

			if (nb == NULL)
				return -1;
			*buf = nb;
			*cap = *cap * 2 + need;
		}
		*len += (size_t)snprintf(*buf + *len, *cap - *len, "%sether %s %s",
		    i ? " or " : "", kind, mac_format(s->macs[i], mac));
	}
	return 0;
}

static int
filter_cat(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t	 l = strlen(s);

	if (*cap - *len <= l) {
		char *nb = realloc(*buf, *cap * 2 + l + 1);

		if (nb == NULL)
			return -1;
		*buf = nb;
		*cap = *cap * 2 + l + 1;
	}
	memcpy(*buf + *len, s, l + 1);
	*len += l;
	return 0;
}

char *
filter_build(const struct conf *c, const struct served *s)
{
	size_t	 len = 0, cap = 256;
	char	*buf;
	int	 rv;

	if ((buf = malloc(cap)) == NULL)
		return NULL;
	buf[0] = '\0';
	if (c->role == CONF_ROLE_HOST)
		rv = filter_cat(&buf, &len, &cap, "(") ||
		    filter_list(&buf, &len, &cap, "src", s) ||
		    filter_cat(&buf, &len, &cap, ") and not (") ||
		    filter_list(&buf, &len, &cap, "dst", s) ||
		    filter_cat(&buf, &len, &cap, ")");
	else
		rv = filter_cat(&buf, &len, &cap, "(ether multicast or ") ||
		    filter_list(&buf, &len, &cap, "dst", s) ||
		    filter_cat(&buf, &len, &cap, ") and not (") ||
		    filter_list(&buf, &len, &cap, "src", s) ||
		    filter_cat(&buf, &len, &cap, ")");
	if (rv) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
filter_wants(const struct conf *c, const struct served *s,
    const uint8_t *frame, size_t len)
{
	const uint8_t	*dst = frame, *src = frame + VNET_ETH_ALEN;
	int		 src_served, dst_served;

	if (len < VNET_ETH_HLEN)
		return 0;
	src_served = macset_find(s->macs, s->n, src) != -1;
	dst_served = macset_find(s->macs, s->n, dst) != -1;
	if (c->role == CONF_ROLE_HOST)
		return src_served && !dst_served;
	return !src_served && (mac_is_group(dst) || dst_served);
}

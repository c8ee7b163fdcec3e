/*
 * The host's VM ports. A VM named with "port" on its vm line is bound
 * to that bridge port: capture takes its frames only from that port,
 * inject sends to it only through that port. capture and inject resolve
 * the names once, before their drop (they can open nothing after), so
 * the monitor watches the names and restarts both when a port appears,
 * goes, or comes back with another index: a VM started, restarted or
 * migrated in with a new tap.
 */
#include <sys/types.h>

#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/frame.h"
#include "monitor/monitor.h"
#include "privsep/log.h"

#define PORTS_POLL_MS	250	/* a new port is in use within 1 s */

static unsigned		*port_index;	/* per vm line; 0: absent */
static size_t		 port_n;
static struct timespec	 port_next;

/*
 * At start and on each reload: say which VMs no port binds, and learn
 * the ports' indexes. A reload that moves a port restarts inject, which
 * holds the ports' sockets (capture restarts on every reload).
 */
void
ports_configured(struct monitor *m, int reload)
{
	const struct conf	*c = &m->conf;
	char			 mac[18];
	size_t			 i;
	unsigned		*ni;

	if (c->role != CONF_ROLE_HOST)
		return;
	for (i = 0; i < c->nvms; i++)
		if (c->vm_ports == NULL || c->vm_ports[i][0] == '\0')
			audit("event=vm_unbound mac=%s reason=\"no port on its "
			    "vm line: its MAC is believed from any bridge "
			    "port\"", mac_format(c->vms[i], mac));
	if ((ni = calloc(c->nvms ? c->nvms : 1, sizeof(*ni))) == NULL)
		fatal("ports");
	for (i = 0; i < c->nvms; i++)
		if (c->vm_ports != NULL && c->vm_ports[i][0] != '\0')
			ni[i] = if_nametoindex(c->vm_ports[i]);
	if (reload && (port_n != c->nvms || (c->nvms > 0 &&
	    memcmp(ni, port_index, c->nvms * sizeof(*ni)) != 0)) &&
	    m->w[W_INJECT].pid != -1)
		kill(m->w[W_INJECT].pid, SIGTERM);
	free(port_index);
	port_index = ni;
	port_n = c->nvms;
}

static void
ports_restart(struct monitor *m)
{
	if (m->w[W_CAPTURE].pid != -1)
		kill(m->w[W_CAPTURE].pid, SIGTERM);
	if (m->w[W_INJECT].pid != -1)
		kill(m->w[W_INJECT].pid, SIGTERM);
}

/* Each 250 ms: has a bound port appeared, gone, or changed its index? */
void
ports_due(struct monitor *m, int *timeout_ms)
{
	const struct conf	*c = &m->conf;
	struct timespec		 now;
	char			 mac[18];
	unsigned		 idx;
	size_t			 i;
	int			 changed = 0;
	long			 left;

	if (c->role != CONF_ROLE_HOST || c->vm_ports == NULL || port_n == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = (port_next.tv_sec - now.tv_sec) * 1000 +
	    (port_next.tv_nsec - now.tv_nsec) / 1000000;
	if (left > 0) {
		if (*timeout_ms < 0 || *timeout_ms > left)
			*timeout_ms = (int)left;
		return;
	}
	port_next = now;
	port_next.tv_nsec += PORTS_POLL_MS * 1000000L;
	if (port_next.tv_nsec >= 1000000000L) {
		port_next.tv_sec++;
		port_next.tv_nsec -= 1000000000L;
	}
	if (*timeout_ms < 0 || *timeout_ms > PORTS_POLL_MS)
		*timeout_ms = PORTS_POLL_MS;
	for (i = 0; i < port_n && i < c->nvms; i++) {
		if (c->vm_ports[i][0] == '\0')
			continue;
		idx = if_nametoindex(c->vm_ports[i]);
		if (idx == port_index[i])
			continue;
		audit("event=vm_port what=%s mac=%s port=%s ifindex=%u "
		    "was=%u", idx == 0 ? "gone" : port_index[i] == 0 ?
		    "appeared" : "changed", mac_format(c->vms[i], mac),
		    c->vm_ports[i], idx, port_index[i]);
		port_index[i] = idx;
		changed = 1;
	}
	if (changed)
		ports_restart(m);
}

void
ports_free(void)
{
	free(port_index);
	port_index = NULL;
	port_n = 0;
}

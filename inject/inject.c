/* SPDX-License-Identifier: ISC */
/*
 * The inject worker: opens an AF_PACKET socket with PACKET_VNET_HDR
 * while it holds CAP_NET_RAW, drops everything, then writes the frames
 * crypt hands it. crypt is the process the network reaches, so inject
 * trusts none of them: each must pass this side's layer-2 policy
 * (lib/l2pol.c, from inject's own configuration) or it is dropped,
 * counted and audited. Each frame goes out with a virtio-net header so
 * the kernel segments GSO super-frames and completes partial checksums
 * (lib/offload.c decides how); a frame that cannot be sent is counted
 * under its reason, never dropped silently.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/l2pol.h"
#include "lib/offload.h"
#include "lib/ratelim.h"
#include "privsep/log.h"
#include "privsep/privsep.h"
#include "privsep/worker.h"

#define SEG_MAX		OFFLOAD_SEG_MAX	/* userspace: segments per frame */
/*
 * Room for SEG_MAX segments of any frame: frame_parse() keeps headers
 * under 17 KiB. offload_segment() checks the room anyway (a shortfall
 * is counted as unsegmentable, never overrun).
 */
#define SEGBUF_SIZE	(64 * (VNET_ETH_HLEN + 8 + 65536))

/* A VM bound to its bridge port: frames for it go out there only. */
struct inj_port {
	uint8_t		 mac[VNET_ETH_ALEN];
	int		 fd;		/* -1: the port is not there */
};

struct inject {
	struct conf	 conf;
	struct l2pol	 pol;
	int		 fd;		/* the bridge's; -1: every VM bound */
	struct inj_port	*ports;
	size_t		 nports;
	size_t		 mtu;
	struct ratelim	 rl;
	struct ratelim	 rl_policy;	/* audit records of policy drops */
	struct ring	 ring;		/* from crypt */
	uint64_t	 frames, batches, sent, gso, segmented, floor_segmented;
	uint64_t	 drop_parse, drop_oversize, drop_send, drop_msgsize;
	uint64_t	 drop_gso_floor, drop_no_port;
	uint64_t	 drop_pol[L2POL_MAX];	/* by lib/l2pol.c's verdict */
};

static struct inject	 inj;
static uint8_t		 rxbuf[MSG_MAX];
static uint8_t		 segbuf[SEGBUF_SIZE];

static const struct worker_stat inject_stats[] = {
	{ "frames", &inj.frames },
	{ "batches", &inj.batches },
	{ "sent", &inj.sent },
	{ "gso", &inj.gso },
	{ "segmented", &inj.segmented },
	{ "floor_segmented", &inj.floor_segmented },
	{ "drop_parse", &inj.drop_parse },
	{ "drop_oversize", &inj.drop_oversize },
	{ "drop_msgsize", &inj.drop_msgsize },
	{ "drop_send", &inj.drop_send },
	{ "drop_gso_floor", &inj.drop_gso_floor },
	{ "drop_no_port", &inj.drop_no_port },
	/* lib/l2pol.c's names, in its order (l2pol_counter()). */
	{ "drop_short", &inj.drop_pol[L2POL_SHORT] },
	{ "drop_vlan", &inj.drop_pol[L2POL_VLAN] },
	{ "drop_reserved_dst", &inj.drop_pol[L2POL_RESERVED] },
	{ "drop_src_invalid", &inj.drop_pol[L2POL_SRC_INVALID] },
	{ "drop_src_unauthorized", &inj.drop_pol[L2POL_SRC_UNAUTH] },
	{ "drop_src_served", &inj.drop_pol[L2POL_SRC_SERVED] },
	{ "drop_dst_unserved", &inj.drop_pol[L2POL_DST_UNSERVED] },
};

/*
 * A send-only packet socket bound to one device, moved to descriptor
 * want: all inject ever writes on. -1 if the device is not there (a
 * VM port may come later; the monitor then restarts us).
 */
static int
priv_packet(const char *name, int want, int must)
{
	struct sockaddr_ll	 sll;
	int			 fd, on = 1, sz = 4 * 1024 * 1024;
	unsigned		 idx;

	if ((idx = if_nametoindex(name)) == 0) {
		if (must)
			fatal("event=error what=interface name=%s", name);
		log_warnx("event=port_absent port=%s", name);
		return -1;
	}
	/* Protocol 0: this socket only sends, it never receives. */
	if ((fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)) == -1)
		fatal("event=error what=packet_socket");
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &on,
	    sizeof(on)) == -1)
		fatal("event=error what=packet_vnet_hdr");
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)idx;
	sll.sll_protocol = 0;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		fatal("event=error what=packet_bind interface=%s", name);
	if (dup2(fd, want) == -1)
		fatal("event=error what=dup2 fd=%d", want);
	close(fd);
	return want;
}

/*
 * The bridge's socket, for VMs no port binds (and the proxy's LAN); one
 * per bound VM, on its port, sending out towards the VM: sent into the
 * bridge, a frame would go wherever the bridge learnt the MAC, and a
 * tenant who forged it would get it.
 */
static void
priv_open_packet(struct inject *ij)
{
	struct ifreq	 ifr;
	size_t		 i, unbound = 0;

	ij->fd = priv_packet(ij->conf.interface, FD_PACKET, 1);
	ij->mtu = ij->conf.mtu;
	if (ij->mtu == 0) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s",
		    ij->conf.interface);
		if (ioctl(ij->fd, SIOCGIFMTU, &ifr) == -1)
			fatal("event=error what=mtu interface=%s",
			    ij->conf.interface);
		ij->mtu = (size_t)ifr.ifr_mtu;
	}
	if ((ij->ports = calloc(ij->conf.nvms + 1, sizeof(*ij->ports))) ==
	    NULL)
		fatal("ports");
	for (i = 0; i < ij->conf.nvms; i++) {
		if (ij->conf.vm_ports == NULL ||
		    ij->conf.vm_ports[i][0] == '\0') {
			unbound++;
			continue;
		}
		memcpy(ij->ports[ij->nports].mac, ij->conf.vms[i],
		    VNET_ETH_ALEN);
		ij->ports[ij->nports].fd = priv_packet(ij->conf.vm_ports[i],
		    FD_PACKET + 1 + (int)ij->nports, 0);
		ij->nports++;
	}
	/* Every VM bound: nothing may go into the bridge at all. */
	if (ij->conf.role == CONF_ROLE_HOST && unbound == 0) {
		close(ij->fd);
		ij->fd = -1;
	}
}

/*
 * A super-frame below the GSO floor with too many segments even for
 * us: only a peer's crafting makes one, so it is a security record.
 */
static void
inject_floor_drop(struct inject *ij, size_t len)
{
	uint64_t	 supp;

	ij->drop_gso_floor++;
	if (ratelim_allow(&ij->rl, now_ms(), &supp))
		audit("event=drop reason=gso_floor len=%zu mtu=%zu total=%llu "
		    "suppressed=%llu", len, ij->mtu,
		    (unsigned long long)ij->drop_gso_floor,
		    (unsigned long long)supp);
}

static void
inject_drop(struct inject *ij, uint64_t *ctr, const char *reason, size_t len)
{
	uint64_t	 supp;

	(*ctr)++;
	if (ratelim_allow(&ij->rl, now_ms(), &supp))
		log_warnx("event=drop reason=%s len=%zu mtu=%zu total=%llu "
		    "suppressed=%llu", reason, len, ij->mtu,
		    (unsigned long long)*ctr, (unsigned long long)supp);
}

/*
 * writev(2), never sendmsg(2): with no address the kernel sends on the
 * device the socket is bound to, and the sandbox lets inject do nothing
 * else on these sockets, so no frame can name another interface.
 */
static int
inject_send(int fd, struct virtio_net_hdr *vh, const uint8_t *f, size_t len)
{
	struct iovec	 iov[2];

	iov[0].iov_base = vh;
	iov[0].iov_len = sizeof(*vh);
	iov[1].iov_base = (void *)(uintptr_t)f;
	iov[1].iov_len = len;
	return writev(fd, iov, 2) == -1 ? -1 : 0;
}

/*
 * A frame crypt may not have us send: counted under its reason and
 * audited (a compromised crypt is what would send it), rate limited.
 */
static void
inject_refuse(struct inject *ij, enum l2pol_verdict v, const uint8_t *f,
    size_t len)
{
	char		 dst[18], src[18];
	uint64_t	 supp;
	const char	*name = l2pol_counter(v);

	ij->drop_pol[v]++;
	if (!ratelim_allow(&ij->rl_policy, now_ms(), &supp))
		return;
	if (len < VNET_ETH_HLEN)
		audit("event=drop reason=%s len=%zu total=%llu suppressed=%llu",
		    name + 5, len, (unsigned long long)ij->drop_pol[v],
		    (unsigned long long)supp);
	else
		audit("event=drop reason=%s dst=%s src=%s type=0x%02x%02x "
		    "len=%zu total=%llu suppressed=%llu", name + 5,
		    mac_format(f, dst), mac_format(f + VNET_ETH_ALEN, src),
		    f[12], f[13], len, (unsigned long long)ij->drop_pol[v],
		    (unsigned long long)supp);
}

/* A burst's tail: say how many policy records were held back. */
static void
inject_flush_audit(struct inject *ij)
{
	uint64_t	 n, total = 0;
	size_t		 i;

	if (!ratelim_flush(&ij->rl_policy, now_ms(), &n))
		return;
	for (i = 1; i < L2POL_MAX; i++)
		total += ij->drop_pol[i];
	audit("event=suppressed what=drop reason=policy suppressed=%llu "
	    "total=%llu", (unsigned long long)n, (unsigned long long)total);
}

/*
 * Segment here: the kernel refused a GSO frame, or offload_prepare()
 * put it below the GSO floor. Each segment goes to each of fds.
 */
static void
inject_segmented(struct inject *ij, const int *fds, size_t nfd,
    const uint8_t *f, size_t len, const struct virtio_net_hdr *vh)
{
	struct virtio_net_hdr	 none;
	size_t			 lens[SEG_MAX], nseg, i, k, off = 0;

	if (offload_segment(f, len, vh, segbuf, sizeof(segbuf), lens, SEG_MAX,
	    &nseg) != OFFLOAD_OK) {
		inject_drop(ij, &ij->drop_oversize, "unsegmentable", len);
		return;
	}
	memset(&none, 0, sizeof(none));
	for (i = 0; i < nseg; i++) {
		for (k = 0; k < nfd; k++)
			if (inject_send(fds[k], &none, segbuf + off,
			    lens[i]) == -1)
				inject_drop(ij, &ij->drop_send, "send",
				    lens[i]);
		off += lens[i];
	}
	ij->segmented++;
}

/*
 * Where a frame leaves: a bound VM's port only; an unbound VM (or the
 * proxy's LAN) through the bridge. A group frame out of every bound
 * VM's port, never a port that is not a served VM's; but while some VM
 * is unbound it must go into the bridge, which floods it to every port
 * (the bound VMs' too, so not again through theirs).
 */
static size_t
inject_targets(const struct inject *ij, const uint8_t *f, int *fds)
{
	size_t	 i, n = 0;

	if (f[0] & 1) {
		if (ij->fd != -1) {
			fds[n++] = ij->fd;
			return n;
		}
		for (i = 0; i < ij->nports; i++)
			if (ij->ports[i].fd != -1)
				fds[n++] = ij->ports[i].fd;
		return n;
	}
	for (i = 0; i < ij->nports; i++)
		if (memcmp(ij->ports[i].mac, f, VNET_ETH_ALEN) == 0) {
			if (ij->ports[i].fd != -1)
				fds[n++] = ij->ports[i].fd;
			return n;
		}
	if (ij->fd != -1)
		fds[n++] = ij->fd;
	return n;
}

/* A frame the kernel refused: fall back, or count it under its reason. */
static void
inject_failed(struct inject *ij, int fd, struct virtio_net_hdr *vh,
    const uint8_t *f, size_t len)
{
	if (errno == EINVAL && vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		inject_segmented(ij, &fd, 1, f, len, vh);
	else if (errno == EMSGSIZE)
		inject_drop(ij, &ij->drop_msgsize, "emsgsize", len);
	else
		inject_drop(ij, &ij->drop_send, "send", len);
}

static void
inject_frame(struct inject *ij, uint8_t *f, size_t len)
{
	struct virtio_net_hdr	 vh;
	enum l2pol_verdict	 v;
	size_t			 out, nfd, k;
	int			 rv, fds[1 + CONF_MAX_MACS];

	ij->frames++;
	if ((v = l2pol_inject(&ij->pol, f, len)) != L2POL_PASS) {
		inject_refuse(ij, v, f, len);
		return;
	}
	if ((nfd = inject_targets(ij, f, fds)) == 0) {
		/* A bound VM whose port is not there (yet). */
		inject_drop(ij, &ij->drop_no_port, "no_port", len);
		return;
	}
	rv = offload_prepare(f, len, ij->mtu, &vh, &out);
	if (rv == OFFLOAD_SEGMENT) {
		ij->floor_segmented++;
		inject_segmented(ij, fds, nfd, f, out, &vh);
		return;
	}
	if (rv != OFFLOAD_OK) {
		if (rv == -OFFLOAD_E_PARSE)
			inject_drop(ij, &ij->drop_parse, "parse", len);
		else if (rv == -OFFLOAD_E_FLOOR)
			inject_floor_drop(ij, len);
		else
			inject_drop(ij, &ij->drop_oversize, "oversize", len);
		return;
	}
	if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		ij->gso++;
	for (k = 0; k < nfd; k++) {
		if (inject_send(fds[k], &vh, f, out) == 0)
			ij->sent++;
		else
			inject_failed(ij, fds[k], &vh, f, out);
	}
}

static void
inject_data(struct inject *ij, struct msg_chan *chan, struct msg_chan *bell)
{
	struct msg	 m;
	const uint8_t	*f;
	size_t		 off, len;
	int		 k;

	for (k = 0; k < 64 && worker_data_recv(&ij->ring, chan, bell, rxbuf,
	    &m); k++) {
		ij->batches++;
		off = 0;
		/* The batch is ours: fix frames in place, no copy. */
		while (batch_next(m.payload, m.len, &off, &f, &len))
			inject_frame(ij, (uint8_t *)(uintptr_t)f, len);
	}
}

/* Do the two configurations bind the same VMs to the same ports? */
static int
inject_ports_same(const struct conf *a, const struct conf *b)
{
	size_t	 i;

	if (a->nvms != b->nvms || (a->vm_ports == NULL) != (b->vm_ports ==
	    NULL))
		return 0;
	for (i = 0; i < a->nvms; i++)
		if (memcmp(a->vms[i], b->vms[i], VNET_ETH_ALEN) != 0 ||
		    (a->vm_ports != NULL &&
		    strcmp(a->vm_ports[i], b->vm_ports[i]) != 0))
			return 0;
	return 1;
}

/*
 * A reload: the monitor sends the new configuration text, as it does to
 * crypt, and the policy built from it holds from the next frame on; a
 * restart would leave a gap with no inject at all. The monitor still
 * restarts inject for an MTU change, and refuses what needs a restart.
 */
static void
inject_on_reload(struct msg *m, void *arg)
{
	struct inject		*ij = arg;
	struct conf		 nc;
	struct conf_error	 err;
	struct l2pol		 np;
	int			 same;

	if (conf_parse((const char *)m->payload, m->len, &nc, &err) == -1) {
		log_warnx("event=reload result=rejected reason=\"line %u: %s\"",
		    err.line, err.msg);
		return;
	}
	/* Not built yet: inject_open() builds the policy from this one. */
	if (!worker_running()) {
		conf_free(&ij->conf);
		ij->conf = nc;
		return;
	}
	if (l2pol_build(&np, &nc) == -1) {
		log_warnx("event=reload result=partial reason=\"out of memory "
		    "for the policy\"");
		conf_free(&nc);
		return;
	}
	if (!inject_ports_same(&ij->conf, &nc)) {
		/* The sockets are opened before the drop: start afresh. */
		audit("event=reload result=restart reason=ports_changed");
		l2pol_free(&np);
		conf_free(&nc);
		worker_quit = 1;
		return;
	}
	same = l2pol_conf_same(&ij->conf, &nc);
	l2pol_free(&ij->pol);
	ij->pol = np;
	conf_free(&ij->conf);
	ij->conf = nc;
	audit("event=reload result=applied policy=%s macs=%zu vlan_allow=%zu",
	    same ? "same" : "changed", ij->pol.nmacs, ij->conf.nvlan_allow);
}

/* What inject takes from the monitor besides what every worker takes. */
static const struct msg_rule inject_ctl_rows[] = {
	{ MSG_RELOAD,		inject_on_reload },
};
static const struct msg_table inject_ctl =
    MSG_TABLE(inject_ctl_rows, &worker_ctl_table);

/* Everything before the drop: the ring from crypt, the packet socket. */
static void
inject_open(void *arg)
{
	struct inject		*ij = arg;
	const struct worker_fds	*fds = privsep_worker_fds(SANDBOX_INJECT);

	if (ring_attach(&ij->ring, fds->ring_in, fds->bell_in, 0) == -1)
		fatal("setup: data ring");
	ratelim_init(&ij->rl, 5, 1000);
	ratelim_init(&ij->rl_policy, 10, 1000);
	if (l2pol_build(&ij->pol, &ij->conf) == -1)
		fatal("setup: policy");
	priv_open_packet(ij);
}

static const struct worker_role inject_role = { .sandbox = SANDBOX_INJECT,
    .ctl = &inject_ctl, .nofile = FD_PACKET, .open = inject_open };

int
main(int argc, char *argv[])
{
	struct msg_chan	 data, bell;
	struct pollfd	 pfd[2];
	size_t		 i;

	worker_init(argc, argv, "inject");
	msg_chan_init(&data, "crypt", &msg_tab_frames);
	msg_chan_init(&bell, "crypt", &msg_tab_wake);
	worker_start(&inject_role, &inj.conf, &inj);

	pfd[0].fd = FD_MONITOR;
	pfd[0].events = POLLIN;
	pfd[1].fd = inj.ring.bell;
	pfd[1].events = POLLIN;
	while (!worker_quit) {
		/*
		 * Frames left in the ring (a fairness bound): no sleeping.
		 * Else wake each second for the audit trail's tail.
		 */
		if (poll(pfd, 2, ring_pending(&inj.ring) ? 0 : 1000) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents && worker_ctl(inject_stats,
		    sizeof(inject_stats) / sizeof(inject_stats[0]), NULL) == -1)
			break;
		if (pfd[1].revents || ring_pending(&inj.ring))
			inject_data(&inj, &data, &bell);
		inject_flush_audit(&inj);
	}
	if (inj.fd != -1)
		close(inj.fd);
	for (i = 0; i < inj.nports; i++)
		if (inj.ports[i].fd != -1)
			close(inj.ports[i].fd);
	free(inj.ports);
	l2pol_free(&inj.pol);
	ring_detach(&inj.ring);
	conf_free(&inj.conf);
	return 0;
}

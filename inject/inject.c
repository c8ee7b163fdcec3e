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

struct inject {
	struct conf	 conf;
	struct l2pol	 pol;
	int		 fd;
	size_t		 mtu;
	struct ratelim	 rl;
	struct ratelim	 rl_policy;	/* audit records of policy drops */
	struct ring	 ring;		/* from crypt */
	uint64_t	 frames, batches, sent, gso, segmented, floor_segmented;
	uint64_t	 drop_parse, drop_oversize, drop_send, drop_msgsize;
	uint64_t	 drop_gso_floor;
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
	/* lib/l2pol.c's names, in its order (l2pol_counter()). */
	{ "drop_short", &inj.drop_pol[L2POL_SHORT] },
	{ "drop_vlan", &inj.drop_pol[L2POL_VLAN] },
	{ "drop_reserved_dst", &inj.drop_pol[L2POL_RESERVED] },
	{ "drop_src_invalid", &inj.drop_pol[L2POL_SRC_INVALID] },
	{ "drop_src_unauthorized", &inj.drop_pol[L2POL_SRC_UNAUTH] },
	{ "drop_src_served", &inj.drop_pol[L2POL_SRC_SERVED] },
	{ "drop_dst_unserved", &inj.drop_pol[L2POL_DST_UNSERVED] },
};

static void
priv_open_packet(struct inject *ij)
{
	struct sockaddr_ll	 sll;
	struct ifreq		 ifr;
	int			 on = 1, sz = 4 * 1024 * 1024;
	unsigned		 idx;

	if ((idx = if_nametoindex(ij->conf.interface)) == 0)
		fatal("event=error what=interface name=%s", ij->conf.interface);
	/* Protocol 0: this socket only sends, it never receives. */
	if ((ij->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)) == -1)
		fatal("event=error what=packet_socket");
	if (setsockopt(ij->fd, SOL_PACKET, PACKET_VNET_HDR, &on,
	    sizeof(on)) == -1)
		fatal("event=error what=packet_vnet_hdr");
	(void)setsockopt(ij->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)idx;
	sll.sll_protocol = 0;
	if (bind(ij->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		fatal("event=error what=packet_bind interface=%s",
		    ij->conf.interface);
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

static int
inject_send(struct inject *ij, struct virtio_net_hdr *vh, const uint8_t *f,
    size_t len)
{
	struct iovec	 iov[2];
	struct msghdr	 mh;

	iov[0].iov_base = vh;
	iov[0].iov_len = sizeof(*vh);
	iov[1].iov_base = (void *)(uintptr_t)f;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	return sendmsg(ij->fd, &mh, 0) == -1 ? -1 : 0;
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
 * put it below the GSO floor.
 */
static void
inject_segmented(struct inject *ij, const uint8_t *f, size_t len,
    const struct virtio_net_hdr *vh)
{
	struct virtio_net_hdr	 none;
	size_t			 lens[SEG_MAX], nseg, i, off = 0;

	if (offload_segment(f, len, vh, segbuf, sizeof(segbuf), lens, SEG_MAX,
	    &nseg) != OFFLOAD_OK) {
		inject_drop(ij, &ij->drop_oversize, "unsegmentable", len);
		return;
	}
	memset(&none, 0, sizeof(none));
	for (i = 0; i < nseg; i++) {
		if (inject_send(ij, &none, segbuf + off, lens[i]) == -1)
			inject_drop(ij, &ij->drop_send, "send", lens[i]);
		off += lens[i];
	}
	ij->segmented++;
}

/* One batch's frames, prepared for a single sendmmsg(2). */
struct outq {
	struct mmsghdr		 mm[MSG_BATCH_MAXFRAMES];
	struct iovec		 iov[MSG_BATCH_MAXFRAMES][2];
	struct virtio_net_hdr	 vh[MSG_BATCH_MAXFRAMES];
	unsigned		 n;
};

static struct outq	 outq;

static void	inject_flush(struct inject *);

/* Below the GSO floor: after what is queued, so the order holds. */
static void
inject_floor(struct inject *ij, const uint8_t *f, size_t len,
    const struct virtio_net_hdr *vh)
{
	inject_flush(ij);
	ij->floor_segmented++;
	inject_segmented(ij, f, len, vh);
}

static void
inject_queue(struct inject *ij, uint8_t *f, size_t len)
{
	struct outq		*q = &outq;
	struct virtio_net_hdr	*vh = &q->vh[q->n];
	enum l2pol_verdict	 v;
	size_t			 out;
	int			 rv;

	ij->frames++;
	if ((v = l2pol_inject(&ij->pol, f, len)) != L2POL_PASS) {
		inject_refuse(ij, v, f, len);
		return;
	}
	rv = offload_prepare(f, len, ij->mtu, vh, &out);
	if (rv == OFFLOAD_SEGMENT) {
		inject_floor(ij, f, out, vh);
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
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		ij->gso++;
	q->iov[q->n][0].iov_base = vh;
	q->iov[q->n][0].iov_len = sizeof(*vh);
	q->iov[q->n][1].iov_base = f;
	q->iov[q->n][1].iov_len = out;
	memset(&q->mm[q->n], 0, sizeof(q->mm[q->n]));
	q->mm[q->n].msg_hdr.msg_iov = q->iov[q->n];
	q->mm[q->n].msg_hdr.msg_iovlen = 2;
	q->n++;
}

/* A frame the kernel refused: fall back, or count it under its reason. */
static void
inject_failed(struct inject *ij, unsigned i)
{
	struct outq	*q = &outq;
	const uint8_t	*f = q->iov[i][1].iov_base;
	size_t		 len = q->iov[i][1].iov_len;

	if (errno == EINVAL && q->vh[i].gso_type != VIRTIO_NET_HDR_GSO_NONE)
		inject_segmented(ij, f, len, &q->vh[i]);
	else if (errno == EMSGSIZE)
		inject_drop(ij, &ij->drop_msgsize, "emsgsize", len);
	else
		inject_drop(ij, &ij->drop_send, "send", len);
}

/* Send the queue with as few syscalls as the kernel allows. */
static void
inject_flush(struct inject *ij)
{
	struct outq	*q = &outq;
	unsigned	 off = 0;
	int		 rv;

	while (off < q->n) {
		rv = sendmmsg(ij->fd, q->mm + off, q->n - off, 0);
		if (rv > 0) {
			ij->sent += (unsigned)rv;
			off += (unsigned)rv;
			continue;
		}
		if (rv == -1 && errno == EINTR)
			continue;
		/* The first one failed: account for it, go on after it. */
		inject_failed(ij, off);
		off++;
	}
	q->n = 0;
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
			inject_queue(ij, (uint8_t *)(uintptr_t)f, len);
		inject_flush(ij);
	}
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
    .ctl = &inject_ctl, .nofile = 16, .open = inject_open };

int
main(int argc, char *argv[])
{
	struct msg_chan	 data, bell;
	struct pollfd	 pfd[2];

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
	close(inj.fd);
	l2pol_free(&inj.pol);
	ring_detach(&inj.ring);
	conf_free(&inj.conf);
	return 0;
}

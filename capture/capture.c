/* SPDX-License-Identifier: ISC */
/*
 * The capture worker: opens the interface with libpcap while it holds
 * CAP_NET_RAW, drops everything, then hands captured frames to crypt
 * in batches. It never parses more of a frame than its MAC addresses
 * and its first tag: a VLAN-tagged frame (unless vlan-allow lets its
 * tag through) or one to an IEEE reserved group address never leaves
 * this side (lib/l2pol.c; inject on the far side checks again).
 */
#include <sys/socket.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "lib/l2pol.h"
#include "lib/ratelim.h"
#include "privsep/log.h"
#include "privsep/privsep.h"
#include "privsep/worker.h"

/* A VM bound to its bridge port: its frames count from there only. */
struct cap_port {
	uint8_t		 mac[VNET_ETH_ALEN];
	unsigned	 ifindex;	/* 0: the port is not there */
	const char	*name;		/* in conf.vm_ports */
};

struct capture {
	struct conf	 conf;
	struct served	 served;	/* taken from the bridge */
	struct served	 all;		/* every VM: no VM-to-VM frames */
	pcap_t		*pcap;		/* NULL: every VM is bound */
	int		 portfd;	/* -1: no VM is bound */
	unsigned	 bridge;	/* the bridge's ifindex */
	struct cap_port	*ports;
	size_t		 nports;
	struct ratelim	 rl_port;	/* audit records of wrong ports */
	struct msg_batch batch;
	struct ring	 ring;		/* to crypt */
	struct ratelim	 rl_drop;
	struct l2pol	 pol;		/* its hygiene rules only */
	struct ratelim	 rl_policy;	/* audit records of hygiene drops */
	int		 userfilter;	/* kernel filter widened: check here */
	uint64_t	 captured, sent, batches, filtered;
	uint64_t	 drop_truncated, drop_channel_full, drop_kernel;
	uint64_t	 drop_wrong_port;
	uint64_t	 drop_pol[L2POL_MAX];	/* by lib/l2pol.c's verdict */
};

static struct capture	 cap;
static uint8_t		 batchbuf[MSG_MAX];
static uint8_t		 portbuf[VNET_FRAME_MAX];

static const struct worker_stat capture_stats[] = {
	{ "captured", &cap.captured },
	{ "sent", &cap.sent },
	{ "batches", &cap.batches },
	{ "filtered", &cap.filtered },
	{ "drop_truncated", &cap.drop_truncated },
	{ "drop_channel_full", &cap.drop_channel_full },
	{ "drop_kernel", &cap.drop_kernel },
	{ "drop_wrong_port", &cap.drop_wrong_port },
	/* lib/l2pol.c's names (l2pol_counter()); hygiene only here. */
	{ "drop_short", &cap.drop_pol[L2POL_SHORT] },
	{ "drop_vlan", &cap.drop_pol[L2POL_VLAN] },
	{ "drop_reserved_dst", &cap.drop_pol[L2POL_RESERVED] },
};

static void
priv_open_pcap(struct capture *c)
{
	char		 errbuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	char		*expr;

	if ((c->pcap = pcap_create(c->conf.interface, errbuf)) == NULL)
		fatalx("event=error what=pcap_create interface=%s reason=\"%s\"",
		    c->conf.interface, errbuf);
	if (pcap_set_snaplen(c->pcap, VNET_FRAME_MAX) != 0 ||
	    pcap_set_promisc(c->pcap, 1) != 0 ||
	    pcap_set_immediate_mode(c->pcap, 1) != 0 ||
	    pcap_set_buffer_size(c->pcap, 16 * 1024 * 1024) != 0)
		fatalx("event=error what=pcap_set interface=%s",
		    c->conf.interface);
	if (pcap_activate(c->pcap) < 0)
		fatalx("event=error what=pcap_activate interface=%s "
		    "reason=\"%s\"", c->conf.interface, pcap_geterr(c->pcap));
	/* Never take back what inject sent out on this interface. */
	if (pcap_setdirection(c->pcap, PCAP_D_IN) != 0)
		fatalx("event=error what=pcap_setdirection reason=\"%s\"",
		    pcap_geterr(c->pcap));
	if (pcap_setnonblock(c->pcap, 1, errbuf) != 0)
		fatalx("event=error what=pcap_setnonblock reason=\"%s\"",
		    errbuf);
	/*
	 * The kernel filter: our own program, which searches the MAC set;
	 * libpcap's compiled expression if ours is too long (too many
	 * vendor prefixes); else none, and the rule is checked here.
	 */
	if (filter_program(&c->conf, &c->served,
	    (unsigned)pcap_snapshot(c->pcap), &prog) == 0) {
		if (pcap_setfilter(c->pcap, &prog) == 0) {
			free(prog.bf_insns);
			return;
		}
		log_warnx("event=filter_fallback reason=\"%s\" macs=%zu",
		    pcap_geterr(c->pcap), c->served.n);
		free(prog.bf_insns);
	}
	if ((expr = filter_build(&c->conf, &c->served)) == NULL)
		fatalx("event=error what=filter_build");
	if (pcap_compile(c->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0 ||
	    pcap_setfilter(c->pcap, &prog) != 0) {
		/* Too many MACs for one program: widen, filter here. */
		log_warnx("event=filter_widened reason=\"%s\" macs=%zu",
		    pcap_geterr(c->pcap), c->served.n);
		c->userfilter = 1;
	} else
		pcap_freecode(&prog);
	free(expr);
}

static void
capture_flush(struct capture *c)
{
	uint64_t	 supp;
	size_t		 n = c->batch.nframes;

	if (n == 0)
		return;
	if (ring_send_batch(&c->ring, &c->batch) == 0) {
		c->sent += n;
		c->batches++;
	} else {
		/* crypt is busy or restarting: a switch drops, so do we. */
		c->drop_channel_full += n;
		if (ratelim_allow(&c->rl_drop, now_ms(), &supp))
			log_warnx("event=drop reason=channel_full frames=%zu "
			    "total=%llu suppressed=%llu", n,
			    (unsigned long long)c->drop_channel_full,
			    (unsigned long long)supp);
	}
}

/* A frame this side must not carry across: counted and audited. */
static void
capture_refuse(struct capture *c, enum l2pol_verdict v, const uint8_t *f,
    size_t len)
{
	char		 dst[18], src[18];
	uint64_t	 supp;

	c->drop_pol[v]++;
	if (!ratelim_allow(&c->rl_policy, now_ms(), &supp))
		return;
	/* capture_frame() passes nothing shorter than an Ethernet header. */
	audit("event=drop reason=%s dst=%s src=%s type=0x%02x%02x len=%zu "
	    "total=%llu suppressed=%llu", l2pol_counter(v) + 5,
	    mac_format(f, dst), mac_format(f + VNET_ETH_ALEN, src), f[12],
	    f[13], len, (unsigned long long)c->drop_pol[v],
	    (unsigned long long)supp);
}

/* A burst's tail: say how many hygiene records were held back. */
static void
capture_flush_audit(struct capture *c)
{
	uint64_t	 n, total = 0;
	size_t		 i;

	if (!ratelim_flush(&c->rl_policy, now_ms(), &n))
		return;
	for (i = 1; i < L2POL_MAX; i++)
		total += c->drop_pol[i];
	audit("event=suppressed what=drop reason=policy suppressed=%llu "
	    "total=%llu", (unsigned long long)n, (unsigned long long)total);
}

/* The bound VM with this MAC, or -1. */
static ssize_t
port_find(const struct capture *c, const uint8_t *mac)
{
	size_t	 i;

	for (i = 0; i < c->nports; i++)
		if (memcmp(c->ports[i].mac, mac, VNET_ETH_ALEN) == 0)
			return (ssize_t)i;
	return -1;
}

/* A whole frame from a VM: the rule, the hygiene, then the batch. */
static void
capture_take(struct capture *c, const uint8_t *f, size_t len)
{
	enum l2pol_verdict	 v;

	/* With VMs bound, the bridge's filter no longer knows them all. */
	if ((c->userfilter || c->nports > 0) &&
	    !filter_wants(&c->conf, &c->all, f, len)) {
		c->filtered++;
		return;
	}
	if ((v = l2pol_hygiene(&c->pol, f, len)) != L2POL_PASS) {
		capture_refuse(c, v, f, len);
		return;
	}
	if (!batch_add(&c->batch, f, len)) {
		capture_flush(c);
		(void)batch_add(&c->batch, f, len);
	}
}

static void
capture_frame(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture		*c = (struct capture *)arg;

	c->captured++;
	if (h->caplen < h->len || h->caplen < VNET_FRAME_MIN ||
	    h->caplen > VNET_FRAME_MAX) {
		c->drop_truncated++;
		return;
	}
	/* A bound VM's frames count from its port only, never from here. */
	if (c->nports > 0 && port_find(c, bytes + VNET_ETH_ALEN) != -1) {
		c->filtered++;
		return;
	}
	capture_take(c, bytes, h->caplen);
}

/*
 * The kernel's drop count, read from the socket: pcap_stats(3) would
 * also open files under /sys, which the sandbox no longer allows. The
 * kernel resets the counters on each read, so accumulate.
 */
static void
capture_kstats(struct capture *c)
{
	struct tpacket_stats_v3	 st;
	socklen_t		 sl = sizeof(st);

	if (c->pcap != NULL && getsockopt(pcap_fileno(c->pcap), SOL_PACKET,
	    PACKET_STATISTICS, &st, &sl) == 0)
		c->drop_kernel += st.tp_drops;
}

/*
 * The kernel program of the port socket: incoming frames only, not the
 * copy the bridge passes up to itself, and only from a bound VM's MAC.
 * The rest of the rule (which port) is checked in capture_port_frame().
 */
static int
port_program(const struct capture *c, struct sock_fprog *fp)
{
	struct sock_filter	*p, *b;
	const uint8_t		*m;
	size_t			 i, n = 7 + 5 * c->nports;

	if (n > BPF_MAXINSNS || (p = calloc(n, sizeof(*p))) == NULL)
		return -1;
	p[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    SKF_AD_OFF + SKF_AD_PKTTYPE);
	p[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    PACKET_OUTGOING, 0, 1);
	p[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	p[3] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    SKF_AD_OFF + SKF_AD_IFINDEX);
	p[4] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    c->bridge, 0, 1);
	p[5] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	for (i = 0; i < c->nports; i++) {
		m = c->ports[i].mac;
		b = p + 6 + 5 * i;
		b[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    VNET_ETH_ALEN);
		b[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 |
		    (uint32_t)m[2] << 8 | m[3], 0, 3);
		b[2] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
		    VNET_ETH_ALEN + 4);
		b[3] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (uint32_t)m[4] << 8 | m[5], 0, 1);
		b[4] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    VNET_FRAME_MAX);
	}
	p[n - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	fp->len = (unsigned short)n;
	fp->filter = p;
	return 0;
}

/*
 * The bridge cannot say which port a frame came in on (what it passes
 * up to itself arrives as its own), so bound VMs' frames are taken from
 * a packet socket on every device, which sees each frame as it enters
 * its port, with that port's index. A port missing now may come later:
 * the monitor restarts capture when it does.
 */
static void
priv_open_ports(struct capture *c)
{
	struct sockaddr_ll	 sll;
	struct sock_fprog	 fp;
	size_t			 i;
	int			 sz = 16 * 1024 * 1024;

	c->portfd = -1;
	if ((c->ports = calloc(c->conf.nvms + 1, sizeof(*c->ports))) == NULL)
		fatal("ports");
	for (i = 0; i < c->conf.nvms; i++) {
		if (c->conf.vm_ports == NULL || c->conf.vm_ports[i][0] == '\0')
			continue;
		memcpy(c->ports[c->nports].mac, c->conf.vms[i], VNET_ETH_ALEN);
		c->ports[c->nports].name = c->conf.vm_ports[i];
		c->ports[c->nports].ifindex = if_nametoindex(
		    c->conf.vm_ports[i]);
		c->nports++;
	}
	if (c->nports == 0)
		return;
	if ((c->bridge = if_nametoindex(c->conf.interface)) == 0)
		fatal("event=error what=interface name=%s", c->conf.interface);
	if (port_program(c, &fp) == -1)
		fatalx("event=error what=port_filter ports=%zu", c->nports);
	/* Protocol 0 until the program is in: nothing comes in unfiltered. */
	if ((c->portfd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		fatal("event=error what=port_socket");
	if (setsockopt(c->portfd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp)) == -1)
		fatal("event=error what=port_filter");
	free(fp.filter);
	(void)setsockopt(c->portfd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = 0;
	if (bind(c->portfd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		fatal("event=error what=port_bind");
}

/* A bound VM's MAC from elsewhere: a tenant forging it, or a loop. */
static void
capture_wrong_port(struct capture *c, const struct cap_port *p,
    const uint8_t *f, size_t len, int ifindex)
{
	char		 dst[18], src[18];
	uint64_t	 supp;

	c->drop_wrong_port++;
	if (!ratelim_allow(&c->rl_port, now_ms(), &supp))
		return;
	audit("event=drop reason=wrong_port src=%s dst=%s type=0x%02x%02x "
	    "len=%zu ifindex=%d port=%s port_ifindex=%u total=%llu "
	    "suppressed=%llu", mac_format(f + VNET_ETH_ALEN, src),
	    mac_format(f, dst), f[12], f[13], len, ifindex, p->name,
	    p->ifindex, (unsigned long long)c->drop_wrong_port,
	    (unsigned long long)supp);
}

static void
capture_port_frame(struct capture *c, const uint8_t *f, size_t len,
    const struct sockaddr_ll *sll)
{
	ssize_t	 i;

	if (sll->sll_pkttype == PACKET_OUTGOING ||
	    (unsigned)sll->sll_ifindex == c->bridge || len < VNET_FRAME_MIN ||
	    (i = port_find(c, f + VNET_ETH_ALEN)) == -1)
		return;
	if (c->ports[i].ifindex == 0 ||
	    (unsigned)sll->sll_ifindex != c->ports[i].ifindex) {
		capture_wrong_port(c, &c->ports[i], f, len, sll->sll_ifindex);
		return;
	}
	c->captured++;
	capture_take(c, f, len);
}

/* What the port socket holds now, a batch's worth at most. */
static void
capture_port_read(struct capture *c)
{
	struct sockaddr_ll	 sll;
	socklen_t		 sl;
	ssize_t			 n;
	int			 k;

	for (k = 0; k < MSG_BATCH_MAXFRAMES; k++) {
		sl = sizeof(sll);
		n = recvfrom(c->portfd, portbuf, sizeof(portbuf), MSG_TRUNC,
		    (struct sockaddr *)&sll, &sl);
		if (n == -1)
			break;
		if ((size_t)n > sizeof(portbuf)) {
			c->drop_truncated++;
			continue;
		}
		capture_port_frame(c, portbuf, (size_t)n, &sll);
	}
}

/* Everything before the drop: the MAC set, the ring, the pcap handle. */
static void
capture_open(void *arg)
{
	struct capture		*c = arg;
	const struct worker_fds	*fds = privsep_worker_fds(SANDBOX_CAPTURE);

	if (served_build(&c->conf, &c->served, 1) == -1 ||
	    served_build(&c->conf, &c->all, 0) == -1)
		fatal("served");
	if (ring_attach(&c->ring, fds->ring_out, fds->bell_out, 1) == -1)
		fatal("setup: data ring");
	ring_batch_start(&c->ring, &c->batch, batchbuf);
	ratelim_init(&c->rl_drop, 5, 1000);
	ratelim_init(&c->rl_policy, 10, 1000);
	ratelim_init(&c->rl_port, 10, 1000);
	if (l2pol_build(&c->pol, &c->conf) == -1)
		fatal("setup: policy");
	priv_open_ports(c);
	/* Every VM bound: nothing is taken from the bridge itself. */
	if (c->served.n > 0 || c->conf.role != CONF_ROLE_HOST)
		priv_open_pcap(c);
}

static const struct worker_role capture_role = { .sandbox = SANDBOX_CAPTURE,
    .ctl = &worker_ctl_table, .nofile = 16, .open = capture_open };

int
main(int argc, char *argv[])
{
	struct pollfd	 pfd[3];
	int		 n;

	worker_init(argc, argv, "capture");
	worker_start(&capture_role, &cap.conf, &cap);

	pfd[0].fd = FD_MONITOR;
	pfd[0].events = POLLIN;
	pfd[1].fd = cap.pcap != NULL ? pcap_get_selectable_fd(cap.pcap) : -1;
	pfd[1].events = POLLIN;
	pfd[2].fd = cap.portfd;
	pfd[2].events = POLLIN;
	while (!worker_quit) {
		if (poll(pfd, 3, 1000) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents) {
			capture_kstats(&cap);
			if (worker_ctl(capture_stats, sizeof(capture_stats) /
			    sizeof(capture_stats[0]), NULL) == -1)
				break;
		}
		/* Take what is there now; never wait for a batch to fill. */
		if (cap.pcap != NULL && (n = pcap_dispatch(cap.pcap,
		    MSG_BATCH_MAXFRAMES, capture_frame, (u_char *)&cap)) ==
		    PCAP_ERROR)
			fatalx("event=error what=pcap_dispatch reason=\"%s\"",
			    pcap_geterr(cap.pcap));
		if (cap.portfd != -1 && pfd[2].revents)
			capture_port_read(&cap);
		capture_flush(&cap);
		capture_flush_audit(&cap);
	}
	if (cap.pcap != NULL)
		pcap_close(cap.pcap);
	if (cap.portfd != -1)
		close(cap.portfd);
	free(cap.ports);
	l2pol_free(&cap.pol);
	ring_detach(&cap.ring);
	free(cap.served.macs);
	free(cap.all.macs);
	conf_free(&cap.conf);
	return 0;
}

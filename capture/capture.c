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
#include <linux/if_packet.h>
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

struct capture {
	struct conf	 conf;
	struct served	 served;
	pcap_t		*pcap;
	struct msg_batch batch;
	struct ring	 ring;		/* to crypt */
	struct ratelim	 rl_drop;
	struct l2pol	 pol;		/* its hygiene rules only */
	struct ratelim	 rl_policy;	/* audit records of hygiene drops */
	int		 userfilter;	/* kernel filter widened: check here */
	uint64_t	 captured, sent, batches, filtered;
	uint64_t	 drop_truncated, drop_channel_full, drop_kernel;
	uint64_t	 drop_pol[L2POL_MAX];	/* by lib/l2pol.c's verdict */
};

static struct capture	 cap;
static uint8_t		 batchbuf[MSG_MAX];

static const struct worker_stat capture_stats[] = {
	{ "captured", &cap.captured },
	{ "sent", &cap.sent },
	{ "batches", &cap.batches },
	{ "filtered", &cap.filtered },
	{ "drop_truncated", &cap.drop_truncated },
	{ "drop_channel_full", &cap.drop_channel_full },
	{ "drop_kernel", &cap.drop_kernel },
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

static void
capture_frame(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture		*c = (struct capture *)arg;
	enum l2pol_verdict	 v;

	c->captured++;
	if (h->caplen < h->len || h->caplen < VNET_FRAME_MIN ||
	    h->caplen > VNET_FRAME_MAX) {
		c->drop_truncated++;
		return;
	}
	if (c->userfilter && !filter_wants(&c->conf, &c->served, bytes,
	    h->caplen)) {
		c->filtered++;
		return;
	}
	if ((v = l2pol_hygiene(&c->pol, bytes, h->caplen)) != L2POL_PASS) {
		capture_refuse(c, v, bytes, h->caplen);
		return;
	}
	if (!batch_add(&c->batch, bytes, h->caplen)) {
		capture_flush(c);
		(void)batch_add(&c->batch, bytes, h->caplen);
	}
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

	if (getsockopt(pcap_fileno(c->pcap), SOL_PACKET, PACKET_STATISTICS,
	    &st, &sl) == 0)
		c->drop_kernel += st.tp_drops;
}

/* Everything before the drop: the MAC set, the ring, the pcap handle. */
static void
capture_open(void *arg)
{
	struct capture		*c = arg;
	const struct worker_fds	*fds = privsep_worker_fds(SANDBOX_CAPTURE);

	if (served_build(&c->conf, &c->served) == -1)
		fatal("served");
	if (ring_attach(&c->ring, fds->ring_out, fds->bell_out, 1) == -1)
		fatal("setup: data ring");
	ring_batch_start(&c->ring, &c->batch, batchbuf);
	ratelim_init(&c->rl_drop, 5, 1000);
	ratelim_init(&c->rl_policy, 10, 1000);
	if (l2pol_build(&c->pol, &c->conf) == -1)
		fatal("setup: policy");
	priv_open_pcap(c);
}

static const struct worker_role capture_role = { .sandbox = SANDBOX_CAPTURE,
    .ctl = &worker_ctl_table, .nofile = 16, .open = capture_open };

int
main(int argc, char *argv[])
{
	struct pollfd	 pfd[2];
	int		 n;

	worker_init(argc, argv, "capture");
	worker_start(&capture_role, &cap.conf, &cap);

	pfd[0].fd = FD_MONITOR;
	pfd[0].events = POLLIN;
	pfd[1].fd = pcap_get_selectable_fd(cap.pcap);
	pfd[1].events = POLLIN;
	while (!worker_quit) {
		if (poll(pfd, 2, 1000) == -1) {
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
		if ((n = pcap_dispatch(cap.pcap, MSG_BATCH_MAXFRAMES,
		    capture_frame, (u_char *)&cap)) == PCAP_ERROR)
			fatalx("event=error what=pcap_dispatch reason=\"%s\"",
			    pcap_geterr(cap.pcap));
		capture_flush(&cap);
		capture_flush_audit(&cap);
	}
	pcap_close(cap.pcap);
	l2pol_free(&cap.pol);
	ring_detach(&cap.ring);
	free(cap.served.macs);
	conf_free(&cap.conf);
	return 0;
}

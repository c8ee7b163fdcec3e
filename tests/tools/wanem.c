/* SPDX-License-Identifier: ISC */
/*
 * wanem: a small WAN emulator, for tests and the benchmark only (never
 * installed). This kernel has no sch_netem, so the WAN is a process: it
 * joins two interfaces of a WAN network namespace like a two-port bridge
 * (every frame received on IF_A leaves on IF_B and the other way round)
 * and applies, per direction, a one-way delay with optional jitter,
 * random loss, optional reordering and a rate limit.
 *
 * Per frame, in this order: loss (a seeded PRNG per direction, so a run
 * is reproducible), then the rate limiter (a token bucket in front of a
 * queue bounded in bytes; a frame that does not fit is tail-dropped),
 * then the delay line. Jitter never reorders: a frame never leaves
 * before the one received before it, as on a real path. Reordering is
 * netem's: a chosen frame skips the delay and overtakes what is queued.
 *
 * Speed: AF_PACKET sockets, recvmmsg/sendmmsg in batches, frames stay in
 * preallocated slots from receive to send (no allocation or copy per
 * frame), and the delay line is two FIFO rings whose due times only grow
 * (delayed frames, and frames that skip the delay), so the time-ordered
 * queue is a merge of their heads. One thread, one ppoll loop whose
 * timeout is the earliest due time.
 *
 * Offloads: the sockets use PACKET_VNET_HDR, so a frame whose checksum
 * the sender left to offload (CHECKSUM_PARTIAL, as veth and TAP senders
 * do) leaves with the same instruction and arrives valid; without it
 * such frames would be forwarded with a wrong checksum and dropped
 * silently by the receiver. GSO super-frames are NOT forwarded: a WAN
 * carries wire-size packets and loses, queues and delays them one by
 * one, and one lost 64 KB super-frame would be a burst of ~45 losses.
 * They are dropped, counted (drop_gso) and reported once on stderr; the
 * test helper (tests/tools/wanem-topo.sh) turns TSO/GSO off on the
 * senders and GRO off on our two interfaces, so none arrive.
 *
 * Counters and CPU use (getrusage) go to stdout on SIGUSR1 and at exit,
 * one key=value line per direction. It stays in the foreground (the
 * test manages it by PID); -P also writes a pid file.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <math.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VNET_HDR_LEN	sizeof(struct virtio_net_hdr)
#define BATCH_MAX	256
#define RX_ROUNDS	8	/* batches per socket before the queue is served */
#define NS_PER_S	1000000000ULL
/*
 * When the first frame is due, the frames due in the next 0.1 ms leave
 * with it, in one sendmmsg and one wakeup: a rate limit otherwise spreads
 * them out to a syscall each. 0.1 ms early is small next to a WAN's
 * delays and to the token bucket's default 1 ms burst.
 */
#define TX_EARLY_NS	100000ULL

struct profile {
	uint64_t	 delay_ns;
	uint64_t	 jitter_ns;
	double		 loss;		/* probability, 0..1 */
	double		 reorder;	/* probability, 0..1 */
	uint64_t	 rate_bps;	/* 0: unlimited */
	uint64_t	 queue_bytes;	/* 0: default from the rate */
	uint64_t	 burst_bytes;	/* 0: default from the rate */
};

struct counters {
	uint64_t	 rx, rx_bytes, tx, tx_bytes;
	uint64_t	 drop_loss, drop_queue, drop_full, drop_gso;
	uint64_t	 drop_trunc, drop_send, drop_kernel, reordered;
};

/* A FIFO of slot numbers; the due times of its slots never decrease. */
struct ring {
	uint32_t	*v;
	uint32_t	 cap, head, n;
};

struct dir {
	const char	*name;		/* "ab": received on A, sent on B */
	const char	*in_if, *out_if;
	int		 in_fd, out_fd;
	struct profile	 p;
	uint64_t	 rng;
	/* Slots: nslots on the free list, then a batch of scratch slots. */
	uint8_t		*data;
	size_t		 slot_size;
	uint64_t	*due;
	uint32_t	*len;
	uint32_t	*freel;
	uint32_t	 nslots, nfree;
	struct ring	 line;		/* delayed frames */
	struct ring	 fast;		/* frames that skip the delay */
	uint64_t	 last_due;	/* of the line's newest frame */
	double		 sh_t;		/* token bucket: time of last update */
	double		 sh_tok;	/* tokens (bytes) at sh_t */
	double		 bytes_per_ns;
	bool		 tx_blocked;
	bool		 warned_gso, warned_send;
	struct counters	 c;
	/* Batch state, allocated once. */
	struct mmsghdr	*mm;
	struct iovec	*iov;
	struct sockaddr_ll *sll;
	uint32_t	*bslot;
	struct mmsghdr	*txmm;
	struct iovec	*txiov;
	uint32_t	*txslot;
	unsigned	 tx_off, tx_n;	/* the pending part of the tx batch */
};

struct opts {
	const char	*if_a, *if_b;
	const char	*pidfile;
	uint64_t	 seed;
	unsigned	 batch;
	uint32_t	 slots;
	struct profile	 p[2];
};

static volatile sig_atomic_t got_usr1, got_term;
static struct timespec t_start;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* splitmix64: small, fast, and the same sequence for the same seed. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform double in [0, 1). */
static double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static void __attribute__((noreturn))
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: wanem [options] IF_A IF_B\n"
	    "Frames received on IF_A leave on IF_B (direction ab) and the\n"
	    "other way round (ba). Profile options apply to the directions\n"
	    "chosen by the last --dir (default both).\n"
	    "  -D, --dir ab|ba|both    direction of the following options\n"
	    "  -d, --delay MS          one-way delay, milliseconds (0-60000)\n"
	    "  -j, --jitter MS         uniform jitter +-MS, at most the delay;\n"
	    "                          it never reorders\n"
	    "  -l, --loss PCT          random loss, percent (0-100)\n"
	    "  -r, --reorder PCT       percent of frames sent without the delay,\n"
	    "                          overtaking queued ones (needs a delay)\n"
	    "  -R, --rate BITS         rate limit, bit/s of frames; k, M, G\n"
	    "                          suffixes (x1000); 0: none\n"
	    "  -q, --queue BYTES       rate limiter queue, tail-dropped beyond;\n"
	    "                          k, M suffixes (x1024); default 20 ms at\n"
	    "                          the rate, at least 64k\n"
	    "  -B, --burst BYTES       token bucket depth; default 1 ms at the\n"
	    "                          rate, at least two frames\n"
	    "  -s, --seed N            PRNG seed (default 1)\n"
	    "  -b, --batch N           frames per recvmmsg/sendmmsg (1-%d, 64)\n"
	    "  -n, --slots N           frames held per direction (64-1048576,\n"
	    "                          default 16384)\n"
	    "  -P, --pidfile FILE      write the pid there (removed at exit)\n"
	    "Frames may leave up to 0.1 ms early, to be sent in batches.\n"
	    "SIGUSR1 prints the counters; SIGTERM, SIGINT and SIGHUP print\n"
	    "them and exit.\n",
	    BATCH_MAX);
	exit(code);
}

/*
 * A number with an optional suffix from sfx (letters) whose multipliers
 * are in mul; min..max bound the result. Any error exits with status 2
 * naming the option.
 */
static double
parse_num(const char *opt, const char *s, const char *sfx, const double *mul,
    double min, double max)
{
	char		*end;
	const char	*p;
	double		 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v))
		errx(2, "%s: '%s' is not a number", opt, s);
	if (*end != '\0') {
		p = sfx != NULL ? strchr(sfx, *end) : NULL;
		if (p == NULL || end[1] != '\0')
			errx(2, "%s: '%s' has a bad suffix (want %s)", opt, s,
			    sfx != NULL ? sfx : "none");
		v *= mul[p - sfx];
	}
	if (v < min || v > max)
		errx(2, "%s: %s is out of range (%.10g to %.10g)", opt, s, min,
		    max);
	return v;
}

static uint64_t
parse_int(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		errx(2, "%s: '%s' is not a non-negative integer", opt, s);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		errx(2, "%s: '%s' is not a non-negative integer", opt, s);
	if (v < min || v > max)
		errx(2, "%s: %s is out of range (%" PRIu64 " to %" PRIu64 ")",
		    opt, s, min, max);
	return v;
}

static const double dec_mul[] = { 1e3, 1e3, 1e6, 1e9 };
static const double bin_mul[] = { 1024.0, 1024.0, 1048576.0 };

/* Sets one profile field in the directions chosen by --dir. */
static void
profile_set(struct opts *o, int dirs, int ch, const char *arg)
{
	struct profile	*p;
	int		 i;
	double		 v = 0;

	switch (ch) {
	case 'd':
	case 'j':
		v = parse_num(ch == 'd' ? "--delay" : "--jitter", arg, NULL,
		    NULL, 0, 60000) * 1e6;
		break;
	case 'l':
	case 'r':
		v = parse_num(ch == 'l' ? "--loss" : "--reorder", arg, NULL,
		    NULL, 0, 100) / 100.0;
		break;
	case 'R':
		v = parse_num("--rate", arg, "kKMG", dec_mul, 0, 100e9);
		if (v != 0 && v < 8000)
			errx(2, "--rate: %s is below 8k bit/s", arg);
		break;
	case 'q':
	case 'B':
		v = parse_num(ch == 'q' ? "--queue" : "--burst", arg, "kKM",
		    bin_mul, 1, 1 << 30);
		break;
	}
	for (i = 0; i < 2; i++) {
		if ((dirs & (1 << i)) == 0)
			continue;
		p = &o->p[i];
		switch (ch) {
		case 'd': p->delay_ns = (uint64_t)llround(v); break;
		case 'j': p->jitter_ns = (uint64_t)llround(v); break;
		case 'l': p->loss = v; break;
		case 'r': p->reorder = v; break;
		case 'R': p->rate_bps = (uint64_t)llround(v); break;
		case 'q': p->queue_bytes = (uint64_t)llround(v); break;
		case 'B': p->burst_bytes = (uint64_t)llround(v); break;
		}
	}
}

static int
parse_dir(const char *s)
{
	if (strcmp(s, "ab") == 0)
		return 1;
	if (strcmp(s, "ba") == 0)
		return 2;
	if (strcmp(s, "both") == 0)
		return 3;
	errx(2, "--dir: '%s' is not ab, ba or both", s);
}

/* Checks that need the whole command line, per direction. */
static void
profile_check(const struct profile *p, const char *dir)
{
	if (p->jitter_ns > p->delay_ns)
		errx(2, "direction %s: --jitter (%.3f ms) exceeds --delay "
		    "(%.3f ms)", dir, p->jitter_ns / 1e6, p->delay_ns / 1e6);
	if (p->reorder > 0 && p->delay_ns == 0)
		errx(2, "direction %s: --reorder needs a --delay to overtake",
		    dir);
	if (p->rate_bps == 0 && (p->queue_bytes != 0 || p->burst_bytes != 0))
		errx(2, "direction %s: --queue and --burst need a --rate", dir);
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "delay", required_argument, NULL, 'd' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "loss", required_argument, NULL, 'l' },
		{ "reorder", required_argument, NULL, 'r' },
		{ "rate", required_argument, NULL, 'R' },
		{ "queue", required_argument, NULL, 'q' },
		{ "burst", required_argument, NULL, 'B' },
		{ "seed", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "slots", required_argument, NULL, 'n' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch, dirs = 3;

	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->batch = 64;
	o->slots = 16384;
	while ((ch = getopt_long(argc, argv, "D:d:j:l:r:R:q:B:s:b:n:P:h", lo,
	    NULL)) != -1) {
		switch (ch) {
		case 'D': dirs = parse_dir(optarg); break;
		case 's': o->seed = parse_int("--seed", optarg, 0, UINT64_MAX);
			break;
		case 'b': o->batch = parse_int("--batch", optarg, 1, BATCH_MAX);
			break;
		case 'n': o->slots = parse_int("--slots", optarg, 64, 1 << 20);
			break;
		case 'P': o->pidfile = optarg; break;
		case 'h': usage(0);
		case '?': usage(2);
		default: profile_set(o, dirs, ch, optarg); break;
		}
	}
	if (argc - optind != 2)
		errx(2, "want two interfaces, IF_A and IF_B (see --help)");
	o->if_a = argv[optind];
	o->if_b = argv[optind + 1];
	if (strcmp(o->if_a, o->if_b) == 0)
		errx(2, "IF_A and IF_B are both %s", o->if_a);
	profile_check(&o->p[0], "ab");
	profile_check(&o->p[1], "ba");
}

static void
sockopt(int fd, int level, int name, int val, const char *what)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) == -1)
		err(1, "setsockopt %s", what);
}

/* The interface must exist here and be up; returns its index and MTU. */
static unsigned
if_probe(int fd, const char *name, int *mtu)
{
	struct ifreq	 ifr;
	unsigned	 idx;

	if (strlen(name) >= IFNAMSIZ)
		errx(2, "interface name '%s' is too long", name);
	if ((idx = if_nametoindex(name)) == 0)
		errx(2, "interface %s: not found in this network namespace",
		    name);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1)
		err(1, "interface %s: SIOCGIFFLAGS", name);
	if ((ifr.ifr_flags & IFF_UP) == 0)
		errx(2, "interface %s is down", name);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == -1)
		err(1, "interface %s: SIOCGIFMTU", name);
	*mtu = ifr.ifr_mtu;
	return idx;
}

/*
 * A packet socket bound to one interface. Created with protocol 0 so it
 * sees nothing until bound; PACKET_IGNORE_OUTGOING keeps our own sends
 * out of its receive queue (the direction check in dir_rx is the second
 * guard); qdisc bypass because a WAN link has no qdisc of its own here.
 */
static int
if_open(const char *name, int *mtu)
{
	struct sockaddr_ll	 sll;
	struct packet_mreq	 mr;
	int			 fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		err(1, "socket(AF_PACKET)");
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_probe(fd, name, mtu);
	sockopt(fd, SOL_PACKET, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR");
	sockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1,
	    "PACKET_IGNORE_OUTGOING");
	sockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS");
	/* Room for bursts while the loop is busy with the other side. */
	sockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20, "SO_RCVBUFFORCE");
	sockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20, "SO_SNDBUFFORCE");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		err(1, "bind to %s", name);
	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = sll.sll_ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
	    sizeof(mr)) == -1)
		err(1, "promiscuous mode on %s", name);
	return fd;
}

static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL)
		err(1, "calloc %zu x %zu", n, size);
	return p;
}

/* Rate limiter defaults: 20 ms of queue (>= 64k), 1 ms of burst. */
static void
profile_defaults(struct profile *p, size_t frame_max, const char *dir)
{
	double	 Bps = p->rate_bps / 8.0;

	if (p->rate_bps == 0)
		return;
	if (p->queue_bytes == 0)
		p->queue_bytes = (uint64_t)fmax(Bps * 0.020, 65536);
	if (p->burst_bytes == 0)
		p->burst_bytes = (uint64_t)fmax(Bps * 0.001, 2.0 * frame_max);
	if (p->queue_bytes < frame_max || p->burst_bytes < frame_max)
		errx(2, "direction %s: --queue and --burst must hold a "
		    "%zu-byte frame", dir, frame_max);
}

static void
dir_init(struct dir *d, const struct opts *o, int i, const int fd[2],
    size_t frame_max)
{
	uint32_t	 k, total;

	d->name = i == 0 ? "ab" : "ba";
	d->in_if = i == 0 ? o->if_a : o->if_b;
	d->out_if = i == 0 ? o->if_b : o->if_a;
	d->in_fd = fd[i];
	d->out_fd = fd[1 - i];
	d->p = o->p[i];
	profile_defaults(&d->p, frame_max, d->name);
	d->rng = o->seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(i + 1));
	d->bytes_per_ns = d->p.rate_bps / 8e9;
	d->sh_tok = (double)d->p.burst_bytes;
	d->slot_size = (VNET_HDR_LEN + frame_max + 63) & ~(size_t)63;
	d->nslots = o->slots;
	total = o->slots + o->batch;
	d->data = xcalloc(total, d->slot_size);
	d->due = xcalloc(total, sizeof(*d->due));
	d->len = xcalloc(total, sizeof(*d->len));
	d->freel = xcalloc(o->slots, sizeof(*d->freel));
	for (k = 0; k < o->slots; k++)
		d->freel[k] = o->slots - 1 - k;
	d->nfree = o->slots;
	d->line.v = xcalloc(o->slots, sizeof(uint32_t));
	d->fast.v = xcalloc(o->slots, sizeof(uint32_t));
	d->line.cap = d->fast.cap = o->slots;
	d->mm = xcalloc(o->batch, sizeof(*d->mm));
	d->iov = xcalloc(o->batch, sizeof(*d->iov));
	d->sll = xcalloc(o->batch, sizeof(*d->sll));
	d->bslot = xcalloc(o->batch, sizeof(*d->bslot));
	d->txmm = xcalloc(o->batch, sizeof(*d->txmm));
	d->txiov = xcalloc(o->batch, sizeof(*d->txiov));
	d->txslot = xcalloc(o->batch, sizeof(*d->txslot));
}

static void
dir_free(struct dir *d)
{
	free(d->data);
	free(d->due);
	free(d->len);
	free(d->freel);
	free(d->line.v);
	free(d->fast.v);
	free(d->mm);
	free(d->iov);
	free(d->sll);
	free(d->bslot);
	free(d->txmm);
	free(d->txiov);
	free(d->txslot);
}

static uint8_t *
slot_buf(const struct dir *d, uint32_t s)
{
	return d->data + (size_t)s * d->slot_size;
}

static void
slot_free(struct dir *d, uint32_t s)
{
	if (s < d->nslots)	/* scratch slots are never on the list */
		d->freel[d->nfree++] = s;
}

static void
ring_push(struct ring *r, uint32_t s)
{
	r->v[(r->head + r->n) % r->cap] = s;
	r->n++;
}

static uint32_t
ring_tail(const struct ring *r)
{
	return r->v[(r->head + r->n - 1) % r->cap];
}

static uint32_t
ring_pop(struct ring *r)
{
	uint32_t s = r->v[r->head];

	r->head = (r->head + 1) % r->cap;
	r->n--;
	return s;
}

/*
 * The token bucket in front of the queue: sets *t to when the frame
 * leaves the limiter; false when the queue (the bytes still to be sent
 * at the rate) has no room for it.
 */
static bool
shaper_admit(struct dir *d, uint32_t len, uint64_t now, uint64_t *t)
{
	double	 t0, tok, backlog;

	*t = now;
	if (d->p.rate_bps == 0)
		return true;
	backlog = d->sh_t > now ? (d->sh_t - now) * d->bytes_per_ns : 0;
	if (backlog + len > d->p.queue_bytes)
		return false;
	t0 = fmax((double)now, d->sh_t);
	tok = fmin((double)d->p.burst_bytes,
	    d->sh_tok + (t0 - d->sh_t) * d->bytes_per_ns);
	if (tok >= len) {
		d->sh_tok = tok - len;
	} else {
		t0 += (len - tok) / d->bytes_per_ns;
		d->sh_tok = 0;
	}
	d->sh_t = t0;
	*t = (uint64_t)ceil(t0);
	return true;
}

/* The delay, with uniform jitter, never earlier than the last frame. */
static uint64_t
delay_due(struct dir *d, uint64_t t)
{
	double	 j = 0;
	uint64_t due;

	if (d->p.jitter_ns > 0)
		j = (2.0 * rng_unit(&d->rng) - 1.0) * (double)d->p.jitter_ns;
	due = t + (uint64_t)llround((double)d->p.delay_ns + j);
	if (due < d->last_due)
		due = d->last_due;
	d->last_due = due;
	return due;
}

/* One received frame in slot s: loss, limiter, then a queue. */
static void
dir_admit(struct dir *d, uint32_t s, uint64_t now)
{
	uint64_t t;

	if (d->p.loss > 0 && rng_unit(&d->rng) < d->p.loss) {
		d->c.drop_loss++;
		slot_free(d, s);
		return;
	}
	/* The limiter counts Ethernet frames, not our vnet header. */
	if (!shaper_admit(d, d->len[s] - VNET_HDR_LEN, now, &t)) {
		d->c.drop_queue++;
		slot_free(d, s);
		return;
	}
	if (d->p.reorder > 0 && rng_unit(&d->rng) < d->p.reorder) {
		d->due[s] = t;
		if (d->line.n > 0 && d->due[ring_tail(&d->line)] > t)
			d->c.reordered++;
		ring_push(&d->fast, s);
		return;
	}
	d->due[s] = delay_due(d, t);
	ring_push(&d->line, s);
}

/* Counts a frame we cannot forward; false when it must not be queued. */
static bool
rx_check(struct dir *d, const struct mmsghdr *m, const struct sockaddr_ll *sll,
    uint32_t s)
{
	const struct virtio_net_hdr *vh = (const void *)slot_buf(d, s);

	if (sll->sll_pkttype == PACKET_OUTGOING)
		return false;
	d->c.rx++;
	d->c.rx_bytes += m->msg_len > VNET_HDR_LEN ?
	    m->msg_len - VNET_HDR_LEN : 0;
	if (s >= d->nslots) {
		d->c.drop_full++;
		return false;
	}
	if (m->msg_len <= VNET_HDR_LEN) {
		d->c.drop_trunc++;
		return false;
	}
	/* A super-frame is larger than a slot: ask before MSG_TRUNC. */
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		d->c.drop_gso++;
		if (!d->warned_gso)
			warnx("%s: GSO super-frame (%u bytes) dropped: turn "
			    "TSO/GSO off on the sender and GRO off on %s",
			    d->in_if, m->msg_len, d->in_if);
		d->warned_gso = true;
		return false;
	}
	if (m->msg_hdr.msg_flags & MSG_TRUNC) {
		d->c.drop_trunc++;
		return false;
	}
	return true;
}

/* Fills the batch with free slots, or scratch slots when none are left. */
static unsigned
rx_prepare(struct dir *d, unsigned batch)
{
	unsigned i, n = batch;

	if (d->nfree < n)
		n = d->nfree > 0 ? d->nfree : batch;
	for (i = 0; i < n; i++) {
		d->bslot[i] = d->nfree > 0 ? d->freel[--d->nfree] :
		    d->nslots + i;
		d->iov[i].iov_base = slot_buf(d, d->bslot[i]);
		d->iov[i].iov_len = d->slot_size;
		memset(&d->mm[i], 0, sizeof(d->mm[i]));
		d->mm[i].msg_hdr.msg_iov = &d->iov[i];
		d->mm[i].msg_hdr.msg_iovlen = 1;
		d->mm[i].msg_hdr.msg_name = &d->sll[i];
		d->mm[i].msg_hdr.msg_namelen = sizeof(d->sll[i]);
	}
	return n;
}

/* Receives what is waiting, a bounded number of batches. */
static void
dir_rx(struct dir *d, unsigned batch)
{
	unsigned i, n, round;
	int	 got;
	uint64_t now;

	for (round = 0; round < RX_ROUNDS; round++) {
		n = rx_prepare(d, batch);
		got = recvmmsg(d->in_fd, d->mm, n, MSG_DONTWAIT, NULL);
		if (got == -1 && errno != EAGAIN && errno != EINTR)
			err(1, "recvmmsg on %s", d->in_if);
		now = now_ns();
		for (i = 0; i < n; i++) {
			if ((int)i < got && rx_check(d, &d->mm[i], &d->sll[i],
			    d->bslot[i])) {
				d->len[d->bslot[i]] = d->mm[i].msg_len;
				dir_admit(d, d->bslot[i], now);
			} else {
				slot_free(d, d->bslot[i]);
			}
		}
		if (got < (int)n)
			return;
	}
}

/* The ring whose head is due first, if it is due by now. */
static struct ring *
next_ring(struct dir *d, uint64_t now)
{
	struct ring *r = NULL;

	if (d->line.n > 0)
		r = &d->line;
	if (d->fast.n > 0 && (r == NULL ||
	    d->due[d->fast.v[d->fast.head]] < d->due[r->v[r->head]]))
		r = &d->fast;
	if (r == NULL || d->due[r->v[r->head]] > now)
		return NULL;
	return r;
}

/*
 * Sends the pending batch. A frame the kernel refuses is counted and
 * skipped; a full socket buffer keeps the rest pending for POLLOUT, so
 * nothing is lost on our side. False while frames remain pending.
 */
static bool
tx_send(struct dir *d)
{
	int	 sent;

	while (d->tx_off < d->tx_n) {
		sent = sendmmsg(d->out_fd, d->txmm + d->tx_off,
		    d->tx_n - d->tx_off, MSG_DONTWAIT);
		if (sent > 0) {
			for (; sent > 0; sent--, d->tx_off++) {
				d->c.tx++;
				d->c.tx_bytes += d->txiov[d->tx_off].iov_len -
				    VNET_HDR_LEN;
			}
			continue;
		}
		if (errno == EAGAIN || errno == EINTR) {
			d->tx_blocked = true;
			return false;
		}
		if (!d->warned_send)
			warn("%s: send failed, frame dropped", d->out_if);
		d->warned_send = true;
		d->c.drop_send++;
		d->tx_off++;
	}
	return true;
}

/* The next batch of due frames, in due-time order; their count. */
static unsigned
tx_prepare(struct dir *d, unsigned batch, uint64_t now)
{
	struct ring	*r;
	unsigned	 n;

	for (n = 0; n < batch && (r = next_ring(d, now)) != NULL; n++) {
		d->txslot[n] = ring_pop(r);
		d->txiov[n].iov_base = slot_buf(d, d->txslot[n]);
		d->txiov[n].iov_len = d->len[d->txslot[n]];
		memset(&d->txmm[n], 0, sizeof(d->txmm[n]));
		d->txmm[n].msg_hdr.msg_iov = &d->txiov[n];
		d->txmm[n].msg_hdr.msg_iovlen = 1;
	}
	d->tx_off = 0;
	d->tx_n = n;
	return n;
}

/* Sends every frame that is due, in batches, until none or blocked. */
static void
dir_tx(struct dir *d, unsigned batch)
{
	uint64_t	 now = now_ns() + TX_EARLY_NS;
	unsigned	 i;

	d->tx_blocked = false;
	for (;;) {
		if (d->tx_off == d->tx_n && tx_prepare(d, batch, now) == 0)
			return;
		if (!tx_send(d))
			return;
		for (i = 0; i < d->tx_n; i++)
			slot_free(d, d->txslot[i]);
		d->tx_off = d->tx_n = 0;
	}
}

/* ns until the earliest due frame: 0 now, UINT64_MAX when none. */
static uint64_t
dir_wait(const struct dir *d, uint64_t now)
{
	uint64_t t = UINT64_MAX;

	if (d->tx_blocked)	/* POLLOUT wakes us, not the clock */
		return t;
	if (d->line.n > 0)
		t = d->due[d->line.v[d->line.head]];
	if (d->fast.n > 0 && d->due[d->fast.v[d->fast.head]] < t)
		t = d->due[d->fast.v[d->fast.head]];
	if (t == UINT64_MAX)
		return t;
	return t > now ? t - now : 0;
}

static double
ts_sec(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* Frames the kernel dropped because our receive buffer was full. */
static void
kernel_drops(struct dir *d)
{
	struct tpacket_stats	 st;
	socklen_t		 sl = sizeof(st);

	/* Reading the statistics resets them: they accumulate here. */
	if (getsockopt(d->in_fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
		d->c.drop_kernel += st.tp_drops;
}

static void
report(struct dir d[2])
{
	struct rusage	 ru;
	struct timespec	 ts;
	double		 cpu, wall, gbit;
	int		 i;

	getrusage(RUSAGE_SELF, &ru);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	cpu = ts_sec(ru.ru_utime) + ts_sec(ru.ru_stime);
	wall = (ts.tv_sec - t_start.tv_sec) +
	    (ts.tv_nsec - t_start.tv_nsec) / 1e9;
	gbit = (d[0].c.tx_bytes + d[1].c.tx_bytes) * 8 / 1e9;
	for (i = 0; i < 2; i++) {
		struct counters *c = &d[i].c;

		kernel_drops(&d[i]);
		printf("wanem: dir=%s in=%s out=%s rx=%" PRIu64
		    " rx_bytes=%" PRIu64 " tx=%" PRIu64 " tx_bytes=%" PRIu64
		    " drop_loss=%" PRIu64 " drop_queue=%" PRIu64
		    " drop_full=%" PRIu64 " drop_gso=%" PRIu64
		    " drop_trunc=%" PRIu64 " drop_send=%" PRIu64
		    " drop_kernel=%" PRIu64 " reordered=%" PRIu64
		    " queued=%u elapsed_s=%.3f cpu_s=%.3f cpu_pct=%.1f"
		    " cpu_s_per_gbit=%.4f\n",
		    d[i].name, d[i].in_if, d[i].out_if, c->rx, c->rx_bytes,
		    c->tx, c->tx_bytes, c->drop_loss, c->drop_queue,
		    c->drop_full, c->drop_gso, c->drop_trunc, c->drop_send,
		    c->drop_kernel, c->reordered, d[i].line.n + d[i].fast.n,
		    wall, cpu, wall > 0 ? 100 * cpu / wall : 0,
		    gbit > 0 ? cpu / gbit : 0);
	}
	fflush(stdout);
}

static void
print_profile(const struct dir *d, const struct opts *o)
{
	printf("wanem: profile dir=%s delay_ms=%.3f jitter_ms=%.3f "
	    "loss_pct=%g reorder_pct=%g rate_bps=%" PRIu64 " queue_bytes=%"
	    PRIu64 " burst_bytes=%" PRIu64 " seed=%" PRIu64 " slots=%u "
	    "slot_size=%zu batch=%u\n", d->name, d->p.delay_ns / 1e6,
	    d->p.jitter_ns / 1e6, d->p.loss * 100, d->p.reorder * 100,
	    d->p.rate_bps, d->p.queue_bytes, d->p.burst_bytes, o->seed,
	    d->nslots, d->slot_size, o->batch);
}

/* Signals are blocked except while ppoll waits: no race, no EINTR mess. */
static void
signals_setup(sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t	 block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &block, waitmask) == -1)
		err(1, "sigprocmask");
	if (sigaction(SIGUSR1, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		err(1, "sigaction");
	sigdelset(waitmask, SIGUSR1);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGHUP);
}

static void
wait_events(struct dir d[2], const int fd[2], const sigset_t *mask,
    bool ready[2])
{
	struct pollfd	 pfd[2];
	struct timespec	 ts, *tp = NULL;
	uint64_t	 now = now_ns(), w;
	int		 i;

	w = dir_wait(&d[0], now);
	if (dir_wait(&d[1], now) < w)
		w = dir_wait(&d[1], now);
	if (w != UINT64_MAX) {
		ts.tv_sec = w / NS_PER_S;
		ts.tv_nsec = w % NS_PER_S;
		tp = &ts;
	}
	for (i = 0; i < 2; i++) {
		pfd[i].fd = fd[i];
		/* fd[i] is d[i]'s input and d[1-i]'s output. */
		pfd[i].events = POLLIN | (d[1 - i].tx_blocked ? POLLOUT : 0);
		pfd[i].revents = 0;
	}
	if (ppoll(pfd, 2, tp, mask) == -1 && errno != EINTR)
		err(1, "ppoll");
	for (i = 0; i < 2; i++) {
		if (pfd[i].revents & (POLLERR | POLLNVAL))
			errx(1, "%s: socket error (interface gone?)",
			    d[i].in_if);
		ready[i] = (pfd[i].revents & POLLIN) != 0;
	}
}

static void
run(struct dir d[2], const int fd[2], const struct opts *o,
    const sigset_t *mask)
{
	bool	 ready[2] = { true, true };
	int	 i;

	while (!got_term) {
		for (i = 0; i < 2; i++)
			if (ready[i])
				dir_rx(&d[i], o->batch);
		for (i = 0; i < 2; i++)
			dir_tx(&d[i], o->batch);
		if (got_usr1) {
			got_usr1 = 0;
			report(d);
		}
		wait_events(d, fd, mask, ready);
	}
}

static void
write_pidfile(const char *path)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		err(1, "pid file %s", path);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) == EOF)
		err(1, "pid file %s", path);
}

int
main(int argc, char *argv[])
{
	struct opts	 o;
	struct dir	 d[2];
	sigset_t	 mask;
	int		 fd[2], mtu[2], i;
	size_t		 frame_max;

	parse_args(argc, argv, &o);
	fd[0] = if_open(o.if_a, &mtu[0]);
	fd[1] = if_open(o.if_b, &mtu[1]);
	/* The larger MTU, an Ethernet header and a VLAN tag. */
	frame_max = (size_t)(mtu[0] > mtu[1] ? mtu[0] : mtu[1]) + 18;
	memset(d, 0, sizeof(d));
	for (i = 0; i < 2; i++)
		dir_init(&d[i], &o, i, fd, frame_max);
	/* The default 50 us slack would add up to 50 us to every delay. */
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	signals_setup(&mask);
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (o.pidfile != NULL)
		write_pidfile(o.pidfile);
	for (i = 0; i < 2; i++)
		print_profile(&d[i], &o);
	printf("wanem: ready pid=%ld a=%s b=%s\n", (long)getpid(), o.if_a,
	    o.if_b);
	fflush(stdout);
	run(d, fd, &o, &mask);
	report(d);
	if (o.pidfile != NULL)
		(void)unlink(o.pidfile);
	for (i = 0; i < 2; i++) {
		dir_free(&d[i]);
		close(fd[i]);
	}
	return 0;
}

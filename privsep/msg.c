/* SPDX-License-Identifier: ISC */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf.h"
#include "privsep/log.h"
#include "privsep/msg.h"

static const char *const msg_errs[MSG_E_MAX] = {
	[MSG_E_NONE] = "no error",
	[MSG_E_SHORT] = "message shorter than its header",
	[MSG_E_TRUNC] = "message length disagrees with its header",
	[MSG_E_TYPE] = "message type not allowed on this channel",
	[MSG_E_LENGTH] = "message length out of bounds for its type",
	[MSG_E_FD] = "descriptor missing or unexpected",
	[MSG_E_ONCE] = "once-only message repeated",
	[MSG_E_FLAGS] = "reserved header flags set",
	[MSG_E_PAYLOAD] = "malformed payload",
};

const char *
msg_strerror(enum msg_err why)
{
	if ((unsigned)why >= MSG_E_MAX)
		return "unknown error";
	return msg_errs[why];
}

void
msg_chan_init(struct msg_chan *c, const char *name,
    const struct msg_table *tab)
{
	c->name = name;
	c->tab = tab;
	c->seen = 0;
}

/* Frames batch: every entry has a bounded length and they tile exactly. */
static enum msg_err
msg_check_frames(const uint8_t *p, size_t len)
{
	size_t		 off = 0, n = 0;

	while (off < len) {
		uint32_t l;

		if (len - off < sizeof(l))
			return MSG_E_PAYLOAD;
		memcpy(&l, p + off, sizeof(l));
		if (l < VNET_FRAME_MIN || l > VNET_FRAME_MAX ||
		    l > len - off - sizeof(l))
			return MSG_E_PAYLOAD;
		off += sizeof(l) + l;
		if (++n > MSG_BATCH_MAXFRAMES)
			return MSG_E_PAYLOAD;
	}
	return n > 0 ? MSG_E_NONE : MSG_E_PAYLOAD;
}

static enum msg_err
msg_check_log(const uint8_t *p, size_t len)
{
	struct msg_log	 ml;
	size_t		 i;

	memcpy(&ml, p, sizeof(ml));
	if (ml.prio > LOG_DEBUG || ml.cls > LOGC_AUDIT)
		return MSG_E_PAYLOAD;
	for (i = sizeof(ml); i < len; i++)
		if (p[i] == '\0' || p[i] == '\n' || p[i] == '\r')
			return MSG_E_PAYLOAD;
	return MSG_E_NONE;
}

static enum msg_err
msg_check_stats(const uint8_t *p, size_t len)
{
	struct msg_stat	 st;
	size_t		 off, i;

	if (len % sizeof(st) != 0)
		return MSG_E_LENGTH;
	for (off = 0; off < len; off += sizeof(st)) {
		memcpy(&st, p + off, sizeof(st));
		if (st.name[0] == '\0')
			return MSG_E_PAYLOAD;
		for (i = 0; i < sizeof(st.name) && st.name[i] != '\0'; i++)
			if (!((st.name[i] >= 'a' && st.name[i] <= 'z') ||
			    (st.name[i] >= '0' && st.name[i] <= '9') ||
			    st.name[i] == '_'))
				return MSG_E_PAYLOAD;
		if (i == sizeof(st.name))	/* not terminated */
			return MSG_E_PAYLOAD;
		for (; i < sizeof(st.name); i++)
			if (st.name[i] != '\0')
				return MSG_E_PAYLOAD;
	}
	return MSG_E_NONE;
}

/* A fixed-size string field: exactly what crypt's logsafe_copy() writes. */
static int
msg_check_str(const char *f, size_t size)
{
	return logsafe_field_ok(f, size) ? 0 : -1;
}

/* Where a string field is in a report's entry, and its size. */
struct msg_strfield {
	size_t	 off;
	size_t	 size;
};
#define STRFIELD(t, f)	{ offsetof(t, f), sizeof(((t *)NULL)->f) }

/*
 * MSG_LINKS, MSG_MACS: a u32 total, then whole entries of esz bytes
 * whose string fields are all clean (vnetctl prints them as they are).
 */
static enum msg_err
msg_check_report(const uint8_t *p, size_t len, size_t esz,
    const struct msg_strfield *sf, size_t nsf)
{
	size_t	 off, i;

	if ((len - 4) % esz != 0)
		return MSG_E_LENGTH;
	for (off = 4; off < len; off += esz)
		for (i = 0; i < nsf; i++)
			if (msg_check_str((const char *)p + off + sf[i].off,
			    sf[i].size) == -1)
				return MSG_E_PAYLOAD;
	return MSG_E_NONE;
}

static enum msg_err
msg_check_links(const uint8_t *p, size_t len)
{
	static const struct msg_strfield sf[] = {
		STRFIELD(struct msg_link, peer),
		STRFIELD(struct msg_link, host),
		STRFIELD(struct msg_link, subject),
		STRFIELD(struct msg_link, tls),
		STRFIELD(struct msg_link, cipher),
		STRFIELD(struct msg_link, transport),
	};

	return msg_check_report(p, len, sizeof(struct msg_link), sf,
	    sizeof(sf) / sizeof(sf[0]));
}

static enum msg_err
msg_check_macs(const uint8_t *p, size_t len)
{
	static const struct msg_strfield sf[] = {
		STRFIELD(struct msg_mac, host),
		STRFIELD(struct msg_mac, peer),
	};

	return msg_check_report(p, len, sizeof(struct msg_mac), sf,
	    sizeof(sf) / sizeof(sf[0]));
}

#undef STRFIELD

/* Whole entries, each a family crypt can dial and a port. */
static enum msg_err
msg_check_addrs(const uint8_t *p, size_t len)
{
	struct msg_addr	 a;
	size_t		 off;

	if (len % sizeof(a) != 0)
		return MSG_E_LENGTH;
	for (off = 0; off < len; off += sizeof(a)) {
		memcpy(&a, p + off, sizeof(a));
		if ((a.family != AF_INET && a.family != AF_INET6) ||
		    a.port == 0)
			return MSG_E_PAYLOAD;
	}
	return MSG_E_NONE;
}

static enum msg_err
msg_check_family(const uint8_t *p, size_t len)
{
	uint16_t	 f;

	(void)len;
	memcpy(&f, p, sizeof(f));
	return f == AF_INET || f == AF_INET6 ? MSG_E_NONE : MSG_E_PAYLOAD;
}

/* Text that lib/ and OpenSSL read as bounded buffers: no NUL inside. */
static enum msg_err
msg_check_text(const uint8_t *p, size_t len)
{
	return memchr(p, '\0', len) == NULL ? MSG_E_NONE : MSG_E_PAYLOAD;
}

/*
 * A request names an algorithm and a digest that exist; whether they
 * are the key's, and whether the content is a CertificateVerify, is
 * the monitor's decision (a refusal, not a broken channel).
 */
static enum msg_err
msg_check_sign_req(const uint8_t *p, size_t len)
{
	struct msg_sign_req	 r;

	(void)len;
	memcpy(&r, p, sizeof(r));
	if (r.alg == 0 || r.alg >= MSG_SIGN_ALG_MAX ||
	    r.md >= MSG_SIGN_MD_MAX)
		return MSG_E_PAYLOAD;
	/* Ed25519 alone takes no digest, and it must take none. */
	if ((r.alg == MSG_SIGN_ED25519) != (r.md == MSG_SIGN_MD_NONE))
		return MSG_E_PAYLOAD;
	return MSG_E_NONE;
}

/* A signature, or a refusal with nothing after it. */
static enum msg_err
msg_check_signature(const uint8_t *p, size_t len)
{
	struct msg_sign_ans	 a;

	memcpy(&a, p, sizeof(a));
	if ((a.status == MSG_SIGN_OK && len > sizeof(a)) ||
	    (a.status == MSG_SIGN_REFUSED && len == sizeof(a)))
		return MSG_E_NONE;
	return MSG_E_PAYLOAD;
}

/* Payload length bounds: min, max. */
#define TEXT(max)	1, (max)
#define EMPTY		0, 0
#define FIXED(t)	sizeof(t), sizeof(t)
#define REPORT(e, n)	4, 4 + sizeof(e) * (n)	/* u32 total, n entries */
#define LIST(e, n)	sizeof(e), sizeof(e) * (n)	/* 1..n entries */

/*
 * Every type's one row. The enum in msg.h says who sends it to whom;
 * each receiver's table says which it accepts.
 */
static const struct msg_type_info msg_types[MSG_TYPE_MAX] = {
	/*		name		length		fd once	payload */
	[MSG_NONE] = { "none",		EMPTY,		0, 0,	NULL },
	[MSG_CONFIG] = { "config",	TEXT(CONF_MAX_TEXT), 0, 1, msg_check_text },
	/* Not once: a reload sends them again, before its MSG_RELOAD. */
	[MSG_PEM_CERT] = { "pem_cert",	TEXT(MSG_MAX_PAYLOAD), 0, 0,
					msg_check_text },
	[MSG_PEM_CA] = { "pem_ca",	TEXT(MSG_MAX_PAYLOAD), 0, 0,
					msg_check_text },
	[MSG_LISTEN_FD] = { "listen_fd", EMPTY,		1, 1,	NULL },
	[MSG_CONNECT_ADDR] = { "connect_addr",
					LIST(struct msg_addr, CONF_MAX_CONNECT),
							0, 1,	msg_check_addrs },
	[MSG_GO] = { "go",		EMPTY,		0, 1,	NULL },
	[MSG_STATS_REQ] = { "stats_req", FIXED(uint64_t), 0, 0,	NULL },
	[MSG_RELOAD] = { "reload",	TEXT(CONF_MAX_TEXT), 0, 0, msg_check_text },
	[MSG_READY] = { "ready",	EMPTY,		0, 1,	NULL },
	[MSG_LOG] = { "log",		sizeof(struct msg_log) + 1,
					sizeof(struct msg_log) + LOG_LINE_MAX,
							0, 0,	msg_check_log },
	[MSG_STATS] = { "stats",	sizeof(struct msg_stat),
					sizeof(struct msg_stat) * MSG_STATS_MAX,
							0, 0,	msg_check_stats },
	[MSG_LINKS] = { "links",	REPORT(struct msg_link, MSG_LINKS_MAX),
							0, 0,	msg_check_links },
	[MSG_MACS] = { "macs",		REPORT(struct msg_mac, MSG_MACS_MAX),
							0, 0,	msg_check_macs },
	[MSG_FRAMES] = { "frames",	4 + VNET_FRAME_MIN, MSG_MAX_PAYLOAD,
							0, 0,	msg_check_frames },
	[MSG_WAKE] = { "wake",		EMPTY,		0, 0,	NULL },
	[MSG_STATS_END] = { "stats_end", FIXED(uint64_t), 0, 0,	NULL },
	[MSG_SIGN_REQ] = { "sign_req",	sizeof(struct msg_sign_req) + 1,
					sizeof(struct msg_sign_req) +
					MSG_SIGN_TBS_MAX, 0, 0,	msg_check_sign_req },
	[MSG_SIGNATURE] = { "signature", sizeof(struct msg_sign_ans),
					sizeof(struct msg_sign_ans) +
					MSG_SIGN_SIG_MAX, 0, 0,	msg_check_signature },
	[MSG_UDP_FD] = { "udp_fd",	FIXED(uint16_t), 1, 0,	msg_check_family },
};

#undef TEXT
#undef EMPTY
#undef FIXED
#undef REPORT
#undef LIST

const struct msg_type_info *
msg_type_info(uint16_t type)
{
	/* A type without its row is carried by no channel. */
	if (type == MSG_NONE || type >= MSG_TYPE_MAX ||
	    msg_types[type].name == NULL)
		return NULL;
	return &msg_types[type];
}

const char *
msg_type_name(uint16_t type)
{
	if (type >= MSG_TYPE_MAX || msg_types[type].name == NULL)
		return "unknown";
	return msg_types[type].name;
}

/* The row for type in tab, its own rows before its base's. */
static const struct msg_rule *
msg_find_rule(const struct msg_table *tab, uint16_t type)
{
	size_t	 i;

	for (; tab != NULL; tab = tab->base)
		for (i = 0; i < tab->nrows; i++)
			if (tab->rows[i].type == type)
				return &tab->rows[i];
	return NULL;
}

/* The channel's rules for one whole message; *rp gets its rule. */
static enum msg_err
msg_check(struct msg_chan *chan, const uint8_t *buf, size_t n, int hasfd,
    struct msg_hdr *h, const struct msg_rule **rp)
{
	const struct msg_type_info	*ti;
	const struct msg_rule		*r;

	if (n < MSG_HDR_LEN)
		return MSG_E_SHORT;
	memcpy(h, buf, sizeof(*h));
	if (h->len != n - MSG_HDR_LEN)
		return MSG_E_TRUNC;
	if (h->flags != 0)
		return MSG_E_FLAGS;
	if ((r = msg_find_rule(chan->tab, h->type)) == NULL ||
	    (ti = msg_type_info(h->type)) == NULL)
		return MSG_E_TYPE;
	if (h->len < ti->minlen || h->len > ti->maxlen)
		return MSG_E_LENGTH;
	if (!!hasfd != !!ti->wantfd)
		return MSG_E_FD;
	if (ti->once && (chan->seen & (1u << h->type)))
		return MSG_E_ONCE;
	*rp = r;
	if (ti->check == NULL)
		return MSG_E_NONE;
	return ti->check(buf + MSG_HDR_LEN, h->len);
}

enum msg_status
msg_decode(struct msg_chan *chan, const uint8_t *buf, size_t n, int hasfd,
    struct msg *m, enum msg_err *why)
{
	struct msg_hdr		 h;
	const struct msg_rule	*r = NULL;

	if ((*why = msg_check(chan, buf, n, hasfd, &h, &r)) != MSG_E_NONE)
		return MSG_ST_VIOLATION;
	if (msg_types[h.type].once)
		chan->seen |= 1u << h.type;
	m->type = h.type;
	m->payload = buf + MSG_HDR_LEN;
	m->len = h.len;
	m->fd = -1;
	m->rule = r;
	return MSG_ST_OK;
}

void
msg_dispatch(struct msg *m, void *ctx)
{
	if (m->rule->fn != NULL)
		m->rule->fn(m, ctx);
	if (m->fd != -1) {
		close(m->fd);
		m->fd = -1;
	}
}

void
batch_reset(struct msg_batch *b)
{
	b->len = MSG_HDR_LEN;
	b->nframes = 0;
}

uint8_t *
batch_reserve(struct msg_batch *b, size_t len)
{
	uint32_t	 l = (uint32_t)len;
	uint8_t		*p;

	if (len < VNET_FRAME_MIN || len > VNET_FRAME_MAX ||
	    b->nframes >= MSG_BATCH_MAXFRAMES ||
	    MSG_MAX - b->len < sizeof(l) + len)
		return NULL;
	memcpy(b->buf + b->len, &l, sizeof(l));
	p = b->buf + b->len + sizeof(l);
	b->len += sizeof(l) + len;
	b->nframes++;
	return p;
}

int
batch_add(struct msg_batch *b, const uint8_t *frame, size_t len)
{
	uint8_t	*p = batch_reserve(b, len);

	if (p == NULL)
		return 0;
	memcpy(p, frame, len);
	return 1;
}

size_t
batch_finish(struct msg_batch *b)
{
	struct msg_hdr	 h = { .type = MSG_FRAMES, .flags = 0 };

	h.len = (uint32_t)(b->len - MSG_HDR_LEN);
	memcpy(b->buf, &h, sizeof(h));
	return b->len;
}

int
batch_next(const uint8_t *payload, size_t plen, size_t *off,
    const uint8_t **frame, size_t *len)
{
	uint32_t	 l;

	if (*off >= plen || plen - *off < sizeof(l))
		return 0;
	memcpy(&l, payload + *off, sizeof(l));
	if (l > plen - *off - sizeof(l))
		return 0;
	*frame = payload + *off + sizeof(l);
	*len = l;
	*off += sizeof(l) + l;
	return 1;
}

int
msg_send_fd(int fd, uint16_t type, const void *payload, size_t len,
    int sendfd)
{
	struct msg_hdr	 h = { .type = type, .flags = 0, .len = (uint32_t)len };
	struct iovec	 iov[2];
	struct msghdr	 mh;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cm;
	ssize_t		 n;

	if (len > MSG_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(uintptr_t)payload;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = len > 0 ? 2 : 1;
	if (sendfd != -1) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &sendfd, sizeof(int));
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	return n == -1 ? -1 : 0;
}

int
msg_send(int fd, uint16_t type, const void *payload, size_t len)
{
	return msg_send_fd(fd, type, payload, len, -1);
}

int
msg_send_log(int fd, int prio, int cls, const char *text)
{
	uint8_t		 buf[sizeof(struct msg_log) + LOG_LINE_MAX];
	struct msg_log	 ml = { .prio = (uint8_t)prio, .cls = (uint8_t)cls };
	size_t		 tl = strnlen(text, LOG_LINE_MAX), i;

	if (tl == 0)
		return 0;
	memcpy(buf, &ml, sizeof(ml));
	for (i = 0; i < tl; i++)
		buf[sizeof(ml) + i] = (text[i] == '\n' || text[i] == '\r') ?
		    ' ' : (uint8_t)text[i];
	return msg_send(fd, MSG_LOG, buf, sizeof(ml) + tl);
}

/* Take the descriptors that came with a message: keep one, close more. */
static int
msg_take_fds(struct msghdr *mh, int *nfds)
{
	struct cmsghdr	*c;
	size_t		 k, cnt;
	int		 rfd = -1, f;

	*nfds = 0;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			memcpy(&f, CMSG_DATA(c) + k * sizeof(int), sizeof(f));
			if (rfd == -1)
				rfd = f;
			else
				close(f);
			(*nfds)++;
		}
	}
	return rfd;
}

enum msg_status
msg_recv(int fd, struct msg_chan *chan, uint8_t *buf, struct msg *m,
    enum msg_err *why)
{
	struct iovec	 iov = { .iov_base = buf, .iov_len = MSG_MAX };
	struct msghdr	 mh;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	ssize_t		 n;
	int		 rfd, nfds;

	*why = MSG_E_NONE;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? MSG_ST_NONE : MSG_ST_SYSERR;
	rfd = msg_take_fds(&mh, &nfds);
	if (n == 0 && nfds == 0)
		return MSG_ST_EOF;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfds > 1)
		*why = (mh.msg_flags & MSG_TRUNC) ? MSG_E_LENGTH : MSG_E_FD;
	else if (msg_decode(chan, buf, (size_t)n, rfd != -1, m, why) ==
	    MSG_ST_OK) {
		m->fd = rfd;
		return MSG_ST_OK;
	}
	if (rfd != -1)
		close(rfd);
	return MSG_ST_VIOLATION;
}

int
msg_socketpair(int sv[2])
{
	int	 sz = 4 * 1024 * 1024, i;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	/* Room for a few full batches; FORCE works as root, else best effort. */
	for (i = 0; i < 2; i++) {
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &sz,
		    sizeof(sz)) == -1)
			(void)setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz,
			    sizeof(sz));
		if (setsockopt(sv[i], SOL_SOCKET, SO_RCVBUFFORCE, &sz,
		    sizeof(sz)) == -1)
			(void)setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &sz,
			    sizeof(sz));
	}
	return 0;
}

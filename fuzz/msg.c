/* SPDX-License-Identifier: ISC */
/*
 * msg_decode() on every channel's table, as msg_recv() calls it for each
 * message a channel delivers, checked against a model of the rules in
 * doc/ARCHITECTURE.md ("Message layer"). A MSG_FRAMES batch is then
 * walked with batch_next() as crypt and inject do, must tile the payload,
 * and must come out byte for byte the same when rebuilt with
 * batch_add(); a MSG_CONFIG payload goes to conf_parse() as in
 * worker_setup().
 *
 * Input: byte 0 chooses the channel (& 7, modulo 6), whether a
 * descriptor came with the message (bit 3) and how many times the same
 * message is delivered on the same channel (bits 4-5, 1..4, for the
 * once-only rules); the rest is the message, header included.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <string.h>
#include <syslog.h>

#include "fuzz/fuzz.h"
#include "lib/conf.h"
#include "privsep/log.h"
#include "privsep/msg.h"

/*
 * Each channel's types, in the order the corpus's first byte names them.
 * The control channels' own tables live with their handlers
 * (monitor/supervise.c, privsep/worker.c, crypt/crypt.c) and carry the
 * same types; the handlers are no part of the decode.
 */
static const struct msg_rule from_worker_rows[] = {
	{ MSG_READY, NULL }, { MSG_LOG, NULL }, { MSG_STATS, NULL },
	{ MSG_STATS_END, NULL },
};
static const struct msg_table from_worker =
    MSG_TABLE(from_worker_rows, NULL);
static const struct msg_rule from_crypt_rows[] = {
	{ MSG_LINKS, NULL }, { MSG_MACS, NULL }, { MSG_SIGN_REQ, NULL },
};
static const struct msg_table from_crypt =
    MSG_TABLE(from_crypt_rows, &from_worker);
static const struct msg_rule worker_rows[] = {
	{ MSG_CONFIG, NULL }, { MSG_GO, NULL }, { MSG_STATS_REQ, NULL },
};
static const struct msg_table worker_ctl = MSG_TABLE(worker_rows, NULL);
static const struct msg_rule crypt_rows[] = {
	{ MSG_PEM_CERT, NULL }, { MSG_PEM_CA, NULL },
	{ MSG_LISTEN_FD, NULL }, { MSG_CONNECT_ADDR, NULL },
	{ MSG_RELOAD, NULL }, { MSG_SIGNATURE, NULL }, { MSG_UDP_FD, NULL },
};
static const struct msg_table crypt_ctl =
    MSG_TABLE(crypt_rows, &worker_ctl);

static const struct {
	const char		*name;
	const struct msg_table	*tab;
} tabs[] = {
	{ "monitor", &from_worker },
	{ "capture_ctl", &worker_ctl },
	{ "crypt_ctl", &crypt_ctl },
	{ "inject_ctl", &worker_ctl },
	{ "frames", &msg_tab_frames },
	{ "monitor_crypt", &from_crypt },
	{ "wake", &msg_tab_wake },
};
#define NTABS	(sizeof(tabs) / sizeof(tabs[0]))

static uint8_t	 batchbuf[MSG_MAX];

static uint32_t
get32h(const uint8_t *p)
{
	uint32_t	 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * A string field of a report: what lib/logsafe.h's rule writes (that
 * rule has its own unit tests, tests/unit/test_logsafe.c).
 */
static int
str_ok(const uint8_t *f, size_t size)
{
	return logsafe_field_ok((const char *)f, size);
}

/* MSG_LINKS / MSG_MACS: a u32 count, then whole entries. */
static int
table_ok(uint16_t type, const uint8_t *p, size_t len)
{
	struct msg_link	 lk;
	struct msg_mac	 mc;
	size_t		 esz = type == MSG_LINKS ? sizeof(lk) : sizeof(mc);
	size_t		 off;

	if (len < 4 || (len - 4) % esz != 0)
		return 0;
	for (off = 4; off < len; off += esz) {
		const uint8_t *e = p + off;

		if (type == MSG_LINKS) {
			if (!str_ok(e + offsetof(struct msg_link, peer),
			    sizeof(lk.peer)) ||
			    !str_ok(e + offsetof(struct msg_link, host),
			    sizeof(lk.host)) ||
			    !str_ok(e + offsetof(struct msg_link, subject),
			    sizeof(lk.subject)) ||
			    !str_ok(e + offsetof(struct msg_link, tls),
			    sizeof(lk.tls)) ||
			    !str_ok(e + offsetof(struct msg_link, cipher),
			    sizeof(lk.cipher)))
				return 0;
		} else if (!str_ok(e + offsetof(struct msg_mac, host),
		    sizeof(mc.host)) ||
		    !str_ok(e + offsetof(struct msg_mac, peer), sizeof(mc.peer)))
			return 0;
	}
	return 1;
}

/*
 * MSG_SIGN_REQ: u32 id, u16 algorithm (1..3), u16 digest (0..3, none
 * exactly for Ed25519), then 1..MSG_SIGN_TBS_MAX bytes to sign.
 */
static int
sign_req_ok(const uint8_t *p, size_t len)
{
	uint16_t	 alg, md;

	if (len < 9 || len > 8 + MSG_SIGN_TBS_MAX)
		return 0;
	memcpy(&alg, p + 4, 2);
	memcpy(&md, p + 6, 2);
	if (alg < 1 || alg > 3 || md > 3)
		return 0;
	return (alg == 3) == (md == 0);
}

/* MSG_SIGNATURE: u32 id, u32 status; 0 with a signature, 1 with none. */
static int
family_ok(const uint8_t *p, size_t len)
{
	uint16_t	 f;

	if (len != sizeof(f))
		return 0;
	memcpy(&f, p, sizeof(f));
	return f == AF_INET || f == AF_INET6;
}

static int
signature_ok(const uint8_t *p, size_t len)
{
	uint32_t	 st;

	if (len < 8 || len > 8 + MSG_SIGN_SIG_MAX)
		return 0;
	st = get32h(p + 4);
	return (st == 0 && len > 8) || (st == 1 && len == 8);
}

/*
 * The payload rules, as the architecture document and privsep/msg.h
 * state them: 1 valid, 0 invalid, -1 for a type this model does not know
 * (added since: only the generic rules are checked for it).
 */
static int
payload_ok(uint16_t type, const uint8_t *p, size_t len)
{
	size_t		 off, n, i;
	uint32_t	 l;

	switch (type) {
	case MSG_FRAMES:
		for (off = 0, n = 0; off < len; off += 4 + l, n++) {
			if (len - off < 4)
				return 0;
			l = get32h(p + off);
			if (l < VNET_FRAME_MIN || l > VNET_FRAME_MAX ||
			    l > len - off - 4)
				return 0;
		}
		return n >= 1 && n <= MSG_BATCH_MAXFRAMES;
	case MSG_LOG:
		if (len < 3 || p[0] > LOG_DEBUG || p[1] > LOGC_AUDIT)
			return 0;
		for (i = 2; i < len; i++)
			if (p[i] == '\0' || p[i] == '\n' || p[i] == '\r')
				return 0;
		return 1;
	case MSG_STATS:
		if (len == 0 || len % sizeof(struct msg_stat) != 0 ||
		    len / sizeof(struct msg_stat) > MSG_STATS_MAX)
			return 0;
		for (off = 0; off < len; off += sizeof(struct msg_stat)) {
			const uint8_t *nm = p + off;

			if (nm[0] == '\0')
				return 0;
			for (i = 0; i < MSG_STAT_NAME && nm[i] != '\0'; i++)
				if (!((nm[i] >= 'a' && nm[i] <= 'z') ||
				    (nm[i] >= '0' && nm[i] <= '9') ||
				    nm[i] == '_'))
					return 0;
			if (i == MSG_STAT_NAME)
				return 0;
			for (; i < MSG_STAT_NAME; i++)
				if (nm[i] != '\0')
					return 0;
		}
		return 1;
	case MSG_CONNECT_ADDR: {
		struct msg_addr	 a;

		/* The proxies in order: 1..CONF_MAX_CONNECT whole entries. */
		if (len == 0 || len % sizeof(a) != 0 ||
		    len / sizeof(a) > CONF_MAX_CONNECT)
			return 0;
		for (off = 0; off < len; off += sizeof(a)) {
			memcpy(&a, p + off, sizeof(a));
			if ((a.family != AF_INET && a.family != AF_INET6) ||
			    a.port == 0)
				return 0;
		}
		return 1;
	}
	case MSG_LINKS:
	case MSG_MACS:
		return table_ok(type, p, len);
	case MSG_CONFIG:
	case MSG_RELOAD:
	case MSG_PEM_CERT:
	case MSG_PEM_CA:
		return memchr(p, '\0', len) == NULL;
	case MSG_GO:
	case MSG_READY:
	case MSG_LISTEN_FD:
		return len == 0;
	case MSG_STATS_REQ:
	case MSG_STATS_END:
		return len == sizeof(uint64_t);	/* the request's id */
	case MSG_UDP_FD:
		return family_ok(p, len);
	case MSG_SIGN_REQ:
		return sign_req_ok(p, len);
	case MSG_SIGNATURE:
		return signature_ok(p, len);
	default:
		return -1;
	}
}

/* Is this payload wrong only by a length no whole number of entries? */
static int
ragged(uint16_t type, size_t len)
{
	switch (type) {
	case MSG_STATS:
		return len % sizeof(struct msg_stat) != 0;
	case MSG_LINKS:
		return len < 4 || (len - 4) % sizeof(struct msg_link) != 0;
	case MSG_MACS:
		return len < 4 || (len - 4) % sizeof(struct msg_mac) != 0;
	case MSG_CONNECT_ADDR:
		return len % sizeof(struct msg_addr) != 0;
	default:
		return 0;
	}
}

/*
 * Expected verdict: MSG_E_NONE or the reason, MSG_E_MAX for a type the
 * model does not know; *rule gets the matching row when there is one
 * (the table's own rows first, then its base's).
 */
static enum msg_err
model(const struct msg_table *tab, uint32_t seen, const uint8_t *buf,
    size_t n, int hasfd, const struct msg_rule **rule)
{
	const struct msg_type_info	*ti;
	const struct msg_table		*t;
	struct msg_hdr			 h;
	size_t				 i;

	*rule = NULL;
	if (n < MSG_HDR_LEN)
		return MSG_E_SHORT;
	memcpy(&h, buf, sizeof(h));
	if (h.len != n - MSG_HDR_LEN)
		return MSG_E_TRUNC;
	if (h.flags != 0)
		return MSG_E_FLAGS;
	for (t = tab; t != NULL && *rule == NULL; t = t->base)
		for (i = 0; i < t->nrows && *rule == NULL; i++)
			if (t->rows[i].type == h.type)
				*rule = &t->rows[i];
	if (*rule == NULL)
		return MSG_E_TYPE;
	FUZZ_ASSERT((ti = msg_type_info(h.type)) != NULL);
	if (h.len < ti->minlen || h.len > ti->maxlen)
		return MSG_E_LENGTH;
	if (!hasfd != !ti->wantfd)
		return MSG_E_FD;
	if (ti->once && (seen & (1u << h.type)))
		return MSG_E_ONCE;
	switch (payload_ok(h.type, buf + MSG_HDR_LEN, h.len)) {
	case 0:
		return MSG_E_PAYLOAD;
	case 1:
		return MSG_E_NONE;
	default:
		return MSG_E_MAX;	/* unknown type: OK or a payload error */
	}
}

/* A valid batch: walk it, check the tiling, rebuild it. */
static void
check_frames(const uint8_t *p, size_t len)
{
	struct msg_batch	 b = { .buf = batchbuf };
	const uint8_t		*f;
	size_t			 off = 0, prev, flen, nf = 0;

	batch_reset(&b);
	for (prev = 0; batch_next(p, len, &off, &f, &flen); prev = off) {
		FUZZ_ASSERT(f == p + prev + 4);
		FUZZ_ASSERT(off == prev + 4 + flen && off <= len);
		FUZZ_ASSERT(flen >= VNET_FRAME_MIN && flen <= VNET_FRAME_MAX);
		FUZZ_ASSERT(get32h(p + prev) == flen);
		FUZZ_ASSERT(batch_add(&b, f, flen) == 1);
		nf++;
	}
	/* The walk ends exactly at the end: the frames tile the payload. */
	FUZZ_ASSERT(off == len);
	FUZZ_ASSERT(nf >= 1 && nf <= MSG_BATCH_MAXFRAMES);
	FUZZ_ASSERT(b.nframes == nf && b.len == MSG_HDR_LEN + len);
	FUZZ_ASSERT(memcmp(b.buf + MSG_HDR_LEN, p, len) == 0);
	/* And the walk, once over, stays over. */
	FUZZ_ASSERT(batch_next(p, len, &off, &f, &flen) == 0 && off == len);
}

static void
check_ok(const struct msg_rule *r, const struct msg *m, const uint8_t *buf,
    size_t n, int hasfd)
{
	struct conf		 c;
	struct conf_error	 err;

	const struct msg_type_info *ti = msg_type_info(m->type);

	FUZZ_ASSERT(r != NULL && m->type == r->type && m->rule == r);
	FUZZ_ASSERT(ti != NULL);
	FUZZ_ASSERT(m->payload == buf + MSG_HDR_LEN);
	FUZZ_ASSERT(m->len == n - MSG_HDR_LEN);
	FUZZ_ASSERT(m->len >= ti->minlen && m->len <= ti->maxlen);
	FUZZ_ASSERT(m->len <= MSG_MAX_PAYLOAD);
	FUZZ_ASSERT(!hasfd == !ti->wantfd);
	FUZZ_ASSERT(m->fd == -1);
	FUZZ_ASSERT(strcmp(msg_type_name(m->type), "unknown") != 0);
	switch (m->type) {
	case MSG_FRAMES:
		check_frames(m->payload, m->len);
		break;
	case MSG_CONFIG:
	case MSG_RELOAD:
		/* worker_setup(), crypt's reload: straight to the parser. */
		if (conf_parse((const char *)m->payload, m->len, &c,
		    &err) == 0)
			conf_free(&c);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct msg_rule	*rule;
	struct msg_chan		 chan;
	struct msg		 m;
	const uint8_t		*buf;
	size_t			 t, n, reps, i;
	uint32_t		 before;
	enum msg_status		 st;
	enum msg_err		 rc, want;
	int			 hasfd;

	if (size < 1)
		return 0;
	t = (size_t)(data[0] & 7) % NTABS;
	hasfd = (data[0] >> 3) & 1;
	reps = (size_t)((data[0] >> 4) & 3) + 1;
	buf = data + 1;
	n = size - 1;

	msg_chan_init(&chan, tabs[t].name, tabs[t].tab);
	for (i = 0; i < reps; i++) {
		before = chan.seen;
		want = model(tabs[t].tab, chan.seen, buf, n, hasfd, &rule);
		memset(&m, 0xa5, sizeof(m));
		st = msg_decode(&chan, buf, n, hasfd, &m, &rc);
		FUZZ_ASSERT(st == MSG_ST_OK || st == MSG_ST_VIOLATION);
		FUZZ_ASSERT((st == MSG_ST_OK) == (rc == MSG_E_NONE));
		/* A length that is no whole number of entries: either name. */
		if (want == MSG_E_PAYLOAD && rule != NULL &&
		    ragged(rule->type, n - MSG_HDR_LEN))
			FUZZ_ASSERT(rc == MSG_E_PAYLOAD ||
			    rc == MSG_E_LENGTH);
		else if (want == MSG_E_MAX)
			FUZZ_ASSERT(rc == MSG_E_NONE || rc == MSG_E_PAYLOAD ||
			    rc == MSG_E_LENGTH);
		else
			FUZZ_ASSERT(rc == want);
		if (rc != MSG_E_NONE) {
			FUZZ_ASSERT(rc > MSG_E_NONE && rc < MSG_E_MAX);
			FUZZ_ASSERT(chan.seen == before);
			FUZZ_ASSERT(strcmp(msg_strerror(rc),
			    "unknown error") != 0);
			continue;
		}
		check_ok(rule, &m, buf, n, hasfd);
		if (msg_type_info(m.type)->once)
			FUZZ_ASSERT(chan.seen == (before | 1u << m.type));
		else
			FUZZ_ASSERT(chan.seen == before);
	}
	return 0;
}

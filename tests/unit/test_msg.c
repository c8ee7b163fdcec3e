/* SPDX-License-Identifier: ISC */
/* The message layer: tables, exact lengths, descriptors, batches. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf.h"
#include "privsep/log.h"
#include "privsep/msg.h"
#include "privsep/worker.h"

static uint8_t	 buf[MSG_MAX];
static uint8_t	 rx[MSG_MAX];

/* Build header + payload in buf; returns total length. */
static size_t
mk(uint16_t type, uint16_t flags, uint32_t hdrlen, const void *p, size_t plen)
{
	struct msg_hdr	 h = { .type = type, .flags = flags, .len = hdrlen };

	memcpy(buf, &h, sizeof(h));
	if (plen > 0)
		memcpy(buf + sizeof(h), p, plen);
	return sizeof(h) + plen;
}

/* msg_decode()'s verdict: MSG_E_NONE for a message, else the reason. */
static enum msg_err
decode(struct msg_chan *c, const uint8_t *b, size_t n, int hasfd,
    struct msg *m)
{
	enum msg_err	 why = MSG_E_MAX;
	enum msg_status	 st;

	st = msg_decode(c, b, n, hasfd, m, &why);
	assert_true(st == MSG_ST_OK || st == MSG_ST_VIOLATION);
	assert_int_equal(st == MSG_ST_OK, why == MSG_E_NONE);
	return why;
}

/*
 * The control channels' tables live with their handlers (the monitor's
 * in monitor/supervise.c, crypt's in crypt/crypt.c); these carry the
 * same types with no handlers. Every worker's is privsep/worker.c's own.
 */
static const struct msg_rule from_worker_rows[] = {
	{ MSG_READY, NULL }, { MSG_LOG, NULL }, { MSG_STATS, NULL },
	{ MSG_STATS_END, NULL },
};
static const struct msg_table from_worker =
    MSG_TABLE(from_worker_rows, NULL);
static const struct msg_rule crypt_rows[] = {
	{ MSG_PEM_CERT, NULL }, { MSG_PEM_CA, NULL }, { MSG_SIGNATURE, NULL },
	{ MSG_LISTEN_FD, NULL }, { MSG_CONNECT_ADDR, NULL },
	{ MSG_RELOAD, NULL }, { MSG_UDP_FD, NULL },
};
static const struct msg_table crypt_ctl =
    MSG_TABLE(crypt_rows, &worker_ctl_table);

static void
chan_worker(struct msg_chan *c)
{
	msg_chan_init(c, "t", &from_worker);
}

static void
test_ready_exact(void **state)
{
	struct msg_chan	 c;
	struct msg	 m;
	uint8_t		 extra = 1;
	size_t		 n;

	(void)state;
	chan_worker(&c);
	n = mk(MSG_READY, 0, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	assert_int_equal(m.type, MSG_READY);
	/* once only */
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_ONCE);
	/* a fixed-size (empty) payload must be exactly that size */
	chan_worker(&c);
	n = mk(MSG_READY, 0, 1, &extra, 1);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_LENGTH);
}

static void
test_header_rules(void **state)
{
	struct msg_chan	 c;
	struct msg	 m;
	size_t		 n;

	(void)state;
	chan_worker(&c);
	assert_int_equal(decode(&c, buf, 3, 0, &m), MSG_E_SHORT);
	n = mk(MSG_READY, 0, 5, NULL, 0);	/* claims 5, carries 0 */
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_TRUNC);
	n = mk(MSG_READY, 1, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_FLAGS);
	/* a worker may not send what only the monitor sends */
	n = mk(MSG_CONFIG, 0, 4, "role", 4);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_TYPE);
	n = mk(MSG_FRAMES, 0, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_TYPE);
	n = mk(9999, 0, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_TYPE);
	/* descriptors only where the table says */
	n = mk(MSG_READY, 0, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 1, &m), MSG_E_FD);
}

static void
test_log_payload(void **state)
{
	struct msg_chan	 c;
	struct msg	 m;
	uint8_t		 p[64] = { LOG_INFO, LOGC_AUDIT, 'e', 'v' };
	size_t		 n;

	(void)state;
	chan_worker(&c);
	n = mk(MSG_LOG, 0, 4, p, 4);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	assert_int_equal(m.len, 4);
	p[3] = '\n';		/* one record, one line */
	n = mk(MSG_LOG, 0, 4, p, 4);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	p[3] = 'v';
	p[1] = 7;		/* no such class */
	n = mk(MSG_LOG, 0, 4, p, 4);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	n = mk(MSG_LOG, 0, 2, p, 2);	/* no text */
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_LENGTH);
}

static void
test_stats_payload(void **state)
{
	struct msg_chan	 c;
	struct msg	 m;
	struct msg_stat	 st[2];
	size_t		 n;

	(void)state;
	chan_worker(&c);
	memset(st, 0, sizeof(st));
	strcpy(st[0].name, "frames");
	st[0].value = 7;
	strcpy(st[1].name, "drop_x");
	n = mk(MSG_STATS, 0, sizeof(st), st, sizeof(st));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	strcpy(st[1].name, "Bad Name");
	n = mk(MSG_STATS, 0, sizeof(st), st, sizeof(st));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	memset(st[1].name, 'a', sizeof(st[1].name));	/* unterminated */
	n = mk(MSG_STATS, 0, sizeof(st), st, sizeof(st));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	n = mk(MSG_STATS, 0, sizeof(st) - 1, st, sizeof(st) - 1);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_LENGTH);
}

/* The proxies a host dials: 1..CONF_MAX_CONNECT whole, clean entries. */
static void
test_connect_list(void **state)
{
	struct msg_chan	 c;
	struct msg	 m;
	struct msg_addr	 a[CONF_MAX_CONNECT + 1];
	size_t		 i, n;

	(void)state;
	memset(a, 0, sizeof(a));
	for (i = 0; i < CONF_MAX_CONNECT + 1; i++) {
		a[i].family = i % 2 ? AF_INET6 : AF_INET;
		a[i].port = (uint16_t)(4789 + i);
	}
	msg_chan_init(&c, "t", &crypt_ctl);
	n = mk(MSG_CONNECT_ADDR, 0, 3 * sizeof(a[0]), a, 3 * sizeof(a[0]));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	assert_int_equal(m.len, 3 * sizeof(a[0]));
	/* Sent once, at setup. */
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_ONCE);
	msg_chan_init(&c, "t", &crypt_ctl);
	n = mk(MSG_CONNECT_ADDR, 0, sizeof(a) - sizeof(a[0]), a,
	    sizeof(a) - sizeof(a[0]));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	msg_chan_init(&c, "t", &crypt_ctl);
	n = mk(MSG_CONNECT_ADDR, 0, sizeof(a), a, sizeof(a));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_LENGTH);
	msg_chan_init(&c, "t", &crypt_ctl);
	n = mk(MSG_CONNECT_ADDR, 0, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_LENGTH);
	msg_chan_init(&c, "t", &crypt_ctl);
	n = mk(MSG_CONNECT_ADDR, 0, sizeof(a[0]) + 1, a, sizeof(a[0]) + 1);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_LENGTH);
	/* One bad entry spoils the list, wherever it is. */
	a[2].port = 0;
	msg_chan_init(&c, "t", &crypt_ctl);
	n = mk(MSG_CONNECT_ADDR, 0, 3 * sizeof(a[0]), a, 3 * sizeof(a[0]));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	a[2].port = 1;
	a[1].family = AF_UNIX;
	msg_chan_init(&c, "t", &crypt_ctl);
	n = mk(MSG_CONNECT_ADDR, 0, 3 * sizeof(a[0]), a, 3 * sizeof(a[0]));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
}

static void
test_crypt_table(void **state)
{
	struct msg_chan	 c;
	struct msg	 m;
	struct msg_addr	 a;
	size_t		 n;

	(void)state;
	msg_chan_init(&c, "t", &crypt_ctl);
	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.port = 4789;
	n = mk(MSG_CONNECT_ADDR, 0, sizeof(a), &a, sizeof(a));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	a.family = AF_UNIX;
	msg_chan_init(&c, "t", &crypt_ctl);
	n = mk(MSG_CONNECT_ADDR, 0, sizeof(a), &a, sizeof(a));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	n = mk(MSG_LISTEN_FD, 0, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_FD);
	assert_int_equal(decode(&c, buf, n, 1, &m), MSG_E_NONE);
	n = mk(MSG_PEM_CA, 0, 3, "a\0b", 3);	/* NUL inside text */
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	/* A reload sends the key material again: not once-only. */
	n = mk(MSG_PEM_CERT, 0, 3, "abc", 3);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	n = mk(MSG_PEM_CA, 0, 3, "abc", 3);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	/* ... but the listening socket still comes once. */
	n = mk(MSG_LISTEN_FD, 0, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 1, &m), MSG_E_ONCE);
	/* capture's table has no key material at all */
	msg_chan_init(&c, "t", &worker_ctl_table);
	n = mk(MSG_PEM_CA, 0, 3, "abc", 3);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_TYPE);
}

/* The signature pair: bounded lengths and the payload rules. */
static void
test_sign_payloads(void **state)
{
	static const struct msg_rule from_crypt_rows[] = {
		{ MSG_SIGN_REQ, NULL },
	};
	static const struct msg_table from_crypt =
	    MSG_TABLE(from_crypt_rows, &from_worker);
	struct msg_sign_req	 r = { .id = 1, .alg = MSG_SIGN_ECDSA,
				    .md = MSG_SIGN_SHA256 };
	struct msg_sign_ans	 a = { .id = 1, .status = MSG_SIGN_OK };
	uint8_t			 p[sizeof(r) + MSG_SIGN_TBS_MAX + 1];
	struct msg_chan		 c;
	struct msg		 m;
	size_t			 n;

	(void)state;
	memset(p, 0x20, sizeof(p));
	msg_chan_init(&c, "t", &from_crypt);
	memcpy(p, &r, sizeof(r));
	n = mk(MSG_SIGN_REQ, 0, sizeof(r) + 130, p, sizeof(r) + 130);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	/* nothing to sign, too much to sign */
	n = mk(MSG_SIGN_REQ, 0, sizeof(r), p, sizeof(r));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_LENGTH);
	n = mk(MSG_SIGN_REQ, 0, sizeof(p), p, sizeof(p));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_LENGTH);
	/* no algorithm; Ed25519 with a digest; ECDSA without one */
	r.alg = 0;
	memcpy(p, &r, sizeof(r));
	n = mk(MSG_SIGN_REQ, 0, sizeof(r) + 1, p, sizeof(r) + 1);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	r.alg = MSG_SIGN_ED25519;
	memcpy(p, &r, sizeof(r));
	n = mk(MSG_SIGN_REQ, 0, sizeof(r) + 1, p, sizeof(r) + 1);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	r.alg = MSG_SIGN_ECDSA;
	r.md = MSG_SIGN_MD_NONE;
	memcpy(p, &r, sizeof(r));
	n = mk(MSG_SIGN_REQ, 0, sizeof(r) + 1, p, sizeof(r) + 1);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	/* only crypt's table has it */
	chan_worker(&c);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_TYPE);

	/* answers: a signature, or a refusal with nothing after it */
	msg_chan_init(&c, "t", &crypt_ctl);
	memcpy(p, &a, sizeof(a));
	n = mk(MSG_SIGNATURE, 0, sizeof(a) + 71, p, sizeof(a) + 71);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	n = mk(MSG_SIGNATURE, 0, sizeof(a), p, sizeof(a));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	a.status = MSG_SIGN_REFUSED;
	memcpy(p, &a, sizeof(a));
	n = mk(MSG_SIGNATURE, 0, sizeof(a), p, sizeof(a));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	n = mk(MSG_SIGNATURE, 0, sizeof(a) + 1, p, sizeof(a) + 1);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	a.status = 2;
	memcpy(p, &a, sizeof(a));
	n = mk(MSG_SIGNATURE, 0, sizeof(a), p, sizeof(a));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_PAYLOAD);
	n = mk(MSG_SIGNATURE, 0, sizeof(a) + MSG_SIGN_SIG_MAX + 1, p, 0);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_TRUNC);
	/* capture takes no signatures */
	msg_chan_init(&c, "t", &worker_ctl_table);
	a.status = MSG_SIGN_REFUSED;
	memcpy(p, &a, sizeof(a));
	n = mk(MSG_SIGNATURE, 0, sizeof(a), p, sizeof(a));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_TYPE);
}

static void
test_batch(void **state)
{
	struct msg_chan	 c;
	struct msg	 m;
	struct msg_batch b;
	uint8_t		 f1[60], f2[1514], *big;
	const uint8_t	*f;
	size_t		 off = 0, len, n;
	uint32_t	 bad;

	(void)state;
	memset(f1, 0x11, sizeof(f1));
	memset(f2, 0x22, sizeof(f2));
	b.buf = buf;
	batch_reset(&b);
	assert_int_equal(batch_add(&b, f1, sizeof(f1)), 1);
	assert_int_equal(batch_add(&b, f2, sizeof(f2)), 1);
	assert_int_equal(batch_add(&b, f1, 3), 0);	/* below minimum */
	assert_int_equal(batch_finish(&b), b.len);
	msg_chan_init(&c, "t", &msg_tab_frames);
	assert_int_equal(decode(&c, buf, b.len, 0, &m), MSG_E_NONE);
	assert_int_equal(batch_next(m.payload, m.len, &off, &f, &len), 1);
	assert_int_equal(len, sizeof(f1));
	assert_memory_equal(f, f1, sizeof(f1));
	assert_int_equal(batch_next(m.payload, m.len, &off, &f, &len), 1);
	assert_int_equal(len, sizeof(f2));
	assert_memory_equal(f, f2, sizeof(f2));
	assert_int_equal(batch_next(m.payload, m.len, &off, &f, &len), 0);

	/* an entry claiming more than is there */
	bad = 5000;
	memcpy(buf + MSG_HDR_LEN, &bad, sizeof(bad));
	assert_int_equal(decode(&c, buf, b.len, 0, &m), MSG_E_PAYLOAD);
	/* an entry below the minimum frame size */
	bad = 4;
	memcpy(buf + MSG_HDR_LEN, &bad, sizeof(bad));
	assert_int_equal(decode(&c, buf, b.len, 0, &m), MSG_E_PAYLOAD);

	/* a batch fills up, then refuses */
	batch_reset(&b);
	big = calloc(1, VNET_FRAME_MAX);
	assert_non_null(big);
	for (n = 0; batch_add(&b, big, VNET_FRAME_MAX); n++)
		;
	assert_true(n >= 3);
	assert_true(b.len <= MSG_MAX);
	assert_null(batch_reserve(&b, VNET_FRAME_MAX + 1));
	free(big);
}

/* Real socketpair: boundaries kept, fd passing, truncation caught. */
static void
test_socketpair(void **state)
{
	struct msg_chan	 c;
	struct msg	 m;
	enum msg_err	 why;
	int		 sv[2], pfd[2];
	uint8_t		 p[3] = { LOG_INFO, LOGC_OPS, 'x' };

	(void)state;
	assert_int_equal(msg_socketpair(sv), 0);
	assert_int_equal(pipe(pfd), 0);
	msg_chan_init(&c, "t", &crypt_ctl);
	assert_int_equal(msg_send_fd(sv[0], MSG_LISTEN_FD, NULL, 0, pfd[0]), 0);
	assert_int_equal(msg_recv(sv[1], &c, rx, &m, &why), MSG_ST_OK);
	assert_int_equal(m.type, MSG_LISTEN_FD);
	assert_true(m.fd >= 0);
	assert_int_equal(fcntl(m.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(m.fd);
	/* a descriptor where none belongs is refused and not leaked */
	assert_int_equal(msg_send_fd(sv[0], MSG_GO, NULL, 0, pfd[0]), 0);
	assert_int_equal(msg_recv(sv[1], &c, rx, &m, &why),
	    MSG_ST_VIOLATION);
	assert_int_equal(why, MSG_E_FD);
	/* wrong type for the channel */
	assert_int_equal(msg_send(sv[0], MSG_LOG, p, sizeof(p)), 0);
	assert_int_equal(msg_recv(sv[1], &c, rx, &m, &why),
	    MSG_ST_VIOLATION);
	assert_int_equal(why, MSG_E_TYPE);
	/* nothing left: EAGAIN, not a hang */
	errno = 0;
	assert_int_equal(msg_recv(sv[1], &c, rx, &m, &why), MSG_ST_NONE);
	assert_int_equal(errno, EAGAIN);
	/* over the hard maximum is refused by the sender */
	assert_int_equal(msg_send(sv[0], MSG_CONFIG, rx, MSG_MAX_PAYLOAD + 1),
	    -1);
	assert_int_equal(errno, EMSGSIZE);
	close(sv[0]);
	assert_int_equal(msg_recv(sv[1], &c, rx, &m, &why), MSG_ST_EOF);
	close(sv[1]);
	close(pfd[0]);
	close(pfd[1]);
}

/* A report request and its end carry the request's id, exactly. */
static void
test_report_id(void **state)
{
	struct msg_chan	 c;
	struct msg	 m;
	uint64_t	 id = 42;
	size_t		 n;

	(void)state;
	msg_chan_init(&c, "t", &worker_ctl_table);
	n = mk(MSG_STATS_REQ, 0, sizeof(id), &id, sizeof(id));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	assert_memory_equal(m.payload, &id, sizeof(id));
	n = mk(MSG_STATS_REQ, 0, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_LENGTH);
	chan_worker(&c);
	n = mk(MSG_STATS_END, 0, sizeof(id), &id, sizeof(id));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE); /* not once */
	n = mk(MSG_STATS_END, 0, 4, &id, 4);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_LENGTH);
	/* a worker never asks the monitor for a report */
	n = mk(MSG_STATS_REQ, 0, sizeof(id), &id, sizeof(id));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_TYPE);
}

static int	 handled[MSG_TYPE_MAX];

static void
count(struct msg *m, void *ctx)
{
	assert_ptr_equal(ctx, handled);
	handled[m->type]++;
}

static void
keep_fd(struct msg *m, void *ctx)
{
	count(m, ctx);
	m->fd = -1;
}

/* A row finds its handler, over a base; descriptors left are closed. */
static void
test_dispatch(void **state)
{
	static const struct msg_rule base_rows[] = {
		{ MSG_GO, NULL }, { MSG_STATS_REQ, NULL },
	};
	static const struct msg_table base = MSG_TABLE(base_rows, NULL);
	static const struct msg_rule rows[] = {
		{ MSG_STATS_REQ, count }, { MSG_LISTEN_FD, keep_fd },
		{ MSG_RELOAD, count },
	};
	static const struct msg_table tab = MSG_TABLE(rows, &base);
	struct msg_chan	 c;
	struct msg	 m;
	uint64_t	 id = 7;
	int		 pfd[2];
	size_t		 n;

	(void)state;
	memset(handled, 0, sizeof(handled));
	msg_chan_init(&c, "t", &tab);
	/* the base's row: accepted, no handler */
	n = mk(MSG_GO, 0, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	msg_dispatch(&m, handled);
	assert_int_equal(handled[MSG_GO], 0);
	/* the table's own row hides the base's */
	n = mk(MSG_STATS_REQ, 0, sizeof(id), &id, sizeof(id));
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_NONE);
	msg_dispatch(&m, handled);
	assert_int_equal(handled[MSG_STATS_REQ], 1);
	/* a handler that keeps the descriptor; one that does not */
	assert_int_equal(pipe(pfd), 0);
	n = mk(MSG_LISTEN_FD, 0, 0, NULL, 0);
	assert_int_equal(decode(&c, buf, n, 1, &m), MSG_E_NONE);
	m.fd = pfd[0];
	msg_dispatch(&m, handled);
	assert_int_equal(handled[MSG_LISTEN_FD], 1);
	assert_int_not_equal(fcntl(pfd[0], F_GETFD), -1);
	m.rule = &rows[2];
	m.type = MSG_RELOAD;
	m.fd = pfd[0];
	msg_dispatch(&m, handled);
	assert_int_equal(handled[MSG_RELOAD], 1);
	assert_int_equal(m.fd, -1);
	assert_int_equal(fcntl(pfd[0], F_GETFD), -1);	/* closed */
	close(pfd[1]);
	/* neither table has it */
	n = mk(MSG_CONFIG, 0, 1, "x", 1);
	assert_int_equal(decode(&c, buf, n, 0, &m), MSG_E_TYPE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_exact),
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_log_payload),
		cmocka_unit_test(test_stats_payload),
		cmocka_unit_test(test_crypt_table),
		cmocka_unit_test(test_connect_list),
		cmocka_unit_test(test_sign_payloads),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_socketpair),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_report_id),
	};

	return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}

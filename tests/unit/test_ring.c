/* SPDX-License-Identifier: ISC */
/*
 * The data rings: messages through shared memory, doorbells beside
 * them, and peers that lie about positions and lengths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/frame.h"
#include "privsep/msg.h"
#include "privsep/ring.h"

/* Where the positions sit in the header page (privsep/ring.c). */
#define OFF_TAIL	0
#define OFF_HEAD	64

struct pair {
	struct ring	 tx, rx;
	struct msg_chan	 chan, bell;
	int		 sv[2];
	uint8_t		*raw;		/* a third mapping: the hostile peer */
	int		 fd;		/* kept for a restarted peer */
};

static uint8_t	 fallback[MSG_MAX];
static uint8_t	 rxbuf[MSG_MAX];

static void
pair_open(struct pair *p)
{
	int	 fd;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p->sv), 0);
	assert_true((fd = ring_create()) != -1);
	p->raw = mmap(NULL, RING_HDR_LEN + RING_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	assert_true(p->raw != MAP_FAILED);
	p->fd = fd;
	assert_int_equal(ring_attach(&p->tx, dup(fd), p->sv[0], 1), 0);
	assert_int_equal(ring_attach(&p->rx, dup(fd), p->sv[1], 0), 0);
	msg_chan_init(&p->chan, "t", &msg_tab_frames);
	msg_chan_init(&p->bell, "t", &msg_tab_wake);
}

static void
pair_close(struct pair *p)
{
	ring_detach(&p->tx);
	ring_detach(&p->rx);
	munmap(p->raw, RING_HDR_LEN + RING_SIZE);
	close(p->fd);
	close(p->sv[0]);
	close(p->sv[1]);
}

static uint32_t
raw_get(struct pair *p, size_t off)
{
	uint32_t	 v;

	memcpy(&v, p->raw + off, sizeof(v));
	return v;
}

static void
raw_put(struct pair *p, size_t off, uint32_t v)
{
	memcpy(p->raw + off, &v, sizeof(v));
}

/* Doorbells waiting on the consumer's socket. */
static int
bells(struct pair *p)
{
	uint8_t	 b[64];
	int	 n = 0;

	while (recv(p->sv[1], b, sizeof(b), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

/* A batch of nf frames of len bytes, frame i filled with seed + i. */
static int
send_frames(struct pair *p, struct msg_batch *b, int nf, size_t len, int seed)
{
	uint8_t	 f[VNET_FRAME_MAX];
	int	 i;

	for (i = 0; i < nf; i++) {
		memset(f, seed + i, len);
		assert_true(batch_add(b, f, len));
	}
	return ring_send_batch(&p->tx, b);
}

static void
expect_frames(struct pair *p, int nf, size_t len, int seed)
{
	struct msg	 m;
	enum msg_err	 why;
	const uint8_t	*f;
	size_t		 off = 0, l;
	int		 i = 0;

	assert_int_equal(ring_recv(&p->rx, &p->chan, &p->bell, rxbuf, &m, &why),
	    MSG_ST_OK);
	assert_int_equal(m.type, MSG_FRAMES);
	while (batch_next(m.payload, m.len, &off, &f, &l)) {
		assert_int_equal(l, len);
		assert_int_equal(f[0], (uint8_t)(seed + i));
		assert_int_equal(f[l - 1], (uint8_t)(seed + i));
		i++;
	}
	assert_int_equal(i, nf);
}

static void
test_roundtrip_and_doorbell(void **state)
{
	struct pair	 p;
	struct msg_batch b;
	struct msg	 m;
	enum msg_err	 why;

	(void)state;
	pair_open(&p);
	ring_batch_start(&p.tx, &b, fallback);
	/* Built in place: the batch lives in the ring, not the fallback. */
	assert_ptr_not_equal(b.buf, fallback);
	assert_false(ring_pending(&p.rx));
	assert_int_equal(send_frames(&p, &b, 3, 60, 1), 0);
	assert_int_equal(send_frames(&p, &b, 1, 1514, 9), 0);
	/* One doorbell: only the first batch found the ring empty. */
	assert_true(ring_pending(&p.rx));
	assert_int_equal(bells(&p), 1);
	expect_frames(&p, 3, 60, 1);
	expect_frames(&p, 1, 1514, 9);
	assert_false(ring_pending(&p.rx));
	assert_int_equal(ring_recv(&p.rx, &p.chan, &p.bell, rxbuf, &m, &why),
	    MSG_ST_NONE);
	/* Drained: the next batch rings again. */
	assert_int_equal(send_frames(&p, &b, 1, 64, 3), 0);
	assert_int_equal(bells(&p), 1);
	expect_frames(&p, 1, 64, 3);
	pair_close(&p);
}

/* Round many times past the end: records stay whole (the mirror). */
static void
test_wraparound(void **state)
{
	struct pair	 p;
	struct msg_batch b;
	int		 i;

	(void)state;
	pair_open(&p);
	ring_batch_start(&p.tx, &b, fallback);
	for (i = 0; i < 3000; i++) {
		assert_int_equal(send_frames(&p, &b, 7, 1000 + i % 500, i),
		    0);
		expect_frames(&p, 7, 1000 + i % 500, i);
	}
	/* 3000 batches of over 7000 bytes: round the 4 MiB ring 5 times. */
	assert_true(raw_get(&p, OFF_TAIL) > 5u * RING_SIZE);
	assert_int_equal(raw_get(&p, OFF_TAIL), raw_get(&p, OFF_HEAD));
	pair_close(&p);
}

/* A consumer that reads nothing: the producer drops, never overwrites. */
static void
test_full(void **state)
{
	struct pair	 p;
	struct msg_batch b;
	int		 i, sent = 0, full = 0;

	(void)state;
	pair_open(&p);
	ring_batch_start(&p.tx, &b, fallback);
	for (i = 0; i < 200; i++) {
		if (send_frames(&p, &b, 40, 1514, i) == 0)
			sent++;
		else
			full++;
	}
	assert_true(full > 0);
	assert_true(sent > 0);
	assert_true(raw_get(&p, OFF_TAIL) <= RING_SIZE);
	/* What was accepted comes out intact and in order. */
	for (i = 0; i < sent; i++)
		expect_frames(&p, 40, 1514, i);
	assert_false(ring_pending(&p.rx));
	pair_close(&p);
}

/* A producer that moves its tail past what it may have written. */
static void
test_hostile_tail(void **state)
{
	struct pair	 p;
	struct msg	 m;
	enum msg_err	 why;

	(void)state;
	pair_open(&p);
	raw_put(&p, OFF_TAIL, RING_SIZE + 8);
	assert_int_equal(ring_recv(&p.rx, &p.chan, &p.bell, rxbuf, &m, &why),
	    MSG_ST_VIOLATION);
	assert_int_equal(why, MSG_E_TRUNC);
	raw_put(&p, OFF_TAIL, 4);	/* less than a header */
	assert_int_equal(ring_recv(&p.rx, &p.chan, &p.bell, rxbuf, &m, &why),
	    MSG_ST_VIOLATION);
	assert_int_equal(why, MSG_E_TRUNC);
	pair_close(&p);
}

/* Lengths that overrun what was published, and types out of table. */
static void
test_hostile_record(void **state)
{
	struct pair	 p;
	struct msg	 m;
	enum msg_err	 why;
	struct msg_hdr	 h = { .type = MSG_FRAMES, .flags = 0 };
	uint8_t		*d;

	(void)state;
	pair_open(&p);
	d = p.raw + RING_HDR_LEN;
	h.len = 4096;			/* published: 64 */
	memcpy(d, &h, sizeof(h));
	raw_put(&p, OFF_TAIL, 64);
	assert_int_equal(ring_recv(&p.rx, &p.chan, &p.bell, rxbuf, &m, &why),
	    MSG_ST_VIOLATION);
	assert_int_equal(why, MSG_E_TRUNC);
	h.len = MSG_MAX_PAYLOAD + 1;
	memcpy(d, &h, sizeof(h));
	raw_put(&p, OFF_TAIL, RING_SIZE);
	assert_int_equal(ring_recv(&p.rx, &p.chan, &p.bell, rxbuf, &m, &why),
	    MSG_ST_VIOLATION);
	assert_int_equal(why, MSG_E_TRUNC);
	/* Whole, but not a frames message: the channel's table says no. */
	h.type = MSG_CONFIG;
	h.len = 56;
	memcpy(d, &h, sizeof(h));
	raw_put(&p, OFF_TAIL, 64);
	assert_int_equal(ring_recv(&p.rx, &p.chan, &p.bell, rxbuf, &m, &why),
	    MSG_ST_VIOLATION);
	assert_int_equal(why, MSG_E_TYPE);
	pair_close(&p);
}

/* A consumer whose head is ahead of the tail: taken as full. */
static void
test_hostile_head(void **state)
{
	struct pair	 p;
	struct msg_batch b;

	(void)state;
	pair_open(&p);
	raw_put(&p, OFF_HEAD, 4096);
	assert_null(ring_reserve(&p.tx, 64));
	ring_batch_start(&p.tx, &b, fallback);
	assert_ptr_equal(b.buf, fallback);
	assert_int_equal(send_frames(&p, &b, 1, 64, 0), -1);
	/* It comes back to its senses: the producer goes on. */
	raw_put(&p, OFF_HEAD, 0);
	assert_int_equal(send_frames(&p, &b, 1, 64, 5), 0);
	pair_close(&p);
}

/* Only a doorbell may come on the socket beside the ring. */
static void
test_hostile_doorbell(void **state)
{
	struct pair	 p;
	struct msg	 m;
	enum msg_err	 why;
	uint8_t		 junk[64];
	struct msg_hdr	 h = { .type = MSG_FRAMES, .flags = 0, .len = 56 };

	(void)state;
	pair_open(&p);
	memset(junk, 0, sizeof(junk));
	memcpy(junk, &h, sizeof(h));
	assert_int_equal(send(p.sv[0], junk, sizeof(junk), 0), 64);
	assert_int_equal(ring_recv(&p.rx, &p.chan, &p.bell, rxbuf, &m, &why),
	    MSG_ST_VIOLATION);
	assert_int_equal(why, MSG_E_TYPE);
	close(p.sv[0]);
	p.sv[0] = -1;
	errno = 0;
	assert_int_equal(ring_recv(&p.rx, &p.chan, &p.bell, rxbuf, &m, &why),
	    MSG_ST_SYSERR);
	assert_int_equal(errno, EPIPE);
	pair_close(&p);
}

/* A memfd the monitor did not seal is refused; a restart resumes. */
static void
test_attach(void **state)
{
	struct pair	 p;
	struct ring	 r;
	struct msg_batch b;
	int		 fd;

	(void)state;
	assert_true((fd = memfd_create("t", MFD_CLOEXEC)) != -1);
	assert_int_equal(ftruncate(fd, RING_HDR_LEN + RING_SIZE), 0);
	assert_int_equal(ring_attach(&r, fd, -1, 0), -1);
	assert_int_equal(errno, EPERM);

	pair_open(&p);
	ring_batch_start(&p.tx, &b, fallback);
	assert_int_equal(send_frames(&p, &b, 2, 100, 7), 0);
	assert_int_equal(send_frames(&p, &b, 2, 100, 8), 0);
	expect_frames(&p, 2, 100, 7);
	/* The consumer dies; its successor starts where it stopped. */
	ring_detach(&p.rx);
	assert_int_equal(ring_attach(&p.rx, dup(p.fd), p.sv[1], 0), 0);
	expect_frames(&p, 2, 100, 8);
	assert_false(ring_pending(&p.rx));
	/* And so does a new producer. */
	ring_detach(&p.tx);
	assert_int_equal(ring_attach(&p.tx, dup(p.fd), p.sv[0], 1), 0);
	ring_batch_start(&p.tx, &b, fallback);
	assert_int_equal(send_frames(&p, &b, 1, 100, 9), 0);
	expect_frames(&p, 1, 100, 9);
	pair_close(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_doorbell),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_hostile_tail),
		cmocka_unit_test(test_hostile_record),
		cmocka_unit_test(test_hostile_head),
		cmocka_unit_test(test_hostile_doorbell),
		cmocka_unit_test(test_attach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "privsep/ring.h"

#define RING_MASK	((uint32_t)RING_SIZE - 1)

/* The header page. Each position has a cache line of its own. */
struct ring_shm {
	_Alignas(64) _Atomic uint32_t tail;	/* written by the producer */
	_Alignas(64) _Atomic uint32_t head;	/* written by the consumer */
};

_Static_assert((RING_SIZE & (RING_SIZE - 1)) == 0, "ring size: power of 2");
_Static_assert(RING_SIZE >= 4 * MSG_MAX, "ring: room for a few batches");
_Static_assert(sizeof(struct ring_shm) <= RING_HDR_LEN, "ring header");

static size_t
ring_align(size_t len)
{
	return (len + RING_ALIGN - 1) & ~(size_t)(RING_ALIGN - 1);
}

int
ring_create(void)
{
	int	 fd;

	if ((fd = memfd_create("vnet-ring", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	if (ftruncate(fd, RING_HDR_LEN + RING_SIZE) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
ring_attach(struct ring *r, int memfd, int bell, int writer)
{
	uint8_t	*base, *d;
	int	 dprot = writer ? PROT_READ | PROT_WRITE : PROT_READ;
	int	 seals, save;

	memset(r, 0, sizeof(*r));
	r->bell = bell;
	/* Only a ring the monitor sealed: nobody can shrink it under us. */
	seals = fcntl(memfd, F_GET_SEALS);
	if (seals == -1 || (seals & (F_SEAL_SHRINK | F_SEAL_SEAL)) !=
	    (F_SEAL_SHRINK | F_SEAL_SEAL)) {
		errno = EPERM;
		goto fail;
	}
	r->maplen = RING_HDR_LEN + 2 * (size_t)RING_SIZE;
	base = mmap(NULL, r->maplen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (base == MAP_FAILED)
		goto fail;
	r->map = base;
	d = base + RING_HDR_LEN;
	if (mmap(base, RING_HDR_LEN, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_FIXED, memfd, 0) == MAP_FAILED ||
	    mmap(d, RING_SIZE, dprot, MAP_SHARED | MAP_FIXED, memfd,
	    RING_HDR_LEN) == MAP_FAILED ||
	    mmap(d + RING_SIZE, RING_SIZE, dprot, MAP_SHARED | MAP_FIXED, memfd,
	    RING_HDR_LEN) == MAP_FAILED)
		goto fail;
	r->shm = (struct ring_shm *)(void *)base;
	if (writer) {
		r->wdata = d;
		r->pos = atomic_load_explicit(&r->shm->tail,
		    memory_order_relaxed);
	} else {
		r->rdata = d;
		r->pos = atomic_load_explicit(&r->shm->head,
		    memory_order_relaxed);
	}
	close(memfd);
	return 0;
fail:
	save = errno;
	ring_detach(r);
	close(memfd);
	errno = save;
	return -1;
}

void
ring_detach(struct ring *r)
{
	if (r->map != NULL)
		(void)munmap(r->map, r->maplen);
	r->map = NULL;
	r->shm = NULL;
	r->rdata = NULL;
	r->wdata = NULL;
}

uint8_t *
ring_reserve(struct ring *r, size_t len)
{
	uint32_t	 head, used;

	head = atomic_load_explicit(&r->shm->head, memory_order_acquire);
	used = r->pos - head;
	/* A head that is not behind our tail is a lie: treat as full. */
	if (used > RING_SIZE || len > RING_SIZE - used)
		return NULL;
	return r->wdata + (r->pos & RING_MASK);
}

void
ring_commit(struct ring *r, size_t len)
{
	struct msg_hdr	 h = { .type = MSG_WAKE, .flags = 0, .len = 0 };
	uint32_t	 was = r->pos, head;

	r->pos += (uint32_t)ring_align(len);
	atomic_store_explicit(&r->shm->tail, r->pos, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	head = atomic_load_explicit(&r->shm->head, memory_order_relaxed);
	/* It was empty: the consumer may sleep. A full socket rang already. */
	if (head == was)
		(void)send(r->bell, &h, sizeof(h), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The next batch: in the ring if a whole one fits, else the fallback. */
static void
ring_batch_next(struct ring *r, struct msg_batch *b)
{
	uint8_t	*p = ring_reserve(r, MSG_MAX);

	b->buf = p != NULL ? p : r->fallback;
	batch_reset(b);
}

void
ring_batch_start(struct ring *r, struct msg_batch *b, uint8_t *fallback)
{
	r->fallback = fallback;
	ring_batch_next(r, b);
}

int
ring_send_batch(struct ring *r, struct msg_batch *b)
{
	size_t	 len = batch_finish(b);
	uint8_t	*p;
	int	 rv = 0;

	if (b->buf != r->fallback)
		ring_commit(r, len);		/* reserved when started */
	else if ((p = ring_reserve(r, len)) != NULL) {
		memcpy(p, b->buf, len);
		ring_commit(r, len);
	} else
		rv = -1;
	ring_batch_next(r, b);
	return rv;
}

int
ring_pending(const struct ring *r)
{
	return atomic_load_explicit(&r->shm->tail, memory_order_acquire) !=
	    r->pos;
}

/*
 * Read and check every doorbell waiting on the socket, with the message
 * layer's own receive (buf: MSG_MAX bytes, free while the ring is empty).
 * MSG_ST_NONE once they are all read.
 */
static enum msg_status
ring_drain_bell(struct ring *r, struct msg_chan *bellchan, uint8_t *buf,
    enum msg_err *why)
{
	struct msg	 m;
	enum msg_status	 st;

	while ((st = msg_recv(r->bell, bellchan, buf, &m, why)) == MSG_ST_OK)
		;
	if (st == MSG_ST_EOF) {
		/* The producer's end is gone: a broken pipe, as it always was. */
		errno = EPIPE;
		return MSG_ST_SYSERR;
	}
	return st;
}

enum msg_status
ring_recv(struct ring *r, struct msg_chan *chan, struct msg_chan *bellchan,
    uint8_t *buf, struct msg *m, enum msg_err *why)
{
	struct msg_hdr	 h;
	uint32_t	 tail, avail;
	size_t		 n;
	enum msg_status	 st;

	*why = MSG_E_NONE;
	tail = atomic_load_explicit(&r->shm->tail, memory_order_acquire);
	if (tail == r->pos) {
		/* Empty: take the doorbells, then look once more (fenced). */
		if ((st = ring_drain_bell(r, bellchan, buf, why)) != MSG_ST_NONE)
			return st;
		atomic_thread_fence(memory_order_seq_cst);
		tail = atomic_load_explicit(&r->shm->tail,
		    memory_order_acquire);
		if (tail == r->pos)
			return MSG_ST_NONE;
	}
	avail = tail - r->pos;
	if (avail > RING_SIZE || avail < MSG_HDR_LEN) {
		*why = MSG_E_TRUNC;
		return MSG_ST_VIOLATION;
	}
	memcpy(&h, r->rdata + (r->pos & RING_MASK), sizeof(h));
	if (h.len > MSG_MAX_PAYLOAD || MSG_HDR_LEN + h.len > avail ||
	    ring_align(MSG_HDR_LEN + h.len) > avail) {
		*why = MSG_E_TRUNC;
		return MSG_ST_VIOLATION;
	}
	/* Our own copy: the producer can change the ring, not this. */
	n = MSG_HDR_LEN + h.len;
	memcpy(buf, r->rdata + (r->pos & RING_MASK), n);
	r->pos += (uint32_t)ring_align(n);
	atomic_store_explicit(&r->shm->head, r->pos, memory_order_release);
	/* Before sleeping on an empty ring the producer must see our head. */
	atomic_thread_fence(memory_order_seq_cst);
	return msg_decode(chan, buf, n, 0, m, why);
}

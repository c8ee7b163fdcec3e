/* SPDX-License-Identifier: ISC */
/*
 * The data channels' frames travel through shared-memory rings; the
 * socketpair beside each ring only carries doorbells (MSG_WAKE).
 *
 * A ring is one sealed memfd made by the monitor: a header page with the
 * two positions, then RING_SIZE bytes of data mapped twice back to back,
 * so a record never wraps. The producer writes whole messages (struct
 * msg_hdr and payload, as on a socket) and publishes them by moving the
 * tail; the consumer copies each one out to private memory before it
 * looks at it, and decodes that copy against its channel's table, as it
 * would a message read from a socket.
 *
 * Neither side trusts the other with anything:
 *  - each keeps its own position and only publishes it (a peer that
 *    scribbles over the header changes nothing but its own view);
 *  - the consumer maps the data read-only and rejects a tail or a length
 *    that does not fit (a broken channel, fatal as on a socket);
 *  - the producer only ever writes inside its own mapping, whatever the
 *    consumer's head says: a lying consumer can only lose its own frames;
 *  - the memfd is sealed against shrinking, so no peer can make the
 *    other fault on a truncated mapping.
 *
 * Doorbells: the producer rings when the ring was empty before its
 * record (the consumer may be asleep); the consumer only sleeps after it
 * found the ring empty. A fence on each side (store own position, fence,
 * load the other's) makes one of them see the other, so no wakeup is
 * lost. A consumer that stops early (a fairness bound) must not sleep
 * while ring_pending() says there is more.
 */
#ifndef VNET_PRIVSEP_RING_H
#define VNET_PRIVSEP_RING_H

#include <stddef.h>
#include <stdint.h>

#include "privsep/msg.h"

#define RING_HDR_LEN	(64 * 1024)		/* a multiple of any page */
#define RING_SIZE	(4 * 1024 * 1024)	/* a power of two */
#define RING_ALIGN	8

struct ring_shm;

struct ring {
	struct ring_shm	*shm;
	const uint8_t	*rdata;		/* consumer: data, read-only */
	uint8_t		*wdata;		/* producer: data, writable */
	uint32_t	 pos;		/* our own position (head or tail) */
	int		 bell;		/* the doorbell socket */
	uint8_t		*fallback;	/* producer: a batch when the ring is full */
	void		*map;
	size_t		 maplen;
};

/* The monitor: a new sealed ring memfd (close-on-exec), or -1. */
int	 ring_create(void);
/*
 * A worker, before its drop: map the ring memfd as producer (writer 1)
 * or consumer, with bell as the doorbell socket. Closes memfd. 0 or -1.
 */
int	 ring_attach(struct ring *, int memfd, int bell, int writer);
void	 ring_detach(struct ring *);

/* Producer: len contiguous writable bytes at the tail, or NULL if full. */
uint8_t	*ring_reserve(struct ring *, size_t len);
/*
 * Producer: publish the message of len bytes written at the last
 * reservation, ringing the doorbell if the consumer may be asleep.
 */
void	 ring_commit(struct ring *, size_t len);
/*
 * Producer: start batching into b, in the ring when there is room for a
 * whole batch, else in fallback (MSG_MAX bytes), which the ring keeps.
 */
void	 ring_batch_start(struct ring *, struct msg_batch *, uint8_t *fallback);
/*
 * Producer: send b. In the ring already it is published in place; else
 * it is copied in if it fits. 0, or -1 if the ring is full (the batch is
 * dropped). The next batch starts as ring_batch_start() says.
 */
int	 ring_send_batch(struct ring *, struct msg_batch *);

/*
 * Consumer: the next message, copied into buf (MSG_MAX bytes) and
 * decoded against chan: MSG_ST_OK with *m, MSG_ST_NONE if the ring is
 * empty (doorbells drained), MSG_ST_SYSERR on the doorbell socket
 * (errno; EPIPE once the producer's end is gone), or MSG_ST_VIOLATION
 * with the reason in *why for a broken channel.
 */
enum msg_status ring_recv(struct ring *, struct msg_chan *chan,
	    struct msg_chan *bellchan, uint8_t *buf, struct msg *m,
	    enum msg_err *why);
/* Consumer: 1 if there are messages left to read. */
int	 ring_pending(const struct ring *);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * The data ring's consumer (privsep/ring.c, ring_recv) against a hostile
 * producer: the input is the producer's published tail (4 bytes, host
 * order) and the first bytes of the ring's data. The consumer reads
 * until the ring is empty or the channel is broken; whatever it returns
 * must be a whole frames message that lay inside what was published.
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "privsep/msg.h"
#include "privsep/ring.h"

static int	 memfd = -1, sv[2];
static uint8_t	*raw;
static uint8_t	 buf[MSG_MAX];

static void
setup(void)
{
	FUZZ_ASSERT((memfd = ring_create()) != -1);
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	raw = mmap(NULL, RING_HDR_LEN + RING_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED, memfd, 0);
	FUZZ_ASSERT(raw != MAP_FAILED);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ring	 r;
	struct msg_chan	 chan, bell;
	struct msg	 m;
	enum msg_err	 why;
	enum msg_status	 st;
	uint32_t	 tail, used = 0;
	size_t		 n, rec;
	int		 k;

	if (memfd == -1)
		setup();
	if (size < 4)
		return 0;
	memcpy(&tail, data, 4);
	n = size - 4 < RING_SIZE ? size - 4 : RING_SIZE;
	memset(raw, 0, 128);			/* head = 0, tail below */
	memcpy(raw + RING_HDR_LEN, data + 4, n);
	memcpy(raw, &tail, 4);
	FUZZ_ASSERT(ring_attach(&r, dup(memfd), sv[1], 0) == 0);
	msg_chan_init(&chan, "fuzz", &msg_tab_frames);
	msg_chan_init(&bell, "fuzz", &msg_tab_wake);
	for (k = 0; k < 64; k++) {
		st = ring_recv(&r, &chan, &bell, buf, &m, &why);
		if (st != MSG_ST_OK) {
			FUZZ_ASSERT(st == MSG_ST_NONE ||
			    (st == MSG_ST_VIOLATION && why != MSG_E_NONE));
			/* Empty means everything published was taken. */
			FUZZ_ASSERT(st != MSG_ST_NONE || used == tail);
			break;
		}
		FUZZ_ASSERT(m.type == MSG_FRAMES);
		FUZZ_ASSERT(m.payload == buf + MSG_HDR_LEN);
		FUZZ_ASSERT(m.len >= 4 + 14 && m.len <= MSG_MAX_PAYLOAD);
		/* The copy is exactly what lies in the ring. */
		FUZZ_ASSERT(memcmp(buf, raw + RING_HDR_LEN + used % RING_SIZE,
		    MSG_HDR_LEN) == 0);
		rec = (MSG_HDR_LEN + m.len + RING_ALIGN - 1) &
		    ~(size_t)(RING_ALIGN - 1);
		used += (uint32_t)rec;
		/* Never past what the producer published. */
		FUZZ_ASSERT(used <= tail && tail <= RING_SIZE);
	}
	ring_detach(&r);
	return 0;
}

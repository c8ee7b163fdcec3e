/* SPDX-License-Identifier: ISC */
/*
 * The data channels' tables. What each type is (length, descriptor,
 * payload) is msg.c's msg_types[]; which types a control channel takes
 * and what its receiver does with each is the receiver's own table
 * (monitor/supervise.c, privsep/worker.c, crypt/crypt.c).
 */
#include "privsep/msg.h"

/*
 * capture -> crypt and crypt -> inject, in the rings. No handlers: the
 * consumer takes each batch back from ring_recv() and walks it.
 */
static const struct msg_rule frames_rows[] = {
	{ MSG_FRAMES,	NULL },
};
const struct msg_table msg_tab_frames = MSG_TABLE(frames_rows, NULL);

/* The doorbells on the socketpair beside each ring. */
static const struct msg_rule wake_rows[] = {
	{ MSG_WAKE,	NULL },
};
const struct msg_table msg_tab_wake = MSG_TABLE(wake_rows, NULL);

/*
 * A hostile worker, for tests only (never installed): it starts like a
 * real one, then breaks its channel's rules towards the monitor, which
 * must kill it, audit the event and restart it.
 *   EVIL_WRONG_TYPE    sends MSG_FRAMES, which no worker may send the
 *                      monitor
 *   EVIL_WRONG_LENGTH  sends MSG_READY with a payload (it must be empty)
 */
#include <poll.h>
#include <unistd.h>

#include "privsep/msg.h"
#include "privsep/worker.h"

/* It stands in for crypt: crypt's setup messages are taken and ignored. */
static const struct msg_rule evil_rows[] = {
	{ MSG_PEM_CERT,		NULL },
	{ MSG_PEM_CA,		NULL },
	{ MSG_LISTEN_FD,	NULL },
	{ MSG_CONNECT_ADDR,	NULL },
	{ MSG_RELOAD,		NULL },
};
static const struct msg_table evil_ctl = MSG_TABLE(evil_rows,
    &worker_ctl_table);

int
main(int argc, char *argv[])
{
	struct conf	 conf;
	uint8_t		 junk[64] = { 0 };

	worker_init(argc, argv, "evil");
	worker_setup(&evil_ctl, &conf, NULL);
#if defined(EVIL_WRONG_TYPE)
	(void)msg_send(FD_MONITOR, MSG_FRAMES, junk, sizeof(junk));
#elif defined(EVIL_WRONG_LENGTH)
	(void)msg_send(FD_MONITOR, MSG_READY, junk, 4);
#else
#error "define EVIL_WRONG_TYPE or EVIL_WRONG_LENGTH"
#endif
	/* Wait to be killed; a monitor that ignores us fails the test. */
	for (;;)
		(void)poll(NULL, 0, -1);
}

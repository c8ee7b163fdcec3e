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

int
main(int argc, char *argv[])
{
	struct msg_chan	 ctl;
	struct conf	 conf;
	uint8_t		 junk[64] = { 0 };

	worker_init(argc, argv, "evil");
	msg_chan_init(&ctl, "monitor", msg_tab_crypt_ctl, msg_tab_crypt_ctl_n);
	worker_setup(&ctl, &conf, NULL, NULL);
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

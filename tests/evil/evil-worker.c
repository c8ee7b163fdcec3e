/*
 * A hostile worker, for tests only (never installed): it starts like a
 * real one, then breaks its channel's rules towards the monitor, which
 * must kill it, audit the event and restart it.
 *   EVIL_WRONG_TYPE    sends MSG_FRAMES, which no worker may send the
 *                      monitor
 *   EVIL_WRONG_LENGTH  sends MSG_READY with a payload (it must be empty)
 *   EVIL_LOG_FLOOD     says it is ready, then floods well-formed MSG_LOG
 *                      records as fast as the channel takes them, at
 *                      emergency severity and with a forged attribution;
 *                      from several threads, so the channel never runs
 *                      dry; the monitor must rate-limit, clamp and
 *                      attribute them and keep serving everything else
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "privsep/log.h"
#include "privsep/msg.h"
#include "privsep/worker.h"

/* It stands in for crypt: crypt's setup messages are taken and ignored. */
static const struct msg_rule evil_rows[] = {
	{ MSG_PEM_CERT,		NULL },
	{ MSG_PEM_KEY,		NULL },
	{ MSG_PEM_CA,		NULL },
	{ MSG_LISTEN_FD,	NULL },
	{ MSG_CONNECT_ADDR,	NULL },
	{ MSG_RELOAD,		NULL },
};
static const struct msg_table evil_ctl = MSG_TABLE(evil_rows,
    &worker_ctl_table);

#if defined(EVIL_LOG_FLOOD)
/*
 * Records the monitor must attribute to this worker whatever they say:
 * one that starts with another worker's attribution, one that claims a
 * monitor record, both at severities no worker may use.
 */
#define EVIL_FLOOD_THREADS	3

static void *
evil_log_writer(void *arg)
{
	struct pollfd	 pfd = { .fd = FD_MONITOR, .events = POLLOUT };
	char		 text[128];
	unsigned long	 n;
	int		 prio;

	(void)arg;
	for (n = 0;; n++) {
		if (n % 2 == 0) {
			prio = LOG_EMERG;
			snprintf(text, sizeof(text), "event=link_up host=forged "
			    "worker=inject pid=1 n=%lu", n);
		} else {
			prio = LOG_ALERT;
			snprintf(text, sizeof(text), "worker=inject pid=1 "
			    "event=worker_ready forged=%lu", n);
		}
		if (msg_send_log(FD_MONITOR, prio, n % 4 < 2 ? LOGC_AUDIT :
		    LOGC_OPS, text) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != ENOBUFS)
				return NULL;
			(void)poll(&pfd, 1, 100);
		}
	}
}

static void
evil_log_flood(void)
{
	pthread_t	 t;
	int		 i;

	if (msg_send(FD_MONITOR, MSG_READY, NULL, 0) == -1)
		return;
	for (i = 1; i < EVIL_FLOOD_THREADS; i++)
		if (pthread_create(&t, NULL, evil_log_writer, NULL) != 0)
			break;
	(void)evil_log_writer(NULL);
}
#endif

int
main(int argc, char *argv[])
{
	struct conf	 conf;
	uint8_t		 junk[64] = { 0 };

	worker_init(argc, argv, "evil");
	worker_setup(&evil_ctl, &conf, NULL);
#if defined(EVIL_LOG_FLOOD)
	(void)junk;
	evil_log_flood();
#elif defined(EVIL_WRONG_TYPE)
	(void)msg_send(FD_MONITOR, MSG_FRAMES, junk, sizeof(junk));
#elif defined(EVIL_WRONG_LENGTH)
	(void)msg_send(FD_MONITOR, MSG_READY, junk, 4);
#else
#error "define EVIL_WRONG_TYPE, EVIL_WRONG_LENGTH or EVIL_LOG_FLOOD"
#endif
	/* Wait to be killed; a monitor that ignores us fails the test. */
	for (;;)
		(void)poll(NULL, 0, -1);
}

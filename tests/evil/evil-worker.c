/* SPDX-License-Identifier: ISC */
/*
 * A hostile worker, for tests only (never installed): it starts like a
 * real one, then breaks its channel's rules towards the monitor, which
 * must kill it, audit the event and restart it.
 *   EVIL_WRONG_TYPE    sends MSG_FRAMES, which no worker may send the
 *                      monitor
 *   EVIL_WRONG_LENGTH  sends MSG_READY with a payload (it must be empty)
 *   EVIL_SIGN_ANY      in the role of a proxy's crypt, asks the monitor
 *                      to sign what no handshake of its role would
 *                      (arbitrary bytes, the host's context, a hash of
 *                      the wrong size), then a burst of well-formed
 *                      contents past sign-rate; it logs each answer
 *                      (event=evil_answer) and must be refused, audited
 *                      and left running
 *   EVIL_SIGN_BAD      sends a MSG_SIGN_REQ naming no algorithm: broken
 *                      channel rules, to be killed like the others
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
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "privsep/log.h"
#include "privsep/msg.h"
#include "privsep/worker.h"

/* It stands in for crypt: crypt's setup messages are taken and ignored. */
static const struct msg_rule evil_rows[] = {
	{ MSG_PEM_CERT,		NULL },
	{ MSG_PEM_CA,		NULL },
	{ MSG_LISTEN_FD,	NULL },
	{ MSG_CONNECT_ADDR,	NULL },
	{ MSG_UDP_FD,		NULL },
	{ MSG_RELOAD,		NULL },
	{ MSG_SIGNATURE,	NULL },
};
static const struct msg_table evil_ctl = MSG_TABLE(evil_rows,
    &worker_ctl_table);

#if defined(EVIL_SIGN_ANY)
/* Ask for one signature and log what the monitor answered. */
static void
evil_sign(const char *what, uint32_t id, const uint8_t *tbs, size_t len)
{
	uint8_t			 req[sizeof(struct msg_sign_req) +
				    MSG_SIGN_TBS_MAX];
	struct msg_sign_req	 r = { .id = id, .alg = MSG_SIGN_ECDSA,
				    .md = MSG_SIGN_SHA256 };
	struct msg_sign_ans	 a;
	struct msg		 m;

	memcpy(req, &r, sizeof(r));
	memcpy(req + sizeof(r), tbs, len);
	(void)msg_send(FD_MONITOR, MSG_SIGN_REQ, req, sizeof(r) + len);
	if (worker_ctl_wait(MSG_SIGNATURE, 2000, &m) != 1) {
		log_info("event=evil_answer what=%s id=%u answer=none", what,
		    id);
		return;
	}
	memcpy(&a, m.payload, sizeof(a));
	log_info("event=evil_answer what=%s id=%u answer=%s siglen=%zu",
	    what, a.id, a.status == MSG_SIGN_OK ? "signed" : "refused",
	    m.len - sizeof(a));
}

/* A TLS 1.3 CertificateVerify content: ctx and a hash of hlen bytes. */
static size_t
evil_tbs(uint8_t *b, const char *ctx, size_t hlen)
{
	size_t	 cl = strlen(ctx) + 1;

	memset(b, 0x20, 64);
	memcpy(b + 64, ctx, cl);
	memset(b + 64 + cl, 0x42, hlen);
	return 64 + cl + hlen;
}

static void
evil_sign_any(void)
{
	uint8_t		 b[MSG_SIGN_TBS_MAX];
	size_t		 n;
	uint32_t	 id = 0, i;

	memset(b, 'A', 100);
	evil_sign("arbitrary", ++id, b, 100);
	n = evil_tbs(b, "TLS 1.3, client CertificateVerify", 32);
	evil_sign("client_context", ++id, b, n);
	n = evil_tbs(b, "TLS 1.3, server CertificateVerify", 40);
	evil_sign("hash_40", ++id, b, n);
	/* Well-formed, as fast as it can: sign-rate bounds them. */
	n = evil_tbs(b, "TLS 1.3, server CertificateVerify", 32);
	for (i = 0; i < 30; i++)
		evil_sign("burst", ++id, b, n);
	log_info("event=evil_done");
}
#elif defined(EVIL_LOG_FLOOD)
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
#elif defined(EVIL_SIGN_ANY)
	(void)junk;
	evil_sign_any();
#elif defined(EVIL_SIGN_BAD)
	{
		struct msg_sign_req r = { .id = 1, .alg = 0,
		    .md = MSG_SIGN_SHA256 };

		memcpy(junk, &r, sizeof(r));
		(void)msg_send(FD_MONITOR, MSG_SIGN_REQ, junk, sizeof(junk));
	}
#else
#error "define EVIL_WRONG_TYPE, EVIL_WRONG_LENGTH, EVIL_SIGN_ANY, EVIL_SIGN_BAD or EVIL_LOG_FLOOD"
#endif
	/* Wait to be killed; a monitor that ignores us fails the test. */
	for (;;)
		(void)poll(NULL, 0, -1);
}

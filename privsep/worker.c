/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "privsep/log.h"
#include "privsep/privsep.h"
#include "privsep/worker.h"

volatile sig_atomic_t worker_quit;

/* This worker's end of its control channel. */
static struct {
	struct msg_chan	 chan;
	void		*arg;		/* the role's state, for its handlers */
	struct conf	*conf;		/* where MSG_CONFIG goes */
	int		 haveconf;
	int		 go;		/* setup is over */
	int		 running;	/* dropped and ready */
	/* What a report request gets: counters, then the role's more. */
	const struct worker_stat *st;
	size_t		 nst;
	void		(*more)(void *arg);
	uint8_t		 buf[MSG_MAX];
} wk;

int
worker_data_recv(struct ring *r, struct msg_chan *chan, struct msg_chan *bell,
    uint8_t *buf, struct msg *m)
{
	enum msg_err	 why;

	switch (ring_recv(r, chan, bell, buf, m, &why)) {
	case MSG_ST_OK:
		return 1;
	case MSG_ST_NONE:
		return 0;
	case MSG_ST_VIOLATION:
		fatalx("event=error what=data_channel reason=\"%s\"",
		    msg_strerror(why));
	default:
		fatal("event=error what=data_channel");
	}
}

static void
worker_sighdlr(int sig)
{
	(void)sig;
	worker_quit = 1;
}

uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
worker_init(int argc, char *argv[], const char *role)
{
	struct sigaction sa;
	int		 ch;

	log_init_worker(FD_MONITOR, role);
	while ((ch = getopt(argc, argv, "v")) != -1) {
		if (ch == 'v')
			log_set_verbose(1);
		else
			fatalx("usage: %s [-v]", role);
	}
	(void)signal(SIGPIPE, SIG_IGN);
	/* SIGTERM ends the main loop (no SA_RESTART: poll returns). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_sighdlr;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	/* Started by hand, not by vnetd: there is no channel to talk on. */
	if (fcntl(FD_MONITOR, F_GETFD) == -1) {
		dprintf(2, "vnet-%s: run by vnetd(8), not by hand\n", role);
		exit(1);
	}
}

static void
worker_on_config(struct msg *m, void *arg)
{
	struct conf_error	 err;

	(void)arg;
	if (conf_parse((const char *)m->payload, m->len, wk.conf, &err) == -1)
		fatalx("setup: configuration: line %u: %s", err.line, err.msg);
	wk.haveconf = 1;
}

static void
worker_on_go(struct msg *m, void *arg)
{
	(void)m;
	(void)arg;
	wk.go = 1;
}

static void
worker_send_stats(const struct worker_stat *st, size_t nst)
{
	struct msg_stat	 out[MSG_STATS_MAX];
	size_t		 i, n = nst < MSG_STATS_MAX ? nst : MSG_STATS_MAX;

	memset(out, 0, sizeof(out));
	for (i = 0; i < n; i++) {
		strncpy(out[i].name, st[i].name, sizeof(out[i].name) - 1);
		out[i].value = *st[i].value;
	}
	if (n > 0 && msg_send(FD_MONITOR, MSG_STATS, out,
	    n * sizeof(out[0])) == -1)
		log_warn("event=error what=stats");
}

/* A report: the counters, the role's own parts, then its explicit end. */
static void
worker_on_stats_req(struct msg *m, void *arg)
{
	uint64_t	 id;

	/* The monitor asks only a worker that said it is ready. */
	if (!wk.running)
		return;
	memcpy(&id, m->payload, sizeof(id));
	worker_send_stats(wk.st, wk.nst);
	if (wk.more != NULL)
		wk.more(arg);
	if (msg_send(FD_MONITOR, MSG_STATS_END, &id, sizeof(id)) == -1)
		log_warn("event=error what=stats_end");
}

static const struct msg_rule worker_ctl_rows[] = {
	{ MSG_CONFIG,	 worker_on_config },
	{ MSG_GO,	 worker_on_go },
	{ MSG_STATS_REQ, worker_on_stats_req },
};
const struct msg_table worker_ctl_table = MSG_TABLE(worker_ctl_rows, NULL);

void
worker_setup(const struct msg_table *tab, struct conf *c, void *arg)
{
	struct pollfd	 pfd = { .fd = FD_MONITOR, .events = POLLIN };
	struct msg	 m;
	enum msg_err	 why;

	msg_chan_init(&wk.chan, "monitor", tab);
	wk.arg = arg;
	wk.conf = c;
	while (!wk.go) {
		if (worker_quit)
			exit(0);
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("setup: poll");
		}
		switch (msg_recv(FD_MONITOR, &wk.chan, wk.buf, &m, &why)) {
		case MSG_ST_OK:
			msg_dispatch(&m, wk.arg);
			break;
		case MSG_ST_NONE:
			break;
		case MSG_ST_EOF:
			exit(0);
		case MSG_ST_VIOLATION:
			fatalx("setup: %s", msg_strerror(why));
		default:
			fatal("setup: receive");
		}
	}
	if (!wk.haveconf)
		fatalx("setup: no configuration");
}

void
worker_ready(void)
{
	if (msg_send(FD_MONITOR, MSG_READY, NULL, 0) == -1)
		fatal("ready");
	wk.running = 1;
}

void
worker_start(const struct worker_role *role, struct conf *c, void *arg)
{
	struct drop_req	 dr;

	worker_setup(role->ctl, c, arg);
	role->open(arg);
	memset(&dr, 0, sizeof(dr));
	dr.user = c->user;
	dr.chroot = c->chroot;
	dr.nofile = role->nofile;
	dr.sandbox = role->sandbox;
	privsep_drop(&dr);
	worker_ready();
}

int
worker_running(void)
{
	return wk.running;
}

int
worker_ctl_wait(uint16_t type, int timeout_ms, struct msg *m)
{
	struct pollfd	 pfd = { .fd = FD_MONITOR, .events = POLLIN };
	uint64_t	 end = now_ms() + (uint64_t)timeout_ms, now;
	enum msg_err	 why;

	for (;;) {
		switch (msg_recv(FD_MONITOR, &wk.chan, wk.buf, m, &why)) {
		case MSG_ST_OK:
			if (m->type == type)
				return 1;
			msg_dispatch(m, wk.arg);
			continue;
		case MSG_ST_NONE:
			break;
		case MSG_ST_VIOLATION:
			fatalx("control: %s", msg_strerror(why));
		default:
			return -1;
		}
		if ((now = now_ms()) >= end)
			return 0;
		if (poll(&pfd, 1, (int)(end - now)) == -1 && errno != EINTR)
			return -1;
	}
}

int
worker_ctl(const struct worker_stat *st, size_t nst, void (*more)(void *))
{
	struct msg	 m;
	enum msg_err	 why;

	wk.st = st;
	wk.nst = nst;
	wk.more = more;
	for (;;) {
		switch (msg_recv(FD_MONITOR, &wk.chan, wk.buf, &m, &why)) {
		case MSG_ST_OK:
			msg_dispatch(&m, wk.arg);
			break;
		case MSG_ST_NONE:
			return 0;
		case MSG_ST_VIOLATION:
			fatalx("control: %s", msg_strerror(why));
		default:
			return -1;
		}
	}
}

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
#include "privsep/worker.h"

static uint8_t	 ctlbuf[MSG_MAX];
volatile sig_atomic_t worker_quit;
static int	 stats_requested;
static void	(*ctl_fn)(const struct msg *, void *);
static void	*ctl_arg;

void
worker_ctl_handler(void (*fn)(const struct msg *, void *), void *arg)
{
	ctl_fn = fn;
	ctl_arg = arg;
}

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

int
worker_stats_requested(void)
{
	int	 r = stats_requested;

	stats_requested = 0;
	return r;
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

void
worker_setup(struct msg_chan *chan, struct conf *c,
    void (*cb)(const struct msg *, void *), void *arg)
{
	struct conf_error	 err;
	struct pollfd		 pfd = { .fd = FD_MONITOR, .events = POLLIN };
	struct msg		 m;
	enum msg_err		 why;
	int			 haveconf = 0;

	for (;;) {
		if (worker_quit)
			exit(0);
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("setup: poll");
		}
		switch (msg_recv(FD_MONITOR, chan, ctlbuf, &m, &why)) {
		case MSG_ST_OK:
			break;
		case MSG_ST_NONE:
			continue;
		case MSG_ST_EOF:
			exit(0);
		case MSG_ST_VIOLATION:
			fatalx("setup: %s", msg_strerror(why));
		default:
			fatal("setup: receive");
		}
		if (m.type == MSG_GO)
			break;
		if (m.type == MSG_CONFIG) {
			if (conf_parse((const char *)m.payload, m.len, c,
			    &err) == -1)
				fatalx("setup: configuration: line %u: %s",
				    err.line, err.msg);
			haveconf = 1;
		} else if (cb != NULL)
			cb(&m, arg);
		else if (m.fd != -1)
			close(m.fd);
	}
	if (!haveconf)
		fatalx("setup: no configuration");
}

void
worker_ready(void)
{
	if (msg_send(FD_MONITOR, MSG_READY, NULL, 0) == -1)
		fatal("ready");
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

int
worker_ctl(struct msg_chan *chan, const struct worker_stat *st, size_t nst)
{
	struct msg	 m;
	enum msg_err	 why;

	for (;;) {
		switch (msg_recv(FD_MONITOR, chan, ctlbuf, &m, &why)) {
		case MSG_ST_OK:
			break;
		case MSG_ST_NONE:
			return 0;
		case MSG_ST_VIOLATION:
			fatalx("control: %s", msg_strerror(why));
		default:
			return -1;
		}
		if (m.fd != -1)
			close(m.fd);
		if (m.type == MSG_STATS_REQ) {
			worker_send_stats(st, nst);
			stats_requested = 1;
		} else if (ctl_fn != NULL)
			ctl_fn(&m, ctl_arg);
	}
}

/* What every worker does the same way: setup, stats, control channel. */
#ifndef VNET_PRIVSEP_WORKER_H
#define VNET_PRIVSEP_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "privsep/msg.h"
#include "privsep/ring.h"

struct worker_stat {
	const char	*name;
	uint64_t	*value;
};

/* Set by SIGTERM/SIGINT: leave the main loop, free, exit 0. */
extern volatile sig_atomic_t worker_quit;

/* Parse -v, set up logging through the monitor. */
void	 worker_init(int argc, char *argv[], const char *role);
/*
 * Read setup messages from the monitor until MSG_GO, calling cb for
 * each (the config is parsed into *c here). Blocks; fatal on error.
 */
void	 worker_setup(struct msg_chan *chan, struct conf *c,
	    void (*cb)(const struct msg *, void *), void *arg);
/* Tell the monitor we are confined and running. */
void	 worker_ready(void);
/*
 * Handle what the monitor sends while running. Returns -1 when the
 * monitor is gone (the worker should exit).
 */
int	 worker_ctl(struct msg_chan *chan, const struct worker_stat *st,
	    size_t nst);
/* Where worker_ctl() hands messages other than a stats request. */
void	 worker_ctl_handler(void (*fn)(const struct msg *, void *), void *arg);
/*
 * The next batch in the data ring r into buf: 1 with it in *m, 0 when
 * the ring is drained (its doorbells, checked against bell, too). A lost
 * channel or a message that breaks chan's table is fatal (the monitor
 * restarts the worker).
 */
int	 worker_data_recv(struct ring *r, struct msg_chan *chan,
	    struct msg_chan *bell, uint8_t *buf, struct msg *m);
/* 1 once after worker_ctl() answered a stats request (report more). */
int	 worker_stats_requested(void);
/* Milliseconds on the monotonic clock. */
uint64_t now_ms(void);

#endif

/* SPDX-License-Identifier: ISC */
/* What every worker does the same way: setup, stats, control channel. */
#ifndef VNET_PRIVSEP_WORKER_H
#define VNET_PRIVSEP_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "privsep/msg.h"
#include "privsep/ring.h"
#include "privsep/sandbox.h"

struct worker_stat {
	const char	*name;
	uint64_t	*value;
};

/* Set by SIGTERM/SIGINT: leave the main loop, free, exit 0. */
extern volatile sig_atomic_t worker_quit;

/* Parse -v, set up logging through the monitor. */
void	 worker_init(int argc, char *argv[], const char *role);
/*
 * What every worker takes from the monitor: MSG_CONFIG (parsed into
 * worker_setup's conf), MSG_GO, MSG_STATS_REQ. A role that takes more
 * makes a table of its own rows over this one (crypt/crypt.c).
 */
extern const struct msg_table worker_ctl_table;
/*
 * Read setup messages from the monitor until MSG_GO, each handled by
 * its row of tab with arg (the role's state). Blocks; fatal on error.
 */
void	 worker_setup(const struct msg_table *tab, struct conf *c, void *arg);
/* Tell the monitor we are confined and running. */
void	 worker_ready(void);

/* How a role starts: see worker_start(). */
struct worker_role {
	enum sandbox_role	 sandbox;	/* its seccomp filter */
	const struct msg_table	*ctl;		/* its setup messages */
	unsigned		 nofile;	/* RLIMIT_NOFILE once dropped */
	/* What needs its starting privileges; fatal on failure. */
	void			(*open)(void *arg);
};
/*
 * Start as every worker does: the setup messages (the configuration
 * into *c, the others to role->ctl's handlers with arg), then
 * role->open(arg) while still privileged, then the drop to c's user and
 * chroot (privsep_drop), then the word to the monitor that it runs.
 */
void	 worker_start(const struct worker_role *role, struct conf *c,
	    void *arg);
/* 1 once worker_ready() said so: handlers of run-time messages act. */
int	 worker_running(void);
/*
 * Handle what the monitor sends while running, through the table given
 * to worker_setup(). A report request is answered with the counters in
 * st, then what more(arg) sends (crypt: its links and MAC table; NULL:
 * nothing), then MSG_STATS_END. Returns -1 when the monitor is gone
 * (the worker should exit).
 */
int	 worker_ctl(const struct worker_stat *st, size_t nst,
	    void (*more)(void *arg));
/*
 * Wait at most timeout_ms for a message of type from the monitor: 1
 * with it in *m (its payload valid until the next receive), 0 on
 * timeout, -1 when the monitor is gone. Whatever else comes meanwhile
 * goes to its handler as usual. For a request answered within a
 * handshake (crypt's signatures).
 */
int	 worker_ctl_wait(uint16_t type, int timeout_ms, struct msg *m);
/*
 * The next batch in the data ring r into buf: 1 with it in *m, 0 when
 * the ring is drained (its doorbells, checked against bell, too). A lost
 * channel or a message that breaks chan's table is fatal (the monitor
 * restarts the worker).
 */
int	 worker_data_recv(struct ring *r, struct msg_chan *chan,
	    struct msg_chan *bell, uint8_t *buf, struct msg *m);
/* Milliseconds on the monotonic clock. */
uint64_t now_ms(void);

#endif

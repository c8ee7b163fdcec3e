/* SPDX-License-Identifier: ISC */
/* The privileged parent: supervises the workers, owns the audit trail. */
#ifndef VNET_MONITOR_MONITOR_H
#define VNET_MONITOR_MONITOR_H

#include <sys/types.h>
#include <poll.h>
#include <time.h>

#include "lib/conf.h"
#include "lib/ratelim.h"
#include "privsep/msg.h"
#include "privsep/privsep.h"

enum worker_id { W_CAPTURE, W_CRYPT, W_INJECT, W_COUNT };

struct monitor;

struct worker {
	struct monitor	*mon;		/* the monitor it belongs to */
	const char	*name;		/* "capture" */
	const char	*exe;		/* "vnet-capture" */
	enum sandbox_role role;
	const unsigned	*caps;		/* capabilities it starts with */
	size_t		 ncaps;
	/* Its data channel ends, kept here for life; .monitor is -1. */
	struct worker_fds fds;
	int		 ctl;		/* our end of its control channel */
	pid_t		 pid;
	int		 ready;
	struct msg_chan	 chan;
	unsigned	 restarts;
	unsigned	 backoff_ms;	/* next restart delay */
	struct timespec	 started;
	struct timespec	 restart_at;	/* when pid == -1: start then */
	/* Its last counters (crypt: links and MACs in struct monitor). */
	uint8_t		*stats;
	size_t		 statslen;
	uint64_t	 asked;		/* id of the last report request sent */
	uint64_t	 answered;	/* id of the last report that ended */
	int		 log_next;	/* SIGUSR1: log the next report */
};

/* crypt's last link and MAC reports, raw MSG_LINKS/MSG_MACS payloads. */
struct report {
	uint8_t		*buf;
	size_t		 len;
};

/* The private key, which never leaves the monitor (monitor/sign.c). */
struct signer {
	struct evp_pkey_st *key;
	int		 alg;		/* enum msg_sign_alg of the key */
	struct ratelim	 rl;		/* signatures: sign-rate a second */
	struct ratelim	 rl_audit;	/* refusal records */
	uint64_t	 made, refused;
};

/* What the monitor loaded at start and hands to workers. */
struct monitor {
	const char	*conffile;
	char		*conftext;
	size_t		 conflen;
	char		 confhash[65];		/* sha256 of conftext, hex */
	int		 parsed;		/* conf holds the parsed file */
	struct conf	 conf;
	/* pem_key only until sign_init() has parsed it */
	char		*pem_cert, *pem_key, *pem_ca;
	size_t		 pem_cert_len, pem_key_len, pem_ca_len;
	struct signer	 signer;
	int		 listen_fd;		/* proxy */
	/* UDP data channel: proxy [0] only; host one per family */
#define UDP_SOCKBUF	(4 * 1024 * 1024)
	int		 udp_fd[2];
	uint16_t	 udp_family[2];
	struct msg_addr	 connect[CONF_MAX_CONNECT];	/* host, in order */
	size_t		 nconnect;
	const char	*libexec;
	int		 verbose;
	struct worker	 w[W_COUNT];
	struct report	 links, macs;
	uint64_t	 report_id;		/* the last report request's */
	struct timespec	 started;
	int		 control_fd;
	gid_t		 control_gid;
};

/* monitor/supervise.c */
void	 supervise_init(struct monitor *);
int	 supervise_start(struct monitor *, struct worker *);
void	 supervise_reap(struct monitor *);
void	 supervise_ctl(struct worker *);
void	 supervise_due(struct monitor *, int *timeout_ms);
uint64_t supervise_stats(struct monitor *);
void	 supervise_stop(struct monitor *);
void	 supervise_log_stats(struct monitor *);
void	 supervise_backoff_max(unsigned ms);

/* monitor/control.c */
int	 control_init(struct monitor *);
void	 control_accept(struct monitor *);
int	 control_pollfds(struct monitor *, struct pollfd *, int max);
void	 control_io(struct monitor *, int fd, short revents);
void	 control_due(struct monitor *, int *timeout_ms);
void	 control_close(struct monitor *);

/* monitor/vnetd.c */
int	 monitor_reload(struct monitor *, const char **why);

/* monitor/ports.c */
void	 ports_configured(struct monitor *, int reload);
void	 ports_due(struct monitor *, int *timeout_ms);
void	 ports_free(void);

/* monitor/sign.c */
int	 sign_init(struct monitor *, char *why, size_t);
int	 sign_replace(struct monitor *, const char *path, char **pem_key,
	    size_t *klen, const char *pem_cert, size_t clen, char *why,
	    size_t wlen);
void	 sign_set_rate(struct monitor *);
void	 sign_on_req(struct msg *, void *worker);
void	 sign_due(struct monitor *, int *timeout_ms);
void	 sign_free(struct monitor *);

/* monitor/setup.c */
void	 setup_hash(const char *text, size_t len, char out[65]);
char	*setup_read(const char *path, size_t max, size_t *lenp);
int	 setup_load(struct monitor *, const char *file, int check_only,
	    char *why, size_t);
int	 setup_sockets(struct monitor *);
int	 setup_trust(const struct conf *, char **ca, size_t *calen, char *why,
	    size_t wlen);
int	 setup_material(struct monitor *, const struct conf *, int *changed,
	    char *why, size_t wlen);
void	 setup_cert_fp(const char *pem, size_t len, char out[65]);

#endif

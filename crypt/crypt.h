/* SPDX-License-Identifier: ISC */
/* The TLS transport worker: links to peers, wire protocol, forwarding. */
#ifndef VNET_CRYPT_CRYPT_H
#define VNET_CRYPT_CRYPT_H

#include <sys/socket.h>

#include <openssl/ssl.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/dgram.h"
#include "lib/fwd.h"
#include "lib/ratelim.h"
#include "lib/wire.h"
#include "privsep/msg.h"
#include "privsep/ring.h"

#define LINK_RBUF	(WIRE_MAX_RECORD + 16384)
#define LINK_WBUF	(2 * 1024 * 1024)
#define RECONNECT_MIN_MS 250
#define RECONNECT_MAX_MS 10000
#define CRYPT_MAXLINKS	1024

enum link_state {
	L_CONNECTING,		/* host: TCP connect in progress */
	L_HANDSHAKE,		/* TLS handshake */
	L_HELLO,		/* TLS up, waiting for the peer's hello */
	L_UP,			/* frames flow */
	L_DEAD,			/* to be freed */
};

/* One direction's key source: the link whose TLS session exports it. */
struct udp_dir {
	struct link	*link;
	int		 h2p;		/* host to proxy, or back */
};

/* A link's UDP data channel (crypt/udp.c). */
struct link_udp {
	int		 ready;		/* both offers in, keys derivable */
	uint32_t	 rid;		/* ours: datagrams to us carry it */
	int		 fd;		/* the socket for the peer's family */
	struct dgram_tx	 tx;
	struct dgram_rx	 rx;
	struct udp_dir	 dtx, drx;
	struct sockaddr_storage peer;	/* where datagrams go */
	socklen_t	 peerlen;
	int		 have_peer;	/* proxy: once a datagram verified */
	size_t		 max_frame;	/* largest frame one datagram holds */
	uint16_t	 mss4, mss6;	/* clamped to these */
	uint64_t	 last_ack_ms;	/* host: last probe answered */
	uint64_t	 probe_at_ms, probe_id;
	unsigned	 fast_probes;
	uint64_t	 switched_ms;
	uint64_t	 tx_rekeys_seen, rx_rekeys_seen;
	uint64_t	 rx_frames, tx_frames, drops;
};

struct link {
	int			 fd;
	SSL			*ssl;
	enum link_state		 state;
	char			 peer[64];	/* "addr:port" */
	struct sockaddr_storage	 addr;		/* proxy: where it came from */
	char			 subject[256];
	char			 fingerprint[65];
	const struct conf_host	*host;		/* proxy: who this is */
	uint8_t			*rbuf;
	size_t			 rlen;
	uint8_t			*wbuf;
	size_t			 woff, wlen;
	uint64_t		 since_ms;	/* state entered */
	uint64_t		 last_rx_ms, last_tx_ms;
	uint64_t		 rx_frames, tx_frames, rx_bytes, tx_bytes;
	int			 want_write;	/* SSL needs POLLOUT */
	int64_t			 not_after;	/* peer chain valid until (s) */
	struct ratelim		 rl_moves;	/* entries it may take over */
	struct link_udp		*udp;		/* NULL: TLS stream only */
	uint8_t			 transport;	/* frames go on: WIRE_TRANSPORT_ */
};

struct counters {
	uint64_t	 from_capture, to_inject, tx_frames, rx_frames;
	uint64_t	 tx_bytes, rx_bytes;
	uint64_t	 links_up, links_accepted, reconnects;
	uint64_t	 handshake_failures, peers_rejected, malformed_records;
	uint64_t	 drop_mac_unauthorized, drop_no_link, drop_congested;
	uint64_t	 drop_inject_full, drop_bad_dst, drop_src_unknown;
	uint64_t	 drop_loop, moves, drop_move_limit, aged;
	uint64_t	 refused_pending, refused_source, refused_links;
	uint64_t	 sign_requests, sign_failures;
	uint64_t	 crl_expired_accepted, peers_revoked;
	uint64_t	 failovers;		/* host: to the next proxy */
	/* the UDP data channel */
	uint64_t	 udp_tx_frames, udp_rx_frames, udp_cut, udp_joined;
	uint64_t	 udp_oversize_tcp, mss_clamped, udp_probes;
	uint64_t	 udp_probes_unasked, transport_switches, udp_rekeys;
	uint64_t	 udp_send_errors, udp_recv_errors;
	uint64_t	 udp_drop_malformed, udp_drop_unknown_id;
	uint64_t	 udp_drop_replay, udp_drop_old_epoch;
	uint64_t	 udp_drop_future_epoch, udp_drop_tag, udp_drop_error;
};

struct crypt {
	struct conf	 conf;
	SSL_CTX		*ctx;
	int		 listen_fd;
	/* host: the proxies, in order of preference (MSG_CONNECT_ADDR) */
	struct msg_addr	 connect[CONF_MAX_CONNECT];
	size_t		 nconnect;
	int		 have_connect;
	char		*pem[2];		/* cert, ca+crl: setup, reload */
	size_t		 pem_len[2];
	/* Signatures asked of the monitor (crypt/crypt.c, crypt_sign). */
	uint32_t	 sign_id;
	int		 signing;
	char		*reload_text;		/* came while signing */
	size_t		 reload_len;
	struct link	*links[CRYPT_MAXLINKS];
	size_t		 nlinks;
	/*
	 * host: the one link to the proxy and its redial schedule. proxy
	 * indexes connect[], the one dialed or up; nfailed counts the dials
	 * that failed since a link last came up, so that the backoff grows
	 * per full pass through the list (crypt/link.c, link_backoff).
	 */
	struct link	*uplink;
	uint64_t	 redial_at_ms;
	unsigned	 redial_ms;
	int		 dialed;
	size_t		 proxy;
	size_t		 nfailed;
	/* MACs served (host: VMs; proxy: all authorized), sorted */
	conf_mac	*macs;
	size_t		 nmacs;
	struct fwd_entry *fwd;			/* parallel to macs */
	struct msg_batch to_inject;
	struct ring	 from_capture_ring, to_inject_ring;
	int64_t		 crl_next;		/* earliest nextUpdate, 0 none */
	uint64_t	 crl_audit_ms;		/* last event=crl_expired */
	struct ratelim	 rl_drop, rl_unauth, rl_event, rl_refuse, rl_udp;
	int		 udp_fd[2];		/* [0] IPv4 or the proxy's */
	struct counters	 c;
};

#define CRYPT_SIGN_TIMEOUT_MS	1000
#define CRYPT_CRL_AUDIT_MS	(600 * 1000)	/* an expired CRL, again */

/* crypt/crypt.c */
int	 crypt_sign(int alg, int md, const uint8_t *tbs, size_t tbslen,
	    uint8_t *sig, size_t *siglen);

/* crypt/tls.c */
SSL_CTX	*tls_ctx(struct crypt *);
int	 tls_reload(struct crypt *);
const char *tls_recheck(struct crypt *, SSL *);
int64_t	 tls_not_after(SSL *);
void	 tls_crl_due(struct crypt *, uint64_t now);
void	 tls_identity(SSL *, char *subject, size_t slen, char *cn, size_t cnlen,
	    char *fp, size_t fplen, uint8_t digest[32]);
void	 tls_reason(SSL *, int ret, char *buf, size_t len);

/* crypt/link.c */
struct link *link_new(struct crypt *, int fd, const char *peer, int client);
void	 link_io(struct crypt *, struct link *, short revents);
int	 link_backlog(const struct link *);
/* code 0 closes silently; else the peer gets a close record if it can. */
void	 link_close(struct crypt *, struct link *, const char *reason,
	    uint16_t code);
int	 link_send_frame(struct crypt *, struct link *, const uint8_t *,
	    size_t);
void	 link_flush(struct crypt *, struct link *);
void	 link_timers(struct crypt *, struct link *, uint64_t now);
void	 link_reap(struct crypt *);
void	 link_accept(struct crypt *);
void	 link_dial(struct crypt *);
void	 link_send_record(struct crypt *, struct link *, const uint8_t *,
	    size_t);
void	 link_malformed(struct crypt *, struct link *, const char *);
void	 link_peername(const struct sockaddr_storage *, char *, size_t);

/* crypt/udp.c */
int	 udp_add_socket(struct crypt *, uint16_t family, int fd);
void	 udp_link_up(struct crypt *, struct link *);
void	 udp_link_gone(struct crypt *, struct link *);
int	 udp_on_offer(struct crypt *, struct link *, const uint8_t *, size_t);
int	 udp_on_transport(struct crypt *, struct link *, const uint8_t *,
	    size_t);
int	 udp_send_frame(struct crypt *, struct link *, const uint8_t *,
	    size_t);
const uint8_t *udp_clamp(struct crypt *, struct link *, const uint8_t *,
	    size_t);
void	 udp_flush(struct crypt *);
void	 udp_timers(struct crypt *, struct link *, uint64_t now);
void	 udp_read(struct crypt *, int fd);

/* crypt/fwd.c */
int	 fwd_init(struct crypt *);
void	 fwd_from_capture(struct crypt *, const uint8_t *, size_t);
void	 fwd_from_link(struct crypt *, struct link *, const uint8_t *, size_t);
void	 fwd_link_gone(struct crypt *, struct link *);
void	 fwd_flush_inject(struct crypt *);
void	 fwd_age(struct crypt *, uint64_t now);
void	 fwd_report(struct crypt *);
void	 fwd_report_links(struct crypt *);

/* crypt/reload.c */
void	 crypt_reload(struct crypt *, const char *text, size_t len);


#endif

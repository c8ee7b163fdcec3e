/* SPDX-License-Identifier: ISC */
/*
 * The one message layer every channel uses (SOCK_SEQPACKET socketpairs,
 * so the kernel keeps message boundaries and a message is all or
 * nothing).
 *
 * Wire layout: struct msg_hdr (8 bytes, host order), then the payload.
 * Every message is checked against the receiving channel's table before
 * anyone looks at its payload: allowed type, exact or bounded length,
 * descriptor present exactly when the type carries one, and "once"
 * types at most once. A message outside the table is an error that the
 * receiver treats as fatal for the sender.
 */
#ifndef VNET_PRIVSEP_MSG_H
#define VNET_PRIVSEP_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/frame.h"

#define MSG_HDR_LEN		8
#define MSG_MAX_PAYLOAD		(256 * 1024)
#define MSG_MAX			(MSG_HDR_LEN + MSG_MAX_PAYLOAD)
#define MSG_BATCH_MAXFRAMES	256
#define MSG_STATS_MAX		64
#define MSG_STAT_NAME		24

/*
 * Every worker's control channel to the monitor; its other descriptors
 * are in privsep_worker_fds() (privsep/spawn.c).
 */
#define FD_MONITOR		3
/*
 * inject's packet sockets, moved here before its drop: the bridge's at
 * FD_PACKET, VM port i's at FD_PACKET + 1 + i. Its filter lets it write
 * on these and on its channels only (privsep/sandbox.c).
 */
#define FD_PACKET		16

enum msg_type {
	MSG_NONE = 0,
	/* monitor -> worker: configuration text (lib/conf grammar). */
	MSG_CONFIG,
	/*
	 * monitor -> crypt: PEM certificate chain; CA certificates followed
	 * by the crl file's CRLs, if any. At setup, and again before a
	 * MSG_RELOAD that applies them. The private key stays in the
	 * monitor (MSG_SIGN_REQ).
	 */
	MSG_PEM_CERT,
	MSG_PEM_CA,
	/* monitor -> crypt (proxy): the listening socket, as SCM_RIGHTS. */
	MSG_LISTEN_FD,
	/*
	 * monitor -> crypt (host): the resolved proxies, n * struct
	 * msg_addr (1 <= n <= CONF_MAX_CONNECT), in the configuration's
	 * order of preference. Once, at setup.
	 */
	MSG_CONNECT_ADDR,
	/* monitor -> worker: setup complete; open, drop, run. Empty. */
	MSG_GO,
	/*
	 * monitor -> worker: report. u64 request id; the worker answers
	 * with MSG_STATS (crypt: then MSG_LINKS, MSG_MACS) and ends the
	 * report with MSG_STATS_END carrying the same id.
	 */
	MSG_STATS_REQ,
	/* monitor -> crypt, inject: a new configuration text to apply live. */
	MSG_RELOAD,
	/* worker -> monitor: privileges dropped, running. Empty. */
	MSG_READY,
	/* worker -> monitor: struct msg_log + text (no NUL, no newline). */
	MSG_LOG,
	/* worker -> monitor: n * struct msg_stat, 1 <= n <= MSG_STATS_MAX. */
	MSG_STATS,
	/* crypt -> monitor: u32 total up links, then n * struct msg_link. */
	MSG_LINKS,
	/* crypt -> monitor: u32 total known MACs, then n * struct msg_mac. */
	MSG_MACS,
	/*
	 * capture -> crypt, crypt -> inject, through the data ring: a batch
	 * of frames, each a 4-byte length (host order) and the frame, back
	 * to back.
	 */
	MSG_FRAMES,
	/*
	 * capture -> crypt, crypt -> inject, on the socketpair beside the
	 * ring (privsep/ring.h): frames are waiting. Empty.
	 */
	MSG_WAKE,
	/*
	 * worker -> monitor: the report asked for by the MSG_STATS_REQ with
	 * this u64 id is complete.
	 */
	MSG_STATS_END,
	/*
	 * crypt -> monitor: sign this for a handshake. struct msg_sign_req,
	 * then the content to sign (1..MSG_SIGN_TBS_MAX bytes); the monitor
	 * signs only what a TLS 1.3 CertificateVerify of crypt's role
	 * looks like, at a bounded rate.
	 */
	MSG_SIGN_REQ,
	/*
	 * monitor -> crypt: the answer to the MSG_SIGN_REQ with the same
	 * id. struct msg_sign_ans, then the signature (MSG_SIGN_OK:
	 * 1..MSG_SIGN_SIG_MAX bytes; MSG_SIGN_REFUSED: none).
	 */
	MSG_SIGNATURE,
	/*
	 * monitor -> crypt: a UDP socket for the data channel, as
	 * SCM_RIGHTS; payload u16 address family. The proxy's is bound to
	 * its listen address and port; a host gets one per family, bound
	 * to a port of the kernel's choice.
	 */
	MSG_UDP_FD,
	MSG_TYPE_MAX
};

struct msg_hdr {
	uint16_t	 type;
	uint16_t	 flags;		/* must be 0 */
	uint32_t	 len;		/* payload bytes */
};

struct msg_addr {
	uint16_t	 family;	/* AF_INET or AF_INET6 */
	uint16_t	 port;		/* host order */
	uint8_t		 addr[16];
};

struct msg_log {
	uint8_t		 prio;		/* syslog priority (no facility) */
	uint8_t		 cls;		/* enum log_class */
};

struct msg_stat {
	char		 name[MSG_STAT_NAME];	/* NUL-padded [a-z0-9_] */
	uint64_t	 value;
};

/*
 * A signature crypt asks the monitor for. The content is what
 * EVP_DigestSign is given: for TLS 1.3, 64 spaces, the context string,
 * a zero byte and the transcript hash (at most 64 + 33 + 1 + 64).
 */
#define MSG_SIGN_TBS_MAX	256
#define MSG_SIGN_SIG_MAX	1024	/* an RSA-8192 signature */
enum msg_sign_alg {
	MSG_SIGN_ECDSA = 1,
	MSG_SIGN_RSA_PSS,	/* salt as long as the digest, MGF1 with it */
	MSG_SIGN_ED25519,
	MSG_SIGN_ALG_MAX
};
enum msg_sign_md {
	MSG_SIGN_MD_NONE = 0,	/* Ed25519 hashes by itself */
	MSG_SIGN_SHA256,
	MSG_SIGN_SHA384,
	MSG_SIGN_SHA512,
	MSG_SIGN_MD_MAX
};
struct msg_sign_req {
	uint32_t	 id;		/* echoed in the answer */
	uint16_t	 alg;		/* enum msg_sign_alg */
	uint16_t	 md;		/* enum msg_sign_md */
};
enum msg_sign_status {
	MSG_SIGN_OK = 0,
	MSG_SIGN_REFUSED
};
struct msg_sign_ans {
	uint32_t	 id;
	uint32_t	 status;	/* enum msg_sign_status */
};

/* crypt's view of one up link, for vnetctl links. Strings NUL-padded. */
#define MSG_LINKS_MAX		512
struct msg_link {
	char		 peer[48];
	char		 host[48];
	char		 subject[96];
	char		 tls[16];
	char		 cipher[40];
	char		 transport[8];	/* what frames go on: "udp", "tcp" */
	uint64_t	 up_ms;		/* time since it came up */
	uint64_t	 rx_frames, tx_frames, rx_bytes, tx_bytes;
	uint64_t	 udp_rx_frames, udp_tx_frames, udp_drops;
};

/* One forwarding table entry, for vnetctl macs. */
#define MSG_MACS_MAX		2048
#define MSG_NEVER		UINT64_MAX
struct msg_mac {
	uint8_t		 mac[6];
	uint8_t		 pad[2];
	char		 host[48];
	char		 peer[48];
	uint64_t	 seen_ago_ms;
	uint64_t	 moved_ago_ms;	/* MSG_NEVER if it never moved */
};

/*
 * What a receive or a decode comes to. A violation's reason (enum
 * msg_err) goes to the caller's out-parameter; the status alone says
 * what to do next.
 */
enum msg_status {
	MSG_ST_OK = 0,		/* a message, in *m */
	MSG_ST_NONE,		/* nothing waiting now (socket or ring empty) */
	MSG_ST_EOF,		/* the sender closed the channel */
	MSG_ST_SYSERR,		/* a system error, errno says which */
	MSG_ST_VIOLATION	/* the message broke the channel's rules */
};

/* Why a message broke its channel's rules. */
enum msg_err {
	MSG_E_NONE = 0,
	MSG_E_SHORT,		/* shorter than the header */
	MSG_E_TRUNC,		/* header length disagrees with bytes read */
	MSG_E_TYPE,		/* type not in this channel's table */
	MSG_E_LENGTH,		/* length outside the type's bounds */
	MSG_E_FD,		/* descriptor missing or unexpected */
	MSG_E_ONCE,		/* once-only type repeated */
	MSG_E_FLAGS,		/* reserved flags set */
	MSG_E_PAYLOAD,		/* payload contents invalid for its type */
	MSG_E_MAX
};

struct msg_rule;

struct msg {
	uint16_t		 type;
	const uint8_t		*payload;
	size_t			 len;
	int			 fd;	/* -1 when none */
	const struct msg_rule	*rule;	/* the channel's row it matched */
};

/*
 * What a message of a type is, on whichever channel it travels: one
 * row per type in msg.c (msg_types[]), the only place that says so.
 */
struct msg_type_info {
	const char	*name;
	uint32_t	 minlen;
	uint32_t	 maxlen;	/* equal to minlen: a fixed size */
	uint8_t		 wantfd;	/* a descriptor comes with it */
	uint8_t		 once;		/* at most once per channel */
	/* The payload's contents, once its length is in bounds. */
	enum msg_err	(*check)(const uint8_t *payload, size_t len);
};
/* The row of a type, or NULL for a type no channel may carry. */
const struct msg_type_info *msg_type_info(uint16_t type);
const char *msg_type_name(uint16_t type);

/*
 * What a receiver does with a message its channel accepted. A handler
 * that keeps m->fd sets it to -1; msg_dispatch() closes what is left.
 */
typedef void msg_handler(struct msg *m, void *ctx);

/*
 * One row of a receiving channel's table: a type the channel accepts
 * and what the receiver does with it (NULL for a channel whose caller
 * takes the messages back itself, as the data rings' consumers do).
 */
struct msg_rule {
	uint16_t	 type;
	msg_handler	*fn;
};

/*
 * A channel's table: its own rows, then those of a base table it
 * shares with other channels (crypt's rows over every worker's). A row
 * of the table itself hides the base's row for the same type.
 */
struct msg_table {
	const struct msg_rule	*rows;
	size_t			 nrows;
	const struct msg_table	*base;
};
#define MSG_TABLE(rows, base) \
	{ (rows), sizeof(rows) / sizeof((rows)[0]), (base) }

/* A receiving channel: its table and the state its "once" rules need. */
struct msg_chan {
	const char		*name;
	const struct msg_table	*tab;
	uint32_t		 seen;		/* bitmap of once types seen */
};
_Static_assert(MSG_TYPE_MAX <= 32, "msg_chan.seen has one bit per type");

void	 msg_chan_init(struct msg_chan *, const char *name,
	    const struct msg_table *);
/* Hand a decoded message to its row's handler. */
void	 msg_dispatch(struct msg *, void *ctx);

/*
 * The data channels' tables (privsep/msgtab.c); the control channels'
 * are where their handlers are (monitor/supervise.c, privsep/worker.c,
 * crypt/crypt.c).
 */
extern const struct msg_table msg_tab_frames, msg_tab_wake;

/*
 * Pure decoder: validate buf[0..n) (one whole message) against chan.
 * hasfd says whether a descriptor arrived with it. MSG_ST_OK with *m
 * filled (payload points into buf; m->fd is set by the caller), or
 * MSG_ST_VIOLATION with the reason in *why.
 */
enum msg_status msg_decode(struct msg_chan *chan, const uint8_t *buf,
	    size_t n, int hasfd, struct msg *m, enum msg_err *why);
const char *msg_strerror(enum msg_err why);

/* Batches: walk a validated MSG_FRAMES payload. */
struct msg_batch {
	uint8_t		*buf;		/* MSG_MAX bytes, header included */
	size_t		 len;		/* bytes used, header included */
	size_t		 nframes;
};
void	 batch_reset(struct msg_batch *);
/* 1 if added, 0 if the batch is full (send it first). */
int	 batch_add(struct msg_batch *, const uint8_t *frame, size_t len);
/* Reserve room for a frame of len bytes and return where to write it. */
uint8_t	*batch_reserve(struct msg_batch *, size_t len);
/* Write the MSG_FRAMES header; the whole message's length. */
size_t	 batch_finish(struct msg_batch *);
/* Iterate: returns 1 and sets frame/len, 0 at the end. */
int	 batch_next(const uint8_t *payload, size_t plen, size_t *off,
	    const uint8_t **frame, size_t *len);

/* I/O. All return -1 with errno set on failure. */
int	 msg_send(int fd, uint16_t type, const void *payload, size_t len);
int	 msg_send_fd(int fd, uint16_t type, const void *payload, size_t len,
	    int sendfd);
int	 msg_send_log(int fd, int prio, int cls, const char *text);
/*
 * Receive one message into buf (MSG_MAX bytes) without waiting and
 * decode it against chan: MSG_ST_OK with *m filled, MSG_ST_NONE,
 * MSG_ST_EOF, MSG_ST_SYSERR (errno), or MSG_ST_VIOLATION with the
 * reason in *why (the sender is to be treated as hostile).
 */
enum msg_status msg_recv(int fd, struct msg_chan *chan, uint8_t *buf,
	    struct msg *m, enum msg_err *why);
/* Make a SOCK_SEQPACKET pair with large buffers, close-on-exec. */
int	 msg_socketpair(int sv[2]);

#endif

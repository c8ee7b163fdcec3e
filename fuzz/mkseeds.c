/* SPDX-License-Identifier: ISC */
/*
 * Seed inputs for the wire and msg targets, built with the project's own
 * encoders (lib/wire.c, privsep/msg.c batch_add), so the seeds are what
 * the daemon really sends. Run by fuzz/mkcorpus.sh:
 *
 *   mkseeds wire OUTDIR FRAME...     streams of records (fuzz/wire.c format)
 *   mkseeds msg OUTDIR CONF... -- FRAME...
 *                                    messages for every channel table
 *                                    (fuzz/msg.c format)
 */
#include <sys/socket.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/wire.h"
#include "privsep/log.h"
#include "privsep/msg.h"

#define MAXFRAMES	64

struct blob {
	uint8_t	*p;
	size_t	 len, cap;
};

static uint8_t	*frames[MAXFRAMES];
static size_t	 framelen[MAXFRAMES], nframes;

static void
put(struct blob *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			err(1, "realloc");
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void
put_rec(struct blob *b, ssize_t n, const uint8_t *rec)
{
	if (n <= 0)
		errx(1, "encoder failed: %zd", n);
	put(b, rec, (size_t)n);
}

static void
save(const char *dir, const char *name, const struct blob *b)
{
	char	 path[4096];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		err(1, "%s", path);
	if (b->len > 0 && fwrite(b->p, 1, b->len, f) != b->len)
		err(1, "%s", path);
	if (fclose(f) != 0)
		err(1, "%s", path);
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	struct blob	 b = { 0 };
	uint8_t		 buf[65536];
	size_t		 n;
	FILE		*f;

	if ((f = fopen(path, "rb")) == NULL)
		err(1, "%s", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		put(&b, buf, n);
	fclose(f);
	*len = b.len;
	return b.p;
}

/* ---------------------------------------------------------------- wire */

static uint8_t	 rec[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD];

static void
hello(struct blob *b, uint8_t role, size_t nmacs)
{
	static uint8_t	 macs[6 * WIRE_HELLO_MAX_MACS];
	size_t		 i;

	for (i = 0; i < nmacs; i++) {
		static const uint8_t vm[6] = { 0x52, 0x54, 0x00, 0x12, 0x34 };

		memcpy(macs + 6 * i, vm, 6);
		macs[6 * i + 4] = (uint8_t)(0x34 + (i >> 8));
		macs[6 * i + 5] = (uint8_t)(0x56 + i);
	}
	put_rec(b, wire_encode_hello(rec, sizeof(rec), role, macs, nmacs), rec);
}

static void
frame_rec(struct blob *b, const uint8_t *f, size_t len)
{
	uint8_t	 hdr[WIRE_HDR_LEN];

	wire_put_hdr(hdr, WIRE_FRAME, len);
	put(b, hdr, sizeof(hdr));
	put(b, f, len);
}

static void
keepalive(struct blob *b)
{
	put_rec(b, wire_encode_keepalive(rec, sizeof(rec)), rec);
}

static void
close_rec(struct blob *b, uint16_t reason)
{
	put_rec(b, wire_encode_close(rec, sizeof(rec), reason), rec);
}

/* The harness's leading bytes: how the stream is cut into reads. */
static void
pieces(struct blob *b, const uint16_t *p, size_t k)
{
	uint8_t	 x[2];
	size_t	 i;

	x[0] = (uint8_t)(k - 1);
	put(b, x, 1);
	for (i = 0; i < k; i++) {
		x[0] = (uint8_t)(p[i] >> 8);
		x[1] = (uint8_t)p[i];
		put(b, x, 2);
	}
}

static void
wire_seed(const char *dir, const char *name, const uint16_t *p, size_t k,
    void (*body)(struct blob *))
{
	struct blob	 b = { 0 };

	pieces(&b, p, k);
	body(&b);
	save(dir, name, &b);
	free(b.p);
}

static size_t
smallest(void)
{
	size_t	 i, best = 0;

	for (i = 1; i < nframes; i++)
		if (framelen[i] < framelen[best])
			best = i;
	return best;
}

static size_t
largest(void)
{
	size_t	 i, best = 0;

	for (i = 1; i < nframes; i++)
		if (framelen[i] > framelen[best])
			best = i;
	return best;
}

static void
w_session_host(struct blob *b)
{
	size_t	 i;

	hello(b, WIRE_ROLE_HOST, 1);
	keepalive(b);
	for (i = 0; i < nframes && i < 16; i++)
		if (framelen[i] <= 2048)
			frame_rec(b, frames[i], framelen[i]);
	keepalive(b);
	close_rec(b, WIRE_CLOSE_SHUTDOWN);
}

static void
w_session_proxy(struct blob *b)
{
	hello(b, WIRE_ROLE_PROXY, 0);
	keepalive(b);
	keepalive(b);
	close_rec(b, WIRE_CLOSE_TIMEOUT);
}

static void
w_gso(struct blob *b)
{
	size_t	 i = largest(), j = smallest();

	hello(b, WIRE_ROLE_HOST, 3);
	frame_rec(b, frames[i], framelen[i]);
	frame_rec(b, frames[j], framelen[j]);
	keepalive(b);
}

static void
w_maxmacs(struct blob *b)
{
	hello(b, WIRE_ROLE_HOST, WIRE_HELLO_MAX_MACS);
	close_rec(b, WIRE_CLOSE_UNAUTHORIZED);
}

static void
w_closes(struct blob *b)
{
	close_rec(b, WIRE_CLOSE_PROTOCOL);
	close_rec(b, WIRE_CLOSE_UNAUTHORIZED);
	close_rec(b, 0xffff);
}

/* Decodable records that the hello parser refuses, then a bad header. */
static void
w_bad_hellos(struct blob *b)
{
	static const uint8_t bad[][12] = {
		{ 1, 0, 0, 8, 'V', 'N', 'E', 'X', 1, 1, 0, 0 },	/* magic */
		{ 1, 0, 0, 8, 'V', 'N', 'E', 'T', 2, 1, 0, 0 },	/* version */
		{ 1, 0, 0, 8, 'V', 'N', 'E', 'T', 1, 3, 0, 0 },	/* role */
		{ 1, 0, 0, 8, 'V', 'N', 'E', 'T', 1, 1, 0, 1 },	/* nmacs */
	};
	static const uint8_t oversize[4] = { WIRE_FRAME, 0x01, 0x00, 0x41 };
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		put(b, bad[i], sizeof(bad[i]));
	put(b, oversize, sizeof(oversize));
}

static void
w_unknown_type(struct blob *b)
{
	static const uint8_t r[4] = { 9, 0, 0, 0 };

	keepalive(b);
	put(b, r, sizeof(r));
}

static void
w_all_frames(struct blob *b)
{
	size_t	 i;

	hello(b, WIRE_ROLE_PROXY, 0);
	for (i = 0; i < nframes; i++)
		if (framelen[i] <= 4096)
			frame_rec(b, frames[i], framelen[i]);
}

static void
mkwire(const char *dir)
{
	static const uint16_t one[] = { 16384 }, bytes[] = { 1 };
	static const uint16_t odd[] = { 3, 5, 1000, 7, 16384 };
	static const uint16_t hdr[] = { 4, 2, 4096 };

	if (nframes == 0)
		errx(1, "wire: no frames given");
	wire_seed(dir, "session-host", one, 1, w_session_host);
	wire_seed(dir, "session-host-odd-reads", odd, 5, w_session_host);
	wire_seed(dir, "session-proxy-bytewise", bytes, 1, w_session_proxy);
	wire_seed(dir, "gso-frame", one, 1, w_gso);
	wire_seed(dir, "gso-frame-small-reads", hdr, 3, w_gso);
	wire_seed(dir, "hello-1024-macs", odd, 5, w_maxmacs);
	wire_seed(dir, "close-reasons", bytes, 1, w_closes);
	wire_seed(dir, "bad-hellos-oversize", odd, 5, w_bad_hellos);
	wire_seed(dir, "unknown-type", one, 1, w_unknown_type);
	wire_seed(dir, "proxy-frames", odd, 5, w_all_frames);
}

/* ---------------------------------------------------------------- msg */

/* fuzz/msg.c's channel numbers. */
enum { T_MONITOR, T_CAPTURE, T_CRYPT, T_INJECT, T_FRAMES, T_MONITOR_CRYPT };

static void
msg_seed(const char *dir, const char *name, int tab, int fd, int reps,
    uint16_t type, const void *payload, size_t len)
{
	struct blob	 b = { 0 };
	struct msg_hdr	 h = { .type = type, .flags = 0, .len = (uint32_t)len };
	uint8_t		 sel = (uint8_t)(tab | fd << 3 | (reps - 1) << 4);

	put(&b, &sel, 1);
	put(&b, &h, sizeof(h));
	if (len > 0)
		put(&b, payload, len);
	save(dir, name, &b);
	free(b.p);
}

static const char pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnZu\n"
    "-----END CERTIFICATE-----\n";
/* The CA text with the crl file appended, as the monitor sends it. */
static const char pem_crl[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnZu\n"
    "-----END CERTIFICATE-----\n"
    "\n"
    "-----BEGIN X509 CRL-----\n"
    "MIIBLjCB1QIBATAKBggqhkjOPQQDAjARMQ8wDQYDVQQDDAZ2bmV0IENBFw0yNjEy\n"
    "-----END X509 CRL-----\n";

/*
 * A signature request as crypt sends one for a proxy's handshake (a
 * server CertificateVerify with a SHA-256 transcript hash), a refused
 * one (arbitrary bytes), and the monitor's answers.
 */
static void
mksign(const char *dir)
{
	static const char	 sctx[] = "TLS 1.3, server CertificateVerify";
	struct msg_sign_req	 r = { .id = 7, .alg = MSG_SIGN_ECDSA,
				    .md = MSG_SIGN_SHA256 };
	struct msg_sign_ans	 a = { .id = 7, .status = MSG_SIGN_OK };
	uint8_t			 b[sizeof(r) + MSG_SIGN_TBS_MAX];
	size_t			 n = sizeof(r);

	memcpy(b, &r, sizeof(r));
	memset(b + n, 0x20, 64);
	memcpy(b + n + 64, sctx, sizeof(sctx));
	memset(b + n + 64 + sizeof(sctx), 0x5a, 32);
	n += 64 + sizeof(sctx) + 32;
	msg_seed(dir, "monitor-crypt-sign-req", T_MONITOR_CRYPT, 0, 2,
	    MSG_SIGN_REQ, b, n);
	memset(b + sizeof(r), 'A', MSG_SIGN_TBS_MAX);
	msg_seed(dir, "monitor-crypt-sign-any", T_MONITOR_CRYPT, 0, 1,
	    MSG_SIGN_REQ, b, sizeof(r) + MSG_SIGN_TBS_MAX);
	r.alg = MSG_SIGN_ED25519;
	r.md = MSG_SIGN_MD_NONE;
	memcpy(b, &r, sizeof(r));
	msg_seed(dir, "monitor-crypt-sign-ed25519", T_MONITOR_CRYPT, 0, 1,
	    MSG_SIGN_REQ, b, sizeof(r) + 1);
	memcpy(b, &a, sizeof(a));
	memset(b + sizeof(a), 0x30, 71);	/* an ECDSA P-256 DER size */
	msg_seed(dir, "crypt-signature", T_CRYPT, 0, 2, MSG_SIGNATURE, b,
	    sizeof(a) + 71);
	a.status = MSG_SIGN_REFUSED;
	memcpy(b, &a, sizeof(a));
	msg_seed(dir, "crypt-signature-refused", T_CRYPT, 0, 1, MSG_SIGNATURE,
	    b, sizeof(a));
}

static void
mkmsg(const char *dir, char **confs, size_t nconfs)
{
	static uint8_t		 bbuf[MSG_MAX];
	struct msg_batch	 bt = { .buf = bbuf };
	struct msg_log		 ml = { .prio = LOG_NOTICE, .cls = LOGC_AUDIT };
	struct msg_stat		 st[3];
	struct msg_addr		 a4 = { .family = AF_INET, .port = 4789,
				    .addr = { 10, 201, 0, 1 } };
	struct msg_addr		 a6 = { .family = AF_INET6, .port = 4789,
				    .addr = { 0xfd, 0, [15] = 1 } };
	struct msg_addr		 al[CONF_MAX_CONNECT];
	uint8_t			 logbuf[256], minframe[VNET_FRAME_MIN];
	uint64_t		 id = 42;	/* a report request's */
	uint16_t		 fam;
	size_t			 i, len;
	uint8_t			*text;
	char			 name[64];
	static const char	 line[] = "event=link_up peer=10.201.0.2:4711 "
				    "host=vmhost1";

	msg_seed(dir, "monitor-ready", T_MONITOR, 0, 2, MSG_READY, NULL, 0);
	memcpy(logbuf, &ml, sizeof(ml));
	memcpy(logbuf + sizeof(ml), line, sizeof(line) - 1);
	msg_seed(dir, "monitor-log", T_MONITOR, 0, 1, MSG_LOG, logbuf,
	    sizeof(ml) + sizeof(line) - 1);
	memset(st, 0, sizeof(st));
	strcpy(st[0].name, "frames");
	st[0].value = 12345;
	strcpy(st[1].name, "drop_parse");
	strcpy(st[2].name, "malformed_records");
	st[2].value = 7;
	msg_seed(dir, "monitor-stats", T_MONITOR, 0, 1, MSG_STATS, st,
	    sizeof(st));
	msg_seed(dir, "monitor-crypt-stats", T_MONITOR_CRYPT, 0, 1, MSG_STATS,
	    st, sizeof(st));
	msg_seed(dir, "monitor-crypt-ready", T_MONITOR_CRYPT, 0, 2, MSG_READY,
	    NULL, 0);
	msg_seed(dir, "monitor-stats-end", T_MONITOR, 0, 2, MSG_STATS_END,
	    &id, sizeof(id));
	{
		struct {
			uint32_t	 total;
			struct msg_link	 l[2];
		} __attribute__((packed)) links;
		struct {
			uint32_t	 total;
			struct msg_mac	 m[2];
		} __attribute__((packed)) macs;

		memset(&links, 0, sizeof(links));
		links.total = 3;
		strcpy(links.l[0].peer, "10.201.0.2:4711");
		strcpy(links.l[0].host, "vmhost1");
		strcpy(links.l[0].subject, "CN = vmhost1");
		strcpy(links.l[0].tls, "TLSv1.3");
		strcpy(links.l[0].cipher, "TLS_AES_256_GCM_SHA384");
		links.l[0].rx_frames = 10;
		strcpy(links.l[1].peer, "[fd00::2]:4711");
		strcpy(links.l[1].host, "vmhost2");
		msg_seed(dir, "monitor-crypt-links", T_MONITOR_CRYPT, 0, 1,
		    MSG_LINKS, &links, sizeof(links));
		msg_seed(dir, "monitor-crypt-links-none", T_MONITOR_CRYPT, 0, 1,
		    MSG_LINKS, &links, 4);
		memset(&macs, 0, sizeof(macs));
		macs.total = 2;
		memcpy(macs.m[0].mac, "\x52\x54\x00\x12\x34\x56", 6);
		strcpy(macs.m[0].host, "vmhost1");
		strcpy(macs.m[0].peer, "10.201.0.2:4711");
		macs.m[0].moved_ago_ms = MSG_NEVER;
		memcpy(macs.m[1].mac, "\x02\x00\x00\x00\x00\x01", 6);
		strcpy(macs.m[1].host, "-");
		strcpy(macs.m[1].peer, "-");
		msg_seed(dir, "monitor-crypt-macs", T_MONITOR_CRYPT, 0, 1,
		    MSG_MACS, &macs, sizeof(macs));
	}

	for (i = 0; i < nconfs; i++) {
		text = slurp(confs[i], &len);
		snprintf(name, sizeof(name), "capture-config-%zu", i);
		msg_seed(dir, name, T_CAPTURE, 0, 2, MSG_CONFIG, text, len);
		snprintf(name, sizeof(name), "crypt-config-%zu", i);
		msg_seed(dir, name, T_CRYPT, 0, 1, MSG_CONFIG, text, len);
		snprintf(name, sizeof(name), "inject-config-%zu", i);
		msg_seed(dir, name, T_INJECT, 0, 1, MSG_CONFIG, text, len);
		snprintf(name, sizeof(name), "crypt-reload-%zu", i);
		msg_seed(dir, name, T_CRYPT, 0, 2, MSG_RELOAD, text, len);
		free(text);
	}
	msg_seed(dir, "capture-go", T_CAPTURE, 0, 2, MSG_GO, NULL, 0);
	msg_seed(dir, "capture-stats-req", T_CAPTURE, 0, 3, MSG_STATS_REQ,
	    &id, sizeof(id));
	msg_seed(dir, "inject-go", T_INJECT, 0, 1, MSG_GO, NULL, 0);
	msg_seed(dir, "inject-stats-req", T_INJECT, 0, 1, MSG_STATS_REQ,
	    &id, sizeof(id));
	msg_seed(dir, "crypt-pem-cert", T_CRYPT, 0, 1, MSG_PEM_CERT, pem,
	    sizeof(pem) - 1);
	mksign(dir);
	msg_seed(dir, "crypt-pem-ca", T_CRYPT, 0, 1, MSG_PEM_CA, pem,
	    sizeof(pem) - 1);
	/* A reload sends both again: no longer once-only. */
	msg_seed(dir, "crypt-pem-cert-reload", T_CRYPT, 0, 2, MSG_PEM_CERT,
	    pem, sizeof(pem) - 1);
	msg_seed(dir, "crypt-pem-ca-crl", T_CRYPT, 0, 2, MSG_PEM_CA, pem_crl,
	    sizeof(pem_crl) - 1);
	msg_seed(dir, "crypt-listen-fd", T_CRYPT, 1, 2, MSG_LISTEN_FD, NULL, 0);
	msg_seed(dir, "crypt-connect-v4", T_CRYPT, 0, 1, MSG_CONNECT_ADDR,
	    &a4, sizeof(a4));
	msg_seed(dir, "crypt-connect-v6", T_CRYPT, 0, 2, MSG_CONNECT_ADDR,
	    &a6, sizeof(a6));
	fam = AF_INET;
	msg_seed(dir, "crypt-udp-fd-v4", T_CRYPT, 1, 2, MSG_UDP_FD, &fam,
	    sizeof(fam));
	fam = AF_INET6;
	msg_seed(dir, "crypt-udp-fd-v6", T_CRYPT, 1, 2, MSG_UDP_FD, &fam,
	    sizeof(fam));
	/* Several proxies: a full list, mixed families. */
	for (i = 0; i < CONF_MAX_CONNECT; i++) {
		al[i] = i % 2 ? a6 : a4;
		al[i].port = (uint16_t)(4789 + i);
	}
	msg_seed(dir, "crypt-connect-list", T_CRYPT, 0, 1, MSG_CONNECT_ADDR,
	    al, sizeof(al));
	msg_seed(dir, "crypt-go", T_CRYPT, 0, 1, MSG_GO, NULL, 0);
	msg_seed(dir, "crypt-stats-req", T_CRYPT, 0, 1, MSG_STATS_REQ, &id,
	    sizeof(id));

	/* Batches, built the way capture and crypt build them. */
	if (nframes > 0) {
		batch_reset(&bt);
		batch_add(&bt, frames[smallest()], framelen[smallest()]);
		msg_seed(dir, "frames-one", T_FRAMES, 0, 1, MSG_FRAMES,
		    bt.buf + MSG_HDR_LEN, bt.len - MSG_HDR_LEN);
		batch_reset(&bt);
		for (i = 0; i < nframes; i++)
			if (framelen[i] <= 2048)
				batch_add(&bt, frames[i], framelen[i]);
		msg_seed(dir, "frames-many", T_FRAMES, 0, 1, MSG_FRAMES,
		    bt.buf + MSG_HDR_LEN, bt.len - MSG_HDR_LEN);
		batch_reset(&bt);
		batch_add(&bt, frames[largest()], framelen[largest()]);
		batch_add(&bt, frames[smallest()], framelen[smallest()]);
		msg_seed(dir, "frames-gso", T_FRAMES, 0, 1, MSG_FRAMES,
		    bt.buf + MSG_HDR_LEN, bt.len - MSG_HDR_LEN);
	}
	memset(minframe, 0xff, sizeof(minframe));
	batch_reset(&bt);
	while (batch_add(&bt, minframe, sizeof(minframe)))
		;
	msg_seed(dir, "frames-256-minimal", T_FRAMES, 0, 1, MSG_FRAMES,
	    bt.buf + MSG_HDR_LEN, bt.len - MSG_HDR_LEN);
	/* One frame over the limit: batch_add would refuse it, so by hand. */
	{
		uint32_t	 l = sizeof(minframe);

		memcpy(bt.buf + bt.len, &l, sizeof(l));
		memcpy(bt.buf + bt.len + sizeof(l), minframe, sizeof(minframe));
		msg_seed(dir, "frames-257-minimal", T_FRAMES, 0, 1, MSG_FRAMES,
		    bt.buf + MSG_HDR_LEN,
		    bt.len + sizeof(l) + sizeof(minframe) - MSG_HDR_LEN);
	}
}

int
main(int argc, char *argv[])
{
	char	**confs = NULL;
	size_t	  nconfs = 0;
	int	  i = 3;

	if (argc < 3)
		errx(2, "usage: mkseeds wire|msg OUTDIR [CONF... --] FRAME...");
	if (strcmp(argv[1], "msg") == 0) {
		confs = argv + 3;
		for (; i < argc && strcmp(argv[i], "--") != 0; i++)
			nconfs++;
		if (i < argc)
			i++;
	}
	for (; i < argc && nframes < MAXFRAMES; i++) {
		frames[nframes] = slurp(argv[i], &framelen[nframes]);
		if (framelen[nframes] < VNET_FRAME_MIN ||
		    framelen[nframes] > VNET_FRAME_MAX)
			errx(1, "%s: not a frame (%zu bytes)", argv[i],
			    framelen[nframes]);
		nframes++;
	}
	if (strcmp(argv[1], "wire") == 0)
		mkwire(argv[2]);
	else if (strcmp(argv[1], "msg") == 0)
		mkmsg(argv[2], confs, nconfs);
	else
		errx(2, "unknown kind %s", argv[1]);
	return 0;
}

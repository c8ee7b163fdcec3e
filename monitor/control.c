/* SPDX-License-Identifier: ISC */
/*
 * The control socket vnetctl(8) talks to: a UNIX stream socket, mode
 * 0660, owned by root and the configured group. One request per
 * connection, parsed strictly (lib/ctlreq.c); the client's uid, from
 * SO_PEERCRED, goes into the audit record. Answers are built from the
 * workers' reports, requested fresh for each command.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ctlreq.h"
#include "monitor/clock.h"
#include "monitor/monitor.h"
#include "privsep/log.h"

#define CTL_CLIENTS	8
#define CTL_WAIT_MS	1000	/* how long a reply waits for fresh reports */

struct ctl_client {
	int		 fd;		/* -1: free slot */
	uid_t		 uid;
	char		 buf[CTLREQ_MAX];
	size_t		 len;
	struct ctl_req	 req;
	int		 waiting;
	struct timespec	 deadline;
	uint64_t	 want[W_COUNT];	/* report ids to wait for, 0: none */
};

static struct ctl_client clients[CTL_CLIENTS];

/* A growing output buffer. */
struct obuf {
	char	*p;
	size_t	 len, cap;
	int	 err;
};

static void __attribute__((format(printf, 2, 3)))
ob_printf(struct obuf *o, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (o->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->err = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t	 ncap = (o->cap + (size_t)n + 1) * 2;
			char	*np = realloc(o->p, ncap);

			if (np == NULL) {
				o->err = 1;
				return;
			}
			o->p = np;
			o->cap = ncap;
		}
	}
}

/* A JSON string from operator-controlled text (paths, names). */
static void
ob_jstr(struct obuf *o, const char *s)
{
	ob_printf(o, "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			ob_printf(o, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			ob_printf(o, "\\u%04x", (unsigned char)*s);
		else
			ob_printf(o, "%c", *s);
	}
	ob_printf(o, "\"");
}

/* "1h02m03s", "4m05s", "7.3s": short, for aligned columns. */
static const char *
dur(char *buf, size_t len, uint64_t ms)
{
	uint64_t	 s = ms / 1000;

	if (s >= 3600)
		snprintf(buf, len, "%lluh%02llum%02llus",
		    (unsigned long long)s / 3600,
		    (unsigned long long)(s / 60) % 60,
		    (unsigned long long)s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)s / 60,
		    (unsigned long long)s % 60);
	else
		snprintf(buf, len, "%llu.%llus", (unsigned long long)s,
		    (unsigned long long)(ms % 1000) / 100);
	return buf;
}

static void
fmt_status(struct monitor *m, struct obuf *o, int json)
{
	uint64_t	 up;
	char		 d[32];
	int		 i;
	const char	*role = m->conf.role == CONF_ROLE_HOST ? "host" : "proxy";

	up = (uint64_t)ts_ms_since(&m->started);
	if (json) {
		ob_printf(o, "{\"version\":\"%s\",\"role\":\"%s\","
		    "\"uptime_s\":%llu,\"config\":", VNET_VERSION, role,
		    (unsigned long long)up / 1000);
		ob_jstr(o, m->conffile);
		ob_printf(o, ",\"config_sha256\":\"%s\",\"interface\":",
		    m->confhash);
		ob_jstr(o, m->conf.interface);
		ob_printf(o, ",\"workers\":[");
		for (i = 0; i < W_COUNT; i++)
			ob_printf(o, "%s{\"name\":\"%s\",\"pid\":%ld,"
			    "\"state\":\"%s\",\"restarts\":%u}", i ? "," : "",
			    m->w[i].name, (long)m->w[i].pid, m->w[i].pid == -1 ?
			    "down" : m->w[i].ready ? "ready" : "starting",
			    m->w[i].restarts);
		ob_printf(o, "]}\n");
		return;
	}
	ob_printf(o, "vnetd %s, role %s, interface %s, up %s\n", VNET_VERSION,
	    role, m->conf.interface, dur(d, sizeof(d), up));
	ob_printf(o, "config %s (sha256 %s)\n\n", m->conffile, m->confhash);
	ob_printf(o, "%-8s %8s  %-8s  %s\n", "WORKER", "PID", "STATE",
	    "RESTARTS");
	for (i = 0; i < W_COUNT; i++)
		ob_printf(o, "%-8s %8ld  %-8s  %u\n", m->w[i].name,
		    (long)m->w[i].pid, m->w[i].pid == -1 ? "down" :
		    m->w[i].ready ? "ready" : "starting", m->w[i].restarts);
}

static uint32_t
report_total(const struct report *r)
{
	uint32_t	 t = 0;

	if (r->len >= 4)
		memcpy(&t, r->buf, sizeof(t));
	return t;
}

static void
fmt_links(struct monitor *m, struct obuf *o, int json)
{
	struct msg_link	 k;
	char		 d[32];
	size_t		 off, n = 0;

	if (!json)
		ob_printf(o, "%-22s %-12s %-5s %-9s %-8s %-24s %-9s %10s %10s "
		    "%12s %12s\n", "PEER", "HOST", "STATE", "UP", "TLS",
		    "CIPHER", "TRANSPORT", "RX_FRAMES", "TX_FRAMES", "RX_BYTES",
		    "TX_BYTES");
	else
		ob_printf(o, "{\"total\":%u,\"links\":[",
		    report_total(&m->links));
	for (off = 4; off + sizeof(k) <= m->links.len; off += sizeof(k)) {
		memcpy(&k, m->links.buf + off, sizeof(k));
		/* Strings were checked printable, quote-free on receipt. */
		if (json) {
			ob_printf(o, "%s{\"peer\":\"%s\",\"host\":\"%s\","
			    "\"state\":\"up\",\"up_s\":%llu,\"subject\":\"%s\","
			    "\"tls\":\"%s\",\"cipher\":\"%s\",\"transport\":"
			    "\"%s\",\"rx_frames\":%llu,\"tx_frames\":%llu,"
			    "\"rx_bytes\":%llu,\"tx_bytes\":%llu,"
			    "\"udp_rx_frames\":%llu,\"udp_tx_frames\":%llu,"
			    "\"udp_drops\":%llu}", n ? "," : "", k.peer, k.host,
			    (unsigned long long)k.up_ms / 1000, k.subject, k.tls,
			    k.cipher, k.transport,
			    (unsigned long long)k.rx_frames,
			    (unsigned long long)k.tx_frames,
			    (unsigned long long)k.rx_bytes,
			    (unsigned long long)k.tx_bytes,
			    (unsigned long long)k.udp_rx_frames,
			    (unsigned long long)k.udp_tx_frames,
			    (unsigned long long)k.udp_drops);
		} else {
			ob_printf(o, "%-22s %-12s %-5s %-9s %-8s %-24s %-9s "
			    "%10llu %10llu %12llu %12llu\n", k.peer, k.host,
			    "up", dur(d, sizeof(d), k.up_ms), k.tls, k.cipher,
			    k.transport,
			    (unsigned long long)k.rx_frames,
			    (unsigned long long)k.tx_frames,
			    (unsigned long long)k.rx_bytes,
			    (unsigned long long)k.tx_bytes);
		}
		n++;
	}
	if (json)
		ob_printf(o, "]}\n");
	else if (n == 0)
		ob_printf(o, "(no link is up)\n");
}

static void
fmt_macs(struct monitor *m, struct obuf *o, int json)
{
	struct msg_mac	 e;
	char		 mac[18], d[32], d2[32];
	size_t		 off, n = 0;

	if (json)
		ob_printf(o, "{\"total\":%u,\"macs\":[", report_total(&m->macs));
	else
		ob_printf(o, "%-17s  %-12s %-22s %10s  %s\n", "MAC", "HOST",
		    "PEER", "SEEN_AGO", "MOVED_AGO");
	for (off = 4; off + sizeof(e) <= m->macs.len; off += sizeof(e)) {
		memcpy(&e, m->macs.buf + off, sizeof(e));
		mac_format(e.mac, mac);
		if (json) {
			ob_printf(o, "%s{\"mac\":\"%s\",\"host\":\"%s\","
			    "\"peer\":\"%s\",\"last_seen_ms\":%llu,"
			    "\"last_moved_ms\":", n ? "," : "", mac, e.host,
			    e.peer, (unsigned long long)e.seen_ago_ms);
			if (e.moved_ago_ms == MSG_NEVER)
				ob_printf(o, "null}");
			else
				ob_printf(o, "%llu}",
				    (unsigned long long)e.moved_ago_ms);
		} else {
			ob_printf(o, "%-17s  %-12s %-22s %10s  %s\n", mac,
			    e.host, e.peer, dur(d, sizeof(d), e.seen_ago_ms),
			    e.moved_ago_ms == MSG_NEVER ? "never" :
			    dur(d2, sizeof(d2), e.moved_ago_ms));
		}
		n++;
	}
	if (json)
		ob_printf(o, "]}\n");
	else if (n == 0)
		ob_printf(o, "(no MAC seen yet)\n");
	else if (report_total(&m->macs) > n)
		ob_printf(o, "(%zu of %u shown)\n", n, report_total(&m->macs));
}

static void
fmt_stats(struct monitor *m, struct obuf *o, int json)
{
	struct msg_stat	 st;
	size_t		 off;
	int		 i;

	if (json)
		ob_printf(o, "{");
	for (i = 0; i < W_COUNT; i++) {
		const struct worker *w = &m->w[i];

		if (json)
			ob_printf(o, "%s\"%s\":{\"restarts\":%u", i ? "," : "",
			    w->name, w->restarts);
		else
			ob_printf(o, "%s%s (pid %ld, restarts %u)\n", i ? "\n" :
			    "", w->name, (long)w->pid, w->restarts);
		for (off = 0; off + sizeof(st) <= w->statslen;
		    off += sizeof(st)) {
			memcpy(&st, w->stats + off, sizeof(st));
			if (json)
				ob_printf(o, ",\"%s\":%llu", st.name,
				    (unsigned long long)st.value);
			else
				ob_printf(o, "  %-24s %llu\n", st.name,
				    (unsigned long long)st.value);
		}
		if (json)
			ob_printf(o, "}");
	}
	if (json)
		ob_printf(o, "}\n");
}

static void
fmt_reload(struct monitor *m, struct obuf *o, int json)
{
	const char	*why = NULL;

	if (monitor_reload(m, &why) == 0) {
		if (json)
			ob_printf(o, "{\"reload\":\"applied\",\"config_sha256\":"
			    "\"%s\"}\n", m->confhash);
		else
			ob_printf(o, "reload applied (sha256 %s)\n", m->confhash);
		return;
	}
	if (json) {
		ob_printf(o, "{\"reload\":\"rejected\",\"reason\":");
		ob_jstr(o, why);
		ob_printf(o, "}\n");
	} else
		ob_printf(o, "error: reload rejected: %s\n", why);
}

/* Write the whole reply; a client that does not read is cut off. */
static void
control_reply(struct ctl_client *c, const char *p, size_t len)
{
	struct timeval	 tv = { 1, 0 };
	ssize_t		 n;
	int		 fl;

	if ((fl = fcntl(c->fd, F_GETFL)) != -1)
		(void)fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		p += n;
		len -= (size_t)n;
	}
	close(c->fd);
	c->fd = -1;
	c->waiting = 0;
}

static void
control_answer(struct monitor *m, struct ctl_client *c)
{
	struct obuf	 o = { NULL, 0, 0, 0 };

	switch (c->req.cmd) {
	case CTL_STATUS: fmt_status(m, &o, c->req.json); break;
	case CTL_LINKS: fmt_links(m, &o, c->req.json); break;
	case CTL_MACS: fmt_macs(m, &o, c->req.json); break;
	case CTL_STATS: fmt_stats(m, &o, c->req.json); break;
	case CTL_RELOAD: fmt_reload(m, &o, c->req.json); break;
	default: break;
	}
	if (o.err || o.p == NULL)
		control_reply(c, "error: out of memory\n", 21);
	else
		control_reply(c, o.p, o.len);
	free(o.p);
}

/* The default lives in /run/vnetd/, which may not exist yet. */
static void
control_mkdir(const char *path)
{
	char	 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char	*slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	/* umask(077) is in force: members of control-group must get in. */
	if (mkdir(dir, 0755) == 0)
		(void)chmod(dir, 0755);
	else if (errno != EEXIST)
		log_warn("event=error what=control_dir path=%s", dir);
}

int
control_init(struct monitor *m)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	const char		*path = m->conf.control;
	int			 fd, i;

	m->control_fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("event=error what=control path=%s reason=\"path too "
		    "long\"", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	control_mkdir(path);
	/*
	 * A socket left by an earlier run is ours to replace; one that a
	 * running vnetd answers on is not, and neither is anything else.
	 */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("event=error what=control path=%s reason=\"not "
			    "a socket\"", path);
			return -1;
		}
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1 &&
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(fd);
			log_warnx("event=error what=control path=%s reason=\"in "
			    "use by another vnetd\"", path);
			return -1;
		}
		if (fd != -1)
			close(fd);
		(void)unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0660) == -1 || chown(path, 0, m->control_gid) == -1 ||
	    listen(fd, CTL_CLIENTS) == -1) {
		log_warn("event=error what=control path=%s", path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	for (i = 0; i < CTL_CLIENTS; i++)
		clients[i].fd = -1;
	m->control_fd = fd;
	return 0;
}

void
control_accept(struct monitor *m)
{
	struct ucred	 cred;
	socklen_t	 sl = sizeof(cred);
	int		 fd, i;

	while ((fd = accept4(m->control_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) == -1) {
			close(fd);
			continue;
		}
		for (i = 0; i < CTL_CLIENTS && clients[i].fd != -1; i++)
			;
		if (i == CTL_CLIENTS) {
			audit("event=control_rejected uid=%u reason=\"too many "
			    "clients\"", (unsigned)cred.uid);
			close(fd);
			continue;
		}
		memset(&clients[i], 0, sizeof(clients[i]));
		clients[i].fd = fd;
		clients[i].uid = cred.uid;
		/* It has 5 s to send its request. */
		ts_deadline(&clients[i].deadline, 5000);
	}
}

int
control_pollfds(struct monitor *m, struct pollfd *pfd, int max)
{
	int	 n = 0, i;

	if (m->control_fd == -1 || max < 1)
		return 0;
	pfd[n].fd = m->control_fd;
	pfd[n++].events = POLLIN;
	for (i = 0; i < CTL_CLIENTS && n < max; i++)
		if (clients[i].fd != -1 && !clients[i].waiting) {
			pfd[n].fd = clients[i].fd;
			pfd[n++].events = POLLIN;
		}
	return n;
}

/* The request is in: answer now, or ask the workers and wait. */
static void
control_request(struct monitor *m, struct ctl_client *c)
{
	const char	*why;
	char		 msg[96];
	uint64_t	 id;
	int		 i;

	if (ctlreq_parse(c->buf, c->len, &c->req, &why) == -1) {
		audit("event=control_rejected uid=%u reason=\"%s\"",
		    (unsigned)c->uid, why);
		snprintf(msg, sizeof(msg), "error: %s\n", why);
		control_reply(c, msg, strlen(msg));
		return;
	}
	audit("event=control uid=%u command=%s json=%d", (unsigned)c->uid,
	    ctlreq_name(c->req.cmd), c->req.json);
	if (c->req.cmd == CTL_STATUS || c->req.cmd == CTL_RELOAD) {
		control_answer(m, c);
		return;
	}
	id = supervise_stats(m);
	for (i = 0; i < W_COUNT; i++)
		c->want[i] = m->w[i].asked == id ? id : 0;
	c->waiting = 1;
	ts_deadline(&c->deadline, CTL_WAIT_MS);
}

void
control_io(struct monitor *m, int fd, short revents)
{
	struct ctl_client	*c = NULL;
	ssize_t			 n;
	int			 i;

	(void)revents;
	if (fd == m->control_fd) {
		control_accept(m);
		return;
	}
	for (i = 0; i < CTL_CLIENTS; i++)
		if (clients[i].fd == fd)
			c = &clients[i];
	if (c == NULL || c->waiting)
		return;
	n = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0) {
		if (n == -1 && errno == EAGAIN)
			return;
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->len += (size_t)n;
	if (memchr(c->buf, '\n', c->len) != NULL || c->len == sizeof(c->buf))
		control_request(m, c);
}

static int
control_fresh(const struct monitor *m, const struct ctl_client *c)
{
	int	 i;

	/*
	 * Every report asked for has ended (crypt's with its links and
	 * MACs); one from a worker that died first never will, and the
	 * deadline answers with what there is.
	 */
	for (i = 0; i < W_COUNT; i++)
		if (m->w[i].answered < c->want[i])
			return 0;
	return 1;
}

/* Answer the clients whose reports are in, or who waited long enough. */
void
control_due(struct monitor *m, int *timeout_ms)
{
	struct timespec	 now;
	long		 left;
	int		 i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (i = 0; i < CTL_CLIENTS; i++) {
		struct ctl_client *c = &clients[i];

		if (c->fd == -1)
			continue;
		left = ts_ms_diff(&now, &c->deadline);
		if (c->waiting && (control_fresh(m, c) || left <= 0)) {
			control_answer(m, c);
			continue;
		}
		if (!c->waiting && left <= 0) {
			/* A client that connects and says nothing. */
			close(c->fd);
			c->fd = -1;
			continue;
		}
		if (*timeout_ms == -1 || left < *timeout_ms)
			*timeout_ms = left < 0 ? 0 : (int)left;
	}
}

void
control_close(struct monitor *m)
{
	int	 i;

	for (i = 0; i < CTL_CLIENTS; i++)
		if (clients[i].fd != -1) {
			close(clients[i].fd);
			clients[i].fd = -1;
		}
	if (m->control_fd != -1) {
		close(m->control_fd);
		(void)unlink(m->conf.control);
		m->control_fd = -1;
	}
}

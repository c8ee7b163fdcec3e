/* SPDX-License-Identifier: ISC */
/*
 * Starting, feeding, watching and restarting the workers. Every worker
 * is treated as hostile: its messages are checked against the table of
 * what it may send, and one that breaks it is killed and restarted.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ratelim.h"
#include "monitor/clock.h"
#include "monitor/monitor.h"
#include "privsep/log.h"
#include "privsep/privsep.h"

#define BACKOFF_MIN_MS	100
#define STABLE_SECS	10	/* a worker up this long resets its backoff */
/*
 * Messages taken from one worker per round of the poll loop: a worker
 * that writes faster than the monitor reads cannot keep it from the
 * other workers, the signals and the control socket.
 */
#define WORKER_MSGS_PER_ROUND	64
/*
 * Log records written per worker and second. The workers limit what a
 * peer can cause themselves (doc/AUDIT.md); this bounds a compromised
 * worker. It is above what a real one writes even when every link of a
 * proxy comes up in the same second after a crypt restart.
 */
#define WORKER_LOG_PER_SEC	200
/* The most urgent severity a worker's record gets (its fatal()s). */
#define WORKER_LOG_CEILING	LOG_ERR

static uint8_t	 rxbuf[MSG_MAX];
/* Per worker slot, across restarts: its log limiter and what it held. */
static struct ratelim	 log_rl[W_COUNT];
static uint64_t		 log_suppressed[W_COUNT];
/* What the monitor takes from each worker (below, with the handlers). */
static const struct msg_table from_worker, from_crypt;
/* restart-max-delay: how far a crash loop's restart delay may grow. */
static unsigned	 backoff_max_ms = CONF_RESTART_MAX_DELAY_DEFAULT;

void
supervise_backoff_max(unsigned ms)
{
	backoff_max_ms = ms;
}

void
supervise_init(struct monitor *m)
{
	static const struct {
		const char *name, *exe;
		enum sandbox_role role;
	} spec[W_COUNT] = {
		[W_CAPTURE] = { "capture", "vnet-capture", SANDBOX_CAPTURE },
		[W_CRYPT] = { "crypt", "vnet-crypt", SANDBOX_CRYPT },
		[W_INJECT] = { "inject", "vnet-inject", SANDBOX_INJECT },
	};
	int	 i;

	for (i = 0; i < W_COUNT; i++) {
		struct worker *w = &m->w[i];

		memset(w, 0, sizeof(*w));
		w->mon = m;
		w->name = spec[i].name;
		w->exe = spec[i].exe;
		w->role = spec[i].role;
		w->caps = privsep_worker_caps(spec[i].role, &w->ncaps);
		w->fds.monitor = w->fds.bell_in = w->fds.ring_in = -1;
		w->fds.bell_out = w->fds.ring_out = -1;
		w->ctl = -1;
		w->pid = -1;
		w->backoff_ms = BACKOFF_MIN_MS;
		ratelim_init(&log_rl[i], WORKER_LOG_PER_SEC, 1000);
		log_suppressed[i] = 0;
	}
}

static uint64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t
worker_slot(const struct worker *w)
{
	return (size_t)(w - w->mon->w);
}

/* What the limiter held back of one worker's records, as one record. */
static void
supervise_log_held(struct worker *w, pid_t pid, uint64_t n)
{
	if (n == 0)
		return;
	audit("event=suppressed what=worker_log worker=%s pid=%ld "
	    "suppressed=%llu total=%llu", w->name, (long)pid,
	    (unsigned long long)n,
	    (unsigned long long)log_suppressed[worker_slot(w)]);
}

static int
supervise_udp(struct monitor *m, struct worker *w)
{
	size_t	 i;

	for (i = 0; i < 2; i++)
		if (m->udp_fd[i] != -1 && msg_send_fd(w->ctl, MSG_UDP_FD,
		    &m->udp_family[i], sizeof(m->udp_family[i]),
		    m->udp_fd[i]) == -1)
			return -1;
	return 0;
}

/* Everything a worker needs before it may drop and run. */
static int
supervise_feed(struct monitor *m, struct worker *w)
{
	if (msg_send(w->ctl, MSG_CONFIG, m->conftext, m->conflen) == -1)
		return -1;
	if (w == &m->w[W_CRYPT]) {
		if (msg_send(w->ctl, MSG_PEM_CERT, m->pem_cert,
		    m->pem_cert_len) == -1 ||
		    msg_send(w->ctl, MSG_PEM_CA, m->pem_ca, m->pem_ca_len) == -1)
			return -1;
		if (m->listen_fd != -1 && msg_send_fd(w->ctl, MSG_LISTEN_FD,
		    NULL, 0, m->listen_fd) == -1)
			return -1;
		if (supervise_udp(m, w) == -1)
			return -1;
		if (m->conf.role == CONF_ROLE_HOST && msg_send(w->ctl,
		    MSG_CONNECT_ADDR, m->connect,
		    m->nconnect * sizeof(m->connect[0])) == -1)
			return -1;
	}
	return msg_send(w->ctl, MSG_GO, NULL, 0);
}

int
supervise_start(struct monitor *m, struct worker *w)
{
	struct spawn_req	 req;
	struct worker_fds	 fds = w->fds;
	char			 path[4096];
	int			 sv[2];

	if (msg_socketpair(sv) == -1) {
		log_warn("event=error what=socketpair worker=%s", w->name);
		return -1;
	}
	fds.monitor = sv[1];
	snprintf(path, sizeof(path), "%s/%s", m->libexec, w->exe);
	memset(&req, 0, sizeof(req));
	req.path = path;
	req.argv0 = w->exe;
	req.role = w->role;
	req.fds = &fds;
	req.caps = w->caps;
	req.ncaps = w->ncaps;
	req.verbose = m->verbose;
	w->pid = privsep_spawn(&req);
	close(sv[1]);
	if (w->pid == -1) {
		log_warn("event=error what=spawn worker=%s", w->name);
		close(sv[0]);
		return -1;
	}
	w->ctl = sv[0];
	w->ready = 0;
	msg_chan_init(&w->chan, w->name, w == &m->w[W_CRYPT] ? &from_crypt :
	    &from_worker);
	clock_gettime(CLOCK_MONOTONIC, &w->started);
	audit("event=worker_start worker=%s pid=%ld restarts=%u", w->name,
	    (long)w->pid, w->restarts);
	if (supervise_feed(m, w) == -1) {
		log_warn("event=error what=feed worker=%s", w->name);
		kill(w->pid, SIGKILL);
	}
	return 0;
}

/* Read uid and capabilities from the kernel, not from the worker. */
static void
supervise_ready(struct worker *w)
{
	char	 path[64], line[256], uid[32] = "?", capeff[32] = "?";
	char	 capbnd[32] = "?";
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)w->pid);
	if ((f = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "Uid: %31s", uid) == 1)
				continue;
			if (sscanf(line, "CapEff: %31s", capeff) == 1)
				continue;
			(void)sscanf(line, "CapBnd: %31s", capbnd);
		}
		fclose(f);
	}
	w->ready = 1;
	audit("event=worker_ready worker=%s pid=%ld uid=%s caps=%s "
	    "capeff=%s capbnd=%s", w->name, (long)w->pid, uid,
	    strspn(capeff, "0") == strlen(capeff) ? "none" : "some", capeff,
	    capbnd);
}

/*
 * A worker's log record: one printable line, its attribution first (the
 * monitor's, so nothing the worker writes can come before it), its
 * severity at most WORKER_LOG_CEILING, and at most WORKER_LOG_PER_SEC
 * of them a second; what that holds back is counted and summarized.
 */
static void
supervise_log(struct worker *w, const struct msg *msg)
{
	struct msg_log	 ml;
	char		 text[LOG_LINE_MAX + 1], line[LOG_LINE_MAX + 128];
	size_t		 n = msg->len - sizeof(ml), slot = worker_slot(w);
	uint64_t	 held;

	if (!ratelim_allow(&log_rl[slot], mono_ms(), &held)) {
		log_suppressed[slot]++;
		return;
	}
	supervise_log_held(w, w->pid, held);
	memcpy(&ml, msg->payload, sizeof(ml));
	if (n >= sizeof(text))		/* the channel table bounds it */
		n = sizeof(text) - 1;
	memcpy(text, msg->payload + sizeof(ml), n);	/* holds no NUL */
	text[n] = '\0';
	if (n >= 6 && memcmp(text, "event=", 6) == 0)
		snprintf(line, sizeof(line), "worker=%s pid=%ld %s", w->name,
		    (long)w->pid, logsafe_line(text));
	else
		snprintf(line, sizeof(line), "worker=%s pid=%ld event=log "
		    "msg=\"%s\"", w->name, (long)w->pid, logsafe(text));
	log_emit(ml.prio < WORKER_LOG_CEILING ? WORKER_LOG_CEILING : ml.prio,
	    ml.cls == LOGC_AUDIT ? LOGC_AUDIT : LOGC_OPS, line);
}

/*
 * A window ended with records held back and none since reported them
 * (or the worker is gone: pid is the one they came from).
 */
static void
supervise_log_flush(struct worker *w, pid_t pid, int gone, int *timeout_ms)
{
	struct ratelim	*rl = &log_rl[worker_slot(w)];
	uint64_t	 now = mono_ms(), held;
	long		 left;

	if (rl->suppressed == 0)
		return;
	if (gone) {
		held = rl->suppressed;
		rl->suppressed = 0;
		supervise_log_held(w, pid, held);
		return;
	}
	if (ratelim_flush(rl, now, &held)) {
		supervise_log_held(w, pid, held);
		return;
	}
	left = (long)(rl->window_ms + rl->period_ms - now);
	if (left < 1)
		left = 1;
	if (*timeout_ms == -1 || left < *timeout_ms)
		*timeout_ms = (int)left;
}

static void
supervise_log_one(struct worker *w)
{
	struct msg_stat	 st;
	char		 line[LOG_LINE_MAX * 2];
	size_t		 off, used;

	used = (size_t)snprintf(line, sizeof(line), "event=stats worker=%s "
	    "pid=%ld restarts=%u", w->name, (long)w->pid, w->restarts);
	for (off = 0; off < w->statslen && used < sizeof(line);
	    off += sizeof(st)) {
		memcpy(&st, w->stats + off, sizeof(st));
		used += (size_t)snprintf(line + used, sizeof(line) - used,
		    " %s=%llu", st.name, (unsigned long long)st.value);
	}
	log_emit(LOG_INFO, LOGC_OPS, line);
}

/* Keep a copy of a report; replies are bounded by the channel table. */
static void
supervise_keep(uint8_t **buf, size_t *len, const struct msg *msg)
{
	uint8_t	*nb = realloc(*buf, msg->len ? msg->len : 1);

	if (nb == NULL) {
		log_warn("event=error what=report_cache");
		return;
	}
	memcpy(nb, msg->payload, msg->len);
	*buf = nb;
	*len = msg->len;
}

static void
supervise_log_macs(const struct report *r)
{
	struct msg_mac	 e;
	char		 mac[18], moved[24], line[LOG_LINE_MAX];
	size_t		 off;

	for (off = 4; off + sizeof(e) <= r->len; off += sizeof(e)) {
		memcpy(&e, r->buf + off, sizeof(e));
		if (e.moved_ago_ms == MSG_NEVER)
			snprintf(moved, sizeof(moved), "never");
		else
			snprintf(moved, sizeof(moved), "%llu",
			    (unsigned long long)e.moved_ago_ms);
		snprintf(line, sizeof(line), "event=mac mac=%s host=%s peer=%s "
		    "last_seen_ms=%llu last_moved_ms=%s",
		    mac_format(e.mac, mac), e.host, e.peer,
		    (unsigned long long)e.seen_ago_ms, moved);
		log_emit(LOG_INFO, LOGC_OPS, line);
	}
}

static void
supervise_on_ready(struct msg *msg, void *ctx)
{
	(void)msg;
	supervise_ready(ctx);
}

static void
supervise_on_log(struct msg *msg, void *ctx)
{
	supervise_log(ctx, msg);
}

static void
supervise_on_stats(struct msg *msg, void *ctx)
{
	struct worker	*w = ctx;

	supervise_keep(&w->stats, &w->statslen, msg);
}

static void
supervise_on_links(struct msg *msg, void *ctx)
{
	struct worker	*w = ctx;

	supervise_keep(&w->mon->links.buf, &w->mon->links.len, msg);
}

static void
supervise_on_macs(struct msg *msg, void *ctx)
{
	struct worker	*w = ctx;

	supervise_keep(&w->mon->macs.buf, &w->mon->macs.len, msg);
}

/*
 * A report is complete, whatever parts it had: it is fresh for the
 * control clients that asked before it (monitor/control.c), and
 * SIGUSR1 logs it whole.
 */
static void
supervise_on_stats_end(struct msg *msg, void *ctx)
{
	struct worker	*w = ctx;
	uint64_t	 id;

	memcpy(&id, msg->payload, sizeof(id));
	/* Only an answer to what we asked moves it on. */
	if (id > w->asked || id < w->answered)
		return;
	w->answered = id;
	if (w->log_next) {
		supervise_log_one(w);
		if (w == &w->mon->w[W_CRYPT])
			supervise_log_macs(&w->mon->macs);
		w->log_next = 0;
	}
}

/* What the monitor takes from any worker, and what it does with it. */
static const struct msg_rule from_worker_rows[] = {
	{ MSG_READY,	supervise_on_ready },
	{ MSG_LOG,	supervise_on_log },
	{ MSG_STATS,	supervise_on_stats },
	{ MSG_STATS_END, supervise_on_stats_end },
};
static const struct msg_table from_worker =
    MSG_TABLE(from_worker_rows, NULL);

/*
 * crypt alone also reports its links and forwarding table, and asks for
 * its handshakes' signatures (answered, or refused, by monitor/sign.c).
 */
static const struct msg_rule from_crypt_rows[] = {
	{ MSG_LINKS,	supervise_on_links },
	{ MSG_MACS,	supervise_on_macs },
	{ MSG_SIGN_REQ,	sign_on_req },
};
static const struct msg_table from_crypt =
    MSG_TABLE(from_crypt_rows, &from_worker);

void
supervise_ctl(struct worker *w)
{
	struct msg	 msg;
	enum msg_status	 st;
	enum msg_err	 why;
	int		 budget;

	for (budget = WORKER_MSGS_PER_ROUND; budget > 0; budget--) {
		st = msg_recv(w->ctl, &w->chan, rxbuf, &msg, &why);
		if (st == MSG_ST_NONE)
			return;
		if (st == MSG_ST_OK) {
			msg_dispatch(&msg, w);
			continue;
		}
		if (st == MSG_ST_VIOLATION) {
			audit("event=worker_violation worker=%s pid=%ld "
			    "reason=\"%s\" action=kill", w->name, (long)w->pid,
			    msg_strerror(why));
			kill(w->pid, SIGKILL);
		}
		/* End of file, error or violation: the channel is done. */
		close(w->ctl);
		w->ctl = -1;
		return;
	}
	/* More is waiting: poll reports it again in the next round. */
}

static struct worker *
supervise_find(struct monitor *m, pid_t pid)
{
	int	 i;

	for (i = 0; i < W_COUNT; i++)
		if (m->w[i].pid == pid)
			return &m->w[i];
	return NULL;
}

/* Schedule a restart; crash loops back off exponentially. */
static void
supervise_schedule(struct worker *w)
{
	if (ts_ms_since(&w->started) >= STABLE_SECS * 1000)
		w->backoff_ms = BACKOFF_MIN_MS;
	ts_deadline(&w->restart_at, (long)w->backoff_ms);
	audit("event=worker_restart worker=%s delay_ms=%u restarts=%u",
	    w->name, w->backoff_ms, w->restarts + 1);
	w->backoff_ms *= 2;
	if (w->backoff_ms > backoff_max_ms)
		w->backoff_ms = backoff_max_ms;
}

void
supervise_reap(struct monitor *m)
{
	struct worker	*w;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((w = supervise_find(m, pid)) == NULL)
			continue;
		if (WIFSIGNALED(status))
			audit("event=worker_exit worker=%s pid=%ld signal=%d",
			    w->name, (long)pid, WTERMSIG(status));
		else
			audit("event=worker_exit worker=%s pid=%ld status=%d",
			    w->name, (long)pid, WEXITSTATUS(status));
		if (w->ctl != -1) {
			close(w->ctl);
			w->ctl = -1;
		}
		supervise_log_flush(w, pid, 1, NULL);
		w->pid = -1;
		w->ready = 0;
		supervise_schedule(w);
	}
}

/* Start the workers whose time has come; say when the next one is due. */
void
supervise_due(struct monitor *m, int *timeout_ms)
{
	struct timespec	 now;
	int		 i;
	long		 left;

	*timeout_ms = -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (i = 0; i < W_COUNT; i++) {
		struct worker *w = &m->w[i];

		if (w->pid != -1) {
			supervise_log_flush(w, w->pid, 0, timeout_ms);
			continue;
		}
		left = ts_ms_diff(&now, &w->restart_at);
		if (left <= 0) {
			w->restarts++;
			if (supervise_start(m, w) == -1)
				supervise_schedule(w);
			continue;
		}
		if (*timeout_ms == -1 || left < *timeout_ms)
			*timeout_ms = (int)left;
	}
}

/*
 * Ask every running worker for a fresh report; returns the request's
 * id, which each worker's MSG_STATS_END carries back.
 */
uint64_t
supervise_stats(struct monitor *m)
{
	uint64_t	 id = ++m->report_id;
	int		 i;

	for (i = 0; i < W_COUNT; i++)
		if (m->w[i].ctl != -1 && m->w[i].ready &&
		    msg_send(m->w[i].ctl, MSG_STATS_REQ, &id, sizeof(id)) == 0)
			m->w[i].asked = id;
	return id;
}

/* SIGUSR1: log the answers to a fresh request as each one ends. */
void
supervise_log_stats(struct monitor *m)
{
	int	 i;

	for (i = 0; i < W_COUNT; i++)
		m->w[i].log_next = m->w[i].ready;
	supervise_stats(m);
}

/* Orderly stop: TERM, a grace period, then KILL what is left. */
void
supervise_stop(struct monitor *m)
{
	int	 i, left, tries;
	pid_t	 pid;

	for (i = 0; i < W_COUNT; i++)
		if (m->w[i].pid != -1)
			kill(m->w[i].pid, SIGTERM);
	for (tries = 0; tries < 40; tries++) {
		/* Their last words (crypt's link_down records) still count. */
		for (i = 0; i < W_COUNT; i++)
			if (m->w[i].ctl != -1)
				supervise_ctl(&m->w[i]);
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
			struct worker *w = supervise_find(m, pid);

			if (w != NULL) {
				supervise_log_flush(w, pid, 1, NULL);
				w->pid = -1;
			}
		}
		for (left = 0, i = 0; i < W_COUNT; i++)
			left += m->w[i].pid != -1;
		if (left == 0)
			return;
		usleep(50000);
	}
	for (i = 0; i < W_COUNT; i++)
		if (m->w[i].pid != -1) {
			kill(m->w[i].pid, SIGKILL);
			(void)waitpid(m->w[i].pid, NULL, 0);
			supervise_log_flush(&m->w[i], m->w[i].pid, 1, NULL);
			m->w[i].pid = -1;
		}
}

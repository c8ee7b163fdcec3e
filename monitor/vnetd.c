/* SPDX-License-Identifier: ISC */
/*
 * vnetd: the privileged monitor. It reads the configuration and the key
 * material, creates the channels, starts the capture, crypt and inject
 * workers, restarts them when they die and writes the log. It never
 * touches a frame.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "privsep/log.h"
#include "privsep/privsep.h"
#include "privsep/ring.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: vnetd [-dnv] [-f file] [-x libexecdir]\n");
	exit(2);
}

/*
 * The data channels live as long as the monitor, so that a restarted
 * worker gets the same channel back and its peers need no news. Each
 * is a ring (privsep/ring.h) that carries the frames and a socketpair
 * that carries its doorbells; each socket end is shut down in the
 * direction it must never use, and each worker gets its own descriptor
 * of the ring. Who gets which end is said by name: privsep_spawn()
 * puts each at the number its role's table gives it.
 */
static int
monitor_channels(struct monitor *m)
{
	struct worker_fds	*cap = &m->w[W_CAPTURE].fds;
	struct worker_fds	*cry = &m->w[W_CRYPT].fds;
	struct worker_fds	*inj = &m->w[W_INJECT].fds;
	int			 cc[2], ci[2], rc, ri;

	if (msg_socketpair(cc) == -1 || msg_socketpair(ci) == -1)
		return -1;
	if (shutdown(cc[0], SHUT_RD) == -1 || shutdown(cc[1], SHUT_WR) == -1 ||
	    shutdown(ci[0], SHUT_RD) == -1 || shutdown(ci[1], SHUT_WR) == -1)
		return -1;
	if ((rc = ring_create()) == -1 || (ri = ring_create()) == -1)
		return -1;
	/* capture -> crypt */
	cap->bell_out = cc[0];
	cap->ring_out = rc;
	cry->bell_in = cc[1];
	cry->ring_in = fcntl(rc, F_DUPFD_CLOEXEC, 0);
	/* crypt -> inject */
	cry->bell_out = ci[0];
	cry->ring_out = fcntl(ri, F_DUPFD_CLOEXEC, 0);
	inj->bell_in = ci[1];
	inj->ring_in = ri;
	if (cry->ring_in == -1 || cry->ring_out == -1)
		return -1;
	return 0;
}

/*
 * What restarting a worker needs, and nothing else: fork and exec need
 * no capability; the worker's starting set (CAP_NET_RAW, CAP_SYS_CHROOT,
 * CAP_SETUID, CAP_SETGID) must be in ours to be passed on; CAP_SETPCAP
 * empties the worker's bounding set; CAP_KILL signals workers, which
 * run as another user.
 */
static const unsigned monitor_caps[] = {
	CAP_KILL, CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETPCAP,
	CAP_SYS_CHROOT,
};

static void
monitor_confine(void)
{
	size_t	 i;

	capng_clear(CAPNG_SELECT_BOTH);
	for (i = 0; i < sizeof(monitor_caps) / sizeof(monitor_caps[0]); i++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
		    CAPNG_BOUNDING_SET, monitor_caps[i]) == -1)
			fatalx("capabilities: cannot stage %u", monitor_caps[i]);
	if (capng_apply(CAPNG_SELECT_BOTH) == -1)
		fatalx("capabilities: cannot drop");
	if (sandbox_apply(SANDBOX_MONITOR) == -1)
		fatalx("seccomp: cannot load the monitor's filter");
}

static int
monitor_signals(void)
{
	sigset_t	 set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	(void)signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Returns 1 when the monitor is to stop. */
static int
monitor_sighdlr(struct monitor *m, int sfd)
{
	struct signalfd_siginfo	 si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			supervise_reap(m);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("event=stop signal=%u", si.ssi_signo);
			return 1;
		case SIGUSR1:
			supervise_log_stats(m);
			break;
		case SIGHUP: {
			const char *why;

			(void)monitor_reload(m, &why);
			break;
		}
		}
	}
	return 0;
}

#define POLL_MAX	(1 + W_COUNT + 16)

static void
monitor_loop(struct monitor *m, int sfd)
{
	struct pollfd	 pfd[POLL_MAX];
	struct worker	*who[POLL_MAX];
	int		 n, nw, i, timeout;

	for (;;) {
		supervise_due(m, &timeout);
		control_due(m, &timeout);
		sign_due(m, &timeout);
		ports_due(m, &timeout);
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		for (n = 1, i = 0; i < W_COUNT; i++) {
			if (m->w[i].ctl == -1)
				continue;
			pfd[n].fd = m->w[i].ctl;
			pfd[n].events = POLLIN;
			who[n++] = &m->w[i];
		}
		nw = n;
		n += control_pollfds(m, pfd + n, POLL_MAX - n);
		if (poll(pfd, (nfds_t)n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if ((pfd[0].revents & POLLIN) && monitor_sighdlr(m, sfd))
			return;
		for (i = 1; i < nw; i++)
			if (pfd[i].revents && who[i]->ctl == pfd[i].fd)
				supervise_ctl(who[i]);
		for (; i < n; i++)
			if (pfd[i].revents)
				control_io(m, pfd[i].fd, pfd[i].revents);
	}
}

/*
 * crypt got the resolved list once, at start: a proxy added, removed or
 * moved in the order needs a restart. The line numbers do not matter.
 */
static int
same_connect(const struct conf *a, const struct conf *b)
{
	size_t	i;

	if (a->nconnect != b->nconnect)
		return 0;
	for (i = 0; i < a->nconnect; i++)
		if (a->connect[i].port != b->connect[i].port ||
		    strcmp(a->connect[i].addr, b->connect[i].addr) != 0)
			return 0;
	return 1;
}

/*
 * What a reload may not change: these need a restart. The key material
 * (certificate, key, ca, crl) is not here: a reload reads it again.
 */
static const char *
reload_fixed(const struct conf *a, const struct conf *b)
{
#define SAME_STR(f, name) if (strcmp(a->f, b->f) != 0) return name
#define SAME_NUM(f, name) if (a->f != b->f) return name
	SAME_NUM(role, "role");
	SAME_STR(interface, "interface");
	SAME_STR(user, "user");
	SAME_STR(chroot, "chroot");
	if (!same_connect(a, b))
		return "connect";
	SAME_STR(listen_addr, "listen");
	SAME_NUM(listen_port, "listen");
	SAME_STR(control, "control");
	SAME_STR(control_group, "control-group");
	SAME_NUM(transport, "transport");
	SAME_NUM(wan_mtu, "wan-mtu");
	SAME_NUM(rekey_packets, "rekey-packets");
#undef SAME_STR
#undef SAME_NUM
	return NULL;
}

/*
 * Re-read the configuration and the key material and apply them
 * without disturbing what they do not touch: the monitor swaps in the
 * new key once it has checked it; crypt applies the new authorizations
 * and the new certificate, CA and CRL live (links of removed hosts, and
 * of peers no longer accepted, are cut, the others stay up); capture
 * restarts with its new filter; inject takes the new text live too (its
 * policy: the MAC set, vlan-allow) and restarts only if the MTU changed.
 * A file that does not parse, that changes what needs a restart, or
 * whose key material fails the start checks, is refused and the running
 * configuration and key are kept.
 */
int
monitor_reload(struct monitor *m, const char **why)
{
	static char		 reason[512];
	struct conf		 nc;
	struct conf_error	 err;
	const char		*fixed;
	char			*text, hash[65], certfp[65];
	size_t			 len;
	int			 mtu_changed, material = 0;

	*why = reason;
	if ((text = setup_read(m->conffile, CONF_MAX_TEXT, &len)) == NULL) {
		snprintf(reason, sizeof(reason), "%s: %s", m->conffile,
		    strerror(errno));
		goto reject;
	}
	if (conf_parse(text, len, &nc, &err) == -1) {
		snprintf(reason, sizeof(reason), "%s:%u: %s", m->conffile,
		    err.line, err.msg);
		free(text);
		goto reject;
	}
	if ((fixed = reload_fixed(&m->conf, &nc)) != NULL) {
		snprintf(reason, sizeof(reason), "changing '%s' needs a "
		    "restart", fixed);
		conf_free(&nc);
		free(text);
		goto reject;
	}
	if (setup_material(m, &nc, &material, reason, sizeof(reason)) == -1) {
		if (strncmp(reason, "vnetd: ", 7) == 0)
			memmove(reason, reason + 7, strlen(reason + 7) + 1);
		conf_free(&nc);
		free(text);
		goto reject;
	}
	setup_cert_fp(m->pem_cert, m->pem_cert_len, certfp);
	setup_hash(text, len, hash);
	mtu_changed = nc.mtu != m->conf.mtu;
	conf_free(&m->conf);
	free(m->conftext);
	m->conf = nc;
	m->conftext = text;
	m->conflen = len;
	memcpy(m->confhash, hash, sizeof(hash));
	log_set_facilities(m->conf.syslog_facility, m->conf.audit_facility);
	supervise_backoff_max(m->conf.restart_max_delay);
	sign_set_rate(m);
	/* The key material first: crypt applies it with the MSG_RELOAD. */
	if (m->w[W_CRYPT].ctl != -1 &&
	    (msg_send(m->w[W_CRYPT].ctl, MSG_PEM_CERT, m->pem_cert,
	    m->pem_cert_len) == -1 || msg_send(m->w[W_CRYPT].ctl, MSG_PEM_CA,
	    m->pem_ca, m->pem_ca_len) == -1 || msg_send(m->w[W_CRYPT].ctl,
	    MSG_RELOAD, m->conftext, m->conflen) == -1))
		log_warn("event=error what=reload worker=crypt");
	if (m->w[W_INJECT].ctl != -1 && !mtu_changed)
		(void)msg_send(m->w[W_INJECT].ctl, MSG_RELOAD, m->conftext,
		    m->conflen);
	if (m->w[W_CAPTURE].pid != -1)
		kill(m->w[W_CAPTURE].pid, SIGTERM);
	if (mtu_changed && m->w[W_INJECT].pid != -1)
		kill(m->w[W_INJECT].pid, SIGTERM);
	audit("event=reload result=applied config=%s config_sha256=%s "
	    "key_material=%s certificate_sha256=%s crl=%s", m->conffile,
	    m->confhash, material ? "changed" : "same", certfp,
	    m->conf.crl[0] != '\0' ? m->conf.crl : "-");
	ports_configured(m, 1);
	snprintf(reason, sizeof(reason), "applied");
	return 0;
reject:
	audit("event=reload result=rejected config=%s reason=\"%s\" "
	    "running_sha256=%s", m->conffile, logsafe(reason),
	    m->confhash);
	return -1;
}

static void
monitor_free(struct monitor *m)
{
	struct worker_fds	*f;
	int			 i;

	for (i = 0; i < W_COUNT; i++) {
		f = &m->w[i].fds;
		if (f->bell_in != -1)
			close(f->bell_in);
		if (f->ring_in != -1)
			close(f->ring_in);
		if (f->bell_out != -1)
			close(f->bell_out);
		if (f->ring_out != -1)
			close(f->ring_out);
	}
	if (m->listen_fd != -1)
		close(m->listen_fd);
	if (m->udp_fd[0] != -1)
		close(m->udp_fd[0]);
	if (m->udp_fd[1] != -1)
		close(m->udp_fd[1]);
	conf_free(&m->conf);
	free(m->conftext);
	if (m->pem_key != NULL)
		explicit_bzero(m->pem_key, m->pem_key_len);
	free(m->pem_cert);
	free(m->pem_key);
	free(m->pem_ca);
	sign_free(m);
}

/*
 * A start refused for bad configuration leaves an audit record as well
 * as the message on stderr: an operator who watches only the audit
 * trail sees the daemon did not come up, and why. The facilities are
 * the file's when it parsed, the defaults otherwise. With -n (a check)
 * nothing is logged.
 */
static void
start_refused(struct monitor *m, const char *file, char *why, int debug)
{
	log_init_monitor(debug, m->verbose);
	if (m->parsed)
		log_set_facilities(m->conf.syslog_facility,
		    m->conf.audit_facility);
	logsafe(why);
	if (strncmp(why, "vnetd: ", 7) == 0)
		why += 7;
	audit("event=start_refused config=%s config_sha256=%s reason=\"%s\"",
	    file, m->confhash[0] != '\0' ? m->confhash : "-", why);
}

int
main(int argc, char *argv[])
{
	struct monitor	 m;
	const char	*file = VNET_CONFFILE;
	const char	*xdir = NULL;
	char		 why[1024];
	int		 ch, debug = 0, check = 0, sfd, i;

	memset(&m, 0, sizeof(m));
	m.listen_fd = m.udp_fd[0] = m.udp_fd[1] = -1;
	m.control_fd = -1;
	supervise_init(&m);
	while ((ch = getopt(argc, argv, "df:nvx:")) != -1) {
		switch (ch) {
		case 'd': debug = 1; break;
		case 'f': file = optarg; break;
		case 'n': check = 1; break;
		case 'v': m.verbose = 1; break;
		case 'x': xdir = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (!check && geteuid() != 0) {
		fprintf(stderr, "vnetd: must be started as root\n");
		return 1;
	}
	if (setup_load(&m, file, check, why, sizeof(why)) == -1 ||
	    sign_init(&m, why, sizeof(why)) == -1) {
		fprintf(stderr, "%s\n", why);
		if (!check)
			start_refused(&m, file, why, debug);
		monitor_free(&m);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		monitor_free(&m);
		return 0;
	}
	m.libexec = privsep_libexecdir(xdir);
	log_init_monitor(debug, m.verbose);
	log_set_facilities(m.conf.syslog_facility, m.conf.audit_facility);
	if (!debug && daemon(0, 0) == -1)
		fatal("daemon");
	umask(077);
	if ((sfd = monitor_signals()) == -1)
		fatal("signals");
	supervise_backoff_max(m.conf.restart_max_delay);
	clock_gettime(CLOCK_MONOTONIC, &m.started);
	if (setup_sockets(&m) == -1 || monitor_channels(&m) == -1)
		fatal("setup");
	if (control_init(&m) == -1)
		fatalx("cannot create the control socket %s", m.conf.control);
	/* Every privileged open is done: keep only what restarts need. */
	monitor_confine();
	audit("event=start version=%s role=%s config=%s config_sha256=%s "
	    "interface=%s", VNET_VERSION, m.conf.role == CONF_ROLE_HOST ?
	    "host" : "proxy", file, m.confhash, m.conf.interface);
	ports_configured(&m, 0);
	for (i = 0; i < W_COUNT; i++)
		if (supervise_start(&m, &m.w[i]) == -1)
			fatalx("cannot start worker %s", m.w[i].name);
	monitor_loop(&m, sfd);
	supervise_stop(&m);
	control_close(&m);
	audit("event=stopped config_sha256=%s", m.confhash);
	close(sfd);
	ports_free();
	monitor_free(&m);
	return 0;
}

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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "privsep/log.h"
#include "privsep/privsep.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: vnetd [-dnv] [-f file] [-x libexecdir]\n");
	exit(2);
}

/*
 * The data channels live as long as the monitor, so that a restarted
 * worker gets the same channel back and its peers need no news. Each
 * end is shut down in the direction it must never use.
 */
static int
monitor_channels(struct monitor *m)
{
	int	 cc[2], ci[2];

	if (msg_socketpair(cc) == -1 || msg_socketpair(ci) == -1)
		return -1;
	if (shutdown(cc[0], SHUT_RD) == -1 || shutdown(cc[1], SHUT_WR) == -1 ||
	    shutdown(ci[0], SHUT_RD) == -1 || shutdown(ci[1], SHUT_WR) == -1)
		return -1;
	m->w[W_CAPTURE].data[0] = cc[0];	/* capture -> crypt */
	m->w[W_CAPTURE].ndata = 1;
	m->w[W_CRYPT].data[0] = cc[1];
	m->w[W_CRYPT].data[1] = ci[0];		/* crypt -> inject */
	m->w[W_CRYPT].ndata = 2;
	m->w[W_INJECT].data[0] = ci[1];
	m->w[W_INJECT].ndata = 1;
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
			supervise_stats(m);
			break;
		case SIGHUP:
			audit("event=reload result=rejected reason=\"reload "
			    "is not supported; restart vnetd to apply a new "
			    "configuration\"");
			break;
		}
	}
	return 0;
}

static void
monitor_loop(struct monitor *m, int sfd)
{
	struct pollfd	 pfd[1 + W_COUNT];
	struct worker	*who[1 + W_COUNT];
	int		 n, i, timeout;

	for (;;) {
		supervise_due(m, &timeout);
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		for (n = 1, i = 0; i < W_COUNT; i++) {
			if (m->w[i].ctl == -1)
				continue;
			pfd[n].fd = m->w[i].ctl;
			pfd[n].events = POLLIN;
			who[n++] = &m->w[i];
		}
		if (poll(pfd, (nfds_t)n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if ((pfd[0].revents & POLLIN) && monitor_sighdlr(m, sfd))
			return;
		for (i = 1; i < n; i++)
			if (pfd[i].revents && who[i]->ctl == pfd[i].fd)
				supervise_ctl(m, who[i]);
	}
}

static void
monitor_free(struct monitor *m)
{
	int	 i, j;

	for (i = 0; i < W_COUNT; i++)
		for (j = 0; j < m->w[i].ndata; j++)
			close(m->w[i].data[j]);
	if (m->listen_fd != -1)
		close(m->listen_fd);
	conf_free(&m->conf);
	free(m->conftext);
	if (m->pem_key != NULL)
		explicit_bzero(m->pem_key, m->pem_key_len);
	free(m->pem_cert);
	free(m->pem_key);
	free(m->pem_ca);
}

int
main(int argc, char *argv[])
{
	struct monitor	 m;
	const char	*file = VNET_CONFFILE;
	const char	*xdir = NULL;
	int		 ch, debug = 0, check = 0, sfd, i;

	memset(&m, 0, sizeof(m));
	m.listen_fd = -1;
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
	if (setup_load(&m, file, check) == -1) {
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
	if (!debug && daemon(0, 0) == -1)
		fatal("daemon");
	umask(077);
	if ((sfd = monitor_signals()) == -1)
		fatal("signals");
	supervise_init(&m);
	if (setup_sockets(&m) == -1 || monitor_channels(&m) == -1)
		fatal("setup");
	/* Every privileged open is done: keep only what restarts need. */
	monitor_confine();
	audit("event=start version=%s role=%s config=%s interface=%s",
	    VNET_VERSION, m.conf.role == CONF_ROLE_HOST ? "host" : "proxy",
	    file, m.conf.interface);
	for (i = 0; i < W_COUNT; i++)
		if (supervise_start(&m, &m.w[i]) == -1)
			fatalx("cannot start worker %s", m.w[i].name);
	monitor_loop(&m, sfd);
	supervise_stop(&m);
	audit("event=stopped");
	close(sfd);
	monitor_free(&m);
	return 0;
}

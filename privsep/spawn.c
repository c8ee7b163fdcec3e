/* SPDX-License-Identifier: ISC */
#include <sys/types.h>
#include <sys/wait.h>

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/msg.h"
#include "privsep/privsep.h"

/*
 * What each worker starts with: CAP_NET_RAW only for the raw socket
 * open, the rest only so that it can confine itself.
 */
const unsigned *
privsep_worker_caps(enum sandbox_role role, size_t *n)
{
	static const unsigned raw[] = {
		CAP_NET_RAW, CAP_SYS_CHROOT, CAP_SETUID, CAP_SETGID,
	};

	switch (role) {
	case SANDBOX_CAPTURE:
	case SANDBOX_INJECT:
		*n = 4;
		return raw;
	case SANDBOX_CRYPT:
		*n = 3;
		return raw + 1;
	default:
		*n = 0;
		return NULL;
	}
}

const char *
privsep_libexecdir(const char *override)
{
	const char	*e;

	if (override != NULL && *override != '\0')
		return override;
	if ((e = getenv("VNET_LIBEXECDIR")) != NULL && *e != '\0')
		return e;
	return VNET_LIBEXECDIR;
}

/*
 * The one table of where each worker finds its channels. The numbers
 * are fixed because a worker is exec()ed: they are all it knows.
 */
static const struct worker_fds worker_fds[] = {
	[SANDBOX_CAPTURE] = { .monitor = FD_MONITOR, .bell_in = -1,
	    .ring_in = -1, .bell_out = 4, .ring_out = 5 },
	[SANDBOX_CRYPT] = { .monitor = FD_MONITOR, .bell_in = 4,
	    .ring_in = 6, .bell_out = 5, .ring_out = 7 },
	[SANDBOX_INJECT] = { .monitor = FD_MONITOR, .bell_in = 4,
	    .ring_in = 5, .bell_out = -1, .ring_out = -1 },
};

const struct worker_fds *
privsep_worker_fds(enum sandbox_role role)
{
	if (role != SANDBOX_CAPTURE && role != SANDBOX_CRYPT &&
	    role != SANDBOX_INJECT)
		return NULL;
	return &worker_fds[role];
}

#define SPAWN_NFDS	5

/* A struct worker_fds as a list, always in the same order. */
static void
spawn_fdlist(const struct worker_fds *f, int out[SPAWN_NFDS])
{
	out[0] = f->monitor;
	out[1] = f->bell_in;
	out[2] = f->ring_in;
	out[3] = f->bell_out;
	out[4] = f->ring_out;
}

/* In the child: each descriptor to its number, everything else closed. */
static int
spawn_fds(const struct worker_fds *src, const struct worker_fds *at)
{
	int	 from[SPAWN_NFDS], to[SPAWN_NFDS], tmp[SPAWN_NFDS];
	int	 i, fd, top = FD_MONITOR, keep;

	spawn_fdlist(src, from);
	spawn_fdlist(at, to);
	/* Two steps, so that a source already at a target is not clobbered. */
	for (i = 0; i < SPAWN_NFDS; i++) {
		tmp[i] = -1;
		if (to[i] == -1)
			continue;
		if ((tmp[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 64)) == -1)
			return -1;
		if (to[i] > top)
			top = to[i];
	}
	for (i = 0; i < SPAWN_NFDS; i++)
		if (tmp[i] != -1 && dup2(tmp[i], to[i]) == -1)
			return -1;
	for (fd = FD_MONITOR; fd < top; fd++) {
		for (keep = 0, i = 0; i < SPAWN_NFDS; i++)
			keep |= to[i] == fd;
		if (!keep)
			(void)close(fd);
	}
	return close_range((unsigned)top + 1, ~0U, 0);
}

/*
 * In the child: the worker starts (as root) with exactly caps, and an
 * empty bounding set so that nothing can ever be added back. The
 * inheritable set carries caps across exec; the bounding set must be
 * emptied while we still hold CAP_SETPCAP, which is then dropped.
 */
int
privsep_startcaps(const unsigned *caps, size_t ncaps)
{
	size_t	 i;

	capng_clear(CAPNG_SELECT_BOTH);
	for (i = 0; i < ncaps; i++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
		    CAPNG_INHERITABLE, caps[i]) == -1)
			return -1;
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
	    CAP_SETPCAP) == -1 || capng_apply(CAPNG_SELECT_CAPS) == -1)
		return -1;
	if (capng_apply(CAPNG_SELECT_BOUNDS) == -1)
		return -1;
	if (capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
	    CAP_SETPCAP) == -1 || capng_apply(CAPNG_SELECT_CAPS) == -1)
		return -1;
	return 0;
}

static void __attribute__((noreturn))
spawn_child(const struct spawn_req *req)
{
	char		*argv[3];
	sigset_t	 all;
	int		 sig;

	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);

	if (spawn_fds(req->fds, privsep_worker_fds(req->role)) == -1) {
		dprintf(2, "vnetd: %s: descriptors: %s\n", req->argv0,
		    strerror(errno));
		_exit(126);
	}
	if (privsep_startcaps(req->caps, req->ncaps) == -1) {
		dprintf(2, "vnetd: %s: capabilities: %s\n", req->argv0,
		    strerror(errno));
		_exit(126);
	}
	argv[0] = (char *)(uintptr_t)req->argv0;
	argv[1] = req->verbose ? (char *)(uintptr_t)"-v" : NULL;
	argv[2] = NULL;
	execv(req->path, argv);
	dprintf(2, "vnetd: exec %s: %s\n", req->path, strerror(errno));
	_exit(127);
}

pid_t
privsep_spawn(const struct spawn_req *req)
{
	pid_t	 pid;

	if (privsep_worker_fds(req->role) == NULL) {
		errno = EINVAL;
		return -1;
	}
	switch ((pid = fork())) {
	case -1:
		return -1;
	case 0:
		spawn_child(req);
	default:
		return pid;
	}
}

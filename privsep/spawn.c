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

#define SPAWN_MAXFDS	5

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

/* In the child: put the channels on FD_MONITOR.. and close the rest. */
static int
spawn_fds(const int *fds, int nfds)
{
	int	 tmp[SPAWN_MAXFDS], i;

	/* Two steps, so that a source already at a target is not clobbered. */
	for (i = 0; i < nfds; i++)
		if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64)) == -1)
			return -1;
	for (i = 0; i < nfds; i++)
		if (dup2(tmp[i], FD_MONITOR + i) == -1)
			return -1;
	return close_range(FD_MONITOR + (unsigned)nfds, ~0U, 0);
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

	if (spawn_fds(req->fds, req->nfds) == -1) {
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

	if (req->nfds < 1 || req->nfds > SPAWN_MAXFDS) {
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

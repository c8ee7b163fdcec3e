/* SPDX-License-Identifier: ISC */
/*
 * The privilege separation mechanism: starting a worker, and the one
 * routine every worker calls to give up its privileges.
 */
#ifndef VNET_PRIVSEP_PRIVSEP_H
#define VNET_PRIVSEP_PRIVSEP_H

#include <sys/types.h>

#include "privsep/sandbox.h"

/*
 * A worker's descriptors, by what they are: in a worker, the numbers it
 * finds them at; in the monitor, its own descriptors that become them.
 * "in" is the data channel frames come to the worker on, "out" the one
 * they leave on. -1: the role has none.
 */
struct worker_fds {
	int	 monitor;	/* control channel, to and from the monitor */
	int	 bell_in;	/* doorbells of the ring frames come in on */
	int	 ring_in;	/* that ring's memfd, mapped and closed at start */
	int	 bell_out;	/* doorbells of the ring frames go out on */
	int	 ring_out;	/* that ring's memfd */
};

/*
 * Where a worker of the role finds its descriptors: the one table that
 * privsep_spawn() follows and doc/ARCHITECTURE.md ("Channels") shows.
 */
const struct worker_fds *privsep_worker_fds(enum sandbox_role role);

struct spawn_req {
	const char	*path;		/* worker executable */
	const char	*argv0;		/* its name in ps(1) */
	enum sandbox_role role;		/* where its descriptors go */
	const struct worker_fds *fds;	/* the monitor's, by name */
	const unsigned	*caps;		/* capabilities it starts with */
	size_t		 ncaps;
	int		 verbose;	/* pass -v */
};

/*
 * fork, put each of req->fds at its number for req->role, close
 * everything else, empty the bounding set and restrict the capability
 * sets to exactly req->caps, then exec. Returns the child's pid, or -1.
 */
pid_t	 privsep_spawn(const struct spawn_req *req);

/*
 * In a child about to exec a worker (and in tests reproducing one):
 * empty the bounding set and keep exactly caps, passed on by exec.
 */
int	 privsep_startcaps(const unsigned *caps, size_t ncaps);
const unsigned *privsep_worker_caps(enum sandbox_role role, size_t *n);

struct drop_req {
	const char	*user;		/* unprivileged user to become */
	const char	*chroot;	/* empty directory owned by root */
	unsigned	 nofile;	/* RLIMIT_NOFILE after the drop */
	enum sandbox_role sandbox;	/* seccomp allow-list to apply last */
};

/*
 * Check the chroot directory (root-owned, not writable by others,
 * empty) and refuse to go on otherwise. Used by the monitor at start
 * and again by every worker. Returns 0, or -1 with *why set.
 */
int	 privsep_check_chroot(const char *dir, const char **why);

/*
 * Called by every worker after its privileged opens: chroot, chdir,
 * setgroups, setresgid, setresuid, verify the old ids cannot come back,
 * clear every capability set, no_new_privs, resource limits, then the
 * role's seccomp filter. Any
 * failure is fatal: a worker never runs half-dropped.
 */
void	 privsep_drop(const struct drop_req *req);

/* Where the worker executables are: -x, $VNET_LIBEXECDIR, compiled-in. */
const char *privsep_libexecdir(const char *override);

#endif

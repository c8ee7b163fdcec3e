/* SPDX-License-Identifier: ISC */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "privsep/log.h"
#include "privsep/privsep.h"

int
privsep_check_chroot(const char *dir, const char **why)
{
	struct stat	 st;
	DIR		*d;
	struct dirent	*de;
	int		 empty = 1;

	if (dir[0] != '/') {
		*why = "not an absolute path";
		return -1;
	}
	if (lstat(dir, &st) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "not a directory";
		return -1;
	}
	if (st.st_uid != 0) {
		*why = "not owned by root";
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		*why = "writable by group or others";
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		*why = strerror(errno);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty) {
		*why = "not empty";
		return -1;
	}
	return 0;
}

/* The old (root) ids must be gone for good, not just set aside. */
static void
drop_verify_ids(uid_t uid, gid_t gid)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		fatal("drop: getresuid");
	if (ru != uid || eu != uid || su != uid ||
	    rg != gid || eg != gid || sg != gid)
		fatalx("drop: ids not fully changed");
	if (setgid(0) != -1 || setegid(0) != -1)
		fatalx("drop: could regain gid 0");
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("drop: could regain uid 0");
}

/*
 * The monitor's stdio (a log file with -d, a terminal) must not follow
 * a worker into its chroot: point 0, 1 and 2 at /dev/null. Workers log
 * through their channel to the monitor.
 */
static void
drop_stdio(void)
{
	int	 fd, i;

	/*
	 * Read-only: the monitor's filter, which the worker still runs
	 * under here, allows no open for writing. A stray write to 1 or 2
	 * fails with EBADF instead of reaching the monitor's log.
	 */
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("drop: /dev/null");
	for (i = 0; i <= 2; i++) {
#ifdef VNET_SANITIZE
		/* Sanitizer builds: reports must reach the monitor's stderr. */
		if (i == 2)
			break;
#endif
		if (fd != i && dup2(fd, i) == -1)
			fatal("drop: stdio");
	}
	if (fd > 2)
		close(fd);
}

static void
drop_caps(void)
{
	capng_clear(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	if (capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT) == -1)
		fatalx("drop: cannot clear capabilities");
	/* Read back what the kernel says, bounding set included. */
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_get_caps_process() == -1)
		fatalx("drop: cannot read capabilities");
	if (capng_have_capabilities(CAPNG_SELECT_ALL) != CAPNG_NONE)
		fatalx("drop: capabilities still held");
}

static void
drop_rlimits(unsigned nofile)
{
	struct rlimit	 zero = { 0, 0 };
	struct rlimit	 fds = { nofile, nofile };

	/* No new processes, no file writes, a bounded descriptor table. */
	if (setrlimit(RLIMIT_NPROC, &zero) == -1 ||
	    setrlimit(RLIMIT_FSIZE, &zero) == -1 ||
	    setrlimit(RLIMIT_CORE, &zero) == -1 ||
	    (nofile > 0 && setrlimit(RLIMIT_NOFILE, &fds) == -1))
		fatal("drop: setrlimit");
}

void
privsep_drop(const struct drop_req *req)
{
	struct passwd	*pw;
	const char	*why;
	uid_t		 uid;
	gid_t		 gid;

	if ((pw = getpwnam(req->user)) == NULL)
		fatalx("drop: unknown user %s", req->user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0 || gid == 0)
		fatalx("drop: user %s has uid or gid 0", req->user);
	if (privsep_check_chroot(req->chroot, &why) == -1)
		fatalx("drop: chroot %s: %s", req->chroot, why);

	/*
	 * Load what libc reads lazily while the files are still there:
	 * the first gmtime() (OpenSSL's certificate time checks) reads
	 * /etc/localtime.
	 */
	tzset();
	drop_stdio();

	if (chroot(req->chroot) == -1)
		fatal("drop: chroot %s", req->chroot);
	if (chdir("/") == -1)
		fatal("drop: chdir /");
	if (setgroups(1, &gid) == -1)
		fatal("drop: setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("drop: setresgid");
	if (setresuid(uid, uid, uid) == -1)
		fatal("drop: setresuid");
	drop_verify_ids(uid, gid);
	drop_caps();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("drop: no_new_privs");
	drop_rlimits(req->nofile);
	if (sandbox_apply(req->sandbox) == -1)
		fatalx("drop: seccomp filter for %s",
		    sandbox_name(req->sandbox));
}

/* SPDX-License-Identifier: ISC */
/*
 * seccomp allow-lists, one table per process role in sandbox.c
 * (libseccomp, default action: kill the process). A debug build
 * (make SECCOMP_DEBUG=1) traps instead, logs the syscall's name and lets
 * it fail with ENOSYS, so a gap in a table shows up at once.
 */
#ifndef VNET_PRIVSEP_SANDBOX_H
#define VNET_PRIVSEP_SANDBOX_H

#include <stddef.h>

enum sandbox_role {
	SANDBOX_NONE = 0,
	SANDBOX_MONITOR,
	SANDBOX_CAPTURE,
	SANDBOX_CRYPT,		/* the host's crypt: dials the proxy */
	SANDBOX_INJECT,
	/*
	 * The proxy's crypt: only accepts on the socket the monitor gave
	 * it. A filter only; its descriptors and capabilities are crypt's.
	 */
	SANDBOX_CRYPT_PROXY,
};

/* Install the role's filter. Returns 0, or -1 (the caller is fatal). */
int	 sandbox_apply(enum sandbox_role role);
const char *sandbox_name(enum sandbox_role role);
/*
 * For the tests: row i of the role's table, its syscall number and how
 * many argument conditions it has. Returns 0, or -1 past the end.
 */
int	 sandbox_row(enum sandbox_role role, size_t i, int *nr,
	    unsigned int *narg);

#endif

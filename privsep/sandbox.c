/* SPDX-License-Identifier: ISC */
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "privsep/log.h"
#include "privsep/msg.h"
#include "privsep/sandbox.h"

/*
 * A role's policy is one table: a row per allowed system call, with the
 * argument conditions that must all hold for it. Several rows for one
 * call are alternatives (crypt's socket: IPv4 or IPv6). Whatever no row
 * allows gets the default action.
 */
struct sandbox_rule {
	int			 nr;
	unsigned int		 narg;
	struct scmp_arg_cmp	 arg[2];
};

#define SB_ALLOW(call)			{ SCMP_SYS(call), 0, { { 0 } } }
#define SB_ALLOW_ARG(call, c)		{ SCMP_SYS(call), 1, { c } }
#define SB_ALLOW_ARGS(call, c, d)	{ SCMP_SYS(call), 2, { c, d } }

/* Conditions: argument n equals v; has none of bits; (n & mask) == v. */
#define SB_EQ(n, v)		{ (n), SCMP_CMP_EQ, (scmp_datum_t)(v), 0 }
#define SB_NONE_OF(n, bits)	{ (n), SCMP_CMP_MASKED_EQ, (bits), 0 }
#define SB_MASKED(n, mask, v)	{ (n), SCMP_CMP_MASKED_EQ, (mask), (v) }

#ifdef VNET_SANITIZE
/* The ASan runtime sets up an alternate signal stack as it goes. */
#define SB_SANITIZER	SB_ALLOW(sigaltstack),
#else
#define SB_SANITIZER
#endif

/*
 * What every worker may do after its drop: use its channels, memory
 * (never executable), time, and exit.
 */
#define SB_WORKER							\
	SB_ALLOW(write),						\
	SB_ALLOW(writev),						\
	SB_ALLOW(sendmsg),						\
	SB_ALLOW(sendto),						\
	SB_WORKER_IN

/* The same without any output call: each role then names its own. */
#define SB_WORKER_IN							\
	SB_ALLOW(read),							\
	SB_ALLOW(readv),						\
	SB_ALLOW(recvmsg),						\
	SB_ALLOW(recvfrom),						\
	SB_ALLOW(poll),							\
	SB_ALLOW(ppoll),						\
	SB_ALLOW(close),						\
	SB_ALLOW(brk),							\
	SB_ALLOW(munmap),						\
	SB_ALLOW(mremap),						\
	SB_ALLOW(madvise),						\
	SB_ALLOW(futex),						\
	SB_ALLOW(clock_gettime),					\
	SB_ALLOW(gettimeofday),						\
	SB_ALLOW(time),							\
	SB_ALLOW(getpid),						\
	SB_ALLOW(rt_sigreturn),						\
	SB_ALLOW(rt_sigprocmask),					\
	SB_ALLOW(restart_syscall),					\
	SB_ALLOW(exit),							\
	SB_ALLOW(exit_group),						\
	SB_SANITIZER							\
	SB_ALLOW_ARG(mmap, SB_NONE_OF(2, PROT_EXEC)),			\
	SB_ALLOW_ARG(mprotect, SB_NONE_OF(2, PROT_EXEC))

/*
 * The monitor opens files for reading only (the loader, configuration,
 * keys and certificates on reload, /proc/PID/status): O_RDONLY is 0, so
 * no access-mode bit, and nothing that creates, truncates or appends.
 * O_TMPFILE's own bit only: O_TMPFILE includes O_DIRECTORY, which
 * opendir() uses.
 */
#define SB_OPEN_WRITES	(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND |	\
	    (O_TMPFILE & ~O_DIRECTORY))

/*
 * The monitor's table is the union of what it needs (supervising,
 * signals, syslog, /proc/PID/status) and what a worker needs between
 * exec and its own, narrower filter (loader, getpwnam, raw socket open,
 * TLS library start-up, the drop itself): filters are inherited.
 */
static const struct sandbox_rule sb_monitor[] = {
	/* files: the loader, configuration, keys, /proc */
	SB_ALLOW(read),
	SB_ALLOW(write),
	SB_ALLOW(readv),
	SB_ALLOW(writev),
	SB_ALLOW(pread64),
	SB_ALLOW(close),
	SB_ALLOW_ARG(openat, SB_NONE_OF(2, SB_OPEN_WRITES)),
	SB_ALLOW_ARG(open, SB_NONE_OF(1, SB_OPEN_WRITES)),
	SB_ALLOW(fstat),
	SB_ALLOW(newfstatat),
	SB_ALLOW(statx),
	SB_ALLOW(lseek),
	SB_ALLOW(access),
	SB_ALLOW(faccessat),
	SB_ALLOW(faccessat2),
	SB_ALLOW(getdents64),
	SB_ALLOW(fstatfs),
	SB_ALLOW(statfs),
	SB_ALLOW(sched_getaffinity),
	SB_ALLOW(sched_yield),
	SB_ALLOW(readlink),
	SB_ALLOW(readlinkat),
	SB_ALLOW(fcntl),
	SB_ALLOW(dup),
	SB_ALLOW(dup2),
	SB_ALLOW(dup3),
	SB_ALLOW(close_range),
	SB_ALLOW(pipe2),
	SB_ALLOW(ioctl),
	SB_ALLOW(uname),
	SB_ALLOW(getcwd),
	SB_ALLOW(unlink),
	/* memory, threads and resource limits */
	SB_ALLOW(brk),
	SB_ALLOW(mmap),
	SB_ALLOW(munmap),
	SB_ALLOW(mremap),
	SB_ALLOW(mprotect),
	SB_ALLOW(madvise),
	SB_ALLOW(futex),
	SB_ALLOW(set_robust_list),
	SB_ALLOW(rseq),
	SB_ALLOW(set_tid_address),
	SB_ALLOW(arch_prctl),
	SB_ALLOW(prlimit64),
	SB_ALLOW(getrlimit),
	SB_ALLOW(setrlimit),
	SB_ALLOW(getrandom),
	/* time */
	SB_ALLOW(clock_gettime),
	SB_ALLOW(clock_nanosleep),
	SB_ALLOW(nanosleep),
	SB_ALLOW(gettimeofday),
	SB_ALLOW(time),
	SB_ALLOW(sysinfo),
	/* signals and event loop */
	SB_ALLOW(rt_sigaction),
	SB_ALLOW(rt_sigprocmask),
	SB_ALLOW(rt_sigreturn),
	SB_ALLOW(signalfd4),
	SB_ALLOW(eventfd2),
	SB_ALLOW(restart_syscall),
	SB_ALLOW(sigaltstack),
	SB_ALLOW(poll),
	SB_ALLOW(ppoll),
	SB_ALLOW(epoll_create1),
	SB_ALLOW(epoll_ctl),
	SB_ALLOW(epoll_wait),
	/* sockets: channels, syslog, control socket, workers' opens */
	SB_ALLOW(socket),
	SB_ALLOW(socketpair),
	SB_ALLOW(connect),
	SB_ALLOW(bind),
	SB_ALLOW(listen),
	SB_ALLOW(accept4),
	SB_ALLOW(getsockname),
	SB_ALLOW(getpeername),
	SB_ALLOW(setsockopt),
	SB_ALLOW(getsockopt),
	SB_ALLOW(sendto),
	SB_ALLOW(recvfrom),
	SB_ALLOW(sendmsg),
	SB_ALLOW(recvmsg),
	SB_ALLOW(sendmmsg),
	SB_ALLOW(recvmmsg),
	SB_ALLOW(shutdown),
	/* processes: spawning and supervising the workers */
	SB_ALLOW(clone),
	SB_ALLOW(clone3),
	SB_ALLOW(fork),
	SB_ALLOW(vfork),
	SB_ALLOW(execve),
	SB_ALLOW(wait4),
	SB_ALLOW(kill),
	SB_ALLOW(tgkill),
	SB_ALLOW(exit),
	SB_ALLOW(exit_group),
	/* ids, capabilities and the drop itself */
	SB_ALLOW(getpid),
	SB_ALLOW(getppid),
	SB_ALLOW(gettid),
	SB_ALLOW(getuid),
	SB_ALLOW(geteuid),
	SB_ALLOW(getgid),
	SB_ALLOW(getegid),
	SB_ALLOW(getresuid),
	SB_ALLOW(getresgid),
	SB_ALLOW(getgroups),
	SB_ALLOW(setuid),
	SB_ALLOW(setgid),
	SB_ALLOW(setresuid),
	SB_ALLOW(setresgid),
	SB_ALLOW(setgroups),
	SB_ALLOW(setsid),
	SB_ALLOW(umask),
	SB_ALLOW(chdir),
	SB_ALLOW(chroot),
	SB_ALLOW(capget),
	SB_ALLOW(capset),
	SB_ALLOW(prctl),
	SB_ALLOW(seccomp),
};

/*
 * capture and inject output only on what they were given: the control
 * channel (sendmsg, msg_send()), the ring's doorbell socket (send(), so
 * sendto with no address) and, for inject, its packet sockets. Argument
 * conditions can only see numbers, so these are fixed descriptors
 * (privsep/spawn.c, FD_PACKET).
 */
#define SB_GE(n, v)		{ (n), SCMP_CMP_GE, (scmp_datum_t)(v), 0 }
#define SB_OUT_CHANNELS(bell)						\
	SB_ALLOW_ARG(sendmsg, SB_EQ(0, FD_MONITOR)),			\
	SB_ALLOW_ARGS(sendto, SB_EQ(0, (bell)), SB_EQ(4, 0))
#ifdef VNET_SANITIZE
/* The sanitizer's report goes to standard error. */
#define SB_OUT_STDERR							\
	SB_ALLOW_ARG(write, SB_EQ(0, STDERR_FILENO)),			\
	SB_ALLOW_ARG(writev, SB_EQ(0, STDERR_FILENO)),
#else
#define SB_OUT_STDERR
#endif

/*
 * capture: reads frames from the sockets it opened; creates none, and
 * writes on none of them.
 */
static const struct sandbox_rule sb_capture[] = {
	SB_WORKER_IN,
	SB_OUT_STDERR
	SB_OUT_CHANNELS(4),
	/* the kernel's drop counters */
	SB_ALLOW_ARGS(getsockopt, SB_EQ(1, SOL_PACKET),
	    SB_EQ(2, PACKET_STATISTICS)),
	/* pcap_close() takes its receive ring down at exit */
	SB_ALLOW_ARGS(setsockopt, SB_EQ(1, SOL_PACKET),
	    SB_EQ(2, PACKET_RX_RING)),
};

/*
 * Both crypts: their one socket option (TCP_NODELAY on each link;
 * OpenSSL sets none, as kTLS is off), the file status flags, OpenSSL's
 * entropy, and the UDP data channel's batches on the socket the monitor
 * bound (crypt/udp.c).
 */
#define SB_CRYPT							\
	SB_WORKER,							\
	SB_ALLOW(sendmmsg),						\
	SB_ALLOW(recvmmsg),						\
	SB_ALLOW_ARGS(setsockopt, SB_EQ(1, IPPROTO_TCP),		\
	    SB_EQ(2, TCP_NODELAY)),					\
	SB_ALLOW_ARG(fcntl, SB_EQ(1, F_GETFL)),				\
	SB_ALLOW_ARG(fcntl, SB_EQ(1, F_SETFL)),				\
	SB_ALLOW(getrandom)

/* The host's crypt dials the proxy: TCP over IPv4/IPv6 only. */
static const struct sandbox_rule sb_crypt[] = {
	SB_CRYPT,
	/* the type's low four bits; the rest are SOCK_NONBLOCK and the like */
	SB_ALLOW_ARGS(socket, SB_EQ(0, AF_INET),
	    SB_MASKED(1, 0xf, SOCK_STREAM)),
	SB_ALLOW_ARGS(socket, SB_EQ(0, AF_INET6),
	    SB_MASKED(1, 0xf, SOCK_STREAM)),
	/*
	 * Only with the length of an IPv4 or IPv6 address, so that even a
	 * UNIX socket it was somehow handed cannot be pointed anywhere.
	 */
	SB_ALLOW_ARG(connect, SB_EQ(2, sizeof(struct sockaddr_in))),
	SB_ALLOW_ARG(connect, SB_EQ(2, sizeof(struct sockaddr_in6))),
	/* the result of a non-blocking connect */
	SB_ALLOW_ARGS(getsockopt, SB_EQ(1, SOL_SOCKET), SB_EQ(2, SO_ERROR)),
};

/*
 * The proxy's crypt only accepts, on the listening socket the monitor
 * passed it: a taken-over proxy crypt cannot open a connection anywhere.
 */
static const struct sandbox_rule sb_crypt_proxy[] = {
	SB_CRYPT,
	SB_ALLOW(accept4),
};

/*
 * inject: writes frames on the packet sockets it was given, each bound
 * to one device before the drop, with writev(2) only: sendmsg(2),
 * sendto(2) and sendmmsg(2) could carry an address naming another
 * interface, and the filter cannot read it. Its packet sockets are at
 * FD_PACKET and above, where nothing else can be: RLIMIT_NOFILE is
 * FD_PACKET after the drop (its .nofile), so no descriptor it receives
 * later can land there. bind(2) stays forbidden.
 */
static const struct sandbox_rule sb_inject[] = {
	SB_WORKER_IN,
	SB_OUT_STDERR
	SB_OUT_CHANNELS(4),
	SB_ALLOW_ARG(writev, SB_GE(0, FD_PACKET)),
};

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char			*name;
	const struct sandbox_rule	*rules;
	size_t				 n;
} sandbox_roles[] = {
	[SANDBOX_NONE] = { "none", NULL, 0 },
	[SANDBOX_MONITOR] = { "monitor", sb_monitor, N(sb_monitor) },
	[SANDBOX_CAPTURE] = { "capture", sb_capture, N(sb_capture) },
	[SANDBOX_CRYPT] = { "crypt", sb_crypt, N(sb_crypt) },
	[SANDBOX_INJECT] = { "inject", sb_inject, N(sb_inject) },
	[SANDBOX_CRYPT_PROXY] = { "crypt-proxy", sb_crypt_proxy,
	    N(sb_crypt_proxy) },
};

#ifdef VNET_SECCOMP_TRAP
/* Debug builds: name the syscall a table is missing, let it fail. */
static void
sandbox_trap(int sig, siginfo_t *si, void *vctx)
{
	ucontext_t	*uc = vctx;
	char		*name, line[128];

	(void)sig;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
	    si->si_syscall);
	snprintf(line, sizeof(line), "event=seccomp_trap syscall=%s nr=%d",
	    name != NULL ? name : "?", si->si_syscall);
	free(name);
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
	(void)msg_send_log(FD_MONITOR, LOG_ERR, LOGC_AUDIT, line);
	if (write(2, line, strlen(line)) == -1 || write(2, "\n", 1) == -1)
		return;
}

static uint32_t
sandbox_action(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_trap;
	sa.sa_flags = SA_SIGINFO;
	(void)sigaction(SIGSYS, &sa, NULL);
	return SCMP_ACT_TRAP;
}
#else
static uint32_t
sandbox_action(void)
{
	return SCMP_ACT_KILL_PROCESS;
}
#endif

static int
sandbox_known(enum sandbox_role role)
{
	return (unsigned)role < N(sandbox_roles);
}

const char *
sandbox_name(enum sandbox_role role)
{
	return sandbox_known(role) ? sandbox_roles[role].name : "none";
}

int
sandbox_row(enum sandbox_role role, size_t i, int *nr, unsigned int *narg)
{
	if (!sandbox_known(role) || i >= sandbox_roles[role].n)
		return -1;
	*nr = sandbox_roles[role].rules[i].nr;
	*narg = sandbox_roles[role].rules[i].narg;
	return 0;
}

int
sandbox_apply(enum sandbox_role role)
{
	const struct sandbox_rule	*r;
	scmp_filter_ctx			 ctx;
	size_t				 i;
	int				 rv = -1;

	if (role == SANDBOX_NONE)
		return 0;
	if (!sandbox_known(role))
		return -1;
	if ((ctx = seccomp_init(sandbox_action())) == NULL)
		return -1;
	for (i = 0; i < sandbox_roles[role].n; i++) {
		r = &sandbox_roles[role].rules[i];
		if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r->nr,
		    r->narg, r->arg) < 0)
			goto out;
	}
	rv = seccomp_load(ctx) < 0 ? -1 : 0;
out:
	seccomp_release(ctx);
	return rv;
}

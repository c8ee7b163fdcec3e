#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
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

#define NR(x)	SCMP_SYS(x)

/* What every worker needs after its drop: its channels, memory, time. */
static const int sys_worker[] = {
	NR(read), NR(write), NR(readv), NR(writev), NR(recvmsg), NR(sendmsg),
	NR(recvfrom), NR(sendto), NR(poll), NR(ppoll), NR(close),
	NR(brk), NR(munmap), NR(mremap), NR(madvise), NR(futex),
	NR(clock_gettime), NR(gettimeofday), NR(time), NR(getpid),
	NR(rt_sigreturn), NR(rt_sigprocmask), NR(restart_syscall),
	NR(exit), NR(exit_group),
#ifdef VNET_SANITIZE
	/* The ASan runtime sets up an alternate signal stack as it goes. */
	NR(sigaltstack),
#endif
};

/*
 * The monitor's list is the union of what it needs (supervising,
 * signals, syslog, /proc/PID/status) and what a worker needs between
 * exec and its own, narrower filter (loader, getpwnam, raw socket open,
 * TLS library start-up, the drop itself): filters are inherited.
 */
static const int sys_monitor[] = {
	NR(read), NR(write), NR(readv), NR(writev), NR(pread64), NR(close),
	NR(openat), NR(open), NR(fstat), NR(newfstatat), NR(statx),
	NR(lseek), NR(access), NR(faccessat), NR(faccessat2), NR(getdents64),
	NR(fstatfs), NR(statfs), NR(sched_getaffinity), NR(sched_yield),
	NR(readlink), NR(readlinkat), NR(fcntl), NR(dup), NR(dup2), NR(dup3),
	NR(close_range), NR(pipe2), NR(ioctl), NR(uname), NR(getcwd),
	NR(brk), NR(mmap), NR(munmap), NR(mremap), NR(mprotect), NR(madvise),
	NR(futex), NR(set_robust_list), NR(rseq), NR(set_tid_address),
	NR(arch_prctl), NR(prlimit64), NR(getrlimit), NR(setrlimit),
	NR(getrandom), NR(clock_gettime), NR(clock_nanosleep), NR(nanosleep),
	NR(gettimeofday), NR(time), NR(sysinfo),
	NR(rt_sigaction), NR(rt_sigprocmask), NR(rt_sigreturn),
	NR(signalfd4), NR(eventfd2), NR(restart_syscall), NR(sigaltstack),
	NR(poll), NR(ppoll), NR(epoll_create1), NR(epoll_ctl), NR(epoll_wait),
	NR(socket), NR(socketpair), NR(connect), NR(bind), NR(listen),
	NR(accept4), NR(getsockname), NR(getpeername), NR(setsockopt),
	NR(getsockopt), NR(sendto), NR(recvfrom), NR(sendmsg), NR(recvmsg),
	NR(sendmmsg), NR(shutdown),
	NR(clone), NR(clone3), NR(fork), NR(vfork), NR(execve), NR(wait4),
	NR(kill), NR(tgkill), NR(exit), NR(exit_group),
	NR(getpid), NR(getppid), NR(gettid), NR(getuid), NR(geteuid),
	NR(getgid), NR(getegid), NR(getresuid), NR(getresgid), NR(getgroups),
	NR(setuid), NR(setgid), NR(setresuid), NR(setresgid), NR(setgroups),
	NR(setsid), NR(umask), NR(chdir), NR(chroot), NR(capget), NR(capset),
	NR(unlink),
	NR(prctl), NR(seccomp),
};

static const int sys_inject[] = {
	NR(sendmmsg),
};

static int
sandbox_add(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0) < 0)
			return -1;
	return 0;
}

/* Memory may be mapped, but never executable. */
static int
sandbox_noexec(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) < 0 ? -1 : 0;
}

/*
 * crypt: TCP over IPv4/IPv6 only. connect() is allowed only with the
 * length of an IPv4 or IPv6 address, so that even a UNIX socket it was
 * somehow handed cannot be pointed anywhere; it can create none.
 */
static int
sandbox_crypt(scmp_filter_ctx ctx)
{
	int	 fam[2] = { AF_INET, AF_INET6 }, i;

	for (i = 0; i < 2; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(socket), 2,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fam[i], 0),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM)) < 0)
			return -1;
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(connect), 1,
	    SCMP_A2(SCMP_CMP_EQ, sizeof(struct sockaddr_in), 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(connect), 1,
	    SCMP_A2(SCMP_CMP_EQ, sizeof(struct sockaddr_in6), 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(accept4), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(setsockopt), 1,
	    SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(getsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET, 0),
	    SCMP_A2(SCMP_CMP_EQ, SO_ERROR, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_GETFL, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_SETFL, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(getrandom), 0) < 0)
		return -1;
	return 0;
}

#ifdef VNET_SECCOMP_TRAP
/* Debug builds: name the syscall a list is missing, let it fail. */
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

const char *
sandbox_name(enum sandbox_role role)
{
	switch (role) {
	case SANDBOX_MONITOR: return "monitor";
	case SANDBOX_CAPTURE: return "capture";
	case SANDBOX_CRYPT: return "crypt";
	case SANDBOX_INJECT: return "inject";
	default: return "none";
	}
}

#define N(a)	(sizeof(a) / sizeof((a)[0]))

int
sandbox_apply(enum sandbox_role role)
{
	scmp_filter_ctx	 ctx;
	int		 rv = -1;

	if (role == SANDBOX_NONE)
		return 0;
	if ((ctx = seccomp_init(sandbox_action())) == NULL)
		return -1;
	if (role == SANDBOX_MONITOR) {
		if (sandbox_add(ctx, sys_monitor, N(sys_monitor)) == -1)
			goto out;
	} else {
		if (sandbox_add(ctx, sys_worker, N(sys_worker)) == -1 ||
		    sandbox_noexec(ctx) == -1)
			goto out;
		/*
		 * capture reads the kernel's drop counters, and pcap_close()
		 * takes its receive ring down at exit; nothing else.
		 */
		if (role == SANDBOX_CAPTURE && (seccomp_rule_add(ctx,
		    SCMP_ACT_ALLOW, NR(getsockopt), 2,
		    SCMP_A1(SCMP_CMP_EQ, SOL_PACKET, 0),
		    SCMP_A2(SCMP_CMP_EQ, PACKET_STATISTICS, 0)) < 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, NR(setsockopt), 2,
		    SCMP_A1(SCMP_CMP_EQ, SOL_PACKET, 0),
		    SCMP_A2(SCMP_CMP_EQ, PACKET_RX_RING, 0)) < 0))
			goto out;
		if (role == SANDBOX_INJECT &&
		    sandbox_add(ctx, sys_inject, N(sys_inject)) == -1)
			goto out;
		if (role == SANDBOX_CRYPT && sandbox_crypt(ctx) == -1)
			goto out;
	}
	rv = seccomp_load(ctx) < 0 ? -1 : 0;
out:
	seccomp_release(ctx);
	return rv;
}

/* SPDX-License-Identifier: ISC */
/*
 * Escape tests. For each worker role a child process starts as that
 * worker starts (privsep_startcaps with the role's capabilities, its
 * privileged opens), calls the very privsep_drop() the worker calls,
 * with the role's seccomp policy, and then tries one forbidden thing:
 * it must die by SIGSYS. Another child does what the worker really
 * needs, which must all succeed. Every child first moves into a network
 * namespace of its own, so nothing here touches the machine's network.
 * The monitor's filter is checked the same way, without the drop (the
 * monitor keeps its ids): it may open files for reading only.
 * Needs root (it changes ids and opens raw sockets). Two more tests read
 * the role tables themselves (privsep/sandbox.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "privsep/msg.h"
#include "privsep/privsep.h"

static char	 chrootdir[] = "/tmp/vnet-sandbox-XXXXXX";
static uint8_t	 rxbuf[MSG_MAX];

/* What a worker has open when it drops: channels and its own sockets. */
struct opened {
	int	 chan[2];	/* a control channel; chan[0] at FD_MONITOR */
	int	 bell[2];	/* the ring's doorbells; bell[0] at 4 */
	int	 packet;	/* capture/inject: raw socket (inject's at
				   FD_PACKET, bound to lo) */
	int	 lo;		/* lo's ifindex */
	int	 listener;	/* crypt: listening TCP socket on 127.0.0.1 */
	int	 client;	/* crypt: connected to it, not yet accepted */
	int	 inet;		/* an unconnected TCP socket (for escapes) */
	int	 unixsock;	/* an unconnected UNIX socket (for escapes) */
	struct sockaddr_in laddr;
};

static void
lo_up(void)
{
	struct ifreq	 ifr;
	int		 s = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (s == -1 || ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		_exit(90);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1)
		_exit(91);
	close(s);
}

/* Move fd to want (free: become() reserved it), as spawn and inject do. */
static int
place(int fd, int want)
{
	if (dup2(fd, want) == -1)
		_exit(98);
	close(fd);
	return want;
}

static void
bind_lo(struct opened *o)
{
	struct sockaddr_ll	 sll;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = o->lo;
	if (bind(o->packet, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		_exit(99);
}

/* In the child: become a worker of this role, up to and with the drop. */
static int
is_crypt(enum sandbox_role role)
{
	return role == SANDBOX_CRYPT || role == SANDBOX_CRYPT_PROXY;
}

/* The monitor applies its filter to itself, keeping its ids. */
static void
become_monitor(struct opened *o)
{
	memset(o, 0, sizeof(*o));
	o->packet = o->listener = o->client = o->inet = o->unixsock = -1;
	if (sandbox_apply(SANDBOX_MONITOR) == -1)
		_exit(89);
}

static void
become(enum sandbox_role role, struct opened *o)
{
	struct drop_req	 dr;
	const unsigned	*caps;
	size_t		 ncaps;
	socklen_t	 sl = sizeof(o->laddr);

	/* Hold 3 and 4 so that nothing opened below lands there. */
	if (dup2(STDERR_FILENO, FD_MONITOR) == -1 || dup2(STDERR_FILENO, 4) ==
	    -1)
		_exit(89);
	if (unshare(CLONE_NEWNET) == -1)
		_exit(92);
	lo_up();
	o->lo = (int)if_nametoindex("lo");
	if (role == SANDBOX_MONITOR) {
		become_monitor(o);
		return;
	}
	/* The proxy's crypt starts as crypt does: same fds, same caps. */
	caps = privsep_worker_caps(is_crypt(role) ? SANDBOX_CRYPT : role,
	    &ncaps);
	if (privsep_startcaps(caps, ncaps) == -1)
		_exit(93);
	if (msg_socketpair(o->chan) == -1 || msg_socketpair(o->bell) == -1)
		_exit(94);
	o->chan[0] = place(o->chan[0], FD_MONITOR);
	o->bell[0] = place(o->bell[0], 4);
	o->packet = o->listener = o->client = -1;
	if ((o->unixsock = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    (o->inet = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		_exit(95);
	if (!is_crypt(role) &&
	    (o->packet = socket(AF_PACKET, SOCK_RAW, 0)) == -1)
		_exit(96);
	if (role == SANDBOX_INJECT) {
		bind_lo(o);
		o->packet = place(o->packet, FD_PACKET);
	}
	if (is_crypt(role)) {
		memset(&o->laddr, 0, sizeof(o->laddr));
		o->laddr.sin_family = AF_INET;
		o->laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((o->listener = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    bind(o->listener, (struct sockaddr *)&o->laddr,
		    sizeof(o->laddr)) == -1 || listen(o->listener, 4) == -1 ||
		    getsockname(o->listener, (struct sockaddr *)&o->laddr,
		    &sl) == -1)
			_exit(97);
		/* A peer waiting in the backlog, for the proxy to accept. */
		if ((o->client = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(o->client, (struct sockaddr *)&o->laddr,
		    sizeof(o->laddr)) == -1)
			_exit(98);
	}
	memset(&dr, 0, sizeof(dr));
	dr.user = "nobody";
	dr.chroot = chrootdir;
	dr.nofile = role == SANDBOX_INJECT ? FD_PACKET : 64;
	dr.sandbox = role;
	privsep_drop(&dr);
}

enum escape {
	E_OPEN, E_PACKET, E_NETLINK, E_INET, E_EXECVE, E_PTRACE,
	E_MPROTECT_EXEC, E_MMAP_EXEC, E_UNIX_CONNECT, E_INET_CONNECT,
	E_SOCKOPT_KEEPALIVE, E_SOCKOPT_ULP, E_OPEN_WRONLY, E_OPEN_RDWR,
	E_OPEN_CREAT, E_OPEN_TRUNC, E_OPEN_APPEND, E_OPEN_TMPFILE, E_ACCEPT,
	E_UDP_SOCKET, E_BIND, E_MOUNT,
	/* capture and inject only (crypt writes on its TCP sockets) */
	E_WRITE_OTHER, E_SENDMSG_OTHER, E_SENDTO_OTHER, E_SENDTO_ADDR,
	E_WRITE_PACKET, E_SENDTO_PACKET, E_SENDMSG_PACKET, E_SENDMMSG_PACKET,
	E_BIND_PACKET, E_MAX
};
#define E_FIRST_OUT	E_WRITE_OTHER

static const char *const escape_names[E_MAX] = {
	"open(/etc/passwd)", "socket(AF_PACKET)", "socket(AF_NETLINK)",
	"socket(AF_INET)", "execve", "ptrace", "mprotect(PROT_EXEC)",
	"mmap(PROT_EXEC)", "connect(UNIX socket)", "connect(AF_INET)",
	"setsockopt(SO_KEEPALIVE)", "setsockopt(TCP_ULP)",
	"open(O_WRONLY)", "open(O_RDWR)", "open(O_RDONLY|O_CREAT)",
	"open(O_RDONLY|O_TRUNC)", "open(O_RDONLY|O_APPEND)",
	"open(O_TMPFILE)", "accept4", "socket(AF_INET, SOCK_DGRAM)",
	"bind(AF_INET)", "mount(tmpfs)",
	"write(not a channel)", "sendmsg(not the control channel)",
	"sendto(not the doorbell)", "sendto(doorbell, an address)",
	"write(packet socket)", "sendto(packet socket, another ifindex)",
	"sendmsg(packet socket)", "sendmmsg(packet socket)",
	"bind(packet socket, another ifindex)",
};

/*
 * What the monitor's filter must refuse: every open that could write,
 * and calls outside its table such as ptrace and mount.
 */
static const int monitor_escapes[] = {
	E_OPEN_WRONLY, E_OPEN_RDWR, E_OPEN_CREAT, E_OPEN_TRUNC,
	E_OPEN_APPEND, E_OPEN_TMPFILE, E_PTRACE, E_MOUNT, -1
};
#define MON_FILE	"/tmp/vnet-sandbox-monitor-escape"

/* An address naming another interface than the socket is bound to. */
static struct sockaddr_ll *
other_if(struct opened *o)
{
	static struct sockaddr_ll	 sll;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = o->lo + 1;
	sll.sll_halen = 6;
	return &sll;
}

/* Output on what is not the worker's to write on. */
static void
attempt_out(enum escape e, struct opened *o)
{
	static uint8_t	 frame[64];
	struct iovec	 iov = { frame, sizeof(frame) };
	struct msghdr	 mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr	 mm = { .msg_hdr = mh };

	switch (e) {
	case E_WRITE_OTHER:
		if (write(o->chan[1], "x", 1) == -1)
			_exit(2);
		break;
	case E_SENDMSG_OTHER:
		(void)sendmsg(o->bell[1], &mh, 0);
		break;
	case E_SENDTO_OTHER:
		(void)send(o->chan[1], "x", 1, 0);
		break;
	case E_SENDTO_ADDR:
		(void)sendto(o->bell[0], "x", 1, 0,
		    (struct sockaddr *)other_if(o), sizeof(struct sockaddr_ll));
		break;
	case E_WRITE_PACKET:
		if (write(o->packet, frame, sizeof(frame)) == -1)
			_exit(2);
		break;
	case E_SENDTO_PACKET:
		(void)sendto(o->packet, frame, sizeof(frame), 0,
		    (struct sockaddr *)other_if(o), sizeof(struct sockaddr_ll));
		break;
	case E_SENDMSG_PACKET:
		mh.msg_name = other_if(o);
		mh.msg_namelen = sizeof(struct sockaddr_ll);
		(void)sendmsg(o->packet, &mh, 0);
		break;
	case E_SENDMMSG_PACKET:
		mm.msg_hdr.msg_name = other_if(o);
		mm.msg_hdr.msg_namelen = sizeof(struct sockaddr_ll);
		(void)sendmmsg(o->packet, &mm, 1, 0);
		break;
	case E_BIND_PACKET:
		(void)bind(o->packet, (struct sockaddr *)other_if(o),
		    sizeof(struct sockaddr_ll));
		break;
	default:
		break;
	}
}

static void
attempt(enum escape e, struct opened *o)
{
	struct sockaddr_un	 sun;
	char			*argv[] = { (char *)"true", NULL };
	void			*p;
	int			 on = 1;

	switch (e) {
	case E_OPEN:
		(void)open("/etc/passwd", O_RDONLY);
		break;
	case E_PACKET:
		(void)socket(AF_PACKET, SOCK_RAW, 0);
		break;
	case E_NETLINK:
		(void)socket(AF_NETLINK, SOCK_RAW, 0);
		break;
	case E_INET:
		(void)socket(AF_INET, SOCK_STREAM, 0);
		break;
	case E_EXECVE:
		(void)execve("/bin/true", argv, NULL);
		break;
	case E_PTRACE:
		(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case E_MPROTECT_EXEC:
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		(void)mprotect(p, 4096, PROT_READ | PROT_EXEC);
		break;
	case E_MMAP_EXEC:
		(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case E_INET_CONNECT:
		(void)connect(o->inet, (struct sockaddr *)&o->laddr,
		    sizeof(o->laddr));
		break;
	case E_SOCKOPT_KEEPALIVE:
		(void)setsockopt(o->inet, SOL_SOCKET, SO_KEEPALIVE, &on,
		    sizeof(on));
		break;
	case E_SOCKOPT_ULP:
		/* crypt's own level, another option: kernel TLS */
		(void)setsockopt(o->inet, IPPROTO_TCP, TCP_ULP, "tls", 3);
		break;
	case E_OPEN_WRONLY:
		(void)open(MON_FILE, O_WRONLY);
		break;
	case E_OPEN_RDWR:
		(void)open("/dev/null", O_RDWR);
		break;
	case E_OPEN_CREAT:
		(void)open(MON_FILE, O_RDONLY | O_CREAT, 0600);
		break;
	case E_OPEN_TRUNC:
		(void)open(MON_FILE, O_RDONLY | O_TRUNC);
		break;
	case E_OPEN_APPEND:
		(void)open(MON_FILE, O_RDONLY | O_APPEND);
		break;
	case E_OPEN_TMPFILE:
		(void)open("/tmp", O_TMPFILE | O_RDONLY, 0600);
		break;
	case E_ACCEPT:
		(void)accept4(o->listener, NULL, NULL, SOCK_CLOEXEC);
		break;
	case E_MOUNT:
		/*
		 * A target that does not exist: if the filter let it
		 * through, the call fails harmlessly and the child lives to
		 * say so.
		 */
		(void)mount("none", "/vnet-sandbox-no-such-dir", "tmpfs", 0,
		    NULL);
		break;
	case E_UDP_SOCKET:
		/* The UDP channel's socket is the monitor's to make. */
		(void)socket(AF_INET, SOCK_DGRAM, 0);
		break;
	case E_BIND:
		(void)bind(o->inet, (struct sockaddr *)&o->laddr,
		    sizeof(o->laddr));
		break;
	case E_UNIX_CONNECT:
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, "/run/vnet-no-such.sock");
		(void)connect(o->unixsock, (struct sockaddr *)&sun, sizeof(sun));
		break;
	default:
		attempt_out(e, o);
		break;
	}
	/* Still alive: the escape worked. */
	_exit(0);
}

/* Run fn in a child as ROLE; return its wait status. */
static int
in_child(enum sandbox_role role, int escape, int (*fn)(struct opened *))
{
	struct opened	 o;
	pid_t		 pid;
	int		 st;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		become(role, &o);
		if (fn != NULL)
			_exit(fn(&o));
		attempt((enum escape)escape, &o);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void
check_escape(enum sandbox_role role, int e)
{
	int	 st = in_child(role, e, NULL);

	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail_msg("%s: %s was not killed by SIGSYS (status 0x%x: %s "
		    "%d)", sandbox_name(role), escape_names[e], st,
		    WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ?
		    WTERMSIG(st) : WEXITSTATUS(st));
}

static void
check_escapes(enum sandbox_role role)
{
	int	 e;

	for (e = 0; e < E_MAX; e++) {
		/* The host's crypt dials: TCP sockets are not an escape. */
		if (role == SANDBOX_CRYPT && (e == E_INET ||
		    e == E_INET_CONNECT))
			continue;
		/* crypt writes on its sockets: the output rows are not its. */
		if (is_crypt(role) && e >= E_FIRST_OUT)
			continue;
		/* The proxy's crypt accepts: that is its job. */
		if (role == SANDBOX_CRYPT_PROXY && e == E_ACCEPT)
			continue;
		check_escape(role, e);
	}
}

static void
check_monitor_escapes(void)
{
	size_t	 i;

	for (i = 0; monitor_escapes[i] != -1; i++)
		check_escape(SANDBOX_MONITOR, monitor_escapes[i]);
	/* Nothing was created on the way. */
	if (access(MON_FILE, F_OK) == 0) {
		(void)unlink(MON_FILE);
		fail_msg("monitor: %s was created", MON_FILE);
	}
}

/* The monitor's row for the message this test sends (monitor/supervise.c). */
static const struct msg_rule ready_rows[] = { { MSG_READY, NULL } };
static const struct msg_table ready_only = MSG_TABLE(ready_rows, NULL);

/* The channel and memory operations every worker lives on. */
static int
needs_common(struct opened *o)
{
	struct msg_chan	 c;
	struct msg	 m;
	enum msg_err	 why;
	struct pollfd	 pfd = { .fd = o->chan[1], .events = POLLIN };
	struct timespec	 ts;
	void		*p, *big;

	msg_chan_init(&c, "t", &ready_only);
	if (msg_send(o->chan[0], MSG_READY, NULL, 0) == -1)
		return 10;
	if (poll(&pfd, 1, 1000) != 1 || msg_recv(o->chan[1], &c, rxbuf, &m,
	    &why) != MSG_ST_OK || m.type != MSG_READY)
		return 11;
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 12;
	memset(p, 1, 1 << 20);
	munmap(p, 1 << 20);
	if ((big = malloc(8 << 20)) == NULL)
		return 13;
	free(big);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 14;
	return 0;
}

/* The ring's doorbell: send(2) on its socket, as ring_commit() does. */
static int
needs_bell(struct opened *o)
{
	struct msg_hdr	 h = { .type = MSG_WAKE, .flags = 0, .len = 0 };

	return send(o->bell[0], &h, sizeof(h), MSG_NOSIGNAL |
	    MSG_DONTWAIT) == (ssize_t)sizeof(h) ? 0 : 1;
}

static int
needs_capture(struct opened *o)
{
	struct tpacket_stats_v3	 st;
	socklen_t		 sl = sizeof(st);

	if (getsockopt(o->packet, SOL_PACKET, PACKET_STATISTICS, &st,
	    &sl) == -1)
		return 20;
	if (needs_bell(o) != 0)
		return 21;
	return needs_common(o);
}

/* A frame out on its bound packet socket, as inject_send() does. */
static int
needs_inject(struct opened *o)
{
	static uint8_t	 frame[64] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0,
	    2, 0x88, 0xb5 };
	struct iovec	 iov[2] = { { frame, 14 }, { frame + 14, 50 } };

	if (writev(o->packet, iov, 2) != (ssize_t)sizeof(frame))
		return 40;
	if (needs_bell(o) != 0)
		return 41;
	return needs_common(o);
}

static int
needs_crypt(struct opened *o)
{
	struct sockaddr_in6	 a6;
	uint8_t			 rnd[16];
	struct pollfd		 pfd = { .events = POLLOUT };
	int			 s, s6, on = 1, err;
	socklen_t		 sl = sizeof(err);

	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s == -1)
		return 30;
	if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
		return 31;
	if (connect(s, (struct sockaddr *)&o->laddr, sizeof(o->laddr)) == -1 &&
	    errno != EINPROGRESS)
		return 32;
	pfd.fd = s;
	if (poll(&pfd, 1, 1000) != 1)
		return 33;
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 || err != 0)
		return 34;
	if (write(s, "x", 1) != 1)
		return 35;
	/* IPv6 sockets too (the connect itself may fail here: no route). */
	if ((s6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return 36;
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	a6.sin6_port = htons(9);
	a6.sin6_addr = in6addr_loopback;
	(void)connect(s6, (struct sockaddr *)&a6, sizeof(a6));
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return 37;
	close(s);
	close(s6);
	return needs_common(o);
}

/* The proxy's crypt: accept a peer, set its one option, use it. */
static int
needs_crypt_proxy(struct opened *o)
{
	uint8_t	 rnd[16];
	int	 a, on = 1, fl;

	if ((a = accept4(o->listener, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return 40;
	if (setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
		return 41;
	if ((fl = fcntl(a, F_GETFL)) == -1 ||
	    fcntl(a, F_SETFL, fl | O_NONBLOCK) == -1)
		return 42;
	if (write(a, "x", 1) != 1)
		return 43;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return 44;
	close(a);
	return needs_common(o);
}

/*
 * What the monitor opens after its drop, read-only: configuration and
 * keys on reload (any regular file), /proc/PID/status, directories.
 */
static int
needs_monitor(struct opened *o)
{
	char	 line[256];
	FILE	*f;
	DIR	*d;
	int	 fd;

	(void)o;
	if ((fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC)) == -1)
		return 50;
	if (read(fd, line, sizeof(line)) <= 0)
		return 51;
	close(fd);
	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return 52;
	if (fgets(line, sizeof(line), f) == NULL)
		return 53;
	fclose(f);
	if ((d = opendir("/proc/self/fd")) == NULL)
		return 54;
	closedir(d);
	return 0;
}

static void
check_needs(enum sandbox_role role, int (*fn)(struct opened *))
{
	int	 st = in_child(role, -1, fn);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("%s: what the worker needs failed (status 0x%x: %s "
		    "%d)", sandbox_name(role), st, WIFSIGNALED(st) ?
		    "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) :
		    WEXITSTATUS(st));
}

static void test_capture_escapes(void **s) { (void)s; check_escapes(SANDBOX_CAPTURE); }
static void test_crypt_escapes(void **s) { (void)s; check_escapes(SANDBOX_CRYPT); }
static void test_inject_escapes(void **s) { (void)s; check_escapes(SANDBOX_INJECT); }
static void test_capture_needs(void **s) { (void)s; check_needs(SANDBOX_CAPTURE, needs_capture); }
static void test_crypt_needs(void **s) { (void)s; check_needs(SANDBOX_CRYPT, needs_crypt); }
static void test_inject_needs(void **s) { (void)s; check_needs(SANDBOX_INJECT, needs_inject); }
static void test_crypt_proxy_escapes(void **s) { (void)s; check_escapes(SANDBOX_CRYPT_PROXY); }
static void test_crypt_proxy_needs(void **s) { (void)s; check_needs(SANDBOX_CRYPT_PROXY, needs_crypt_proxy); }
static void test_monitor_escapes(void **s) { (void)s; check_monitor_escapes(); }
static void test_monitor_needs(void **s) { (void)s; check_needs(SANDBOX_MONITOR, needs_monitor); }

static size_t
rows(enum sandbox_role role)
{
	size_t		 i;
	int		 nr;
	unsigned int	 narg;

	for (i = 0; sandbox_row(role, i, &nr, &narg) == 0; i++)
		;
	return i;
}

/* A row whose syscall this architecture lacks would allow nothing. */
static void
test_tables(void **s)
{
	enum sandbox_role role;
	size_t		 i, n;
	char		*name;
	int		 nr;
	unsigned int	 narg;

	(void)s;
	assert_int_equal(rows(SANDBOX_NONE), 0);
	for (role = SANDBOX_MONITOR; role <= SANDBOX_CRYPT_PROXY; role++) {
		if ((n = rows(role)) == 0)
			fail_msg("%s: empty table", sandbox_name(role));
		for (i = 0; i < n; i++) {
			assert_int_equal(sandbox_row(role, i, &nr, &narg), 0);
			name = nr < 0 ? NULL : seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, nr);
			if (name == NULL)
				fail_msg("%s: row %zu: syscall %d does not "
				    "exist here", sandbox_name(role), i, nr);
			free(name);
		}
	}
}

/*
 * A worker runs under the monitor's filter too (filters are inherited
 * and stacked), so a call the monitor's table lacks kills the worker
 * whatever the worker's own table says.
 */
static int
monitor_allows(int want)
{
	size_t		 i;
	int		 nr;
	unsigned int	 narg;

	for (i = 0; sandbox_row(SANDBOX_MONITOR, i, &nr, &narg) == 0; i++)
		if (nr == want && narg == 0)
			return 1;
	return 0;
}

static void
test_monitor_covers_workers(void **s)
{
	enum sandbox_role role;
	size_t		 i;
	char		*name;
	int		 nr;
	unsigned int	 narg;

	(void)s;
	for (role = SANDBOX_CAPTURE; role <= SANDBOX_CRYPT_PROXY; role++)
		for (i = 0; sandbox_row(role, i, &nr, &narg) == 0; i++) {
			if (monitor_allows(nr))
				continue;
			name = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, nr);
			fail_msg("%s allows %s, the monitor does not",
			    sandbox_name(role), name != NULL ? name : "?");
		}
}

static int
setup(void **s)
{
	(void)s;
	if (geteuid() != 0) {
		fprintf(stderr, "test_sandbox: must run as root (it changes "
		    "ids, opens raw sockets and makes network namespaces)\n");
		return -1;
	}
	if (mkdtemp(chrootdir) == NULL || chmod(chrootdir, 0755) == -1)
		return -1;
	return 0;
}

static int
teardown(void **s)
{
	(void)s;
	return rmdir(chrootdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_escapes),
		cmocka_unit_test(test_crypt_escapes),
		cmocka_unit_test(test_inject_escapes),
		cmocka_unit_test(test_capture_needs),
		cmocka_unit_test(test_crypt_needs),
		cmocka_unit_test(test_inject_needs),
		cmocka_unit_test(test_crypt_proxy_escapes),
		cmocka_unit_test(test_crypt_proxy_needs),
		cmocka_unit_test(test_monitor_escapes),
		cmocka_unit_test(test_monitor_needs),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_monitor_covers_workers),
	};

	return cmocka_run_group_tests_name("sandbox", tests, setup, teardown);
}

/* SPDX-License-Identifier: ISC */
/*
 * A compromised crypt, for tests only (never installed): it starts and
 * confines itself exactly as the real crypt does (its seccomp filter,
 * its user, its chroot), then writes frames this side's policy forbids
 * straight into the real data ring to inject, with the ring's own
 * producer API, as a crypt taken over through a parser bug could.
 * inject must drop each one, count it under its reason and audit it.
 *
 * Each round is one batch, one frame of every kind below (by the role
 * in the configuration), then one frame the policy allows, carrying
 * EVIL_MARK in its payload, so the test can tell that the path to the
 * wire works and that nothing forbidden took it. After EVIL_ROUNDS
 * rounds it says so (event=evil_done) and only answers the monitor;
 * each reload makes it write the same rounds again, so a test can show
 * that inject enforces the new configuration.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "lib/bytes.h"
#include "privsep/log.h"
#include "privsep/msg.h"
#include "privsep/privsep.h"
#include "privsep/worker.h"

#define EVIL_ROUNDS	40
#define EVIL_GAP_MS	25
/* After a reload: inject gets the new text right after crypt does. */
#define EVIL_RELOAD_MS	300
#define EVIL_MARK	"vnet-evil-crypt"
#define ETYPE_EXP	0x88b5		/* IEEE local experimental */

static const uint8_t	 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t	 stp[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x00 };
static const uint8_t	 pause_[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x01 };
/* The home router, and a tenant on the host's bridge: no VM's. */
static const uint8_t	 router[6] = { 0x52, 0x54, 0x00, 0xee, 0x00, 0x01 };
static const uint8_t	 tenant[6] = { 0x52, 0x54, 0x00, 0x77, 0x77, 0x77 };

struct evil {
	struct conf	 conf;
	struct ring	 ring;		/* the real one, to inject */
	struct msg_batch batch;
	const uint8_t	*vm;		/* an authorized / served MAC */
	int		 again;		/* a reload came: write the rounds again */
};

static struct evil	 ev;
static uint8_t		 fallback[MSG_MAX];

static void
evil_on_reload(struct msg *m, void *arg)
{
	(void)m;
	(void)arg;
	if (worker_running())
		ev.again = 1;
}

/* It stands in for crypt: crypt's setup messages are taken and ignored. */
static const struct msg_rule evil_rows[] = {
	{ MSG_PEM_CERT,		NULL },
	{ MSG_PEM_CA,		NULL },
	{ MSG_LISTEN_FD,	NULL },
	{ MSG_CONNECT_ADDR,	NULL },
	{ MSG_UDP_FD,		NULL },
	{ MSG_RELOAD,		evil_on_reload },
};
static const struct msg_table evil_ctl = MSG_TABLE(evil_rows,
    &worker_ctl_table);

/* dst, src, then tpid/vid when tpid != 0, then type and a payload. */
static void
add(const uint8_t *dst, const uint8_t *src, uint16_t tpid, uint16_t vid,
    uint16_t type, const char *mark)
{
	uint8_t	 f[64];
	size_t	 n = 12;

	memset(f, 0, sizeof(f));
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (tpid != 0) {
		put_be16(f + n, tpid);
		put_be16(f + n + 2, vid);
		n += 4;
	}
	put_be16(f + n, type);
	n += 2;
	memcpy(f + n, mark, strlen(mark));
	if (!batch_add(&ev.batch, f, 60))
		fatalx("evil: batch full");
}

static void
round_proxy(void)
{
	add(bcast, router, 0, 0, 0x0806, "src_unauthorized");
	add(bcast, bcast, 0, 0, 0x0806, "src_invalid");
	add(bcast, ev.vm, 0x8100, 10, 0x0806, "vlan");
	add(bcast, ev.vm, 0x88a8, 10, 0x0806, "vlan");
	add(stp, ev.vm, 0, 0, 0x0026, "reserved_dst");
	add(pause_, ev.vm, 0, 0, 0x8808, "reserved_dst");
	add(bcast, ev.vm, 0, 0, ETYPE_EXP, EVIL_MARK);
}

static void
round_host(void)
{
	add(bcast, ev.vm, 0, 0, 0x0806, "src_served");
	add(tenant, router, 0, 0, 0x0800, "dst_unserved");
	add(ev.vm, bcast, 0, 0, 0x0800, "src_invalid");
	add(ev.vm, router, 0x8100, 10, 0x0800, "vlan");
	add(stp, router, 0, 0, 0x0026, "reserved_dst");
	add(ev.vm, router, 0, 0, ETYPE_EXP, EVIL_MARK);
}

static void
evil_open(void *arg)
{
	const struct worker_fds	*fds = privsep_worker_fds(SANDBOX_CRYPT);

	(void)arg;
	if (ring_attach(&ev.ring, fds->ring_out, fds->bell_out, 1) == -1)
		fatal("evil: ring");
	ring_batch_start(&ev.ring, &ev.batch, fallback);
	if (ev.conf.role == CONF_ROLE_HOST && ev.conf.nvms > 0)
		ev.vm = ev.conf.vms[0];
	else if (ev.conf.nhosts > 0 && ev.conf.hosts[0].nmacs > 0)
		ev.vm = ev.conf.hosts[0].macs[0];
	else
		fatalx("evil: no MAC in the configuration");
}

static const struct worker_role evil_role = { .sandbox = SANDBOX_CRYPT,
    .ctl = &evil_ctl, .nofile = 16, .open = evil_open };

/* Answer the monitor (an empty report) for ms milliseconds. */
static int
serve(int ms)
{
	struct pollfd	 pfd = { .fd = FD_MONITOR, .events = POLLIN };

	if (poll(&pfd, 1, ms) == -1 && errno != EINTR)
		fatal("evil: poll");
	if (pfd.revents && worker_ctl(NULL, 0, NULL) == -1)
		return -1;
	return worker_quit ? -1 : 0;
}

/* The rounds; -1 when it is time to go. */
static int
evil_rounds(void)
{
	int	 i;

	for (i = 0; i < EVIL_ROUNDS; i++) {
		if (ev.conf.role == CONF_ROLE_HOST)
			round_host();
		else
			round_proxy();
		if (ring_send_batch(&ev.ring, &ev.batch) == -1)
			log_warnx("event=evil_ring_full round=%d", i);
		if (serve(EVIL_GAP_MS) == -1)
			return -1;
	}
	log_info("event=evil_done rounds=%d", EVIL_ROUNDS);
	return 0;
}

int
main(int argc, char *argv[])
{
	worker_init(argc, argv, "evil-crypt");
	worker_start(&evil_role, &ev.conf, &ev);
	if (evil_rounds() == -1)
		return 0;
	while (serve(-1) == 0) {
		if (!ev.again)
			continue;
		ev.again = 0;
		if (serve(EVIL_RELOAD_MS) == -1 || evil_rounds() == -1)
			break;
	}
	return 0;
}

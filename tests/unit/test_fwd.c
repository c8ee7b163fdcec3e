/* SPDX-License-Identifier: ISC */
/*
 * The forwarding decision (lib/fwd.c): one test per rule of
 * doc/ARCHITECTURE.md's "Forwarding", "Aging, moves and limits" and
 * "Loop rules", for the proxy and for the host.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lib/fwd.h"
#include "lib/macset.h"

/* Forwarding only compares links; the test's own are just names. */
struct link {
	const char	*name;
};

#define NBIG	70		/* more MACs than one second's move budget */
#define T0	1000000		/* a clock well past zero */

static const uint8_t A1[6] = { 0x02, 0, 0, 0, 0x0a, 0x01 };
static const uint8_t A2[6] = { 0x02, 0, 0, 0, 0x0a, 0x02 };
static const uint8_t B1[6] = { 0x02, 0, 0, 0, 0x0b, 0x01 };
static const uint8_t C1[6] = { 0x02, 0, 0, 0, 0x0d, 0x01 };
static const uint8_t M[6] = { 0x02, 0, 0, 0, 0x0c, 0x01 };	/* A and B */
static const uint8_t G[6] = { 0x03, 0, 0, 0, 0, 0x01 };	/* group, listed */
static const uint8_t LAN1[6] = { 0x02, 0, 0, 0, 0x99, 0x01 };
static const uint8_t LAN2[6] = { 0x02, 0, 0, 0, 0x99, 0x02 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST6[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };

/* The proxy: hosts a (A1 A2 M G), b (B1 M), c (C1), d (NBIG MACs). */
static struct {
	conf_mac		 amac[4], bmac[2], cmac[1], dmac[NBIG];
	struct conf_host	 a, b, c, d;
	conf_mac		 macs[4 + 2 + 1 + NBIG];
	struct fwd_entry	 e[4 + 2 + 1 + NBIG];
	struct fwd_table	 t;
	struct link		 la, lb, lc, ld;
	struct ratelim		 ra, rb, rc, rd;
	struct fwd_src		 sa, sb, sc, sd;
} P;

/* The host: VMs V1 V2, one link to the proxy. */
static const uint8_t V1[6] = { 0x52, 0x54, 0, 0, 0, 0x01 };
static const uint8_t V2[6] = { 0x52, 0x54, 0, 0, 0, 0x02 };
static struct {
	conf_mac		 macs[2];
	struct fwd_entry	 e[2];
	struct fwd_table	 t;
	struct link		 lp;
	struct ratelim		 rp;
	struct fwd_src		 sp;
} H;

static void
host_block(struct conf_host *h, const char *name, conf_mac *macs, size_t n)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->name, name);
	h->macs = macs;
	h->nmacs = n;
}

static void
link_of(struct fwd_src *s, struct link *l, const char *name,
    const struct conf_host *h, struct ratelim *r)
{
	l->name = name;
	ratelim_init(r, FWD_MOVES_PER_SEC, 1000);
	s->link = l;
	s->host = h;
	s->moves = r;
}

static size_t
table_add(size_t n, const conf_mac *macs, size_t k)
{
	memcpy(P.macs[n], macs, k * sizeof(conf_mac));
	return n + k;
}

/* Built as crypt's fwd_init builds it: the union of the host blocks. */
static int
setup_proxy(void **state)
{
	size_t	 i, n = 0;

	(void)state;
	memset(&P, 0, sizeof(P));
	memcpy(P.amac[0], A1, 6);
	memcpy(P.amac[1], A2, 6);
	memcpy(P.amac[2], M, 6);
	memcpy(P.amac[3], G, 6);
	memcpy(P.bmac[0], B1, 6);
	memcpy(P.bmac[1], M, 6);
	memcpy(P.cmac[0], C1, 6);
	for (i = 0; i < NBIG; i++) {
		uint8_t d[6] = { 0x02, 0, 0, 0, 0xee, (uint8_t)i };

		memcpy(P.dmac[i], d, 6);
	}
	host_block(&P.a, "a", P.amac, 4);
	host_block(&P.b, "b", P.bmac, 2);
	host_block(&P.c, "c", P.cmac, 1);
	host_block(&P.d, "d", P.dmac, NBIG);
	n = table_add(n, P.amac, 4);
	n = table_add(n, P.bmac, 2);
	n = table_add(n, P.cmac, 1);
	n = table_add(n, P.dmac, NBIG);
	P.t.role = CONF_ROLE_PROXY;
	P.t.macs = P.macs;
	P.t.e = P.e;
	P.t.n = macset_build(P.macs, n);
	assert_int_equal(P.t.n, n - 1);		/* M is listed twice */
	link_of(&P.sa, &P.la, "a", &P.a, &P.ra);
	link_of(&P.sb, &P.lb, "b", &P.b, &P.rb);
	link_of(&P.sc, &P.lc, "c", &P.c, &P.rc);
	link_of(&P.sd, &P.ld, "d", &P.d, &P.rd);
	return 0;
}

static int
setup_host(void **state)
{
	(void)state;
	memset(&H, 0, sizeof(H));
	memcpy(H.macs[0], V2, 6);
	memcpy(H.macs[1], V1, 6);
	H.t.role = CONF_ROLE_HOST;
	H.t.macs = H.macs;
	H.t.e = H.e;
	H.t.n = macset_build(H.macs, 2);
	link_of(&H.sp, &H.lp, "proxy", NULL, &H.rp);
	return 0;
}

static struct fwd_entry *
entry(const uint8_t *mac)
{
	ssize_t	 i = macset_find(P.t.macs, P.t.n, mac);

	assert_true(i >= 0);
	return &P.e[i];
}

static struct fwd_verdict
from_lan(const uint8_t *dst, const uint8_t *src)
{
	return fwd_decide_capture(&P.t, dst, src);
}

static struct fwd_verdict
from(const struct fwd_src *s, const uint8_t *dst, const uint8_t *src,
    uint64_t now)
{
	return fwd_decide_link(&P.t, s, dst, src, now);
}

/* The VM was seen on s's link: a frame of its own, to the LAN. */
static void
seen_on(const struct fwd_src *s, const uint8_t *vm, uint64_t now)
{
	struct fwd_verdict v = from(s, LAN1, vm, now);

	assert_int_equal(v.drop, FWD_PASS);
	assert_ptr_equal(entry(vm)->link, s->link);
}

static int
floods(const struct fwd_verdict *v, const struct fwd_src *s,
    const uint8_t *dst)
{
	return fwd_floods_to(v, s->link, s->host, dst);
}

static void
assert_dropped(const struct fwd_verdict *v, enum fwd_drop why)
{
	assert_int_equal(v->drop, why);
	assert_int_equal(v->to, 0);
}

static void
assert_sent(const struct fwd_verdict *v, unsigned to)
{
	assert_int_equal(v->drop, FWD_PASS);
	assert_int_equal(v->to, to);
}

/* Proxy, from the LAN: group frames go to every link. */
static void
test_lan_group_floods_every_link(void **state)
{
	const uint8_t		*dsts[] = { BCAST, MCAST6 };
	struct fwd_verdict	 v;
	size_t			 i;

	(void)state;
	for (i = 0; i < 2; i++) {
		v = from_lan(dsts[i], LAN1);
		assert_sent(&v, FWD_TO_FLOOD);
		assert_null(v.except);
		assert_true(floods(&v, &P.sa, dsts[i]));
		assert_true(floods(&v, &P.sb, dsts[i]));
		assert_true(floods(&v, &P.sc, dsts[i]));
	}
}

/* Proxy, from the LAN: unicast to the link the VM was last seen on. */
static void
test_lan_unicast_to_where_seen(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	seen_on(&P.sb, M, T0);
	v = from_lan(M, LAN1);
	assert_sent(&v, FWD_TO_LINK);
	assert_ptr_equal(v.link, &P.lb);
	assert_false(floods(&v, &P.sa, M));
}

/* Not seen yet: every link whose host may carry it, and only those. */
static void
test_lan_unicast_unseen_floods_its_hosts(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = from_lan(M, LAN1);
	assert_sent(&v, FWD_TO_FLOOD);
	assert_true(floods(&v, &P.sa, M));
	assert_true(floods(&v, &P.sb, M));
	assert_false(floods(&v, &P.sc, M));
	v = from_lan(A1, LAN1);
	assert_sent(&v, FWD_TO_FLOOD);
	assert_true(floods(&v, &P.sa, A1));
	assert_false(floods(&v, &P.sb, A1));
}

/* The proxy captures only for served VMs; anything else is no one's. */
static void
test_lan_unicast_to_no_vm_dropped(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = from_lan(LAN2, LAN1);
	assert_dropped(&v, FWD_DROP_BAD_DST);
}

/* Loop rule: a frame from a served VM on the LAN came from a link. */
static void
test_lan_from_served_vm_is_a_loop(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = from_lan(BCAST, A1);
	assert_dropped(&v, FWD_DROP_LOOP);
	v = from_lan(LAN1, M);
	assert_dropped(&v, FWD_DROP_LOOP);
	seen_on(&P.sb, B1, T0);
	v = from_lan(B1, A2);
	assert_dropped(&v, FWD_DROP_LOOP);
}

/* From a link, group frames: the LAN and every other link, never back. */
static void
test_link_group_to_lan_and_other_links(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = from(&P.sa, BCAST, A1, T0);
	assert_sent(&v, FWD_TO_INJECT | FWD_TO_FLOOD);
	assert_ptr_equal(v.except, &P.la);
	assert_false(floods(&v, &P.sa, BCAST));
	assert_true(floods(&v, &P.sb, BCAST));
	assert_true(floods(&v, &P.sc, BCAST));
}

/* VM to VM on another link: link to link, not through the LAN. */
static void
test_link_unicast_to_vm_elsewhere(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	seen_on(&P.sb, B1, T0);
	v = from(&P.sa, B1, A1, T0 + 1);
	assert_sent(&v, FWD_TO_LINK);
	assert_ptr_equal(v.link, &P.lb);
}

/* Loop rule: to a VM seen on the same link (its bridge delivered it). */
static void
test_link_unicast_same_link_is_a_loop(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	seen_on(&P.sa, A2, T0);
	v = from(&P.sa, A2, A1, T0 + 1);
	assert_dropped(&v, FWD_DROP_LOOP);
	/* The sender was still learned. */
	assert_ptr_equal(entry(A1)->link, &P.la);
}

/* To a VM not seen yet: the other links whose hosts may carry it. */
static void
test_link_unicast_unseen_vm_floods_others(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = from(&P.sa, M, A1, T0);
	assert_sent(&v, FWD_TO_FLOOD);
	assert_ptr_equal(v.except, &P.la);
	assert_false(floods(&v, &P.sa, M));	/* never back */
	assert_true(floods(&v, &P.sb, M));
	assert_false(floods(&v, &P.sc, M));	/* c may not carry M */
}

/* Everything else from a link goes to the LAN, and only there. */
static void
test_link_unicast_to_lan(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = from(&P.sa, LAN1, A1, T0);
	assert_sent(&v, FWD_TO_INJECT);
	assert_false(floods(&v, &P.sb, LAN1));
}

/*
 * A source the link's host block does not list is dropped: it neither
 * enters the table nor takes another host's entry.
 */
static void
test_link_unauthorized_source(void **state)
{
	struct fwd_verdict	 v;
	size_t			 i;

	(void)state;
	seen_on(&P.sb, B1, T0);
	v = from(&P.sa, BCAST, B1, T0 + 1);		/* b's VM */
	assert_dropped(&v, FWD_DROP_UNAUTHORIZED);
	assert_ptr_equal(entry(B1)->link, &P.lb);
	assert_int_equal(entry(B1)->seen_ms, T0);
	v = from(&P.sa, BCAST, LAN1, T0 + 1);		/* nobody's */
	assert_dropped(&v, FWD_DROP_UNAUTHORIZED);
	v = from(&P.sc, LAN1, A1, T0 + 1);		/* a's VM */
	assert_dropped(&v, FWD_DROP_UNAUTHORIZED);
	assert_null(entry(A1)->link);
	/* A group source, even one its block lists, is nobody's. */
	v = from(&P.sa, LAN1, G, T0 + 1);
	assert_dropped(&v, FWD_DROP_UNAUTHORIZED);
	assert_null(entry(G)->link);
	for (i = 0; i < P.t.n; i++)
		assert_true(P.e[i].link == NULL || P.e[i].link == &P.lb);
}

/* An entry records the link, when it was last seen, and no move yet. */
static void
test_learn_records_link_and_time(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = from(&P.sa, LAN1, A1, T0);
	assert_null(v.moved_from);
	assert_ptr_equal(entry(A1)->link, &P.la);
	assert_int_equal(entry(A1)->seen_ms, T0);
	assert_int_equal(entry(A1)->moved_ms, 0);
	v = from(&P.sa, LAN1, A1, T0 + 500);
	assert_null(v.moved_from);
	assert_int_equal(entry(A1)->seen_ms, T0 + 500);
}

/* A move (migration) takes effect at once and records its time. */
static void
test_move(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	seen_on(&P.sa, M, T0);
	v = from(&P.sb, BCAST, M, T0 + 10);
	assert_sent(&v, FWD_TO_INJECT | FWD_TO_FLOOD);
	assert_ptr_equal(v.moved_from, &P.la);
	assert_ptr_equal(entry(M)->link, &P.lb);
	assert_int_equal(entry(M)->moved_ms, T0 + 10);
	assert_int_equal(entry(M)->seen_ms, T0 + 10);
	/* Frames for it now follow it. */
	v = from_lan(M, LAN1);
	assert_ptr_equal(v.link, &P.lb);
	/* Its next frame on the new link is no move. */
	v = from(&P.sb, BCAST, M, T0 + 20);
	assert_null(v.moved_from);
	assert_int_equal(entry(M)->moved_ms, T0 + 10);
}

/* One link takes over at most 64 entries a second; the rest wait. */
static void
test_move_limit(void **state)
{
	struct fwd_verdict	 v;
	size_t			 i;

	(void)state;
	for (i = 0; i < 64; i++) {
		v = from(&P.sd, LAN1, P.dmac[i], T0);
		assert_int_equal(v.drop, FWD_PASS);
	}
	v = from(&P.sd, LAN1, P.dmac[64], T0 + 999);
	assert_dropped(&v, FWD_DROP_MOVE_LIMIT);
	assert_null(entry(P.dmac[64])->link);
	/* Entries it already has cost nothing. */
	v = from(&P.sd, LAN1, P.dmac[0], T0 + 999);
	assert_sent(&v, FWD_TO_INJECT);
	/* Another link's budget is its own. */
	v = from(&P.sa, LAN1, A1, T0 + 999);
	assert_int_equal(v.drop, FWD_PASS);
	/* A second later there is room again. */
	v = from(&P.sd, LAN1, P.dmac[64], T0 + 1000);
	assert_sent(&v, FWD_TO_INJECT);
	assert_ptr_equal(entry(P.dmac[64])->link, &P.ld);
}

/* Moves spend the budget too: two links fighting over M soon stop. */
static void
test_move_limit_counts_moves(void **state)
{
	struct fwd_verdict	 v;
	uint64_t		 i;

	(void)state;
	for (i = 0; i < 64; i++) {
		v = from(&P.sa, LAN1, M, T0 + i);
		assert_int_equal(v.drop, FWD_PASS);
		v = from(&P.sb, LAN1, M, T0 + i);
		assert_int_equal(v.drop, FWD_PASS);
		assert_ptr_equal(v.moved_from, &P.la);
	}
	v = from(&P.sa, LAN1, M, T0 + 64);
	assert_dropped(&v, FWD_DROP_MOVE_LIMIT);
	assert_null(v.moved_from);
	assert_ptr_equal(entry(M)->link, &P.lb);
}

/* Silent for 5 minutes: forgotten, and frames for it flood again. */
static void
test_aging(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	assert_int_equal(FWD_AGE_MS, 5 * 60 * 1000);
	seen_on(&P.sa, A1, T0);
	seen_on(&P.sb, B1, T0 + 1000);
	assert_int_equal(fwd_expire(&P.t, T0 + FWD_AGE_MS), 0);
	assert_ptr_equal(entry(A1)->link, &P.la);
	assert_int_equal(fwd_expire(&P.t, T0 + FWD_AGE_MS + 1), 1);
	assert_null(entry(A1)->link);
	assert_ptr_equal(entry(B1)->link, &P.lb);	/* still fresh */
	assert_int_equal(fwd_expire(&P.t, T0 + FWD_AGE_MS + 1), 0);
	v = from_lan(A1, LAN1);
	assert_sent(&v, FWD_TO_FLOOD);
	assert_true(floods(&v, &P.sa, A1));
	/* Heard again: back in the table, without counting as a move. */
	v = from(&P.sa, LAN1, A1, T0 + FWD_AGE_MS + 2);
	assert_null(v.moved_from);
	assert_ptr_equal(entry(A1)->link, &P.la);
}

/* A link gone takes its entries with it, and only its own. */
static void
test_link_gone(void **state)
{
	(void)state;
	seen_on(&P.sa, A1, T0);
	seen_on(&P.sb, B1, T0);
	fwd_forget(&P.t, &P.la);
	assert_null(entry(A1)->link);
	assert_ptr_equal(entry(B1)->link, &P.lb);
}

/* A verdict that is no flood floods nowhere. */
static void
test_no_flood_unless_told(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = from(&P.sa, LAN1, A1, T0);
	assert_false(floods(&v, &P.sb, BCAST));
	v = from_lan(LAN2, LAN1);
	assert_false(floods(&v, &P.sa, A1));
}

/* Host, from capture: what a served VM sends goes to the proxy. */
static void
test_host_capture(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = fwd_decide_capture(&H.t, LAN1, V1);
	assert_sent(&v, FWD_TO_UPLINK);
	v = fwd_decide_capture(&H.t, BCAST, V2);
	assert_sent(&v, FWD_TO_UPLINK);
	/* Not from a served VM: not ours to carry. */
	v = fwd_decide_capture(&H.t, V1, LAN1);
	assert_dropped(&v, FWD_DROP_SRC_UNKNOWN);
}

/* Host, from the proxy: to its VMs or a group address, nothing else. */
static void
test_host_link_destinations(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = fwd_decide_link(&H.t, &H.sp, V1, LAN1, T0);
	assert_sent(&v, FWD_TO_INJECT);
	v = fwd_decide_link(&H.t, &H.sp, BCAST, LAN1, T0);
	assert_sent(&v, FWD_TO_INJECT);
	v = fwd_decide_link(&H.t, &H.sp, MCAST6, LAN1, T0);
	assert_sent(&v, FWD_TO_INJECT);
	v = fwd_decide_link(&H.t, &H.sp, LAN2, LAN1, T0);
	assert_dropped(&v, FWD_DROP_BAD_DST);
	/* The host learns nothing: its table is its VMs, on no link. */
	assert_null(H.e[0].link);
	assert_null(H.e[1].link);
}

/* Loop rule: never a frame claiming to come from one of its VMs. */
static void
test_host_link_from_own_vm_is_a_loop(void **state)
{
	struct fwd_verdict	 v;

	(void)state;
	v = fwd_decide_link(&H.t, &H.sp, V2, V1, T0);
	assert_dropped(&v, FWD_DROP_LOOP);
	v = fwd_decide_link(&H.t, &H.sp, BCAST, V2, T0);
	assert_dropped(&v, FWD_DROP_LOOP);
}

#define PROXY_TEST(f)	cmocka_unit_test_setup(f, setup_proxy)
#define HOST_TEST(f)	cmocka_unit_test_setup(f, setup_host)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PROXY_TEST(test_lan_group_floods_every_link),
		PROXY_TEST(test_lan_unicast_to_where_seen),
		PROXY_TEST(test_lan_unicast_unseen_floods_its_hosts),
		PROXY_TEST(test_lan_unicast_to_no_vm_dropped),
		PROXY_TEST(test_lan_from_served_vm_is_a_loop),
		PROXY_TEST(test_link_group_to_lan_and_other_links),
		PROXY_TEST(test_link_unicast_to_vm_elsewhere),
		PROXY_TEST(test_link_unicast_same_link_is_a_loop),
		PROXY_TEST(test_link_unicast_unseen_vm_floods_others),
		PROXY_TEST(test_link_unicast_to_lan),
		PROXY_TEST(test_link_unauthorized_source),
		PROXY_TEST(test_learn_records_link_and_time),
		PROXY_TEST(test_move),
		PROXY_TEST(test_move_limit),
		PROXY_TEST(test_move_limit_counts_moves),
		PROXY_TEST(test_aging),
		PROXY_TEST(test_link_gone),
		PROXY_TEST(test_no_flood_unless_told),
		HOST_TEST(test_host_capture),
		HOST_TEST(test_host_link_destinations),
		HOST_TEST(test_host_link_from_own_vm_is_a_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * The layer-2 policy (lib/l2pol.c): hygiene on both sides, and inject's
 * rules for the proxy and for the host, each as doc/ARCHITECTURE.md
 * states it ("Layer-2 policy").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/l2pol.h"

#define HOST_CONF	"role host\ninterface br0\ncertificate /c\nkey /k\n" \
			"ca /a\nconnect p\npeer-name p\nvm 52:54:00:00:00:01\n" \
			"vm 52:54:00:00:00:02\n"
#define PROXY_CONF	"role proxy\ninterface eth0\ncertificate /c\nkey /k\n" \
			"ca /a\nlisten 0.0.0.0\n" \
			"host a {\nmac 52:54:00:00:00:01\n}\n" \
			"host b {\nmac 52:54:00:00:00:02\nmac 02:00:00:00:00:0b\n}\n"

static const uint8_t V1[6] = { 0x52, 0x54, 0, 0, 0, 0x01 };
static const uint8_t V2[6] = { 0x52, 0x54, 0, 0, 0, 0x02 };
static const uint8_t B2[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t LAN[6] = { 0x52, 0x54, 0, 0xcc, 0, 0x10 };
static const uint8_t ROUTER[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST6[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };
static const uint8_t ZERO[6];
static const uint8_t GRP[6] = { 0x03, 0, 0, 0, 0, 0x01 };
static const uint8_t STP[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x00 };
static const uint8_t PAUSE[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x01 };
static const uint8_t LACP[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x02 };
static const uint8_t DOT1X[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x03 };
static const uint8_t RES0F[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x0f };
static const uint8_t NOTRES[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x10 };
static const uint8_t LLDPLIKE[6] = { 0x01, 0x80, 0xc2, 0, 0x01, 0x00 };

static uint8_t	 fb[64];

/* A 60-byte frame dst, src, type (and tags as given). */
static size_t
frame(const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memset(fb, 0, sizeof(fb));
	memcpy(fb, dst, 6);
	memcpy(fb + 6, src, 6);
	fb[12] = (uint8_t)(type >> 8);
	fb[13] = (uint8_t)type;
	return 60;
}

/* Put a tag (tpid, vid) at offset 12, pushing what followed. */
static void
tag(uint16_t tpid, uint16_t vid)
{
	memmove(fb + 16, fb + 12, sizeof(fb) - 16);
	fb[12] = (uint8_t)(tpid >> 8);
	fb[13] = (uint8_t)tpid;
	fb[14] = (uint8_t)(0xe0 | (vid >> 8));	/* PCP 7, never the VID */
	fb[15] = (uint8_t)vid;
}

static void
pol(const char *text, struct l2pol *p)
{
	struct conf	 c;

	assert_int_equal(conf_parse(text, strlen(text), &c, NULL), 0);
	assert_int_equal(l2pol_build(p, &c), 0);
	conf_free(&c);
}

static void
test_reserved(void **state)
{
	struct l2pol	 p;
	size_t		 n;

	(void)state;
	pol(HOST_CONF, &p);
	n = frame(STP, LAN, 0x0026);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_RESERVED);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_RESERVED);
	n = frame(PAUSE, LAN, 0x8808);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_RESERVED);
	n = frame(LACP, LAN, 0x8809);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_RESERVED);
	n = frame(DOT1X, LAN, 0x888e);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_RESERVED);
	n = frame(RES0F, LAN, 0x0800);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_RESERVED);
	/* Just outside the block: ordinary multicast. */
	n = frame(NOTRES, LAN, 0x0800);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_PASS);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_PASS);
	n = frame(LLDPLIKE, LAN, 0x0800);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_PASS);
	/* Tagged or not, reserved is reserved. */
	n = frame(STP, LAN, 0x0026);
	tag(0x8100, 10);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_RESERVED);
	l2pol_free(&p);
}

static void
test_vlan_default_drops(void **state)
{
	static const uint16_t	 tpids[] = { 0x8100, 0x88a8, 0x9100 };
	struct l2pol		 p;
	size_t			 i, n;

	(void)state;
	pol(PROXY_CONF, &p);
	for (i = 0; i < sizeof(tpids) / sizeof(tpids[0]); i++) {
		n = frame(BCAST, V1, 0x0806);
		tag(tpids[i], 10);
		assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_VLAN);
		assert_int_equal(l2pol_inject(&p, fb, n), L2POL_VLAN);
		/* A priority tag (VID 0) is a tag too. */
		n = frame(BCAST, V1, 0x0806);
		tag(tpids[i], 0);
		assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_VLAN);
	}
	/* Untagged: passes. */
	n = frame(BCAST, V1, 0x0806);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_PASS);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_PASS);
	/* A tag cut short is no frame to pass. */
	n = frame(BCAST, V1, 0x8100);
	assert_int_equal(l2pol_hygiene(&p, fb, 15), L2POL_SHORT);
	assert_int_equal(l2pol_hygiene(&p, fb, 13), L2POL_SHORT);
	l2pol_free(&p);
}

static void
test_vlan_allow(void **state)
{
	struct l2pol	 p;
	size_t		 n;

	(void)state;
	pol(PROXY_CONF "vlan-allow 10 20 0\n", &p);
	n = frame(BCAST, V1, 0x0806);
	tag(0x8100, 10);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_PASS);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_PASS);
	n = frame(BCAST, V1, 0x0806);
	tag(0x8100, 20);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_PASS);
	n = frame(BCAST, V1, 0x0806);
	tag(0x8100, 0);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_PASS);
	n = frame(BCAST, V1, 0x0806);
	tag(0x8100, 11);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_VLAN);
	n = frame(BCAST, V1, 0x0806);
	tag(0x8100, 4095);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_VLAN);
	/* Listed VIDs in service tags, or stacked: never. */
	n = frame(BCAST, V1, 0x0806);
	tag(0x88a8, 10);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_VLAN);
	n = frame(BCAST, V1, 0x0806);
	tag(0x9100, 10);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_VLAN);
	n = frame(BCAST, V1, 0x0806);
	tag(0x8100, 20);
	tag(0x8100, 10);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_VLAN);
	n = frame(BCAST, V1, 0x0806);
	tag(0x8100, 20);
	tag(0x88a8, 10);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_VLAN);
	n = frame(BCAST, V1, 0x0806);
	tag(0x88a8, 20);
	tag(0x8100, 10);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_VLAN);
	/* An allowed tag does not excuse the source. */
	n = frame(BCAST, ROUTER, 0x0806);
	tag(0x8100, 10);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_UNAUTH);
	l2pol_free(&p);
}

static void
test_proxy_sources(void **state)
{
	struct l2pol	 p;
	size_t		 n;

	(void)state;
	pol(PROXY_CONF, &p);
	/* Any host's MAC, to anywhere. */
	n = frame(LAN, V1, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_PASS);
	n = frame(BCAST, V2, 0x0806);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_PASS);
	n = frame(MCAST6, B2, 0x86dd);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_PASS);
	/* The router's, a LAN client's: no host may send from them. */
	n = frame(BCAST, ROUTER, 0x0806);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_UNAUTH);
	n = frame(V1, LAN, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_UNAUTH);
	/* Group and zero sources are no one's. */
	n = frame(LAN, BCAST, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_INVALID);
	n = frame(LAN, GRP, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_INVALID);
	n = frame(LAN, ZERO, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_INVALID);
	/* Hygiene alone does not look at addresses. */
	n = frame(BCAST, ROUTER, 0x0806);
	assert_int_equal(l2pol_hygiene(&p, fb, n), L2POL_PASS);
	l2pol_free(&p);
}

static void
test_host_rules(void **state)
{
	struct l2pol	 p;
	size_t		 n;

	(void)state;
	pol(HOST_CONF, &p);
	/* To a served VM, or to a group address: yes. */
	n = frame(V1, LAN, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_PASS);
	n = frame(V2, ROUTER, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_PASS);
	n = frame(BCAST, LAN, 0x0806);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_PASS);
	n = frame(MCAST6, ROUTER, 0x86dd);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_PASS);
	/* Unicast to anyone else on the bridge (another tenant): no. */
	n = frame(LAN, ROUTER, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_DST_UNSERVED);
	n = frame(B2, V1, 0x0800);	/* and the source is ours, first */
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_SERVED);
	/* Claiming a served VM as source: never, whatever the target. */
	n = frame(BCAST, V1, 0x0806);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_SERVED);
	n = frame(V2, V1, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_SERVED);
	n = frame(V1, ZERO, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_INVALID);
	n = frame(V1, MCAST6, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, n), L2POL_SRC_INVALID);
	n = frame(V1, LAN, 0x0800);
	assert_int_equal(l2pol_inject(&p, fb, 13), L2POL_SHORT);
	l2pol_free(&p);
}

static void
test_counters(void **state)
{
	int		 v, w;
	const char	*a, *b;

	(void)state;
	assert_null(l2pol_counter(L2POL_PASS));
	for (v = 1; v < L2POL_MAX; v++) {
		a = l2pol_counter((enum l2pol_verdict)v);
		assert_non_null(a);
		assert_int_equal(strncmp(a, "drop_", 5), 0);
		assert_true(strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
		    strlen(a));
		for (w = 1; w < v; w++) {
			b = l2pol_counter((enum l2pol_verdict)w);
			assert_string_not_equal(a, b);
		}
	}
	assert_string_equal(l2pol_counter(L2POL_MAX), "drop_unknown");
}

static int
same(const char *a, const char *b)
{
	struct conf	 ca, cb;
	int		 rv;

	assert_int_equal(conf_parse(a, strlen(a), &ca, NULL), 0);
	assert_int_equal(conf_parse(b, strlen(b), &cb, NULL), 0);
	rv = l2pol_conf_same(&ca, &cb);
	conf_free(&ca);
	conf_free(&cb);
	return rv;
}

/* What inject's reload record says (policy=changed or same). */
static void
test_conf_same(void **state)
{
	(void)state;
	assert_true(same(HOST_CONF, HOST_CONF));
	assert_true(same(HOST_CONF, HOST_CONF "keepalive 9\nmtu 1400\n"));
	/* The same set in another order, or spread over other blocks. */
	assert_true(same(HOST_CONF, "role host\ninterface br0\n"
	    "certificate /c\nkey /k\nca /a\nconnect p\npeer-name p\n"
	    "vm 52:54:00:00:00:02\nvm 52:54:00:00:00:01\n"));
	assert_true(same(PROXY_CONF, "role proxy\ninterface eth0\n"
	    "certificate /c\nkey /k\nca /a\nlisten 0.0.0.0\n"
	    "host a {\nmac 52:54:00:00:00:01\nmac 02:00:00:00:00:0b\n}\n"
	    "host b {\nmac 52:54:00:00:00:02\n}\n"));
	assert_false(same(HOST_CONF, HOST_CONF "vm 52:54:00:00:00:03\n"));
	assert_false(same(HOST_CONF, HOST_CONF "vlan-allow 10\n"));
	assert_false(same(HOST_CONF "vlan-allow 10\n",
	    HOST_CONF "vlan-allow 11\n"));
	assert_false(same(PROXY_CONF, PROXY_CONF
	    "host c {\nmac 52:54:00:00:00:0c\n}\n"));
	assert_false(same(HOST_CONF, PROXY_CONF));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_vlan_default_drops),
		cmocka_unit_test(test_vlan_allow),
		cmocka_unit_test(test_proxy_sources),
		cmocka_unit_test(test_host_rules),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_conf_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

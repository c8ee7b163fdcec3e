/* SPDX-License-Identifier: ISC */
/* The proxy's pre-authentication limits: what counts as one source. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/srckey.h"

static struct src_key
key(const char *addr)
{
	struct sockaddr_storage	 ss;
	struct src_key		 k;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s = (void *)&ss;

		s->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &s->sin6_addr), 1);
		s->sin6_port = htons(1234);
	} else {
		struct sockaddr_in *s = (void *)&ss;

		s->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &s->sin_addr), 1);
		s->sin_port = htons(1234);
	}
	src_key(&ss, &k);
	return k;
}

static int
same(const char *a, const char *b)
{
	struct src_key	 ka = key(a), kb = key(b);

	return src_key_equal(&ka, &kb);
}

static void
test_ipv4_per_address(void **state)
{
	(void)state;
	assert_true(same("192.0.2.1", "192.0.2.1"));
	assert_false(same("192.0.2.1", "192.0.2.2"));
	assert_false(same("192.0.2.1", "198.51.100.1"));
}

static void
test_ipv6_per_64(void **state)
{
	(void)state;
	assert_true(same("2001:db8:1:2::1", "2001:db8:1:2::1"));
	assert_true(same("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"));
	assert_true(same("2001:db8:1:2:aaaa::", "2001:db8:1:2:5555::7"));
	/* The next /64, and one bit off in the prefix's last byte. */
	assert_false(same("2001:db8:1:2::1", "2001:db8:1:3::1"));
	assert_false(same("2001:db8:1:2::1", "2001:db8:1:102::1"));
	assert_false(same("2001:db8:1:2::1", "2001:db9:1:2::1"));
	assert_false(same("fe80::1", "2001:db8::1"));
}

/* A dual-stack listener's IPv4 clients do not share ::ffff:0:0/64. */
static void
test_v4mapped_is_ipv4(void **state)
{
	(void)state;
	assert_false(same("::ffff:192.0.2.1", "::ffff:192.0.2.2"));
	assert_true(same("::ffff:192.0.2.1", "192.0.2.1"));
	assert_false(same("::ffff:192.0.2.1", "::1"));
	/* ::192.0.2.1 (IPv4-compatible, obsolete) is an IPv6 /64: ::/64. */
	assert_true(same("::192.0.2.1", "::1"));
}

static void
test_families(void **state)
{
	struct sockaddr_storage	 ss;
	struct src_key		 a, b;

	(void)state;
	assert_false(same("192.0.2.1", "::ffff:c000:201:0:0"));
	/* 192.0.2.1 and 2001:db8:... never match on equal bytes alone. */
	assert_false(same("32.1.13.184", "2001:db8::"));
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	src_key(&ss, &a);
	src_key(&ss, &b);
	assert_int_equal(a.family, 0);
	assert_false(src_key_equal(&a, &b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_per_address),
		cmocka_unit_test(test_ipv6_per_64),
		cmocka_unit_test(test_v4mapped_is_ipv4),
		cmocka_unit_test(test_families),
	};

	return cmocka_run_group_tests_name("srckey", tests, NULL, NULL);
}

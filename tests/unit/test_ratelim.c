/* SPDX-License-Identifier: ISC */
/* The log rate limiter: bursts are cut, and every record is accounted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/ratelim.h"

static void
test_burst(void **state)
{
	struct ratelim	 r;
	uint64_t	 supp = 99, n, logged = 0, reported = 0;
	int		 i;

	(void)state;
	ratelim_init(&r, 3, 1000);
	for (i = 0; i < 100; i++)
		if (ratelim_allow(&r, 5000, &supp)) {
			logged++;
			reported += supp;
		}
	assert_int_equal(logged, 3);
	assert_int_equal(r.suppressed, 97);
	/* Still inside the window: nothing to flush yet. */
	assert_int_equal(ratelim_flush(&r, 5999, &n), 0);
	/* Window over: the tail is reported once. */
	assert_int_equal(ratelim_flush(&r, 6000, &n), 1);
	assert_int_equal(n, 97);
	reported += n;
	assert_int_equal(ratelim_flush(&r, 6001, &n), 0);
	/* Every record either logged or counted in a report. */
	assert_int_equal(logged + reported, 100);
	/* A later record reports none twice. */
	assert_int_equal(ratelim_allow(&r, 7000, &supp), 1);
	assert_int_equal(supp, 0);
	assert_int_equal(r.suppressed_total, 97);
}

static void
test_next_record_reports(void **state)
{
	struct ratelim	 r;
	uint64_t	 supp;

	(void)state;
	ratelim_init(&r, 1, 1000);
	assert_int_equal(ratelim_allow(&r, 0, &supp), 1);
	assert_int_equal(ratelim_allow(&r, 10, &supp), 0);
	assert_int_equal(ratelim_allow(&r, 20, &supp), 0);
	assert_int_equal(ratelim_allow(&r, 1500, &supp), 1);
	assert_int_equal(supp, 2);
	/* A clock that goes back starts a new window, never underflows. */
	assert_int_equal(ratelim_allow(&r, 100, &supp), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_next_record_reports),
	};

	return cmocka_run_group_tests_name("ratelim", tests, NULL, NULL);
}

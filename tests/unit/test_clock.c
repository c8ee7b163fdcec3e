/* SPDX-License-Identifier: ISC */
/* The monitor's millisecond arithmetic on timespecs (monitor/clock.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "monitor/clock.h"

/* Adding carries into seconds and keeps tv_nsec below one second. */
static void
test_add_carries(void **state)
{
	struct timespec	 t = { .tv_sec = 7, .tv_nsec = 999500000L };

	(void)state;
	ts_add_ms(&t, 1);
	assert_int_equal(t.tv_sec, 8);
	assert_int_equal(t.tv_nsec, 500000L);
	ts_add_ms(&t, 30000);			/* restart-max-delay sized */
	assert_int_equal(t.tv_sec, 38);
	assert_int_equal(t.tv_nsec, 500000L);
	ts_add_ms(&t, 2999);
	assert_int_equal(t.tv_sec, 40);
	assert_int_equal(t.tv_nsec, 999500000L);
	ts_add_ms(&t, 0);
	assert_int_equal(t.tv_sec, 40);
}

/* A difference is signed: a deadline passed is negative time left. */
static void
test_diff(void **state)
{
	struct timespec	 a = { .tv_sec = 10, .tv_nsec = 900000000L };
	struct timespec	 b = { .tv_sec = 12, .tv_nsec = 100000000L };

	(void)state;
	assert_int_equal(ts_ms_diff(&a, &b), 1200);
	assert_int_equal(ts_ms_diff(&b, &a), -1200);
	assert_int_equal(ts_ms_diff(&a, &a), 0);
	b = a;
	ts_add_ms(&b, 123456);
	assert_int_equal(ts_ms_diff(&a, &b), 123456);
}

/* A deadline ms ahead is ms away, give or take the time the test takes. */
static void
test_deadline(void **state)
{
	struct timespec	 t;
	long		 since;

	(void)state;
	ts_deadline(&t, 5000);
	since = ts_ms_since(&t);
	assert_true(since <= -4000 && since > -5001);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_carries),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

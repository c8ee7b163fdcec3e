/* SPDX-License-Identifier: ISC */
/* The control socket's request parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/ctlreq.h"

static int
parse(const char *s, struct ctl_req *r)
{
	const char	*why = NULL;
	size_t		 n = strlen(s);
	char		*copy = malloc(n ? n : 1);	/* exact size, no NUL */
	int		 rv;

	assert_non_null(copy);
	memcpy(copy, s, n);
	rv = ctlreq_parse(copy, n, r, &why);
	free(copy);
	if (rv == -1)
		assert_non_null(why);
	return rv;
}

static void
test_valid(void **state)
{
	struct ctl_req	 r;

	(void)state;
	assert_int_equal(parse("status\n", &r), 0);
	assert_int_equal(r.cmd, CTL_STATUS);
	assert_int_equal(r.json, 0);
	assert_int_equal(parse("links json\n", &r), 0);
	assert_int_equal(r.cmd, CTL_LINKS);
	assert_int_equal(r.json, 1);
	assert_int_equal(parse("macs\n", &r), 0);
	assert_int_equal(r.cmd, CTL_MACS);
	assert_int_equal(parse("stats json\n", &r), 0);
	assert_int_equal(r.cmd, CTL_STATS);
	assert_int_equal(parse("reload\n", &r), 0);
	assert_int_equal(r.cmd, CTL_RELOAD);
	assert_string_equal(ctlreq_name(CTL_MACS), "macs");
}

static void
test_invalid(void **state)
{
	static const char *const bad[] = {
		"", "\n", "status", "Status\n", "status \n", "status json \n",
		"status JSON\n", "status jsonx\n", "stat\n", "statusx\n",
		"status\n\n", "status\nlinks\n", " status\n", "status  json\n",
		"reload json json\n", "status\r\n", "links xml\n",
		"status json\0\n",
	};
	struct ctl_req	 r;
	char		 big[CTLREQ_MAX + 2];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(r.cmd, CTL_NONE);
	}
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	{
		const char *why;

		assert_int_equal(ctlreq_parse(big, sizeof(big), &r, &why), -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests_name("ctlreq", tests, NULL, NULL);
}

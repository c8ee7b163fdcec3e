/* SPDX-License-Identifier: ISC */
/*
 * The one rule for outside text in a log record (lib/logsafe.h), and
 * the monitor's check of crypt's report fields, which must accept
 * exactly what the rule writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lib/logsafe.h"
#include "privsep/msg.h"

/* The rule, restated byte by byte from lib/logsafe.h. */
static char
expect(unsigned char c)
{
	if (c == '"')
		return '\'';
	if (c == '\\' || c < 0x20 || c > 0x7e)
		return '?';
	return (char)c;
}

/* Every byte value, inside a value: kept, quote to apostrophe, or '?'. */
static void
test_every_byte(void **state)
{
	char	 s[4];
	int	 c;

	(void)state;
	for (c = 1; c < 256; c++) {
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'b';
		s[3] = '\0';
		assert_ptr_equal(logsafe(s), s);
		assert_int_equal(s[0], 'a');
		assert_int_equal((unsigned char)s[1], (unsigned char)expect(c));
		assert_int_equal(s[2], 'b');
		assert_int_equal(s[3], '\0');
	}
}

/* A reason put inside a quoted audit field cannot end it or break the line. */
static void
test_quoted_reason(void **state)
{
	char	 s[] = "a \"b\"\nc\td\x7f\xc3\xa9 'e'";
	char	 t[] = "unknown \"x\" at C:\\dir\\ end\\";

	(void)state;
	assert_ptr_equal(logsafe(s), s);
	assert_string_equal(s, "a 'b'?c?d??? 'e'");
	/* No backslash is left to escape the closing quote. */
	assert_string_equal(logsafe(t), "unknown 'x' at C:?dir? end?");
}

/* Into a fixed field: bounded, NUL-terminated and NUL-padded. */
static void
test_copy_field(void **state)
{
	char	 f[8];

	(void)state;
	memset(f, 'Z', sizeof(f));
	assert_int_equal(logsafe_copy(f, sizeof(f), "a\"b"), 3);
	assert_memory_equal(f, "a'b\0\0\0\0\0", sizeof(f));
	memset(f, 'Z', sizeof(f));
	assert_int_equal(logsafe_copy(f, sizeof(f), "0123456789"), 7);
	assert_memory_equal(f, "0123456\0", sizeof(f));
	memset(f, 'Z', sizeof(f));
	assert_int_equal(logsafe_copy(f, 1, "abc"), 0);
	assert_int_equal(f[0], '\0');
	assert_int_equal(f[1], 'Z');
	assert_int_equal(logsafe_copy(f, 0, "abc"), 0);
	assert_int_equal(f[0], '\0');
	/* in place, as logsafe() does it */
	strcpy(f, "x\\y\x01");
	assert_int_equal(logsafe_copy(f, sizeof(f), f), 4);
	assert_string_equal(f, "x?y?");
}

/* A worker's whole record keeps its own quotes; the line is still one. */
static void
test_line(void **state)
{
	char	 s[] = "event=x reason=\"a\\b\" c\td\x7f\xff";

	(void)state;
	assert_ptr_equal(logsafe_line(s), s);
	assert_string_equal(s, "event=x reason=\"a\\b\" c?d??");
}

/* The check accepts a field holding byte c exactly when the rule keeps c. */
static void
test_field_ok_every_byte(void **state)
{
	char	 f[4];
	int	 c;

	(void)state;
	for (c = 1; c < 256; c++) {
		memset(f, 0, sizeof(f));
		f[0] = 'a';
		f[1] = (char)c;
		assert_int_equal(logsafe_field_ok(f, sizeof(f)),
		    expect(c) == (char)c);
	}
}

static void
test_field_ok_frame(void **state)
{
	char	 f[4];

	(void)state;
	memset(f, 0, sizeof(f));
	assert_int_equal(logsafe_field_ok(f, sizeof(f)), 1);	/* empty */
	memcpy(f, "abcd", 4);					/* no NUL */
	assert_int_equal(logsafe_field_ok(f, sizeof(f)), 0);
	memcpy(f, "a\0b\0", 4);				/* not padded */
	assert_int_equal(logsafe_field_ok(f, sizeof(f)), 0);
	assert_int_equal(logsafe_field_ok(f, 0), 0);
}

/* Whatever goes in, what logsafe_copy() writes passes the check. */
static void
test_copy_then_check(void **state)
{
	char		 src[64], f[16], again[16];
	uint32_t	 x = 2463534242u;
	size_t		 i, len, round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		len = round % sizeof(src);
		for (i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			src[i] = (char)(x % 255 + 1);
		}
		src[len] = '\0';
		logsafe_copy(f, sizeof(f), src);
		assert_true(logsafe_field_ok(f, sizeof(f)));
		/* and the rule changes nothing it wrote */
		logsafe_copy(again, sizeof(again), f);
		assert_memory_equal(again, f, sizeof(f));
	}
}

static uint8_t	 buf[MSG_HDR_LEN + 4 + sizeof(struct msg_link)];

/*
 * 1 when the monitor accepts a MSG_LINKS report of this one link; 0
 * when it refuses it, which must be for its payload (the header and
 * length are right). The only place this test calls msg_decode().
 */
static int
links_accepted(const struct msg_link *lk)
{
	static const struct msg_rule	 rows[] = { { MSG_LINKS, NULL } };
	static const struct msg_table	 tab = MSG_TABLE(rows, NULL);
	struct msg_hdr	 h = { .type = MSG_LINKS, .len = 4 + sizeof(*lk) };
	struct msg_chan	 c;
	struct msg	 m;
	enum msg_err	 why = MSG_E_MAX;
	uint32_t	 total = 1;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + MSG_HDR_LEN, &total, sizeof(total));
	memcpy(buf + MSG_HDR_LEN + 4, lk, sizeof(*lk));
	msg_chan_init(&c, "crypt", &tab);
	if (msg_decode(&c, buf, sizeof(buf), 0, &m, &why) == MSG_ST_OK)
		return 1;
	assert_int_equal(why, MSG_E_PAYLOAD);
	return 0;
}

/*
 * The monitor's check of a link report: crypt's fields written by the
 * rule from hostile text pass; a field with a byte the rule never
 * writes breaks the channel's table.
 */
static void
test_links_report(void **state)
{
	struct msg_link	 lk;
	char		 hostile[256];
	int		 c;

	(void)state;
	for (c = 1; c < 256; c++)
		hostile[c - 1] = (char)c;
	hostile[255] = '\0';
	memset(&lk, 0, sizeof(lk));
	logsafe_copy(lk.peer, sizeof(lk.peer), hostile);
	logsafe_copy(lk.host, sizeof(lk.host), hostile + 60);
	logsafe_copy(lk.subject, sizeof(lk.subject), hostile + 30);
	logsafe_copy(lk.tls, sizeof(lk.tls), "TLSv1.3");
	logsafe_copy(lk.cipher, sizeof(lk.cipher), hostile + 200);
	assert_true(links_accepted(&lk));
	for (c = 1; c < 256; c++) {
		lk.subject[3] = (char)c;
		assert_int_equal(links_accepted(&lk), expect(c) == (char)c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_quoted_reason),
		cmocka_unit_test(test_copy_field),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_field_ok_every_byte),
		cmocka_unit_test(test_field_ok_frame),
		cmocka_unit_test(test_copy_then_check),
		cmocka_unit_test(test_links_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * vnetctl's JSON reader (ctl/json.c) and the metrics it writes from it
 * (ctl/metrics.c): what vnetd sends, and what it must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/json.h"
#include "ctl/metrics.h"

/* Parse s from an exact-size copy, so a read past its end is caught. */
static int
parse(const char *s, struct json *j)
{
	const char	*why = NULL;
	size_t		 n = strlen(s);
	char		*copy = malloc(n ? n : 1);
	int		 rv;

	assert_non_null(copy);
	memcpy(copy, s, n);
	rv = json_parse(copy, n, j, &why);
	if (rv == -1) {
		assert_non_null(why);
		free(copy);
	} else
		j->t[0].p = copy;	/* a container's p is never read */
	return rv;
}

static void
done(struct json *j)
{
	free((void *)j->t[0].p);
	json_free(j);
}

static void
test_values(void **state)
{
	struct json	 j;
	uint64_t	 v;
	char		 buf[64];
	int		 a, o;

	(void)state;
	assert_int_equal(parse(" {\"a\":[1,{\"b\":\"x\\\"y\\u0041\"},null,true],"
	    "\"n\":18446744073709551615,\"e\":{}} \n", &j), 0);
	assert_int_equal(j.t[0].type, JSON_OBJ);
	a = json_get(&j, 0, "a");
	assert_int_equal(j.t[a].type, JSON_ARR);
	assert_int_equal(json_u64(&j, a + 1, &v), 0);
	assert_int_equal(v, 1);
	o = j.t[a + 1].end;
	assert_int_equal(j.t[o].type, JSON_OBJ);
	assert_int_equal(json_str(&j, json_get(&j, o, "b"), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "x\"yA");
	assert_int_equal(json_str(&j, json_get(&j, o, "b"), buf, 4), -1);
	assert_int_equal(j.t[j.t[o].end].type, JSON_NULL);
	assert_int_equal(json_u64(&j, json_get(&j, 0, "n"), &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(j.t[json_get(&j, 0, "e")].type, JSON_OBJ);
	assert_int_equal(json_get(&j, 0, "missing"), -1);
	assert_int_equal(json_get(&j, a, "a"), -1);	/* not an object */
	done(&j);
}

static void
test_numbers(void **state)
{
	struct json	 j;
	uint64_t	 v;

	(void)state;
	/* Valid JSON, but not a counter: json_u64 says no. */
	assert_int_equal(parse("[18446744073709551616,-1,1.5,1e3]", &j), 0);
	assert_int_equal(json_u64(&j, 1, &v), -1);
	assert_int_equal(json_u64(&j, 2, &v), -1);
	assert_int_equal(json_u64(&j, 3, &v), -1);
	assert_int_equal(json_u64(&j, 4, &v), -1);
	done(&j);
}

static void
test_invalid(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}",
		"{a:1}", "[1 2]", "\"abc", "\"a\\x\"", "\"\\u12G4\"", "\"\\u12",
		"\"a\nb\"", "tru", "nul", "-", "{} {}", "[1]x", "@",
		"{\"a\":1,}",
	};
	struct json	 j;
	char		 deep[2 * JSON_MAX_DEPTH + 8];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &j) != -1)
			fail_msg("accepted: '%s'", bad[i]);
	}
	/* Nesting is bounded: JSON_MAX_DEPTH levels below the root, no more. */
	memset(deep, '[', JSON_MAX_DEPTH + 1);
	memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	deep[2 * JSON_MAX_DEPTH + 2] = '\0';
	assert_int_equal(parse(deep, &j), 0);
	done(&j);
	memset(deep, '[', JSON_MAX_DEPTH + 2);
	memset(deep + JSON_MAX_DEPTH + 2, ']', JSON_MAX_DEPTH + 2);
	deep[2 * JSON_MAX_DEPTH + 4] = '\0';
	assert_int_equal(parse(deep, &j), -1);
	/* A \u escape outside ASCII, or of NUL, is not decoded. */
	assert_int_equal(parse("[\"\\u00e9\",\"\\u0000\"]", &j), 0);
	{
		char buf[8];

		assert_int_equal(json_str(&j, 1, buf, sizeof(buf)), -1);
		assert_int_equal(json_str(&j, 2, buf, sizeof(buf)), -1);
	}
	done(&j);
}

/* metrics_write on replies shaped as vnetd sends them. */
static char *
metrics(const char *stats, const char *links, const char *macs,
    const char *instance, int *rv)
{
	struct json		 s, l, m;
	struct metrics_in	 in;
	const char		*why = NULL;
	char			*out = NULL;
	size_t			 len = 0;
	FILE			*f;

	assert_int_equal(parse(stats, &s), 0);
	assert_int_equal(parse(links, &l), 0);
	assert_int_equal(parse(macs, &m), 0);
	in.stats = &s;
	in.links = &l;
	in.macs = &m;
	in.instance = instance;
	assert_non_null(f = open_memstream(&out, &len));
	*rv = metrics_write(f, &in, &why);
	fclose(f);
	if (*rv == -1)
		assert_non_null(why);
	done(&s);
	done(&l);
	done(&m);
	return out;
}

#define STATS	"{\"capture\":{\"restarts\":2,\"captured\":5,\"drop_kernel\":1}," \
		"\"crypt\":{\"restarts\":0,\"tx_bytes\":7,\"links_up\":1," \
		"\"refused_source\":3,\"new_counter\":9}}"
#define LINKS	"{\"total\":1,\"links\":[{\"peer\":\"10.0.0.2:5\",\"host\":" \
		"\"h\\\"1\",\"state\":\"up\",\"up_s\":4,\"subject\":\"/CN=h\"," \
		"\"tls\":\"TLSv1.3\",\"cipher\":\"C\",\"rx_frames\":1," \
		"\"tx_frames\":2,\"rx_bytes\":3,\"tx_bytes\":4}]}"
#define MACS	"{\"total\":6,\"macs\":[]}"

static void
test_metrics(void **state)
{
	char	*out;
	int	 rv;
	size_t	 i;
	static const char *const want[] = {
		"# TYPE vnet_worker_restarts_total counter\n",
		"vnet_worker_restarts_total{worker=\"capture\"} 2\n",
		"vnet_capture_captured_frames_total 5\n",
		"# HELP vnet_crypt_transmit_bytes_total Bytes of the frames sent "
		    "on all links (vnetctl stats: crypt.tx_bytes).\n",
		"# TYPE vnet_crypt_links_up gauge\n",
		"vnet_crypt_new_counter_total 9\n",
		"vnet_dropped_frames_total{worker=\"capture\",reason=\"kernel\"} 1\n",
		"vnet_refused_connections_total{worker=\"crypt\",reason=\"source\"} 3\n",
		"vnet_link_up{host=\"h\\\"1\",peer=\"10.0.0.2:5\"} 1\n",
		"vnet_link_transmit_bytes_total{host=\"h\\\"1\",peer=\"10.0.0.2:5\"} 4\n",
		"vnet_links 1\n",
		"vnet_forwarding_table_entries 6\n",
	};

	(void)state;
	out = metrics(STATS, LINKS, MACS, NULL, &rv);
	assert_int_equal(rv, 0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(out, want[i]) == NULL)
			fail_msg("no '%s' in:\n%s", want[i], out);
	/* Every drop is in the family by reason, none on its own. */
	assert_null(strstr(out, "vnet_capture_drop_kernel"));
	free(out);

	out = metrics(STATS, LINKS, MACS, "home", &rv);
	assert_int_equal(rv, 0);
	assert_non_null(strstr(out, "\nvnet_links{vnetd_instance=\"home\"} 1\n"));
	assert_non_null(strstr(out, "\nvnet_dropped_frames_total{vnetd_instance="
	    "\"home\",worker=\"capture\",reason=\"kernel\"} 1\n"));
	free(out);
}

static void
test_metrics_shape(void **state)
{
	char	*out;
	int	 rv;

	(void)state;
	out = metrics("{\"capture\":{\"captured\":1}}", LINKS, MACS, NULL, &rv);
	assert_int_equal(rv, -1);		/* no restarts */
	free(out);
	out = metrics("{\"capture\":{\"restarts\":0,\"x\":\"1\"}}", LINKS, MACS,
	    NULL, &rv);
	assert_int_equal(rv, -1);		/* a counter that is a string */
	free(out);
	out = metrics(STATS, "{\"links\":[]}", MACS, NULL, &rv);
	assert_int_equal(rv, -1);		/* no total */
	free(out);
	out = metrics(STATS, LINKS, "[]", NULL, &rv);
	assert_int_equal(rv, -1);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_metrics_shape),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}

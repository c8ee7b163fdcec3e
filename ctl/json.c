/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "ctl/json.h"

struct jp {
	const char	*s, *end;
	struct json	*j;
	const char	*why;
};

static int	 jp_value(struct jp *p, int depth);

static void
jp_ws(struct jp *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' ||
	    *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int
jp_fail(struct jp *p, const char *why)
{
	if (p->why == NULL)
		p->why = why;
	return -1;
}

static int
jp_tok(struct jp *p, enum json_type type, const char *s, size_t len)
{
	struct json	*j = p->j;
	struct json_tok	*nt;
	int		 ncap;

	if (j->n == j->cap) {
		if (j->cap >= JSON_MAX_TOKENS)
			return jp_fail(p, "too many values");
		ncap = j->cap ? j->cap * 2 : 64;
		if ((nt = realloc(j->t, (size_t)ncap * sizeof(*nt))) == NULL)
			return jp_fail(p, "out of memory");
		j->t = nt;
		j->cap = ncap;
	}
	j->t[j->n].type = type;
	j->t[j->n].p = s;
	j->t[j->n].len = len;
	j->t[j->n].end = j->n + 1;
	return j->n++;
}

/* A string's extent; its escapes are checked here, decoded by json_str. */
static int
jp_string(struct jp *p)
{
	const char	*start;
	int		 k;

	start = ++p->s;
	while (p->s < p->end && *p->s != '"') {
		if ((unsigned char)*p->s < 0x20)
			return jp_fail(p, "control character in a string");
		if (*p->s == '\\') {
			if (++p->s == p->end)
				break;
			if (*p->s == 'u') {
				for (k = 1; k <= 4; k++)
					if (p->s + k >= p->end ||
					    strchr("0123456789abcdefABCDEF",
					    p->s[k]) == NULL || p->s[k] == '\0')
						return jp_fail(p, "bad \\u escape");
				p->s += 4;
			} else if (strchr("\"\\/bfnrt", *p->s) == NULL ||
			    *p->s == '\0')
				return jp_fail(p, "bad escape");
		}
		p->s++;
	}
	if (p->s == p->end)
		return jp_fail(p, "unterminated string");
	p->s++;
	return jp_tok(p, JSON_STR, start, (size_t)(p->s - 1 - start));
}

static int
jp_number(struct jp *p)
{
	const char	*start = p->s;

	if (p->s < p->end && *p->s == '-')
		p->s++;
	while (p->s < p->end && strchr("0123456789.eE+-", *p->s) != NULL &&
	    *p->s != '\0')
		p->s++;
	if (p->s == start || (p->s == start + 1 && *start == '-'))
		return jp_fail(p, "unexpected character");
	return jp_tok(p, JSON_NUM, start, (size_t)(p->s - start));
}

static int
jp_word(struct jp *p, const char *w, enum json_type type)
{
	size_t	 n = strlen(w);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n) != 0)
		return jp_fail(p, "unexpected character");
	p->s += n;
	return jp_tok(p, type, p->s - n, n);
}

/* The members of an array or object, after its opening bracket. */
static int
jp_members(struct jp *p, int self, int depth, char close)
{
	int	 first = 1;

	for (;;) {
		jp_ws(p);
		if (p->s < p->end && *p->s == close && first)
			break;
		if (!first) {
			if (p->s < p->end && *p->s == close)
				break;
			if (p->s == p->end || *p->s != ',')
				return jp_fail(p, "expected ',' or a closing "
				    "bracket");
			p->s++;
			jp_ws(p);
		}
		first = 0;
		if (close == '}') {
			if (p->s == p->end || *p->s != '"')
				return jp_fail(p, "expected a member name");
			if (jp_string(p) == -1)
				return -1;
			jp_ws(p);
			if (p->s == p->end || *p->s != ':')
				return jp_fail(p, "expected ':'");
			p->s++;
		}
		if (jp_value(p, depth + 1) == -1)
			return -1;
	}
	p->s++;
	p->j->t[self].end = p->j->n;
	return self;
}

static int
jp_value(struct jp *p, int depth)
{
	int	 self;

	if (depth > JSON_MAX_DEPTH)
		return jp_fail(p, "nested too deeply");
	jp_ws(p);
	if (p->s == p->end)
		return jp_fail(p, "unexpected end");
	switch (*p->s) {
	case '{':
	case '[':
		if ((self = jp_tok(p, *p->s == '{' ? JSON_OBJ : JSON_ARR, p->s,
		    1)) == -1)
			return -1;
		p->s++;
		return jp_members(p, self, depth, p->j->t[self].type ==
		    JSON_OBJ ? '}' : ']');
	case '"':
		return jp_string(p);
	case 't':
		return jp_word(p, "true", JSON_BOOL);
	case 'f':
		return jp_word(p, "false", JSON_BOOL);
	case 'n':
		return jp_word(p, "null", JSON_NULL);
	default:
		return jp_number(p);
	}
}

int
json_parse(const char *buf, size_t len, struct json *j, const char **why)
{
	struct jp	 p = { buf, buf + len, j, NULL };

	memset(j, 0, sizeof(*j));
	if (jp_value(&p, 0) == -1) {
		*why = p.why;
		json_free(j);
		return -1;
	}
	jp_ws(&p);
	if (p.s != p.end) {
		*why = "text after the value";
		json_free(j);
		return -1;
	}
	return 0;
}

void
json_free(struct json *j)
{
	free(j->t);
	memset(j, 0, sizeof(*j));
}

int
json_get(const struct json *j, int i, const char *key)
{
	int	 k;

	if (i < 0 || i >= j->n || j->t[i].type != JSON_OBJ)
		return -1;
	for (k = i + 1; k < j->t[i].end; k = j->t[k + 1].end)
		if (json_eq(j, k, key))
			return k + 1;
	return -1;
}

int
json_u64(const struct json *j, int i, uint64_t *v)
{
	const struct json_tok	*t;
	uint64_t		 x = 0;
	size_t			 k;

	if (i < 0 || i >= j->n || j->t[i].type != JSON_NUM)
		return -1;
	t = &j->t[i];
	for (k = 0; k < t->len; k++) {
		unsigned d = (unsigned char)t->p[k] - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return (c | 0x20) - 'a' + 10;
}

/*
 * Decoding stops at the first \u escape outside ASCII, or at one of
 * NUL: vnetd writes no such thing, and a name we cannot print as it
 * is must not be printed as something else.
 */
int
json_str(const struct json *j, int i, char *buf, size_t len)
{
	const struct json_tok	*t;
	size_t			 k, o = 0;
	int			 c;

	if (i < 0 || i >= j->n || j->t[i].type != JSON_STR || len == 0)
		return -1;
	t = &j->t[i];
	for (k = 0; k < t->len; k++) {
		c = t->p[k];
		if (c == '\\') {
			c = t->p[++k];
			switch (c) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				c = hexval(t->p[k + 1]) << 12 |
				    hexval(t->p[k + 2]) << 8 |
				    hexval(t->p[k + 3]) << 4 | hexval(t->p[k + 4]);
				k += 4;
				if (c == 0 || c > 0x7f)
					return -1;
				break;
			default: break;
			}
		}
		if (o + 1 >= len)
			return -1;
		buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return 0;
}

int
json_eq(const struct json *j, int i, const char *s)
{
	char	 buf[256];

	return json_str(j, i, buf, sizeof(buf)) == 0 && strcmp(buf, s) == 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * A small JSON reader for vnetctl: the replies of the control socket
 * parsed into a flat array of tokens (no allocation per value, no
 * copies), so `vnetctl metrics` is built from exactly the JSON that
 * `vnetctl -j` prints. Pure: buffer in, tokens out.
 */
#ifndef VNET_CTL_JSON_H
#define VNET_CTL_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH	16
#define JSON_MAX_TOKENS	(1 << 20)

enum json_type {
	JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ,
};

/*
 * One value. A container's members follow it in the array; an object's
 * members come as pairs, key (a JSON_STR) then value. "end" is the index
 * just past the token's last descendant, so a sibling is t[end].
 */
struct json_tok {
	enum json_type	 type;
	const char	*p;		/* text: a string without its quotes */
	size_t		 len;
	int		 end;
};

struct json {
	struct json_tok	*t;
	int		 n, cap;
};

/* Parse exactly one value (then only white space). 0, or -1 and *why. */
int	 json_parse(const char *buf, size_t len, struct json *j,
	    const char **why);
void	 json_free(struct json *j);
/* The value of member "key" of object i, or -1. */
int	 json_get(const struct json *j, int i, const char *key);
/* A non-negative integer (at most 2^64-1). 0, or -1. */
int	 json_u64(const struct json *j, int i, uint64_t *v);
/* String i unescaped into buf (NUL-terminated). 0, or -1 if it does not fit. */
int	 json_str(const struct json *j, int i, char *buf, size_t len);
/* Does string token i equal s (both unescaped)? */
int	 json_eq(const struct json *j, int i, const char *s);

#endif

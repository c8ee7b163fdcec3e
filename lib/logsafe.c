/* SPDX-License-Identifier: ISC */
/* The one rule for outside text in a log record: see logsafe.h. */
#include <string.h>

#include "lib/logsafe.h"

/* What byte c becomes; value: inside a quoted value, not just a line. */
static char
logsafe_map(unsigned char c, int value)
{
	if (c < 0x20 || c > 0x7e)
		return '?';
	if (value && c == '"')
		return '\'';
	if (value && c == '\\')
		return '?';
	return (char)c;
}

char *
logsafe(char *s)
{
	(void)logsafe_copy(s, strlen(s) + 1, s);
	return s;
}

size_t
logsafe_copy(char *dst, size_t size, const char *src)
{
	size_t	 i;

	if (size == 0)
		return 0;
	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = logsafe_map((unsigned char)src[i], 1);
	memset(dst + i, 0, size - i);
	return i;
}

char *
logsafe_line(char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		s[i] = logsafe_map((unsigned char)s[i], 0);
	return s;
}

int
logsafe_field_ok(const char *f, size_t size)
{
	size_t	 i;

	for (i = 0; i < size && f[i] != '\0'; i++)
		if (logsafe_map((unsigned char)f[i], 1) != f[i])
			return 0;
	if (i == size)
		return 0;
	for (; i < size; i++)
		if (f[i] != '\0')
			return 0;
	return 1;
}

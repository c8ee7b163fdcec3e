/* SPDX-License-Identifier: ISC */
/*
 * Outside text in a log record. A record is one line of key=value
 * fields, and a value that may hold blanks is put in double quotes
 * (reason="..."). Text vnet did not write itself (a certificate
 * subject, a peer's name, a TLS library's message, the reason a
 * configuration was refused) goes into such a value through this one
 * rule:
 *
 *   - a byte of printable ASCII (0x20..0x7e) stays, except '"' and '\';
 *   - '"' becomes '\'', so quoted words in a message stay readable;
 *   - '\' and every other byte (control, DEL, not ASCII) becomes '?'.
 *
 * So the value cannot end its field early, cannot hide the closing
 * quote from a parser that honours backslash escapes, and cannot break
 * the line. One byte in is one byte out.
 *
 * A whole record a worker sends the monitor carries its own quoted
 * fields, so the monitor applies the line part only (logsafe_line):
 * every byte outside printable ASCII becomes '?'.
 */
#ifndef VNET_LIB_LOGSAFE_H
#define VNET_LIB_LOGSAFE_H

#include <stddef.h>

/* The rule, in place on a NUL-terminated string. Returns s. */
char	*logsafe(char *s);
/*
 * The rule, copying src into a fixed field of size bytes: at most
 * size - 1 bytes, then NUL up to the end of the field (a message field
 * is NUL-padded). dst may be src. Returns the bytes copied.
 */
size_t	 logsafe_copy(char *dst, size_t size, const char *src);
/* Only the line part of the rule, in place. Returns s. */
char	*logsafe_line(char *s);
/*
 * 1 when a field of size bytes is exactly what logsafe_copy() can have
 * written: bytes the rule keeps, a NUL, and NUL to the end. 0 otherwise.
 */
int	 logsafe_field_ok(const char *f, size_t size);

#endif

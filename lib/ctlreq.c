/* SPDX-License-Identifier: ISC */
#include <string.h>

#include "lib/ctlreq.h"

static const char *const names[] = {
	[CTL_STATUS] = "status", [CTL_LINKS] = "links", [CTL_MACS] = "macs",
	[CTL_STATS] = "stats", [CTL_RELOAD] = "reload",
};

const char *
ctlreq_name(enum ctl_cmd cmd)
{
	if (cmd <= CTL_NONE || cmd > CTL_RELOAD)
		return "none";
	return names[cmd];
}

int
ctlreq_parse(const char *buf, size_t len, struct ctl_req *r, const char **why)
{
	const char	*sp;
	size_t		 wlen, i;

	r->cmd = CTL_NONE;
	r->json = 0;
	if (len == 0 || len > CTLREQ_MAX) {
		*why = "request empty or too long";
		return -1;
	}
	if (buf[len - 1] != '\n' || memchr(buf, '\n', len - 1) != NULL) {
		*why = "a request is exactly one line";
		return -1;
	}
	len--;
	sp = memchr(buf, ' ', len);
	wlen = sp != NULL ? (size_t)(sp - buf) : len;
	if (sp != NULL) {
		if (len - wlen - 1 != 4 || memcmp(sp + 1, "json", 4) != 0) {
			*why = "the only option is 'json'";
			return -1;
		}
		r->json = 1;
	}
	for (i = CTL_STATUS; i <= CTL_RELOAD; i++)
		if (strlen(names[i]) == wlen && memcmp(names[i], buf, wlen) == 0) {
			r->cmd = (enum ctl_cmd)i;
			return 0;
		}
	*why = "unknown command";
	r->json = 0;
	return -1;
}

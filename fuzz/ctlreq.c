/* SPDX-License-Identifier: ISC */
/*
 * ctlreq_parse() on whatever a local client writes to the control
 * socket (monitor/control.c hands it the bytes read, at most
 * CTLREQ_MAX). The input is those bytes. Checked against the grammar in
 * lib/ctlreq.h: exactly one line, "COMMAND[ json]\n".
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "lib/ctlreq.h"

static const struct {
	const char	*word;
	enum ctl_cmd	 cmd;
} cmds[] = {
	{ "status", CTL_STATUS }, { "links", CTL_LINKS }, { "macs", CTL_MACS },
	{ "stats", CTL_STATS }, { "reload", CTL_RELOAD },
};

/* The expected verdict, written from the grammar. */
static int
model(const char *b, size_t len, struct ctl_req *want)
{
	size_t	 i, w;

	want->cmd = CTL_NONE;
	want->json = 0;
	if (len == 0 || len > CTLREQ_MAX || b[len - 1] != '\n')
		return -1;
	for (i = 0; i + 1 < len; i++)
		if (b[i] == '\n')
			return -1;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		w = strlen(cmds[i].word);
		if (len < w + 1 || memcmp(b, cmds[i].word, w) != 0)
			continue;
		if (len == w + 1) {
			want->cmd = cmds[i].cmd;
			return 0;
		}
		if (len == w + 6 && memcmp(b + w, " json", 5) == 0) {
			want->cmd = cmds[i].cmd;
			want->json = 1;
			return 0;
		}
	}
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req	 r, want;
	const char	*why = NULL;
	int		 rc, w;

	memset(&r, 0xa5, sizeof(r));
	rc = ctlreq_parse((const char *)data, size, &r, &why);
	w = model((const char *)data, size, &want);
	FUZZ_ASSERT(rc == w);
	FUZZ_ASSERT(r.cmd == want.cmd && r.json == want.json);
	if (rc == 0) {
		FUZZ_ASSERT(strncmp(ctlreq_name(r.cmd), (const char *)data,
		    strlen(ctlreq_name(r.cmd))) == 0);
	} else {
		FUZZ_ASSERT(why != NULL && why[0] != '\0');
		FUZZ_ASSERT(strcmp(ctlreq_name(r.cmd), "none") == 0);
	}
	return 0;
}

/*
 * Which messages each channel accepts. One table per receiving end;
 * everything not listed is fatal for the sender.
 */
#include "lib/conf.h"
#include "privsep/log.h"
#include "privsep/msg.h"

#define N(t)	(sizeof(t) / sizeof((t)[0]))

/* What the monitor accepts from any worker. */
const struct msg_rule msg_tab_monitor_from_worker[] = {
	{ MSG_READY,	0, 0, 0, 1 },
	{ MSG_LOG,	sizeof(struct msg_log) + 1,
			sizeof(struct msg_log) + LOG_LINE_MAX, 0, 0 },
	{ MSG_STATS,	sizeof(struct msg_stat),
			sizeof(struct msg_stat) * MSG_STATS_MAX, 0, 0 },
};
const size_t msg_tab_monitor_from_worker_n = N(msg_tab_monitor_from_worker);

/* crypt alone also reports its links and forwarding table. */
const struct msg_rule msg_tab_monitor_from_crypt[] = {
	{ MSG_READY,	0, 0, 0, 1 },
	{ MSG_LOG,	sizeof(struct msg_log) + 1,
			sizeof(struct msg_log) + LOG_LINE_MAX, 0, 0 },
	{ MSG_STATS,	sizeof(struct msg_stat),
			sizeof(struct msg_stat) * MSG_STATS_MAX, 0, 0 },
	{ MSG_LINKS,	4, 4 + sizeof(struct msg_link) * MSG_LINKS_MAX, 0, 0 },
	{ MSG_MACS,	4, 4 + sizeof(struct msg_mac) * MSG_MACS_MAX, 0, 0 },
};
const size_t msg_tab_monitor_from_crypt_n = N(msg_tab_monitor_from_crypt);

/* What each worker accepts from the monitor. */
const struct msg_rule msg_tab_capture_ctl[] = {
	{ MSG_CONFIG,	1, CONF_MAX_TEXT, 0, 1 },
	{ MSG_GO,	0, 0, 0, 1 },
	{ MSG_STATS_REQ, 0, 0, 0, 0 },
};
const size_t msg_tab_capture_ctl_n = N(msg_tab_capture_ctl);

const struct msg_rule msg_tab_crypt_ctl[] = {
	{ MSG_CONFIG,	1, CONF_MAX_TEXT, 0, 1 },
	{ MSG_PEM_CERT,	1, MSG_MAX_PAYLOAD, 0, 1 },
	{ MSG_PEM_KEY,	1, MSG_MAX_PAYLOAD, 0, 1 },
	{ MSG_PEM_CA,	1, MSG_MAX_PAYLOAD, 0, 1 },
	{ MSG_LISTEN_FD, 0, 0, 1, 1 },
	{ MSG_CONNECT_ADDR, sizeof(struct msg_addr), sizeof(struct msg_addr),
			0, 1 },
	{ MSG_GO,	0, 0, 0, 1 },
	{ MSG_STATS_REQ, 0, 0, 0, 0 },
	{ MSG_RELOAD,	1, CONF_MAX_TEXT, 0, 0 },
};
const size_t msg_tab_crypt_ctl_n = N(msg_tab_crypt_ctl);

const struct msg_rule msg_tab_inject_ctl[] = {
	{ MSG_CONFIG,	1, CONF_MAX_TEXT, 0, 1 },
	{ MSG_GO,	0, 0, 0, 1 },
	{ MSG_STATS_REQ, 0, 0, 0, 0 },
};
const size_t msg_tab_inject_ctl_n = N(msg_tab_inject_ctl);

/* Data plane: capture -> crypt and crypt -> inject, in the rings. */
const struct msg_rule msg_tab_frames[] = {
	{ MSG_FRAMES,	4 + VNET_FRAME_MIN, MSG_MAX_PAYLOAD, 0, 0 },
};
const size_t msg_tab_frames_n = N(msg_tab_frames);

/* The doorbells on the socketpair beside each ring. */
const struct msg_rule msg_tab_wake[] = {
	{ MSG_WAKE,	0, 0, 0, 0 },
};
const size_t msg_tab_wake_n = N(msg_tab_wake);

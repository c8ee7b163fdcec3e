/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <string.h>

#include "ctl/metrics.h"

/*
 * The workers' counters under Prometheus names: a vnet_ prefix, the
 * unit in the name, _total on counters. Each HELP ends with the counter
 * it comes from, so a reader (and tests/net/83-metrics.t) can go from a
 * metric back to vnetctl(8). A counter missing here (a newer worker's)
 * still appears, as vnet_WORKER_COUNTER_total.
 */
static const struct ctr_name {
	const char	*worker, *counter, *metric, *help;
	int		 gauge;
} names[] = {
	{ "capture", "captured", "vnet_capture_captured_frames_total",
	    "Frames the capture socket delivered", 0 },
	{ "capture", "sent", "vnet_capture_sent_frames_total",
	    "Frames capture passed to crypt", 0 },
	{ "capture", "batches", "vnet_capture_sent_batches_total",
	    "Batches of frames capture passed to crypt", 0 },
	{ "capture", "filtered", "vnet_capture_filtered_frames_total",
	    "Frames dropped by the user-space filter", 0 },
	{ "crypt", "from_capture", "vnet_crypt_from_capture_frames_total",
	    "Frames crypt received from capture", 0 },
	{ "crypt", "to_inject", "vnet_crypt_to_inject_frames_total",
	    "Frames crypt handed to inject", 0 },
	{ "crypt", "tx_frames", "vnet_crypt_transmit_frames_total",
	    "Frames sent on all links", 0 },
	{ "crypt", "rx_frames", "vnet_crypt_receive_frames_total",
	    "Frames received on all links", 0 },
	{ "crypt", "tx_bytes", "vnet_crypt_transmit_bytes_total",
	    "Bytes of the frames sent on all links", 0 },
	{ "crypt", "rx_bytes", "vnet_crypt_receive_bytes_total",
	    "Bytes of the frames received on all links", 0 },
	{ "crypt", "links_up", "vnet_crypt_links_up",
	    "Links up now", 1 },
	{ "crypt", "links_accepted", "vnet_crypt_accepted_connections_total",
	    "TCP connections accepted (proxy)", 0 },
	{ "crypt", "reconnects", "vnet_crypt_reconnects_total",
	    "Connections dialled after the first one (host)", 0 },
	{ "crypt", "failovers", "vnet_crypt_proxy_failovers_total",
	    "Moves to the next proxy in the connect list (host)", 0 },
	{ "crypt", "handshake_failures", "vnet_crypt_handshake_failures_total",
	    "TLS handshakes that failed or timed out", 0 },
	{ "crypt", "peers_rejected", "vnet_crypt_rejected_peers_total",
	    "Peers refused after their handshake", 0 },
	{ "crypt", "malformed_records", "vnet_crypt_malformed_records_total",
	    "Links closed for a malformed wire record", 0 },
	{ "crypt", "moves", "vnet_crypt_mac_moves_total",
	    "MAC addresses that moved to another link", 0 },
	{ "crypt", "aged", "vnet_crypt_aged_macs_total",
	    "Forwarding table entries forgotten after 300 s of silence", 0 },
	{ "inject", "frames", "vnet_inject_received_frames_total",
	    "Frames inject received from crypt", 0 },
	{ "inject", "batches", "vnet_inject_received_batches_total",
	    "Batches inject received from crypt", 0 },
	{ "inject", "sent", "vnet_inject_sent_frames_total",
	    "Frames the kernel accepted from inject", 0 },
	{ "inject", "gso", "vnet_inject_gso_frames_total",
	    "Frames sent for the kernel to segment", 0 },
	{ "inject", "segmented", "vnet_inject_segmented_frames_total",
	    "Frames the kernel refused to segment, segmented by inject", 0 },
};

/* Counters of one kind across workers: one family, the rest a label. */
static const struct {
	const char	*prefix, *metric, *help;
} by_reason[] = {
	{ "drop_", "vnet_dropped_frames_total",
	    "Frames dropped, by worker and reason (vnetctl stats: "
	    "WORKER.drop_REASON)" },
	{ "refused_", "vnet_refused_connections_total",
	    "Connections refused before a link was up, by worker and reason "
	    "(vnetctl stats: WORKER.refused_REASON)" },
};

/* One per link, from `vnetctl -j links`. */
static const struct {
	const char	*member, *metric, *help;
	int		 gauge;
} link_fields[] = {
	{ "up_s", "vnet_link_uptime_seconds",
	    "Seconds since the link came up (vnetctl links: up_s)", 1 },
	{ "rx_frames", "vnet_link_receive_frames_total",
	    "Frames received on the link (vnetctl links: rx_frames)", 0 },
	{ "tx_frames", "vnet_link_transmit_frames_total",
	    "Frames sent on the link (vnetctl links: tx_frames)", 0 },
	{ "rx_bytes", "vnet_link_receive_bytes_total",
	    "Bytes of the frames received on the link (vnetctl links: "
	    "rx_bytes)", 0 },
	{ "tx_bytes", "vnet_link_transmit_bytes_total",
	    "Bytes of the frames sent on the link (vnetctl links: tx_bytes)",
	    0 },
	{ "udp_rx_frames", "vnet_link_udp_receive_frames_total",
	    "Of rx_frames, those that came as datagrams (vnetctl links: "
	    "udp_rx_frames)", 0 },
	{ "udp_tx_frames", "vnet_link_udp_transmit_frames_total",
	    "Of tx_frames, those sent as datagrams (vnetctl links: "
	    "udp_tx_frames)", 0 },
	{ "udp_drops", "vnet_link_udp_dropped_total",
	    "Datagrams for the link dropped by a check (vnetctl links: "
	    "udp_drops)", 0 },
};

#define NAME_MAX_LEN	128
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct mw {
	FILE			*out;
	const struct metrics_in	*in;
};

static void
family(struct mw *w, const char *name, int gauge, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(w->out, "# HELP %s ", name);
	va_start(ap, fmt);
	vfprintf(w->out, fmt, ap);
	va_end(ap);
	fprintf(w->out, ".\n# TYPE %s %s\n", name, gauge ? "gauge" : "counter");
}

static void
label_value(FILE *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

/* NAME{k="v",...} VALUE: labels as NULL-terminated key, value pairs. */
static void
sample(struct mw *w, const char *name, uint64_t v, ...)
{
	va_list		 ap;
	const char	*k, *sep = "";

	fputs(name, w->out);
	if (w->in->instance != NULL) {
		fputs("{vnetd_instance=\"", w->out);
		label_value(w->out, w->in->instance);
		fputc('"', w->out);
		sep = ",";
	}
	va_start(ap, v);
	while ((k = va_arg(ap, const char *)) != NULL) {
		fprintf(w->out, "%s%s%s=\"", *sep == '\0' ? "{" : "", sep, k);
		label_value(w->out, va_arg(ap, const char *));
		fputc('"', w->out);
		sep = ",";
	}
	va_end(ap);
	fprintf(w->out, "%s %llu\n", *sep != '\0' ? "}" : "",
	    (unsigned long long)v);
}

/* A name from the reply, as the [a-z0-9_] a metric name may hold. */
static int
clean_name(const struct json *j, int i, char *buf, size_t len)
{
	char	*c;

	if (json_str(j, i, buf, len) == -1 || buf[0] == '\0')
		return -1;
	for (c = buf; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
			*c = '_';
	return 0;
}

/* Each worker object of the stats reply, key at *k, value *k + 1. */
#define FOREACH_MEMBER(j, obj, k) \
	for ((k) = (obj) + 1; (k) < (j)->t[obj].end; (k) = (j)->t[(k) + 1].end)

static int
stats_shape(const struct json *s)
{
	int	 wk, ck;

	if (s->n == 0 || s->t[0].type != JSON_OBJ)
		return -1;
	FOREACH_MEMBER(s, 0, wk) {
		if (s->t[wk + 1].type != JSON_OBJ ||
		    json_get(s, wk + 1, "restarts") == -1)
			return -1;
		FOREACH_MEMBER(s, wk + 1, ck)
			if (s->t[ck + 1].type != JSON_NUM)
				return -1;
	}
	return 0;
}

static void
worker_restarts(struct mw *w)
{
	const struct json	*s = w->in->stats;
	char			 wn[NAME_MAX_LEN];
	uint64_t		 v;
	int			 wk;

	family(w, "vnet_worker_restarts_total", 0, "Times the monitor "
	    "started a worker again (vnetctl stats: WORKER.restarts)");
	FOREACH_MEMBER(s, 0, wk)
		if (clean_name(s, wk, wn, sizeof(wn)) == 0 &&
		    json_u64(s, json_get(s, wk + 1, "restarts"), &v) == 0)
			sample(w, "vnet_worker_restarts_total", v, "worker", wn,
			    (char *)NULL);
}

static int
is_by_reason(const char *counter)
{
	size_t	 i;

	for (i = 0; i < NELEM(by_reason); i++)
		if (strncmp(counter, by_reason[i].prefix,
		    strlen(by_reason[i].prefix)) == 0)
			return 1;
	return strcmp(counter, "restarts") == 0;
}

/* One family per counter that has no family of its own kind. */
static void
worker_counters(struct mw *w)
{
	const struct json	*s = w->in->stats;
	const struct ctr_name	*cn;
	char			 wn[NAME_MAX_LEN], c[NAME_MAX_LEN];
	char			 fallback[2 * NAME_MAX_LEN + 16];
	uint64_t		 v;
	size_t			 i;
	int			 wk, ck;

	FOREACH_MEMBER(s, 0, wk) {
		if (clean_name(s, wk, wn, sizeof(wn)) == -1)
			continue;
		FOREACH_MEMBER(s, wk + 1, ck) {
			if (clean_name(s, ck, c, sizeof(c)) == -1 ||
			    is_by_reason(c) || json_u64(s, ck + 1, &v) == -1)
				continue;
			for (cn = NULL, i = 0; i < NELEM(names); i++)
				if (strcmp(names[i].worker, wn) == 0 &&
				    strcmp(names[i].counter, c) == 0)
					cn = &names[i];
			if (cn != NULL)
				family(w, cn->metric, cn->gauge,
				    "%s (vnetctl stats: %s.%s)", cn->help, wn, c);
			else {
				snprintf(fallback, sizeof(fallback),
				    "vnet_%s_%s_total", wn, c);
				family(w, fallback, 0, "Counter %s of the %s "
				    "worker (vnetctl stats: %s.%s)", c, wn, wn, c);
			}
			sample(w, cn != NULL ? cn->metric : fallback, v,
			    (char *)NULL);
		}
	}
}

/* drop_* and refused_* of every worker, one family each, by reason. */
static void
worker_reasons(struct mw *w)
{
	const struct json	*s = w->in->stats;
	char			 wn[NAME_MAX_LEN], c[NAME_MAX_LEN];
	uint64_t		 v;
	size_t			 i, plen;
	int			 wk, ck, pass, seen;

	for (i = 0; i < NELEM(by_reason); i++) {
		plen = strlen(by_reason[i].prefix);
		/* Pass 0 only looks: a family with no sample is left out. */
		for (pass = 0, seen = 0; pass < 2 && (pass == 0 || seen);
		    pass++) {
			if (pass == 1)
				family(w, by_reason[i].metric, 0, "%s",
				    by_reason[i].help);
			FOREACH_MEMBER(s, 0, wk) {
				if (clean_name(s, wk, wn, sizeof(wn)) == -1)
					continue;
				FOREACH_MEMBER(s, wk + 1, ck) {
					if (clean_name(s, ck, c, sizeof(c)) ==
					    -1 || strncmp(c, by_reason[i].prefix,
					    plen) != 0 || c[plen] == '\0' ||
					    json_u64(s, ck + 1, &v) == -1)
						continue;
					seen = 1;
					if (pass == 1)
						sample(w, by_reason[i].metric, v,
						    "worker", wn, "reason",
						    c + plen, (char *)NULL);
				}
			}
		}
	}
}

/* A link's host and peer, the labels of every per-link sample. */
static int
link_labels(const struct json *l, int link, char *host, char *peer,
    size_t len)
{
	return json_str(l, json_get(l, link, "host"), host, len) == -1 ||
	    json_str(l, json_get(l, link, "peer"), peer, len) == -1 ? -1 : 0;
}

static void
links(struct mw *w, int arr)
{
	const struct json	*l = w->in->links;
	char			 host[256], peer[256], tls[256], cipher[256];
	char			 tr[16];
	uint64_t		 v;
	size_t			 f;
	int			 k;

	family(w, "vnet_link_up", 1, "1 for each link that is up, by host "
	    "and peer address (vnetctl links: state)");
	for (k = arr + 1; k < l->t[arr].end; k = l->t[k].end)
		if (link_labels(l, k, host, peer, sizeof(host)) == 0)
			sample(w, "vnet_link_up", json_eq(l,
			    json_get(l, k, "state"), "up"), "host", host,
			    "peer", peer, (char *)NULL);
	family(w, "vnet_link_info", 1, "The TLS version, cipher suite and "
	    "transport of each link (vnetctl links: tls, cipher, transport)");
	for (k = arr + 1; k < l->t[arr].end; k = l->t[k].end)
		if (link_labels(l, k, host, peer, sizeof(host)) == 0 &&
		    json_str(l, json_get(l, k, "tls"), tls, sizeof(tls)) == 0 &&
		    json_str(l, json_get(l, k, "cipher"), cipher,
		    sizeof(cipher)) == 0 && json_str(l, json_get(l, k,
		    "transport"), tr, sizeof(tr)) == 0)
			sample(w, "vnet_link_info", 1, "host", host, "peer",
			    peer, "tls", tls, "cipher", cipher, "transport", tr,
			    (char *)NULL);
	for (f = 0; f < NELEM(link_fields); f++) {
		family(w, link_fields[f].metric, link_fields[f].gauge, "%s",
		    link_fields[f].help);
		for (k = arr + 1; k < l->t[arr].end; k = l->t[k].end)
			if (link_labels(l, k, host, peer, sizeof(host)) == 0 &&
			    json_u64(l, json_get(l, k, link_fields[f].member),
			    &v) == 0)
				sample(w, link_fields[f].metric, v, "host",
				    host, "peer", peer, (char *)NULL);
	}
}

int
metrics_write(FILE *out, const struct metrics_in *in, const char **why)
{
	struct mw	 w = { out, in };
	uint64_t	 nlinks, nmacs;
	int		 arr;

	if (stats_shape(in->stats) == -1) {
		*why = "the stats reply is not what vnetd sends";
		return -1;
	}
	if (json_u64(in->links, json_get(in->links, 0, "total"), &nlinks) ==
	    -1 || (arr = json_get(in->links, 0, "links")) == -1 ||
	    in->links->t[arr].type != JSON_ARR) {
		*why = "the links reply is not what vnetd sends";
		return -1;
	}
	if (json_u64(in->macs, json_get(in->macs, 0, "total"), &nmacs) == -1) {
		*why = "the macs reply is not what vnetd sends";
		return -1;
	}
	worker_restarts(&w);
	worker_counters(&w);
	worker_reasons(&w);
	family(&w, "vnet_links", 1, "Links up (vnetctl links: total)");
	sample(&w, "vnet_links", nlinks, (char *)NULL);
	links(&w, arr);
	family(&w, "vnet_forwarding_table_entries", 1, "MAC addresses in the "
	    "forwarding table (vnetctl macs: total)");
	sample(&w, "vnet_forwarding_table_entries", nmacs, (char *)NULL);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * vnetd configuration parser (grammar in vnetd.conf(5)).
 *
 * A pure function of its input: the monitor, the workers and the fuzzer
 * must reach the same verdict on the same text, so nothing here looks
 * at files, the environment, the locale or any global state. Input is
 * checked byte by byte first, then split into lines of tokens that point
 * into the text (nothing is copied until a value has been validated).
 * Whatever the input, the outcome is a complete struct conf or an error
 * with nothing left allocated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <syslog.h>

#include "lib/conf.h"

#define MAXTOK		8	/* kept per line; more are only counted */
#define ECHO_MAX	40	/* bytes of a bad value quoted in a message */
#define MTU_MIN		68	/* RFC 791 minimum */
#define PIN_PREFIX	"sha256:"
#define PIN_HEX		64	/* 32 bytes as plain hex */
#define PIN_COLON	95	/* 32 bytes as colon-separated pairs */

struct tok {
	const char	*s;		/* into the text, not NUL-terminated */
	size_t		 len;
	int		 quoted;	/* quoted tokens are never keywords */
};

struct line {
	unsigned	 no;
	size_t		 ntok;		/* may exceed MAXTOK */
	struct tok	 t[MAXTOK];
};

enum ctx { CTX_TOP, CTX_BLOCK };

/* Keyword flags. */
#define KF_ONCE		0x01	/* singleton: a second use is an error */
#define KF_REQ		0x02	/* required (for kw->role, if set) */
#define KF_ABS		0x04	/* string: must be an absolute path */
#define KF_NOBLANK	0x08	/* string: no blanks (only possible quoted) */

struct parser;
struct kw;
typedef int	(*kw_fn)(struct parser *, const struct kw *,
		    const struct line *);

struct kw {
	const char	*name;
	kw_fn		 fn;
	enum ctx	 ctx;
	enum conf_role	 role;		/* CONF_ROLE_NONE: either role */
	unsigned	 flags;
	size_t		 minargs, maxargs;
	size_t		 off, size;	/* kw_str: field in struct conf */
};

static int	kw_role(struct parser *, const struct kw *, const struct line *);
static int	kw_str(struct parser *, const struct kw *, const struct line *);
static int	kw_interface(struct parser *, const struct kw *,
		    const struct line *);
static int	kw_keepalive(struct parser *, const struct kw *,
		    const struct line *);
static int	kw_mtu(struct parser *, const struct kw *, const struct line *);
static int	kw_uint(struct parser *, const struct kw *, const struct line *);
static int	kw_facility(struct parser *, const struct kw *,
		    const struct line *);
static int	kw_connect(struct parser *, const struct kw *,
		    const struct line *);
static int	kw_listen(struct parser *, const struct kw *,
		    const struct line *);
static int	kw_pin(struct parser *, const struct kw *, const struct line *);
static int	kw_vm(struct parser *, const struct kw *, const struct line *);
static int	kw_host(struct parser *, const struct kw *, const struct line *);
static int	kw_cn(struct parser *, const struct kw *, const struct line *);
static int	kw_hpin(struct parser *, const struct kw *, const struct line *);
static int	kw_mac(struct parser *, const struct kw *, const struct line *);
static int	kw_vlan(struct parser *, const struct kw *, const struct line *);
static int	kw_transport(struct parser *, const struct kw *,
		    const struct line *);

#define STR(f)	offsetof(struct conf, f), sizeof(((struct conf *)0)->f)
#define H	CONF_ROLE_HOST
#define P	CONF_ROLE_PROXY
#define ANY	CONF_ROLE_NONE

/* Table order is the order in which missing keywords are reported. */
static const struct kw kws[] = {
	{ "role", kw_role, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "interface", kw_interface, CTX_TOP, ANY, KF_ONCE | KF_REQ, 1, 1,
	    0, 0 },
	{ "user", kw_str, CTX_TOP, ANY, KF_ONCE | KF_NOBLANK, 1, 1,
	    STR(user) },
	{ "chroot", kw_str, CTX_TOP, ANY, KF_ONCE | KF_ABS, 1, 1,
	    STR(chroot) },
	{ "certificate", kw_str, CTX_TOP, ANY, KF_ONCE | KF_REQ, 1, 1,
	    STR(certificate) },
	{ "key", kw_str, CTX_TOP, ANY, KF_ONCE | KF_REQ, 1, 1, STR(key) },
	{ "ca", kw_str, CTX_TOP, ANY, KF_ONCE | KF_REQ, 1, 1, STR(ca) },
	{ "crl", kw_str, CTX_TOP, ANY, KF_ONCE, 1, 1, STR(crl) },
	{ "keepalive", kw_keepalive, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "mtu", kw_mtu, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "vlan-allow", kw_vlan, CTX_TOP, ANY, 0, 1, MAXTOK - 2, 0, 0 },
	{ "transport", kw_transport, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "wan-mtu", kw_uint, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "rekey-packets", kw_uint, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "udp-probe", kw_uint, CTX_TOP, H, KF_ONCE, 1, 1, 0, 0 },
	{ "handshake-timeout", kw_uint, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "restart-max-delay", kw_uint, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "sign-rate", kw_uint, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "syslog-facility", kw_facility, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "audit-facility", kw_facility, CTX_TOP, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "control", kw_str, CTX_TOP, ANY, KF_ONCE | KF_ABS, 1, 1,
	    STR(control) },
	{ "control-group", kw_str, CTX_TOP, ANY, KF_ONCE | KF_NOBLANK, 1, 1,
	    STR(control_group) },
	{ "max-pending", kw_uint, CTX_TOP, P, KF_ONCE, 1, 1, 0, 0 },
	{ "max-pending-per-source", kw_uint, CTX_TOP, P, KF_ONCE, 1, 1, 0, 0 },
	{ "max-links", kw_uint, CTX_TOP, P, KF_ONCE, 1, 1, 0, 0 },
	{ "connect", kw_connect, CTX_TOP, H, KF_REQ, 1, 3, 0, 0 },
	{ "peer-name", kw_str, CTX_TOP, H, KF_ONCE, 1, 1, STR(peer_name) },
	{ "pin", kw_pin, CTX_TOP, H, KF_ONCE, 1, 1, 0, 0 },
	{ "vm", kw_vm, CTX_TOP, H, KF_REQ, 1, 3, 0, 0 },
	{ "listen", kw_listen, CTX_TOP, P, KF_ONCE | KF_REQ, 1, 3, 0, 0 },
	{ "host", kw_host, CTX_TOP, P, KF_REQ, 1, 2, 0, 0 },
	{ "cn", kw_cn, CTX_BLOCK, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "pin", kw_hpin, CTX_BLOCK, ANY, KF_ONCE, 1, 1, 0, 0 },
	{ "mac", kw_mac, CTX_BLOCK, ANY, 0, 1, 1, 0, 0 },
};
#define NKW	(sizeof(kws) / sizeof(kws[0]))

#undef H
#undef P
#undef ANY
#undef STR

struct parser {
	struct conf		*c;
	struct conf_error	*err;
	unsigned		 seen[NKW];	/* line of first use */
	unsigned		 role_line[3];	/* first role-only keyword */
	const char		*role_kw[3];
	size_t			 vms_cap, hosts_cap, macs_cap;
	int			 inblock;	/* hosts[nhosts - 1] is open */
	int			 want_brace;	/* "host NAME" without '{' */
	unsigned		 block_line;	/* of the current host */
	unsigned		 cn_line;	/* of its cn, 0 if none */
};

static int	perr(struct parser *, unsigned, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Record the error; always returns -1 so callers can return it. */
static int
perr(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list	ap;

	p->err->line = line;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Quote a token in a message: TF in the format, TA(t) in the args. */
#define TF	"'%.*s%s'"
#define TA(t)	(int)((t)->len > ECHO_MAX ? ECHO_MAX : (t)->len), (t)->s, \
		((t)->len > ECHO_MAX ? "..." : "")

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int
tok_eq(const struct tok *t, const char *w)
{
	return t->len == strlen(w) && memcmp(t->s, w, t->len) == 0;
}

/* Keywords and braces: a quoted "{" is a value, never syntax. */
static int
is_word(const struct tok *t, const char *w)
{
	return !t->quoted && tok_eq(t, w);
}


static int
has_char(const struct tok *t, const char *set)
{
	size_t	i;

	for (i = 0; i < t->len; i++)
		if (t->s[i] != '\0' && strchr(set, t->s[i]) != NULL)
			return 1;
	return 0;
}

static const char *
role_name(enum conf_role r)
{
	return r == CONF_ROLE_HOST ? "host" : "proxy";
}

static struct conf_host *
cur_host(struct parser *p)
{
	return &p->c->hosts[p->c->nhosts - 1];
}

/* Copy a token into a field of size bytes, refusing what does not fit. */
static int
copy_tok(struct parser *p, const struct line *l, const char *what,
    const struct tok *t, char *dst, size_t size)
{
	if (t->len == 0)
		return perr(p, l->no, "%s: empty value", what);
	if (t->len >= size)
		return perr(p, l->no, "%s: " TF " is too long (max %zu bytes)",
		    what, TA(t), size - 1);
	memcpy(dst, t->s, t->len);
	dst[t->len] = '\0';
	return 0;
}

/* Plain decimal only: no sign, no blanks, no hex, no overflow. */
static int
get_uint(const struct tok *t, unsigned max, unsigned *out)
{
	unsigned	v = 0;
	size_t		i;

	/* Nine digits cannot overflow; anything longer is out of range. */
	if (t->len == 0 || t->len > 9)
		return -1;
	for (i = 0; i < t->len; i++) {
		if (t->s[i] < '0' || t->s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(t->s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * "sha256:" then 64 hex digits, or 32 colon-separated pairs as
 * openssl x509 -fingerprint -sha256 prints them.
 */
static int
parse_pin(struct parser *p, const struct line *l, const char *what,
    const struct tok *t, uint8_t pin[32])
{
	const size_t	 plen = sizeof(PIN_PREFIX) - 1;
	const char	*s, *q;
	size_t		 i, step;
	int		 hi, lo;

	if (t->len < plen || memcmp(t->s, PIN_PREFIX, plen) != 0)
		goto bad;
	s = t->s + plen;
	if (t->len - plen == PIN_HEX)
		step = 2;
	else if (t->len - plen == PIN_COLON)
		step = 3;
	else
		goto bad;
	for (i = 0; i < 32; i++) {
		q = s + i * step;
		if (step == 3 && i < 31 && q[2] != ':')
			goto bad;
		if ((hi = hexval(q[0])) < 0 || (lo = hexval(q[1])) < 0)
			goto bad;
		pin[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
bad:
	return perr(p, l->no, "%s: bad pin " TF " (want sha256: and 64 hex "
	    "digits)", what, TA(t));
}

/* A unicast, non-zero MAC: what a VM's interface can legitimately own. */
static int
parse_mac(struct parser *p, const struct line *l, const char *what,
    const struct tok *t, uint8_t mac[VNET_ETH_ALEN])
{
	char	buf[18];
	size_t	i;

	if (t->len != sizeof(buf) - 1)
		goto bad;
	memcpy(buf, t->s, t->len);
	buf[t->len] = '\0';
	if (mac_parse(buf, mac) != 0)
		goto bad;
	if (mac_is_group(mac))
		return perr(p, l->no, "%s: multicast or broadcast address "
		    TF, what, TA(t));
	for (i = 0; i < VNET_ETH_ALEN; i++)
		if (mac[i] != 0)
			return 0;
	return perr(p, l->no, "%s: all-zero address " TF, what, TA(t));
bad:
	return perr(p, l->no, "%s: bad MAC address " TF, what, TA(t));
}

static int
find_mac(const conf_mac *arr, size_t n, const uint8_t *mac)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (memcmp(arr[i], mac, VNET_ETH_ALEN) == 0)
			return 1;
	return 0;
}

/* Append to a bounded array that grows by doubling. */
static int
append_mac(struct parser *p, const struct line *l, const char *what,
    conf_mac **arr, size_t *n, size_t *cap, const uint8_t *mac)
{
	conf_mac	*na;
	size_t		 ncap;

	if (*n >= CONF_MAX_MACS)
		return perr(p, l->no, "%s: too many MAC addresses (max %d)",
		    what, CONF_MAX_MACS);
	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 4;
		if (ncap > CONF_MAX_MACS)
			ncap = CONF_MAX_MACS;
		if ((na = realloc(*arr, ncap * sizeof(**arr))) == NULL)
			return perr(p, l->no, "out of memory");
		*arr = na;
		*cap = ncap;
	}
	memcpy((*arr)[(*n)++], mac, VNET_ETH_ALEN);
	return 0;
}

static int
kw_role(struct parser *p, const struct kw *kw, const struct line *l)
{
	const struct tok	*t = &l->t[1];

	if (tok_eq(t, "host"))
		p->c->role = CONF_ROLE_HOST;
	else if (tok_eq(t, "proxy"))
		p->c->role = CONF_ROLE_PROXY;
	else
		return perr(p, l->no, "%s: expected 'host' or 'proxy', not " TF,
		    kw->name, TA(t));
	return 0;
}

static int
kw_str(struct parser *p, const struct kw *kw, const struct line *l)
{
	const struct tok	*t = &l->t[1];

	if ((kw->flags & KF_ABS) && t->len > 0 && t->s[0] != '/')
		return perr(p, l->no, "%s: " TF " is not an absolute path",
		    kw->name, TA(t));
	if ((kw->flags & KF_NOBLANK) && has_char(t, " \t"))
		return perr(p, l->no, "%s: " TF " contains a blank", kw->name,
		    TA(t));
	return copy_tok(p, l, kw->name, t, (char *)p->c + kw->off, kw->size);
}

/* The kernel's rules for a device name (dev_valid_name()). */
static int
check_ifname(struct parser *p, const struct line *l, const char *what,
    const struct tok *t)
{
	if (t->len >= IF_NAMESIZE)
		return perr(p, l->no, "%s: " TF " is longer than %d characters",
		    what, TA(t), IF_NAMESIZE - 1);
	if (has_char(t, "/: \t") || tok_eq(t, ".") || tok_eq(t, ".."))
		return perr(p, l->no, "%s: bad interface name " TF, what,
		    TA(t));
	return 0;
}

static int
kw_interface(struct parser *p, const struct kw *kw, const struct line *l)
{
	const struct tok	*t = &l->t[1];

	if (check_ifname(p, l, kw->name, t) == -1)
		return -1;
	return copy_tok(p, l, kw->name, t, p->c->interface,
	    sizeof(p->c->interface));
}

static int
kw_keepalive(struct parser *p, const struct kw *kw, const struct line *l)
{
	unsigned	v;

	if (get_uint(&l->t[1], 3600, &v) == -1 || v < 1)
		return perr(p, l->no, "%s: bad value " TF " (1..3600 seconds)",
		    kw->name, TA(&l->t[1]));
	p->c->keepalive = v;
	return 0;
}

static int
kw_mtu(struct parser *p, const struct kw *kw, const struct line *l)
{
	unsigned	v;

	if (get_uint(&l->t[1], 65535, &v) == -1 || (v != 0 && v < MTU_MIN))
		return perr(p, l->no, "%s: bad value " TF " (%d..65535, or 0)",
		    kw->name, TA(&l->t[1]), MTU_MIN);
	p->c->mtu = v;
	return 0;
}

/*
 * vlan-allow VID...: may repeat, so a long list spans lines. A VID
 * given twice is an error, as a duplicate MAC is: it hides a typo.
 */
static int
kw_vlan(struct parser *p, const struct kw *kw, const struct line *l)
{
	struct conf	*c = p->c;
	unsigned	 v;
	size_t		 i;

	for (i = 1; i < l->ntok; i++) {
		if (get_uint(&l->t[i], CONF_VLAN_MAX, &v) == -1)
			return perr(p, l->no, "%s: bad VLAN ID " TF " (0..%d)",
			    kw->name, TA(&l->t[i]), CONF_VLAN_MAX);
		if (conf_vlan_allowed(c, v))
			return perr(p, l->no, "%s: VLAN ID %u given twice",
			    kw->name, v);
		c->vlan_allow[v / 8] |= (uint8_t)(1u << (v % 8));
		c->nvlan_allow++;
	}
	return 0;
}

/*
 * transport auto|udp|tcp. The host decides a link's transport; a proxy
 * only follows or refuses UDP, so 'udp' (never fall back) is a host's.
 */
static int
kw_transport(struct parser *p, const struct kw *kw, const struct line *l)
{
	static const char *const names[] = { "auto", "udp", "tcp" };
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (tok_eq(&l->t[1], names[i])) {
			p->c->transport = (enum conf_transport)i;
			return 0;
		}
	}
	return perr(p, l->no, "%s: bad value " TF " (auto, udp or tcp)",
	    kw->name, TA(&l->t[1]));
}

/* Bounded numbers: where each goes and its range. */
static const struct {
	const char	*name;
	size_t		 off;
	unsigned	 lo, hi;
	const char	*unit;
} uints[] = {
	{ "handshake-timeout", offsetof(struct conf, handshake_timeout),
	    1, 300, " seconds" },
	{ "max-pending", offsetof(struct conf, max_pending),
	    1, CONF_LIMIT_MAX, "" },
	{ "max-pending-per-source", offsetof(struct conf,
	    max_pending_per_source), 1, CONF_LIMIT_MAX, "" },
	{ "max-links", offsetof(struct conf, max_links),
	    1, CONF_LIMIT_MAX, "" },
	{ "restart-max-delay", offsetof(struct conf, restart_max_delay),
	    100, 600000, " ms" },
	{ "sign-rate", offsetof(struct conf, sign_rate),
	    1, CONF_SIGN_RATE_MAX, " per second" },
	{ "wan-mtu", offsetof(struct conf, wan_mtu),
	    CONF_WAN_MTU_MIN, CONF_WAN_MTU_MAX, " bytes" },
	{ "rekey-packets", offsetof(struct conf, rekey_packets),
	    CONF_REKEY_MIN, CONF_REKEY_MAX, " packets" },
	{ "udp-probe", offsetof(struct conf, udp_probe),
	    1, 3600, " seconds" },
};

static int
kw_uint(struct parser *p, const struct kw *kw, const struct line *l)
{
	unsigned	v;
	size_t		i;

	for (i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
		if (strcmp(uints[i].name, kw->name) != 0)
			continue;
		if (get_uint(&l->t[1], uints[i].hi, &v) == -1 ||
		    v < uints[i].lo)
			return perr(p, l->no, "%s: bad value " TF " (%u..%u%s)",
			    kw->name, TA(&l->t[1]), uints[i].lo, uints[i].hi,
			    uints[i].unit);
		memcpy((char *)p->c + uints[i].off, &v, sizeof(v));
		return 0;
	}
	return perr(p, l->no, "%s: no range known", kw->name);
}

int
conf_facility(const char *name)
{
	static const struct {
		const char	*name;
		int		 fac;
	} facs[] = {
		{ "daemon", LOG_DAEMON }, { "authpriv", LOG_AUTHPRIV },
		{ "auth", LOG_AUTH }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(facs) / sizeof(facs[0]); i++)
		if (strcmp(facs[i].name, name) == 0)
			return facs[i].fac;
	return -1;
}

static int
kw_facility(struct parser *p, const struct kw *kw, const struct line *l)
{
	char	 name[16];
	int	 fac;

	if (l->t[1].len >= sizeof(name))
		return perr(p, l->no, "%s: unknown facility " TF, kw->name,
		    TA(&l->t[1]));
	memcpy(name, l->t[1].s, l->t[1].len);
	name[l->t[1].len] = '\0';
	if ((fac = conf_facility(name)) == -1)
		return perr(p, l->no, "%s: unknown facility " TF " (daemon, "
		    "authpriv, auth, user, local0..local7)", kw->name,
		    TA(&l->t[1]));
	if (kw->name[0] == 's')
		p->c->syslog_facility = fac;
	else
		p->c->audit_facility = fac;
	return 0;
}

/* ADDRESS [port N], shared by connect and listen. */
static int
endpoint(struct parser *p, const struct kw *kw, const struct line *l,
    char *addr, uint16_t *port)
{
	unsigned	v;

	if (has_char(&l->t[1], " \t"))
		return perr(p, l->no, "%s: address " TF " contains a blank",
		    kw->name, TA(&l->t[1]));
	if (copy_tok(p, l, kw->name, &l->t[1], addr, CONF_MAX_STR) == -1)
		return -1;
	if (l->ntok == 2)
		return 0;
	if (!is_word(&l->t[2], "port"))
		return perr(p, l->no, "%s: expected 'port', not " TF, kw->name,
		    TA(&l->t[2]));
	if (l->ntok < 4)
		return perr(p, l->no, "%s: port: missing argument", kw->name);
	if (get_uint(&l->t[3], 65535, &v) == -1 || v == 0)
		return perr(p, l->no, "%s: bad port " TF " (1..65535)",
		    kw->name, TA(&l->t[3]));
	*port = (uint16_t)v;
	return 0;
}

/*
 * connect may repeat: each line names one more proxy, in order of
 * preference. The same proxy twice would only make failover dial it
 * again, and hides a typo in the line meant to differ.
 */
static int
kw_connect(struct parser *p, const struct kw *kw, const struct line *l)
{
	struct conf		*c = p->c;
	struct conf_connect	*cc;
	size_t			 i;

	if (c->nconnect == CONF_MAX_CONNECT)
		return perr(p, l->no, "%s: too many proxies (max %d)",
		    kw->name, CONF_MAX_CONNECT);
	cc = &c->connect[c->nconnect];
	cc->port = CONF_PORT_DEFAULT;
	cc->line = l->no;
	if (endpoint(p, kw, l, cc->addr, &cc->port) == -1)
		return -1;
	for (i = 0; i < c->nconnect; i++)
		if (c->connect[i].port == cc->port &&
		    strcmp(c->connect[i].addr, cc->addr) == 0)
			return perr(p, l->no, "%s: duplicate proxy %s port %u "
			    "(first on line %u)", kw->name, cc->addr,
			    cc->port, c->connect[i].line);
	c->nconnect++;
	return 0;
}

static int
kw_listen(struct parser *p, const struct kw *kw, const struct line *l)
{
	return endpoint(p, kw, l, p->c->listen_addr, &p->c->listen_port);
}

static int
kw_pin(struct parser *p, const struct kw *kw, const struct line *l)
{
	if (parse_pin(p, l, kw->name, &l->t[1], p->c->pin) == -1)
		return -1;
	p->c->has_pin = 1;
	return 0;
}

/*
 * "vm MAC [port NAME]": the port binds the VM to its bridge port. The
 * port list runs parallel to vms[]; "" for a VM bound to none.
 */
static int
kw_vm(struct parser *p, const struct kw *kw, const struct line *l)
{
	struct conf	*c = p->c;
	uint8_t		 mac[VNET_ETH_ALEN];
	char		 (*np)[IF_NAMESIZE];
	size_t		 i;

	if (parse_mac(p, l, kw->name, &l->t[1], mac) == -1)
		return -1;
	if (find_mac(c->vms, c->nvms, mac))
		return perr(p, l->no, "%s: duplicate MAC address " TF,
		    kw->name, TA(&l->t[1]));
	if (l->ntok == 3 || (l->ntok == 4 && !tok_eq(&l->t[2], "port")))
		return perr(p, l->no, "%s: expected 'port NAME' after the "
		    "MAC address", kw->name);
	if (l->ntok == 4 && l->t[3].len == 0)
		return perr(p, l->no, "%s: empty port name", kw->name);
	if (l->ntok == 4 && check_ifname(p, l, "vm port", &l->t[3]) == -1)
		return -1;
	if (append_mac(p, l, kw->name, &c->vms, &c->nvms, &p->vms_cap,
	    mac) == -1)
		return -1;
	if ((np = realloc(c->vm_ports, p->vms_cap * sizeof(*np))) == NULL)
		return perr(p, l->no, "%s: out of memory", kw->name);
	c->vm_ports = np;
	np[c->nvms - 1][0] = '\0';
	if (l->ntok < 4)
		return 0;
	for (i = 0; i + 1 < c->nvms; i++)
		if (tok_eq(&l->t[3], np[i]))
			return perr(p, l->no, "%s: port " TF " is already VM "
			    "%zu's", kw->name, TA(&l->t[3]), i + 1);
	return copy_tok(p, l, "vm port", &l->t[3], np[c->nvms - 1],
	    IF_NAMESIZE);
}

/* Make room for one more host; its slot is not counted until named. */
static int
grow_hosts(struct parser *p, const struct line *l)
{
	struct conf		*c = p->c;
	struct conf_host	*nh;
	size_t			 ncap;

	if (c->nhosts >= CONF_MAX_HOSTS)
		return perr(p, l->no, "host: too many host blocks (max %d)",
		    CONF_MAX_HOSTS);
	if (c->nhosts < p->hosts_cap)
		return 0;
	ncap = p->hosts_cap ? p->hosts_cap * 2 : 4;
	if (ncap > CONF_MAX_HOSTS)
		ncap = CONF_MAX_HOSTS;
	if ((nh = realloc(c->hosts, ncap * sizeof(*nh))) == NULL)
		return perr(p, l->no, "out of memory");
	c->hosts = nh;
	p->hosts_cap = ncap;
	return 0;
}

static int
kw_host(struct parser *p, const struct kw *kw, const struct line *l)
{
	struct conf		*c = p->c;
	const struct tok	*t = &l->t[1];
	struct conf_host	*h;
	size_t			 i;

	if (t->len == 0 || has_char(t, "{} \t"))
		return perr(p, l->no, "%s: bad name " TF, kw->name, TA(t));
	if (l->ntok == 3 && !is_word(&l->t[2], "{"))
		return perr(p, l->no, "%s: expected '{', not " TF, kw->name,
		    TA(&l->t[2]));
	for (i = 0; i < c->nhosts; i++)
		if (tok_eq(t, c->hosts[i].name))
			return perr(p, l->no, "%s: duplicate name " TF,
			    kw->name, TA(t));
	if (grow_hosts(p, l) == -1)
		return -1;
	h = &c->hosts[c->nhosts];
	memset(h, 0, sizeof(*h));
	if (copy_tok(p, l, kw->name, t, h->name, sizeof(h->name)) == -1)
		return -1;
	c->nhosts++;

	/* Block-level singletons start afresh in every block. */
	for (i = 0; i < NKW; i++)
		if (kws[i].ctx == CTX_BLOCK)
			p->seen[i] = 0;
	p->inblock = l->ntok == 3;
	p->want_brace = !p->inblock;
	p->block_line = l->no;
	p->cn_line = 0;
	p->macs_cap = 0;
	return 0;
}

static int
kw_cn(struct parser *p, const struct kw *kw, const struct line *l)
{
	struct conf_host	*h = cur_host(p);

	p->cn_line = l->no;
	return copy_tok(p, l, kw->name, &l->t[1], h->cn, sizeof(h->cn));
}

static int
kw_hpin(struct parser *p, const struct kw *kw, const struct line *l)
{
	struct conf_host	*h = cur_host(p);

	if (parse_pin(p, l, kw->name, &l->t[1], h->pin) == -1)
		return -1;
	h->has_pin = 1;
	return 0;
}

static int
kw_mac(struct parser *p, const struct kw *kw, const struct line *l)
{
	struct conf_host	*h = cur_host(p);
	uint8_t			 mac[VNET_ETH_ALEN];

	if (parse_mac(p, l, kw->name, &l->t[1], mac) == -1)
		return -1;
	if (find_mac(h->macs, h->nmacs, mac))
		return perr(p, l->no, "%s: duplicate MAC address " TF
		    " in host '%.40s'", kw->name, TA(&l->t[1]), h->name);
	return append_mac(p, l, kw->name, &h->macs, &h->nmacs, &p->macs_cap,
	    mac);
}

/* The line after "host NAME" must be a lone '{'. */
static int
open_brace(struct parser *p, const struct line *l)
{
	if (l->ntok != 1 || !is_word(&l->t[0], "{"))
		return perr(p, l->no, "host '%.40s': expected '{'",
		    cur_host(p)->name);
	p->want_brace = 0;
	p->inblock = 1;
	return 0;
}

/* '}': the block is complete, so its defaults and uniqueness apply. */
static int
close_block(struct parser *p, const struct line *l)
{
	struct conf		*c = p->c;
	struct conf_host	*h;
	size_t			 i;

	if (!p->inblock)
		return perr(p, l->no, "unexpected '}'");
	if (l->ntok != 1)
		return perr(p, l->no, "unexpected " TF " after '}'",
		    TA(&l->t[1]));
	h = cur_host(p);
	if (h->nmacs == 0)
		return perr(p, p->block_line, "host '%.40s': no 'mac' line",
		    h->name);
	if (h->cn[0] == '\0')
		memcpy(h->cn, h->name, sizeof(h->cn));
	for (i = 0; i + 1 < c->nhosts; i++)
		if (strcmp(c->hosts[i].cn, h->cn) == 0)
			return perr(p, p->cn_line ? p->cn_line : p->block_line,
			    "host '%.40s': cn '%.40s' already used by host "
			    "'%.40s'", h->name, h->cn, c->hosts[i].name);
	p->inblock = 0;
	return 0;
}

static const struct kw *
find_kw(struct parser *p, const struct line *l, size_t *idx)
{
	const struct tok	*k = &l->t[0];
	enum ctx		 ctx = p->inblock ? CTX_BLOCK : CTX_TOP;
	size_t			 i;
	int			 elsewhere = 0;

	for (i = 0; i < NKW; i++) {
		if (!is_word(k, kws[i].name))
			continue;
		if (kws[i].ctx == ctx) {
			*idx = i;
			return &kws[i];
		}
		elsewhere = 1;
	}
	if (!elsewhere)
		perr(p, l->no, "unknown keyword " TF, TA(k));
	else if (ctx == CTX_TOP)
		perr(p, l->no, TF " is only valid inside a host block", TA(k));
	else
		perr(p, l->no, TF " is not valid inside a host block "
		    "(missing '}'?)", TA(k));
	return NULL;
}

static int
dispatch(struct parser *p, const struct line *l)
{
	const struct kw	*kw;
	size_t		 i, nargs = l->ntok - 1;

	if (p->want_brace)
		return open_brace(p, l);
	if (is_word(&l->t[0], "{"))
		return perr(p, l->no, "unexpected '{'");
	if (is_word(&l->t[0], "}"))
		return close_block(p, l);
	if ((kw = find_kw(p, l, &i)) == NULL)
		return -1;
	if ((kw->flags & KF_ONCE) && p->seen[i] != 0)
		return perr(p, l->no, "'%s' given twice (first on line %u)",
		    kw->name, p->seen[i]);
	if (nargs < kw->minargs)
		return perr(p, l->no, "%s: missing argument", kw->name);
	if (nargs > kw->maxargs)
		return perr(p, l->no, "%s: unexpected argument " TF, kw->name,
		    TA(&l->t[kw->maxargs + 1]));
	if (p->seen[i] == 0)
		p->seen[i] = l->no;
	/* Role may come later in the file: judge this at the end. */
	if (kw->role != CONF_ROLE_NONE && p->role_line[kw->role] == 0) {
		p->role_line[kw->role] = l->no;
		p->role_kw[kw->role] = kw->name;
	}
	return kw->fn(p, kw, l);
}

/*
 * Refuse bytes no configuration needs: NUL would silently cut C strings
 * further down, and control characters only hide what a file says.
 */
static int
check_bytes(struct parser *p, const char *text, size_t len)
{
	unsigned	 line = 1;
	size_t		 i;
	unsigned char	 ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)text[i];
		if (ch == '\n')
			line++;
		else if (ch == '\0')
			return perr(p, line, "NUL byte in configuration");
		else if (ch == '\r')
			return perr(p, line, "carriage return (DOS line "
			    "ending?)");
		else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return perr(p, line, "control character 0x%02x", ch);
	}
	return 0;
}

static int
at_tok_end(const char *text, size_t len, size_t i)
{
	return i == len || is_blank(text[i]) || text[i] == '\n' ||
	    text[i] == '#';
}

/* Split the line at text[*pos] into tokens; move *pos past its '\n'. */
static int
lex_line(struct parser *p, const char *text, size_t len, size_t *pos,
    struct line *l)
{
	struct tok	t;
	size_t		i = *pos, start;

	l->ntok = 0;
	for (;;) {
		while (i < len && is_blank(text[i]))
			i++;
		if (i == len || text[i] == '\n' || text[i] == '#')
			break;
		if (text[i] == '"') {
			start = ++i;
			while (i < len && text[i] != '"' && text[i] != '\n')
				i++;
			if (i == len || text[i] != '"')
				return perr(p, l->no, "unterminated quote");
			t = (struct tok){ text + start, i - start, 1 };
			if (!at_tok_end(text, len, ++i))
				return perr(p, l->no, "text right after a "
				    "closing quote");
		} else {
			start = i;
			while (!at_tok_end(text, len, i) && text[i] != '"')
				i++;
			if (i < len && text[i] == '"')
				return perr(p, l->no, "quote inside a token");
			t = (struct tok){ text + start, i - start, 0 };
		}
		if (l->ntok < MAXTOK)
			l->t[l->ntok] = t;
		l->ntok++;
	}
	while (i < len && text[i] != '\n')
		i++;
	*pos = i < len ? i + 1 : i;
	return 0;
}

/* Line of the first use of a top-level keyword; 0 if it is absent. */
static unsigned
seen_top(const struct parser *p, const char *name)
{
	size_t	i;

	for (i = 0; i < NKW; i++)
		if (kws[i].ctx == CTX_TOP && strcmp(kws[i].name, name) == 0)
			return p->seen[i];
	return 0;
}

/*
 * Any certificate from the CA passes verification, host certificates
 * included: without a name or a pin to check, one stolen host key would
 * let its thief pose as the proxy to every other host.
 */
static int
check_proxy_identity(struct parser *p)
{
	if (p->c->role != CONF_ROLE_HOST || seen_top(p, "peer-name") != 0 ||
	    seen_top(p, "pin") != 0)
		return 0;
	return perr(p, seen_top(p, "connect"), "connect: the proxy is not "
	    "identified: add 'peer-name NAME' (a name in its certificate) "
	    "or 'pin sha256:...' (its fingerprint)");
}

/* A proxy follows its hosts' choice; only a host can insist on UDP. */
static int
check_transport(struct parser *p)
{
	if (p->c->role != CONF_ROLE_PROXY ||
	    p->c->transport != CONF_TRANSPORT_UDP)
		return 0;
	return perr(p, seen_top(p, "transport"), "transport: 'udp' is only "
	    "valid with role host (a proxy takes 'auto' or 'tcp')");
}

static int
finish(struct parser *p)
{
	struct conf	*c = p->c;
	enum conf_role	 other;
	size_t		 i;

	if (p->want_brace || p->inblock)
		return perr(p, p->block_line, "host '%.40s': missing '%s'",
		    cur_host(p)->name, p->want_brace ? "{" : "}");
	if (c->role == CONF_ROLE_NONE)
		return perr(p, 0, "missing 'role'");
	other = c->role == CONF_ROLE_HOST ? CONF_ROLE_PROXY : CONF_ROLE_HOST;
	if (p->role_line[other] != 0)
		return perr(p, p->role_line[other], "'%s' is only valid with "
		    "role %s", p->role_kw[other], role_name(other));
	for (i = 0; i < NKW; i++) {
		if (!(kws[i].flags & KF_REQ) || p->seen[i] != 0)
			continue;
		if (kws[i].role == CONF_ROLE_NONE)
			return perr(p, 0, "missing '%s'", kws[i].name);
		if (kws[i].role == c->role)
			return perr(p, 0, "missing '%s' (required with role %s)",
			    kws[i].name, role_name(c->role));
	}
	if (check_transport(p) == -1)
		return -1;
	return check_proxy_identity(p);
}

static int
parse(struct parser *p, const char *text, size_t len)
{
	struct line	l;
	size_t		pos = 0;
	unsigned	no = 0;

	if (len > CONF_MAX_TEXT)
		return perr(p, 0, "configuration too large (max %d bytes)",
		    CONF_MAX_TEXT);
	if (text == NULL && len > 0)
		return perr(p, 0, "no configuration text");
	if (check_bytes(p, text, len) == -1)
		return -1;
	while (pos < len) {
		l.no = ++no;
		if (lex_line(p, text, len, &pos, &l) == -1)
			return -1;
		if (l.ntok > 0 && dispatch(p, &l) == -1)
			return -1;
	}
	return finish(p);
}

int
conf_parse(const char *text, size_t len, struct conf *c,
    struct conf_error *err)
{
	struct conf_error	dummy;
	struct parser		p;

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	memset(c, 0, sizeof(*c));
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.err = err;

	snprintf(c->user, sizeof(c->user), "%s", CONF_USER_DEFAULT);
	snprintf(c->chroot, sizeof(c->chroot), "%s", CONF_CHROOT_DEFAULT);
	c->keepalive = CONF_KEEPALIVE_DEFAULT;
	c->handshake_timeout = CONF_HANDSHAKE_TIMEOUT_DEFAULT;
	c->restart_max_delay = CONF_RESTART_MAX_DELAY_DEFAULT;
	c->sign_rate = CONF_SIGN_RATE_DEFAULT;
	c->wan_mtu = CONF_WAN_MTU_DEFAULT;
	c->rekey_packets = CONF_REKEY_MAX;
	c->udp_probe = CONF_UDP_PROBE_DEFAULT;
	c->syslog_facility = LOG_DAEMON;
	c->audit_facility = LOG_AUTHPRIV;
	snprintf(c->control, sizeof(c->control), "%s", CONF_CONTROL_DEFAULT);
	snprintf(c->control_group, sizeof(c->control_group), "%s",
	    CONF_CONTROL_GROUP_DEFAULT);
	c->max_pending = CONF_MAX_PENDING_DEFAULT;
	c->max_pending_per_source = CONF_MAX_PENDING_SRC_DEFAULT;
	c->max_links = CONF_MAX_LINKS_DEFAULT;
	c->listen_port = CONF_PORT_DEFAULT;

	if (parse(&p, text, len) == -1) {
		conf_free(c);
		return -1;
	}
	return 0;
}

void
conf_free(struct conf *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nhosts; i++)
		free(c->hosts[i].macs);
	free(c->hosts);
	free(c->vms);
	free(c->vm_ports);
	memset(c, 0, sizeof(*c));
}

const struct conf_host *
conf_host_by_cn(const struct conf *c, const char *cn)
{
	size_t	i;

	if (c == NULL || cn == NULL)
		return NULL;
	for (i = 0; i < c->nhosts; i++)
		if (strcmp(c->hosts[i].cn, cn) == 0)
			return &c->hosts[i];
	return NULL;
}

int
conf_vlan_allowed(const struct conf *c, unsigned vid)
{
	if (c == NULL || vid > CONF_VLAN_MAX)
		return 0;
	return (c->vlan_allow[vid / 8] >> (vid % 8)) & 1;
}

int
conf_host_allows(const struct conf_host *h, const uint8_t *mac)
{
	if (h == NULL || mac == NULL)
		return 0;
	return find_mac(h->macs, h->nmacs, mac);
}

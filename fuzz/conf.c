/* SPDX-License-Identifier: ISC */
/*
 * conf_parse() on arbitrary text, as the monitor calls it on the file
 * and every worker on the MSG_CONFIG copy. A failure must leave nothing
 * behind (*c all zero, a terminated message); a success must satisfy
 * every rule of vnetd.conf(5), survive conf_free(), and come back
 * identical when written out as text and parsed again.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "fuzz/fuzz.h"
#include "lib/conf.h"

static const char *const facilities[] = {
	"daemon", "authpriv", "auth", "user", "local0", "local1", "local2",
	"local3", "local4", "local5", "local6", "local7",
};

/* The name conf_facility() maps to fac, or NULL: fac must be one. */
static const char *
facility_name(int fac)
{
	size_t	 i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (conf_facility(facilities[i]) == fac)
			return facilities[i];
	return NULL;
}

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* A non-empty, terminated string field with no byte a file cannot hold. */
static void
check_str(const char *s, size_t size, int may_be_empty)
{
	size_t	 i;

	FUZZ_ASSERT(terminated(s, size));
	FUZZ_ASSERT(may_be_empty || s[0] != '\0');
	for (i = 0; s[i] != '\0'; i++)
		FUZZ_ASSERT(s[i] != '"' && s[i] != '\n' &&
		    ((unsigned char)s[i] >= 0x20 || s[i] == '\t') &&
		    s[i] != 0x7f);
}

/* vlan-allow: as many IDs as counted, none beyond 4094. */
static void
check_vlans(const struct conf *c)
{
	size_t		 n = 0;
	unsigned	 v;

	for (v = 0; v < sizeof(c->vlan_allow) * 8; v++)
		if ((c->vlan_allow[v / 8] >> (v % 8)) & 1) {
			FUZZ_ASSERT(v <= CONF_VLAN_MAX);
			FUZZ_ASSERT(conf_vlan_allowed(c, v));
			n++;
		}
	FUZZ_ASSERT(n == c->nvlan_allow);
}

static void
check_macs(const conf_mac *macs, size_t n)
{
	size_t	 i, j;

	FUZZ_ASSERT(n >= 1 && n <= CONF_MAX_MACS && macs != NULL);
	for (i = 0; i < n; i++) {
		static const uint8_t zero[6];

		FUZZ_ASSERT(!mac_is_group(macs[i]));
		FUZZ_ASSERT(memcmp(macs[i], zero, 6) != 0);
		for (j = 0; j < i; j++)
			FUZZ_ASSERT(memcmp(macs[i], macs[j], 6) != 0);
	}
}

/* 1..CONF_MAX_CONNECT proxies: blank-free address, port, no two alike. */
static void
check_connect(const struct conf *c)
{
	size_t	 i, j;

	FUZZ_ASSERT(c->nconnect >= 1 && c->nconnect <= CONF_MAX_CONNECT);
	for (i = 0; i < c->nconnect; i++) {
		check_str(c->connect[i].addr, sizeof(c->connect[i].addr), 0);
		FUZZ_ASSERT(strpbrk(c->connect[i].addr, " \t") == NULL);
		FUZZ_ASSERT(c->connect[i].port != 0 && c->connect[i].line != 0);
		for (j = 0; j < i; j++)
			FUZZ_ASSERT(c->connect[i].port !=
			    c->connect[j].port || strcmp(c->connect[i].addr,
			    c->connect[j].addr) != 0);
	}
}

static void
check_conf(const struct conf *c)
{
	size_t	 i, j;

	FUZZ_ASSERT(c->role == CONF_ROLE_HOST || c->role == CONF_ROLE_PROXY);
	check_str(c->interface, sizeof(c->interface), 0);
	FUZZ_ASSERT(strcmp(c->interface, ".") != 0 &&
	    strcmp(c->interface, "..") != 0 &&
	    strpbrk(c->interface, "/: \t") == NULL);
	check_str(c->user, sizeof(c->user), 0);
	FUZZ_ASSERT(strpbrk(c->user, " \t") == NULL);
	check_str(c->chroot, sizeof(c->chroot), 0);
	FUZZ_ASSERT(c->chroot[0] == '/');
	check_str(c->certificate, sizeof(c->certificate), 0);
	check_str(c->key, sizeof(c->key), 0);
	check_str(c->ca, sizeof(c->ca), 0);
	FUZZ_ASSERT(c->keepalive >= 1 && c->keepalive <= 3600);
	FUZZ_ASSERT(c->mtu == 0 || (c->mtu >= 68 && c->mtu <= 65535));
	check_vlans(c);
	FUZZ_ASSERT(c->handshake_timeout >= 1 && c->handshake_timeout <= 300);
	FUZZ_ASSERT(c->restart_max_delay >= 100 &&
	    c->restart_max_delay <= 600000);
	FUZZ_ASSERT(facility_name(c->syslog_facility) != NULL);
	FUZZ_ASSERT(facility_name(c->audit_facility) != NULL);
	check_str(c->control, sizeof(c->control), 0);
	FUZZ_ASSERT(c->control[0] == '/');
	check_str(c->control_group, sizeof(c->control_group), 0);
	FUZZ_ASSERT(strpbrk(c->control_group, " \t") == NULL);
	FUZZ_ASSERT(c->max_pending >= 1 && c->max_pending <= CONF_LIMIT_MAX);
	FUZZ_ASSERT(c->max_pending_per_source >= 1 &&
	    c->max_pending_per_source <= CONF_LIMIT_MAX);
	FUZZ_ASSERT(c->max_links >= 1 && c->max_links <= CONF_LIMIT_MAX);
	check_str(c->peer_name, sizeof(c->peer_name), 1);
	check_str(c->listen_addr, sizeof(c->listen_addr), 1);
	FUZZ_ASSERT(c->listen_port != 0);

	if (c->role == CONF_ROLE_HOST) {
		check_connect(c);
		check_macs(c->vms, c->nvms);
		FUZZ_ASSERT(c->nvms == 0 || c->vm_ports != NULL);
		for (i = 0; i < c->nvms; i++) {
			check_str(c->vm_ports[i], IF_NAMESIZE, 1);
			FUZZ_ASSERT(strpbrk(c->vm_ports[i], "/: \t") == NULL);
		}
		FUZZ_ASSERT(c->listen_addr[0] == '\0');
		FUZZ_ASSERT(c->listen_port == CONF_PORT_DEFAULT);
		FUZZ_ASSERT(c->nhosts == 0 && c->hosts == NULL);
		/* Proxy-only limits keep their defaults. */
		FUZZ_ASSERT(c->max_pending == CONF_MAX_PENDING_DEFAULT &&
		    c->max_pending_per_source == CONF_MAX_PENDING_SRC_DEFAULT &&
		    c->max_links == CONF_MAX_LINKS_DEFAULT);
		return;
	}
	FUZZ_ASSERT(c->listen_addr[0] != '\0');
	FUZZ_ASSERT(strpbrk(c->listen_addr, " \t") == NULL);
	FUZZ_ASSERT(c->nconnect == 0 && c->peer_name[0] == '\0');
	FUZZ_ASSERT(!c->has_pin);
	FUZZ_ASSERT(c->nvms == 0 && c->vms == NULL);
	FUZZ_ASSERT(c->nhosts >= 1 && c->nhosts <= CONF_MAX_HOSTS);
	FUZZ_ASSERT(c->hosts != NULL);
	for (i = 0; i < c->nhosts; i++) {
		const struct conf_host *h = &c->hosts[i];

		check_str(h->name, sizeof(h->name), 0);
		FUZZ_ASSERT(strpbrk(h->name, "{} \t") == NULL);
		check_str(h->cn, sizeof(h->cn), 0);
		check_macs(h->macs, h->nmacs);
		for (j = 0; j < i; j++) {
			FUZZ_ASSERT(strcmp(h->name, c->hosts[j].name) != 0);
			FUZZ_ASSERT(strcmp(h->cn, c->hosts[j].cn) != 0);
		}
		/* The lookups crypt uses find exactly what was configured. */
		FUZZ_ASSERT(conf_host_by_cn(c, h->cn) == h);
		for (j = 0; j < h->nmacs; j++)
			FUZZ_ASSERT(conf_host_allows(h, h->macs[j]));
	}
}

static void
put_pin(FILE *f, const char *kw, const uint8_t pin[32])
{
	size_t	 i;

	fprintf(f, "%s sha256:", kw);
	for (i = 0; i < 32; i++)
		fprintf(f, "%02X", pin[i]);
	fputc('\n', f);
}

static void
put_mac(FILE *f, const char *kw, const uint8_t *m)
{
	fprintf(f, "%s \"%02x:%02x:%02x:%02X:%02X:%02X\"\n", kw, m[0], m[1],
	    m[2], m[3], m[4], m[5]);
}

static void
put_vm(FILE *f, const uint8_t *m, const char *port)
{
	fprintf(f, "vm \"%02x:%02x:%02x:%02X:%02X:%02X\"", m[0], m[1], m[2],
	    m[3], m[4], m[5]);
	if (port[0] != '\0')
		fprintf(f, " port \"%s\"", port);
	fprintf(f, "\n");
}

/* The configuration as text, every value quoted. NULL if too long. */
static char *
write_conf(const struct conf *c, size_t *len)
{
	char	*text = NULL;
	FILE	*f;
	size_t	 i, j;

	if ((f = open_memstream(&text, len)) == NULL)
		return NULL;
	fprintf(f, "# written back by fuzz/conf.c\n");
	fprintf(f, "interface \"%s\"\nuser \"%s\"\nchroot \"%s\"\n",
	    c->interface, c->user, c->chroot);
	fprintf(f, "certificate \"%s\"\nkey \"%s\"\nca \"%s\"\n",
	    c->certificate, c->key, c->ca);
	fprintf(f, "keepalive %u\nmtu \"%u\"\n", c->keepalive, c->mtu);
	/* vlan-allow: the listed IDs, up to five a line, highest first. */
	for (i = CONF_VLAN_MAX + 1, j = 0; i-- > 0; ) {
		if (!conf_vlan_allowed(c, (unsigned)i))
			continue;
		fprintf(f, "%s %zu", j % 5 == 0 ? "vlan-allow" : "", i);
		if (++j % 5 == 0)
			fprintf(f, "\n");
	}
	if (j % 5 != 0)
		fprintf(f, "\n");
	fprintf(f, "handshake-timeout %u\nrestart-max-delay \"%u\"\n",
	    c->handshake_timeout, c->restart_max_delay);
	fprintf(f, "syslog-facility %s\naudit-facility \"%s\"\n",
	    facility_name(c->syslog_facility),
	    facility_name(c->audit_facility));
	fprintf(f, "control \"%s\"\ncontrol-group \"%s\"\n", c->control,
	    c->control_group);
	if (c->role == CONF_ROLE_HOST) {
		for (i = 0; i < c->nconnect; i++)
			fprintf(f, "connect \"%s\" port \"%u\"\n",
			    c->connect[i].addr, c->connect[i].port);
		if (c->peer_name[0] != '\0')
			fprintf(f, "peer-name \"%s\"\n", c->peer_name);
		if (c->has_pin)
			put_pin(f, "pin", c->pin);
		for (i = 0; i < c->nvms; i++)
			put_vm(f, c->vms[i], c->vm_ports[i]);
	} else {
		fprintf(f, "listen \"%s\" port %u\n", c->listen_addr,
		    c->listen_port);
		fprintf(f, "max-pending %u\nmax-pending-per-source %u\n"
		    "max-links %u\n", c->max_pending, c->max_pending_per_source,
		    c->max_links);
		for (i = 0; i < c->nhosts; i++) {
			const struct conf_host *h = &c->hosts[i];

			fprintf(f, "host \"%s\"%s\n", h->name,
			    i % 2 ? "\n{" : " {");
			fprintf(f, "\tcn \"%s\"\t# comment\n", h->cn);
			if (h->has_pin)
				put_pin(f, "\tpin", h->pin);
			for (j = 0; j < h->nmacs; j++)
				put_mac(f, "\tmac", h->macs[j]);
			fprintf(f, "}\n");
		}
	}
	/* Role may come last. */
	fprintf(f, "role %s", c->role == CONF_ROLE_HOST ? "host" : "proxy");
	if (fclose(f) != 0 || *len > CONF_MAX_TEXT) {
		free(text);
		return NULL;
	}
	return text;
}

#define SAME(f)	FUZZ_ASSERT(memcmp(&a->f, &b->f, sizeof(a->f)) == 0)
#define SAMES(f) FUZZ_ASSERT(strcmp(a->f, b->f) == 0)

static void
check_same(const struct conf *a, const struct conf *b)
{
	size_t	 i;

	SAME(role); SAMES(interface); SAMES(user); SAMES(chroot);
	SAMES(certificate); SAMES(key); SAMES(ca); SAME(keepalive); SAME(mtu);
	SAME(nconnect); SAMES(peer_name);
	SAME(has_pin); SAME(pin); SAME(nvms); SAMES(listen_addr);
	SAME(listen_port); SAME(nhosts);
	SAME(handshake_timeout); SAME(restart_max_delay);
	SAME(syslog_facility); SAME(audit_facility);
	SAMES(control); SAMES(control_group); SAME(max_pending);
	SAME(max_pending_per_source); SAME(max_links);
	SAME(nvlan_allow); SAME(vlan_allow);
	for (i = 0; i < a->nconnect; i++) {
		SAMES(connect[i].addr);
		SAME(connect[i].port);
	}
	if (a->nvms > 0) {
		FUZZ_ASSERT(memcmp(a->vms, b->vms, a->nvms * 6) == 0);
		for (i = 0; i < a->nvms; i++)
			FUZZ_ASSERT(strcmp(a->vm_ports[i], b->vm_ports[i]) == 0);
	}
	for (i = 0; i < a->nhosts; i++) {
		const struct conf_host *x = &a->hosts[i], *y = &b->hosts[i];

		FUZZ_ASSERT(strcmp(x->name, y->name) == 0);
		FUZZ_ASSERT(strcmp(x->cn, y->cn) == 0);
		FUZZ_ASSERT(x->has_pin == y->has_pin);
		FUZZ_ASSERT(memcmp(x->pin, y->pin, sizeof(x->pin)) == 0);
		FUZZ_ASSERT(x->nmacs == y->nmacs);
		FUZZ_ASSERT(memcmp(x->macs, y->macs, x->nmacs * 6) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf	 c, again, zero;
	struct conf_error	 err;
	unsigned		 lines = 1;
	size_t			 i, len;
	char			*text;
	int			 rc;

	memset(&c, 0x5a, sizeof(c));
	memset(&err, 0x5a, sizeof(err));
	rc = conf_parse((const char *)data, size, &c, &err);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == -1) {
		/* "*c is left empty (nothing to free)". */
		FUZZ_ASSERT(memcmp(&c, &zero, sizeof(c)) == 0);
		FUZZ_ASSERT(terminated(err.msg, sizeof(err.msg)));
		FUZZ_ASSERT(err.msg[0] != '\0');
		for (i = 0; i < size; i++)
			lines += data[i] == '\n';
		FUZZ_ASSERT(err.line <= lines);
		conf_free(&c);	/* harmless on an empty struct */
		return 0;
	}
	FUZZ_ASSERT(err.line == 0 && err.msg[0] == '\0');
	check_conf(&c);

	/* Same text, same result. */
	FUZZ_ASSERT(conf_parse((const char *)data, size, &again, NULL) == 0);
	check_same(&c, &again);
	conf_free(&again);

	/* Written out and read back: the same configuration. */
	if ((text = write_conf(&c, &len)) != NULL) {
		if (conf_parse(text, len, &again, &err) != 0) {
			fprintf(stderr, "==FUZZ== rewritten text refused: "
			    "line %u: %s\n", err.line, err.msg);
			FUZZ_ASSERT(!"rewritten configuration parses");
		}
		check_same(&c, &again);
		conf_free(&again);
		free(text);
	}

	conf_free(&c);
	FUZZ_ASSERT(memcmp(&c, &zero, sizeof(c)) == 0);
	return 0;
}

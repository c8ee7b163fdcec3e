/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the configuration parser (lib/conf.c).
 * Run from the repository root: the example files in etc/ are parsed too.
 * Texts are handed over in exact-size heap buffers without a terminating
 * NUL, so ASan catches any read past len; LSan catches leaks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"

/*
 * Smallest valid files. HOST_MIN is 8 lines, PROXY_MIN 9. HOST_ANON lacks
 * only the proxy's identity (peer-name or pin).
 */
#define HOST_HEAD	"role host\ninterface virbr0\ncertificate /c\n" \
			"key /k\nca /a\n"
#define HOST_NOCONN	HOST_HEAD "vm 52:54:00:12:34:56\n"
#define HOST_ANON	HOST_NOCONN "connect proxy.example.net\n"
#define HOST_MIN	HOST_ANON "peer-name proxy.example.net\n"
#define PROXY_HEAD	"role proxy\ninterface eth0\ncertificate /c\n" \
			"key /k\nca /a\nlisten 0.0.0.0\n"
#define PROXY_MIN	PROXY_HEAD "host h1 {\nmac 52:54:00:12:34:56\n}\n"

#define PIN_HEX		"sha256:00112233445566778899aabbccddeeff" \
			"00112233445566778899AABBCCDDEEFF"
#define PIN_COLON	"sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:" \
			"EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"

static const uint8_t pin_bytes[32] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
static const uint8_t vm1[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t vm2[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static const uint8_t vm3[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* Parse len bytes from an exact-size, unterminated heap copy. */
static int
parse_n(const char *text, size_t len, struct conf *c, struct conf_error *e)
{
	char	*copy = malloc(len ? len : 1);
	int	 rv;

	assert_non_null(copy);
	memcpy(copy, text, len);
	rv = conf_parse(copy, len, c, e);
	free(copy);
	return rv;
}

static void
parse_ok(const char *text, struct conf *c)
{
	struct conf_error	e;

	if (parse_n(text, strlen(text), c, &e) != 0)
		fail_msg("unexpected error: line %u: %s\n--- text:\n%s",
		    e.line, e.msg, text);
	assert_int_equal(e.line, 0);
}

/* A failed parse leaves nothing behind. */
static void
assert_empty(const struct conf *c)
{
	static const struct conf	zero;

	assert_memory_equal(c, &zero, sizeof(zero));
}

static void
expect_err_n(const char *text, size_t len, unsigned line, const char *needle)
{
	struct conf		c;
	struct conf_error	e;

	memset(&e, 0, sizeof(e));
	if (parse_n(text, len, &c, &e) != -1)
		fail_msg("accepted, expected error '%s'\n--- text:\n%s",
		    needle, text);
	if (e.line != line || strstr(e.msg, needle) == NULL)
		fail_msg("got 'line %u: %s', expected line %u and '%s'\n"
		    "--- text:\n%s", e.line, e.msg, line, needle, text);
	assert_empty(&c);
}

static void
expect_err(const char *text, unsigned line, const char *needle)
{
	expect_err_n(text, strlen(text), line, needle);
}

static void
test_host_full(void **state)
{
	const char *text =
	    "# a host\n"
	    "\n"
	    "interface\tvirbr0   # the bridge\n"
	    "user _vnet\n"
	    "chroot \"/var/lib/vnet empty\"\n"
	    "certificate /etc/vnet/host.crt\n"
	    "key /etc/vnet/host.key\n"
	    "ca /etc/vnet/ca.crt\n"
	    "crl /etc/vnet/ca.crl\n"
	    "keepalive 30\n"
	    "mtu 1500\n"
	    "connect 192.0.2.1 port 443\n"
	    "peer-name \"proxy.example.net\"\n"
	    "pin " PIN_HEX "\n"
	    "vm 52:54:00:12:34:56\n"
	    "vm 52:54:00:AB:cd:EF\n"
	    "   vm 02:00:00:00:00:01#comment glued on\n"
	    "role host\n";
	struct conf	c;

	(void)state;
	parse_ok(text, &c);
	assert_int_equal(c.role, CONF_ROLE_HOST);
	assert_string_equal(c.interface, "virbr0");
	assert_string_equal(c.user, "_vnet");
	assert_string_equal(c.chroot, "/var/lib/vnet empty");
	assert_string_equal(c.certificate, "/etc/vnet/host.crt");
	assert_string_equal(c.key, "/etc/vnet/host.key");
	assert_string_equal(c.ca, "/etc/vnet/ca.crt");
	assert_string_equal(c.crl, "/etc/vnet/ca.crl");
	assert_int_equal(c.keepalive, 30);
	assert_int_equal(c.mtu, 1500);
	assert_int_equal(c.nconnect, 1);
	assert_string_equal(c.connect[0].addr, "192.0.2.1");
	assert_int_equal(c.connect[0].port, 443);
	assert_string_equal(c.peer_name, "proxy.example.net");
	assert_true(c.has_pin);
	assert_memory_equal(c.pin, pin_bytes, 32);
	assert_int_equal(c.nvms, 3);
	assert_memory_equal(c.vms[0], vm1, 6);
	assert_memory_equal(c.vms[1], vm2, 6);
	assert_memory_equal(c.vms[2], vm3, 6);
	assert_int_equal(c.nhosts, 0);
	assert_null(c.hosts);
	assert_string_equal(c.listen_addr, "");
	conf_free(&c);
	assert_empty(&c);
	conf_free(&c);		/* twice is harmless */
}

static void
test_host_defaults(void **state)
{
	struct conf	c;

	(void)state;
	parse_ok(HOST_MIN, &c);
	assert_int_equal(c.role, CONF_ROLE_HOST);
	assert_string_equal(c.user, CONF_USER_DEFAULT);
	assert_string_equal(c.chroot, CONF_CHROOT_DEFAULT);
	assert_int_equal(c.keepalive, CONF_KEEPALIVE_DEFAULT);
	assert_int_equal(c.mtu, 0);
	assert_int_equal(c.nconnect, 1);
	assert_string_equal(c.connect[0].addr, "proxy.example.net");
	assert_int_equal(c.connect[0].port, CONF_PORT_DEFAULT);
	assert_int_equal(c.connect[0].line, 7);
	assert_string_equal(c.peer_name, "proxy.example.net");
	assert_false(c.has_pin);
	assert_int_equal(c.nvms, 1);
	conf_free(&c);
}

/* "vm MAC port NAME" binds a VM to its bridge port; no port: unbound. */
static void
test_vm_port(void **state)
{
	struct conf	c;

	(void)state;
	parse_ok(HOST_MIN "vm 52:54:00:00:00:02 port vnet3\n"
	    "vm 52:54:00:00:00:03 port tap-a.1\n", &c);
	assert_int_equal(c.nvms, 3);
	assert_non_null(c.vm_ports);
	assert_string_equal(c.vm_ports[0], "");
	assert_string_equal(c.vm_ports[1], "vnet3");
	assert_string_equal(c.vm_ports[2], "tap-a.1");
	conf_free(&c);
	assert_empty(&c);
	expect_err(HOST_MIN "vm 52:54:00:00:00:02 port\n", 9,
	    "expected 'port NAME'");
	expect_err(HOST_MIN "vm 52:54:00:00:00:02 tap vnet3\n", 9,
	    "expected 'port NAME'");
	expect_err(HOST_MIN "vm 52:54:00:00:00:02 port a/b\n", 9,
	    "bad interface name 'a/b'");
	expect_err(HOST_MIN "vm 52:54:00:00:00:02 port 0123456789abcdef\n", 9,
	    "longer than 15");
	expect_err(HOST_MIN "vm 52:54:00:00:00:02 port vnet3\n"
	    "vm 52:54:00:00:00:03 port vnet3\n", 10, "already VM 2's");
	expect_err(HOST_MIN "vm 52:54:00:00:00:02 port v x\n", 9,
	    "unexpected argument 'x'");
	expect_err(HOST_MIN "vm 52:54:00:00:00:02 port \"\"\n", 9,
	    "empty port name");
}

static void
test_proxy_full(void **state)
{
	const char *text =
	    "role proxy\n"
	    "interface eth0\n"
	    "certificate /etc/vnet/proxy.crt\n"
	    "key /etc/vnet/proxy.key\n"
	    "ca /etc/vnet/ca.crt\n"
	    "keepalive 3600\n"
	    "mtu 0\n"
	    "listen :: port 65535\n"
	    "host vmhost1 {\n"
	    "\tmac 52:54:00:12:34:56\n"
	    "\tmac 52:54:00:ab:cd:ef\n"
	    "}\n"
	    "host vmhost2\n"
	    "{\n"
	    "\t# the same VM may migrate here\n"
	    "\tcn \"VM Host 2\"\n"
	    "\tpin " PIN_COLON "\n"
	    "\tmac 52:54:00:12:34:56\n"
	    "}\n";
	struct conf		 c;
	const struct conf_host	*h;

	(void)state;
	parse_ok(text, &c);
	assert_int_equal(c.role, CONF_ROLE_PROXY);
	assert_string_equal(c.interface, "eth0");
	assert_int_equal(c.keepalive, 3600);
	assert_int_equal(c.mtu, 0);
	assert_string_equal(c.listen_addr, "::");
	assert_int_equal(c.listen_port, 65535);
	assert_int_equal(c.nvms, 0);
	assert_null(c.vms);
	assert_int_equal(c.nhosts, 2);

	h = &c.hosts[0];
	assert_string_equal(h->name, "vmhost1");
	assert_string_equal(h->cn, "vmhost1");
	assert_false(h->has_pin);
	assert_int_equal(h->nmacs, 2);
	assert_memory_equal(h->macs[0], vm1, 6);
	assert_memory_equal(h->macs[1], vm2, 6);

	h = &c.hosts[1];
	assert_string_equal(h->name, "vmhost2");
	assert_string_equal(h->cn, "VM Host 2");
	assert_true(h->has_pin);
	assert_memory_equal(h->pin, pin_bytes, 32);
	assert_int_equal(h->nmacs, 1);
	assert_memory_equal(h->macs[0], vm1, 6);
	conf_free(&c);
}

static void
test_proxy_defaults(void **state)
{
	struct conf	c;

	(void)state;
	parse_ok(PROXY_MIN, &c);
	assert_int_equal(c.listen_port, CONF_PORT_DEFAULT);
	assert_int_equal(c.keepalive, CONF_KEEPALIVE_DEFAULT);
	assert_int_equal(c.nhosts, 1);
	assert_string_equal(c.hosts[0].cn, "h1");
	conf_free(&c);
}

/* The proxy's listener limits: defaults, values, ranges, role. */
static void
test_limits(void **state)
{
	struct conf	c;

	(void)state;
	parse_ok(PROXY_MIN, &c);
	assert_int_equal(c.handshake_timeout, CONF_HANDSHAKE_TIMEOUT_DEFAULT);
	assert_int_equal(c.max_pending, CONF_MAX_PENDING_DEFAULT);
	assert_int_equal(c.max_pending_per_source, CONF_MAX_PENDING_SRC_DEFAULT);
	assert_int_equal(c.max_links, CONF_MAX_LINKS_DEFAULT);
	assert_int_equal(c.restart_max_delay, CONF_RESTART_MAX_DELAY_DEFAULT);
	conf_free(&c);
	parse_ok(PROXY_MIN "restart-max-delay 250\n", &c);
	assert_int_equal(c.restart_max_delay, 250);
	conf_free(&c);
	expect_err(PROXY_MIN "restart-max-delay 99\n", 10, "100..600000 ms");
	parse_ok(PROXY_MIN, &c);
	assert_int_equal(c.sign_rate, CONF_SIGN_RATE_DEFAULT);
	conf_free(&c);
	parse_ok(PROXY_MIN "sign-rate 3\n", &c);
	assert_int_equal(c.sign_rate, 3);
	conf_free(&c);
	expect_err(PROXY_MIN "sign-rate 0\n", 10, "1..100000 per second");
	expect_err(PROXY_MIN "sign-rate 3\nsign-rate 4\n", 11, "sign-rate");
	parse_ok(PROXY_MIN "handshake-timeout 3\nmax-pending 7\n"
	    "max-pending-per-source 2\nmax-links 512\n", &c);
	assert_int_equal(c.handshake_timeout, 3);
	assert_int_equal(c.max_pending, 7);
	assert_int_equal(c.max_pending_per_source, 2);
	assert_int_equal(c.max_links, 512);
	conf_free(&c);
	parse_ok(HOST_MIN "handshake-timeout 300\n", &c);
	assert_int_equal(c.handshake_timeout, 300);
	conf_free(&c);
	expect_err(PROXY_MIN "max-links 0\n", 10, "max-links: bad value");
	expect_err(PROXY_MIN "max-links 513\n", 10, "1..512");
	expect_err(PROXY_MIN "max-pending x\n", 10, "max-pending: bad value");
	expect_err(PROXY_MIN "handshake-timeout 301\n", 10, "seconds");
	expect_err(PROXY_MIN "max-pending 3\nmax-pending 4\n", 11,
	    "max-pending");
	expect_err(HOST_MIN "max-links 4\n", 9, "only valid with role proxy");
}

static void
test_lookups(void **state)
{
	const char *text = PROXY_HEAD
	    "host a {\ncn alpha\nmac 52:54:00:12:34:56\n}\n"
	    "host b {\nmac 52:54:00:ab:cd:ef\nmac 02:00:00:00:00:01\n}\n";
	const uint8_t		 other[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x57 };
	struct conf		 c;
	const struct conf_host	*h;

	(void)state;
	parse_ok(text, &c);
	h = conf_host_by_cn(&c, "alpha");
	assert_non_null(h);
	assert_string_equal(h->name, "a");
	assert_true(conf_host_allows(h, vm1));
	assert_false(conf_host_allows(h, vm2));
	assert_false(conf_host_allows(h, other));

	h = conf_host_by_cn(&c, "b");
	assert_non_null(h);
	assert_true(conf_host_allows(h, vm2));
	assert_true(conf_host_allows(h, vm3));
	assert_false(conf_host_allows(h, vm1));

	/* Exact comparison only, and the name is not the CN. */
	assert_null(conf_host_by_cn(&c, "a"));
	assert_null(conf_host_by_cn(&c, "Alpha"));
	assert_null(conf_host_by_cn(&c, "alph"));
	assert_null(conf_host_by_cn(&c, "alpha "));
	assert_null(conf_host_by_cn(&c, ""));
	assert_null(conf_host_by_cn(&c, NULL));
	assert_null(conf_host_by_cn(NULL, "alpha"));
	assert_false(conf_host_allows(NULL, vm1));
	conf_free(&c);
}

/* Boundary values that must be accepted. */
static void
test_accept_bounds(void **state)
{
	static const char *const texts[] = {
		HOST_MIN "keepalive 1\n",
		HOST_MIN "keepalive 3600\n",
		HOST_MIN "keepalive 0005\n",
		HOST_MIN "mtu 68\n",
		HOST_MIN "mtu 65535\n",
		HOST_NOCONN "connect a port 1\npeer-name a\n",
		HOST_NOCONN "connect a port 65535\npin " PIN_HEX "\n",
		HOST_NOCONN "connect \"[2001:db8::1]\" port 4789\n"
		    "peer-name 2001:db8::1\n",
		HOST_HEAD "connect a\nvm 52:54:00:12:34:56\n"
		    "vm 52:54:00:12:34:57\npeer-name a\n",
		"role host\ninterface abcdefghijklmno\ncertificate /c\nkey /k\n"
		    "ca /a\nvm 52:54:00:12:34:56\nconnect a\npeer-name a\n",
		PROXY_HEAD "host h1\n  {  \nmac 52:54:00:12:34:56\n  }  # x\n",
		PROXY_HEAD "host h1 {\nmac 52:54:00:12:34:56\n}\n"
		    "host h2 {\ncn h3\nmac 52:54:00:12:34:56\n}\n"
		    "host h3x {\nmac 52:54:00:12:34:56\n}\n",
		"vm 52:54:00:12:34:56\nconnect a\ninterface e\ncertificate /c\n"
		    "key /k\nca /a\npeer-name a\nrole host",	/* no final newline */
	};
	struct conf	c;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		parse_ok(texts[i], &c);
		conf_free(&c);
	}
}

static void
test_err_lexical(void **state)
{
	(void)state;
	expect_err(HOST_MIN "user \"abc\n", 9, "unterminated quote");
	expect_err(HOST_MIN "user \"abc", 9, "unterminated quote");
	/* A quote never continues onto the next line. */
	expect_err(HOST_MIN "user \"abc\nchroot \"/x\"\n", 9,
	    "unterminated quote");
	expect_err(HOST_MIN "user a\"b\"\n", 9, "quote");
	expect_err(HOST_MIN "user \"a\"b\n", 9, "quote");
	expect_err_n("role host\nuser a\0b\n", 19, 2, "NUL");
	expect_err_n("role host\n# \0 in a comment\n", 27, 2, "NUL");
	expect_err("role host\r\ninterface eth0\r\n", 1, "carriage return");
	expect_err(HOST_MIN "user a\x01\n", 9, "control character");
	expect_err(HOST_MIN "# \x1b[31m\n", 9, "control character");
}

static void
test_err_keywords(void **state)
{
	(void)state;
	expect_err(HOST_MIN "bogus x\n", 9, "unknown keyword 'bogus'");
	expect_err(HOST_MIN "Role host\n", 9, "unknown keyword 'Role'");
	expect_err("\"role\" host\n", 1, "unknown keyword 'role'");
	expect_err(HOST_MIN "user\n", 9, "user: missing argument");
	expect_err(HOST_MIN "connect\n", 9, "connect: missing argument");
	expect_err(HOST_NOCONN "connect\n", 7, "connect: missing argument");
	expect_err(HOST_MIN "user a b\n", 9, "unexpected argument 'b'");
	expect_err(HOST_MIN "user a b c d e f g h i j k\n", 9,
	    "unexpected argument 'b'");
	expect_err(HOST_MIN "keepalive 5 5\n", 9, "unexpected argument");
	expect_err(HOST_MIN "role\n", 9, "'role' given twice");
	expect_err("role router\n", 1, "expected 'host' or 'proxy'");
}

static void
test_err_twice(void **state)
{
	static const char *const kws[] = {
		"role host", "interface eth1", "user x", "chroot /x",
		"certificate /x", "key /x", "ca /x", "crl /x", "keepalive 5",
		"mtu 1500",
		"peer-name x", "pin " PIN_HEX,
	};
	char	text[1024];
	char	needle[64];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		snprintf(text, sizeof(text), HOST_MIN "%s\n%s\n", kws[i],
		    kws[i]);
		snprintf(needle, sizeof(needle), "'%.*s' given twice",
		    (int)strcspn(kws[i], " "), kws[i]);
		/* Some are in HOST_MIN already: line 9, else line 10. */
		if (strncmp(kws[i], "role", 4) == 0 ||
		    strncmp(kws[i], "interface", 9) == 0 ||
		    strncmp(kws[i], "certificate", 11) == 0 ||
		    strncmp(kws[i], "key", 3) == 0 ||
		    strncmp(kws[i], "ca ", 3) == 0 ||
		    strncmp(kws[i], "peer-name", 9) == 0)
			expect_err(text, 9, needle);
		else
			expect_err(text, 10, needle);
	}
	expect_err(PROXY_MIN "listen 1.2.3.4\n", 10, "'listen' given twice");
	expect_err(HOST_MIN "user a\n\n# x\nuser b\n", 12,
	    "(first on line 9)");
}

/* connect repeats: the proxies in the file's order, no two alike. */
static void
test_connect_list(void **state)
{
	struct conf	 c;
	char		 text[1024];
	size_t		 i, off;

	(void)state;
	parse_ok(HOST_MIN "connect 192.0.2.2 port 443\n"
	    "# the last resort\nconnect proxy.example.net port 4790\n", &c);
	assert_int_equal(c.nconnect, 3);
	assert_string_equal(c.connect[0].addr, "proxy.example.net");
	assert_int_equal(c.connect[0].port, CONF_PORT_DEFAULT);
	assert_int_equal(c.connect[0].line, 7);
	assert_string_equal(c.connect[1].addr, "192.0.2.2");
	assert_int_equal(c.connect[1].port, 443);
	assert_int_equal(c.connect[1].line, 9);
	assert_string_equal(c.connect[2].addr, "proxy.example.net");
	assert_int_equal(c.connect[2].port, 4790);
	assert_int_equal(c.connect[2].line, 11);
	conf_free(&c);

	/* The same proxy twice, whether its port is spelled out or not. */
	expect_err(HOST_MIN "connect proxy.example.net\n", 9,
	    "connect: duplicate proxy proxy.example.net port 4789 "
	    "(first on line 7)");
	expect_err(HOST_MIN "connect a\nconnect proxy.example.net port 4789\n",
	    10, "duplicate proxy proxy.example.net port 4789");
	expect_err(HOST_MIN "connect a port 9\nconnect b\nconnect a port 9\n",
	    11, "(first on line 9)");

	/* Eight proxies in all, the one on line 7 included. */
	off = (size_t)snprintf(text, sizeof(text), "%s", HOST_MIN);
	for (i = 2; i <= CONF_MAX_CONNECT; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "connect p%zu\n", i);
	parse_ok(text, &c);
	assert_int_equal(c.nconnect, CONF_MAX_CONNECT);
	assert_string_equal(c.connect[CONF_MAX_CONNECT - 1].addr, "p8");
	conf_free(&c);
	snprintf(text + off, sizeof(text) - off, "connect p9\n");
	expect_err(text, 9 + CONF_MAX_CONNECT - 1,
	    "connect: too many proxies (max 8)");

	/* Still a host's keyword only, and still required. */
	expect_err(PROXY_MIN "connect a\nconnect b\n", 10,
	    "'connect' is only valid with role host");
	expect_err(HOST_NOCONN "peer-name p\n", 0, "missing 'connect'");
}

static void
test_err_values(void **state)
{
	char	text[1024];
	char	lng[CONF_MAX_STR + 2];

	(void)state;
	expect_err(HOST_MIN "interface x\n", 9, "given twice");
	expect_err("role host\ninterface abcdefghijklmnop\n", 2,
	    "interface: 'abcdefghijklmnop' is longer than 15 characters");
	expect_err("role host\ninterface \"\"\n", 2,
	    "interface: empty value");
	expect_err("role host\ninterface a/b\n", 2, "bad interface name 'a/b'");
	expect_err("role host\ninterface \"a b\"\n", 2, "bad interface name");
	expect_err("role host\ninterface ..\n", 2, "bad interface name");
	expect_err(HOST_MIN "chroot var/empty\n", 9, "not an absolute path");
	expect_err(HOST_MIN "chroot \"\"\n", 9, "chroot: empty value");
	expect_err(HOST_MIN "user \"a b\"\n", 9, "contains a blank");
	expect_err(HOST_MIN "user \"\"\n", 9, "user: empty value");
	expect_err(HOST_ANON "peer-name \"\"\n", 8, "empty value");

	/* A string one byte longer than its field; the longest that fits. */
	memset(lng, 'a', sizeof(lng));
	lng[0] = '/';
	lng[CONF_MAX_STR] = '\0';
	snprintf(text, sizeof(text), HOST_MIN "chroot %s\n", lng);
	expect_err(text, 9, "chroot: '/aaaa");
	expect_err(text, 9, "too long (max 255 bytes)");
	lng[CONF_MAX_STR - 1] = '\0';
	snprintf(text, sizeof(text), HOST_MIN "chroot %s\n", lng);
	{
		struct conf c;

		parse_ok(text, &c);
		assert_string_equal(c.chroot, lng);
		conf_free(&c);
	}
	snprintf(text, sizeof(text), "role host\nuser \"%s%s\"\n", lng, "bc");
	expect_err(text, 2, "too long");
}

static void
test_err_numbers(void **state)
{
	static const char *const bad_ka[] = {
		"0", "3601", "5s", "-1", "+5", "0x10", "\"\"", "99999999999",
		"4294967301", "1e3", "5.0",
	};
	static const char *const bad_mtu[] = {
		"1", "67", "65536", "abc", "-0", "9999999999",
	};
	static const char *const bad_port[] = {
		"0", "65536", "x", "-1", "100000", "",
	};
	char	text[512];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad_ka) / sizeof(bad_ka[0]); i++) {
		snprintf(text, sizeof(text), HOST_MIN "keepalive %s\n",
		    bad_ka[i]);
		expect_err(text, 9, "keepalive: bad value");
	}
	for (i = 0; i < sizeof(bad_mtu) / sizeof(bad_mtu[0]); i++) {
		snprintf(text, sizeof(text), HOST_MIN "mtu %s\n", bad_mtu[i]);
		expect_err(text, 9, "mtu: bad value");
	}
	for (i = 0; i < sizeof(bad_port) / sizeof(bad_port[0]); i++) {
		snprintf(text, sizeof(text), HOST_NOCONN "connect a port %s\n",
		    bad_port[i]);
		expect_err(text, 7, bad_port[i][0] ? "connect: bad port" :
		    "connect: port: missing argument");
	}
	expect_err(HOST_NOCONN "connect a prt 1\n", 7,
	    "connect: expected 'port', not 'prt'");
	expect_err(HOST_NOCONN "connect a \"port\" 1\n", 7, "expected 'port'");
	expect_err(HOST_NOCONN "connect a port 1 x\n", 7,
	    "unexpected argument 'x'");
	expect_err(HOST_NOCONN "connect \"a b\"\n", 7, "contains a blank");
	expect_err("role proxy\nlisten 0.0.0.0 port 0\n", 2, "listen: bad port");
	expect_err("role proxy\nlisten 0.0.0.0 port\n", 2,
	    "listen: port: missing argument");
}

static void
test_err_pin(void **state)
{
	static const char *const bad[] = {
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"sha256:",
		"sha256:00",
		"sha1:00112233445566778899aabbccddeeff00112233",
		"SHA256:00112233445566778899aabbccddeeff"
		    "00112233445566778899aabbccddeeff",
		"sha256:00112233445566778899aabbccddeeff"
		    "00112233445566778899aabbccddeef",
		"sha256:00112233445566778899aabbccddeeff"
		    "00112233445566778899aabbccddeeff0",
		"sha256:00112233445566778899aabbccddeeff"
		    "00112233445566778899aabbccddeefg",
		"sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
		    "EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee",
		"sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
		    "EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:f",
		"sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
		    "EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:fff",
		"sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
		    "EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:e:eff",
		"sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
		    "EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee.ff",
		"sha256:00.11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
		    "EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff",
		"sha256:00-11-22-33-44-55-66-77-88-99-AA-BB-CC-DD-"
		    "EE-FF-00-11-22-33-44-55-66-77-88-99-aa-bb-cc-dd-ee-ff",
		"sha256:0011:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
		    "EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:",
	};
	char	text[512];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HOST_MIN "pin %s\n", bad[i]);
		expect_err(text, 9, "pin: bad pin");
		snprintf(text, sizeof(text), PROXY_HEAD
		    "host h {\npin %s\nmac 52:54:00:12:34:56\n}\n", bad[i]);
		expect_err(text, 8, "pin: bad pin");
	}
}

static void
test_err_mac(void **state)
{
	static const struct {
		const char	*mac;
		const char	*needle;
	} bad[] = {
		{ "zz:00", "bad MAC address 'zz:00'" },
		{ "52:54:00:12:34", "bad MAC address" },
		{ "52:54:00:12:34:56:78", "bad MAC address" },
		{ "52-54-00-12-34-56", "bad MAC address" },
		{ "525400123456", "bad MAC address" },
		{ "52:54:00:12:34:5g", "bad MAC address" },
		{ "52:54:00:12:34:5", "bad MAC address" },
		{ "01:00:5e:00:00:01", "multicast or broadcast" },
		{ "33:33:00:00:00:01", "multicast or broadcast" },
		{ "ff:ff:ff:ff:ff:ff", "multicast or broadcast" },
		{ "00:00:00:00:00:00", "all-zero" },
	};
	char	text[512];
	char	needle[128];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HOST_MIN "vm %s\n", bad[i].mac);
		snprintf(needle, sizeof(needle), "vm: %s", bad[i].needle);
		expect_err(text, 9, needle);
		snprintf(text, sizeof(text), PROXY_HEAD
		    "host h {\nmac 52:54:00:12:34:56\nmac %s\n}\n", bad[i].mac);
		snprintf(needle, sizeof(needle), "mac: %s", bad[i].needle);
		expect_err(text, 9, needle);
	}
	expect_err(HOST_MIN "vm 52:54:00:12:34:56\n", 9,
	    "vm: duplicate MAC address");
	expect_err(HOST_MIN "vm 52:54:00:ab:cd:ef\nvm 52:54:00:AB:CD:EF\n", 10,
	    "vm: duplicate MAC address '52:54:00:AB:CD:EF'");
	expect_err(PROXY_HEAD "host h {\nmac 52:54:00:12:34:56\n"
	    "mac 52:54:00:12:34:56\n}\n", 9, "duplicate MAC address");
}

static void
test_err_role(void **state)
{
	(void)state;
	expect_err(PROXY_MIN "vm 52:54:00:00:00:01\n", 10,
	    "'vm' is only valid with role host");
	expect_err(PROXY_MIN "connect a\n", 10,
	    "'connect' is only valid with role host");
	expect_err(PROXY_MIN "peer-name a\n", 10,
	    "'peer-name' is only valid with role host");
	expect_err(PROXY_MIN "pin " PIN_HEX "\n", 10,
	    "'pin' is only valid with role host");
	expect_err(HOST_MIN "listen 0.0.0.0\n", 9,
	    "'listen' is only valid with role proxy");
	expect_err(HOST_MIN "host h {\nmac 52:54:00:12:34:56\n}\n", 9,
	    "'host' is only valid with role proxy");
	/* Role last: the error still names the offending line. */
	expect_err("interface eth0\ncertificate /c\nkey /k\nca /a\n"
	    "listen 0.0.0.0\nvm 52:54:00:12:34:56\nhost h {\n"
	    "mac 52:54:00:12:34:56\n}\nrole proxy\n", 6,
	    "'vm' is only valid with role host");
	expect_err("interface eth0\ncertificate /c\nkey /k\nca /a\n"
	    "host h {\nmac 52:54:00:12:34:56\n}\nconnect a\n"
	    "vm 52:54:00:12:34:56\nrole host\n", 5,
	    "'host' is only valid with role proxy");
}

static void
test_err_missing(void **state)
{
	(void)state;
	expect_err("", 0, "missing 'role'");
	expect_err("# nothing\n\n", 0, "missing 'role'");
	expect_err("interface eth0\ncertificate /c\nkey /k\nca /a\n"
	    "connect a\nvm 52:54:00:12:34:56\n", 0, "missing 'role'");
	expect_err("role host\ncertificate /c\nkey /k\nca /a\n"
	    "connect a\nvm 52:54:00:12:34:56\n", 0, "missing 'interface'");
	expect_err("role host\ninterface e\nkey /k\nca /a\n"
	    "connect a\nvm 52:54:00:12:34:56\n", 0, "missing 'certificate'");
	expect_err("role host\ninterface e\ncertificate /c\nca /a\n"
	    "connect a\nvm 52:54:00:12:34:56\n", 0, "missing 'key'");
	expect_err("role host\ninterface e\ncertificate /c\nkey /k\n"
	    "connect a\nvm 52:54:00:12:34:56\n", 0, "missing 'ca'");
	expect_err(HOST_NOCONN, 0, "missing 'connect'");
	expect_err(HOST_HEAD "connect a\n", 0, "missing 'vm'");
	expect_err(PROXY_HEAD, 0, "missing 'host'");
	expect_err("role proxy\ninterface eth0\ncertificate /c\nkey /k\n"
	    "ca /a\nhost h1 {\nmac 52:54:00:12:34:56\n}\n", 0,
	    "missing 'listen'");
}

/*
 * A host must know its proxy by name or by fingerprint: the CA alone also
 * vouches for every host. The error names the connect line.
 */
static void
test_err_proxy_identity(void **state)
{
	struct conf	c;

	(void)state;
	expect_err(HOST_ANON, 7, "connect: the proxy is not identified");
	expect_err(HOST_ANON, 7, "add 'peer-name NAME'");
	expect_err(HOST_ANON, 7, "or 'pin sha256:");
	expect_err("connect a port 443\n" HOST_HEAD "vm 52:54:00:12:34:56\n",
	    1, "the proxy is not identified");
	/* Earlier errors still come first. */
	expect_err(HOST_NOCONN, 0, "missing 'connect'");
	/* Either one is enough, anywhere in the file. */
	parse_ok(HOST_ANON "peer-name proxy.example.net\n", &c);
	assert_string_equal(c.peer_name, "proxy.example.net");
	assert_false(c.has_pin);
	conf_free(&c);
	parse_ok("pin " PIN_HEX "\n" HOST_ANON, &c);
	assert_string_equal(c.peer_name, "");
	assert_true(c.has_pin);
	conf_free(&c);
	/* A proxy has no such line and needs none. */
	parse_ok(PROXY_MIN, &c);
	conf_free(&c);
}

static void
test_err_blocks(void **state)
{
	(void)state;
	expect_err(PROXY_MIN "mac 52:54:00:12:34:56\n", 10,
	    "'mac' is only valid inside a host block");
	expect_err(PROXY_MIN "cn x\n", 10, "only valid inside a host block");
	expect_err(PROXY_HEAD "host h {\nuser x\n", 8,
	    "'user' is not valid inside a host block");
	expect_err(PROXY_HEAD "host h {\nhost g {\n", 8,
	    "'host' is not valid inside a host block");
	expect_err(PROXY_HEAD "host h {\nmac 52:54:00:12:34:56\n", 7,
	    "host 'h': missing '}'");
	expect_err(PROXY_HEAD "host h\n", 7, "host 'h': missing '{'");
	expect_err(PROXY_HEAD "host h\n\n# c\nmac 52:54:00:12:34:56\n}\n", 10,
	    "host 'h': expected '{'");
	expect_err(PROXY_HEAD "host h\n{ mac 52:54:00:12:34:56\n}\n", 8,
	    "expected '{'");
	expect_err(PROXY_HEAD "host h\n\"{\"\nmac 52:54:00:12:34:56\n}\n", 8,
	    "expected '{'");
	expect_err(PROXY_MIN "}\n", 10, "unexpected '}'");
	expect_err(PROXY_MIN "{\n", 10, "unexpected '{'");
	expect_err(PROXY_HEAD "host h {\n{\n", 8, "unexpected '{'");
	expect_err(PROXY_HEAD "host h {\nmac 52:54:00:12:34:56\n} x\n", 9,
	    "unexpected 'x' after '}'");
	expect_err(PROXY_HEAD "host h { x\n", 7, "unexpected argument 'x'");
	expect_err(PROXY_HEAD "host h x\n", 7, "expected '{', not 'x'");
	expect_err(PROXY_HEAD "host h{\n", 7, "host: bad name 'h{'");
	expect_err(PROXY_HEAD "host \"a b\" {\n", 7, "host: bad name");
	expect_err(PROXY_HEAD "host \"\" {\n", 7, "host: bad name");
	expect_err(PROXY_HEAD "host\n", 7, "host: missing argument");
	{
		char	text[1024];
		char	name[CONF_MAX_STR + 1];

		memset(name, 'n', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		snprintf(text, sizeof(text), PROXY_MIN "host %s {\n", name);
		expect_err(text, 10, "host: 'nnnn");
		expect_err(text, 10, "too long");
	}
	expect_err(PROXY_HEAD "host h {\n}\n", 7, "host 'h': no 'mac' line");
	expect_err(PROXY_MIN "host h1 {\nmac 52:54:00:12:34:56\n}\n", 10,
	    "duplicate name 'h1'");
	expect_err(PROXY_HEAD "host h {\ncn a\ncn b\n", 9,
	    "'cn' given twice (first on line 8)");
	expect_err(PROXY_HEAD "host h {\ncn \"\"\n", 8, "cn: empty value");
	expect_err(PROXY_HEAD "host h {\npin " PIN_HEX "\npin " PIN_HEX "\n",
	    9, "'pin' given twice");
	expect_err(PROXY_HEAD "host h {\nmac\n", 8, "mac: missing argument");
	expect_err(PROXY_HEAD "host h {\nmac 52:54:00:12:34:56 x\n", 8,
	    "unexpected argument 'x'");
}

/* Per-block singletons start afresh; CNs are unique across blocks. */
static void
test_block_uniqueness(void **state)
{
	struct conf	c;

	(void)state;
	parse_ok(PROXY_HEAD "host a {\ncn x\npin " PIN_HEX "\n"
	    "mac 52:54:00:12:34:56\n}\nhost b {\ncn y\npin " PIN_HEX "\n"
	    "mac 52:54:00:12:34:56\n}\n", &c);
	assert_int_equal(c.nhosts, 2);
	conf_free(&c);
	expect_err(PROXY_HEAD "host a {\ncn x\nmac 52:54:00:12:34:56\n}\n"
	    "host b {\nmac 52:54:00:12:34:56\ncn x\n}\n", 13,
	    "cn 'x' already used by host 'a'");
	/* A default CN (the name) collides with an explicit one. */
	expect_err(PROXY_HEAD "host a {\ncn b\nmac 52:54:00:12:34:56\n}\n"
	    "host b {\nmac 52:54:00:12:34:56\n}\n", 11,
	    "cn 'b' already used by host 'a'");
}

/* Text built by a callback, for the size bounds. */
static char *
build(size_t n, size_t (*line)(char *, size_t, size_t), const char *head,
    const char *tail, size_t *lenp)
{
	size_t	 size = strlen(head) + strlen(tail) + n * 64 + 1;
	char	*text = malloc(size);
	size_t	 off, i;

	assert_non_null(text);
	off = (size_t)snprintf(text, size, "%s", head);
	for (i = 0; i < n; i++)
		off += line(text + off, size - off, i);
	off += (size_t)snprintf(text + off, size - off, "%s", tail);
	*lenp = off;
	return text;
}

static size_t
vm_line(char *out, size_t size, size_t i)
{
	return (size_t)snprintf(out, size, "vm 52:54:00:00:%02zx:%02zx\n",
	    i >> 8, i & 0xff);
}

static size_t
mac_line(char *out, size_t size, size_t i)
{
	return (size_t)snprintf(out, size, "mac 52:54:00:00:%02zx:%02zx\n",
	    i >> 8, i & 0xff);
}

static size_t
host_line(char *out, size_t size, size_t i)
{
	return (size_t)snprintf(out, size,
	    "host h%zu {\nmac 52:54:00:12:34:56\n}\n", i);
}

static void
check_bound(size_t (*line)(char *, size_t, size_t), const char *head,
    const char *tail, size_t max, unsigned lines_per, const char *needle)
{
	struct conf		 c;
	struct conf_error	 e;
	char			*text;
	size_t			 len;
	unsigned		 headlines = 0;
	const char		*s;

	for (s = head; *s; s++)
		headlines += *s == '\n';
	text = build(max, line, head, tail, &len);
	assert_true(len <= CONF_MAX_TEXT);
	assert_int_equal(parse_n(text, len, &c, &e), 0);
	conf_free(&c);
	free(text);

	text = build(max + 1, line, head, tail, &len);
	assert_true(len <= CONF_MAX_TEXT);
	assert_int_equal(parse_n(text, len, &c, &e), -1);
	assert_int_equal(e.line, headlines + max * lines_per + 1);
	assert_non_null(strstr(e.msg, needle));
	assert_empty(&c);
	free(text);
}

static void
test_bounds(void **state)
{
	struct conf		 c;
	struct conf_error	 e;
	char			*text;
	size_t			 len;

	(void)state;
	check_bound(vm_line, HOST_HEAD "connect a\npin " PIN_HEX "\n", "",
	    CONF_MAX_MACS, 1,
	    "vm: too many MAC addresses (max 4096)");
	check_bound(mac_line, PROXY_HEAD "host h {\n", "}\n", CONF_MAX_MACS, 1,
	    "mac: too many MAC addresses");
	check_bound(host_line, PROXY_HEAD, "", CONF_MAX_HOSTS, 3,
	    "too many host blocks (max 4096)");

	/* Text size: the limit itself is fine, one byte more is not. */
	text = malloc(CONF_MAX_TEXT + 1);
	assert_non_null(text);
	memcpy(text, HOST_MIN, strlen(HOST_MIN));
	memset(text + strlen(HOST_MIN), '#', CONF_MAX_TEXT + 1 -
	    strlen(HOST_MIN));
	len = CONF_MAX_TEXT;
	assert_int_equal(conf_parse(text, len, &c, &e), 0);
	conf_free(&c);
	assert_int_equal(conf_parse(text, len + 1, &c, &e), -1);
	assert_int_equal(e.line, 0);
	assert_non_null(strstr(e.msg, "too large"));
	assert_empty(&c);
	free(text);
}

/* Error messages quote a bounded part of the offending value. */
static void
test_error_echo(void **state)
{
	char			 text[2048];
	char			 junk[1001];
	struct conf		 c;
	struct conf_error	 e;

	(void)state;
	memset(junk, 'x', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	snprintf(text, sizeof(text), HOST_MIN "vm %s\n", junk);
	assert_int_equal(parse_n(text, strlen(text), &c, &e), -1);
	assert_int_equal(e.line, 9);
	assert_true(strlen(e.msg) < 80);
	assert_non_null(strstr(e.msg, "...'"));
	/* A NULL error pointer is tolerated. */
	assert_int_equal(parse_n(text, strlen(text), &c, NULL), -1);
	assert_empty(&c);
}

static char *
read_file(const char *path, size_t *lenp)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	size_t	 n;

	if (f == NULL)
		fail_msg("%s: cannot open (run from the repository root)",
		    path);
	buf = malloc(CONF_MAX_TEXT + 1);
	assert_non_null(buf);
	n = fread(buf, 1, CONF_MAX_TEXT + 1, f);
	assert_false(ferror(f));
	fclose(f);
	*lenp = n;
	return buf;
}

static void
test_example_host(void **state)
{
	struct conf		 c;
	struct conf_error	 e;
	char			*text;
	size_t			 len;

	(void)state;
	text = read_file("etc/host.conf", &len);
	if (parse_n(text, len, &c, &e) != 0)
		fail_msg("etc/host.conf: line %u: %s", e.line, e.msg);
	assert_int_equal(c.role, CONF_ROLE_HOST);
	assert_string_equal(c.interface, "virbr0");
	assert_int_equal(c.nconnect, 1);
	assert_string_equal(c.connect[0].addr, "proxy.example.net");
	assert_int_equal(c.connect[0].port, 4789);
	assert_int_equal(c.nvms, 1);
	assert_memory_equal(c.vms[0], vm1, 6);
	assert_int_equal(strncmp(c.certificate, "/etc/vnet/", 10), 0);
	assert_int_equal(strncmp(c.key, "/etc/vnet/", 10), 0);
	assert_int_equal(strncmp(c.ca, "/etc/vnet/", 10), 0);
	conf_free(&c);
	free(text);
}

static void
test_example_proxy(void **state)
{
	struct conf		 c;
	struct conf_error	 e;
	char			*text;
	size_t			 len;

	(void)state;
	text = read_file("etc/proxy.conf", &len);
	if (parse_n(text, len, &c, &e) != 0)
		fail_msg("etc/proxy.conf: line %u: %s", e.line, e.msg);
	assert_int_equal(c.role, CONF_ROLE_PROXY);
	assert_string_equal(c.interface, "eth0");
	assert_string_equal(c.listen_addr, "0.0.0.0");
	assert_int_equal(c.listen_port, 4789);
	assert_int_equal(c.nhosts, 1);
	assert_string_equal(c.hosts[0].name, "vmhost1");
	assert_non_null(conf_host_by_cn(&c, "vmhost1"));
	assert_true(conf_host_allows(&c.hosts[0], vm1));
	assert_int_equal(strncmp(c.certificate, "/etc/vnet/", 10), 0);
	conf_free(&c);
	free(text);
}

/* The examples in the manual page are valid files. */
static void
test_example_manpage(void **state)
{
	struct conf	 c;
	char		*text, *bd, *end, *body;
	size_t		 len, n = 0;

	(void)state;
	text = read_file("doc/vnetd.conf.5", &len);
	assert_true(len <= CONF_MAX_TEXT);
	text[len] = '\0';
	for (bd = text; (bd = strstr(bd, ".Bd -literal")) != NULL; bd = end) {
		body = strchr(bd, '\n');
		assert_non_null(body);
		body++;
		end = strstr(body, ".Ed\n");
		assert_non_null(end);
		*end++ = '\0';
		if (strncmp(body, "role ", 5) != 0)
			continue;
		parse_ok(body, &c);
		conf_free(&c);
		n++;
	}
	assert_int_equal(n, 2);
	free(text);
}

/*
 * Every prefix of a valid file either parses or fails cleanly: no
 * crash, no read past the end, no leak, nothing left in *c on error.
 */
static void
truncate_all(const char *text, size_t len)
{
	struct conf		c;
	struct conf_error	e;
	size_t			k;
	int			ok = 0;

	for (k = 0; k <= len; k++) {
		if (parse_n(text, k, &c, &e) == 0) {
			ok++;
			conf_free(&c);
		} else {
			assert_true(e.msg[0] != '\0');
			assert_empty(&c);
		}
	}
	/* At least the whole file parses. */
	assert_true(ok >= 1);
}

static void
test_truncation(void **state)
{
	static const char *const texts[] = {
		HOST_MIN "user \"a b\"\npin " PIN_COLON "\n",
		PROXY_HEAD "host a\n{\ncn \"x y\"\npin " PIN_HEX "\n"
		    "mac 52:54:00:12:34:56\n}\nhost b {\n"
		    "mac 52:54:00:12:34:56\n}\n",
	};
	const char *const files[] = { "etc/host.conf", "etc/proxy.conf" };
	char	*text;
	size_t	 i, len;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		truncate_all(texts[i], strlen(texts[i]));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		text = read_file(files[i], &len);
		truncate_all(text, len);
		free(text);
	}
}

/* vlan-allow: a set of VIDs, over several lines, none by default. */
static void
test_vlan_allow(void **state)
{
	struct conf	 c;
	unsigned	 v, n = 0;

	(void)state;
	parse_ok(HOST_MIN, &c);
	assert_int_equal(c.nvlan_allow, 0);
	for (v = 0; v <= CONF_VLAN_MAX + 1; v++)
		assert_false(conf_vlan_allowed(&c, v));
	conf_free(&c);

	parse_ok(PROXY_MIN "vlan-allow 10 20\nvlan-allow 0 4094 1 2\n", &c);
	assert_int_equal(c.nvlan_allow, 6);
	for (v = 0; v <= CONF_VLAN_MAX + 1; v++)
		n += (unsigned)conf_vlan_allowed(&c, v);
	assert_int_equal(n, 6);
	assert_true(conf_vlan_allowed(&c, 0));
	assert_true(conf_vlan_allowed(&c, 10));
	assert_true(conf_vlan_allowed(&c, 20));
	assert_true(conf_vlan_allowed(&c, 4094));
	assert_false(conf_vlan_allowed(&c, 11));
	assert_false(conf_vlan_allowed(&c, 4095));
	assert_false(conf_vlan_allowed(NULL, 10));
	conf_free(&c);

	expect_err(HOST_MIN "vlan-allow 4095\n", 9,
	    "vlan-allow: bad VLAN ID '4095' (0..4094)");
	expect_err(HOST_MIN "vlan-allow 10 x\n", 9,
	    "vlan-allow: bad VLAN ID 'x' (0..4094)");
	expect_err(HOST_MIN "vlan-allow -1\n", 9, "bad VLAN ID '-1'");
	expect_err(HOST_MIN "vlan-allow 0x10\n", 9, "bad VLAN ID '0x10'");
	expect_err(HOST_MIN "vlan-allow\n", 9, "vlan-allow: missing argument");
	expect_err(HOST_MIN "vlan-allow 10\nvlan-allow 10\n", 10,
	    "vlan-allow: VLAN ID 10 given twice");
	expect_err(HOST_MIN "vlan-allow 1 2 3 4 5 6 7\n", 9,
	    "vlan-allow: unexpected argument '7'");
	expect_err(PROXY_HEAD "host h1 {\nmac 52:54:00:12:34:56\n"
	    "vlan-allow 10\n}\n", 9, "'vlan-allow' is not valid inside a host");
}

/* The UDP data channel's settings, their defaults and bounds. */
static void
test_transport(void **state)
{
	struct conf	c;

	(void)state;
	parse_ok(HOST_MIN, &c);
	assert_int_equal(c.transport, CONF_TRANSPORT_AUTO);
	assert_int_equal(c.wan_mtu, CONF_WAN_MTU_DEFAULT);
	assert_int_equal(c.rekey_packets, CONF_REKEY_MAX);
	assert_int_equal(c.udp_probe, CONF_UDP_PROBE_DEFAULT);
	conf_free(&c);
	parse_ok(HOST_MIN "transport udp\nwan-mtu 1280\nrekey-packets 64\n"
	    "udp-probe 2\n", &c);
	assert_int_equal(c.transport, CONF_TRANSPORT_UDP);
	assert_int_equal(c.wan_mtu, 1280);
	assert_int_equal(c.rekey_packets, 64);
	assert_int_equal(c.udp_probe, 2);
	conf_free(&c);
	parse_ok(PROXY_MIN "transport tcp\n", &c);
	assert_int_equal(c.transport, CONF_TRANSPORT_TCP);
	conf_free(&c);
	expect_err(PROXY_MIN "transport udp\n", 10, "only valid with role host");
	expect_err(HOST_MIN "transport quic\n", 9, "auto, udp or tcp");
	expect_err(HOST_MIN "transport tcp\ntransport udp\n", 10, "transport");
	expect_err(HOST_MIN "wan-mtu 575\n", 9, "576..9000 bytes");
	expect_err(HOST_MIN "rekey-packets 63\n", 9, "64..16777216 packets");
	expect_err(HOST_MIN "rekey-packets 16777217\n", 9, "packets");
	expect_err(PROXY_MIN "udp-probe 5\n", 10, "udp-probe");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_full),
		cmocka_unit_test(test_host_defaults),
		cmocka_unit_test(test_vm_port),
		cmocka_unit_test(test_proxy_full),
		cmocka_unit_test(test_proxy_defaults),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_accept_bounds),
		cmocka_unit_test(test_err_lexical),
		cmocka_unit_test(test_err_keywords),
		cmocka_unit_test(test_err_twice),
		cmocka_unit_test(test_connect_list),
		cmocka_unit_test(test_err_proxy_identity),
		cmocka_unit_test(test_err_values),
		cmocka_unit_test(test_err_numbers),
		cmocka_unit_test(test_err_pin),
		cmocka_unit_test(test_err_mac),
		cmocka_unit_test(test_err_role),
		cmocka_unit_test(test_err_missing),
		cmocka_unit_test(test_err_blocks),
		cmocka_unit_test(test_block_uniqueness),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_error_echo),
		cmocka_unit_test(test_example_host),
		cmocka_unit_test(test_example_proxy),
		cmocka_unit_test(test_example_manpage),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_vlan_allow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

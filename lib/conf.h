/* SPDX-License-Identifier: ISC */
/*
 * vnetd configuration: parsed from text by a pure function, so the
 * monitor (reading the file), the workers (receiving the same text from
 * the monitor) and the fuzzer all run exactly the same code.
 */
#ifndef VNET_LIB_CONF_H
#define VNET_LIB_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "lib/frame.h"

#define CONF_MAX_TEXT		(256 * 1024)	/* bytes of configuration text */
#define CONF_MAX_HOSTS		4096
#define CONF_MAX_MACS		4096		/* per host block, or vm lines */
#define CONF_MAX_STR		256		/* paths, names, addresses */
#define CONF_PORT_DEFAULT	4789
#define CONF_MAX_CONNECT	8		/* proxies a host may list */
#define CONF_KEEPALIVE_DEFAULT	5		/* seconds between keepalives */
#define CONF_USER_DEFAULT	"vnetd"
#define CONF_CHROOT_DEFAULT	"/var/empty"
#define CONF_CONTROL_DEFAULT	"/run/vnetd/vnetd.sock"
#define CONF_CONTROL_GROUP_DEFAULT "root"
/* The proxy's listener limits (see vnetd.conf(5)). */
#define CONF_HANDSHAKE_TIMEOUT_DEFAULT	10	/* seconds */
#define CONF_MAX_PENDING_DEFAULT	64	/* not yet authenticated */
#define CONF_MAX_PENDING_SRC_DEFAULT	8	/* of those, per source address */
#define CONF_MAX_LINKS_DEFAULT		256	/* authenticated links */
#define CONF_LIMIT_MAX			512
#define CONF_RESTART_MAX_DELAY_DEFAULT	30000	/* ms */
/* Signatures the monitor makes for crypt per second (monitor/sign.c). */
#define CONF_SIGN_RATE_DEFAULT		1000
#define CONF_SIGN_RATE_MAX		100000
/* The UDP data channel (lib/dgram.h, crypt/udp.c). */
#define CONF_WAN_MTU_DEFAULT		1500
#define CONF_WAN_MTU_MIN		576
#define CONF_WAN_MTU_MAX		9000
#define CONF_REKEY_MIN			64		/* DGRAM_EPOCH_MIN */
#define CONF_REKEY_MAX			(1u << 24)	/* DGRAM_EPOCH_PACKETS */
#define CONF_UDP_PROBE_DEFAULT		10		/* seconds, on TCP */
#define CONF_VLAN_MAX			4094	/* VIDs 0..4094 (4095 is reserved) */

enum conf_role {
	CONF_ROLE_NONE = 0,
	CONF_ROLE_HOST,
	CONF_ROLE_PROXY,
};

enum conf_transport {
	CONF_TRANSPORT_AUTO = 0,	/* UDP where it gets through, else TCP */
	CONF_TRANSPORT_UDP,		/* host: UDP only, never TCP */
	CONF_TRANSPORT_TCP,		/* frames in the TLS stream only */
};

typedef uint8_t conf_mac[VNET_ETH_ALEN];

/* On the proxy: a host it accepts, identified by its certificate. */
struct conf_host {
	char		 name[CONF_MAX_STR];
	char		 cn[CONF_MAX_STR];	/* subject CN; defaults to name */
	int		 has_pin;
	uint8_t		 pin[32];		/* SHA-256 of the DER certificate */
	size_t		 nmacs;
	conf_mac	*macs;			/* MACs this host may send from */
};

/* One "connect" line: a proxy the host may dial. */
struct conf_connect {
	char		 addr[CONF_MAX_STR];
	uint16_t	 port;
	unsigned	 line;			/* in the file, for errors */
};

struct conf {
	enum conf_role	 role;
	char		 interface[IF_NAMESIZE];
	char		 user[CONF_MAX_STR];
	char		 chroot[CONF_MAX_STR];
	char		 certificate[CONF_MAX_STR];
	char		 key[CONF_MAX_STR];
	char		 ca[CONF_MAX_STR];
	char		 crl[CONF_MAX_STR];	/* "": no revocation check */
	unsigned	 keepalive;		/* seconds, 1..3600 */
	unsigned	 mtu;			/* 0: take it from the interface */
	/*
	 * vlan-allow: the 802.1Q VIDs whose single-tagged frames may pass
	 * (bit VID of the map); every other tagged frame is dropped.
	 */
	size_t		 nvlan_allow;
	uint8_t		 vlan_allow[(CONF_VLAN_MAX + 8) / 8];
	enum conf_transport transport;
	unsigned	 wan_mtu;		/* sizes the datagrams */
	unsigned	 rekey_packets;		/* per key epoch, per direction */
	unsigned	 udp_probe;		/* host on TCP: probe UDP every */

	/* role host */
	/* The proxies, in order of preference: connect[0] is dialed first. */
	size_t		 nconnect;		/* 1..CONF_MAX_CONNECT */
	struct conf_connect connect[CONF_MAX_CONNECT];
	char		 peer_name[CONF_MAX_STR];	/* "" = CA + pin only */
	int		 has_pin;
	uint8_t		 pin[32];
	size_t		 nvms;
	conf_mac	*vms;
	char		(*vm_ports)[IF_NAMESIZE];	/* per VM; "" = none */

	unsigned	 handshake_timeout;	/* seconds, 1..300 */
	unsigned	 restart_max_delay;	/* ms, worker restart backoff cap */
	unsigned	 sign_rate;		/* signatures per second */
	int		 syslog_facility;	/* LOG_DAEMON etc.: operations */
	int		 audit_facility;	/* LOG_AUTHPRIV etc.: security */
	char		 control[CONF_MAX_STR];	/* control socket path */
	char		 control_group[CONF_MAX_STR];

	/* role proxy */
	unsigned	 max_pending;		/* 1..CONF_LIMIT_MAX */
	unsigned	 max_pending_per_source;
	unsigned	 max_links;
	char		 listen_addr[CONF_MAX_STR];
	uint16_t	 listen_port;
	size_t		 nhosts;
	struct conf_host *hosts;
};

struct conf_error {
	unsigned	 line;		/* 1-based; 0 = not tied to a line */
	char		 msg[256];
};

/*
 * Parse len bytes of text. On success returns 0 and *c owns heap memory
 * (release with conf_free). On failure returns -1, *c is left empty
 * (nothing to free) and *err says where and why.
 */
int	 conf_parse(const char *text, size_t len, struct conf *c,
	    struct conf_error *err);
void	 conf_free(struct conf *c);

/* Lookups used by the proxy's authorization. NULL / 0 when absent. */
/* "daemon", "authpriv", "local0".. to a syslog facility; -1 if unknown. */
int	 conf_facility(const char *name);

const struct conf_host	*conf_host_by_cn(const struct conf *c, const char *cn);
int	 conf_host_allows(const struct conf_host *h, const uint8_t *mac);
/* 1 if vlan-allow lists this VID (0..4095). */
int	 conf_vlan_allowed(const struct conf *c, unsigned vid);

#endif

#!/bin/bash
# SPDX-License-Identifier: ISC
# max-pending-per-source counts an IPv6 /64 as one source, an IPv4
# address as one source, and an IPv4 client of a dual-stack listener
# (::ffff:a.b.c.d) as its IPv4 address. The proxy runs alone in one
# namespace, listening on :: (both families) with max-pending-per-source
# 4; tests/tools/slowloris.py opens plaintext connections that send
# nothing, from addresses of the same namespace:
#   3 from 2001:db8:1:2::a, then 3 from 2001:db8:1:2::b (the same /64):
#     4 admitted, the last 2 refused at accept;
#   3 from 2001:db8:1:3::a (another /64): all admitted;
#   3 from 10.201.0.2, then 3 from 10.201.0.3: all admitted.
# vnetctl stats then says refused_source +2, and the refusals are audited.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 7

PY=${VNET_PYTHON:-/usr/bin/python3}
SLOW="$(cd "$(dirname "$0")/../tools" && pwd)/slowloris.py"
[ -x "$PY" ] && [ -r "$SLOW" ] || bail "need $PY and $SLOW"
PER_SOURCE=4
HOLD=4			# seconds each connection is held (< handshake-timeout)
P6=2001:db8:1:2::1	# the proxy's IPv6 address

# 1: one namespace, IPv6 on; the proxy's addresses on wan0, the clients'
# on its peer wan0p, all in the same namespace.
NS=$NS_PROXY
topo_one() {
	ns_add "$NS" || return 1
	veth "$NS" lan0 "$NS" lan0p && veth "$NS" wan0 "$NS" wan0p || return 1
	VN_OFFLOAD=${VNET_OFFLOAD:-on}
	offload_apply
	ip -n "$NS" addr add "$PROXY_WAN/24" dev wan0 &&
	    ip -n "$NS" addr add "$P6/64" dev wan0 nodad || return 1
	for a in 10.201.0.2/24 10.201.0.3/24; do
		ip -n "$NS" addr add "$a" dev wan0p || return 1
	done
	for a in 2001:db8:1:2::a/64 2001:db8:1:2::b/64 2001:db8:1:3::a/64; do
		ip -n "$NS" addr add "$a" dev wan0p nodad || return 1
	done
	for d in lo lan0 lan0p wan0 wan0p; do ip -n "$NS" link set "$d" up || return 1; done
	ip -n "$NS" -br addr
}
topo_one >"$VN_TMP/topo.out" 2>&1
ok $? "namespace $NS: the proxy on $PROXY_WAN and $P6, clients on 10.201.0.2, .3, 2001:db8:1:2::a, ::b, 2001:db8:1:3::a" ||
	{ diag "$(cat "$VN_TMP/topo.out")"; fail_rest "namespace setup failed"; }

# 2: the proxy listens on :: with a small per-source limit.
conf() {
	vn_setup_pki || return 1
	sed -i "s|^listen .*|listen :: port $VNET_PORT|" "$VN_TMP/proxy.conf" &&
	    printf '%s\n' "max-pending-per-source $PER_SOURCE" "handshake-timeout 10" \
	    >>"$VN_TMP/proxy.conf"
	grep -E '^(listen|max-pending-per-source|handshake-timeout) ' "$VN_TMP/proxy.conf"
}
check "configuration: listen :: port $VNET_PORT, max-pending-per-source $PER_SOURCE, handshake-timeout 10" conf

# 3
vnetd_start proxy "$NS" "$VN_TMP/proxy.conf"
PLOG=${VNETD_LOG[proxy]}
CTL=$(conf_control "$VN_TMP/proxy.conf")
vnetd_wait proxy 10 0 event=worker_ready worker=crypt &&
    wait_for 5 eval "in_ns $NS ss -Hltn 'sport = :$VNET_PORT' | grep -q ."
ok $? "the proxy listens on [::]:$VNET_PORT" || { diag_file "$PLOG" 20 proxy.log; fail_rest "no proxy"; }
diag "$(in_ns "$NS" ss -Hltn "sport = :$VNET_PORT")"

refused_source() {
	timeout 5 "$VNET_BUILD/vnetctl" -j -s "$CTL" stats 2>/dev/null |
	    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["crypt"]["refused_source"])' 2>/dev/null
}

# burst NAME TO FROM: 3 connections from FROM to TO, in the background;
# slowloris's summary goes to $VN_TMP/NAME.
burst() {
	in_ns "$NS" timeout 20 "$PY" "$SLOW" --connect "$2" --port "$VNET_PORT" --bind "$3" \
	    --conns 3 --hold "$HOLD" --refused-ms 1500 >"$VN_TMP/$1" 2>&1 &
	track "$!"
	BURST_PIDS+=("$!")
}
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$VN_TMP/$1"; }

r0=$(refused_source)
MARK=$(log_mark "$PLOG")
BURST_PIDS=()
burst a6 "$P6" 2001:db8:1:2::a
sleep 0.5
burst b6 "$P6" 2001:db8:1:2::b
burst c6 "$P6" 2001:db8:1:3::a
burst a4 "$PROXY_WAN" 10.201.0.2
sleep 0.5
burst b4 "$PROXY_WAN" 10.201.0.3
for p in "${BURST_PIDS[@]}"; do wait "$p"; done
for n in a6 b6 c6 a4 b4; do diag "$n: $(cat "$VN_TMP/$n")"; done
r1=$(refused_source)

# 4: the two addresses of one /64 share its limit.
ok "$([ "$(field a6 held)" = 3 ] && [ "$(field b6 held)" = 1 ] && [ "$(field b6 refused)" = 2 ]; echo $?)" \
    "2001:db8:1:2::a holds $(field a6 held) of 3, then 2001:db8:1:2::b (same /64) holds $(field b6 held) and is refused $(field b6 refused) (limit $PER_SOURCE per /64)"

# 5: another /64 is another source.
ok "$([ "$(field c6 held)" = 3 ] && [ "$(field c6 refused)" = 0 ]; echo $?)" \
    "2001:db8:1:3::a (another /64) holds all 3 at the same time"

# 6: IPv4 stays per address, also as ::ffff:a.b.c.d on a dual-stack
# listener (they do not share ::ffff:0:0/64).
ok "$([ "$(field a4 held)" = 3 ] && [ "$(field b4 held)" = 3 ]; echo $?)" \
    "10.201.0.2 and 10.201.0.3 (IPv4 clients of the :: listener) hold 3 each at the same time"

# 7: counted and audited.
wait_for 3 log_has "$PLOG" "$MARK" event=refused
line=$(log_lines "$PLOG" "$MARK" event=refused | head -n 1)
ok "$([ -n "$r0" ] && [ "$r1" = $((r0 + 2)) ] &&
    [ "$(log_value "$line" reason)" = "too many unauthenticated connections from this source" ] &&
    printf '%s\n' "$line" | grep -q 'peer=2001:db8:1:2::b:'; echo $?)" \
    "refused_source $r0 -> $r1 (+2, vnetctl stats); audited: event=refused peer=2001:db8:1:2::b:PORT reason=\"too many unauthenticated connections from this source\""
diag "$line"

vnetd_stop proxy 10 >/dev/null 2>&1
tap_done

#!/bin/bash
# SPDX-License-Identifier: ISC
# Several proxies (issue 15, point 5): a host lists two proxies on the
# same home LAN, the first first. It links up with the first; when that
# proxy's vnetd is killed (SIGKILL of its monitor, its workers follow) in
# the middle of a transfer from the VM, the host moves to the second: the
# host audits event=proxy_failover and counts it, the second proxy shows
# the host's link up, the VM keeps its leased address, the running
# transfer completes, and new transfers each way verify. Then a host
# whose first connect line names an address that never answers comes up
# on the second proxy within handshake-timeout (1 s) and a little.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/multihost.sh"
mh_prereq
vn_init
plan 14

M1=52:54:00:0a:00:01		# VM1, on host A
PROXY2_WAN=10.201.0.5		# the second proxy
DEAD_WAN=10.201.0.9		# on the WAN subnet, held by nobody
NS_PROXY2="vn$$q"
MIB=${FO_MIB:-64}
CTL=$VNET_BUILD/vnetctl

# The second proxy: its own namespace, WAN leg on the WAN switch, LAN leg
# on the home LAN bridge beside the first proxy's.
proxy2_add() {
	ns_add "$NS_PROXY2" && no_ipv6 "$NS_PROXY2" &&
	veth "$NS_PROXY2" wan0 "$NS_WAN" q0 &&
	veth "$NS_PROXY2" lan0 "$NS_LAN" q0 || return 1
	ip -n "$NS_WAN" link set q0 master brwan &&
	ip -n "$NS_LAN" link set q0 master brlan &&
	ip -n "$NS_PROXY2" addr add "$PROXY2_WAN/24" dev wan0
}
topo() {
	mh_base_up && proxy2_add &&
	mh_host_add a 2 && mh_vm_add 1 a "$M1" &&
	mh_topo_finish
}
mh_topo_tap topo								# 1

# host_conf FILE FIRST: host A's config, connect FIRST then the second
# proxy, handshake-timeout 1.
host_conf() {
	mh_host_conf "$1" hostA "$M1"
	sed -i -e "s/^connect .*/connect $2 port $VNET_PORT\nconnect $PROXY2_WAN port $VNET_PORT/" \
	    -e '$a handshake-timeout 1' "$1"
}
pki() {
	vn_certs "$VN_TMP" && mh_leaf "$VN_TMP" hostA hostA || return 1
	mh_proxy_conf "$VN_TMP/proxy.conf"
	mh_proxy_block "$VN_TMP/proxy.conf" hostA hostA "$M1"
	mh_proxy_conf "$VN_TMP/proxy2.conf"
	sed -i "s/^listen .*/listen $PROXY2_WAN port $VNET_PORT/" "$VN_TMP/proxy2.conf"
	mh_proxy_block "$VN_TMP/proxy2.conf" hostA hostA "$M1"
	host_conf "$VN_TMP/hostA.conf" "$PROXY_WAN"
	host_conf "$VN_TMP/hostA2.conf" "$DEAD_WAN"
	grep '^connect' "$VN_TMP/hostA.conf"
	for f in proxy proxy2 hostA hostA2; do
		"$VNET_BUILD/vnetd" -n -f "$VN_TMP/$f.conf" || return 1
	done
}
check "two proxies' and host A's configurations accepted (host: connect $PROXY_WAN, then connect $PROXY2_WAN)" pki	# 2
dhcp_start_tap									# 3

# 4: both proxies listen; the host links up with the first.
listening() {	# NS ADDR NAME
	in_ns "$1" ss -Hltn "src $2 and sport = :$VNET_PORT" | grep -q . || ! alive "${VNETD_PID[$3]}"
}
vnetd_start proxy "$NS_PROXY" "$VN_TMP/proxy.conf"
vnetd_start proxy2 "$NS_PROXY2" "$VN_TMP/proxy2.conf"
wait_for 5 listening "$NS_PROXY" "$PROXY_WAN" proxy
wait_for 5 listening "$NS_PROXY2" "$PROXY2_WAN" proxy2
vnetd_start hostA "${MH_HOST_NS[a]}" "$VN_TMP/hostA.conf"
HLOG=${VNETD_LOG[hostA]}; PLOG=${VNETD_LOG[proxy]}; P2LOG=${VNETD_LOG[proxy2]}
if vnetd_wait_link 20 hostA && wait_for 10 log_has "$PLOG" 0 event=link_up host=hostA &&
    log_has "$HLOG" 0 event=link_up "peer=$PROXY_WAN:$VNET_PORT"; then
	ok 0 "host A links up with the first proxy ($PROXY_WAN), the first connect line"
	diag "$(log_lines "$HLOG" 0 event=link_up)"
else
	ok 1 "host A links up with the first proxy ($PROXY_WAN), the first connect line"
	for n in proxy proxy2 hostA; do diag_file "${VNETD_LOG[$n]}" 15 "$n.log"; done
	VN_KEEP_LOGS=()
	fail_rest "the host did not link up"
fi

mh_lease_tap 1									# 5
IP1=${MH_VM_IP[1]}
MH_PING_IP=$IP1

# kill_proxy1: SIGKILL to the first proxy's monitor (its workers were
# recorded first, so that they are ours to wait for and, if need be, to
# kill). Must not block: it runs in the middle of the transfer.
P1_WORKERS=""
kill_proxy1() {
	local k p
	for k in capture crypt inject; do
		p=$(vnetd_worker proxy "$k")
		[ -n "$p" ] && { track "$p"; P1_WORKERS="$P1_WORKERS $p"; }
	done
	KILL_MS=$(now_ms)
	kill_tracked KILL "${VNETD_PID[proxy]}"
}

# 6-8: VM1 -> client while the first proxy dies.
HMARK=$(log_mark "$HLOG"); P2MARK=$(log_mark "$P2LOG"); MH_GARP_PID=
mh_xfer_migrate "${MH_VM_NS[1]}" "$NS_CLIENT" "$CLIENT_IP" "$MIB" 5001 4 kill_proxy1 >"$VN_TMP/fo.out" 2>&1
wait "${VNETD_PID[proxy]}" 2>/dev/null
workers_gone() {
	local w bad=0
	alive "${VNETD_PID[proxy]}" && { echo "monitor ${VNETD_PID[proxy]} alive"; bad=1; }
	[ "$(echo $P1_WORKERS | wc -w)" = 3 ] || { echo "workers recorded: '$P1_WORKERS'"; bad=1; }
	for w in $P1_WORKERS; do
		alive "$w" && { echo "worker $w ($(cat /proc/$w/comm 2>/dev/null)) alive"; bad=1; }
	done
	return $bad
}
wait_for 5 workers_gone
check "the first proxy's monitor killed (SIGKILL) mid-transfer, at $MH_X_AT of $((MIB * 1048576)) bytes; its capture, crypt and inject ($P1_WORKERS) exit too" workers_gone

# failed_over: the host's audit record of the move, then its link up
# with the second proxy, and the second proxy's link up with host A.
failed_over() {
	log_has "$HLOG" "$HMARK" event=proxy_failover "from=$PROXY_WAN:$VNET_PORT" "to=$PROXY2_WAN:$VNET_PORT" &&
	log_has "$HLOG" "$HMARK" event=link_up "peer=$PROXY2_WAN:$VNET_PORT" &&
	log_has "$P2LOG" "$P2MARK" event=link_up host=hostA
}
wait_for 10 failed_over
line=$(log_lines "$HLOG" "$HMARK" event=proxy_failover | head -n 1)
ok "$(failed_over; echo $?)" "host A audits event=proxy_failover from=$PROXY_WAN:$VNET_PORT to=$PROXY2_WAN:$VNET_PORT and links up with the second proxy, which links up with host=hostA" ||
	diag "$(log_lines "$HLOG" "$HMARK" | grep -E 'event=(proxy_failover|link_|connect_failed|tls_)')"
diag "$line"
diag "$(log_lines "$HLOG" "$HMARK" event=link_up | head -n 1)"

ok "$([ "$MH_X_SENT" = 0 ] && [ "$MH_X_RECV" = 0 ] && [ "$MH_X_GOT" = $((MIB * 1048576)) ] &&
    [ -n "$MH_X_H1" ] && [ "$MH_X_H1" = "$MH_X_H2" ] && [ "$MH_X_MOVED" = 1 ] && [ "$MH_X_CONNS" = 1 ]; echo $?)" \
    "the running transfer VM1 -> client survives the failover: $MIB MiB on one TCP connection, sha256 matches" ||
	diag "$(cat "$VN_TMP/fo.out")"
diag "$(grep -E 'sha256|stalled|migration at' "$VN_TMP/fo.out")"

# 9: the second proxy's vnetctl links shows host A up; the host's shows
# it is on the second proxy.
links() {
	local p2 h
	p2=$("$CTL" -s "$(conf_control "$VN_TMP/proxy2.conf")" links) || { echo "vnetctl (proxy2) failed"; return 1; }
	h=$("$CTL" -s "$(conf_control "$VN_TMP/hostA.conf")" links) || { echo "vnetctl (hostA) failed"; return 1; }
	printf 'proxy2:\n%s\nhostA:\n%s\n' "$p2" "$h"
	printf '%s\n' "$p2" | awk -v p="${MH_HOST_IP[a]}:" 'index($1, p) == 1 && $2 == "hostA" && $3 == "up" { f = 1 } END { exit !f }' &&
	printf '%s\n' "$h" | awk -v p="$PROXY2_WAN:$VNET_PORT" '$1 == p && $3 == "up" { f = 1 } END { exit !f }'
}
check "vnetctl links: the second proxy has host A (${MH_HOST_IP[a]}) up; host A's one link is up to $PROXY2_WAN:$VNET_PORT" links

# 10: the counter.
failovers() {
	local j
	j=$("$CTL" -s "$(conf_control "$VN_TMP/hostA.conf")" -j stats) || return 1
	[[ $j =~ \"crypt\":\{[^}]*\"failovers\":([0-9]+) ]] || { echo "no crypt failovers in: $j"; return 1; }
	echo "crypt failovers ${BASH_REMATCH[1]}"
	[ "${BASH_REMATCH[1]}" = 1 ]
}
check "vnetctl -j stats: host A's crypt counts failovers 1" failovers

# 11: the VM kept its address: no new lease, and it answers there.
kept() {
	local a
	a=$(ip -n "${MH_VM_NS[1]}" -4 -o addr show dev eth0 | awk '{ print $4 }')
	echo "VM1 eth0: $a (leased $IP1)"
	[ "$a" = "$IP1/24" ] && mh_ping "$NS_CLIENT" "$IP1"
}
check "VM1 keeps $IP1 on eth0 and the client pings it there" kept

# 12-13: new transfers each way, through the second proxy.
xfer_tap "new transfer VM1 -> client through the second proxy: 16 MiB, sha256 matches" \
    "${MH_VM_NS[1]}" "$NS_CLIENT" "$CLIENT_IP" 16 5002
xfer_tap "new transfer client -> VM1 through the second proxy: 16 MiB, sha256 matches" \
    "$NS_CLIENT" "${MH_VM_NS[1]}" "$IP1" 16 5003

# 14: the first proxy never answers ($DEAD_WAN, held by nobody): the
# host comes up on the second within handshake-timeout 1 s and a little,
# counted from its crypt worker's start (the daemon's own start-up, key
# checks and three workers, is not what this measures).
vnetd_stop hostA >/dev/null
HMARK=$(log_mark "$HLOG"); P2MARK=$(log_mark "$P2LOG")
vnetd_start hostA "${MH_HOST_NS[a]}" "$VN_TMP/hostA2.conf"
wait_for 10 log_has "$HLOG" "$HMARK" event=worker_ready worker=crypt
t0=$(now_ms)
wait_for 10 log_has "$HLOG" "$HMARK" event=link_up "peer=$PROXY2_WAN:$VNET_PORT"
t1=$(now_ms)
quick() {
	local line
	line=$(log_lines "$HLOG" "$HMARK" event=proxy_failover "from=$DEAD_WAN:$VNET_PORT" "to=$PROXY2_WAN:$VNET_PORT" | head -n 1)
	echo "${line:-no event=proxy_failover from=$DEAD_WAN:$VNET_PORT}"
	log_lines "$HLOG" "$HMARK" event=link_up
	echo "crypt ready to link up: $((t1 - t0)) ms"
	[ -n "$line" ] && log_has "$HLOG" "$HMARK" event=link_up "peer=$PROXY2_WAN:$VNET_PORT" &&
	[ $((t1 - t0)) -le 3000 ] && mh_ping "$NS_CLIENT" "$IP1"
}
quick >"$VN_TMP/quick.out" 2>&1
ok $? "first connect line $DEAD_WAN unanswered: host A fails over (audited) and is up on $PROXY2_WAN within 3 s of its crypt's start (handshake-timeout 1); the client pings VM1"
diag "$(head -n 3 "$VN_TMP/quick.out")"

tap_done

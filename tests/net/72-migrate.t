#!/bin/bash
# SPDX-License-Identifier: ISC
# Live migration: VM1 moves between hosts A and B (both authorized for
# its MAC) in the middle of a 256 MiB TCP transfer, each way; the one
# connection survives with matching sha256, VM1 keeps its address, and
# the proxy logs event=mac_moved. A move to host C, whose proxy block
# lacks VM1's MAC, leaves VM1 unreachable and counted as unauthorized
# until it returns to an authorized host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/multihost.sh"
mh_prereq
vn_init
plan 19

M1=52:54:00:0a:00:01		# VM1
MC=52:54:00:0c:00:09		# the only MAC host C may send from
MIB=${MH_MIGRATE_MIB:-256}

topo() {
	mh_base_up &&
	mh_host_add a 2 && mh_host_add b 3 && mh_host_add c 4 &&
	mh_vm_add 1 a "$M1" &&
	mh_topo_finish
}
mh_topo_tap topo								# 1

pki() {
	vn_certs "$VN_TMP" && mh_leaf "$VN_TMP" hostA hostA &&
	mh_leaf "$VN_TMP" hostB hostB && mh_leaf "$VN_TMP" hostC hostC || return 1
	mh_proxy_conf "$VN_TMP/proxy.conf"
	mh_proxy_block "$VN_TMP/proxy.conf" hostA hostA "$M1"
	mh_proxy_block "$VN_TMP/proxy.conf" hostB hostB "$M1"
	mh_proxy_block "$VN_TMP/proxy.conf" hostC hostC "$MC"
	mh_host_conf "$VN_TMP/hostA.conf" hostA "$M1"
	mh_host_conf "$VN_TMP/hostB.conf" hostB "$M1"
	mh_host_conf "$VN_TMP/hostC.conf" hostC "$M1"
	"$VNET_BUILD/vnetd" -n -f "$VN_TMP/proxy.conf" &&
	for x in A B C; do "$VNET_BUILD/vnetd" -n -f "$VN_TMP/host$x.conf" || return 1; done
}
check "certificates (CN=hostA/B/C) and configurations generated and accepted (proxy: $M1 on hostA and hostB, not hostC; every host lists it)" pki	# 2
dhcp_start_tap									# 3

# 4: three hosts link up.
vnetd_start proxy "$NS_PROXY" "$VN_TMP/proxy.conf"
wait_for 5 eval "in_ns $NS_PROXY ss -Hltn 'sport = :$VNET_PORT' | grep -q . || ! alive \${VNETD_PID[proxy]}"
for x in A B C; do
	vnetd_start "host$x" "${MH_HOST_NS[${x,}]}" "$VN_TMP/host$x.conf"
done
PLOG=${VNETD_LOG[proxy]}
links_up() {
	vnetd_wait_link 20 hostA hostB hostC &&
	wait_for 10 log_has "$PLOG" 0 event=link_up host=hostA &&
	wait_for 10 log_has "$PLOG" 0 event=link_up host=hostB &&
	wait_for 10 log_has "$PLOG" 0 event=link_up host=hostC
}
if links_up; then
	ok 0 "the proxy links up with hostA, hostB and hostC"
else
	ok 1 "the proxy links up with hostA, hostB and hostC"
	for n in proxy hostA hostB hostC; do diag_file "${VNETD_LOG[$n]}" 15 "$n.log"; done
	VN_KEEP_LOGS=()
	fail_rest "the hosts did not link up"
fi

mh_lease_tap 1									# 5
IP1=${MH_VM_IP[1]}
MH_PING_IP=$IP1

# 6
at_host() {	# X: VM1's table entry says hostX
	mh_usr1 proxy && [ "$(mh_mac_host proxy "$M1")" = "host$1" ]
}
mh_ping "$NS_CLIENT" "$IP1" >/dev/null 2>&1 && at_host A
ok $? "client pings VM1 ($IP1) on host A; the proxy's table has $M1 host=hostA" ||
	diag "$(log_lines "$PLOG" "$MH_USR1_MARK" event=mac)"

# kept_address X: VM1 still holds its leased address, answers the client
# there, and the proxy's table has it on hostX.
kept_address() {
	local a
	a=$(ip -n "${MH_VM_NS[1]}" -4 -o addr show dev eth0 | awk '{ print $4 }')
	echo "VM1 eth0: $a"
	[ "$a" = "$IP1/24" ] || { echo "expected $IP1/24"; return 1; }
	mh_ping "$NS_CLIENT" "$IP1" || return 1
	mh_usr1 proxy || { echo "no stats"; return 1; }
	log_lines "$PLOG" "$MH_USR1_MARK" event=mac "mac=$M1"
	[ "$(mh_mac_host proxy "$M1")" = "host$1" ]
}

# migrate_tests N FROM TO DESC: the four tests of one live migration,
# from mh_xfer_migrate's results.
migrate_tests() {
	local n=$1 from=$2 to=$3 desc=$4 out="$VN_TMP/mx$1.out" line
	ok "$([ "$MH_X_SENT" = 0 ] && [ "$MH_X_RECV" = 0 ] && [ "$MH_X_GOT" = $((MIB * 1048576)) ] &&
	    [ -n "$MH_X_H1" ] && [ "$MH_X_H1" = "$MH_X_H2" ]; echo $?)" \
	    "$desc: $MIB MiB arrive complete, sha256 matches (sender and receiver exit 0)"
	diag "$(cat "$out")"
	ok "$([ "$MH_X_MOVED" = 1 ] && [ "$MH_X_CONNS" = 1 ] && [ "$MH_X_AT" -lt $((MIB * 1048576)) ]; echo $?)" \
	    "$desc: VM1 moved host $from -> $to mid-transfer (at $MH_X_AT bytes) on one TCP connection (receiver accepted $MH_X_CONNS)"
	line=$(log_lines "$PLOG" "$MARK" event=mac_moved "mac=$M1" "from=host$from" "to=host$to" | head -n 1)
	ok "$([ -n "$line" ]; echo $?)" "the proxy logs event=mac_moved mac=$M1 from=host$from to=host$to" ||
		diag "$(log_lines "$PLOG" "$MARK" | grep -E 'event=(mac_moved|drop|link_down)' | head -n 5)"
	diag "$line"
	check "after the move VM1 keeps $IP1, answers the client there, and the proxy's table has it on host$to" kept_address "$to"
}

# 7-10: host A -> B while the client sends to VM1.
MARK=$(log_mark "$PLOG"); MH_GARP_PID=
mh_xfer_migrate "$NS_CLIENT" "${MH_VM_NS[1]}" "$IP1" "$MIB" 5001 3 mh_move_bg 1 a b >"$VN_TMP/mx1.out" 2>&1
migrate_tests 1 A B "client -> VM1"

# 11-14: back from host B -> A while VM1 sends to the client.
MARK=$(log_mark "$PLOG"); MH_GARP_PID=
mh_xfer_migrate "${MH_VM_NS[1]}" "$NS_CLIENT" "$CLIENT_IP" "$MIB" 5002 3 mh_move_bg 1 b a >"$VN_TMP/mx2.out" 2>&1
migrate_tests 2 B A "VM1 -> client"

# 15-18: host C may not carry VM1's MAC.
mh_usr1 proxy; d0=$(log_value "$MH_STATS" drop_mac_unauthorized)
MARK=$(log_mark "$PLOG")
mh_move 1 a c
out=$(in_ns "$NS_CLIENT" ping -4 -n -c 10 -i 0.2 -w 3 "$IP1" 2>&1)
st=$?
ok "$([ "$st" -ne 0 ] && ! printf '%s\n' "$out" | grep -q 'bytes from'; echo $?)" \
    "VM1 moved to host C (not authorized for $M1): the client's ping gets no reply (ping exit $st)" ||
	diag "$out"
diag "$(printf '%s\n' "$out" | tail -n 2)"
in_ns "${MH_VM_NS[1]}" ping -4 -n -q -c 2 -i 0.2 -w 1 "$CLIENT_IP" >/dev/null 2>&1	# more frames from VM1
mh_usr1 proxy; d1=$(log_value "$MH_STATS" drop_mac_unauthorized)
line=$(log_lines "$PLOG" "$MARK" event=drop reason=mac_unauthorized "src=$M1" host=hostC | head -n 1)
ok "$([ -n "$d0" ] && [ -n "$d1" ] && [ "$d1" -ge $((d0 + 2)) ] && [ -n "$line" ]; echo $?)" \
    "the proxy drops VM1's frames from host C: drop_mac_unauthorized $d0 -> $d1, event=drop reason=mac_unauthorized src=$M1 host=hostC" ||
	diag "$MH_STATS" "$(log_lines "$PLOG" "$MARK" event=drop | head -n 3)"
diag "$line"
moved=$(log_lines "$PLOG" "$MARK" event=mac_moved "mac=$M1")
host=$(mh_mac_host proxy "$M1")
ok "$([ -z "$moved" ] && [ "$host" = hostA ]; echo $?)" \
    "no event=mac_moved to hostC; the proxy's table still has $M1 on host=$host (hostA)" ||
	diag "$moved" "$(log_lines "$PLOG" "$MH_USR1_MARK" event=mac)"
mh_move 1 c a
check "VM1 back on host A: the client pings it again ($IP1)" mh_ping "$NS_CLIENT" "$IP1"

# 19
check "all four daemons still running, no event=worker_exit" mh_no_crash proxy hostA hostB hostC

tap_done

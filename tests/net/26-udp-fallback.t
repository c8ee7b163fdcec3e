#!/bin/bash
# SPDX-License-Identifier: ISC
# A site that lets out only TCP to the proxy's port. nftables in the
# host's namespace drops UDP to and from the proxy's port while the link
# is up on UDP: the host stops hearing its probes answered, moves the
# link to the TLS stream and says so (event=transport from=udp to=tcp on
# both ends); the VM leases again and moves 8 MiB with matching sha256
# while UDP stays blocked. Unblocked, the next probe is answered and
# the link moves back (event=transport from=tcp to=udp), and the next
# 8 MiB go as datagrams. Last, a host with "transport udp" never falls
# back: blocked, its link stays on UDP with no switch.
. "$(dirname "$0")/lib.sh"
vn_prereq
command -v nft >/dev/null 2>&1 || bail "nft (nftables) not found: apt-get install nftables"
vn_init
plan 14

PROBE=2			# the host's udp-probe: seconds between probes on TCP
topo_up_tap								# 1
pki_probe() {
	vn_setup_pki && echo "udp-probe $PROBE" >>"$VN_TMP/host.conf"
}
check "certificates and configurations (host: udp-probe $PROBE)" pki_probe	# 2
dhcp_start_tap								# 3
start_pair_tap								# 4

transport_of() {
	local f="$VN_TMP/$1.links.json"
	timeout 5 "$VNET_BUILD/vnetctl" -j -s "$VN_TMP/$1.sock" links >"$f" 2>/dev/null &&
	jq -r '.links[0].transport' "$f"
}
on() { [ "$(transport_of host)" = "$1" ] && [ "$(transport_of proxy)" = "$1" ]; }
wait_for 10 on udp
ok $? "the link starts on udp on both ends" ||
	diag "host: $(cat "$VN_TMP/host.links.json")" "proxy: $(cat "$VN_TMP/proxy.links.json")"	# 5
vm_lease_tap								# 6

block_udp() {
	ip netns exec "$NS_HOST" nft -f - <<EOT
table inet vnudpblock {
	chain in { type filter hook input priority -10; udp sport $VNET_PORT counter drop; }
	chain out { type filter hook output priority -10; udp dport $VNET_PORT counter drop; }
}
EOT
}
unblock_udp() {
	ip netns exec "$NS_HOST" nft list table inet vnudpblock 2>/dev/null |
	    awk '/chain/ { c = $2 } /counter/ { print c ": " $(NF - 3) " " $(NF - 2) " " $(NF - 1) }' | tr '\n' ' '
	ip netns exec "$NS_HOST" nft delete table inet vnudpblock
}

# switched NAME MARK FROM TO: that daemon audited the move after MARK.
switched() {
	log_has "${VNETD_LOG[$1]}" "$2" event=transport "from=$3" "to=$4"
}

# 7, 8: blocked; the host notices, both ends move to the TLS stream.
mh=$(wc -l <"${VNETD_LOG[host]}"); mp=$(wc -l <"${VNETD_LOG[proxy]}")
block_udp; t0=$(now_ms)
wait_for 10 eval 'switched host $mh udp tcp && switched proxy $mp udp tcp'
st=$?; t1=$(now_ms)
ok "$st" "UDP blocked: event=transport from=udp to=tcp audited by host and proxy ($((t1 - t0)) ms after the block)" ||
	diag "$(log_lines "${VNETD_LOG[host]}" "$mh" event=transport)"
check "vnetctl links: transport tcp on both ends" on tcp
diag "host: $(log_lines "${VNETD_LOG[host]}" "$mh" event=transport)"

# 9, 10: the VM still leases and transfers, over TCP only.
check "UDP blocked: the VM leases again from the home DHCP server" vm_lease 15
xfer_tap "UDP blocked: 8 MiB TCP VM -> client, sha256 matches" "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" 8

# 11, 12: unblocked; the next probe is answered, the link moves back.
mh=$(wc -l <"${VNETD_LOG[host]}"); mp=$(wc -l <"${VNETD_LOG[proxy]}")
drops=$(unblock_udp); t0=$(now_ms)
diag "nft while blocked: $drops"
wait_for $((PROBE * 3 + 5)) eval 'switched host $mh tcp udp && switched proxy $mp tcp udp'
st=$?; t1=$(now_ms)
ok "$st" "UDP unblocked: event=transport from=tcp to=udp on host and proxy ($((t1 - t0)) ms after, probes every $PROBE s)" ||
	diag "$(log_lines "${VNETD_LOG[host]}" "$mh" event=transport)"
u0=$(jq -r '.links[0].udp_rx_frames' "$VN_TMP/proxy.links.json")
moved_back() {
	xfer "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" 8 || return 1
	local u1
	[ "$(transport_of proxy)" = udp ] || { echo "proxy not on udp"; return 1; }
	u1=$(jq -r '.links[0].udp_rx_frames' "$VN_TMP/proxy.links.json")
	echo "proxy udp_rx_frames $u0 -> $u1"
	[ "$((u1 - u0))" -gt 5000 ]
}
check "back on UDP: 8 MiB VM -> client, sha256 matches, carried as datagrams" moved_back

# 13, 14: "transport udp" means UDP only: blocked, the link stays on it.
stop_host_udp() {
	vnetd_stop host || return 1
	sed -i '/^udp-probe/d' "$VN_TMP/host.conf" &&
	echo "transport udp" >>"$VN_TMP/host.conf"
}
check "host restarted with transport udp" stop_host_udp
vnetd_start host "$NS_HOST" "$VN_TMP/host.conf"
forced() {
	vnetd_wait_link 10 host || { echo "no link_up"; return 1; }
	wait_for 5 on udp || { echo "not on udp"; return 1; }
	local m
	m=$(wc -l <"${VNETD_LOG[host]}")
	block_udp
	sleep 3
	unblock_udp >/dev/null
	! switched host "$m" udp tcp && [ "$(transport_of host)" = udp ]
}
check "transport udp: 3 s of blocked UDP bring no switch; the link stays on udp" forced

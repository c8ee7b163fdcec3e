#!/bin/bash
# SPDX-License-Identifier: ISC
# The VM's full-size frames over a WAN whose MTU is 1500, with frames on
# UDP. A datagram holds at most a 1440-byte frame (1500 - IPv4 - UDP -
# vnet's 32 bytes), less than the VM's 1514. vnet clamps the MSS of TCP
# SYNs so that bulk TCP fits in datagrams, cuts super-frames to that
# size, and sends any other frame too big for a datagram in the TLS
# stream. So: pings with a 1472-byte payload and Don't Fragment cross
# both ways; 8 MiB each way keep their sha256 with every datagram on the
# WAN at most 1500 bytes and no IP fragment at all; and the counters say
# what took which way (mss_clamped, udp_oversize_tcp), so no frame was
# dropped for its size unseen.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 10

topo_up_tap								# 1
check "certificates and configurations generated" vn_setup_pki	# 2
dhcp_start_tap								# 3
start_pair_tap								# 4
on_udp() {
	timeout 5 "$VNET_BUILD/vnetctl" -j -s "$VN_TMP/$1.sock" links 2>/dev/null |
	    jq -e '.links[0].transport == "udp"' >/dev/null
}
wait_for 10 eval 'on_udp host && on_udp proxy'
ok $? "both ends on udp"						# 5
vm_lease_tap								# 6

stat_of() {
	timeout 5 "$VNET_BUILD/vnetctl" -j -s "$VN_TMP/$1.sock" stats |
	    jq -r ".crypt.$2 // empty"
}
cap_start wan "$NS_HOST" wan0 "udp port $VNET_PORT or (ip[6:2] & 0x3fff != 0)" -v ||
	diag "tcpdump did not start: $(cat "$VN_TMP/wan.cap.err")"
o0=$(( $(stat_of host udp_oversize_tcp) + $(stat_of proxy udp_oversize_tcp) ))

# 7: 1500-byte IP packets (1472 + 8 + 20), Don't Fragment, both ways.
bigping() {
	in_ns "$NS_VM" ping -4 -n -q -c 3 -i 0.2 -w 10 -M do -s 1472 "$CLIENT_IP" &&
	in_ns "$NS_CLIENT" ping -4 -n -q -c 3 -i 0.2 -w 10 -M do -s 1472 "$VM_IP"
}
check "ping -M do -s 1472 (1514-byte frames): VM -> client and client -> VM" bigping

m0=$(( $(stat_of host mss_clamped) + $(stat_of proxy mss_clamped) ))
xfer_tap "8 MiB TCP VM -> client, sha256 matches" "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" 8	# 8
xfer "$NS_CLIENT" "$NS_VM" "$VM_IP" 8 >"$VN_TMP/xfer2.out" 2>&1
xst=$?
sleep 0.3
cap_stop wan

# 9: the WAN saw datagrams of at most 1500 bytes, and no fragment.
wan_sizes() {
	local n big frag u0 u1
	n=$(grep -c 'proto UDP' "$VN_TMP/wan.cap")
	big=$(grep -o 'proto UDP ([0-9]*), length [0-9]*' "$VN_TMP/wan.cap" |
	    awk '$NF > 1500 { n++ } END { print n + 0 }')
	frag=$(grep -Ec 'flags \[\+\]|offset [1-9]' "$VN_TMP/wan.cap")
	echo "tcpdump on the host's wan0: $n UDP datagrams, $big over 1500 bytes, $frag IP fragments (second transfer: exit $xst)"
	cat "$VN_TMP/xfer2.out"
	[ "$xst" = 0 ] && [ "$n" -gt 1000 ] && [ "$big" = 0 ] && [ "$frag" = 0 ]
}
check "8 MiB TCP client -> VM, sha256 matches; on the WAN every datagram <= 1500 bytes, no IP fragment" wan_sizes

# 10: what went which way is counted, nothing dropped for its size.
counted() {
	local m1 o1
	m1=$(( $(stat_of host mss_clamped) + $(stat_of proxy mss_clamped) ))
	o1=$(( $(stat_of host udp_oversize_tcp) + $(stat_of proxy udp_oversize_tcp) ))
	echo "mss_clamped +$((m1 - m0)) (the two transfers' SYN and SYN-ACK), udp_oversize_tcp +$((o1 - o0)) (the big pings, in the TLS stream)"
	[ $((m1 - m0)) -ge 4 ] && [ $((o1 - o0)) -ge 12 ]
}
check "counters: the transfers' SYNs clamped (mss_clamped), the 12 big pings sent in the TLS stream (udp_oversize_tcp)" counted

#!/bin/bash
# SPDX-License-Identifier: ISC
# vnet over a WAN as its users have one: 40 ms of round trip and 1 % of
# loss each way, from the WAN emulator (tests/tools/wanem) between the
# host and the proxy, and frames over UDP (the default transport). The
# VM leases from the home DHCP server, pings both ways, and moves 8 MiB
# each way with matching sha256. rekey-packets 256 on both ends makes
# those transfers cross dozens of key epochs in each direction, with
# datagrams lost across every epoch boundary: the sha256 holds, and
# every epoch change is counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/wanem.sh"
vn_prereq
vn_init
plan 12

[ -x "$VNET_BUILD/tests/tools/wanem" ] ||
	bail "no $VNET_BUILD/tests/tools/wanem: build it (make nettest builds it)"
REKEY=256
topo_up_tap wanem							# 1
WL="$VN_TMP/wanem.log"
wanem_start "$NS_WANEM" "$WL" --delay 20 --loss 1 --seed 7
ok $? "wanem between host and proxy: 20 ms each way, 1 % loss each way" ||
	diag "$(cat "$WL")"							# 2

pki_rekey() {
	vn_setup_pki || return 1
	echo "rekey-packets $REKEY" >>"$VN_TMP/host.conf" &&
	echo "rekey-packets $REKEY" >>"$VN_TMP/proxy.conf"
}
check "certificates and configurations (rekey-packets $REKEY on both ends)" pki_rekey	# 3
dhcp_start_tap								# 4
start_pair_tap								# 5

# 6: the host moves the link onto UDP once its probe is answered.
on_udp() {
	local f="$VN_TMP/$1.links.json"
	timeout 5 "$VNET_BUILD/vnetctl" -j -s "$VN_TMP/$1.sock" links >"$f" 2>/dev/null &&
	[ "$(jq -r '.links[0].transport' "$f")" = udp ]
}
wait_for 10 eval 'on_udp host && on_udp proxy'
ok $? "both ends carry the link's frames on udp (vnetctl links)" ||
	diag "host: $(cat "$VN_TMP/host.links.json")" "proxy: $(cat "$VN_TMP/proxy.links.json")"

vm_lease_tap								# 7
check "client pings the VM and the VM the client, across the WAN" \
    eval 'ping4 "$NS_CLIENT" "$VM_IP" && ping4 "$NS_VM" "$CLIENT_IP"'	# 8

stat_of() {
	timeout 5 "$VNET_BUILD/vnetctl" -j -s "$VN_TMP/$1.sock" stats |
	    jq -r ".crypt.$2 // empty"
}
r0h=$(stat_of host udp_rekeys); r0p=$(stat_of proxy udp_rekeys)
xfer_tap "8 MiB TCP VM -> client over 40 ms / 1 % loss, sha256 matches" \
    "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" 8				# 9
xfer_tap "8 MiB TCP client -> VM over 40 ms / 1 % loss, sha256 matches" \
    "$NS_CLIENT" "$NS_VM" "$VM_IP" 8					# 10

# 11: the epochs turned over on both ends, under loss, and the link
# never went down nor off UDP.
epochs() {
	local h p n
	h=$(( $(stat_of host udp_rekeys) - r0h )); p=$(( $(stat_of proxy udp_rekeys) - r0p ))
	n=$(grep -c 'event=link_up' "${VNETD_LOG[host]}")
	echo "udp_rekeys during the transfers: host +$h, proxy +$p; host link_up records: $n"
	on_udp host && on_udp proxy || { echo "a link left udp"; return 1; }
	# 16 MiB of 1.4 KB datagrams, split between the directions, with
	# 256 per epoch: well over 10 epochs each way.
	[ "$h" -ge 10 ] && [ "$p" -ge 10 ] && [ "$n" = 1 ]
}
check "key epochs: both ends counted 10 or more rekeys during the transfers; one link_up, still on udp" epochs

# 12: the loss was real, and nothing crashed.
wanem_report "$WL"
lab=$(wanem_get "$WL" ab drop_loss); lba=$(wanem_get "$WL" ba drop_loss)
crashes=$(log_lines "${VNETD_LOG[host]}" 0 event=worker_exit; log_lines "${VNETD_LOG[proxy]}" 0 event=worker_exit)
ok "$([ "${lab:-0}" -gt 0 ] && [ "${lba:-0}" -gt 0 ] && alive "${VNETD_PID[host]}" &&
    alive "${VNETD_PID[proxy]}" && [ -z "$crashes" ]; echo $?)" \
    "wanem dropped packets both ways (host->proxy $lab, proxy->host $lba); both daemons running, no worker_exit" ||
	diag "$(cat "$WL")" "$crashes"
wanem_stop

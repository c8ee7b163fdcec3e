#!/bin/bash
# SPDX-License-Identifier: ISC
# Fairness in the proxy's crypt (issue 16, point 7). An authenticated
# but hostile host (CN=flooder, tests/tools/tlsflood.py) floods its link
# with small frames as fast as TLS allows while the VM behind the legitimate host
# transfers to the client on the home LAN. Each link has a read budget
# per round of crypt's loop, so the VM's transfer keeps at least 40 % of
# its solo throughput, measured first in the same run. A ratio within
# one run, not a timed assertion: both numbers are printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/multihost.sh"
mh_prereq python
vn_init
plan 10

FLOOD_MAC=52:54:00:f1:00:01
MIB=${VN_FAIR_MIB:-16}
TLSFLOOD="$(cd "$(dirname "$0")/../tools" && pwd)/tlsflood.py"
MIN_PCT=40

topo_up_tap host2							# 1
pki() {
	vn_setup_pki && mh_leaf "$VN_TMP" flooder flooder || return 1
	mh_proxy_block "$VN_TMP/proxy.conf" flooder flooder "$FLOOD_MAC"
	"$VNET_BUILD/vnetd" -n -f "$VN_TMP/proxy.conf"
}
check "certificates (CN=vmhost1, CN=flooder) and configurations (proxy: host flooder authorized for $FLOOD_MAC only)" pki	# 2
dhcp_start_tap								# 3
start_pair_tap								# 4
if ! vm_lease_tap; then							# 5
	VM_IP=10.202.0.99
	diag "no lease: giving the VM $VM_IP statically for the remaining tests"
	ip -n "$NS_VM" addr add "$VM_IP/24" dev eth0
fi
PLOG=${VNETD_LOG[proxy]}

# xfer_ms DESC: the VM sends MIB MiB to the client; XFER_MS is how long.
xfer_ms() {
	XFER_MS=""
	xfer_tap "$1: $MIB MiB TCP VM -> client, sha256 matches" \
	    "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" "$MIB" || return 1
	XFER_MS=$(grep -o ', [0-9]* ms' "$VN_TMP/xfer.out" | grep -o '[0-9]*')
}

# 6, 7: alone, twice; the second counts (the first warms caches and
# the bridge's tables).
xfer_ms "solo (warm-up)"
xfer_ms "solo"								# 7
SOLO_MS=$XFER_MS

# The flood: small frames from random source MACs, the same prebuilt
# MiB written again and again; every frame is read, decrypted and parsed
# by the proxy's crypt, then dropped (drop_mac_unauthorized).
ip netns exec "$NS_HOST2" timeout 120 "$MH_PY" "$TLSFLOOD" \
    --connect "$PROXY_WAN" --port "$VNET_PORT" --cert "$VN_TMP/flooder.crt" \
    --key "$VN_TMP/flooder.key" --ca "$VN_TMP/ca.crt" --mac "$FLOOD_MAC" \
    --seconds 60 </dev/null >"$VN_TMP/wp.out" 2>&1 &
WP_PID=$!; track "$WP_PID"
# Flooding, not only linked: the proxy is counting the flood's drops.
flooding() {
	mh_usr1 proxy || return 1
	[ "$(log_value "$MH_STATS" drop_mac_unauthorized)" -gt 10000 ] 2>/dev/null
}
wait_for 20 flooding
mh_usr1 proxy; d0=$(log_value "$MH_STATS" drop_mac_unauthorized)

xfer_ms "during the flood"						# 8
FLOOD_MS=$XFER_MS
# Valid only if the flood lasted the whole transfer: the flooder still
# sending, its link still up (the log has no link_down for it).
still=$(alive "$WP_PID" && ! log_has "$PLOG" 0 event=link_down host=flooder &&
    echo yes || echo no)
mh_usr1 proxy; d1=$(log_value "$MH_STATS" drop_mac_unauthorized)
stop_pid "$WP_PID"
diag "$(cat "$VN_TMP/wp.out")"

# 9: the ratio.
pct=0
[ -n "$SOLO_MS" ] && [ -n "$FLOOD_MS" ] && [ "$FLOOD_MS" -gt 0 ] &&
	pct=$(( SOLO_MS * 100 / FLOOD_MS ))
ok "$([ "$still" = yes ] && [ "${d1:-0}" -gt "${d0:-0}" ] && [ "$pct" -ge "$MIN_PCT" ]; echo $?)" \
    "the VM keeps $pct % (>= $MIN_PCT %) of its solo throughput during the flood: solo $SOLO_MS ms, flooded $FLOOD_MS ms for $MIB MiB; the flood ran throughout (flooder still sending: $still) and the proxy dropped $(( ${d1:-0} - ${d0:-0} )) flood frames meanwhile"
[ -n "$SOLO_MS" ] && [ -n "$FLOOD_MS" ] &&
	diag "solo: $(( MIB * 8388608 / SOLO_MS / 1000 )) Mbit/s; flooded: $(( MIB * 8388608 / FLOOD_MS / 1000 )) Mbit/s"

check "all daemons still running, no event=worker_exit" mh_no_crash proxy host	# 10

tap_done

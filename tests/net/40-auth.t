#!/bin/bash
# SPDX-License-Identifier: ISC
# Authentication and authorization: a host with a certificate from
# another CA, or a valid certificate the proxy does not list, gets no
# link; frames from a MAC the proxy does not list for the host never
# reach the home LAN, and are counted and logged as dropped.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 18

topo_up_tap host2 vm_if2						# 1
check "certificates and configurations generated (host also lists vm $BAD_MAC)" \
    vn_setup_pki "$BAD_MAC"						# 2
dhcp_start_tap								# 3
start_pair_tap								# 4
if ! vm_lease_tap; then							# 5
	VM_IP=10.202.0.99
	diag "no lease: giving the VM $VM_IP statically for the remaining tests"
	ip -n "$NS_VM" addr add "$VM_IP/24" dev eth0
fi
check "baseline: VM pings the client" ping4 "$NS_VM" "$CLIENT_IP"	# 6

PLOG=${VNETD_LOG[proxy]}

# host2_lines MARK: proxy log lines about HOST2's address since MARK.
host2_lines() {
	log_lines "$PLOG" "$1" | grep -E "peer=$HOST2_WAN:[0-9]+"
}

# ---- 7-9: a host certificate signed by a rogue CA (CN=vmhost1).
vn_host_conf "$VN_TMP/rogue.conf" "$VN_TMP/rogue-host.crt" "$VN_TMP/rogue-host.key" \
    "$VN_TMP/ca.crt" "$PROXY_WAN"
pmark=$(log_mark "$PLOG")
vnetd_start rogue "$NS_HOST2" "$VN_TMP/rogue.conf"
wait_for 15 eval 'host2_lines $pmark | grep -Eq "(^| )event=tls_handshake_failed( |$)"'
line=$(host2_lines "$pmark" | grep -E '(^| )event=tls_handshake_failed( |$)' | head -n 1)
ok "$([ -n "$line" ]; echo $?)" "rogue-CA host: proxy logs event=tls_handshake_failed peer=$HOST2_WAN:PORT" ||
	{ diag_file "$PLOG" 15 proxy.log; diag_file "${VNETD_LOG[rogue]}" 15 rogue.log; }
diag "$line"
reason=$(log_value "$line" reason)
printf '%s\n' "$reason" | grep -Eqi 'certificate|unknown ca'
ok $? "the reason mentions the certificate (reason=\"$reason\")"
sleep 3		# give a wrongly accepted link time to show up
bad=$(host2_lines "$pmark" | grep -E '(^| )event=link_up( |$)'; log_lines "${VNETD_LOG[rogue]}" 0 event=link_up)
ok "$([ -z "$bad" ]; echo $?)" "no event=link_up for the rogue host, on either side" || diag "$bad"
vnetd_stop rogue 10 >/dev/null 2>&1

# ---- 10: a valid certificate (real CA) for a host the proxy does not list.
vn_host_conf "$VN_TMP/stranger.conf" "$VN_TMP/stranger.crt" "$VN_TMP/stranger.key" \
    "$VN_TMP/ca.crt" "$PROXY_WAN"
pmark=$(log_mark "$PLOG")
vnetd_start stranger "$NS_HOST2" "$VN_TMP/stranger.conf"
wait_for 15 eval 'host2_lines $pmark | grep -Eq "(^| )event=(peer_rejected|tls_handshake_failed)( |$)"'
sleep 3
lines=$(host2_lines "$pmark")
rej=$(printf '%s\n' "$lines" | grep -E '(^| )event=(peer_rejected|tls_handshake_failed)( |$)' | head -n 1)
bad=$(printf '%s\n' "$lines" | grep -E '(^| )event=link_up( |$)'; log_lines "${VNETD_LOG[stranger]}" 0 event=link_up)
ok "$([ -n "$rej" ] && [ -z "$bad" ]; echo $?)" "unlisted host CN=vmhost9 (valid CA): proxy refuses it (peer_rejected), no link_up" ||
	{ diag "$bad"; diag_file "$PLOG" 15 proxy.log; diag_file "${VNETD_LOG[stranger]}" 15 stranger.log; }
diag "$rej"
vnetd_stop stranger 10 >/dev/null 2>&1

# ---- 11: mutual: a host that does not trust the proxy's CA refuses it
# (valid host certificate, but "ca" is the rogue CA).
vn_host_conf "$VN_TMP/distrust.conf" "$VN_TMP/host.crt" "$VN_TMP/host.key" \
    "$VN_TMP/rogue-ca.crt" "$PROXY_WAN"
pmark=$(log_mark "$PLOG")
vnetd_start distrust "$NS_HOST2" "$VN_TMP/distrust.conf"
DLOG=${VNETD_LOG[distrust]}
vnetd_wait distrust 15 0 event=tls_handshake_failed
sleep 2
line=$(log_lines "$DLOG" 0 event=tls_handshake_failed | head -n 1)
reason=$(log_value "$line" reason)
bad=$(host2_lines "$pmark" | grep -E '(^| )event=link_up( |$)'; log_lines "$DLOG" 0 event=link_up)
ok "$([ -n "$line" ] && [ -z "$bad" ] && printf '%s\n' "$reason" | grep -Eqi 'certificate|unknown ca'; echo $?)" \
    "a host whose CA did not sign the proxy's certificate refuses the proxy (tls_handshake_failed, certificate reason, no link_up)" ||
	{ diag "$bad"; diag_file "$DLOG" 15 distrust.log; }
diag "$line"
vnetd_stop distrust 10 >/dev/null 2>&1

# ---- 12: the proxy speaks TLS 1.3 only: a TLS 1.2 client with a valid
# host certificate gets no session.
out=$(in_ns "$NS_HOST2" timeout 10 openssl s_client -connect "$PROXY_WAN:$VNET_PORT" \
    -tls1_2 -cert "$VN_TMP/host.crt" -key "$VN_TMP/host.key" -CAfile "$VN_TMP/ca.crt" \
    </dev/null 2>&1)
st=$?
ok "$([ "$st" -ne 0 ] && ! printf '%s\n' "$out" | grep -q 'New, TLSv1.2'; echo $?)" \
    "the proxy refuses a TLS 1.2 client (openssl s_client -tls1_2 exit $st)" ||
	diag "$out"
diag "$(printf '%s\n' "$out" | grep -iE 'alert|error|New,' | head -n 3)"

# ---- 13: the legitimate link did not suffer.
check "legitimate link still carries traffic: VM pings the client" ping4 "$NS_VM" "$CLIENT_IP"

# ---- 14-18: frames from a MAC the proxy does not allow for vmhost1.
cap_start lan "$NS_LAN" p0 "ether src $BAD_MAC or ether src $VM_MAC" &&
cap_start brvm "$NS_HOST" brvm "ether src $BAD_MAC" ||
	diag "tcpdump did not start: $(cat "$VN_TMP"/*.cap.err)"
out=$(in_ns "$NS_VM" timeout 15 busybox arping -b -I eth1 -s "$BAD_IP" -c 5 -w 7 "$CLIENT_IP" 2>&1)
diag "$out"
ping4 "$NS_VM" "$CLIENT_IP" >/dev/null 2>&1	# the control flow
sleep 1
cap_stop lan
cap_stop brvm
n_bad=$(cap_count lan "$BAD_MAC")
n_good=$(cap_count lan "$VM_MAC")
n_sent=$(cap_count brvm "$BAD_MAC")
is "$n_bad" 0 "no frame from $BAD_MAC reaches the home LAN (tcpdump on the proxy's LAN port)" ||
	diag "$(awk -v m="$BAD_MAC" '$2 == m' "$VN_TMP/lan.cap" | head -n 5)"
ok "$([ "$n_good" -gt 0 ]; echo $?)" "control: $n_good frames from the VM's $VM_MAC reach the home LAN in the same capture"
ok "$([ "$n_sent" -ge 5 ]; echo $?)" "the $BAD_MAC frames were sent: $n_sent seen on the host's brvm" ||
	diag_file "$VN_TMP/brvm.cap" 10 brvm.cap

smark=$(log_mark "$PLOG")
kill_tracked USR1 "${VNETD_PID[proxy]}"
vnetd_wait proxy 5 "$smark" event=stats worker=crypt
stats=$(log_lines "$PLOG" "$smark" event=stats worker=crypt | tail -n 1)
drops=$(log_value "$stats" drop_mac_unauthorized)
ok "$([ -n "$drops" ] && [ "$drops" -ge "$n_sent" ] && [ "$drops" -gt 0 ]; echo $?)" \
    "after SIGUSR1 the proxy's crypt stats show drop_mac_unauthorized=${drops:-?} >= $n_sent frames sent" ||
	diag "$(log_lines "$PLOG" "$smark" event=stats)"
diag "$stats"
line=$(log_lines "$PLOG" 0 event=drop reason=mac_unauthorized "src=$BAD_MAC" | head -n 1)
ok "$([ -n "$line" ]; echo $?)" "proxy logs event=drop reason=mac_unauthorized src=$BAD_MAC" ||
	diag "$(log_lines "$PLOG" 0 event=drop | head -n 5)"
diag "$line"

tap_done

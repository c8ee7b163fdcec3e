#!/bin/bash
# SPDX-License-Identifier: ISC
# Identities are enforced during the handshake: the proxy's certificate
# must carry serverAuth and a host's clientAuth (an extendedKeyUsage that
# lacks it, or none at all, is refused), and a host's certificate must
# have exactly one CN. Each refusal is an event=peer_rejected record
# with the reason and is counted (peers_rejected); the legitimate link
# is untouched. The odd certificates are made with raw openssl: vnet-pki
# refuses to make them. No frames move: run once.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 12

topo_up_tap host2							# 1
pki() {
	vn_setup_pki &&
	vn_odd_leaf "$VN_TMP" badproxy /CN=proxy "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=clientAuth" "subjectAltName=DNS:proxy" &&
	vn_odd_leaf "$VN_TMP" srvhost /CN=vmhost1 "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=serverAuth" &&
	vn_odd_leaf "$VN_TMP" noeku /CN=vmhost1 "keyUsage=critical,digitalSignature" &&
	vn_odd_leaf "$VN_TMP" twocn /CN=vmhost1/CN=vmhost2 "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=clientAuth"
}
check "certificates (vnet-pki) and the odd ones (raw openssl): clientAuth-only proxy, serverAuth-only host, host without EKU, host with two CNs" pki	# 2
start_pair_tap								# 3

PLOG=${VNETD_LOG[proxy]}

# rejected_by_proxy DESC CERT REASON: a TLS 1.3 client from host2 with
# CERT gets no link; the proxy logs event=peer_rejected for it with
# REASON and the certificate's subject, and no link_up.
rejected_by_proxy() {
	local desc=$1 c=$2 reason=$3 mark line out subj
	mark=$(log_mark "$PLOG")
	out=$(in_ns "$NS_HOST2" timeout 10 openssl s_client -tls1_3 -connect "$PROXY_WAN:$VNET_PORT" \
	    -cert "$VN_TMP/$c.crt" -key "$VN_TMP/$c.key" -CAfile "$VN_TMP/ca.crt" </dev/null 2>&1)
	wait_for 5 eval "log_lines \$PLOG $mark event=peer_rejected | grep -q 'peer=$HOST2_WAN:'"
	line=$(log_lines "$PLOG" "$mark" event=peer_rejected | grep "peer=$HOST2_WAN:" | head -n 1)
	subj=$(openssl x509 -in "$VN_TMP/$c.crt" -noout -subject -nameopt compat | sed 's/^subject=//')
	ok "$([ -n "$line" ] && [ "$(log_value "$line" reason)" = "$reason" ] &&
	    [ "$(log_value "$line" subject)" = "$subj" ] &&
	    ! log_has "$PLOG" "$mark" event=link_up; echo $?)" \
	    "$desc: proxy logs event=peer_rejected subject=\"$subj\" reason=\"$reason\", no link_up" ||
		{ diag "s_client: $(printf '%s\n' "$out" | grep -iE 'alert|error' | head -n 3)"; diag_file "$PLOG" 8 proxy.log; }
	diag "$line"
}

# ---- 4-7: what the proxy refuses from a host.
rejected_by_proxy "host certificate with serverAuth only" srvhost \
    "certificate's extended key usage lacks clientAuth, which a host's needs"
rejected_by_proxy "host certificate without extendedKeyUsage (OpenSSL alone accepts it)" noeku \
    "certificate has no extended key usage; a host's needs clientAuth"
rejected_by_proxy "host certificate with two CNs (vmhost1, vmhost2)" twocn \
    "certificate subject has more than one CN"
smark=$(log_mark "$PLOG")
kill_tracked USR1 "${VNETD_PID[proxy]}"
vnetd_wait proxy 5 "$smark" event=stats worker=crypt
stats=$(log_lines "$PLOG" "$smark" event=stats worker=crypt | tail -n 1)
is "$(log_value "$stats" peers_rejected)" 3 "the proxy's crypt counts the three: peers_rejected=3 (SIGUSR1 stats)" ||
	diag "$stats"

# ---- 8-10: a host refuses a proxy whose certificate lacks serverAuth
# (openssl s_server on another port stands in for the proxy: vnetd
# itself will not start with such a certificate, see 12-pki.t).
ALT_PORT=$((VNET_PORT + 1))
ip netns exec "$NS_PROXY" openssl s_server -quiet -tls1_3 -accept "$PROXY_WAN:$ALT_PORT" \
    -cert "$VN_TMP/badproxy.crt" -key "$VN_TMP/badproxy.key" -CAfile "$VN_TMP/ca.crt" \
    -Verify 1 </dev/null >"$VN_TMP/s_server.log" 2>&1 &
SPID=$!
track "$SPID"
wait_for 5 eval "in_ns $NS_PROXY ss -Hltn 'sport = :$ALT_PORT' | grep -q ."
vn_host_conf "$VN_TMP/h2.conf" "$VN_TMP/host.crt" "$VN_TMP/host.key" "$VN_TMP/ca.crt" "$PROXY_WAN"
sed -i "s/^connect .*/connect $PROXY_WAN port $ALT_PORT/" "$VN_TMP/h2.conf"
vnetd_start h2 "$NS_HOST2" "$VN_TMP/h2.conf"
H2LOG=${VNETD_LOG[h2]}
vnetd_wait h2 15 0 event=peer_rejected
sleep 1
line=$(log_lines "$H2LOG" 0 event=peer_rejected | head -n 1)
want="certificate's extended key usage lacks serverAuth, which a proxy's needs"
ok "$([ -n "$line" ] && [ "$(log_value "$line" reason)" = "$want" ] &&
    [ "$(log_value "$line" subject)" = /CN=proxy ] && ! log_has "$H2LOG" 0 event=link_up; echo $?)" \
    "host: a proxy certificate with clientAuth only is refused: event=peer_rejected subject=\"/CN=proxy\" reason=\"$want\", no link_up" ||
	diag_file "$H2LOG" 10 h2.log
diag "$line"
smark=$(log_mark "$H2LOG")
kill_tracked USR1 "${VNETD_PID[h2]}"
vnetd_wait h2 5 "$smark" event=stats worker=crypt
stats=$(log_lines "$H2LOG" "$smark" event=stats worker=crypt | tail -n 1)
n=$(log_value "$stats" peers_rejected)
ok "$([ "${n:-0}" -ge 1 ]; echo $?)" "the host's crypt counts it: peers_rejected=${n:-?} (SIGUSR1 stats)" || diag "$stats"
check "the host keeps its link to the real proxy meanwhile: no link_down, VM still linked" \
    eval "! log_has \"$PLOG\" 0 event=link_down && ! log_has \"${VNETD_LOG[host]}\" 0 event=link_down"
vnetd_stop h2 10 >/dev/null 2>&1
stop_pid "$SPID"

# ---- 11-12: a host refuses to start without its proxy's identity, and
# with a certificate that lacks clientAuth (vnetd -n and a real start).
grep -v '^peer-name' "$VN_TMP/h2.conf" >"$VN_TMP/anon.conf"
out=$("$VNET_BUILD/vnetd" -n -f "$VN_TMP/anon.conf" 2>&1); st=$?
line=$(grep -n '^connect' "$VN_TMP/anon.conf" | cut -d: -f1)
ok "$([ "$st" = 1 ] && printf '%s\n' "$out" | grep -qF "$VN_TMP/anon.conf:$line: connect: the proxy is not identified: add 'peer-name NAME'"; echo $?)" \
    "vnetd -n: a host without peer-name or pin is refused, naming line $line: '$out'" || diag "exit $st"
sed "s|^certificate .*|certificate $VN_TMP/srvhost.crt|; s|^key .*|key $VN_TMP/srvhost.key|" \
    "$VN_TMP/h2.conf" >"$VN_TMP/srv.conf"
out=$(in_ns "$NS_HOST2" timeout 10 "$VNET_BUILD/vnetd" -d -f "$VN_TMP/srv.conf" -x "$VNET_BUILD" 2>&1 </dev/null); st=$?
ok "$([ "$st" = 1 ] && printf '%s\n' "$out" | grep -qF "$VN_TMP/srvhost.crt: certificate's extended key usage lacks clientAuth, which a host's needs"; echo $?)" \
    "vnetd refuses to start with a host certificate without clientAuth (exit $st)" || diag "$out"
diag "$(printf '%s\n' "$out" | head -n 3)"
tap_done

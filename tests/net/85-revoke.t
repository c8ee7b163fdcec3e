#!/bin/bash
# SPDX-License-Identifier: ISC
# Revocation and rotation by reload (issue 17 point 2), on a proxy with
# two hosts, A and B, one VM each:
# - while VM B sends 64 MiB to the client, host A's certificate is
#   revoked (vnet-pki revoke) and the proxy, given "crl", reloads: A's
#   link is cut within 1 s (event=peer_revoked, link_down with the
#   reason), A's redials fail as revoked, B's link never drops and the
#   transfer's sha256 matches;
# - the proxy's certificate and key are replaced in place and reloaded:
#   host B's link stays up, and once B's crypt redials it sees the new
#   fingerprint; no proxy process restarted. A key that does not match
#   its certificate, and a CRL from another CA, are refused with the
#   reason and the running material stays;
# - a CRL past its nextUpdate is still used (policy accept) and audited
#   (event=crl_expired);
# - a host certificate that expires while its link is up is cut then;
# - the host end checks too: host B, given a CRL that revokes the
#   proxy's (new) certificate, cuts its link on reload.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/multihost.sh"
mh_prereq
vn_init
plan 20

MA=52:54:00:0a:00:01	# VM 1 on host A
MB=52:54:00:0b:00:03	# VM 3 on host B
IPA=10.202.0.91 IPB=10.202.0.93

topo() {
	mh_base_up && mh_host_add a 2 && mh_host_add b 3 &&
	mh_vm_add 1 a "$MA" && mh_vm_add 3 b "$MB" && mh_topo_finish
}
mh_topo_tap topo								# 1

P=$VN_TMP/proxy.conf
pki() {
	vn_certs "$VN_TMP" && mh_leaf "$VN_TMP" hostA hostA &&
	mh_leaf "$VN_TMP" hostB hostB || return 1
	mh_proxy_conf "$P"
	mh_proxy_block "$P" hostA hostA "$MA"
	mh_proxy_block "$P" hostB hostB "$MB"
	mh_host_conf "$VN_TMP/hostA.conf" hostA "$MA"
	mh_host_conf "$VN_TMP/hostB.conf" hostB "$MB"
	# Host B checks the proxy against the CA's CRL too (both ends).
	echo "crl $VN_TMP/crl.pem" >>"$VN_TMP/hostB.conf"
	"$VNET_BUILD/vnetd" -n -f "$P" >/dev/null &&
	"$VNET_BUILD/vnetd" -n -f "$VN_TMP/hostA.conf" >/dev/null &&
	"$VNET_BUILD/vnetd" -n -f "$VN_TMP/hostB.conf" >/dev/null
}
check "vnet-pki: CA, proxy, hostA, hostB; configurations accepted" pki	# 2

declare -A CTL_SOCK
CTL_SOCK[proxy]=$(conf_control "$P")
ctl() { local n=$1; shift; "$VNET_BUILD/vnetctl" -s "${CTL_SOCK[$n]}" "$@"; }
# kill_crypt NAME: SIGKILL the daemon's crypt (its monitor restarts it).
kill_crypt() { local p; p=$(vnetd_worker "$1" crypt); track "$p"; kill_tracked KILL "$p"; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f; }

vnetd_start proxy "$NS_PROXY" "$P"
wait_for 5 eval "in_ns $NS_PROXY ss -Hltn 'sport = :$VNET_PORT' | grep -q ."
vnetd_start hostA "${MH_HOST_NS[a]}" "$VN_TMP/hostA.conf"
vnetd_start hostB "${MH_HOST_NS[b]}" "$VN_TMP/hostB.conf"
PLOG=${VNETD_LOG[proxy]}
vnetd_wait_link 20 hostA hostB &&
    wait_for 10 log_has "$PLOG" 0 event=link_up host=hostA &&
    wait_for 10 log_has "$PLOG" 0 event=link_up host=hostB
ok $? "the proxy links up with hostA and hostB" ||				# 3
	{ for n in proxy hostA hostB; do diag_file "${VNETD_LOG[$n]}" 10 "$n.log"; done; VN_KEEP_LOGS=(); fail_rest "no links"; }
ip -n "${MH_VM_NS[1]}" addr add "$IPA/24" dev eth0
ip -n "${MH_VM_NS[3]}" addr add "$IPB/24" dev eth0
MON0=${VNETD_PID[proxy]}
CRYPT0=$(vnetd_worker proxy crypt)
BUP0=$(log_lines "$PLOG" 0 event=link_up host=hostB | wc -l)

# ---- 4: B's long transfer, throttled so that it spans the reloads.
in_ns "${MH_VM_NS[3]}" tc qdisc add dev eth0 root tbf rate 120mbit burst 512k latency 200ms
MIB=64
XS="$VN_TMP/long.src" XD="$VN_TMP/long.dst"
head -c $((MIB * 1048576)) /dev/urandom >"$XS"
ip netns exec "$NS_CLIENT" timeout 60 socat -u "TCP-LISTEN:5999,bind=$CLIENT_IP,reuseaddr" "CREATE:$XD" \
    </dev/null >"$VN_TMP/long.rx.log" 2>&1 &
XL=$!; track "$XL"
wait_for 5 eval "in_ns $NS_CLIENT ss -Hltn 'sport = :5999' | grep -q ."
ip netns exec "${MH_VM_NS[3]}" timeout 55 socat -u "OPEN:$XS,rdonly" "TCP:$CLIENT_IP:5999,connect-timeout=5" \
    </dev/null >"$VN_TMP/long.tx.log" 2>&1 &
XT=$!; track "$XT"
wait_for 10 eval '[ "$(stat -c %s "$XD" 2>/dev/null || echo 0)" -gt 4194304 ]'
ok $? "a $MIB MiB transfer VM 3 (host B) -> client is under way"		# 4

# ---- 5-7: revoke A, add crl, reload: A is cut within 1 s.
"$VN_PKI" -d "$VN_TMP" revoke -r keyCompromise "$VN_TMP/hostA.crt" >/dev/null
echo "crl $VN_TMP/crl.pem" >>"$P"
mark=$(log_mark "$PLOG")
t0=$(now_ms)
out=$(ctl proxy reload 2>&1)
wait_for 1 log_has "$PLOG" "$mark" event=link_down host=hostA
st=$?; dt=$(( $(now_ms) - t0 ))
down=$(log_lines "$PLOG" "$mark" event=link_down host=hostA | head -n 1)
ok "$([ $st = 0 ] && [ "$(log_value "$down" reason)" = "peer certificate: certificate revoked" ]; echo $?)" \
    "reload with crl: host A's link is cut in $dt ms (<= 1000) with reason \"peer certificate: certificate revoked\"" ||
	{ diag "$out"; diag_file "$PLOG" 10 proxy.log; }			# 5
diag "$down"
rev=$(log_lines "$PLOG" "$mark" event=peer_revoked host=hostA | head -n 1)
ok "$([ "$(log_value "$rev" reason)" = "certificate revoked" ]; echo $?)" \
    "audited: event=peer_revoked host=hostA reason=\"certificate revoked\"" || diag "$rev"	# 6
# A redials (backoff from 250 ms) and is refused as revoked, never up.
wait_for 8 eval "log_lines \$PLOG \$mark event=tls_handshake_failed | grep -q 'certificate revoked'"
sleep 2
refused=$(log_lines "$PLOG" "$mark" event=tls_handshake_failed | grep -c 'certificate revoked')
upA=$(log_lines "$PLOG" "$mark" event=link_up host=hostA)
ok "$([ "$refused" -ge 1 ] && [ -z "$upA" ]; echo $?)" \
    "host A's redials are refused: $refused event=tls_handshake_failed ... (certificate: certificate revoked), no link_up" ||
	{ diag "$upA"; diag_file "$PLOG" 10 proxy.log; }			# 7
diag "$(log_lines "$PLOG" "$mark" event=tls_handshake_failed | head -n 1)"

# ---- 8: B's transfer, intact.
wait_for 50 eval "! alive $XT"
wait "$XT"; sst=$?
wait_for 10 eval "! alive $XL"
wait "$XL" 2>/dev/null
h1=$(sha256sum <"$XS" | cut -d' ' -f1); h2=$(sha256sum <"$XD" 2>/dev/null | cut -d' ' -f1)
ok "$([ "$sst" = 0 ] && [ "$h1" = "$h2" ] && ! log_has "$PLOG" 0 event=link_down host=hostB; echo $?)" \
    "$MIB MiB VM 3 -> client across the revocation: sha256 matches, host B's link never went down" ||
	diag "sender exit $sst; sha256 $h1 / $h2; $(cat "$VN_TMP/long.tx.log" "$VN_TMP/long.rx.log")"	# 8
rm -f "$XS" "$XD"

# ---- 9-11: rotate the proxy's certificate and key.
"$VN_PKI" -d "$VN_TMP" proxy -v 2 -o "$VN_TMP/proxy2" proxy "$PROXY_WAN" >/dev/null
OLDFP=$(fp "$VN_TMP/proxy.crt") NEWFP=$(fp "$VN_TMP/proxy2.crt")
cp "$VN_TMP/proxy.key" "$VN_TMP/proxy.key.old"
cp "$VN_TMP/hostB.key" "$VN_TMP/proxy.key"		# a key that is not the certificate's
mark=$(log_mark "$PLOG")
out=$(ctl proxy reload 2>&1); s=$?
rej=$(log_lines "$PLOG" "$mark" event=reload result=rejected | head -n 1)
ok "$([ $s != 0 ] && printf '%s' "$out" | grep -q "key $VN_TMP/proxy.key: does not match the certificate" &&
    [ -n "$rej" ]; echo $?)" \
    "a key that is not the certificate's is refused: '$out', audited" || diag "$rej"	# 9
cp "$VN_TMP/proxy2.crt" "$VN_TMP/proxy.crt"
cp "$VN_TMP/proxy2.key" "$VN_TMP/proxy.key"
mark=$(log_mark "$PLOG")
out=$(ctl proxy reload 2>&1); s=$?
app=$(log_lines "$PLOG" "$mark" event=reload result=applied key_material=changed "certificate_sha256=$NEWFP")
sleep 0.5
links=$(ctl proxy -j links)
ok "$([ $s = 0 ] && [ -n "$app" ] && printf '%s\n' "$links" | jq -e '.total == 1 and .links[0].host == "hostB"' >/dev/null; echo $?)" \
    "rotation applied (key_material=changed certificate_sha256=<new>); vnetctl links: hostB's link is still up" ||
	{ diag "$out" "$links"; diag_file "$PLOG" 10 proxy.log; }		# 10
BLOG=${VNETD_LOG[hostB]}
bmark=$(log_mark "$BLOG")
kill_crypt hostB
vnetd_wait hostB 10 "$bmark" event=link_up "fingerprint=$NEWFP"
ok $? "host B's new crypt redials and sees the new certificate (link_up fingerprint=${NEWFP:0:16}..., was ${OLDFP:0:16}...)" ||
	diag_file "$BLOG" 10 hostB.log						# 11

# ---- 12-14: CRLs that are not acceptable or out of date.
cp "$VN_TMP/crl.pem" "$VN_TMP/crl.good"
cp "$VN_TMP/rogue-ca.d/crl.pem" "$VN_TMP/crl.pem"
mark=$(log_mark "$PLOG")
out=$(ctl proxy reload 2>&1); s=$?
ok "$([ $s != 0 ] && printf '%s' "$out" | grep -q "crl $VN_TMP/crl.pem: a CRL in it is not signed by a certificate of the ca file" &&
    log_has "$PLOG" "$mark" event=reload result=rejected; echo $?)" \
    "a CRL from another CA is refused: '$out'"				# 12
# Expired: nextUpdate in 2020, signed by the CA.
cat >"$VN_TMP/old.cnf" <<EOF
[ ca ]
default_ca = c
[ c ]
database = $VN_TMP/index.txt
crlnumber = $VN_TMP/crlnumber
certificate = $VN_TMP/ca.crt
private_key = $VN_TMP/ca.key
default_md = sha256
EOF
openssl ca -gencrl -config "$VN_TMP/old.cnf" -crl_lastupdate 20200101000000Z \
    -crl_nextupdate 20200102000000Z -out "$VN_TMP/crl.pem" >/dev/null 2>&1
mark=$(log_mark "$PLOG")
out=$(ctl proxy reload 2>&1); s=$?
# crypt writes its record after the monitor answers the reload: wait for it.
vnetd_wait proxy 5 "$mark" event=crl_expired when=reload policy=accept
exp=$(log_lines "$PLOG" "$mark" event=crl_expired when=reload policy=accept)
bmark=$(log_mark "$BLOG")
kill_crypt hostB
vnetd_wait hostB 10 "$bmark" event=link_up
bup=$?
mh_usr1 proxy
acc=$(log_value "$MH_STATS" crl_expired_accepted)
ok "$([ $s = 0 ] && [ -n "$exp" ] && [ $bup = 0 ] && [ "${acc:-0}" -ge 1 ]; echo $?)" \
    "an expired CRL: reload applied, event=crl_expired when=reload policy=accept; host B links up again (crl_expired_accepted=$acc)" ||
	{ diag "$out"; diag_file "$PLOG" 10 proxy.log; }			# 13
diag "$exp"
amark=$(log_mark "$PLOG")
wait_for 12 eval "log_lines \$PLOG \$amark event=tls_handshake_failed | grep -q 'certificate revoked'"
upA=$(log_lines "$PLOG" "$amark" event=link_up host=hostA)
ok "$([ -z "$upA" ] && log_lines "$PLOG" "$amark" event=tls_handshake_failed | grep -q 'certificate revoked'; echo $?)" \
    "what the expired CRL revokes stays revoked: host A is still refused" || diag "$upA"	# 14

# ---- 15: nothing of the proxy restarted.
ok "$([ "${VNETD_PID[proxy]}" = "$MON0" ] && alive "$MON0" && [ "$(vnetd_worker proxy crypt)" = "$CRYPT0" ] &&
    ! log_has "$PLOG" 0 event=worker_exit worker=crypt; echo $?)" \
    "no proxy process restarted (monitor $MON0, crypt $CRYPT0, no worker_exit)"	# 15

# ---- 16-18: host A with a certificate that ends 25 s from now.
cp "$VN_TMP/crl.good" "$VN_TMP/crl.pem"
ctl proxy reload >/dev/null 2>&1
vnetd_stop hostA >/dev/null 2>&1
END=$(date -u -d '+25 seconds' +%Y%m%d%H%M%SZ)
"$VN_PKI" -d "$VN_TMP" host -e "$END" -o "$VN_TMP/hostA2" hostA >/dev/null
sed -i "s|$VN_TMP/hostA\\.|$VN_TMP/hostA2.|" "$VN_TMP/hostA.conf"
NA=$(date -u -d "$(openssl x509 -in "$VN_TMP/hostA2.crt" -noout -enddate | cut -d= -f2)" +%s)
mark=$(log_mark "$PLOG")
vnetd_start hostA "${MH_HOST_NS[a]}" "$VN_TMP/hostA.conf"
vnetd_wait proxy 15 "$mark" event=link_up host=hostA
ok $? "host A, with a new certificate valid until $END, links up again"	# 16
vnetd_wait proxy 40 "$mark" event=link_down host=hostA
cut=$(date +%s)
down=$(log_lines "$PLOG" "$mark" event=link_down host=hostA | head -n 1)
ok "$([ "$(log_value "$down" reason)" = "peer certificate: certificate has expired" ] &&
    [ "$cut" -ge "$NA" ] && [ "$cut" -le $((NA + 2)) ]; echo $?)" \
    "its link is cut when the certificate expires ($((cut - NA)) s after notAfter): reason \"peer certificate: certificate has expired\"" ||
	{ diag "$down"; diag_file "$PLOG" 10 proxy.log; }			# 17
rev=$(log_lines "$PLOG" "$mark" event=peer_revoked host=hostA "not_after=$NA")
ok "$([ -n "$rev" ]; echo $?)" "audited: event=peer_revoked host=hostA reason=\"certificate has expired\" not_after=$NA" ||
	diag_file "$PLOG" 10 proxy.log						# 18

# ---- 19-20: the host end. Revoke the proxy's current certificate and
# reload host B: B cuts its link to the proxy and refuses it after.
"$VN_PKI" -d "$VN_TMP" revoke "$VN_TMP/proxy2.crt" >/dev/null
bmark=$(log_mark "$BLOG")
kill_tracked HUP "${VNETD_PID[hostB]}"
vnetd_wait hostB 5 "$bmark" event=link_down host=proxy
down=$(log_lines "$BLOG" "$bmark" event=link_down host=proxy | head -n 1)
rev=$(log_lines "$BLOG" "$bmark" event=peer_revoked host=proxy reason=\"certificate revoked\")
ok "$([ "$(log_value "$down" reason)" = "peer certificate: certificate revoked" ] && [ -n "$rev" ]; echo $?)" \
    "host B, reloaded with a CRL revoking the proxy's certificate, cuts its link: peer_revoked host=proxy, link_down reason \"peer certificate: certificate revoked\"" ||
	diag_file "$BLOG" 10 hostB.log						# 19
vnetd_wait hostB 8 "$bmark" event=tls_handshake_failed
f=$(log_lines "$BLOG" "$bmark" event=tls_handshake_failed | head -n 1)
upB=$(log_lines "$BLOG" "$bmark" event=link_up)
ok "$(printf '%s' "$f" | grep -q 'certificate revoked' && [ -z "$upB" ]; echo $?)" \
    "host B's redials refuse the revoked proxy: tls_handshake_failed ... certificate revoked, no link_up" ||
	diag "$f" "$upB"							# 20

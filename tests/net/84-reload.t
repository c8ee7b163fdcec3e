#!/bin/bash
# SPDX-License-Identifier: ISC
# Live reload on a proxy with two hosts (vmhost1, vmhost2, each with its
# own VM). While 128 MiB cross host 1's link (throttled to 120 Mbit/s in
# the VM, so the transfer spans the reloads), a reload that removes
# host 2's block cuts host 2's link (reason "authorization removed by
# reload") and its redials are refused (peer_rejected); host 1's link
# never goes down (same link, same crypt pid) and the transfer's sha256
# matches. Restoring the block brings host 2 back. A file that does not
# parse, and a change that needs a restart (interface), are refused with
# the reason and the running config_sha256 is kept. Each through SIGHUP
# and through vnetctl reload (human and -j).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ops.sh"
vn_prereq
ops_prereq
vn_init
plan 24

VM_IP=10.202.0.99
VM2_IP=10.202.0.98
topo() { topo_up && ops_host2_up; }
topo >"$VN_TMP/topo.out" 2>&1
ok $? "topology up: VM/host/proxy/LAN plus host 2 ($HOST2_WAN) with its own VM ($VM2_MAC); offloads ${VN_OFFLOAD:-?}" ||
	{ diag "$(cat "$VN_TMP/topo.out")"; fail_rest "topology"; }		# 1

P=$VN_TMP/proxy.conf
pki() {
	vn_setup_pki && ops_leaf "$VN_TMP" host2 vmhost2 || return 1
	vn_host_conf "$VN_TMP/host2.conf" "$VN_TMP/host2.crt" "$VN_TMP/host2.key" \
	    "$VN_TMP/ca.crt" "$PROXY_WAN"
	sed -i "s/^vm $VM_MAC\$/vm $VM2_MAC/" "$VN_TMP/host2.conf"
	cp "$P" "$VN_TMP/proxy.one.conf"		# vmhost1 only
	printf 'host vmhost2 {\n    mac %s\n}\n' "$VM2_MAC" >>"$P"
	cp "$P" "$VN_TMP/proxy.two.conf"		# both hosts
	# Not parseable: an unknown keyword on the last line.
	{ cat "$VN_TMP/proxy.two.conf"; echo "frobnicate yes"; } >"$VN_TMP/proxy.bad.conf"
	# Parseable, but the interface changes.
	sed 's/^interface lan0$/interface wan1/' "$VN_TMP/proxy.two.conf" >"$VN_TMP/proxy.ifc.conf"
	grep -q '^interface wan1$' "$VN_TMP/proxy.ifc.conf" || return 1
	for f in "$P" "$VN_TMP/proxy.one.conf" "$VN_TMP/host.conf" "$VN_TMP/host2.conf"; do
		"$VNET_BUILD/vnetd" -n -f "$f" >/dev/null || return 1
	done
	! "$VNET_BUILD/vnetd" -n -f "$VN_TMP/proxy.bad.conf" >/dev/null 2>&1
}
check "certificates (CN=vmhost2 too) and configurations: proxy with blocks vmhost1 and vmhost2, without vmhost2, broken, other interface" pki	# 2
SHA_TWO=$(sha256sum <"$VN_TMP/proxy.two.conf" | cut -d' ' -f1)
SHA_ONE=$(sha256sum <"$VN_TMP/proxy.one.conf" | cut -d' ' -f1)
CTL_SOCK[proxy]=$(conf_control "$P")

# ---- 3: three daemons, two links.
vnetd_start proxy "$NS_PROXY" "$P"
wait_for 5 eval "in_ns $NS_PROXY ss -Hltn 'sport = :$VNET_PORT' | grep -q ."
vnetd_start host "$NS_HOST" "$VN_TMP/host.conf"
vnetd_start host2 "$NS_HOST2" "$VN_TMP/host2.conf"
PLOG=${VNETD_LOG[proxy]}
vnetd_wait_link 20 host host2 &&
    wait_for 10 log_has "$PLOG" 0 event=link_up host=vmhost1 &&
    wait_for 10 log_has "$PLOG" 0 event=link_up host=vmhost2
ok $? "the proxy links up with vmhost1 and vmhost2" ||
	{ for n in proxy host host2; do diag_file "${VNETD_LOG[$n]}" 10 "$n.log"; done; VN_KEEP_LOGS=(); fail_rest "no links"; }

ip -n "$NS_VM" addr add "$VM_IP/24" dev eth0
ip -n "$NS_VM2" addr add "$VM2_IP/24" dev eth0
check "both VMs ping the client ($VM_IP via vmhost1, $VM2_IP via vmhost2)" \
    eval 'ping4 "$NS_VM" "$CLIENT_IP" && ping4 "$NS_VM2" "$CLIENT_IP"'	# 4

CRYPT0=$(vnetd_worker proxy crypt)
INJECT0=$(vnetd_worker proxy inject)
H1UP0=$(log_lines "$PLOG" 0 event=link_up host=vmhost1 | wc -l)
status_sha() { ctl proxy -j status 2>/dev/null | jq -r .config_sha256; }

# ---- 5: the long transfer, in the background, throttled in VM 1.
in_ns "$NS_VM" tc qdisc add dev eth0 root tbf rate 120mbit burst 512k latency 200ms
MIB=128
XS="$VN_TMP/long.src" XD="$VN_TMP/long.dst"
head -c $((MIB * 1048576)) /dev/urandom >"$XS"
ip netns exec "$NS_CLIENT" timeout 50 socat -u "TCP-LISTEN:5999,bind=$CLIENT_IP,reuseaddr" "CREATE:$XD" \
    </dev/null >"$VN_TMP/long.rx.log" 2>&1 &
XL=$!; track "$XL"
wait_for 5 eval "in_ns $NS_CLIENT ss -Hltn 'sport = :5999' | grep -q ."
T0=$(now_ms)
ip netns exec "$NS_VM" timeout 45 socat -u "OPEN:$XS,rdonly" "TCP:$CLIENT_IP:5999,connect-timeout=5" \
    </dev/null >"$VN_TMP/long.tx.log" 2>&1 &
XT=$!; track "$XT"
wait_for 5 eval '[ "$(stat -c %s "$XD" 2>/dev/null || echo 0)" -gt 4194304 ]'
ok $? "a $MIB MiB TCP transfer VM 1 -> client is under way ($(stat -c %s "$XD" 2>/dev/null) bytes after $(( $(now_ms) - T0 )) ms)"

# ---- 6-9: SIGHUP with host 2's block removed.
cp "$VN_TMP/proxy.one.conf" "$P"
mark=$(log_mark "$PLOG")
kill_tracked HUP "${VNETD_PID[proxy]}"
vnetd_wait proxy 5 "$mark" event=reload result=applied "config_sha256=$SHA_ONE" &&
    vnetd_wait proxy 5 "$mark" event=reload result=applied hosts=1 links_cut=1 worker=crypt
st=$?
running=$(alive "$XT" && echo yes || echo no)
ok "$([ "$st" = 0 ] && [ "$running" = yes ]; echo $?)" \
    "SIGHUP without vmhost2's block: event=reload result=applied config_sha256=<new>, crypt: hosts=1 links_cut=1 (transfer still running: $running)" ||
	diag_file "$PLOG" 10 proxy.log
vnetd_wait proxy 5 "$mark" event=link_down host=vmhost2
line=$(log_lines "$PLOG" "$mark" event=link_down host=vmhost2 | head -n 1)
ok "$([ "$(log_value "$line" reason)" = "authorization removed by reload" ]; echo $?)" \
    "host 2's link is cut: event=link_down host=vmhost2 reason=\"authorization removed by reload\"" ||
	diag_file "$PLOG" 10 proxy.log
diag "$line"
# Its redials are refused, and it never links up while the block is gone.
wait_for 8 eval "log_lines \$PLOG \$mark event=peer_rejected | grep -q \"CN 'vmhost2'\""
sleep 1
rej=$(log_lines "$PLOG" "$mark" event=peer_rejected | grep -E "peer=$HOST2_WAN:[0-9]+" | grep -F "reason=\"no host is configured for certificate CN 'vmhost2'\"")
up2=$(log_lines "$PLOG" "$mark" event=link_up host=vmhost2)
ok "$([ -n "$rej" ] && [ -z "$up2" ]; echo $?)" \
    "host 2 redials and is refused: event=peer_rejected peer=$HOST2_WAN:PORT reason=\"no host is configured for certificate CN 'vmhost2'\" ($(printf '%s\n' "$rej" | grep -c .) so far), no link_up" ||
	{ diag "$up2"; diag_file "$PLOG" 10 proxy.log; }
diag "$(printf '%s\n' "$rej" | head -n 1)"
links=$(ctl proxy -j links)
ok "$(printf '%s\n' "$links" | jq -e '.total == 1 and .links[0].host == "vmhost1"' >/dev/null; echo $?)" \
    "vnetctl -j links: only vmhost1's link is up" || diag "$links"

# ---- 10-12: vnetctl reload restores the block; host 2 comes back.
cp "$VN_TMP/proxy.two.conf" "$P"
mark=$(log_mark "$PLOG")
out=$(ctl proxy reload 2>&1); s=$?
running=$(alive "$XT" && echo yes || echo no)
ok "$([ $s = 0 ] && [ "$out" = "reload applied (sha256 $SHA_TWO)" ] && [ "$running" = yes ]; echo $?)" \
    "vnetctl reload with the block back: exit $s, 'reload applied (sha256 <sha256sum>)' (transfer still running: $running)" ||
	diag "$out"
vnetd_wait proxy 15 "$mark" event=link_up host=vmhost2
ok $? "host 2's redial is accepted again: event=link_up host=vmhost2" || diag_file "$PLOG" 10 proxy.log
check "VM 2 pings the client again" ping4 "$NS_VM2" "$CLIENT_IP"

# ---- 13-15: the transfer completes; host 1's link never went down.
wait_for 40 eval "! alive $XT"
wait "$XT"; sst=$?
wait_for 10 eval "! alive $XL"
wait "$XL" 2>/dev/null
T1=$(now_ms)
h1=$(sha256sum <"$XS" | cut -d' ' -f1); h2=$(sha256sum <"$XD" 2>/dev/null | cut -d' ' -f1)
ok "$([ "$sst" = 0 ] && [ "$h1" = "$h2" ]; echo $?)" \
    "$MIB MiB VM 1 -> client across both reloads: sha256 matches ($(stat -c %s "$XD" 2>/dev/null) bytes in $((T1 - T0)) ms)" ||
	diag "sender exit $sst; sha256 sent $h1, received $h2; $(cat "$VN_TMP/long.tx.log" "$VN_TMP/long.rx.log")"
rm -f "$XS" "$XD"
down1=$(log_lines "$PLOG" 0 event=link_down host=vmhost1; log_lines "${VNETD_LOG[host]}" 0 event=link_down)
H1UP1=$(log_lines "$PLOG" 0 event=link_up host=vmhost1 | wc -l)
ok "$([ -z "$down1" ] && [ "$H1UP1" = "$H1UP0" ] && [ "$(vnetd_worker proxy crypt)" = "$CRYPT0" ]; echo $?)" \
    "host 1's link never went down: no link_down on either side, still $H1UP0 link_up, proxy crypt pid $CRYPT0 unchanged" ||
	diag "$down1"
up_s=$(ctl proxy -j links | jq -r '.links[] | select(.host == "vmhost1") | .up_s')
ok "$([ -n "$up_s" ] && [ "$up_s" -ge $(( (T1 - T0) / 1000 )) ]; echo $?)" \
    "vnetctl: vmhost1's link has been up ${up_s:-?} s, longer than the transfer ($(( (T1 - T0) / 1000 )) s)"

# ---- 16-18: a file that does not parse, through SIGHUP and vnetctl.
SHA_RUN=$(status_sha)
cp "$VN_TMP/proxy.bad.conf" "$P"
nl=$(wc -l <"$P")
mark=$(log_mark "$PLOG")
kill_tracked HUP "${VNETD_PID[proxy]}"
vnetd_wait proxy 5 "$mark" event=reload result=rejected "running_sha256=$SHA_TWO"
line=$(log_lines "$PLOG" "$mark" event=reload result=rejected | head -n 1)
ok "$([ "$SHA_RUN" = "$SHA_TWO" ] && [ "$(log_value "$line" reason)" = "$P:$nl: unknown keyword 'frobnicate'" ] &&
    [ "$(status_sha)" = "$SHA_TWO" ]; echo $?)" \
    "SIGHUP with a broken file: event=reload result=rejected reason=\"FILE:$nl: unknown keyword 'frobnicate'\" running_sha256=<running>; vnetctl status config_sha256 unchanged" ||
	{ diag "$line"; diag "status sha256 $(status_sha), running $SHA_TWO"; }
out=$(ctl proxy reload 2>"$VN_TMP/rl.err"); s=$?
err=$(cat "$VN_TMP/rl.err")
ok "$([ $s = 1 ] && [ -z "$out" ] && [ "$err" = "error: reload rejected: $P:$nl: unknown keyword 'frobnicate'" ] &&
    [ "$(status_sha)" = "$SHA_TWO" ]; echo $?)" \
    "vnetctl reload with the broken file: exit $s, stderr 'error: reload rejected: FILE:$nl: unknown keyword ...', config_sha256 unchanged" ||
	diag "stdout: $out" "stderr: $err"
out=$(ctl proxy -j reload 2>&1); s=$?
ok "$([ $s = 1 ] && printf '%s\n' "$out" | jq -e --arg r "$P:$nl: unknown keyword 'frobnicate'" \
    '(keys_unsorted == ["reload","reason"]) and .reload == "rejected" and .reason == $r' >/dev/null &&
    [ "$(status_sha)" = "$SHA_TWO" ]; echo $?)" \
    "vnetctl -j reload with the broken file: exit $s, {\"reload\":\"rejected\",\"reason\":\"FILE:$nl: ...\"}" ||
	diag "$out"

# ---- 19-21: a change that needs a restart.
cp "$VN_TMP/proxy.ifc.conf" "$P"
mark=$(log_mark "$PLOG")
kill_tracked HUP "${VNETD_PID[proxy]}"
vnetd_wait proxy 5 "$mark" event=reload result=rejected "running_sha256=$SHA_TWO"
line=$(log_lines "$PLOG" "$mark" event=reload result=rejected | head -n 1)
ok "$([ "$(log_value "$line" reason)" = "changing 'interface' needs a restart" ] && [ "$(status_sha)" = "$SHA_TWO" ]; echo $?)" \
    "SIGHUP with another interface: event=reload result=rejected reason=\"changing 'interface' needs a restart\"; config_sha256 unchanged" ||
	diag "$line"
out=$(ctl proxy reload 2>&1); s=$?
ok "$([ $s = 1 ] && [ "$out" = "error: reload rejected: changing 'interface' needs a restart" ]; echo $?)" \
    "vnetctl reload with another interface: exit $s, 'error: reload rejected: changing 'interface' needs a restart'" || diag "$out"
links=$(ctl proxy -j links)
ok "$([ "$(status_sha)" = "$SHA_TWO" ] && printf '%s\n' "$links" | jq -e '.total == 2' >/dev/null &&
    [ -z "$(log_lines "$PLOG" "$mark" event=link_down)" ]; echo $?)" \
    "after the refusals: config_sha256 still the running file's, both links still up, no link_down" || diag "$links"

# ---- 22-24: remove through vnetctl -j reload, restore through SIGHUP.
cp "$VN_TMP/proxy.one.conf" "$P"
mark=$(log_mark "$PLOG")
out=$(ctl proxy -j reload 2>&1); s=$?
wait_for 5 eval "log_lines \$PLOG \$mark event=link_down host=vmhost2 | grep -qF 'reason=\"authorization removed by reload\"'"
st=$?
ok "$([ $s = 0 ] && [ "$st" = 0 ] && printf '%s\n' "$out" | jq -e --arg h "$SHA_ONE" \
    '(keys_unsorted == ["reload","config_sha256"]) and .reload == "applied" and .config_sha256 == $h' >/dev/null; echo $?)" \
    "vnetctl -j reload without vmhost2: exit $s, {\"reload\":\"applied\",\"config_sha256\":<sha256sum>}, host 2's link cut" ||
	{ diag "$out"; diag_file "$PLOG" 10 proxy.log; }
wait_for 8 eval "log_lines \$PLOG \$mark event=peer_rejected | grep -q \"CN 'vmhost2'\""
ok $? "its redial is refused again (peer_rejected)" || diag_file "$PLOG" 10 proxy.log
cp "$VN_TMP/proxy.two.conf" "$P"
mark=$(log_mark "$PLOG")
kill_tracked HUP "${VNETD_PID[proxy]}"
vnetd_wait proxy 5 "$mark" event=reload result=applied "config_sha256=$SHA_TWO" &&
    vnetd_wait proxy 15 "$mark" event=link_up host=vmhost2
st=$?
ok "$([ "$st" = 0 ] && [ "$(vnetd_worker proxy crypt)" = "$CRYPT0" ] && [ "$(vnetd_worker proxy inject)" = "$INJECT0" ] &&
    [ -z "$(log_lines "$PLOG" 0 event=link_down host=vmhost1)" ]; echo $?)" \
    "SIGHUP with the block back: applied, host 2 links up; crypt ($CRYPT0) and inject ($INJECT0) never restarted, vmhost1 never down" ||
	diag_file "$PLOG" 15 proxy.log

tap_done

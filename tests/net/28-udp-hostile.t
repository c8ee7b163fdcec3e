#!/bin/bash
# SPDX-License-Identifier: ISC
# Hostile datagrams against the proxy's UDP data channel. The pair runs
# on UDP (the default) with "rekey-packets 64" on the host, so the
# host's sending direction changes key every 64 datagrams. The WAN is
# captured (tcpdump -w) from before the link comes up, while the VM
# leases and pings; then tests/tools/dgramhostile.py, from the host's
# namespace, sends the host's own datagrams back to the proxy's port,
# altered, in two phases:
#   quiet: while the VM pings at 50/s: fresh datagrams replayed in
#     order, reversed and shuffled (replay); datagrams the proxy never
#     saw (an nft rule in its namespace drops them for a moment) with a
#     ciphertext, tag or counter bit changed, or cut by a byte (tag);
#     then those same datagrams intact, which must be accepted (failed
#     copies leave the replay window alone), and again (replay);
#   load: during an 8 MiB transfer VM -> client paced at 2 MiB/s:
#     lengths below header + tag (short), of header + tag or a 13-byte
#     frame (length), a bad version, reserved bytes, unknown types, a
#     datagram over crypt's buffer (too_long), a flipped receiver id
#     (unknown_id), a counter far ahead (future_epoch), the capture's
#     epoch-0 datagrams as they were, reordered or altered (old_epoch),
#     and live datagrams sent back at once (replay, or old_epoch when
#     the proxy has moved two epochs on by then).
# Afterwards: the proxy's counters grew by exactly what each phase sent
# under each reason; every reason is audited (event=datagram_dropped,
# 10/s), and written records plus suppressed= counts add up to the
# drops; the transfer's sha256 matches; the link stayed up on UDP, the
# same link, and the proxy's datagrams go to the host (a live copy that
# overtook its original would be genuine and be followed until the
# host's next datagram: allowed under load, and reported); no worker
# exited. Kernel drops at the proxy's socket (RcvbufErrors, none
# expected) would relax the exact counts by that many, and are shown.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resil.sh"
rs_prereq nft
vn_init
unset VNET_TRANSPORT		# the default: UDP
plan 17

EP=64				# the host's packets per key epoch
MIB=8; RATE=2097152		# 4 s of transfer
TOOL=(ip netns exec "$NS_HOST" timeout 30 "$RS_PY" "$RS_TOOLS/dgramhostile.py"
    --pcap "$VN_TMP/wan.pcap" --proxy "$PROXY_WAN" --port "$VNET_PORT"
    --iface wan0 --epoch-packets "$EP")

topo_up_tap								# 1
setup() {
	vn_setup_pki && rs_conf_append "$VN_TMP/host.conf" "rekey-packets $EP"
}
check "certificates and configurations (host: rekey-packets $EP)" setup	# 2
dhcp_start_tap								# 3
cap_start wanpcap "$NS_HOST" wan0 "udp and dst host $PROXY_WAN and dst port $VNET_PORT" \
    -w "$VN_TMP/wan.pcap" -U || diag "tcpdump did not start: $(cat "$VN_TMP/wanpcap.cap.err")"
start_pair_tap								# 4
PLOG=${VNETD_LOG[proxy]}; HLOG=${VNETD_LOG[host]}

# link_get NAME FIELD...: fields of the daemon's first link (vnetctl -j links).
link_get() {
	local n=$1; shift
	timeout 5 "$VNET_BUILD/vnetctl" -j -s "$VN_TMP/$n.sock" links 2>/dev/null |
	    jq -r ".links[0] | [$(printf '.%s,' "$@" | sed 's/,$//')] | map(tostring) | join(\" \")"
}
on_udp() { [ "$(link_get host transport)" = udp ] && [ "$(link_get proxy transport)" = udp ]; }
wait_for 5 on_udp
vm_lease_tap || fail_rest "the VM has no address"			# 5
# A little traffic, all of it captured: epoch 0 and a few more.
in_ns "$NS_VM" ping -4 -n -q -c 150 -i 0.01 -w 10 "$CLIENT_IP" >"$VN_TMP/ping0.out" 2>&1
sleep 0.3
cap_stop wanpcap
ok "$(on_udp && grep -q ' 0% packet loss' "$VN_TMP/ping0.out" && [ -s "$VN_TMP/wan.pcap" ]; echo $?)" \
    "link on UDP at both ends; the VM's 150 pings answered; the WAN captured ($(stat -c %s "$VN_TMP/wan.pcap" 2>/dev/null) bytes of pcap)" ||
	diag "host: $(link_get host transport) proxy: $(link_get proxy transport)" "$(cat "$VN_TMP/ping0.out")"	# 6

# snmp_udp NS FIELD: the kernel's UDP counter (datagrams it dropped itself).
snmp_udp() {
	in_ns "$1" awk -v f="$2" '$1 == "Udp:" { if (!n) { for (i = 2; i <= NF; i++) k[i] = $i; n = 1; next }
		for (i = 2; i <= NF; i++) if (k[i] == f) print $i }' /proc/net/snmp
}
# val LINE KEY: key=N in the tool's summary line (0 if absent).
val() { local v; v=$(printf '%s\n' "$1" | grep -o " $2=[0-9]*" | cut -d= -f2); echo "${v:-0}"; }
CTRS="udp_drop_malformed udp_drop_unknown_id udp_drop_replay udp_drop_old_epoch udp_drop_future_epoch udp_drop_tag udp_drop_error"
# deltas A B: "name +N" for every drop counter, proxy stats file A to B.
deltas() {
	local k out=""
	for k in $CTRS; do
		out="$out ${k#udp_drop_} +$(( $(rs_jget "$2" crypt "$k") - $(rs_jget "$1" crypt "$k") ))"
	done
	echo "${out# }"
}
dsum() {
	local k s=0
	for k in $CTRS; do s=$((s + $(rs_jget "$2" crypt "$k") - $(rs_jget "$1" crypt "$k"))); done
	echo "$s"
}

rs_stats proxy "$VN_TMP/st0.json"; rs_stats host "$VN_TMP/hst0.json"
read -r PEER0 UP0 DROPS0 < <(link_get proxy peer up_s udp_drops)
RB0=$(snmp_udp "$NS_PROXY" RcvbufErrors)
PMARK=$(log_mark "$PLOG"); HMARK=$(log_mark "$HLOG")
T0=$(now_ms)

# ---------------------------------------------------------------- quiet

in_ns "$NS_PROXY" nft -f - <<'EOF'
table inet vnhold {
	chain in { type filter hook input priority -10; policy accept; }
}
EOF
in_ns "$NS_VM" ping -4 -n -q -c 400 -i 0.02 -w 10 "$CLIENT_IP" >"$VN_TMP/ping1.out" 2>&1 &
PPID1=$!; track "$PPID1"
sleep 0.3
Q=$("${TOOL[@]}" --phase quiet \
    --hold-cmd "ip netns exec $NS_PROXY nft add rule inet vnhold in ip saddr $HOST_WAN udp sport {sport} udp dport $VNET_PORT counter drop" \
    --release-cmd "ip netns exec $NS_PROXY nft flush chain inet vnhold in" 2>"$VN_TMP/quiet.err"); qst=$?
stop_pid "$PPID1"; wait "$PPID1" 2>/dev/null
in_ns "$NS_PROXY" nft delete table inet vnhold
sleep 0.3
rs_stats proxy "$VN_TMP/st1.json"
ok "$([ "$qst" = 0 ] && [ "$(val "$Q" held_ok)" -ge 8 ]; echo $?)" \
    "quiet phase: fresh and held-back datagrams sent back altered: $Q" ||
	diag "exit $qst" "$(cat "$VN_TMP/quiet.err")"				# 7
diag "$(cat "$VN_TMP/quiet.err")"
# The held datagrams sent intact (held_ok) are accepted, not dropped.
want="malformed +0 unknown_id +0 replay +$(( $(val "$Q" replay) + $(val "$Q" reorder) + $(val "$Q" held_replay) )) old_epoch +0 future_epoch +0 tag +$(( $(val "$Q" flip_ct) + $(val "$Q" flip_tag) + $(val "$Q" flip_ctr) + $(val "$Q" cut1) )) error +0"
is "$(deltas "$VN_TMP/st0.json" "$VN_TMP/st1.json")" "$want" \
    "quiet phase: replays counted as udp_drop_replay, altered unseen datagrams as udp_drop_tag, their intact copies accepted and then refused as replays"	# 8

# ---------------------------------------------------------------- load

sleep 1.1			# a new window of the audit limit
NQ_MOVED=$(log_lines "$PLOG" "$PMARK" event=udp_peer | grep -c .)
LMARK=$(log_mark "$PLOG")
rs_stream_start t "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" "$MIB" "$RATE" >"$VN_TMP/ss.out" 2>&1 ||
	{ diag "$(cat "$VN_TMP/ss.out")"; fail_rest "the transfer did not start"; }
wait_for 10 eval '[ "$(rs_stream_bytes t)" -gt 1048576 ]' ||
	{ diag "$(cat "$VN_TMP"/stream.t.*)"; fail_rest "the transfer does not flow"; }
rs_stats proxy "$VN_TMP/st2.json"
L=$("${TOOL[@]}" --phase load 2>"$VN_TMP/load.err"); lst=$?
running=0; rs_stream_running t || running=1
b_tool=$(rs_stream_bytes t)
ok "$([ "$lst" = 0 ] && [ "$running" = 0 ]; echo $?)" \
    "load phase, sent while the transfer ran (at $b_tool of $((MIB * 1048576)) bytes when done): $L" ||
	diag "exit $lst, transfer running: $running" "$(cat "$VN_TMP/load.err")"	# 9
diag "$(cat "$VN_TMP/load.err")"
rs_stream_wait t 30 >"$VN_TMP/sw.out" 2>&1
ok $? "the $MIB MiB transfer VM -> client went on through it, sha256 matches" ||
	diag "$(cat "$VN_TMP/sw.out")"						# 10
sleep 1.2			# the limiter's last window is over: its summary is out
rs_stats proxy "$VN_TMP/st3.json"
RB1=$(snmp_udp "$NS_PROXY" RcvbufErrors)

# 11: exact, unless the kernel dropped datagrams at the proxy's socket
# (RcvbufErrors): then a hostile one may be missing from a counter, or
# a live replay accepted (its original lost), so each counter may fall
# short by that many.
got=$(deltas "$VN_TMP/st2.json" "$VN_TMP/st3.json")
exp_mal=$(( $(val "$L" short) + $(val "$L" hdrtag) + $(val "$L" cut_min) + $(val "$L" version) +
    $(val "$L" reserved) + $(val "$L" type) + $(val "$L" too_long) ))
exp_old=$(( $(val "$L" old_replay) + $(val "$L" old_reorder) + $(val "$L" old_flip_ct) +
    $(val "$L" old_flip_tag) + $(val "$L" old_cut1) ))
live=$(val "$L" live_replay)
d_rep=$(( $(rs_jget "$VN_TMP/st3.json" crypt udp_drop_replay) - $(rs_jget "$VN_TMP/st2.json" crypt udp_drop_replay) ))
d_old=$(( $(rs_jget "$VN_TMP/st3.json" crypt udp_drop_old_epoch) - $(rs_jget "$VN_TMP/st2.json" crypt udp_drop_old_epoch) ))
rb=$((RB1 - RB0))
want="malformed +$exp_mal unknown_id +$(val "$L" flip_rid) replay +$d_rep old_epoch +$d_old future_epoch +$(val "$L" flip_hi) tag +0 error +0"
if [ "$rb" = 0 ]; then
	ok "$([ "$got" = "$want" ] && [ $((d_rep + d_old)) = $((exp_old + live)) ] && [ "$d_old" -ge "$exp_old" ]; echo $?)" \
	    "load phase: counters grew by exactly what was sent: $got (malformed $exp_mal, unknown_id $(val "$L" flip_rid), future_epoch $(val "$L" flip_hi), old_epoch $exp_old + live replays $live as replay or old_epoch)" ||
		diag "expected: $want, replay + old_epoch = $((exp_old + live)), old_epoch >= $exp_old"	# 11
else
	ok "$([ $(( $(dsum "$VN_TMP/st2.json" "$VN_TMP/st3.json") + rb )) -ge "$(( $(val "$L" total) ))" ] && [ "$(dsum "$VN_TMP/st2.json" "$VN_TMP/st3.json")" -le "$(val "$L" total)" ]; echo $?)" \
	    "load phase: the kernel dropped $rb datagrams at the proxy's socket; counters $got account for all $(val "$L" total) sent but at most $rb"
fi

# 12: every reason audited, within the limit, and every drop in a line
# or a suppressed= count; the last summary's total is all drops.
bad=""
for r in replay tag short length version reserved type too_long unknown_id future_epoch old_epoch; do
	case $r in replay|tag|old_epoch|future_epoch) h=host=vmhost1 ;; *) h=host=- ;; esac
	log_has "$PLOG" "$PMARK" event=datagram_dropped "reason=$r" "$h" || bad="$bad $r"
done
n_lines=$(log_lines "$PLOG" "$PMARK" event=datagram_dropped | grep -c .)
s_sum=$( (log_lines "$PLOG" "$PMARK" event=datagram_dropped; log_lines "$PLOG" "$PMARK" event=suppressed what=datagram_dropped) |
    grep -o ' suppressed=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
last=$(log_lines "$PLOG" "$PMARK" event=suppressed what=datagram_dropped | tail -n 1)
drops=$(dsum "$VN_TMP/st0.json" "$VN_TMP/st3.json")
total_now=0; for k in $CTRS; do total_now=$((total_now + $(rs_jget "$VN_TMP/st3.json" crypt "$k"))); done
secs=$(( ($(now_ms) - T0) / 1000 + 1 ))
ok "$([ -z "$bad" ] && [ "$n_lines" -le $((10 * secs)) ] && [ $((n_lines + s_sum)) = "$drops" ] &&
    [ "$(log_value "$last" total)" = "$total_now" ]; echo $?)" \
    "audited: event=datagram_dropped for every reason (host= named past the id lookup), $n_lines records in $secs s (<= 10/s), records + suppressed = $n_lines + $s_sum = $drops drops; last event=suppressed what=datagram_dropped total=$(log_value "$last" total) = all drops $total_now" ||
	diag "reasons without a record:$bad" "last summary: $last"		# 12
diag "$(log_lines "$PLOG" "$PMARK" event=datagram_dropped | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^reason=/) if (!seen[$i]++) print }' | sed 's/^.*event=/event=/')"

# 13: the link's own count: the drops after its id was found.
read -r PEER1 UP1 DROPS1 TR1 < <(link_get proxy peer up_s udp_drops transport)
link_d=0; for k in replay old_epoch future_epoch tag; do
	link_d=$((link_d + $(rs_jget "$VN_TMP/st3.json" crypt "udp_drop_$k") - $(rs_jget "$VN_TMP/st0.json" crypt "udp_drop_$k")))
done
is "$((DROPS1 - DROPS0))" "$link_d" "vnetctl links on the proxy: the link's udp_drops grew by the replay, old_epoch, future_epoch and tag drops"

# 14: the link stayed: the same one, up all along, on UDP. No hostile
# datagram of the quiet phase moved the proxy's idea of where the host
# is (event=udp_peer). Under load a live copy may still overtake its
# original on the way (another CPU's backlog), be the genuine datagram
# and draw the proxy's datagrams for a moment: the host's next one
# brings them back, so the last word must be the host's address.
downs=$(log_lines "$PLOG" "$PMARK" event=link_down; log_lines "$HLOG" "$HMARK" event=link_down)
sw=$(log_lines "$PLOG" "$PMARK" event=transport; log_lines "$HLOG" "$HMARK" event=transport)
HUDP=$(log_value "$(log_lines "$PLOG" 0 event=udp_peer | head -n 1)" udp)
moved=$(log_lines "$PLOG" "$LMARK" event=udp_peer)
last_udp=$(log_value "$(printf '%s\n' "$moved" | tail -n 1)" udp)
n_away=$(printf '%s\n' "$moved" | grep -c " udp=" ); n_away=$((n_away / 2))
ok "$([ -z "$downs" ] && [ -z "$sw" ] && [ "$NQ_MOVED" = 0 ] && [ -n "$HUDP" ] &&
    { [ -z "$moved" ] || [ "$last_udp" = "$HUDP" ]; } && [ "$PEER1" = "$PEER0" ] && [ "$UP1" -gt "$UP0" ] &&
    [ "$TR1" = udp ] && [ "$(link_get host transport)" = udp ]; echo $?)" \
    "the link stayed up on UDP: same peer $PEER1, up ${UP0} -> ${UP1} s, no link_down, no transport switch; the proxy sends to the host's $HUDP (quiet phase: never moved; load: $n_away overtaking copies followed and undone)" ||
	diag "$downs" "$sw" "quiet-phase udp_peer records: $NQ_MOVED" "$moved" "peer $PEER0 -> $PEER1, transport $TR1"

# 15: counters of switches unchanged on both ends.
rs_stats host "$VN_TMP/hst3.json"
is "$(rs_jget "$VN_TMP/st3.json" crypt transport_switches) $(rs_jget "$VN_TMP/hst3.json" crypt transport_switches)" \
    "$(rs_jget "$VN_TMP/st0.json" crypt transport_switches) $(rs_jget "$VN_TMP/hst0.json" crypt transport_switches)" \
    "transport_switches unchanged on the proxy and the host"
diag "kernel UDP RcvbufErrors at the proxy: +$rb"

check_ping() { in_ns "$NS_VM" ping -4 -n -q -c 3 -i 0.2 -w 5 "$CLIENT_IP" >/dev/null 2>&1; }

# 16: nothing died.
crashes=$(log_lines "$PLOG" 0 event=worker_exit; log_lines "$HLOG" 0 event=worker_exit)
ok "$([ -z "$crashes" ] && alive "${VNETD_PID[proxy]}" && alive "${VNETD_PID[host]}"; echo $?)" \
    "no worker exited; both daemons running" || diag "$crashes"

# 17: regression (the crypt's sendmmsg error record wrote through a
# NULL pointer): a host whose own firewall refuses its datagrams
# (sendmmsg fails with EPERM) logs the error, moves the link to TCP
# and its crypt lives.
HMARK=$(log_mark "$HLOG")
in_ns "$NS_HOST" nft -f - <<EOF2
table inet vnnoudp {
	chain out {
		type filter hook output priority 0;
		udp dport $VNET_PORT drop
	}
}
EOF2
wait_for 5 eval '[ "$(link_get host transport)" = tcp ]'
sleep 0.5
crashes=$(log_lines "$HLOG" "$HMARK" event=worker_exit)
ok "$([ -z "$crashes" ] && log_has "$HLOG" "$HMARK" event=error what=udp_send && [ "$(link_get host transport)" = tcp ] &&
    check_ping; echo $?)" \
    "a host whose firewall refuses its datagrams (EPERM): event=error what=udp_send, the link moves to TCP, the VM still reaches the client, no worker exited" ||
	diag "$crashes" "$(log_lines "$HLOG" "$HMARK" what=udp_send | head -n 2)" "host transport: $(link_get host transport)"
in_ns "$NS_HOST" nft delete table inet vnnoudp

tap_done

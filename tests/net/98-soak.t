#!/bin/bash
# SPDX-License-Identifier: ISC
# Soak: for 2 minutes, a continuous series of 16 MiB transfers client ->
# VM (each sha256-checked), while the WAN is cut every 10 s for 4 s (nft
# drop in the host's namespace: longer than the 3 s keepalive timeout, so
# every cut takes the link down and the host redials). A transfer that
# fails (it cannot, as long as TCP outlives a cut, but if it did) is
# retried with the same data, never ignored; every completed transfer
# must verify. The counters that must not move do not (no worker restart,
# no handshake failure, no malformed record, no rejected peer), and the
# descriptors and RSS of every vnetd process stay flat from start to end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resil.sh"
rs_prereq nft
vn_init
plan 8

SOAK=${RS_SOAK_SECS:-120}
PERIOD=10; CUT=4			# a 4 s cut every 10 s
MIB=16; TRIES=3; XFER_TMO=40		# per transfer attempt
FD_MARGIN=8; RSS_MARGIN_KB=$((8 * 1024))

topo_up_tap								# 1
check "certificates and configurations generated" vn_setup_pki	# 2
start_pair_tap								# 3
check "VM $VM_IP (static) answers the client's ping" rs_vm_static	# 4
HLOG=${VNETD_LOG[host]}; PLOG=${VNETD_LOG[proxy]}

# soak_xfer N: transfer $VN_TMP/soak.src once (attempt N); sets X_RES to
# ok (completed, sha256 matches), failed (did not complete: retry) or
# corrupt (completed but the data differs), and X_MS.
soak_xfer() {
	local n=$1 port=$((6000 + $1)) dst="$VN_TMP/soak.dst" rpid spid s1 s2 t0 h1 h2
	rm -f "$dst"
	ip netns exec "$NS_VM" timeout $((XFER_TMO + 10)) "$RS_PY" "$RS_TOOLS/tcpstream.py" recv \
	    --bind "$VM_IP" --port "$port" --out "$dst" --accept-timeout 10 \
	    --idle-timeout "$XFER_TMO" --timeout "$XFER_TMO" </dev/null >"$VN_TMP/soak.recv" 2>&1 &
	rpid=$!; track "$rpid"
	wait_for 10 eval "in_ns $NS_VM ss -Hltn 'sport = :$port' | grep -q ."
	t0=$(now_ms)
	ip netns exec "$NS_CLIENT" timeout $((XFER_TMO + 5)) "$RS_PY" "$RS_TOOLS/tcpstream.py" send \
	    --connect "$VM_IP" --port "$port" --file "$VN_TMP/soak.src" --timeout "$XFER_TMO" \
	    --connect-timeout 15 \
	    </dev/null >"$VN_TMP/soak.send" 2>&1 &
	spid=$!; track "$spid"
	wait_for $((XFER_TMO + 10)) eval "! alive $spid"
	stop_pid "$spid"; wait "$spid" 2>/dev/null; s1=$?
	# A failed sender leaves the receiver waiting: stop it at once.
	[ "$s1" -eq 0 ] && wait_for 5 eval "! alive $rpid"
	stop_pid "$rpid"; wait "$rpid" 2>/dev/null; s2=$?
	X_MS=$(( $(now_ms) - t0 ))
	if [ "$s1" -ne 0 ]; then
		X_RES=failed	# the sender did not get everything acknowledged
		X_WHY="at +$(( (t0 - T0) / 1000 )) s, sender exit $s1: $(cat "$VN_TMP/soak.send") / receiver exit $s2: $(cat "$VN_TMP/soak.recv")"
		return
	fi
	h1=$(sha256sum <"$VN_TMP/soak.src" | cut -d' ' -f1)
	h2=$(sha256sum <"$dst" 2>/dev/null | cut -d' ' -f1)
	if [ "$s2" -eq 0 ] && [ -n "$h2" ] && [ "$h1" = "$h2" ]; then
		X_RES=ok
	else
		X_RES=corrupt
		X_WHY="receiver exit $s2, sha256 sent $h1 received ${h2:-none}, $(stat -c %s "$dst" 2>/dev/null) bytes: $(cat "$VN_TMP/soak.recv")"
	fi
	rm -f "$dst"
}

# flapper: cut the WAN for CUT s every PERIOD s, from 5 s in, while the
# soak lasts; logs "block|unblock WALLCLOCK" lines. Bounded in count.
flapper() {
	local i n=$(( (SOAK - 5) / PERIOD )) t=5
	sleep 5
	for i in $(seq 1 "$n"); do
		echo "block $(now_s)"
		rs_wan_block "$NS_HOST" || echo "block failed"
		sleep "$CUT"
		rs_wan_unblock "$NS_HOST" >/dev/null || echo "unblock failed"
		echo "unblock $(now_s)"
		[ "$i" -lt "$n" ] && sleep $((PERIOD - CUT))
	done
}

# A first transfer warms every buffer up; then the "before" picture.
T0=$(now_ms)
head -c $((MIB * 1048576)) /dev/urandom >"$VN_TMP/soak.src"
soak_xfer 0
[ "$X_RES" = ok ] || diag "warm-up transfer: $X_RES $X_WHY"
sleep 1
for n in host proxy; do
	rs_snapshot "$n" >"$VN_TMP/snap0.$n"
	rs_stats "$n" "$VN_TMP/st0.$n.json"
done
HMARK=$(log_mark "$HLOG"); PMARK=$(log_mark "$PLOG")

T0=$(now_ms)
flapper >"$VN_TMP/flaps" 2>&1 &
FPID=$!; track "$FPID"
n_ok=0; n_fail=0; n_corrupt=0; n_gaveup=0; att=0; durs=""; fails=()
k=0
# Bounded: by time (no new transfer after SOAK s) and by count.
while [ $(( $(now_ms) - T0 )) -lt $((SOAK * 1000)) ] && [ "$k" -lt 1000 ]; do
	k=$((k + 1))
	head -c $((MIB * 1048576)) /dev/urandom >"$VN_TMP/soak.src"
	for try in $(seq 1 "$TRIES"); do
		att=$((att + 1))
		soak_xfer "$att"
		case $X_RES in
		ok)	n_ok=$((n_ok + 1)); durs="$durs $X_MS"; break ;;
		corrupt) n_corrupt=$((n_corrupt + 1)); fails+=("transfer $k try $try: CORRUPT: $X_WHY"); break ;;
		failed)	n_fail=$((n_fail + 1)); fails+=("transfer $k try $try: failed (retried): $X_WHY")
			[ "$try" -eq "$TRIES" ] && n_gaveup=$((n_gaveup + 1)) ;;
		esac
	done
done
T1=$(now_ms)
wait_for $((PERIOD + 5)) eval "! alive $FPID"
stop_pid "$FPID"; wait "$FPID" 2>/dev/null
n_flaps=$(grep -c '^unblock ' "$VN_TMP/flaps")
diag "soak: $((T1 - T0)) ms, $k transfers of $MIB MiB ($att attempts), $n_flaps WAN cuts of ${CUT} s; load $(rs_load)"
diag "transfer times (ms):$durs"
diag "WAN cuts (s after the start): $(awk -v t="$T0" '$1 == "block" { printf "%.1f ", $2 - t / 1000 }' "$VN_TMP/flaps")"
for f in "${fails[@]}"; do diag "$f"; done

# 5: every transfer verified; failures (if any) were retried to success.
ok "$([ "$n_corrupt" -eq 0 ] && [ "$n_gaveup" -eq 0 ] && [ "$n_ok" -eq "$k" ] && [ "$n_ok" -ge 5 ]; echo $?)" \
    "$n_ok of $k transfers completed with a matching sha256 ($n_fail failed attempts retried, $n_corrupt corrupt, $n_gaveup given up after $TRIES tries)"

# 6: the cuts were real: each took the link down and the host redialled;
# the link is up again at the end.
wait_for 15 eval '[ "$(rs_links_up host)" = 1 ] && [ "$(rs_links_up proxy)" = 1 ]'
n_down=$(log_lines "$HLOG" "$HMARK" event=link_down | grep -c 'reason="keepalive timeout"')
n_up=$(log_lines "$HLOG" "$HMARK" event=link_up | grep -c .)
for n in host proxy; do
	rs_snapshot "$n" >"$VN_TMP/snap1.$n"
	rs_stats "$n" "$VN_TMP/st1.$n.json"
done
rc0=$(rs_jget "$VN_TMP/st0.host.json" crypt reconnects); rc1=$(rs_jget "$VN_TMP/st1.host.json" crypt reconnects)
ok "$([ "$n_flaps" -ge $(( (SOAK - 5) / PERIOD )) ] && [ "$n_down" -eq "$n_flaps" ] && [ "$n_up" -eq "$n_flaps" ] &&
    [ $((rc1 - rc0)) -ge "$n_flaps" ] && ! grep -q failed "$VN_TMP/flaps"; echo $?)" \
    "$n_flaps WAN cuts: host logged $n_down link_down (keepalive timeout) and $n_up link_up; its reconnects counter +$((rc1 - rc0)); links up on both sides at the end" ||
	diag "$(cat "$VN_TMP/flaps")"

# 7: the counters that must not move did not.
flat() {	# NAME WORKER KEY...
	local n=$1 w=$2 k a b out=""
	shift 2
	for k in "$@"; do
		a=$(rs_jget "$VN_TMP/st0.$n.json" "$w" "$k"); b=$(rs_jget "$VN_TMP/st1.$n.json" "$w" "$k")
		out="$out $n.$w.$k=$a->$b"
		[ -n "$a" ] && [ "$a" = "$b" ] || FLAT_BAD="$FLAT_BAD $n.$w.$k"
	done
	echo "$out"
}
FLAT_BAD=""
for n in host proxy; do
	for w in capture crypt inject; do
		diag "$(flat "$n" "$w" restarts)"
		flat "$n" "$w" restarts >/dev/null
	done
	diag "$(flat "$n" crypt handshake_failures malformed_records peers_rejected drop_congested drop_inject_full)"
	flat "$n" crypt handshake_failures malformed_records peers_rejected drop_congested drop_inject_full >/dev/null
	diag "$n moved (expected with cuts): crypt links_up $(rs_jget "$VN_TMP/st1.$n.json" crypt links_up) drop_no_link $(rs_jget "$VN_TMP/st0.$n.json" crypt drop_no_link)->$(rs_jget "$VN_TMP/st1.$n.json" crypt drop_no_link) rx_frames $(rs_jget "$VN_TMP/st0.$n.json" crypt rx_frames)->$(rs_jget "$VN_TMP/st1.$n.json" crypt rx_frames)"
done
ok "$([ -z "$FLAT_BAD" ]; echo $?)" \
    "counters flat from start to end: no worker restarts; no handshake failure, malformed record, rejected peer, congestion or inject-full drop on either side" ||
	diag "moved:$FLAT_BAD"

# 8: descriptors and memory of all eight processes are flat.
st=0; out=""
for n in host proxy; do
	o=$(rs_snap_compare "$VN_TMP/snap0.$n" "$VN_TMP/snap1.$n" "$FD_MARGIN" "$RSS_MARGIN_KB") || st=1
	out="$out$(printf '%s\n' "$o" | sed "s/^/$n /")"$'\n'
done
ok "$st" "every vnetd process (monitor, capture, crypt, inject of host and proxy) is the same process with descriptors within +$FD_MARGIN and VmRSS within +$((RSS_MARGIN_KB / 1024)) MiB of the start"
diag "$out"

rs_save_logs
tap_done

#!/bin/bash
# SPDX-License-Identifier: ISC
# A 30 s WAN outage during a transfer. nft in the host's namespace drops
# every frame in and out of its wan0 (no error reaches any sender, every
# TCP connection's state survives). Keepalives detect the loss (link_down
# reason="keepalive timeout"), the host keeps redialling with a backoff
# that grows and is capped, and when the WAN returns the link comes back
# by itself and the transfer (started before the outage, the VM's TCP
# connection with its usual retransmission timeouts) completes with a
# matching sha256.
#
# The host's handshake-timeout is 1 s here (it also bounds a TCP connect
# that gets no answer), so that its redials within the 30 s show the
# backoff (250 ms doubling to its 10 s cap) rather than the default 10 s
# timeout: dials about 1.5, 2, 3, 5, 9 and then 11 s (cap + timeout, not
# 17) apart, the last one after the WAN is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resil.sh"
rs_prereq nft
vn_init
plan 10

OUTAGE=${RS_OUTAGE_SECS:-30}
KA=1				# keepalive (lib.sh's configs): down after 3 s
HS_TIMEOUT=1			# host's handshake (and connect) timeout
REDIAL_CAP_MS=10000		# crypt/crypt.h RECONNECT_MAX_MS
RATE=$((2 * 1048576)); MIB=128

topo_up_tap								# 1
pki() {
	vn_setup_pki && rs_conf_append "$VN_TMP/host.conf" "handshake-timeout $HS_TIMEOUT"
}
check "certificates and configurations generated (host: handshake-timeout $HS_TIMEOUT)" pki	# 2
start_pair_tap								# 3
check "VM $VM_IP (static) answers the client's ping" rs_vm_static	# 4
HLOG=${VNETD_LOG[host]}; PLOG=${VNETD_LOG[proxy]}

rs_stream_start w "$NS_CLIENT" "$NS_VM" "$VM_IP" "$MIB" "$RATE" >"$VN_TMP/ss.out" 2>&1 ||
	{ diag "$(cat "$VN_TMP/ss.out")"; fail_rest "the transfer did not start"; }
wait_for 10 eval '[ "$(rs_stream_bytes w)" -gt 2097152 ]' ||
	{ diag "$(cat "$VN_TMP"/stream.w.*)"; fail_rest "the transfer does not flow"; }

# sample FILE: "WALLCLOCK reconnects links_up" of the host's crypt.
# (Both names occur only in the crypt's section; bash's regex, no fork
# but vnetctl's, keeps the sampling period close to 0.25 s.)
sample() {
	local t j
	t=$(now_s)
	rs_stats host "$VN_TMP/smp.json" || return 0
	j=$(<"$VN_TMP/smp.json")
	[[ $j =~ \"reconnects\":([0-9]+) ]] || return 0
	local r=${BASH_REMATCH[1]}
	[[ $j =~ \"links_up\":([0-9]+) ]] || return 0
	echo "$t $r ${BASH_REMATCH[1]}" >>"$1"
}

# The outage. Sample the host's counters every 0.25 s throughout.
hmark=$(log_mark "$HLOG"); pmark=$(log_mark "$PLOG")
sample "$VN_TMP/samples"
b_before=$(rs_stream_bytes w)
T_BLOCK=$(now_s)
rs_wan_block "$NS_HOST" >"$VN_TMP/nft.out" 2>&1
blocked=$?
diag "WAN cut at $T_BLOCK (host namespace, nft netdev ingress+egress drop on wan0), transfer at $b_before bytes; load $(rs_load)"
b_1=""; end=$(( $(now_ms) + OUTAGE * 1000 )); n=0
while [ "$(now_ms)" -lt "$end" ] && [ $n -lt $((OUTAGE * 8)) ]; do
	sample "$VN_TMP/samples"
	[ -z "$b_1" ] && [ "$(now_ms)" -ge $(( end - OUTAGE * 1000 + 1000 )) ] && b_1=$(rs_stream_bytes w)
	n=$((n + 1))
	sleep 0.25
done
b_2=$(rs_stream_bytes w)
T_UNBLOCK=$(now_s)
counters=$(rs_wan_unblock "$NS_HOST" 2>&1); unblocked=$?
diag "WAN back at $T_UNBLOCK after $(awk -v a="$T_BLOCK" -v b="$T_UNBLOCK" 'BEGIN { printf "%.1f", b - a }') s; nft counters: $counters"
# Keep sampling until the host's link is up again (bounded).
UP_MAX=$((REDIAL_CAP_MS / 1000 + HS_TIMEOUT + 5))
end=$(( $(now_ms) + UP_MAX * 1000 )); n=0
while [ "$(now_ms)" -lt "$end" ] && [ $n -lt $((UP_MAX * 8)) ]; do
	sample "$VN_TMP/samples"
	[ "$(tail -n 1 "$VN_TMP/samples" | cut -d' ' -f3)" = 1 ] && break
	n=$((n + 1))
	sleep 0.25
done

# 5: the outage was real: nothing of the transfer arrived during it.
ok "$([ "$blocked" -eq 0 ] && [ "$unblocked" -eq 0 ] && [ -n "$b_1" ] && [ "$b_1" = "$b_2" ] &&
    [ "$b_2" -lt "${RS_SBYTES[w]}" ]; echo $?)" \
    "the WAN was cut for ${OUTAGE} s: the transfer (started before, at $b_before bytes when cut) did not move from 1 s into the outage to its end ($b_1 -> $b_2 bytes)" ||
	diag "$(cat "$VN_TMP/nft.out")"

# 6: keepalives noticed.
kl() { log_lines "$1" "$2" event=link_down | grep 'reason="keepalive timeout"'; }
wait_for 2 eval '[ -n "$(kl "$HLOG" "$hmark")$(kl "$PLOG" "$pmark")" ]'
hdown=$(kl "$HLOG" "$hmark" | head -n 1); pdown=$(kl "$PLOG" "$pmark" | head -n 1)
t_down=$(awk -v a="$T_BLOCK" '$3 == 0 { printf "%.1f", $1 - a; exit }' "$VN_TMP/samples")
ok "$([ -n "$hdown$pdown" ]; echo $?)" \
    "keepalive ($KA s) detected the loss: link_down reason=\"keepalive timeout\" on ${hdown:+host }${pdown:+proxy }(host links_up 0 after ${t_down:-?} s)" ||
	diag_file "$HLOG" 10 host.log
diag "host:  $hdown"
diag "proxy: $pdown"

# 7: the host kept redialling, with a growing and capped backoff. Its
# dials are where its reconnects counter steps (sampled every 0.25 s).
dials=$(awk -v a="$T_BLOCK" 'NR == 1 { r = $2; next }
	$2 > r { for (i = r; i < $2; i++) printf "%.2f ", $1 - a; r = $2 }' "$VN_TMP/samples")
ivals=$(echo "$dials" | awk '{ for (i = 2; i <= NF; i++) printf "%.2f ", $i - $(i - 1) }')
nd=$(echo "$dials" | wc -w)
# Growing: each interval at least the one before (1 s of slack for the
# sampling), the last at least 5 s longer than the first; capped: the
# longest is the cap plus the timeout, 11 s (within 1.5 s), where
# doubling would have made it 17 s (the one before is 8 + 1 = 9 s).
capi=$(( (REDIAL_CAP_MS + HS_TIMEOUT * 1000) / 1000 ))
shape=$(echo "$ivals" | awk -v cap="$capi" '
	{ for (i = 1; i <= NF; i++) { if (i > 1 && $i < $(i - 1) - 1) print "interval " i " shrinks"
	  if ($i > m) m = $i }
	  if (NF < 2 || $NF < $1 + 5) print "the intervals did not grow" }
	END { if (m > cap + 1.5) print "longest interval " m " s: over the cap (" cap " s)"
	      if (m < cap - 1.5) print "longest interval " m " s: the backoff never reached its cap (" cap " s)" }')
ok "$([ "$nd" -ge 6 ] && [ -z "$shape" ]; echo $?)" \
    "the host redialled $nd times (at +[ $dials] s after the cut, the last one after the WAN returned); intervals [ $ivals] s grow, then stay at the cap ($REDIAL_CAP_MS ms backoff + ${HS_TIMEOUT} s connect timeout = $capi s)" ||
	diag "$shape" "$(cat "$VN_TMP/samples")"

# 8: the link comes back by itself: link_up on both sides, in time.
t0=$(now_ms)
vnetd_wait host 1 "$hmark" event=link_up &&
    vnetd_wait proxy 5 "$pmark" event=link_up
st=$?
T_UP=$(awk '$3 == 1 { t = $1 } END { print t }' "$VN_TMP/samples")
[ -n "$T_UP" ] || T_UP=$(now_s)
ok "$st" "the link came back without operator action: event=link_up on host and proxy $(awk -v a="$T_UNBLOCK" -v b="$T_UP" 'BEGIN { printf "%.1f", b - a }') s after the WAN returned (limit $UP_MAX s: backoff cap + connect timeout + 5 s)" ||
	{ diag_file "$HLOG" 15 host.log; diag_file "$PLOG" 15 proxy.log; }
diag "connect attempts in the host's log during the outage: $(log_lines "$HLOG" "$hmark" event=connect_failed | wc -l) event=connect_failed"

# 9: the transfer resumes (its TCP retransmission timer decides when)
# and completes intact.
wait_for 60 eval '[ "$(rs_stream_bytes w)" -gt '"$b_2"' ]'
T_RES=$(now_s)
diag "the transfer moved again $(awk -v a="$T_UNBLOCK" -v b="$T_RES" 'BEGIN { printf "%.1f", b - a }') s after the WAN returned ($(awk -v a="$T_BLOCK" -v b="$T_RES" 'BEGIN { printf "%.1f", b - a }') s after the cut)"
rs_stream_fast w
rs_stream_wait w 120 >"$VN_TMP/sw.out" 2>&1
ok $? "the $MIB MiB transfer client -> VM started before the outage completed after it with a matching sha256"
diag "$(cat "$VN_TMP/sw.out")"

# 10: no worker died, both daemons run, one link each.
crashes=$(log_lines "$HLOG" 0 event=worker_exit; log_lines "$PLOG" 0 event=worker_exit)
hu=$(rs_links_up host); pu=$(rs_links_up proxy)
ok "$([ -z "$crashes" ] && alive "${VNETD_PID[host]}" && alive "${VNETD_PID[proxy]}" && [ "$hu" = 1 ] && [ "$pu" = 1 ]; echo $?)" \
    "no worker exited, both daemons running, links_up host=$hu proxy=$pu" || diag "$crashes"

rs_save_logs
tap_done

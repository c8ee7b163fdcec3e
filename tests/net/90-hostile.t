#!/bin/bash
# SPDX-License-Identifier: ISC
# A hostile storm against a working proxy. While the legitimate host
# carries a 128 MiB transfer client -> VM, 1000 hostile attempts from
# another address (host2's namespace), 8 at a time, hit the proxy's
# listener: random bytes, plaintext connections that send nothing
# (slowloris: held past handshake-timeout 2, closed early, and bursts
# over max-pending-per-source), TLS without a certificate, with a
# certificate from another CA, with an expired one, with a valid one for
# a CN the proxy does not know; and wire-protocol peers with valid
# certificates (a host block each) that send frames from MACs they are
# not authorized for, an oversize record, a bad record type or a
# truncated hello.
#
# 7 of the 8 lanes are tests/tools/hostile.py (in-process attempts, with
# tests/tools/wirepeer.py's Peer for the wire protocol: fast enough that
# the audit rate limits matter); the 8th runs the real tools one by one:
# openssl s_client, socat, wirepeer.py and slowloris.py bursts.
#
# Afterwards: the transfer's sha256 matches; every attempt was refused
# and counted exactly where it belongs (vnetctl stats), and audited with
# rate limiting (far fewer lines than attempts, suppressed= counts); the
# legitimate link never went down; the proxy's processes hold no more
# descriptors or memory than before (small margins).
#
# Then a regression case (commit dc449d5): an authenticated host whose
# links end in a bad record and a TCP reset at once, 10 times
# (wirepeer.py --bad-then-reset). The proxy's close record then meets the
# reset; it used to close such a link twice, counting links_up down twice
# (it wrapped, and every host was refused as over max-links). links_up
# must be unchanged, each link audited down once, and the legitimate
# host must still get a new link after its crypt is killed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resil.sh"
rs_prereq python
vn_init
plan 14

PAR=8					# attempts at a time: 7 hostile.py lanes + 1 shell lane
SLOW_IP=10.201.1.3			# the slowloris source (host2's second address)
HS_TIMEOUT=2
PER_SOURCE=24				# > 2 x PAR: the TLS attackers never reach it
FD_MARGIN=8; RSS_MARGIN_KB=$((8 * 1024))
RATE=1048576; MIB=128			# paced: 128 s of room, far more than the storm
BURST=32				# connections per slowloris burst (> PER_SOURCE)
FRAMES=5				# unauthorized frames per macunauth attempt
# hostile.py's share (880 attempts) ...
HKINDS="random:196 slow_long:8 slow_short:12 nocert:80 rogue:70 expired:70
stranger:70 macunauth:100 oversize:90 badtype:92 trunc:92"
# ... and the shell lane's, with the real tools (120 attempts).
SKINDS="nocert:8 rogue:8 expired:8 stranger:8 random:12 macunauth:3 oversize:3
badtype:3 trunc:3 burst:2"

topo_up_tap host2							# 1
pki() {
	local i
	vn_setup_pki || return 1
	for i in $(seq 0 $((PAR - 1))); do
		rs_leaf "$VN_TMP" "atk$i" "atk$i" ca || return 1
		rs_host_block "$VN_TMP/proxy.conf" "atk$i" "52:54:00:a7:00:0$i"
	done
	rs_leaf "$VN_TMP" atkexp atkexp ca 20200101000000Z 20200201000000Z || return 1
	rs_leaf "$VN_TMP" atkrogue atkrogue rogue-ca || return 1
	# Blocks for them too: were they accepted, they would link up.
	rs_host_block "$VN_TMP/proxy.conf" atkexp 52:54:00:a7:00:e0
	rs_host_block "$VN_TMP/proxy.conf" atkrogue 52:54:00:a7:00:e1
	openssl verify -CAfile "$VN_TMP/ca.crt" "$VN_TMP/atkexp.crt" 2>&1 | grep -q 'certificate has expired' || return 1
	! openssl verify -CAfile "$VN_TMP/ca.crt" "$VN_TMP/atkrogue.crt" >/dev/null 2>&1 || return 1
	rs_conf_append "$VN_TMP/proxy.conf" "handshake-timeout $HS_TIMEOUT" \
	    "max-pending-per-source $PER_SOURCE"
}
check "certificates (attackers atk0-$((PAR - 1)) with host blocks, expired atkexp, rogue-CA atkrogue) and configurations (proxy: handshake-timeout $HS_TIMEOUT, max-pending-per-source $PER_SOURCE)" pki	# 2
ip -n "$NS_HOST2" addr add "$SLOW_IP/24" dev wan0 2>/dev/null
start_pair_tap								# 3
check "VM $VM_IP (static) answers the client's ping" rs_vm_static	# 4
PLOG=${VNETD_LOG[proxy]}

rs_stream_start t "$NS_CLIENT" "$NS_VM" "$VM_IP" "$MIB" "$RATE" >"$VN_TMP/ss.out" 2>&1 ||
	{ diag "$(cat "$VN_TMP/ss.out")"; fail_rest "the transfer did not start"; }
wait_for 10 eval '[ "$(rs_stream_bytes t)" -gt 2097152 ]' ||
	{ diag "$(cat "$VN_TMP"/stream.t.*)"; fail_rest "the transfer does not flow"; }

# ---------------------------------------------------------------- the storm

# shell_attempt KIND: one attempt with the real tools from host2's
# namespace, as lane 7 (certificate atk7); prints an "attempt" line like
# hostile.py's (s_client's verdict is the proxy's to count).
shell_attempt() {
	local kind=$1 out rc n o cert=() wp
	wp=(timeout 20 ip netns exec "$NS_HOST2" "$RS_PY" "$RS_TOOLS/wirepeer.py"
	    --connect "$PROXY_WAN" --port "$VNET_PORT" --ca "$VN_TMP/ca.crt"
	    --cert "$VN_TMP/atk7.crt" --key "$VN_TMP/atk7.key"
	    --mac 52:54:00:a7:00:07 --timeout 10)
	case $kind in
	random)
		n=$(( RANDOM % 4096 + 1 ))
		out=$(head -c "$n" /dev/urandom | timeout 10 ip netns exec "$NS_HOST2" \
		    socat -u - "TCP:$PROXY_WAN:$VNET_PORT,connect-timeout=5" 2>&1)
		rc=$?
		# A reset while sending is the proxy's verdict; a failed connect is not.
		case $out in *"connect("*|*"timed out"*) o=connect_failed ;; *) o=sent ;; esac
		echo "attempt random $o socat bytes=$n exit=$rc $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-100)" ;;
	burst)
		out=$(timeout 20 ip netns exec "$NS_HOST2" "$RS_PY" "$RS_TOOLS/slowloris.py" \
		    --connect "$PROXY_WAN" --port "$VNET_PORT" --bind "$SLOW_IP" \
		    --conns "$BURST" --hold $((HS_TIMEOUT + 1)) --refused-ms 1500 2>&1)
		echo "burst $out" ;;
	nocert|rogue|expired|stranger)
		case $kind in
		rogue) cert=(-cert "$VN_TMP/atkrogue.crt" -key "$VN_TMP/atkrogue.key") ;;
		expired) cert=(-cert "$VN_TMP/atkexp.crt" -key "$VN_TMP/atkexp.key") ;;
		stranger) cert=(-cert "$VN_TMP/stranger.crt" -key "$VN_TMP/stranger.key") ;;
		esac
		out=$(timeout 10 ip netns exec "$NS_HOST2" openssl s_client -tls1_3 \
		    -connect "$PROXY_WAN:$VNET_PORT" -CAfile "$VN_TMP/ca.crt" "${cert[@]}" \
		    </dev/null 2>&1 | grep -c '^CONNECTED')
		echo "attempt $kind done s_client connected=$out" ;;
	macunauth|oversize|badtype|trunc)
		case $kind in
		macunauth) out=$("${wp[@]}" --send-frame-src "$BAD_MAC" --count "$FRAMES" --linger 0.3 2>&1) ;;
		oversize) out=$("${wp[@]}" --oversize --linger 3 2>&1) ;;
		badtype) out=$("${wp[@]}" --bad-type --linger 3 2>&1) ;;
		trunc) out=$("${wp[@]}" --truncated-hello --linger 3 2>&1) ;;
		esac
		rc=$?
		case $rc in 0) rc=open ;; 1) rc=closed ;; *) rc="error($rc)" ;; esac
		echo "attempt $kind $rc wirepeer.py $(printf '%s' "$out" | tr '\n' ' ')" ;;
	esac
}

shell_lane() {
	local kv i
	for kv in $SKINDS; do
		for i in $(seq 1 "${kv#*:}"); do echo "${kv%%:*}"; done
	done | shuf | while read -r kind; do
		shell_attempt "$kind"
	done >"$VN_TMP/lane.shell" 2>&1
}

declare -A NJOB
for kv in $HKINDS $SKINDS; do
	k=${kv%%:*}; NJOB[$k]=$(( ${NJOB[$k]:-0} + ${kv#*:} ))
done
ATTEMPTS=0
for k in "${!NJOB[@]}"; do
	if [ "$k" = burst ]; then ATTEMPTS=$((ATTEMPTS + NJOB[$k] * BURST))
	else ATTEMPTS=$((ATTEMPTS + NJOB[$k])); fi
done

sleep 1
rs_snapshot proxy >"$VN_TMP/snap0"
rs_stats proxy "$VN_TMP/st0.json"
MARK=$(log_mark "$PLOG")
T0=$(now_ms)
# shellcheck disable=SC2086
ip netns exec "$NS_HOST2" timeout 300 "$RS_PY" "$RS_TOOLS/hostile.py" \
    --connect "$PROXY_WAN" --port "$VNET_PORT" --par $((PAR - 1)) --dir "$VN_TMP" \
    --slow-bind "$SLOW_IP" --hold-long $((HS_TIMEOUT + 1)) --frames "$FRAMES" \
    --bad-mac "$BAD_MAC" --linger 3 $HKINDS </dev/null >"$VN_TMP/lane.hostile" 2>&1 &
HPID=$!
track "$HPID"
shell_lane &
SPID=$!
track "$SPID"
# Bounded: both end on their own; after 240 s they are stopped.
wait_for 240 eval '! alive $HPID && ! alive $SPID'
storm_done=$?
stop_pid "$HPID"; stop_pid "$SPID"
wait "$HPID" 2>/dev/null; wait "$SPID" 2>/dev/null
T1=$(now_ms)
STORM_S=$(( (T1 - T0 + 999) / 1000 ))
running=0; rs_stream_running t || running=1
b_storm=$(rs_stream_bytes t)
cat "$VN_TMP/lane.hostile" "$VN_TMP/lane.shell" >"$VN_TMP/results"
diag "storm: $ATTEMPTS attempts in $((T1 - T0)) ms ($(( ATTEMPTS * 1000 / (T1 - T0 + 1) ))/s), $PAR at a time; load $(rs_load)"
diag "$(grep '^hostile:' "$VN_TMP/lane.hostile")"

# count KIND OUTCOME: attempts of KIND that ended so (both lanes).
count() { awk -v k="$1" -v o="$2" '$1 == "attempt" && $2 == k && $3 == o { n++ } END { print n + 0 }' "$VN_TMP/results"; }
# burst_sum FIELD: over the slowloris bursts.
burst_sum() { awk -v f="$1" '$1 == "burst" { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) n += kv[2] } } END { print n + 0 }' "$VN_TMP/results"; }

# 5: every attempt ran and ended the way a refused attacker's does.
n_att=$(( $(grep -c '^attempt ' "$VN_TMP/results") + $(burst_sum conns) ))
bad=$(awk '$1 == "attempt" {
		if ($2 == "random" && $3 == "sent") next
		if ($2 ~ /^slow_/ && $3 ~ /^(refused|closed|held)$/) next
		if ($2 ~ /^(nocert|rogue|expired|stranger)$/ && $3 ~ /^(closed|done)$/) next
		if ($2 ~ /^(oversize|badtype|trunc)$/ && $3 == "closed") next
		if ($2 == "macunauth" && $3 == "open") next
		print; next
	}
	$1 == "burst" && !/ failed=0 / { print }' "$VN_TMP/results" 2>&1) || bad="awk failed: $bad"
ok "$([ "$storm_done" -eq 0 ] && [ "$n_att" -eq "$ATTEMPTS" ] && [ -z "$bad" ]; echo $?)" \
    "all $n_att of $ATTEMPTS hostile attempts ran (within 240 s) and each was turned away (TLS and malformed wire peers closed by the proxy; unauthorized-MAC peers' frames dropped)" ||
	diag "storm_done=$storm_done" "$(printf '%s\n' "$bad" | head -n 10)"
for k in random slow_long slow_short nocert rogue expired stranger macunauth oversize badtype trunc; do
	diag "  e.g. $(grep -m 1 "^attempt $k " "$VN_TMP/lane.hostile" | cut -c1-200)"
done
diag "  e.g. $(grep -m 1 "^attempt stranger " "$VN_TMP/lane.shell" | cut -c1-200)"
diag "  e.g. $(grep -m 1 "^attempt oversize " "$VN_TMP/lane.shell" | cut -c1-200)"
diag "  e.g. $(grep -m 1 "^burst " "$VN_TMP/lane.shell" | cut -c1-200)"

S_REF=$(( $(count slow_long refused) + $(count slow_short refused) + $(burst_sum refused) ))
S_ADM=$(( $(count slow_long closed) + $(count slow_long held) + $(count slow_short closed) +
    $(count slow_short held) + $(burst_sum closed) + $(burst_sum held) ))
diag "slowloris: $((S_REF + S_ADM)) connections: $S_REF refused at accept, $S_ADM admitted (then closed by the handshake timeout or by us)"

# 6: the transfer ran throughout and is intact.
sleep $((HS_TIMEOUT + 1))	# every pending connection has timed out by now
rs_snapshot proxy >"$VN_TMP/snap1"
rs_stats proxy "$VN_TMP/st1.json"
rs_stream_fast t
rs_stream_wait t 120 >"$VN_TMP/sw.out" 2>&1; st=$?
ok "$([ "$st" -eq 0 ] && [ "$running" -eq 0 ] && [ "$b_storm" -lt "${RS_SBYTES[t]}" ]; echo $?)" \
    "the $MIB MiB transfer client -> VM ran through the whole storm (at $b_storm bytes when it ended) and completed with a matching sha256"
diag "$(cat "$VN_TMP/sw.out")"

# 7: every attempt counted where it belongs (exact deltas).
d() { echo $(( $(rs_jget "$VN_TMP/st1.json" crypt "$1") - $(rs_jget "$VN_TMP/st0.json" crypt "$1") )); }
exp_hs=$(( NJOB[random] + NJOB[nocert] + NJOB[rogue] + NJOB[expired] + S_ADM ))
exp_rej=${NJOB[stranger]}
exp_mal=$(( NJOB[oversize] + NJOB[badtype] + NJOB[trunc] ))
exp_drop=$(( NJOB[macunauth] * FRAMES ))
got="handshake_failures +$(d handshake_failures) peers_rejected +$(d peers_rejected) malformed_records +$(d malformed_records) drop_mac_unauthorized +$(d drop_mac_unauthorized) refused_source +$(d refused_source) refused_pending +$(d refused_pending) refused_links +$(d refused_links)"
want="handshake_failures +$exp_hs peers_rejected +$exp_rej malformed_records +$exp_mal drop_mac_unauthorized +$exp_drop refused_source +$S_REF refused_pending +0 refused_links +0"
is "$got" "$want" "proxy crypt counters grew by exactly the refused attempts (vnetctl stats)" ||
	diag "(random $((NJOB[random])), nocert $((NJOB[nocert])), rogue $((NJOB[rogue])), expired $((NJOB[expired])), slowloris admitted $S_ADM / refused $S_REF, stranger $exp_rej, oversize+badtype+trunc $exp_mal, macunauth $((NJOB[macunauth])) x $FRAMES frames)"
diag "counters before -> after: $(for k in handshake_failures peers_rejected malformed_records drop_mac_unauthorized refused_source refused_pending refused_links links_accepted; do
	printf '%s %s->%s  ' "$k" "$(rs_jget "$VN_TMP/st0.json" crypt "$k")" "$(rs_jget "$VN_TMP/st1.json" crypt "$k")"; done)"
diag "links_accepted +$(d links_accepted) for $ATTEMPTS attempts"

# 8: refusals are audited, with rate limiting.
lines() { log_lines "$PLOG" "$MARK" "event=$1" | grep -c .; }
n_hs=$(lines tls_handshake_failed); n_mal=$(lines malformed_record)
n_rej=$(lines peer_rejected); n_drop=$(log_lines "$PLOG" "$MARK" event=drop reason=mac_unauthorized | grep -c .)
n_ref=$(lines refused)
n_all=$((n_hs + n_mal + n_rej + n_drop + n_ref))
# The limits (crypt/crypt.c): 20 events/s (handshake, malformed, rejected
# share one), 10 drops/s, 5 refusals/s, over the storm and the timeouts
# after it.
secs=$((STORM_S + HS_TIMEOUT + 2))
max_ev=$((20 * secs)); max_drop=$((10 * secs)); max_ref=$((5 * secs))
ok "$([ "$n_hs" -gt 0 ] && [ "$n_mal" -gt 0 ] && [ "$n_rej" -gt 0 ] && [ "$n_drop" -gt 0 ] && [ "$n_ref" -gt 0 ] &&
    [ $((n_hs + n_mal + n_rej)) -le "$max_ev" ] && [ "$n_drop" -le "$max_drop" ] && [ "$n_ref" -le "$max_ref" ] &&
    [ "$n_all" -le $((ATTEMPTS / 2)) ]; echo $?)" \
    "audited with rate limiting: $n_all lines for $ATTEMPTS attempts (tls_handshake_failed $n_hs, malformed_record $n_mal, peer_rejected $n_rej, drop $n_drop, refused $n_ref; limits over $secs s: events <= $max_ev, drops <= $max_drop, refusals <= $max_ref; all <= $((ATTEMPTS / 2)))"

# 9: the later lines say how much was held back, and lines plus
# suppressed never exceed what the counters saw.
supp() { grep -o ' suppressed=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }'; }
# A count comes with the next record of its kind or, once the window is
# over, in an event=suppressed summary of its own.
s_ev=$( (log_lines "$PLOG" "$MARK" event=tls_handshake_failed; log_lines "$PLOG" "$MARK" event=malformed_record;
    log_lines "$PLOG" "$MARK" event=peer_rejected;
    log_lines "$PLOG" "$MARK" event=suppressed what=link_events) | supp)
s_drop=$( (log_lines "$PLOG" "$MARK" event=drop reason=mac_unauthorized;
    log_lines "$PLOG" "$MARK" event=suppressed what=drop reason=mac_unauthorized) | supp)
s_ref=$( (log_lines "$PLOG" "$MARK" event=refused;
    log_lines "$PLOG" "$MARK" event=suppressed what=refused) | supp)
ev_total=$(( $(d handshake_failures) + $(d peers_rejected) + $(d malformed_records) ))
ref_total=$(( $(d refused_source) + $(d refused_pending) + $(d refused_links) ))
ok "$([ "$s_ev" -gt 0 ] && [ "$s_drop" -gt 0 ] && [ $((n_hs + n_mal + n_rej + s_ev)) -le "$ev_total" ] &&
    [ $((n_drop + s_drop)) -le "$(d drop_mac_unauthorized)" ] && [ $((n_ref + s_ref)) -le "$ref_total" ]; echo $?)" \
    "suppressed= counts are reported (later records or summaries): events $((n_hs + n_mal + n_rej)) lines + $s_ev suppressed <= $ev_total counted; drops $n_drop + $s_drop <= $(d drop_mac_unauthorized); refusals $n_ref + $s_ref <= $ref_total"
diag "$(log_lines "$PLOG" "$MARK" event=tls_handshake_failed | grep -v ' suppressed=0 ' | head -n 2)"
diag "$(log_lines "$PLOG" "$MARK" event=malformed_record | grep -v ' suppressed=0 ' | head -n 1)"
diag "$(log_lines "$PLOG" "$MARK" event=drop reason=mac_unauthorized | grep -v ' suppressed=0 ' | head -n 1)"
diag "$(log_lines "$PLOG" "$MARK" event=refused | tail -n 1)"
diag "unlimited records meanwhile: $(log_lines "$PLOG" "$MARK" event=link_up | grep -c .) link_up, $(log_lines "$PLOG" "$MARK" event=link_down | grep -c .) link_down (authenticated attackers' links)"

# 10: nobody got in who should not have, and the legitimate link stayed.
intruders=$(log_lines "$PLOG" "$MARK" event=link_up | grep -E 'host=(atkexp|atkrogue|vmhost9|vmhost1) ')
legit_down=$(log_lines "$PLOG" "$MARK" event=link_down host=vmhost1)
lu=$(rs_jget "$VN_TMP/st1.json" crypt links_up)
ok "$([ -z "$intruders" ] && [ -z "$legit_down" ] && [ "$lu" = 1 ]; echo $?)" \
    "no link_up for the expired, rogue-CA or unknown certificates; the legitimate host's link never went down; links_up=$lu after the storm" ||
	diag "$intruders" "$legit_down"

# 11: no growth of descriptors or memory in the proxy's processes.
out=$(rs_snap_compare "$VN_TMP/snap0" "$VN_TMP/snap1" "$FD_MARGIN" "$RSS_MARGIN_KB"); st=$?
ok "$st" "proxy monitor and workers: descriptors and VmRSS back within +$FD_MARGIN fds, +$((RSS_MARGIN_KB / 1024)) MiB of their level before the storm"
diag "$out"

# 12: nothing died.
crashes=$(log_lines "$PLOG" 0 event=worker_exit; log_lines "${VNETD_LOG[host]}" 0 event=worker_exit)
ok "$([ -z "$crashes" ] && alive "${VNETD_PID[proxy]}" && alive "${VNETD_PID[host]}"; echo $?)" \
    "no worker exited; both daemons running" || diag "$crashes"

# 13: 10 links that end in a bad record and a reset at once.
lu0=$(rs_links_up proxy)
MARK=$(log_mark "$PLOG")
out=$(timeout 60 ip netns exec "$NS_HOST2" "$RS_PY" "$RS_TOOLS/wirepeer.py" \
    --connect "$PROXY_WAN" --port "$VNET_PORT" --ca "$VN_TMP/ca.crt" \
    --cert "$VN_TMP/atk0.crt" --key "$VN_TMP/atk0.key" --mac 52:54:00:a7:00:00 \
    --bad-then-reset 10 2>&1)
rc=$?
wait_for 3 eval '[ "$(log_lines "$PLOG" "$MARK" event=link_down host=atk0 | grep -c .)" -ge 10 ]'
sleep 0.5
lu1=$(rs_links_up proxy)
n_up=$(log_lines "$PLOG" "$MARK" event=link_up host=atk0 | grep -c .)
n_down=$(log_lines "$PLOG" "$MARK" event=link_down host=atk0 | grep -c .)
ok "$([ "$rc" = 0 ] && [ -n "$lu0" ] && [ "$lu1" = "$lu0" ] && [ "$n_up" = 10 ] && [ "$n_down" = 10 ]; echo $?)" \
    "10 authenticated links that end in a bad record and a TCP reset at once: links_up $lu0 -> $lu1 (unchanged), $n_up link_up and $n_down link_down records for host atk0 (10 each)" ||
	diag "$out" "$(log_lines "$PLOG" "$MARK" event=link_down host=atk0 | head -n 4)"
diag "$out"

# 14: the legitimate host still gets a link: its crypt is killed, it
# redials and is let in.
old=$(vnetd_worker host crypt)
MARK=$(log_mark "$PLOG")
kill -KILL "$old" 2>/dev/null
vnetd_wait proxy 20 "$MARK" event=link_up host=vmhost1
lu2=$(rs_links_up proxy)
rej=$(log_lines "$PLOG" "$MARK" event=peer_rejected | head -n 2)
ok "$(log_has "$PLOG" "$MARK" event=link_up host=vmhost1 && [ "$lu2" = 1 ] && [ -z "$rej" ]; echo $?)" \
    "then the legitimate host (its crypt $old killed) redials and gets its link back: event=link_up host=vmhost1, links_up=$lu2, no peer_rejected" ||
	diag "$rej"

rs_save_logs
tap_done

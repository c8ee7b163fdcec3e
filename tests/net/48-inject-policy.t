#!/bin/bash
# SPDX-License-Identifier: ISC
# inject trusts no frame crypt hands it (issue 16, point 2). A hostile
# crypt (tests/evil/evil-crypt.c), confined as the real one, writes
# frames this side's policy forbids straight into the real data ring to
# inject, 40 rounds of one frame of each kind plus one allowed marker
# frame (ethertype 0x88b5):
#   proxy: a source no host may use (the home router's), a group source,
#          802.1Q and 802.1ad tags, STP and PAUSE destinations
#   host:  a served VM's source, unicast to a tenant's MAC, a group
#          source, an 802.1Q tag, an STP destination
# inject drops each one: counted under its reason (vnetctl stats),
# audited with rate limiting (every drop either written or counted in a
# suppressed=), and tcpdump on the wire (the LAN veth, the VM's port of
# the bridge) sees the 40 marker frames and nothing else.
# Then a reload reaches inject live: the proxy's new file authorizes the
# router's MAC for a host and allows VLAN 10; the hostile crypt writes
# its rounds again, and exactly those frames now reach the LAN, with
# the same inject process.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 16

EVIL=$VNET_BUILD/tests/evil/evil-crypt
[ -x "$EVIL" ] || bail "not built: $EVIL (make $EVIL)"
ROUNDS=40
ROUTER_MAC=52:54:00:ee:00:01
TENANT_MAC=52:54:00:77:77:77

# 1: one namespace: the proxy's lan0 (its wire: lan0p) and wan0, the
# host's bridge brvm with a VM port vm0 (its wire: vm0p).
NS=$NS_PROXY
topo_one() {
	ns_add "$NS" && no_ipv6 "$NS" || return 1
	veth "$NS" lan0 "$NS" lan0p && veth "$NS" wan0 "$NS" wan0p || return 1
	bridge_add "$NS" brvm && veth "$NS" vm0 "$NS" vm0p || return 1
	ip -n "$NS" link set vm0 master brvm || return 1
	VN_OFFLOAD=${VNET_OFFLOAD:-on}
	offload_apply
	ip -n "$NS" addr add "$PROXY_WAN/24" dev wan0 || return 1
	for d in lan0 lan0p wan0 wan0p brvm vm0 vm0p; do
		ip -n "$NS" link set "$d" up || return 1
	done
	if [ "$VN_OFFLOAD" = off ]; then
		offload_verify || return 1
	fi
	ip -n "$NS" -br link
}
topo_one >"$VN_TMP/topo.out" 2>&1
ok $? "namespace $NS: lan0/lan0p, wan0 ($PROXY_WAN), brvm with port vm0/vm0p (offloads ${VN_OFFLOAD:-on})" ||
	{ diag "$(cat "$VN_TMP/topo.out")"; fail_rest "namespace setup failed"; }

# 2
check "certificates and configurations generated" vn_setup_pki

# A libexec dir with the real capture and inject, and evil-crypt.
XDIR="$VN_TMP/libexec-evil"
evil_libexec() {
	mkdir -p "$XDIR" && chmod 0755 "$XDIR" || return 1
	cp "$VNET_BUILD/vnet-capture" "$VNET_BUILD/vnet-inject" "$XDIR/" &&
	    cp "$EVIL" "$XDIR/vnet-crypt"
}

# evil_start NAME CONF: vnetd -d in NS with workers from XDIR.
evil_start() {
	local name=$1 conf=$2 log="$VN_TMP/$1.log" pid
	VNETD_LOG[$name]=$log
	VNETD_NS[$name]=$NS
	echo "---- vnetd start $(date +%T.%N) ----" >>"$log"
	ip netns exec "$NS" env VNET_LIBEXECDIR="$XDIR" \
	    "$VNET_BUILD/vnetd" -d -f "$conf" -x "$XDIR" </dev/null >>"$log" 2>&1 &
	pid=$!
	track "$pid"
	VNETD_PID[$name]=$pid
	VN_KEEP_LOGS+=("$log")
}

# istat NAME COUNTER: inject's counter in vnetctl stats.
istat() {
	"$VNET_BUILD/vnetctl" -s "$VN_TMP/$1.sock" stats 2>/dev/null | awk -v c="$2" '
	    /^[a-z]/ { in_inj = ($1 == "inject") ; next }
	    in_inj && $1 == c { print $2; found = 1; exit }
	    END { if (!found) print "none" }'
}

# 3: tcpdump on both wires, then both daemons with the hostile crypt.
start_all() {
	evil_libexec || return 1
	cap_start pwire "$NS" lan0p "" --immediate-mode || { echo "tcpdump on lan0p did not start"; return 1; }
	cap_start hwire "$NS" vm0p "" --immediate-mode || { echo "tcpdump on vm0p did not start"; return 1; }
	evil_start proxy "$VN_TMP/proxy.conf"
	evil_start host "$VN_TMP/host.conf"
	vnetd_wait proxy 10 0 event=evil_done worker=crypt || { echo "proxy: no event=evil_done"; return 1; }
	vnetd_wait host 10 0 event=evil_done worker=crypt || { echo "host: no event=evil_done"; return 1; }
}
start_all >"$VN_TMP/start.out" 2>&1
ok $? "both vnetd run with the hostile crypt as vnet-crypt; it wrote $ROUNDS rounds into each real ring to inject (event=evil_done)" ||
	{ diag "$(cat "$VN_TMP/start.out")"; fail_rest "the hostile crypt did not run"; }

# want NAME COUNTER VALUE...: wait (5 s) until inject shows each value.
counts() {
	local name=$1 c v got bad=0; shift
	wait_for 5 eval '[ "$(istat '"$name"' frames)" = "$FRAMES" ]'
	while [ $# -gt 0 ]; do
		c=$1 v=$2; shift 2
		got=$(istat "$name" "$c")
		echo "$c $got (want $v)"
		[ "$got" = "$v" ] || bad=1
	done
	return $bad
}

# 4, 5: the counters.
FRAMES=$((ROUNDS * 7))
check "proxy inject: frames $FRAMES; drop_src_unauthorized, drop_src_invalid $ROUNDS each; drop_vlan, drop_reserved_dst $((ROUNDS * 2)) each; sent $ROUNDS" \
    counts proxy frames "$FRAMES" drop_src_unauthorized "$ROUNDS" drop_src_invalid "$ROUNDS" \
    drop_vlan $((ROUNDS * 2)) drop_reserved_dst $((ROUNDS * 2)) drop_src_served 0 \
    drop_dst_unserved 0 sent "$ROUNDS"
FRAMES=$((ROUNDS * 6))
check "host inject: frames $FRAMES; drop_src_served, drop_dst_unserved, drop_src_invalid, drop_vlan, drop_reserved_dst $ROUNDS each; sent $ROUNDS" \
    counts host frames "$FRAMES" drop_src_served "$ROUNDS" drop_dst_unserved "$ROUNDS" \
    drop_src_invalid "$ROUNDS" drop_vlan "$ROUNDS" drop_reserved_dst "$ROUNDS" \
    drop_src_unauthorized 0 sent "$ROUNDS"

# audit_ok NAME TOTAL REASON...: inject's event=drop records name each
# REASON; at most 10 a second; records + their suppressed= counts +
# the event=suppressed summaries' add up to TOTAL drops.
audit_ok() {
	local name=$1 total=$2 log=${VNETD_LOG[$1]} r n sum=0 l bad=0 first last secs; shift 2
	# The tail's summary comes when the limiter's window ends.
	wait_for 4 eval 'log_has "$log" 0 event=suppressed what=drop reason=policy worker=inject'
	for r in "$@"; do
		l=$(log_lines "$log" 0 event=drop "reason=$r" worker=inject | head -n 1)
		echo "reason=$r: ${l:-NONE}"
		[ -n "$l" ] || bad=1
	done
	n=$(log_lines "$log" 0 event=drop worker=inject | grep -c .)
	while IFS= read -r l; do
		sum=$((sum + $(log_value "$l" suppressed)))
	done < <(log_lines "$log" 0 event=drop worker=inject; log_lines "$log" 0 event=suppressed what=drop reason=policy worker=inject)
	echo "records $n, suppressed $sum, drops $total"
	[ $((n + sum)) -eq "$total" ] || bad=1
	# The rounds take about 1 s: two or three one-second windows.
	[ "$n" -le 30 ] || { echo "more than 10 records a second"; bad=1; }
	log_has "$log" 0 event=suppressed what=drop reason=policy worker=inject ||
		{ echo "no event=suppressed summary"; bad=1; }
	return $bad
}

# 6, 7
check "proxy: inject audits event=drop reason=src_unauthorized, src_invalid, vlan, reserved_dst (with src=, dst=, type=); rate limited, every drop written or counted in suppressed=" \
    audit_ok proxy $((ROUNDS * 6)) src_unauthorized src_invalid vlan reserved_dst
check "host: inject audits event=drop reason=src_served, dst_unserved, src_invalid, vlan, reserved_dst; rate limited, every drop written or counted in suppressed=" \
    audit_ok host $((ROUNDS * 5)) src_served dst_unserved src_invalid vlan reserved_dst

# frames NAME: tcpdump's frame lines (it adds hex lines for unknown
# ethertypes), one per frame.
frames() {
	grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.' "$VN_TMP/$1.cap"
}

# wire NAME SRC: the capture holds exactly ROUNDS frames, all marker
# frames (0x88b5) from SRC, none of the forbidden ones.
wire() {
	local name=$1 src=$2 f="$VN_TMP/$1.frames" all mark
	frames "$name" >"$f"
	all=$(grep -c . "$f")
	mark=$(awk -v s="$src" '$2 == s && /0x88b5/' "$f" | grep -c .)
	echo "$name: $all frames, $mark marker frames from $src"
	[ "$all" -eq "$ROUNDS" ] && [ "$mark" -eq "$ROUNDS" ] && return 0
	grep -v 0x88b5 "$f" | head -n 10
	return 1
}
cap_stop pwire
cap_stop hwire
cap_start pwire2 "$NS" lan0p "" --immediate-mode || diag "tcpdump on lan0p did not restart"
# 8, 9
check "LAN wire (lan0p): the $ROUNDS allowed frames from $VM_MAC and nothing else (no router source, group source, tag, STP or PAUSE)" \
    wire pwire "$VM_MAC"
check "VM port (vm0p): the $ROUNDS allowed frames and nothing else (no served-VM source, tenant unicast, group source, tag, STP)" \
    wire hwire "$ROUTER_MAC"

# 10-12: reload the proxy with the router's MAC in a host block and
# vlan-allow 10: inject applies it live, and the second rounds' router
# frames and VID 10 frames now pass, the rest is still dropped.
reload_live() {
	local log=${VNETD_LOG[proxy]} mark
	mark=$(log_mark "$log")
	{ cat "$VN_TMP/proxy.conf"; printf 'vlan-allow 10\nhost vmrouter {\n    mac %s\n}\n' "$ROUTER_MAC"; } \
	    >"$VN_TMP/proxy2.conf" && cp "$VN_TMP/proxy2.conf" "$VN_TMP/proxy.conf" || return 1
	kill_tracked HUP "${VNETD_PID[proxy]}"
	vnetd_wait proxy 5 "$mark" event=reload result=applied policy=changed macs=2 vlan_allow=1 worker=inject || {
		echo "no event=reload result=applied policy=changed macs=2 vlan_allow=1 worker=inject"
		log_lines "$log" "$mark" event=reload; return 1; }
	log_lines "$log" "$mark" event=reload worker=inject
	vnetd_wait proxy 10 "$mark" event=evil_done worker=crypt || { echo "no second event=evil_done"; return 1; }
}
check "SIGHUP: the proxy's inject logs event=reload result=applied policy=changed macs=2 vlan_allow=1 (live, no restart); the hostile crypt writes its rounds again" \
    reload_live
FRAMES=$((ROUNDS * 14))
check "proxy inject after the reload: frames $FRAMES; drop_src_unauthorized still $ROUNDS; drop_vlan $((ROUNDS * 3)) (802.1ad only, this time); sent $((ROUNDS * 4))" \
    counts proxy frames "$FRAMES" drop_src_unauthorized "$ROUNDS" drop_src_invalid $((ROUNDS * 2)) \
    drop_vlan $((ROUNDS * 3)) drop_reserved_dst $((ROUNDS * 4)) sent $((ROUNDS * 4))
wire2() {
	local f="$VN_TMP/pwire2.frames" all mark rt tag
	frames pwire2 >"$f"
	all=$(grep -c . "$f")
	mark=$(awk -v s="$VM_MAC" '$2 == s && /0x88b5/ && !/vlan/' "$f" | grep -c .)
	rt=$(awk -v s="$ROUTER_MAC" '$2 == s && /ARP/' "$f" | grep -c .)
	tag=$(awk -v s="$VM_MAC" '$2 == s && /vlan 10,/ && !/802\.1Q-QinQ|0x88a8/' "$f" | grep -c .)
	echo "$all frames: $mark marker, $rt from the router, $tag with VLAN 10"
	[ "$all" -eq $((ROUNDS * 3)) ] && [ "$mark" -eq "$ROUNDS" ] && [ "$rt" -eq "$ROUNDS" ] &&
	    [ "$tag" -eq "$ROUNDS" ] && return 0
	head -n 10 "$f"
	return 1
}
# All sent (inject's count): what tcpdump has not shown yet is on its way.
wait_for 3 eval '[ "$(frames pwire2 | grep -c .)" -ge $((ROUNDS * 3)) ]'
sleep 0.3
cap_stop pwire2
check "LAN wire after the reload: $ROUNDS each of the marker, the router's ARP and the VID 10 frames, nothing else (no 802.1ad tag, group source, STP or PAUSE)" \
    wire2

# 13, 14: neither inject died or was restarted (the reload too was
# live); the hostile crypt was never killed for a message (it used the
# ring as the real crypt does). capture restarts on a reload, by design.
untouched() {
	local name=$1 log=${VNETD_LOG[$1]} n
	n=$(log_lines "$log" 0 event=worker_start worker=inject | grep -c .)
	echo "$name: inject started $n time(s)"
	[ "$n" -eq 1 ] || return 1
	if log_has "$log" 0 event=worker_exit worker=inject ||
	    log_has "$log" 0 event=worker_exit worker=crypt ||
	    log_has "$log" 0 event=worker_violation; then
		log_lines "$log" 0 event=worker_exit; log_lines "$log" 0 event=worker_violation
		return 1
	fi
}
check "proxy: inject ran once (through the reload), no inject or crypt exit, no violation" untouched proxy
check "host: inject ran once, no inject or crypt exit, no violation" untouched host

# 15, 16 (in this shell: vnetd_stop waits for its child)
for n in proxy host; do
	vnetd_stop "$n" 10 >"$VN_TMP/$n.stop" 2>&1
	st=$?
	[ "$st" = 0 ] && [ "${VNETD_STATUS[$n]}" = 0 ]
	ok $? "$n: SIGTERM stops it and its workers, exit status ${VNETD_STATUS[$n]}" ||
		diag "$(cat "$VN_TMP/$n.stop")"
done

tap_done

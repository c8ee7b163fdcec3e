#!/bin/bash
# SPDX-License-Identifier: ISC
# vnetctl against a running pair: status, links, macs and stats, human
# and JSON (-j, checked with jq, field names exactly as documented in
# vnetctl(8)), their values against the real state (worker pids from the
# kernel, the host's certificate CN, TLSv1.3, byte counters that grow by
# an 8 MiB transfer each way, the VM's MAC on vmhost1, counters equal to
# SIGUSR1's event=stats); exit statuses; the socket's owner and mode: a
# user outside the control group is refused by the kernel (EACCES), a
# member of the configured control-group is served; a malformed request
# gets "error:" and is audited as event=control_rejected.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ops.sh"
vn_prereq
ops_prereq
vn_init
plan 27

# A temporary group for the control-group test, removed on exit.
CTL_GROUP="vnctl$$"
ops_cleanup() {
	local rc=$?
	getent group "$CTL_GROUP" >/dev/null 2>&1 && groupdel "$CTL_GROUP" 2>/dev/null
	(exit $rc)
	vn_cleanup
}
trap ops_cleanup EXIT
# Others may traverse (not list) the temp dir, so that only the socket's
# own mode decides who may connect to it.
chmod 0711 "$VN_TMP"

VM_IP=10.202.0.99
topo_up_tap								# 1
check "certificates and configurations generated" vn_setup_pki	# 2
start_pair_tap								# 3
CTL_SOCK[proxy]=$(conf_control "$VN_TMP/proxy.conf")
CTL_SOCK[host]=$(conf_control "$VN_TMP/host.conf")
PLOG=${VNETD_LOG[proxy]}
ip -n "$NS_VM" addr add "$VM_IP/24" dev eth0
check "VM ($VM_IP, static) pings the client through vnet" ping4 "$NS_VM" "$CLIENT_IP"	# 4

# run NAME OUT CMD...: vnetctl output to $VN_TMP/OUT (stdout) and OUT.err.
run() {
	local name=$1 out=$2; shift 2
	ctl "$name" "$@" >"$VN_TMP/$out" 2>"$VN_TMP/$out.err"
}
# keys FILE FILTER: the object's keys, in the order emitted.
keys() { jq -r "$2 | keys_unsorted | join(\",\")" "$1" 2>&1; }
real_pid() { vnetd_worker "$1" "$2"; }

# ---- 5, 6: status.
SHA=$(sha256sum "$VN_TMP/proxy.conf" | cut -d' ' -f1)
status_human() {
	local f="$VN_TMP/status.txt" bad=0 k p
	run proxy status.txt status || { echo "exit $?: $(cat "$f.err")"; return 1; }
	cat "$f"
	grep -Eq '^vnetd [0-9.]+, role proxy, interface lan0, up [0-9.hms]+$' "$f" || { echo "bad first line"; bad=1; }
	grep -qxF "config $VN_TMP/proxy.conf (sha256 $SHA)" "$f" || { echo "no 'config FILE (sha256 $SHA)' line"; bad=1; }
	grep -Eq '^WORKER +PID +STATE +RESTARTS$' "$f" || { echo "no WORKER header"; bad=1; }
	for k in capture crypt inject; do
		p=$(real_pid proxy "$k")
		grep -Eq "^$k +$p +ready +0$" "$f" || { echo "no row '$k $p ready 0'"; bad=1; }
	done
	return $bad
}
check "vnetctl status: 'vnetd VERSION, role proxy, interface lan0, up T', 'config FILE (sha256 <sha256sum>)', WORKER/PID/STATE/RESTARTS rows with the real pids" status_human

status_json() {
	local f="$VN_TMP/status.json" bad=0 k p host=$1 role=$2 ifc=$3 conf=$4
	run "$host" status.json -j status || { echo "exit $?"; return 1; }
	cat "$f"
	json_ok "$f" || { echo "not one valid JSON value"; return 1; }
	[ "$(keys "$f" .)" = version,role,uptime_s,config,config_sha256,interface,workers ] ||
		{ echo "keys: $(keys "$f" .)"; bad=1; }
	[ "$(keys "$f" '.workers[0]')" = name,pid,state,restarts ] || { echo "worker keys: $(keys "$f" '.workers[0]')"; bad=1; }
	jq -e --arg r "$role" --arg i "$ifc" --arg c "$conf" --arg s "$(sha256sum "$conf" | cut -d' ' -f1)" \
	    '.role == $r and .interface == $i and .config == $c and .config_sha256 == $s and
	     (.uptime_s | type == "number" and . >= 0) and (.version | test("^[0-9]+\\.[0-9]+\\.[0-9]+$")) and
	     ([.workers[].name] == ["capture","crypt","inject"]) and
	     all(.workers[]; .state == "ready" and .restarts == 0)' "$f" >/dev/null ||
		{ echo "values differ"; bad=1; }
	for k in capture crypt inject; do
		p=$(real_pid "$host" "$k")
		[ "$(jq -r --arg k "$k" '.workers[] | select(.name == $k) | .pid' "$f")" = "$p" ] ||
			{ echo "$k: pid in JSON differs from the kernel's $p"; bad=1; }
	done
	return $bad
}
check "vnetctl -j status (proxy): valid JSON, keys version,role,uptime_s,config,config_sha256,interface,workers[name,pid,state,restarts]; pids = the real workers'; sha256 = sha256sum" \
    status_json proxy proxy lan0 "$VN_TMP/proxy.conf"
check "vnetctl -j status (host): role host, interface brvm, the host's real worker pids" \
    status_json host host brvm "$VN_TMP/host.conf"

# ---- 8-10: links.
links_human() {
	local f="$VN_TMP/links.txt"
	run proxy links.txt links || { echo "exit $?"; return 1; }
	cat "$f"
	grep -Eq '^PEER +HOST +STATE +UP +TLS +CIPHER +TRANSPORT +RX_FRAMES +TX_FRAMES +RX_BYTES +TX_BYTES$' "$f" &&
	grep -Eq "^$HOST_WAN:[0-9]+ +vmhost1 +up +[0-9.hms]+ +TLSv1\\.3 +TLS_[A-Z0-9_]+ +(udp|tcp)( +[0-9]+){4}$" "$f" &&
	[ "$(wc -l <"$f")" = 2 ]
}
check "vnetctl links: header PEER HOST STATE UP TLS CIPHER TRANSPORT RX_FRAMES TX_FRAMES RX_BYTES TX_BYTES, one row '$HOST_WAN:PORT vmhost1 up T TLSv1.3 TLS_... udp|tcp'" links_human

links_json() {
	local f="$VN_TMP/$1.links.json" name=$1 host=$2 cn=$3 peer=$4
	run "$name" "$1.links.json" -j links || { echo "exit $?"; return 1; }
	cat "$f"
	json_ok "$f" || { echo "not one valid JSON value"; return 1; }
	[ "$(keys "$f" .)" = total,links ] || { echo "keys: $(keys "$f" .)"; return 1; }
	[ "$(keys "$f" '.links[0]')" = peer,host,state,up_s,subject,tls,cipher,transport,rx_frames,tx_frames,rx_bytes,tx_bytes,udp_rx_frames,udp_tx_frames,udp_drops ] ||
		{ echo "link keys: $(keys "$f" '.links[0]')"; return 1; }
	jq -e --arg h "$host" --arg cn "$cn" --arg p "$peer" \
	    '.total == 1 and (.links | length) == 1 and (.links[0] |
	     .host == $h and .state == "up" and .tls == "TLSv1.3" and
	     (.subject | test("CN ?= ?" + $cn + "$")) and (.peer | startswith($p + ":")) and
	     (.cipher | startswith("TLS_")) and (.up_s | type == "number") and
	     (.transport == "udp" or .transport == "tcp") and
	     ([.rx_frames, .tx_frames, .rx_bytes, .tx_bytes, .udp_rx_frames, .udp_tx_frames, .udp_drops] | all(type == "number" and . >= 0)))' "$f" >/dev/null
}
check "vnetctl -j links (proxy): valid JSON {total, links[peer,host,state,up_s,subject,tls,cipher,rx/tx_frames,rx/tx_bytes]}; host vmhost1, subject CN=vmhost1, TLSv1.3, peer $HOST_WAN" \
    links_json proxy vmhost1 vmhost1 "$HOST_WAN"
check "vnetctl -j links (host): the proxy, subject CN=proxy, TLSv1.3, peer $PROXY_WAN" \
    links_json host proxy proxy "$PROXY_WAN"

# ---- 11-14: the counters grow by an 8 MiB transfer each way.
MIB8=$((8 * 1048576))
lval() { jq -r ".links[0].$2" "$VN_TMP/$1.links.json"; }
snap() { run proxy proxy.links.json -j links && run host host.links.json -j links; }
snap
p_rx0=$(lval proxy rx_bytes); p_tx0=$(lval proxy tx_bytes); p_rxf0=$(lval proxy rx_frames)
h_rx0=$(lval host rx_bytes); h_tx0=$(lval host tx_bytes)
xfer_tap "8 MiB TCP VM -> client" "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" 8
snap
p_rx1=$(lval proxy rx_bytes); p_tx1=$(lval proxy tx_bytes); p_rxf1=$(lval proxy rx_frames)
h_rx1=$(lval host rx_bytes); h_tx1=$(lval host tx_bytes)
ok "$([ $((p_rx1 - p_rx0)) -ge $MIB8 ] && [ $((h_tx1 - h_tx0)) -ge $MIB8 ] && [ "$p_rxf1" -gt "$p_rxf0" ]; echo $?)" \
    "after VM -> client: proxy link rx_bytes +$((p_rx1 - p_rx0)), host link tx_bytes +$((h_tx1 - h_tx0)) (both >= $MIB8), rx_frames +$((p_rxf1 - p_rxf0))"
xfer_tap "8 MiB TCP client -> VM" "$NS_CLIENT" "$NS_VM" "$VM_IP" 8
snap
p_tx2=$(lval proxy tx_bytes); h_rx2=$(lval host rx_bytes)
ok "$([ $((p_tx2 - p_tx1)) -ge $MIB8 ] && [ $((h_rx2 - h_rx1)) -ge $MIB8 ]; echo $?)" \
    "after client -> VM: proxy link tx_bytes +$((p_tx2 - p_tx1)), host link rx_bytes +$((h_rx2 - h_rx1)) (both >= $MIB8)"

# ---- 15, 16: macs.
in_ns "$NS_VM" ping -c 1 -w 2 "$CLIENT_IP" >/dev/null 2>&1
macs_human() {
	local f="$VN_TMP/macs.txt"
	run proxy macs.txt macs || { echo "exit $?"; return 1; }
	cat "$f"
	grep -Eq '^MAC +HOST +PEER +SEEN_AGO +MOVED_AGO$' "$f" &&
	grep -Eq "^$VM_MAC +vmhost1 +$HOST_WAN:[0-9]+ +[0-9.hms]+ +never$" "$f"
}
check "vnetctl macs: header MAC HOST PEER SEEN_AGO MOVED_AGO, row '$VM_MAC vmhost1 $HOST_WAN:PORT T never'" macs_human
macs_json() {
	local f="$VN_TMP/macs.json"
	run proxy macs.json -j macs || { echo "exit $?"; return 1; }
	cat "$f"
	json_ok "$f" || { echo "not one valid JSON value"; return 1; }
	[ "$(keys "$f" .)" = total,macs ] || { echo "keys: $(keys "$f" .)"; return 1; }
	[ "$(keys "$f" '.macs[0]')" = mac,host,peer,last_seen_ms,last_moved_ms ] ||
		{ echo "mac keys: $(keys "$f" '.macs[0]')"; return 1; }
	jq -e --arg m "$VM_MAC" --arg p "$HOST_WAN" '.total == 1 and (.macs | length) == 1 and
	    (.macs[0] | .mac == $m and .host == "vmhost1" and (.peer | startswith($p + ":")) and
	     (.last_seen_ms | type == "number" and . < 60000) and .last_moved_ms == null)' "$f" >/dev/null
}
check "vnetctl -j macs: valid JSON {total, macs[mac,host,peer,last_seen_ms,last_moved_ms]}; $VM_MAC on vmhost1, seen < 60 s ago, never moved (null)" macs_json

# ---- 17, 18: stats, against SIGUSR1's event=stats records.
stats_human() {
	local f="$VN_TMP/stats.txt" k p
	run proxy stats.txt stats || { echo "exit $?"; return 1; }
	cat "$f"
	for k in capture crypt inject; do
		p=$(real_pid proxy "$k")
		grep -qxF "$k (pid $p, restarts 0)" "$f" || { echo "no '$k (pid $p, restarts 0)'"; return 1; }
	done
	grep -Eq '^  links_up +1$' "$f" && grep -Eq '^  rx_bytes +[0-9]+$' "$f"
}
check "vnetctl stats: a 'NAME (pid PID, restarts N)' section per worker with the real pids, '  counter value' rows (links_up 1)" stats_human
# Counters that cannot move in a quiet second: equal in both readings.
STABLE="restarts links_up links_accepted reconnects handshake_failures peers_rejected malformed_records drop_mac_unauthorized moves drop_move_limit aged refused_pending refused_source refused_links drop_truncated drop_kernel drop_channel_full drop_oversize drop_msgsize"
stats_json() {
	local f="$VN_TMP/stats.json" mark k line names jnames bad=0 c v jv
	mark=$(log_mark "$PLOG")
	kill_tracked USR1 "${VNETD_PID[proxy]}"
	for k in capture crypt inject; do
		vnetd_wait proxy 5 "$mark" event=stats "worker=$k" || { echo "no event=stats worker=$k"; return 1; }
	done
	run proxy stats.json -j stats || { echo "exit $?"; return 1; }
	cat "$f"
	json_ok "$f" || { echo "not one valid JSON value"; return 1; }
	[ "$(keys "$f" .)" = capture,crypt,inject ] || { echo "keys: $(keys "$f" .)"; return 1; }
	for k in capture crypt inject; do
		line=$(log_lines "$PLOG" "$mark" event=stats "worker=$k" | tail -n 1)
		names=$(printf '%s\n' "$line" | tr ' ' '\n' | grep = | cut -d= -f1 | grep -vxE 'event|worker|pid' | tr '\n' ,)
		jnames=$(keys "$f" ".$k"),
		[ "$names" = "$jnames" ] || { echo "$k: log counters $names, JSON $jnames"; bad=1; continue; }
		for c in ${names//,/ }; do
			v=$(log_value "$line" "$c"); jv=$(jq -r ".$k.$c" "$f")
			case " $STABLE " in
			*" $c "*) [ "$jv" = "$v" ] || { echo "$k.$c: JSON $jv, log $v"; bad=1; } ;;
			# traffic and drop counters only grow: the JSON is the later reading
			*) [ "$jv" -ge "$v" ] || { echo "$k.$c: JSON $jv < log $v"; bad=1; } ;;
			esac
		done
	done
	jq -e '.crypt.links_up == 1 and .crypt.links_accepted == 1 and .crypt.handshake_failures == 0 and
	    .crypt.restarts == 0 and .crypt.rx_bytes >= 8388608 and .crypt.tx_bytes >= 8388608' "$f" >/dev/null ||
		{ echo "crypt values"; bad=1; }
	return $bad
}
check "vnetctl -j stats: valid JSON {capture,crypt,inject: {restarts, counters}}; the same counters as SIGUSR1's event=stats, equal values (traffic ones >=), crypt links_up 1, rx_bytes and tx_bytes >= 8 MiB" stats_json

# ---- 19: exit statuses.
exits() {
	local s bad=0
	"$VNET_BUILD/vnetctl" >/dev/null 2>&1; s=$?; [ $s = 2 ] || { echo "no command: exit $s"; bad=1; }
	"$VNET_BUILD/vnetctl" -s "${CTL_SOCK[proxy]}" frobnicate >/dev/null 2>&1; s=$?; [ $s = 2 ] || { echo "unknown command: exit $s"; bad=1; }
	"$VNET_BUILD/vnetctl" -s "${CTL_SOCK[proxy]}" status links >/dev/null 2>&1; s=$?; [ $s = 2 ] || { echo "two commands: exit $s"; bad=1; }
	"$VNET_BUILD/vnetctl" -q status >/dev/null 2>&1; s=$?; [ $s = 2 ] || { echo "bad option: exit $s"; bad=1; }
	"$VNET_BUILD/vnetctl" -s "$VN_TMP/nonexistent.sock" status >/dev/null 2>&1; s=$?; [ $s = 1 ] || { echo "no socket: exit $s"; bad=1; }
	ctl proxy status >/dev/null 2>&1; s=$?; [ $s = 0 ] || { echo "status: exit $s"; bad=1; }
	return $bad
}
check "exit status 2 for usage errors (no command, unknown command, two commands, bad option), 1 with no daemon at the socket, 0 on success" exits

# ---- 20, 21: the socket: 0660 root:root by default; others refused.
is "$(stat -c '%F %a %U %G' "${CTL_SOCK[proxy]}")" "socket 660 root root" "the control socket is a socket, mode 0660, root:root (control-group root by default)"
refused() {
	local out s mark
	mark=$(log_mark "$PLOG")
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -S "${CTL_SOCK[proxy]}" ||
		{ echo "nobody cannot even see the socket: the test proves nothing"; return 1; }
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$VNET_BUILD/vnetctl" -s "${CTL_SOCK[proxy]}" status 2>&1); s=$?
	echo "exit $s: $out"
	[ $s = 1 ] && [ "$out" = "vnetctl: ${CTL_SOCK[proxy]}: Permission denied" ] || return 1
	# The kernel refused the connect: the daemon saw nothing.
	sleep 0.2
	! log_has "$PLOG" "$mark" event=control uid=65534
}
check "nobody (not in the control group) is refused by the socket: 'vnetctl: SOCK: Permission denied' (EACCES), exit 1, no control record" refused

# ---- 22-24: a member of the configured control-group is served.
groupadd "$CTL_GROUP" >/dev/null 2>&1
GID=$(getent group "$CTL_GROUP" | cut -d: -f3)
echo "control-group $CTL_GROUP" >>"$VN_TMP/proxy.conf"
vnetd_stop proxy 10 >/dev/null 2>&1
vnetd_start proxy "$NS_PROXY" "$VN_TMP/proxy.conf"
vnetd_wait proxy 20 "$(vnetd_start_mark proxy)" event=link_up
st=$?
ok "$([ -n "$GID" ] && [ "$st" = 0 ] && [ "$(stat -c '%a %U %G' "${CTL_SOCK[proxy]}")" = "660 root $CTL_GROUP" ]; echo $?)" \
    "with 'control-group $CTL_GROUP' (gid ${GID:-?}) the restarted proxy's socket is 0660 root:$CTL_GROUP, the link is back" ||
	diag "$(stat -c '%F %a %U %G' "${CTL_SOCK[proxy]}" 2>&1)"
member() {
	local out s mark
	mark=$(log_mark "$PLOG")
	out=$(setpriv --reuid=nobody --regid=nogroup --groups="$GID" "$VNET_BUILD/vnetctl" -s "${CTL_SOCK[proxy]}" -j status 2>&1); s=$?
	echo "exit $s: $out"
	[ $s = 0 ] && printf '%s\n' "$out" | jq -e '.role == "proxy"' >/dev/null &&
	    vnetd_wait proxy 5 "$mark" event=control uid=65534 command=status json=1
}
check "nobody with supplementary group $CTL_GROUP is served (vnetctl -j status, exit 0), audited as event=control uid=65534 command=status json=1" member
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$VNET_BUILD/vnetctl" -s "${CTL_SOCK[proxy]}" status 2>&1)
s=$?
ok "$([ $s = 1 ] && [ "$out" = "vnetctl: ${CTL_SOCK[proxy]}: Permission denied" ]; echo $?)" \
    "nobody without the group is still refused (exit $s: $out)"

# ---- 25, 26: malformed requests, written raw to the socket.
raw() {
	local req=$1 want=$2 why=$3 out mark
	mark=$(log_mark "$PLOG")
	out=$(printf '%b' "$req" | timeout 5 socat -t 3 - "UNIX-CONNECT:${CTL_SOCK[proxy]}" 2>&1)
	echo "reply: $out"
	[ "$out" = "$want" ] || return 1
	vnetd_wait proxy 5 "$mark" event=control_rejected uid=0 || return 1
	log_lines "$PLOG" "$mark" event=control_rejected uid=0 | grep -qF "reason=\"$why\""
}
check "raw 'bogus\\n': reply 'error: unknown command', audited event=control_rejected uid=0 reason=\"unknown command\"" \
    raw 'bogus\n' 'error: unknown command' 'unknown command'
check "raw 'status yaml\\n': reply \"error: the only option is 'json'\", audited event=control_rejected" \
    raw 'status yaml\n' "error: the only option is 'json'" "the only option is 'json'"

# ---- 27: the refusals did not disturb the daemon.
check "after all this the proxy still answers: vnetctl status exit 0" ctl proxy status

tap_done

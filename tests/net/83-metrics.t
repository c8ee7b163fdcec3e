#!/bin/bash
# SPDX-License-Identifier: ISC
# vnetctl metrics against a running pair: the text is parsed by
# Prometheus' own parser (Debian's python3-prometheus-client, through
# tests/net/metrics_check.py), follows its naming conventions, and every
# value lies between the `vnetctl -j` stats, links and macs taken just
# before and just after it, with every counter of those replies present
# exactly once. A worker killed on the proxy shows as a restart; drops
# come by reason; the proxy's link is labelled by its host. Then the
# ways it must fail: -j, a bad instance name, -i with -s, no daemon.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ops.sh"
vn_prereq
ops_prereq
PY=/usr/bin/python3
CHECK="$(dirname "$0")/metrics_check.py"
"$PY" -c 'import prometheus_client' 2>/dev/null ||
	bail "Debian's python3-prometheus-client is missing (apt-get install python3-prometheus-client)"
vn_init
plan 10

VM_IP=10.202.0.99
topo_up_tap								# 1
vn_setup_pki >"$VN_TMP/pki.out" 2>&1 || { diag_file "$VN_TMP/pki.out"; fail_rest "no certificates"; }
start_pair_tap								# 2
CTL_SOCK[proxy]=$(conf_control "$VN_TMP/proxy.conf")
CTL_SOCK[host]=$(conf_control "$VN_TMP/host.conf")
ip -n "$NS_VM" addr add "$VM_IP/24" dev eth0
check "VM ($VM_IP) pings the client through vnet" ping4 "$NS_VM" "$CLIENT_IP"	# 3

# ---- 4: a proxy worker killed and restarted is a restart in the metrics.
kill_capture() {
	local old new
	old=$(vnetd_worker proxy capture)
	[ -n "$old" ] || { echo "proxy has no vnet-capture"; return 1; }
	track "$old"
	kill_tracked KILL "$old"
	wait_for 15 eval '[ "$(ctl proxy -j status | jq -r ".workers[0] | \"\(.state) \(.restarts)\"")" = "ready 1" ]' ||
		{ ctl proxy status; return 1; }
	new=$(vnetd_worker proxy capture)
	echo "vnet-capture: pid $old killed, pid $new ready"
}
check "proxy: vnet-capture killed, restarted and ready (status: restarts 1)" kill_capture	# 4

# snapshot NAME TAG: JSON stats, links, macs; metrics; the JSON again.
snapshot() {
	local n=$1 t=$2 c
	for c in stats links macs; do ctl "$n" -j "$c" >"$VN_TMP/$t.$c.1" || return 1; done
	ctl "$n" metrics >"$VN_TMP/$t.prom" 2>"$VN_TMP/$t.prom.err" || { cat "$VN_TMP/$t.prom.err"; return 1; }
	for c in stats links macs; do ctl "$n" -j "$c" >"$VN_TMP/$t.$c.2" || return 1; done
}
verify() {	# TAG NAME
	local t=$1 st
	snapshot "$2" "$t" || { echo "vnetctl failed"; return 1; }
	"$PY" "$CHECK" "$VN_TMP/$t.prom" "$VN_TMP/$t".{stats,links,macs}.1 "$VN_TMP/$t".{stats,links,macs}.2 \
	    >"$VN_TMP/$t.check" 2>&1
	st=$?
	cat "$VN_TMP/$t.check"
	return $st
}

# ---- 5, 6: both ends, against their own JSON.
check "proxy: vnetctl metrics parses, follows the conventions, and matches vnetctl -j stats/links/macs taken around it" verify p proxy &&
	diag "$(cat "$VN_TMP/p.check")"
check "host: the same" verify h host && diag "$(cat "$VN_TMP/h.check")"

# ---- 7: what an operator looks for, by name.
expect() {	# FILE LINE-REGEX...
	local f=$1 r bad=0; shift
	for r in "$@"; do
		grep -Eq "^$r\$" "$f" || { echo "no line matching: $r"; bad=1; }
	done
	return $bad
}
names() {
	expect "$VN_TMP/p.prom" \
	    'vnet_worker_restarts_total\{worker="capture"\} 1' \
	    'vnet_worker_restarts_total\{worker="crypt"\} 0' \
	    'vnet_dropped_frames_total\{worker="crypt",reason="mac_unauthorized"\} [0-9]+' \
	    'vnet_dropped_frames_total\{worker="inject",reason="send"\} [0-9]+' \
	    'vnet_link_up\{host="vmhost1",peer="10\.201\.0\.2:[0-9]+"\} 1' \
	    'vnet_link_receive_frames_total\{host="vmhost1",peer="10\.201\.0\.2:[0-9]+"\} [1-9][0-9]*' \
	    'vnet_link_transmit_bytes_total\{host="vmhost1",peer="10\.201\.0\.2:[0-9]+"\} [1-9][0-9]*' \
	    'vnet_crypt_receive_bytes_total [1-9][0-9]*' \
	    'vnet_forwarding_table_entries 1' \
	    '# TYPE vnet_crypt_links_up gauge' '# TYPE vnet_crypt_transmit_frames_total counter' &&
	expect "$VN_TMP/h.prom" 'vnet_link_up\{host="proxy",peer="10\.201\.0\.1:4789"\} 1' \
	    'vnet_forwarding_table_entries 0'
}
check "proxy: capture's restart, drops by worker and reason, the link labelled host=vmhost1 with frames and bytes, one MAC; host: its link to the proxy" names

# ---- 8-10: refusals.
refused() {	# WANT-STATUS WANT-STDERR ARGS...
	local want=$1 msg=$2 out st; shift 2
	out=$("$VNET_BUILD/vnetctl" "$@" 2>"$VN_TMP/ref.err"); st=$?
	cat "$VN_TMP/ref.err"
	[ "$st" = "$want" ] && [ -z "$out" ] && grep -qF -- "$msg" "$VN_TMP/ref.err"
}
check "vnetctl -j metrics: exit 2, 'has one format'" refused 2 "has one format" -j -s "${CTL_SOCK[proxy]}" metrics
check "vnetctl -i ../x and -i x -s y: exit 2 with the reason" eval \
    'refused 2 "an instance name is" -i ../x status && refused 2 "exclusive" -i x -s "${CTL_SOCK[proxy]}" status'
check "vnetctl metrics with no daemon: exit 1, nothing on stdout" refused 1 "$VN_TMP/none.sock" -s "$VN_TMP/none.sock" metrics

tap_done

#!/bin/bash
# SPDX-License-Identifier: ISC
# wanem-ceiling.sh: how fast the WAN emulator forwards, and at what CPU
# cost, for doc/PERFORMANCE.md ("The WAN emulator"). Not part of check.
# Run as root, alone, under the test lock:
#
#   flock /tmp/vnet-nettest.lock env VNET_BUILD=$PWD/build \
#       bash tests/tools/wanem-ceiling.sh [SECONDS]
#
# A and B are joined twice: through the emulator (10.203.0.0/24) and by
# a plain veth pair with the same offload settings (10.204.0.0/24), the
# ceiling of this machine without it. For each profile (none, 20 ms one
# way) it runs iperf3 TCP A->B and UDP A->B (1472-byte datagrams offered
# at 1 Gbit/s), and prints the rates with wanem's own counters and CPU.
. "$(dirname "$0")/../net/lib.sh"
. "$(dirname "$0")/wanem.sh"
VN_TOOLS="ip ethtool iperf3 jq awk"
vn_prereq
vn_init
VN_TAP=0
SECS=${1:-10}
WANEM_BIN="$VNET_BUILD/tests/tools/wanem"
[ -x "$WANEM_BIN" ] || bail "$WANEM_BIN not built"
NS_A="vn$$wa"; NS_W="vn$$ww"; NS_B="vn$$wb"
D=$VN_TMP

setup() {
	ns_add "$NS_A" && ns_add "$NS_B" || return 1
	wan_link "$NS_A" eth0 "$NS_W" "$NS_B" eth0 || return 1
	ip -n "$NS_A" link add eth1 type veth peer name eth1 netns "$NS_B" &&
	wan_offloads "$NS_A" eth1 tso gso gro tx-udp-segmentation &&
	wan_offloads "$NS_B" eth1 tso gso gro tx-udp-segmentation || return 1
	ip -n "$NS_A" addr add 10.203.0.1/24 dev eth0 &&
	ip -n "$NS_B" addr add 10.203.0.2/24 dev eth0 &&
	ip -n "$NS_A" addr add 10.204.0.1/24 dev eth1 &&
	ip -n "$NS_B" addr add 10.204.0.2/24 dev eth1 &&
	ip -n "$NS_A" link set eth1 up && ip -n "$NS_B" link set eth1 up
}
setup || bail "topology setup failed"
# Window room for 1 Gbit/s x 40 ms of RTT.
for ns in "$NS_A" "$NS_B"; do
	in_ns "$ns" sysctl -qw net.ipv4.tcp_rmem="4096 131072 33554432" \
	    net.ipv4.tcp_wmem="4096 131072 33554432" >/dev/null
done

ip netns exec "$NS_B" iperf3 -s -D -I "$D/iperf3.pid" >/dev/null 2>&1
wait_for 5 test -s "$D/iperf3.pid" || bail "iperf3 server did not start"
track "$(cat "$D/iperf3.pid")"

# run LABEL DEST IPERF_OPTIONS...: Mbit/s received, and UDP loss.
run() {
	local label=$1 dst=$2 j; shift 2
	j="$D/$(printf '%s' "$label" | tr -c 'A-Za-z0-9' _).json"
	ip netns exec "$NS_A" iperf3 -c "$dst" -t "$SECS" -J "$@" >"$j" 2>"$j.err"
	jq -r --arg l "$label" '
	    if .error then "\($l): iperf3 failed: \(.error)" else
	    .end.sum_received as $r
	    | "\($l): \($r.bits_per_second / 1e6 | floor) Mbit/s received"
	      + (if $r.lost_percent then
	         ", lost \($r.lost_percent * 100 | floor / 100) %" else "" end)
	    end' "$j" 2>/dev/null || { echo "$label: no JSON from iperf3"; tail -n 3 "$j.err"; }
}

# udp_rcvbuf_errors: B's count of datagrams its sockets had no room for.
udp_rcvbuf_errors() {
	in_ns "$NS_B" awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6 }' /proc/net/snmp
}

# through LABEL IPERF_OPTIONS... -- WANEM_OPTIONS...: one run through a
# fresh emulator, then its counters.
through() {
	local label=$1 io=() wo=() log e0 e1; shift
	log="$D/wanem-$(printf '%s' "$label" | tr -c 'A-Za-z0-9' _).log"
	while [ $# -gt 0 ] && [ "$1" != -- ]; do io+=("$1"); shift; done
	[ "$1" = -- ] && shift
	wo=("$@")
	wanem_start "$NS_W" "$log" "${wo[@]}" || bail "wanem did not start: $(cat "$log")"
	e0=$(udp_rcvbuf_errors)
	run "$label" 10.203.0.2 "${io[@]}"
	e1=$(udp_rcvbuf_errors)
	wanem_stop
	[ "$e1" != "$e0" ] && echo "    B's UDP socket dropped $((e1 - e0)) datagrams (RcvbufErrors)"
	awk '$2 == "dir=ab" {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "    wanem ab: rx=%s tx=%s drop_queue=%s drop_send=%s " \
		    "drop_kernel=%s drop_full=%s cpu_pct=%s cpu_s_per_gbit=%s\n",
		    v["rx"], v["tx"], v["drop_queue"], v["drop_send"],
		    v["drop_kernel"], v["drop_full"], v["cpu_pct"], v["cpu_s_per_gbit"] }' "$log"
}

echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg), ${SECS} s per run"
run "direct TCP" 10.204.0.2
run "direct UDP" 10.204.0.2 -u -b 1G -l 1472 -w 8M
through "wanem TCP, no profile"
through "wanem UDP, no profile" -u -b 1G -l 1472 -w 8M
through "wanem TCP, 20 ms each way" -- --delay 20
through "wanem UDP, 20 ms each way" -u -b 1G -l 1472 -w 8M -- --delay 20
through "wanem TCP, 20 ms, 500 Mbit/s" -- --delay 20 --rate 500M
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

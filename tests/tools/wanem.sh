# SPDX-License-Identifier: ISC
# tests/tools/wanem.sh: the WAN emulator (tests/tools/wanem.c) between two
# network namespaces, for the network-namespace tests and the benchmark.
#
# Sourced (bash) after tests/net/lib.sh, whose ns_add, veth, in_ns,
# track, wait_for and stop_pid it uses. Like lib.sh's functions, those
# that start a process must run in the test's own shell.
#
#   wan_link NS_A DEV_A NS_W NS_B DEV_B
#       a new namespace NS_W with interfaces wa and wb; NS_A's DEV_A is
#       wired to wa and NS_B's DEV_B to wb (veth pairs made inside the
#       namespaces); all four ends up, offloads set for the emulator
#   wanem_start NS_W LOG [OPTION...]   wanem on wa/wb; WANEM_PID
#   wanem_report LOG                   SIGUSR1, waits for the two lines
#   wanem_stop                         SIGTERM, waits for the exit report;
#                                      its status (also in WANEM_RCS)
#   wanem_get LOG DIR KEY              KEY from DIR's (ab|ba) last report
#   wanem_balance LOG DIR              prints a complaint when rx is not
#                                      tx + every drop + queued
#
# Offloads: a WAN carries wire-size packets and loses them one by one,
# so wanem refuses GSO super-frames (counted as drop_gso). TSO, GSO and
# UDP segmentation are turned off on the two senders' ends, and GRO on
# the emulator's, so that none is built. Checksum offload stays on:
# wanem carries the "checksum still to do" mark across (PACKET_VNET_HDR).

WANEM_PID=""
WANEM_BIN=""

# wan_offloads NS DEV FEATURE...: each FEATURE off, then verified off.
wan_offloads() {
	local ns=$1 dev=$2 f k bad=0; shift 2
	for f in "$@"; do
		in_ns "$ns" ethtool -K "$dev" "$f" off >/dev/null 2>&1
	done
	k=$(in_ns "$ns" ethtool -k "$dev" 2>&1)
	for f in tcp-segmentation-offload generic-segmentation-offload \
	    generic-receive-offload tx-udp-segmentation; do
		printf '%s\n' "$k" | grep -q "^$f: off" && continue
		echo "$ns/$dev: $(printf '%s\n' "$k" | grep "^$f:")"
		bad=1
	done
	return $bad
}

wan_link() {
	local nsa=$1 deva=$2 nsw=$3 nsb=$4 devb=$5
	ns_add "$nsw" || return 1
	in_ns "$nsw" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1 >/dev/null || return 1
	ip -n "$nsa" link add "$deva" type veth peer name wa netns "$nsw" &&
	ip -n "$nsb" link add "$devb" type veth peer name wb netns "$nsw" ||
		return 1
	wan_offloads "$nsa" "$deva" tso gso gro tx-udp-segmentation &&
	wan_offloads "$nsb" "$devb" tso gso gro tx-udp-segmentation &&
	wan_offloads "$nsw" wa tso gso gro tx-udp-segmentation &&
	wan_offloads "$nsw" wb tso gso gro tx-udp-segmentation || return 1
	ip -n "$nsw" link set wa up && ip -n "$nsw" link set wb up &&
	ip -n "$nsa" link set "$deva" up && ip -n "$nsb" link set "$devb" up
}

wanem_start() {
	local nsw=$1 log=$2; shift 2
	: "${WANEM_BIN:=$VNET_BUILD/tests/tools/wanem}"
	ip netns exec "$nsw" "$WANEM_BIN" "$@" wa wb >"$log" 2>&1 &
	WANEM_PID=$!
	track "$WANEM_PID"
	wait_for 5 grep -q '^wanem: ready' "$log"
}

# wanem_lines LOG: how many report lines LOG holds.
wanem_lines() {
	grep -c '^wanem: dir=' "$1"
}

wanem_report() {
	local log=$1 n
	n=$(wanem_lines "$log")
	kill_tracked USR1 "$WANEM_PID" || return 1
	wait_for 5 eval "[ \$(wanem_lines '$log') -ge $((n + 2)) ]"
}

# wanem_stop: also appends wanem's exit status to WANEM_RCS, so that a
# test can see it ended cleanly (0) every time, sanitizers included.
WANEM_RCS=()
wanem_stop() {
	local rc
	[ -n "$WANEM_PID" ] || return 0
	stop_pid "$WANEM_PID" 5
	wait "$WANEM_PID" 2>/dev/null
	rc=$?
	WANEM_RCS+=("$rc")
	WANEM_PID=""
	return "$rc"
}

wanem_get() {
	awk -v d="$2" -v k="$3" '$1 == "wanem:" && $2 == "dir=" d {
		for (i = 3; i <= NF; i++)
			if (index($i, k "=") == 1) v = substr($i, length(k) + 2)
	} END { print v }' "$1"
}

wanem_balance() {
	local log=$1 dir=$2 k v sum=0 rx
	rx=$(wanem_get "$log" "$dir" rx)
	for k in tx drop_loss drop_queue drop_full drop_gso drop_trunc \
	    drop_send queued; do
		v=$(wanem_get "$log" "$dir" "$k")
		case "$v" in
		''|*[!0-9]*) echo "dir=$dir: no $k in $log"; return 1 ;;
		esac
		sum=$((sum + v))
	done
	[ "$rx" = "$sum" ] && return 0
	echo "dir=$dir: rx=$rx but tx + drops + queued = $sum"
	return 1
}

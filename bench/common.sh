# SPDX-License-Identifier: ISC
# bench/common.sh: shared code for bench/bench.sh and bench/profile.sh.
#
# Sourced (bash only). It sources tests/net/lib.sh for the namespaces,
# topology, offload handling, vnet PKI/configs, daemon control, process
# tracking and the cleanup trap, tests/net/multihost.sh for the WAN
# switch, the extra host namespaces, leaf certificates and host/proxy
# configs of vnet-scale, and tests/tools/wanem.sh for the WAN emulator,
# and adds what the benchmark needs:
#   prerequisites   bench_prereq
#   profiles        wan_profile_opts, wan_profile_text
#   topology        bench_topo_up, bench_topo_down (a fresh topology for
#                   every configuration, with the emulator on the WAN
#                   veth for a WAN profile)
#   configurations  setup_direct, setup_vnet [udp|tcp], setup_vnet_scale,
#                   setup_openvpn udp|tcp
#   measurements    m_ping, m_ping_load, m_tcp, m_udp64, cpu_ticks,
#                   bench_links, bench_transport, wanem_snap
#
# Nothing here prints TAP. Every wait is bounded; every process started
# is recorded (lib.sh "track") and killed by PID on exit, Ctrl-C included.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VN_ROOT=$(cd "$BENCH_DIR/.." && pwd)
. "$VN_ROOT/tests/net/lib.sh"
. "$VN_ROOT/tests/net/multihost.sh"
. "$VN_ROOT/tests/tools/wanem.sh"
VN_TAP=0

# lib.sh's bail prints TAP; a benchmark just stops.
bail() {
	echo "bench: $*" >&2
	exit 1
}

say() { printf '%s\n' "$*" >&2; }

VM_IP=10.202.0.99	# static: the benchmark needs no DHCP
OVPN_PORT=1194
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- prerequisites

BENCH_TOOLS="ip ping ethtool openssl pgrep timeout ss awk perl iperf3 openvpn"

bench_prereq() {
	local t missing=""
	[ "$(id -u)" = 0 ] || bail "must run as root (network namespaces, raw sockets)"
	export PATH="$PATH:/usr/sbin:/sbin"
	for t in $BENCH_TOOLS "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	perl -MJSON::PP -e 1 2>/dev/null || missing="$missing perl-JSON::PP"
	[ -z "$missing" ] || bail "missing tools:$missing (run: sh scripts/deps.sh iperf3 openvpn; make bench does)"
	case "$(openvpn --version 2>/dev/null | head -n 1)" in
	"OpenVPN 2.6."*) ;;
	*) bail "OpenVPN 2.6 expected, found: $(openvpn --version 2>/dev/null | head -n 1)" ;;
	esac
	vn_host_prepare
	: "${VNET_BUILD:=$VN_ROOT/build}"
	export VNET_BUILD
	for t in vnetd vnet-capture vnet-crypt vnet-inject; do
		[ -x "$VNET_BUILD/$t" ] || missing="$missing $t"
	done
	[ -z "$missing" ] || bail "not built in VNET_BUILD=$VNET_BUILD:$missing (run make)"
	export VNET_LIBEXECDIR="$VNET_BUILD"
}

# bench_snapshot_build: copy the four executables into the temp dir and
# run them from there, so a rebuild in the tree during a long run cannot
# mix two builds. BENCH_BUILD_ID describes what was copied (the four
# daemon executables). vnetctl is copied too when the build has it (the
# vnet configurations ask the proxy how many links are up; vnet-scale
# needs it). So is the WAN emulator (tests/tools/wanem) when it is built:
# WANEM_BIN names the copy, empty without one (the WAN profiles need it).
bench_snapshot_build() {
	local t d="$VN_TMP/build"
	mkdir -p "$d" || bail "cannot create $d"
	for t in vnetd vnet-capture vnet-crypt vnet-inject; do
		cp -p "$VNET_BUILD/$t" "$d/$t" || bail "cannot copy $VNET_BUILD/$t"
	done
	if [ -x "$VNET_BUILD/vnetctl" ]; then
		cp -p "$VNET_BUILD/vnetctl" "$d/vnetctl" || bail "cannot copy $VNET_BUILD/vnetctl"
	fi
	WANEM_BIN=""
	if [ -x "$VNET_BUILD/tests/tools/wanem" ]; then
		cp -p "$VNET_BUILD/tests/tools/wanem" "$d/wanem" || bail "cannot copy $VNET_BUILD/tests/tools/wanem"
		WANEM_BIN=$d/wanem
	fi
	BENCH_BUILD_ID="$(git -C "$VN_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
	BENCH_BUILD_ID="$BENCH_BUILD_ID build-sha256:$(cat "$d/vnetd" "$d/vnet-capture" "$d/vnet-crypt" "$d/vnet-inject" | sha256sum | cut -c1-12)"
	BENCH_BUILD_FROM=$VNET_BUILD
	VNET_BUILD=$d
	export VNET_BUILD VNET_LIBEXECDIR="$d"
}

# ---------------------------------------------------------------- processes

# bg_run SECS OUT CMD...: run CMD under timeout in the background with
# stdout+stderr to OUT, tracked, and wait for it. Waiting with the "wait"
# builtin lets Ctrl-C reach the cleanup trap at once. Returns CMD's status.
bg_run() {
	local secs=$1 out=$2 pid st; shift 2
	timeout -k 2 "$secs" "$@" </dev/null >"$out" 2>&1 &
	pid=$!
	track "$pid"
	wait "$pid"
	st=$?
	return $st
}

# bg_start VAR OUT CMD...: start CMD in the background (tracked), its PID
# in VAR and in BENCH_CFG_PIDS (stopped by bench_topo_down).
BENCH_CFG_PIDS=()
bg_start() {
	local var=$1 out=$2 pid; shift 2
	"$@" </dev/null >"$out" 2>&1 &
	pid=$!
	track "$pid"
	BENCH_CFG_PIDS+=("$pid")
	printf -v "$var" '%s' "$pid"
}

# ---------------------------------------------------------------- profiles

# A profile is the WAN between the VM's host and the home proxy: "lan",
# today's zero-delay veth, or a WAN profile, where the emulator joins the
# two. The WAN profiles are issue 15's: 40 ms of RTT, split 20 ms each
# way, 500 Mbit/s each way, and random loss in each direction.
BENCH_PROFILES_ALL="lan wan0 wan0.5 wan2"
WAN_DELAY_MS=20
WAN_RATE=500M

# wan_loss PROFILE: its loss in % each way; fails for lan or an unknown
# name.
wan_loss() {
	case $1 in
	wan0) echo 0 ;;
	wan0.5) echo 0.5 ;;
	wan2) echo 2 ;;
	*) return 1 ;;
	esac
}

# wan_profile_opts PROFILE: wanem's options for it (both directions).
wan_profile_opts() {
	local l
	l=$(wan_loss "$1") || return 1
	echo "--delay $WAN_DELAY_MS --rate $WAN_RATE --loss $l"
}

# wan_profile_text PROFILE: one line saying what it is.
wan_profile_text() {
	local l
	if l=$(wan_loss "$1"); then
		echo "$1: wanem, ${WAN_DELAY_MS} ms each way ($((2 * WAN_DELAY_MS)) ms RTT), $WAN_RATE""bit/s each way, $l % loss each way"
	else
		echo "$1: no emulator, the WAN is a bare veth (zero delay, no loss, no rate limit)"
	fi
}

# ---------------------------------------------------------------- topology

NS_EM="vn$$e"	# the emulator's namespace (WAN profiles)
BENCH_WAN=""	# the WAN profile of the current topology, empty for lan

# bench_topo_up OFFLOAD [PROFILE]: lib.sh's topology (VM, HOST, PROXY,
# LAN, CLIENT, DHCP namespaces) with offloads on or off; the VM gets VM_IP
# statically. A WAN PROFILE puts the emulator on the host-proxy WAN.
bench_topo_up() {
	local prof=${2:-lan}
	VNET_OFFLOAD=$1
	VN_NETNS=(); VN_DEVS=(); BENCH_CFG_PIDS=(); BENCH_XHOSTS=()
	BENCH_LINKS=""; BENCH_MACS=""; CPU_SIDE_FN=cpu_pids_none
	BENCH_WAN=""; WANEM_PID=""
	topo_up >"$VN_TMP/topo.out" 2>&1 || { cat "$VN_TMP/topo.out" >&2; return 1; }
	ip -n "$NS_VM" addr add "$VM_IP/24" dev eth0 || return 1
	[ "$prof" = lan ] && return 0
	wan_loss "$prof" >/dev/null || { say "unknown profile '$prof'"; return 1; }
	bench_wan_up "$prof" >"$VN_TMP/wan.out" 2>&1 || { cat "$VN_TMP/wan.out" >&2; return 1; }
	BENCH_WAN=$prof
}

# bench_wan_up PROFILE: the host-proxy veth (wan0 - wan0) replaced by
# tests/tools/wanem.sh's wan_link: HOST wan0 - wa [NS_EM: wanem] wb -
# PROXY wan0, same names and addresses, so every configuration's WAN
# traffic crosses the emulator. wan_link turns TSO/GSO/GRO off on the
# four ends (a WAN carries wire-size packets); offloads "off" turns the
# rest off too, as on every other device.
bench_wan_up() {
	local log="$VN_TMP/wanem-$1.log"
	[ -n "$WANEM_BIN" ] || { echo "no WAN emulator in the build"; return 1; }
	ip -n "$NS_HOST" link del wan0 &&
	wan_link "$NS_HOST" wan0 "$NS_EM" "$NS_PROXY" wan0 || return 1
	VN_DEVS+=("$NS_EM:wa" "$NS_EM:wb")
	ip -n "$NS_HOST" addr add "$HOST_WAN/24" dev wan0 &&
	ip -n "$NS_PROXY" addr add "$PROXY_WAN/24" dev wan0 || return 1
	offload_apply
	offload_verify || return 1
	rm -f "$log"
	# shellcheck disable=SC2046	# the options are words
	wanem_start "$NS_EM" "$log" $(wan_profile_opts "$1") ||
		{ echo "wanem did not start:"; cat "$log"; return 1; }
	BENCH_WANEM_LOG=$log
	grep '^wanem: profile' "$log"
}

# bench_topo_down: stop this configuration's processes (vnetd pairs with
# their workers, vnet-scale's extra hosts, openvpn, iperf3), then delete
# its namespaces. The extra hosts get their SIGTERM together (each
# vnetd_stop then waits for one), hosts before the proxy.
bench_topo_down() {
	local pid n ns pids w ws="" rc
	for n in "${BENCH_XHOSTS[@]}"; do
		pid=${VNETD_PID[$n]}
		[ -n "$pid" ] && alive "$pid" || continue
		for w in $(pgrep -P "$pid" 2>/dev/null); do track "$w"; ws="$ws $w"; done
		kill_tracked TERM "$pid"
	done
	for n in host "${BENCH_XHOSTS[@]}" proxy; do
		pid=${VNETD_PID[$n]}
		[ -n "$pid" ] && alive "$pid" && vnetd_stop "$n" 10 >/dev/null
		VNETD_PID[$n]=""
	done
	for w in $ws; do
		wait_for 3 eval "! alive $w" || kill_tracked KILL "$w"
	done
	BENCH_XHOSTS=()
	for pid in "${BENCH_CFG_PIDS[@]}"; do stop_pid "$pid" 3; done
	for pid in "${BENCH_CFG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	BENCH_CFG_PIDS=()
	if [ -n "$WANEM_PID" ]; then
		wanem_stop; rc=$?
		[ "$rc" = 0 ] || say "bench: wanem exited with status $rc: $(tail -n 3 "$BENCH_WANEM_LOG")"
	fi
	for ns in "${VN_NETNS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && say "bench: killing leftover processes in $ns: $pids" && kill -KILL $pids 2>/dev/null
	done
	for ns in "${VN_NETNS[@]}"; do
		[ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && sleep 0.2
		ip netns del "$ns" 2>/dev/null
	done
	VN_NETNS=(); VN_DEVS=()
}

# ---------------------------------------------------------------- configurations

# Each setup_* prints a reason and fails if the configuration cannot run.
# CPU_PIDS_FN names a function printing the PIDs whose CPU time counts.

# direct: no tunnel. On the lan profile the VM's veth (vm0) is moved from
# the host bridge into the home LAN bridge: VM eth0 - vm0 [brlan] - c0 -
# CLIENT eth0. On a WAN profile (setup_direct_wan) the VM's frames cross
# the emulator instead.
setup_direct() {
	[ -n "$BENCH_WAN" ] && { setup_direct_wan; return; }
	ip -n "$NS_HOST" link set vm0 nomaster &&
	ip -n "$NS_HOST" link set vm0 netns "$NS_LAN" &&
	ip -n "$NS_LAN" link set vm0 master brlan &&
	ip -n "$NS_LAN" link set vm0 up || { say "cannot move vm0 into brlan"; return 1; }
	local i
	for i in "${!VN_DEVS[@]}"; do
		[ "${VN_DEVS[$i]}" = "$NS_HOST:vm0" ] && VN_DEVS[$i]="$NS_LAN:vm0"
	done
	offload_apply
	offload_verify >&2 || return 1
	CPU_PIDS_FN=cpu_pids_none
}
cpu_pids_none() { :; }

# direct over the WAN: the host and the proxy become plain bridges, so the
# VM's frames take the tunnels' path through the same emulator, with
# nothing in between: VM eth0 - vm0 [brvm] wan0 - wanem - wan0 [brp]
# lan0 - p0 [brlan] - c0 - CLIENT. The VM keeps its offloads (TSO on
# with offloads on); the kernel segments its super-frames at wan0, which
# has TSO/GSO off, as a host's NIC puts wire-size packets on a real WAN.
setup_direct_wan() {
	ip -n "$NS_HOST" addr flush dev wan0 &&
	ip -n "$NS_HOST" link set wan0 master brvm &&
	ip -n "$NS_PROXY" addr flush dev wan0 &&
	bridge_add "$NS_PROXY" brp &&
	ip -n "$NS_PROXY" link set wan0 master brp &&
	ip -n "$NS_PROXY" link set lan0 master brp &&
	ip -n "$NS_PROXY" link set brp up || { say "cannot bridge the VM onto the WAN"; return 1; }
	offload_apply
	offload_verify >&2 || return 1
	CPU_PIDS_FN=cpu_pids_none
}

# vnet [TRANSPORT]: the real vnetd pair from $VNET_BUILD, as in
# tests/net/20-bridge.t. The proxy runs lib.sh's vn_proxy_conf (kept as
# proxy-tls.conf): one host block, vmhost1, with the VM's MAC. The host
# runs lib.sh's vn_host_conf (kept as host-base.conf) plus "transport
# TRANSPORT" (udp or tcp; none: the default, auto), since the host
# decides a link's transport. BENCH_LINKS: the links the proxy reports
# up once the pair is linked; BENCH_MACS: the MACs its configuration
# authorizes.
BENCH_PKI=""
setup_vnet() {
	bench_vnet_pki && bench_host_conf "${1:-}" || return 1
	bench_start_pair "$VN_TMP/proxy-tls.conf" || return 1
	[ "$BENCH_MACS" = 1 ] ||
		say "   note: the vnet proxy configuration authorizes $BENCH_MACS MACs, not 1"
	if [ -x "$VNET_BUILD/vnetctl" ]; then
		bench_links_wait 1 || return 1
	else
		say "   no vnetctl in the build: the proxy's links are not counted"
	fi
	CPU_PIDS_FN=cpu_pids_vnet
}
# vnetd_tree_pids NAME...: each running vnetd's PID and its workers'.
vnetd_tree_pids() {
	local n p
	for n in "$@"; do
		p=${VNETD_PID[$n]}
		[ -n "$p" ] || continue
		echo "$p"
		pgrep -P "$p" 2>/dev/null
	done
}
cpu_pids_vnet() { vnetd_tree_pids host proxy; }

# bench_vnet_pki: lib.sh's certificates and configs, once per run.
bench_vnet_pki() {
	[ -n "$BENCH_PKI" ] && return 0
	vn_setup_pki >"$VN_TMP/pki.out" 2>&1 || { cat "$VN_TMP/pki.out" >&2; return 1; }
	cp "$VN_TMP/proxy.conf" "$VN_TMP/proxy-tls.conf" &&
	cp "$VN_TMP/host.conf" "$VN_TMP/host-base.conf" || return 1
	BENCH_PKI=1
}

# bench_host_conf [TRANSPORT]: host.conf (what start_pair runs) is
# host-base.conf, with "transport TRANSPORT" when one is given; vnetd -n
# must accept it.
bench_host_conf() {
	local f="$VN_TMP/host.conf" out
	cp "$VN_TMP/host-base.conf" "$f" || return 1
	[ -n "$1" ] && echo "transport $1" >>"$f"
	if ! out=$("$VNET_BUILD/vnetd" -n -f "$f" 2>&1); then
		say "vnetd -n rejects the host configuration with transport '${1:-}': $out"
		return 1
	fi
}

# bench_start_pair CONF: lib.sh's start_pair (proxy, then host, both
# logging event=link_up) with CONF as the proxy's proxy.conf.
bench_start_pair() {
	cp "$1" "$VN_TMP/proxy.conf" || return 1
	BENCH_MACS=$(conf_macs "$VN_TMP/proxy.conf")
	# Fresh logs for each configuration (lib.sh appends).
	rm -f "$VN_TMP/host.log" "$VN_TMP/proxy.log"
	if ! start_pair 20; then
		say "vnetd pair did not link up:"
		tail -n 15 "$VN_TMP/proxy.log" "$VN_TMP/host.log" >&2
		return 1
	fi
	vnetd_workers_tracked host
	vnetd_workers_tracked proxy
}

# conf_macs FILE: how many distinct MACs a proxy configuration authorizes
# (its "mac" lines); conf_blocks FILE: how many host blocks it has.
conf_macs() {
	awk '$1 == "mac" && !seen[tolower($2)]++ { n++ } END { print n + 0 }' "$1"
}
conf_blocks() {
	awk '$1 == "host" { n++ } END { print n + 0 }' "$1"
}

# bench_links: the number of links the proxy reports up ("total" of
# vnetctl -j links on the control socket of proxy.conf); fails without
# an answer.
bench_links() {
	local out
	out=$(bench_proxy_ctl -j links 2>&1) || return 1
	out=$(printf '%s\n' "$out" | sed -n 's/^{"total":\([0-9][0-9]*\)[,}].*/\1/p')
	[ -n "$out" ] && echo "$out"
}

# bench_links_wait N: wait (15 s at most) until the proxy reports N links
# up; BENCH_LINKS = what it reports. Otherwise says what is up, and fails.
bench_links_wait() {
	local want=$1
	wait_for 15 eval '[ "$(bench_links)" = '"$want"' ]'
	BENCH_LINKS=$(bench_links)
	[ "$BENCH_LINKS" = "$want" ] && return 0
	if [ -n "$BENCH_LINKS" ]; then
		say "the proxy reports $BENCH_LINKS links up, expected $want:"
	else
		say "the proxy does not answer 'vnetctl -j links' on its control socket (expected $want links up):"
	fi
	bench_proxy_ctl links >&2
	return 1
}

# bench_proxy_ctl ARGS...: vnetctl on the running proxy's control socket.
bench_proxy_ctl() {
	local sock
	sock=$(conf_control "$VN_TMP/proxy.conf")
	timeout 5 "$VNET_BUILD/vnetctl" -s "${sock:-/run/vnetd/vnetd.sock}" "$@"
}

# vnet-scale: vnet-tcp's pair (same build, VM, client, host config with
# "transport tcp", and topology), but
#  - the proxy's configuration authorizes SCALE_MACS MACs in SCALE_LINKS
#    host blocks: vnet-tcp's vmhost1 block with its share of generated
#    MACs listed before the VM's, and SCALE_LINKS - 1 blocks benchhost<X>;
#  - SCALE_LINKS - 1 more real host vnetd (xh<X>, CN benchhost<X>, their
#    block's MACs as "vm" lines, capturing on an empty brvm: idle) are
#    linked to it, each in its own namespace (multihost.sh's mh_host_add,
#    vn<PID>h<X>, 10.201.0.<10+X>) on a WAN switch (vn<PID>w) that the
#    proxy reaches by a second veth, wan1, with a /32 route per host.
#    The VM's host keeps its own veth to the proxy's wan0, as in vnet-tcp.
# It fails unless the proxy reports exactly SCALE_LINKS links up. The
# extra hosts' CPU time is reported apart (CPU_SIDE_FN), not counted in
# cpu_s_per_gb, which stays the VM's host and the proxy as in vnet-tcp.
SCALE_MACS=1000
SCALE_LINKS=16
# The VM's host runs vnet-tcp's transport: the target compares the two.
SCALE_TRANSPORT=tcp
BENCH_XHOSTS=()		# vnetd names of the running extra hosts
BENCH_SCALE_PKI=""
setup_vnet_scale() {
	local x
	[ -x "$VNET_BUILD/vnetctl" ] ||
		{ say "vnet-scale needs vnetctl in the build ($BENCH_BUILD_FROM) to count the proxy's links"; return 1; }
	bench_vnet_pki && bench_host_conf "$SCALE_TRANSPORT" && bench_scale_pki || return 1
	bench_scale_topo >"$VN_TMP/scale-topo.out" 2>&1 ||
		{ say "cannot attach the extra hosts to the WAN:"; cat "$VN_TMP/scale-topo.out" >&2; return 1; }
	bench_start_pair "$VN_TMP/proxy-scale.conf" || return 1
	for ((x = 1; x < SCALE_LINKS; x++)); do
		rm -f "$VN_TMP/xh$x.log"
		vnetd_start "xh$x" "${MH_HOST_NS[$x]}" "$VN_TMP/xh$x.conf"
		BENCH_XHOSTS+=("xh$x")
	done
	if ! bench_links_wait "$SCALE_LINKS"; then
		for x in "${BENCH_XHOSTS[@]}"; do
			alive "${VNETD_PID[$x]}" || { say "vnetd $x exited:"; tail -n 5 "$VN_TMP/$x.log" >&2; continue; }
			log_has "$VN_TMP/$x.log" 0 event=link_up ||
				{ say "vnetd $x logged no event=link_up:"; tail -n 5 "$VN_TMP/$x.log" >&2; }
		done
		say "vnet-scale needs $SCALE_LINKS links up at the proxy"
		return 1
	fi
	for x in "${BENCH_XHOSTS[@]}"; do vnetd_workers_tracked "$x"; done
	say "   proxy: $BENCH_MACS MACs authorized in $(conf_blocks "$VN_TMP/proxy.conf") host blocks, $BENCH_LINKS links up"
	log_has "$VN_TMP/proxy.log" 0 event=filter_widened &&
		say "   proxy: capture's kernel filter was widened (too many MACs), it filters in user space"
	CPU_PIDS_FN=cpu_pids_vnet
	CPU_SIDE_FN=cpu_pids_xhosts
}
cpu_pids_xhosts() { vnetd_tree_pids "${BENCH_XHOSTS[@]}"; }

# bench_scale_pki: once per run, the extra hosts' certificates and
# configs and the proxy's proxy-scale.conf; checks its MAC and block
# counts and that vnetd accepts it (vnetd -n).
bench_scale_pki() {
	local f="$VN_TMP/proxy-scale.conf" k x m n b out
	local -a macs
	[ -n "$BENCH_SCALE_PKI" ] && return 0
	# MAC k (0 .. SCALE_MACS-1) goes to block k % SCALE_LINKS; block 0 is
	# vmhost1 and MAC 0 the VM's. The others are 52:54:01:00:xx:xx:
	# unicast, locally administered, never one of lib.sh's 52:54:00:...
	for ((k = 1; k < SCALE_MACS; k++)); do
		printf -v m '52:54:01:00:%02x:%02x' $((k >> 8)) $((k & 255))
		macs[k % SCALE_LINKS]+=" $m"
	done
	awk -v vm="$VM_MAC" -v extra="${macs[0]}" '
	$1 == "mac" && tolower($2) == tolower(vm) && !done {
		n = split(extra, e, " ")
		for (i = 1; i <= n; i++) print "    mac " e[i]
		done = 1
	}
	{ print }
	END { exit !done }' "$VN_TMP/proxy-tls.conf" >"$f" ||
		{ say "no 'mac $VM_MAC' line in the vnet proxy configuration"; return 1; }
	for ((x = 1; x < SCALE_LINKS; x++)); do
		mh_leaf "$VN_TMP" "xh$x" "benchhost$x" >>"$VN_TMP/pki.out" 2>&1 ||
			{ say "certificate for benchhost$x failed:"; tail -n 5 "$VN_TMP/pki.out" >&2; return 1; }
		mh_proxy_block "$f" "benchhost$x" "benchhost$x" ${macs[x]}
		mh_host_conf "$VN_TMP/xh$x.conf" "xh$x" ${macs[x]}
	done
	n=$(conf_macs "$f"); b=$(conf_blocks "$f")
	if [ "$n" != "$SCALE_MACS" ] || [ "$b" != "$SCALE_LINKS" ]; then
		say "proxy-scale.conf authorizes $n MACs in $b host blocks, expected $SCALE_MACS in $SCALE_LINKS"
		return 1
	fi
	if ! out=$("$VNET_BUILD/vnetd" -n -f "$f" 2>&1); then
		say "vnetd -n rejects proxy-scale.conf: $out"
		return 1
	fi
	BENCH_SCALE_PKI=1
}

# bench_scale_topo: on top of bench_topo_up's topology, the WAN switch
# and the extra host namespaces (multihost.sh), all up, offloads applied
# and verified. The extra hosts are on 10.201.0.0/24 like the VM's host
# (mh_host_add), so the proxy routes each one's /32 to wan1 (wan1 has no
# address; the proxy answers ARP for PROXY_WAN there, arp_ignore=0).
bench_scale_topo() {
	local x
	ns_add "$NS_WAN" && no_ipv6 "$NS_WAN" && bridge_add "$NS_WAN" brwan &&
	veth "$NS_PROXY" wan1 "$NS_WAN" p0 &&
	ip -n "$NS_WAN" link set p0 master brwan || return 1
	for ((x = 1; x < SCALE_LINKS; x++)); do
		mh_host_add "$x" $((10 + x)) || return 1
	done
	mh_topo_finish && offload_verify || return 1
	for ((x = 1; x < SCALE_LINKS; x++)); do
		ip -n "$NS_PROXY" route add "${MH_HOST_IP[$x]}/32" dev wan1 || return 1
	done
}

# ovpn_certs DIR: a CA, a server and a client certificate (EC P-256) for
# OpenVPN, generated for this run.
ovpn_certs() {
	local d=$1 old_umask st
	old_umask=$(umask)
	umask 077
	mkdir -p "$d"
	(
	set -e
	cd "$d"
	mkkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
	mkkey ca.key
	openssl req -x509 -new -sha256 -days 2 -key ca.key -subj "/CN=vnet bench OpenVPN CA $$" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt 2>/dev/null
	for n in server client; do
		mkkey "$n.key"
		openssl req -new -sha256 -key "$n.key" -subj "/CN=ovpn-$n" -out "$n.csr" 2>/dev/null
		if [ "$n" = server ]; then eku=serverAuth; else eku=clientAuth; fi
		printf '%s\n' "basicConstraints=critical,CA:FALSE" \
		    "keyUsage=critical,digitalSignature" \
		    "extendedKeyUsage=$eku" >"$n.ext"
		openssl x509 -req -sha256 -days 2 -in "$n.csr" -CA ca.crt -CAkey ca.key \
		    -set_serial "0x$(openssl rand -hex 8)" -extfile "$n.ext" -out "$n.crt" 2>/dev/null
		rm -f "$n.csr" "$n.ext"
	done
	openssl verify -CAfile ca.crt server.crt client.crt >/dev/null
	)
	st=$?
	umask "$old_umask"
	return $st
}

# openvpn PROTO (udp|tcp): OpenVPN 2.6 in TAP mode, TLS with the run's
# certificates (ECDHE, --dh none), data channel AES-256-GCM, over the WAN
# veth (server in PROXY, client in HOST, as vnetd). The server's tap is
# moved into the home LAN bridge brlan, the client's joins brvm.
OVPN_PIDS=()
setup_openvpn() {
	local proto=$1 d="$VN_TMP/ovpn" sproto cproto common nodelay=()
	if [ ! -f "$d/client.crt" ]; then
		ovpn_certs "$d" || { say "OpenVPN certificate generation failed"; return 1; }
	fi
	case $proto in
	udp) sproto=udp; cproto=udp ;;
	# vnet sets TCP_NODELAY on its link; OpenVPN gets the same.
	tcp) sproto=tcp-server; cproto=tcp-client; nodelay=(--socket-flags TCP_NODELAY) ;;
	*) say "setup_openvpn: udp or tcp"; return 1 ;;
	esac
	common=(--dev-type tap --disable-dco --verb 3 --script-security 1
	    --data-ciphers AES-256-GCM --data-ciphers-fallback AES-256-GCM
	    --ca "$d/ca.crt" --ping 2 --ping-restart 30 --connect-retry 1 1 "${nodelay[@]}")
	rm -f "$d"/*.log
	OVPN_PIDS=()
	local sp cp
	bg_start sp "$d/server.out" ip netns exec "$NS_PROXY" openvpn "${common[@]}" \
	    --dev ovpns --proto "$sproto" --local "$PROXY_WAN" --lport "$OVPN_PORT" \
	    --tls-server --dh none --cert "$d/server.crt" --key "$d/server.key" \
	    --log "$d/server.log"
	OVPN_PIDS+=("$sp")
	bg_start cp "$d/client.out" ip netns exec "$NS_HOST" openvpn "${common[@]}" \
	    --dev ovpnc --proto "$cproto" --remote "$PROXY_WAN" "$OVPN_PORT" --nobind \
	    --tls-client --remote-cert-tls server --cert "$d/client.crt" --key "$d/client.key" \
	    --log "$d/client.log"
	OVPN_PIDS+=("$cp")
	if ! wait_for 30 eval "grep -q 'Initialization Sequence Completed' '$d/server.log' &&
	    grep -q 'Initialization Sequence Completed' '$d/client.log' || ! alive $sp || ! alive $cp"; then
		:
	fi
	if ! grep -q 'Initialization Sequence Completed' "$d/server.log" ||
	    ! grep -q 'Initialization Sequence Completed' "$d/client.log"; then
		say "OpenVPN ($proto) did not come up:"
		tail -n 15 "$d/server.log" "$d/client.log" "$d/server.out" "$d/client.out" >&2 2>/dev/null
		return 1
	fi
	if ! grep -q "Data Channel: cipher 'AES-256-GCM'" "$d/client.log"; then
		say "OpenVPN ($proto) did not negotiate AES-256-GCM:"
		grep -i 'cipher' "$d/client.log" >&2
		return 1
	fi
	ip -n "$NS_PROXY" link set ovpns netns "$NS_LAN" &&
	ip -n "$NS_LAN" link set ovpns master brlan &&
	ip -n "$NS_HOST" link set ovpnc master brvm &&
	ip -n "$NS_LAN" link set ovpns up &&
	ip -n "$NS_HOST" link set ovpnc up || { say "cannot bridge the OpenVPN taps"; return 1; }
	VN_DEVS+=("$NS_LAN:ovpns" "$NS_HOST:ovpnc")
	offload_apply
	offload_verify >&2 || return 1
	CPU_PIDS_FN=cpu_pids_openvpn
}
cpu_pids_openvpn() {
	local p
	for p in "${OVPN_PIDS[@]}"; do echo "$p"; done
}

# ---------------------------------------------------------------- measurements

# bench_transport: the transport the host's link reports ("transport"
# in vnetctl -j links on the host's control socket: udp or tcp), or
# nothing when the build does not report one.
bench_transport() {
	local sock
	[ -x "$VNET_BUILD/vnetctl" ] || return 0
	sock=$(conf_control "$VN_TMP/host.conf")
	timeout 5 "$VNET_BUILD/vnetctl" -s "${sock:-/run/vnetd/vnetd.sock}" -j links 2>/dev/null |
		sed -n 's/.*"transport":"\([a-z]*\)".*/\1/p' | head -n 1
}

# wanem_snap: the emulator's counters now (wanem_report), as
# "CPU_S ELAPSED_S TX_BYTES DROP_KERNEL DROP_QUEUE DROP_LOSS", both
# directions summed; the CPU and elapsed time are the process's.
wanem_snap() {
	local log=$BENCH_WANEM_LOG d k v cpu el
	local -A sum=()
	wanem_report "$log" || return 1
	for d in ab ba; do
		for k in tx_bytes drop_kernel drop_queue drop_loss; do
			v=$(wanem_get "$log" "$d" "$k")
			sum[$k]=$(( ${sum[$k]:-0} + ${v:-0} ))
		done
	done
	cpu=$(wanem_get "$log" ab cpu_s); el=$(wanem_get "$log" ab elapsed_s)
	echo "${cpu:-NA} ${el:-NA} ${sum[tx_bytes]} ${sum[drop_kernel]} ${sum[drop_queue]} ${sum[drop_loss]}"
}

# cpu_ticks PID...: utime+stime (clock ticks, all threads) of each PID
# that still exists, as "PID:TICKS" words.
cpu_ticks() {
	local p s
	for p in "$@"; do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		s=${s##*) }
		set -- $s
		echo "$p:$(( ${12} + ${13} ))"
	done
}

# cpu_delta "BEFORE" "AFTER": CPU seconds between two cpu_ticks outputs
# (a PID missing before counts from zero; one missing after is lost and
# reported on stderr).
cpu_delta() {
	awk -v b="$1" -v a="$2" -v hz="$CLK_TCK" 'BEGIN {
		n = split(b, x, " "); for (i = 1; i <= n; i++) { split(x[i], y, ":"); B[y[1]] = y[2] }
		n = split(a, x, " "); for (i = 1; i <= n; i++) { split(x[i], y, ":"); A[y[1]] = y[2] }
		t = 0
		for (p in A) t += A[p] - ((p in B) ? B[p] : 0)
		for (p in B) if (!(p in A)) printf "bench: pid %s exited during the measurement; its CPU time is lost\n", p > "/dev/stderr"
		printf "%.3f\n", t / hz
	}'
}

# others_ticks: CPU clock ticks used so far (user + system, including
# their reaped children) by every user-space process outside this run's
# session: the machine's other load. The scheduler shares the CPUs
# between sessions (autogroups), so a nice 19 fuzzer in its own session
# still takes its fair share of them from a benchmark. Kernel threads
# (softirq work for this run's traffic included) are not counted.
others_ticks() {
	perl -e '
		my $me = (split / /, (do { local $/; open(my $f, "<", "/proc/self/stat") or exit 1; my $s = <$f>; $s =~ s/^.*\) //s; $s }))[3];
		my $t = 0;
		opendir(my $d, "/proc") or exit 1;
		for my $p (grep { /^\d+$/ } readdir($d)) {
			open(my $f, "<", "/proc/$p/stat") or next;
			my $s = <$f>; close $f;
			$s =~ s/^.*\) //s;
			my @x = split / /, $s;
			next if $x[6] & 0x00200000;		# PF_KTHREAD
			next if $x[3] == $me;			# this run (its session)
			$t += $x[11] + $x[12] + $x[13] + $x[14];
		}
		print "$t\n";'
}

# median V...: the median of numbers ("NA" ignored; NA if none).
median() {
	printf '%s\n' "$@" | awk '$1 != "NA" && $1 != "" { v[n++] = $1 }
	END {
		if (n == 0) { print "NA"; exit }
		for (i = 1; i < n; i++) for (j = i; j > 0 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
		if (n % 2) print v[int(n/2)]; else print (v[n/2-1] + v[n/2]) / 2
	}'
}

# iperf3_json FILE EXPR: fields of an iperf3 -J result (perl JSON::PP).
# EXPR: tcp -> "bits_per_second bytes" of the receiver;
#       udp -> "packets lost_packets seconds lost_percent" (receiver side).
iperf3_json() {
	perl -MJSON::PP -e '
		local $/; open(my $f, "<", $ARGV[0]) or exit 1; my $t = <$f>;
		$t =~ s/^[^{]*//s;	# anything timeout/ip printed before the JSON
		my $j = eval { JSON::PP->new->decode($t) } or exit 1;
		exit 1 if $j->{error};
		my $e = $j->{end};
		if ($ARGV[1] eq "tcp") {
			my $s = $e->{sum_received} or exit 1;
			printf "%.0f %.0f\n", $s->{bits_per_second}, $s->{bytes};
		} else {
			my $s = $e->{sum_received} || $e->{sum} or exit 1;
			printf "%d %d %.3f %.3f\n", $s->{packets}, $s->{lost_packets}, $s->{seconds}, $s->{lost_percent};
		}' "$1" "$2"
}

# iperf3_server: iperf3 -s in the VM (stopped with the configuration).
iperf3_server() {
	local p
	bg_start p "$VN_TMP/iperf3-server.log" ip netns exec "$NS_VM" iperf3 -s -B "$VM_IP" -p 5201
	wait_for 5 eval "in_ns $NS_VM ss -Hltn 'sport = :5201' | grep -q ." ||
		{ say "iperf3 server did not start"; cat "$VN_TMP/iperf3-server.log" >&2; return 1; }
}

# reach: the client reaches the VM (ARP, bridges learned), bounded.
reach() {
	wait_for 15 in_ns "$NS_CLIENT" ping -n -q -c 1 -W 1 "$VM_IP" &&
	in_ns "$NS_VM" ping -n -q -c 3 -i 0.2 -W 1 "$CLIENT_IP" >/dev/null 2>&1
}

# The measurements run in the benchmark's own shell (never inside $(...))
# and leave their figures in M_* variables: a command substitution would
# hold off the Ctrl-C trap until iperf3 ends (bash drops a SIGINT that a
# foreground child survived), while the "wait" in bg_run returns at once.

# m_tcp to_vm|from_vm SECS OUT: one iperf3 TCP run CLIENT -> VM (or -R).
# M_GBPS, M_BYTES: receiver's rate and bytes.
m_tcp() {
	local dir=$1 secs=$2 out=$3 r=() bps bytes
	M_GBPS=NA; M_BYTES=0
	[ "$dir" = from_vm ] && r=(-R)
	bg_run $((secs + 20)) "$out" ip netns exec "$NS_CLIENT" iperf3 -c "$VM_IP" -p 5201 \
	    -t "$secs" "${r[@]}" -J --connect-timeout 3000 || return 1
	read -r bps bytes < <(iperf3_json "$out" tcp) || return 1
	[ -n "$bytes" ] || return 1
	M_GBPS=$(awk -v b="$bps" 'BEGIN { printf "%.4f\n", b / 1e9 }')
	M_BYTES=$bytes
}

# m_udp64 SECS OUT: iperf3 UDP CLIENT -> VM, 64-byte payloads, unlimited
# rate. M_PPS: packets the VM received per second; M_LOSS: loss in %.
m_udp64() {
	local secs=$1 out=$2 pk lost s lp
	M_PPS=NA; M_LOSS=NA
	bg_run $((secs + 20)) "$out" ip netns exec "$NS_CLIENT" iperf3 -c "$VM_IP" -p 5201 \
	    -u -b 0 -l 64 -t "$secs" -J --connect-timeout 3000 || return 1
	read -r pk lost s lp < <(iperf3_json "$out" udp) || return 1
	[ -n "$s" ] || return 1
	M_PPS=$(awk -v p="$pk" -v l="$lost" -v s="$s" 'BEGIN { if (s <= 0) print "NA"; else printf "%.0f\n", (p - l) / s }')
	M_LOSS=$(awk -v lp="$lp" 'BEGIN { printf "%.2f\n", lp }')
	[ "$M_PPS" != NA ]
}

# m_ping OUT: 200 pings CLIENT -> VM at 10 ms, from the individual RTTs:
# M_RTT_AVG, M_RTT_P99 (nearest rank) in ms, M_RTT_N replies. ping sends
# exactly 200 (-c without -w, which would keep sending until 200 replies
# came back) and waits 2 s at most for the last ones.
m_ping() {
	local out=$1
	M_RTT_AVG=NA; M_RTT_P99=NA; M_RTT_N=0
	bg_run 40 "$out" ip netns exec "$NS_CLIENT" ping -n -i 0.01 -c 200 -W 2 "$VM_IP"
	read -r M_RTT_AVG M_RTT_P99 M_RTT_N < <(rtt_stats "$out")
	[ "${M_RTT_N:-0}" -gt 0 ]
}

# rtt_stats PING_OUTPUT: "AVG P99 N" of the replies' RTTs in ms (P99 by
# nearest rank), "NA NA 0" without a reply. A duplicate reply (DUP!) is
# not a reply: it is left out, and counted by ping_dups.
rtt_stats() {
	grep -v 'DUP!' "$1" | sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | sort -g | awk '
	{ v[n++] = $1; s += $1 }
	END {
		if (n == 0) { print "NA NA 0"; exit }
		k = int(0.99 * n); if (k < 0.99 * n) k++	# ceil
		printf "%.3f %.3f %d\n", s / n, v[k - 1], n
	}'
}

# ping_dups PING_OUTPUT: the duplicate replies ping counted.
ping_dups() {
	sed -n 's/.* received, +\([0-9]*\) duplicates.*/\1/p' "$1" | grep . || echo 0
}

# m_ping_load SECS OUT: the head-of-line figure. The VM uploads to the
# client (iperf3 -R: one TCP stream VM -> CLIENT) for SECS seconds; from
# its 2nd second to its last, the client pings the VM every 10 ms, so
# each reply queues behind the upload on the VM -> home direction (and,
# over a TCP transport, behind its retransmissions). M_LOAD_AVG,
# M_LOAD_P99: the replies' RTTs (ms); M_LOAD_N of M_LOAD_SENT replies;
# M_LOAD_GBPS: the upload's rate meanwhile; M_LOAD_DUPS: duplicate
# replies (not counted in the others).
m_ping_load() {
	local secs=$1 out=$2 ipid n bps bytes st=0
	M_LOAD_AVG=NA; M_LOAD_P99=NA; M_LOAD_N=0; M_LOAD_GBPS=NA; M_LOAD_DUPS=0
	n=$(( (secs - 2) * 100 )); M_LOAD_SENT=$n
	timeout -k 2 $((secs + 20)) ip netns exec "$NS_CLIENT" iperf3 -c "$VM_IP" -p 5201 \
	    -t "$secs" -R -J --connect-timeout 3000 </dev/null >"$out.json" 2>&1 &
	ipid=$!
	track "$ipid"
	sleep 1
	# The pings end about 1 s before the upload; the last ones may wait
	# up to 2 s for their replies.
	bg_run $((secs + 10)) "$out" ip netns exec "$NS_CLIENT" ping -n -i 0.01 -c "$n" -W 2 "$VM_IP"
	wait "$ipid" || st=1
	read -r M_LOAD_AVG M_LOAD_P99 M_LOAD_N < <(rtt_stats "$out")
	M_LOAD_DUPS=$(ping_dups "$out")
	if read -r bps bytes < <(iperf3_json "$out.json" tcp) && [ -n "$bytes" ]; then
		M_LOAD_GBPS=$(awk -v b="$bps" 'BEGIN { printf "%.4f\n", b / 1e9 }')
	else
		st=1
	fi
	[ "$st" = 0 ] && [ "${M_LOAD_N:-0}" -gt 0 ]
}

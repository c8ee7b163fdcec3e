# SPDX-License-Identifier: ISC
# tests/net/lib.sh: shared code for vnet's network-namespace tests.
#
# Sourced (bash only) by the TAP scripts tests/net/*.t and by tests/demo.sh.
# It provides:
#   TAP        plan, ok, is, check, diag, diag_file, bail, fail_rest, tap_done
#   waiting    wait_for SECS CMD...      (0.1 s polls, always bounded)
#   cleanup    one EXIT trap: kills the processes we started (by recorded
#              PID + start time), deletes our namespaces and temp dir
#   topology   topo_up, topo_add_host2, topo_add_vm_if2, offload handling
#   certs      vn_certs (with vnet-pki: CA, proxy, host, rogue CA + host,
#              stranger host), vn_leaf (one more host certificate)
#   configs    vn_host_conf, vn_proxy_conf
#   daemons    vnetd_start, vnetd_stop, vnetd_wait, vnetd_wait_link,
#              vnetd_worker, start_pair; worker_check, workers_distinct,
#              link_identity (the *_tap variants report as TAP tests)
#   services   dhcp_start, vm_lease, xfer (TCP transfer + sha256 check),
#              ping4/ping6ll, cap_start/cap_stop/cap_count (tcpdump),
#              log_mark/log_lines/log_has/log_value (event=... logs)
#
# Functions that start processes record their PIDs in shell arrays, so
# they must run in the test's own shell, never inside $(...) or "check".
#
# Every address used lives in namespaces created here, named
# "vn<pid><role>", so concurrent runs never collide and nothing is sent
# outside them.

# ---------------------------------------------------------------- TAP

VN_T_PLAN=0		# planned tests
VN_T_N=0		# tests run so far
VN_T_FAIL=0		# failed tests
VN_TAP=1		# 0 in the demo: ok/diag print human text instead

plan() {
	VN_T_PLAN=$1
	echo "1..$1"
}

# diag MSG...: each line of MSG as a TAP comment.
diag() {
	local line
	printf '%s\n' "$*" | while IFS= read -r line; do
		echo "# $line"
	done
}

# diag_file FILE [LINES] [LABEL]: the tail of a file as diagnostics.
diag_file() {
	local f=$1 n=${2:-25} label=${3:-$1}
	if [ -s "$f" ]; then
		diag "---- last $n lines of $label ----"
		diag "$(tail -n "$n" "$f")"
		diag "---- end of $label ----"
	else
		diag "($label is empty or missing)"
	fi
}

# ok STATUS DESC: a test passes when STATUS is 0.
ok() {
	local st=$1; shift
	VN_T_N=$((VN_T_N + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $VN_T_N - $*"
		return 0
	fi
	VN_T_FAIL=$((VN_T_FAIL + 1))
	echo "not ok $VN_T_N - $*"
	return 1
}

# is GOT WANT DESC
is() {
	local got=$1 want=$2; shift 2
	if [ "$got" = "$want" ]; then
		ok 0 "$@"
	else
		ok 1 "$@"
		diag "     got: '$got'"
		diag "expected: '$want'"
		return 1
	fi
}

# check DESC CMD...: runs CMD (output captured), ok on its exit status,
# shows the output as diagnostics when it fails.
check() {
	local desc=$1 out st; shift
	out=$("$@" 2>&1); st=$?
	if ok "$st" "$desc"; then
		return 0
	fi
	diag "command: $* (exit $st)"
	[ -n "$out" ] && diag "$out"
	return 1
}

# bail MSG: stop the whole prove run (missing prerequisite).
bail() {
	echo "Bail out! $*"
	exit 255
}

# fail_rest REASON: a prerequisite of all remaining tests failed. Report
# each remaining planned test as failed (so the plan still adds up) and
# exit; the EXIT trap cleans up.
fail_rest() {
	diag "cannot continue: $*"
	while [ "$VN_T_N" -lt "$VN_T_PLAN" ]; do
		ok 1 "not run: $*"
	done
	exit 1
}

# tap_done: final status of the script.
tap_done() {
	[ -n "$VN_T0" ] && diag "elapsed: $(( ($(now_ms) - VN_T0) / 1000 )) s"
	if [ "$VN_T_N" -ne "$VN_T_PLAN" ]; then
		diag "planned $VN_T_PLAN tests but ran $VN_T_N"
		exit 1
	fi
	[ "$VN_T_FAIL" -eq 0 ] || exit 1
	exit 0
}

# ---------------------------------------------------------------- waiting

# wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds or SECS
# seconds passed (CMD itself must be quick and bounded).
wait_for() {
	local secs=$1 end; shift
	end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $(( $(date +%s%N) / 1000000 )) -ge "$end" ] && break
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---------------------------------------------------------------- processes

# Processes we started, as "PID:STARTTIME" (start time from /proc/PID/stat
# survives exec and tells a recycled PID apart).
VN_PROCS=()

proc_starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	echo "${20}"
}

# alive PID: exists and is not a zombie.
alive() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

track() {
	local st
	st=$(proc_starttime "$1") || return 0
	VN_PROCS+=("$1:$st")
}

# kill_tracked SIG PID: signal PID only if it is the process we recorded.
kill_tracked() {
	local sig=$1 pid=$2 e st
	for e in "${VN_PROCS[@]}"; do
		[ "${e%%:*}" = "$pid" ] || continue
		st=$(proc_starttime "$pid") || return 1
		[ "$st" = "${e#*:}" ] || return 1
		kill "-$sig" "$pid" 2>/dev/null
		return
	done
	return 1
}

# stop_pid PID [SECS]: TERM, wait, then KILL a tracked process.
stop_pid() {
	local pid=$1 secs=${2:-3}
	alive "$pid" || return 0
	kill_tracked TERM "$pid"
	wait_for "$secs" eval "! alive $pid" || kill_tracked KILL "$pid"
	wait_for 2 eval "! alive $pid"
}

# ---------------------------------------------------------------- cleanup

VN_NETNS=()	# namespaces we created
VN_TMP=""	# our temp dir
VN_KEEP_LOGS=()	# logs shown as diagnostics if a test failed

vn_cleanup() {
	local rc=$? e pid ns pids l
	trap - EXIT INT TERM HUP
	set +e
	if [ "$VN_T_FAIL" -gt 0 ] || [ "$VN_T_N" -ne "$VN_T_PLAN" ] || [ "$rc" -ne 0 ]; then
		for l in "${VN_KEEP_LOGS[@]}"; do
			[ "$VN_TAP" = 1 ] && diag_file "$l" 30 "${l##*/}"
		done
	fi
	# Workers of our daemons are our processes too: record them first.
	for pid in "${VNETD_PID[@]}"; do
		alive "$pid" || continue
		for e in $(pgrep -P "$pid" 2>/dev/null); do track "$e"; done
	done
	for e in "${VN_PROCS[@]}"; do
		pid=${e%%:*}
		alive "$pid" && kill_tracked TERM "$pid"
	done
	for e in "${VN_PROCS[@]}"; do
		pid=${e%%:*}
		wait_for 3 eval "! alive $pid" || kill_tracked KILL "$pid"
	done
	# Anything still inside our own namespaces was started by this run.
	for ns in "${VN_NETNS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		if [ -n "$pids" ]; then
			[ "$VN_TAP" = 1 ] && diag "cleanup: killing leftover processes in $ns: $pids"
			kill -KILL $pids 2>/dev/null
		fi
	done
	for ns in "${VN_NETNS[@]}"; do
		[ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && sleep 0.2
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$VN_TMP" ] && [ -d "$VN_TMP" ] && rm -rf -- "$VN_TMP"
	exit "$rc"
}

VN_T0=""
vn_init() {
	VN_T0=$(now_ms)
	trap vn_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	VN_TMP=$(mktemp -d /tmp/vnet-test.XXXXXX) || bail "cannot create a temp dir"
	chmod 0700 "$VN_TMP"
}

# ---------------------------------------------------------------- prerequisites

# The PKI helper the tests make their certificates with: the source
# tree's, or VNET_PKI (an installed one, say).
VN_PKI=${VNET_PKI:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/ctl/vnet-pki}
VN_TOOLS="ip ping dnsmasq busybox tcpdump ethtool socat openssl pgrep sha256sum timeout ss awk"

# vn_host_prepare: what every run needs of the machine itself: network
# namespaces work, the user vnetd and the chroot /var/empty exist
# (created when missing). Uses the caller's bail.
vn_host_prepare() {
	local probe="vn$$probe"
	ip netns add "$probe" 2>/dev/null || bail "cannot create a network namespace (ip netns add failed)"
	ip netns del "$probe"
	if ! getent passwd vnetd >/dev/null; then
		useradd --system --no-create-home --shell /usr/sbin/nologin vnetd ||
			bail "user vnetd missing and useradd failed"
	fi
	if [ ! -d /var/empty ]; then
		mkdir -p /var/empty && chown root:root /var/empty && chmod 0755 /var/empty ||
			bail "cannot create /var/empty"
	fi
}

# conf_control FILE: the "control" path of a configuration file.
conf_control() {
	awk '$1 == "control" { print $2; exit }' "$1"
}

# vn_prereq [nobuild]: root, tools, netns, vnetd user, /var/empty, build.
# Bails out (never skips) when something is missing.
vn_prereq() {
	local t missing=""
	[ "$(id -u)" = 0 ] || bail "these tests must run as root (network namespaces, raw sockets)"
	export PATH="$PATH:/usr/sbin:/sbin"
	for t in $VN_TOOLS; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] || bail "missing tools:$missing (apt-get install iproute2 iputils-ping dnsmasq-base busybox tcpdump ethtool socat openssl procps coreutils)"
	[ -x "$VN_PKI" ] || bail "$VN_PKI is not an executable vnet-pki (set VNET_PKI)"
	for t in udhcpc httpd wget arping; do
		busybox --list 2>/dev/null | grep -qx "$t" || missing="$missing busybox-$t"
	done
	[ -z "$missing" ] || bail "busybox lacks applets:$missing"
	vn_host_prepare
	[ "$1" = nobuild ] && return 0
	: "${VNET_BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}"
	export VNET_BUILD
	for t in vnetd vnet-capture vnet-crypt vnet-inject; do
		[ -x "$VNET_BUILD/$t" ] || missing="$missing $t"
	done
	[ -z "$missing" ] || bail "not built in VNET_BUILD=$VNET_BUILD:$missing (run make)"
	export VNET_LIBEXECDIR="$VNET_BUILD"
}

# ---------------------------------------------------------------- topology

VM_MAC=52:54:00:12:34:56
BAD_MAC=52:54:00:66:66:66
CLIENT_MAC=52:54:00:cc:00:10
DHCP_MAC=52:54:00:dd:00:02
PROXY_WAN=10.201.0.1
HOST_WAN=10.201.0.2
PROXY_WAN1=10.201.1.1
HOST2_WAN=10.201.1.2
CLIENT_IP=10.202.0.10
DHCP_IP=10.202.0.2
BAD_IP=10.202.0.66
VNET_PORT=4789

NS_VM="vn$$v"; NS_HOST="vn$$h"; NS_PROXY="vn$$p"; NS_LAN="vn$$l"
NS_CLIENT="vn$$c"; NS_DHCP="vn$$d"; NS_HOST2="vn$$g"; NS_TENANT="vn$$t"
TENANT_MAC=52:54:00:77:00:07

VN_DEVS=()	# "ns:dev" of every veth end and bridge, for offload settings

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

ns_add() {
	ip netns add "$1" || return 1
	VN_NETNS+=("$1")
	ip -n "$1" link set lo up
}

# no_ipv6 NS: no IPv6 on the pure switching/WAN namespaces (less noise).
no_ipv6() {
	in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

bridge_add() {	# NS NAME
	ip -n "$1" link add "$2" type bridge stp_state 0 forward_delay 0 \
	    mcast_snooping 0 || return 1
	VN_DEVS+=("$1:$2")
}

# veth NS1 DEV1 NS2 DEV2 [MAC1]: a veth pair created directly in the
# namespaces (never in the caller's).
veth() {
	local mac=()
	[ -n "$5" ] && mac=(address "$5")
	ip -n "$1" link add "$2" "${mac[@]}" type veth peer name "$4" netns "$3" || return 1
	VN_DEVS+=("$1:$2" "$3:$4")
}

# offload_apply: VNET_OFFLOAD=off turns offloads off on every device;
# on (the default) leaves kernel defaults. Then verifies.
offload_apply() {
	local e ns dev
	[ "$VN_OFFLOAD" = off ] || return 0
	for e in "${VN_DEVS[@]}"; do
		ns=${e%%:*}; dev=${e#*:}
		# Fixed features make ethtool complain: ignored, verified below.
		in_ns "$ns" ethtool -K "$dev" tso off gso off gro off tx off rx off sg off >/dev/null 2>&1
	done
	return 0
}

# offload_verify: prints problems, fails if any.
offload_verify() {
	local e ns dev k bad=0
	if [ "$VN_OFFLOAD" = off ]; then
		for e in "${VN_DEVS[@]}"; do
			ns=${e%%:*}; dev=${e#*:}
			k=$(in_ns "$ns" ethtool -k "$dev" 2>&1)
			if ! printf '%s\n' "$k" | grep -q '^tcp-segmentation-offload: off'; then
				echo "$ns/$dev: $(printf '%s\n' "$k" | grep '^tcp-segmentation-offload')"
				bad=1
			fi
		done
	else
		k=$(in_ns "$NS_VM" ethtool -k eth0 2>&1)
		for f in tcp-segmentation-offload tx-checksumming; do
			if ! printf '%s\n' "$k" | grep -q "^$f: on"; then
				echo "VM eth0: $(printf '%s\n' "$k" | grep "^$f")"
				bad=1
			fi
		done
	fi
	return $bad
}

# topo_up: the six namespaces of the VM/host/proxy/LAN topology.
topo_up() {
	local ns
	case "${VNET_OFFLOAD:-on}" in
	on|off) VN_OFFLOAD=${VNET_OFFLOAD:-on} ;;
	*) echo "VNET_OFFLOAD must be on or off, not '$VNET_OFFLOAD'"; return 1 ;;
	esac
	for ns in "$NS_VM" "$NS_HOST" "$NS_PROXY" "$NS_LAN" "$NS_CLIENT" "$NS_DHCP"; do
		ns_add "$ns" || return 1
	done
	no_ipv6 "$NS_HOST" && no_ipv6 "$NS_PROXY" && no_ipv6 "$NS_LAN" || return 1

	bridge_add "$NS_HOST" brvm || return 1
	bridge_add "$NS_LAN" brlan || return 1
	veth "$NS_VM" eth0 "$NS_HOST" vm0 "$VM_MAC" || return 1
	veth "$NS_HOST" wan0 "$NS_PROXY" wan0 || return 1
	veth "$NS_PROXY" lan0 "$NS_LAN" p0 || return 1
	veth "$NS_CLIENT" eth0 "$NS_LAN" c0 "$CLIENT_MAC" || return 1
	veth "$NS_DHCP" eth0 "$NS_LAN" d0 "$DHCP_MAC" || return 1

	ip -n "$NS_HOST" link set vm0 master brvm &&
	ip -n "$NS_LAN" link set p0 master brlan &&
	ip -n "$NS_LAN" link set c0 master brlan &&
	ip -n "$NS_LAN" link set d0 master brlan || return 1

	ip -n "$NS_HOST" addr add "$HOST_WAN/24" dev wan0 &&
	ip -n "$NS_PROXY" addr add "$PROXY_WAN/24" dev wan0 &&
	ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev eth0 &&
	ip -n "$NS_DHCP" addr add "$DHCP_IP/24" dev eth0 || return 1

	offload_apply
	ip -n "$NS_HOST" link set brvm up && ip -n "$NS_HOST" link set vm0 up &&
	ip -n "$NS_HOST" link set wan0 up && ip -n "$NS_PROXY" link set wan0 up &&
	ip -n "$NS_PROXY" link set lan0 up && ip -n "$NS_LAN" link set brlan up &&
	ip -n "$NS_LAN" link set p0 up && ip -n "$NS_LAN" link set c0 up &&
	ip -n "$NS_LAN" link set d0 up && ip -n "$NS_VM" link set eth0 up &&
	ip -n "$NS_CLIENT" link set eth0 up && ip -n "$NS_DHCP" link set eth0 up ||
		return 1
	offload_verify
}

# topo_add_host2: a second host namespace (with an empty brvm) wired to
# the proxy by its own veth (routed: 10.201.1.2 -> proxy 10.201.1.1,
# default route there).
topo_add_host2() {
	ns_add "$NS_HOST2" && no_ipv6 "$NS_HOST2" || return 1
	veth "$NS_HOST2" wan0 "$NS_PROXY" wan1 || return 1
	bridge_add "$NS_HOST2" brvm || return 1	# an empty host-only bridge
	offload_apply
	ip -n "$NS_HOST2" link set brvm up || return 1
	ip -n "$NS_HOST2" addr add "$HOST2_WAN/24" dev wan0 &&
	ip -n "$NS_PROXY" addr add "$PROXY_WAN1/24" dev wan1 &&
	ip -n "$NS_HOST2" link set wan0 up && ip -n "$NS_PROXY" link set wan1 up &&
	ip -n "$NS_HOST2" route add default via "$PROXY_WAN1" || return 1
	offload_verify
}

# topo_add_vm_if2: a second VM interface eth1 with BAD_MAC on brvm, with
# IPv6 off and only a /32 address (it sends only what a test makes it).
topo_add_vm_if2() {
	in_ns "$NS_VM" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	veth "$NS_VM" eth1 "$NS_HOST" vm1 "$BAD_MAC" || return 1
	in_ns "$NS_VM" sysctl -qw net.ipv6.conf.eth1.disable_ipv6=1 >/dev/null
	in_ns "$NS_VM" sysctl -qw net.ipv6.conf.default.disable_ipv6=0 >/dev/null
	ip -n "$NS_HOST" link set vm1 master brvm || return 1
	ip -n "$NS_VM" addr add "$BAD_IP/32" dev eth1 || return 1
	offload_apply
	ip -n "$NS_HOST" link set vm1 up && ip -n "$NS_VM" link set eth1 up || return 1
	offload_verify
}

# topo_alone NS: one namespace NS holding a proxy's lan0 and wan0
# ($PROXY_WAN), each a veth whose peer (lan0p, wan0p) stays in NS: for
# tests of one daemon's own processes. Call it outside check (its
# subshell would lose NS from VN_NETNS, and the cleanup would miss it).
topo_alone() {
	local ns=$1 d
	ns_add "$ns" && no_ipv6 "$ns" || return 1
	veth "$ns" lan0 "$ns" lan0p && veth "$ns" wan0 "$ns" wan0p || return 1
	VN_OFFLOAD=${VNET_OFFLOAD:-on}
	offload_apply
	ip -n "$ns" addr add "$PROXY_WAN/24" dev wan0 || return 1
	for d in lan0 lan0p wan0 wan0p; do ip -n "$ns" link set "$d" up || return 1; done
	ip -n "$ns" -br link
}

# topo_add_tenant: a foreign VM (another tenant's) in its own namespace,
# its eth0 (TENANT_MAC) on the host's brvm through port vmt0, IPv4 only.
topo_add_tenant() {
	ns_add "$NS_TENANT" && no_ipv6 "$NS_TENANT" || return 1
	veth "$NS_TENANT" eth0 "$NS_HOST" vmt0 "$TENANT_MAC" || return 1
	ip -n "$NS_HOST" link set vmt0 master brvm || return 1
	offload_apply
	ip -n "$NS_HOST" link set vmt0 up && ip -n "$NS_TENANT" link set eth0 up ||
		return 1
	offload_verify
}

# topo_add_wanem: the host's WAN leg crosses the WAN emulator instead of
# a plain veth: host wan0 -- wa [NS_WANEM: wanem] wb -- proxy wan0, the
# same addresses. Needs tests/tools/wanem.sh sourced; wanem_start
# "$NS_WANEM" LOG [PROFILE...] then runs the emulator itself.
topo_add_wanem() {
	NS_WANEM="vn$$e"
	ip -n "$NS_HOST" link del wan0 || return 1
	wan_link "$NS_HOST" wan0 "$NS_WANEM" "$NS_PROXY" wan0 || return 1
	ip -n "$NS_HOST" addr add "$HOST_WAN/24" dev wan0 &&
	ip -n "$NS_PROXY" addr add "$PROXY_WAN/24" dev wan0
}

# vm_port_recreate: delete the VM's port vm0 (and so its eth0) and make
# it again, as a restarted VM gets a new tap: a new ifindex.
vm_port_recreate() {
	ip -n "$NS_HOST" link del vm0 || return 1
	veth "$NS_VM" eth0 "$NS_HOST" vm0 "$VM_MAC" || return 1
	ip -n "$NS_HOST" link set vm0 master brvm || return 1
	offload_apply
	ip -n "$NS_HOST" link set vm0 up && ip -n "$NS_VM" link set eth0 up
}

# topo_up_tap [EXTRA...]: topology (plus topo_add_EXTRA for each EXTRA)
# as test 1 of a .t; fail_rest when it fails.
topo_up_tap() {
	local st=0 x
	topo_up >"$VN_TMP/topo.out" 2>&1 || st=1
	for x in "$@"; do
		[ "$st" = 0 ] || break
		"topo_add_$x" >>"$VN_TMP/topo.out" 2>&1 || st=1
	done
	diag "offloads: ${VN_OFFLOAD:-${VNET_OFFLOAD:-on}}"
	if ! ok "$st" "topology up (namespaces ${VN_NETNS[*]}; offloads ${VN_OFFLOAD:-?} verified)"; then
		diag "$(cat "$VN_TMP/topo.out")"
		fail_rest "topology setup failed"
	fi
}

# ---------------------------------------------------------------- certificates

# vn_certs DIR: with vnet-pki, a CA in DIR (ca.crt, ca.key and its
# database); proxy (CN=proxy, SAN DNS:proxy and IP:$PROXY_WAN) and host
# (CN=vmhost1) certificates; a rogue CA in DIR/rogue-ca.d (its
# certificate also as DIR/rogue-ca.crt) and a CN=vmhost1 certificate from
# it; a CN=vmhost9 certificate from the real CA (valid but not listed on
# the proxy). Two days of validity: a stale temp dir never lingers useful.
vn_certs() {
	local d=$1
	(
	set -e
	"$VN_PKI" -d "$d" init -n "vnet test CA $$" -v 2
	"$VN_PKI" -d "$d" proxy -v 2 -o "$d/proxy" proxy "$PROXY_WAN"
	"$VN_PKI" -d "$d" host -v 2 -o "$d/host" vmhost1
	"$VN_PKI" -d "$d" host -v 2 -o "$d/stranger" vmhost9
	"$VN_PKI" -d "$d/rogue-ca.d" init -n "vnet rogue CA $$" -v 2
	cp "$d/rogue-ca.d/ca.crt" "$d/rogue-ca.crt"
	"$VN_PKI" -d "$d/rogue-ca.d" host -v 2 -o "$d/rogue-host" vmhost1
	openssl verify -CAfile "$d/ca.crt" "$d/proxy.crt" "$d/host.crt" "$d/stranger.crt" >/dev/null
	! openssl verify -CAfile "$d/ca.crt" "$d/rogue-host.crt" >/dev/null 2>&1
	) >/dev/null
}

# vn_leaf DIR NAME CN [VNET-PKI-HOST-OPTION...]: another host certificate
# DIR/NAME.crt (.key) for CN from the CA vn_certs made in DIR.
vn_leaf() {
	local d=$1 n=$2 cn=$3; shift 3
	"$VN_PKI" -d "$d" host -v 2 "$@" -o "$d/$n" "$cn" >/dev/null &&
	    openssl verify -no_check_time -CAfile "$d/ca.crt" "$d/$n.crt" >/dev/null
}

# vn_odd_leaf DIR NAME SUBJECT EXT...: a test-only certificate
# DIR/NAME.crt (.key) from DIR's CA of the kind vnet-pki rightly refuses
# to make: any subject (openssl -subj syntax), and exactly the extension
# lines given after basicConstraints (none: no EKU at all).
vn_odd_leaf() {
	local d=$1 n=$2 subj=$3; shift 3
	(
	set -e
	umask 077
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$n.key" 2>/dev/null
	openssl req -new -sha256 -key "$d/$n.key" -subj "$subj" -out "$d/$n.csr"
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "$@" >"$d/$n.ext"
	openssl x509 -req -sha256 -days 2 -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
	    -set_serial "0x$(openssl rand -hex 8)" -extfile "$d/$n.ext" -out "$d/$n.crt" 2>/dev/null
	rm -f "$d/$n.csr" "$d/$n.ext"
	chmod 0644 "$d/$n.crt"
	)
}

# cert_fp FILE: SHA-256 of the DER certificate, lower-case hex.
cert_fp() {
	openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------- configs

# vn_host_conf FILE CERT KEY CA CONNECT_ADDR [EXTRA_VM_MAC...]
# VNET_TRANSPORT=tcp|udp|auto adds a transport line (default: none, auto).
vn_host_conf() {
	local f=$1 crt=$2 key=$3 ca=$4 addr=$5 m; shift 5
	{
		echo "role host"
		echo "interface brvm"
		echo "user vnetd"
		echo "chroot /var/empty"
		echo "certificate $crt"
		echo "key $key"
		echo "ca $ca"
		echo "keepalive 1"
		echo "control ${f%.conf}.sock"
		echo "connect $addr port $VNET_PORT"
		echo "peer-name proxy"
		[ -z "${VNET_TRANSPORT:-}" ] || echo "transport $VNET_TRANSPORT"
		echo "vm $VM_MAC"
		for m in "$@"; do echo "vm $m"; done
	} >"$f"
}

# vn_proxy_conf FILE DIR
vn_proxy_conf() {
	local f=$1 d=$2
	cat >"$f" <<EOF
role proxy
interface lan0
user vnetd
chroot /var/empty
certificate $d/proxy.crt
key $d/proxy.key
ca $d/ca.crt
keepalive 1
control ${f%.conf}.sock
listen $PROXY_WAN port $VNET_PORT
host vmhost1 {
    mac $VM_MAC
}
EOF
}

# vn_setup_pki: certificates and the standard configs in $VN_TMP.
vn_setup_pki() {
	vn_certs "$VN_TMP" || return 1
	vn_proxy_conf "$VN_TMP/proxy.conf" "$VN_TMP"
	vn_host_conf "$VN_TMP/host.conf" "$VN_TMP/host.crt" "$VN_TMP/host.key" \
	    "$VN_TMP/ca.crt" "$PROXY_WAN" "$@"
}

# ---------------------------------------------------------------- logs

# log_mark LOG: number of lines now (events after it are "new").
log_mark() {
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# log_lines LOG MARK TOKEN...: lines after MARK holding every TOKEN as a
# whole space-separated word (e.g. event=worker_ready worker=crypt).
log_lines() {
	local log=$1 mark=$2; shift 2
	[ -f "$log" ] || return 1
	tail -n "+$((mark + 1))" "$log" | awk -v toks="$*" '
	BEGIN { n = split(toks, t, " ") }
	{
		l = " " $0 " "; gsub(/\t/, " ", l)
		for (i = 1; i <= n; i++) if (index(l, " " t[i] " ") == 0) next
		print
	}'
}

# log_has LOG MARK TOKEN...: true when such a line exists.
log_has() {
	[ -n "$(log_lines "$@")" ]
}

# log_value LINE KEY: the value of key=value in a log line.
log_value() {
	printf '%s\n' "$1" | grep -o "\(^\| \)$2=\(\"[^\"]*\"\|[^ ]*\)" | head -n 1 |
	    sed -e "s/^ *$2=//" -e 's/^"//' -e 's/"$//'
}

# ---------------------------------------------------------------- vnetd

declare -A VNETD_PID VNETD_LOG VNETD_NS VNETD_STATUS

# vnetd_start NAME NS CONF: start "vnetd -d -f CONF" in NS; its stderr
# goes to $VN_TMP/NAME.log (appended on restarts). Sets VNETD_PID[NAME].
# Must run in the test's shell (not in $(...)) so that "wait" works.
vnetd_start() {
	local name=$1 ns=$2 conf=$3 log="$VN_TMP/$1.log" pid
	VNETD_LOG[$name]=$log
	VNETD_NS[$name]=$ns
	echo "---- vnetd start $(date +%T.%N) ----" >>"$log"
	ip netns exec "$ns" env VNET_LIBEXECDIR="$VNET_BUILD" \
	    "$VNET_BUILD/vnetd" -d -f "$conf" -x "$VNET_BUILD" </dev/null >>"$log" 2>&1 &
	pid=$!
	track "$pid"
	VNETD_PID[$name]=$pid
	local l
	for l in "${VN_KEEP_LOGS[@]}"; do [ "$l" = "$log" ] && return 0; done
	VN_KEEP_LOGS+=("$log")
}

# vnetd_wait NAME SECS MARK TOKEN...: wait for a log event after MARK.
vnetd_wait() {
	local name=$1 secs=$2; shift 2
	VN_WAIT_TOKENS=("$@")
	# Stop waiting early if the daemon died (its last words are logged).
	wait_for "$secs" vnetd_wait_probe "$name"
	log_has "${VNETD_LOG[$name]}" "$@"
}
vnetd_wait_probe() {
	log_has "${VNETD_LOG[$1]}" "${VN_WAIT_TOKENS[@]}" || ! alive "${VNETD_PID[$1]}"
}

# vnetd_wait_link SECS NAME...: event=link_up in each daemon's log since
# its last start.
vnetd_wait_link() {
	local secs=$1 n m; shift
	for n in "$@"; do
		m=$(vnetd_start_mark "$n")
		vnetd_wait "$n" "$secs" "$m" event=link_up || return 1
	done
}

# vnetd_start_mark NAME: line number of the last "---- vnetd start" line.
vnetd_start_mark() {
	local m
	m=$(grep -n '^---- vnetd start' "${VNETD_LOG[$1]}" 2>/dev/null | tail -n 1 | cut -d: -f1)
	echo $(( ${m:-1} - 1 ))
}

# vnetd_worker NAME KIND: PID of the daemon's worker vnet-KIND.
vnetd_worker() {
	pgrep -P "${VNETD_PID[$1]}" -x "vnet-$2" 2>/dev/null | head -n 1
}

# vnetd_workers_tracked NAME: record the current workers' PIDs.
vnetd_workers_tracked() {
	local k p
	for k in capture crypt inject; do
		p=$(vnetd_worker "$1" "$k")
		[ -n "$p" ] && track "$p"
	done
}

# vnetd_stop NAME [SECS]: SIGTERM the monitor, wait for it and its
# workers to be gone. VNETD_STATUS[NAME] = exit status. Fails (and kills
# the rest) if anything outlives SECS.
vnetd_stop() {
	local name=$1 secs=${2:-10} pid=${VNETD_PID[$1]} w ws="" st=0
	for w in $(pgrep -P "$pid" 2>/dev/null); do track "$w"; ws="$ws $w"; done
	VNETD_WORKERS_STOPPED=$ws
	kill_tracked TERM "$pid"
	if ! wait_for "$secs" eval "! alive $pid"; then
		echo "vnetd $name (pid $pid) still running ${secs}s after SIGTERM"
		kill_tracked KILL "$pid"
		st=1
	fi
	wait "$pid" 2>/dev/null
	VNETD_STATUS[$name]=$?
	for w in $ws; do
		if ! wait_for 3 eval "! alive $w"; then
			echo "worker $w ($(cat /proc/$w/comm 2>/dev/null)) of $name still running after the monitor exited"
			kill_tracked KILL "$w"
			st=1
		fi
	done
	return $st
}

# start_pair: proxy then host; wait for link_up in both logs.
start_pair() {
	vnetd_start proxy "$NS_PROXY" "$VN_TMP/proxy.conf"
	wait_for 5 eval "in_ns $NS_PROXY ss -Hltn 'sport = :$VNET_PORT' | grep -q . || ! alive \${VNETD_PID[proxy]}"
	vnetd_start host "$NS_HOST" "$VN_TMP/host.conf"
	vnetd_wait_link "${1:-20}" proxy host
}

# start_pair_tap: start_pair as a TAP test (fail_rest on failure).
start_pair_tap() {
	local t0 t1
	t0=$(now_ms)
	if start_pair "$@"; then
		t1=$(now_ms)
		ok 0 "proxy and host vnetd log event=link_up ($((t1 - t0)) ms)"
		diag "proxy: $(log_lines "${VNETD_LOG[proxy]}" 0 event=link_up | tail -n 1)"
		diag "host:  $(log_lines "${VNETD_LOG[host]}" 0 event=link_up | tail -n 1)"
		return 0
	fi
	ok 1 "proxy and host vnetd log event=link_up"
	local n
	for n in proxy host; do
		alive "${VNETD_PID[$n]}" || diag "vnetd $n exited"
		diag_file "${VNETD_LOG[$n]}" 30 "$n.log"
	done
	VN_KEEP_LOGS=()
	fail_rest "no link between host and proxy"
}

# link_identity NAME PEER_ADDR CN CERT: the daemon's last link_up names
# the peer: peer=PEER_ADDR:*, subject with CN=CN, fingerprint = SHA-256
# of CERT (DER; hex, colons and case ignored). Prints problems.
link_identity() {
	local name=$1 addr=$2 cn=$3 cert=$4 line v want bad=0
	line=$(log_lines "${VNETD_LOG[$name]}" "$(vnetd_start_mark "$name")" event=link_up | tail -n 1)
	echo "$name: $line"
	v=$(log_value "$line" peer)
	case "$v" in
	"$addr":[0-9]*) ;;
	*) echo "peer=$v, expected $addr:PORT"; bad=1 ;;
	esac
	v=$(log_value "$line" subject)
	if ! printf '%s\n' "$v" | grep -Eq "CN ?= ?$cn([^A-Za-z0-9_.-]|\$)"; then
		echo "subject=\"$v\", expected one with CN=$cn"; bad=1
	fi
	v=$(log_value "$line" fingerprint | tr -d ':' | tr 'A-F' 'a-f')
	want=$(cert_fp "$cert")
	if [ "$v" != "$want" ]; then
		echo "fingerprint=$v, expected SHA-256 of $(basename "$cert") $want"; bad=1
	fi
	return $bad
}

# link_identity_tap NAME PEER_ADDR CN CERT
link_identity_tap() {
	local out st
	out=$(link_identity "$@"); st=$?
	ok "$st" "$1's event=link_up names its peer: peer=$2:PORT subject CN=$3 fingerprint=sha256($(basename "$4"))"
	[ "$st" -eq 0 ] || diag "$out"
	return $st
}

# worker_check NAME KIND: the daemon's vnet-KIND child logged
# worker_ready (uid=<vnetd> caps=none) and runs as vnetd with no
# capabilities (CapEff, CapPrm, CapAmb all zero) and no root group.
worker_check() {
	local name=$1 kind=$2 pid uid st bad=0 f
	uid=$(id -u vnetd)
	pid=$(vnetd_worker "$name" "$kind")
	if [ -z "$pid" ]; then
		echo "no vnet-$kind child of vnetd $name (pid ${VNETD_PID[$name]})"
		echo "children: $(ps -o pid=,user=,comm= --ppid "${VNETD_PID[$name]}" 2>/dev/null | tr '\n' ';')"
		return 1
	fi
	if ! vnetd_wait "$name" 5 "$(vnetd_start_mark "$name")" event=worker_ready "worker=$kind" "pid=$pid"; then
		echo "no 'event=worker_ready worker=$kind pid=$pid' in $name.log"
		bad=1
	elif ! log_has "${VNETD_LOG[$name]}" "$(vnetd_start_mark "$name")" event=worker_ready "worker=$kind" "pid=$pid" "uid=$uid" caps=none; then
		echo "worker_ready line lacks uid=$uid caps=none:"
		log_lines "${VNETD_LOG[$name]}" "$(vnetd_start_mark "$name")" event=worker_ready "worker=$kind" "pid=$pid"
		bad=1
	fi
	st=$(cat "/proc/$pid/status" 2>/dev/null) || { echo "pid $pid vanished"; return 1; }
	echo "pid $pid: $(printf '%s\n' "$st" | grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' | tr '\t\n' ' ;')"
	set -- $(printf '%s\n' "$st" | awk '/^Uid:/ { print $2, $3, $4, $5 }')
	for f in "$@"; do
		[ "$f" = "$uid" ] || { echo "Uid: $* (expected vnetd = $uid in all four)"; bad=1; break; }
	done
	set -- $(printf '%s\n' "$st" | awk '/^Gid:/ { print $2, $3, $4, $5 }')
	for f in "$@"; do
		[ "$f" != 0 ] || { echo "Gid: $* (root group)"; bad=1; break; }
	done
	printf '%s\n' "$st" | awk '/^Groups:/ { for (i = 2; i <= NF; i++) if ($i == 0) exit 1 }' ||
		{ echo "supplementary group root"; bad=1; }
	for f in CapEff CapPrm CapAmb; do
		printf '%s\n' "$st" | grep -Eq "^$f:[[:space:]]+0+$" ||
			{ echo "$(printf '%s\n' "$st" | grep "^$f:") (expected zero)"; bad=1; }
	done
	return $bad
}

worker_check_tap() {
	local out st
	out=$(worker_check "$@"); st=$?
	ok "$st" "$1 vnet-$2: worker_ready uid=vnetd caps=none; runs as vnetd with CapEff/CapPrm/CapAmb zero"
	diag "$out"
	return $st
}

# workers_distinct NAME: capture, crypt, inject are three distinct
# processes, children of the monitor, running their own executables.
workers_distinct() {
	local name=$1 mon=${VNETD_PID[$1]} k p exe seen="" bad=0
	exe=$(readlink "/proc/$mon/exe")
	echo "monitor $mon: $exe"
	[ "${exe##*/}" = vnetd ] || { echo "monitor runs $exe, not vnetd"; bad=1; }
	for k in capture crypt inject; do
		p=$(vnetd_worker "$name" "$k")
		if [ -z "$p" ]; then echo "no vnet-$k"; bad=1; continue; fi
		exe=$(readlink "/proc/$p/exe")
		echo "$k $p: $exe"
		[ "${exe##*/}" = "vnet-$k" ] || { echo "vnet-$k runs $exe"; bad=1; }
		case " $seen $mon " in *" $p "*) echo "pid $p not distinct"; bad=1 ;; esac
		seen="$seen $p"
	done
	return $bad
}

workers_distinct_tap() {
	local out st
	out=$(workers_distinct "$1"); st=$?
	ok "$st" "$1: capture, crypt, inject are distinct child processes running vnet-capture, vnet-crypt, vnet-inject"
	diag "$out"
	return $st
}

# ---------------------------------------------------------------- DHCP

# dhcp_start: dnsmasq as the home LAN's DHCP server (no DNS).
dhcp_start() {
	local user=root log="$VN_TMP/dnsmasq.log"
	getent passwd dnsmasq >/dev/null && user=dnsmasq
	: >"$VN_TMP/dnsmasq.leases"
	ip netns exec "$NS_DHCP" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
	    --bind-interfaces --interface=eth0 --except-interface=lo \
	    --dhcp-range=10.202.0.100,10.202.0.150,255.255.255.0,1h \
	    --dhcp-leasefile="$VN_TMP/dnsmasq.leases" --dhcp-authoritative \
	    --no-ping --pid-file --log-facility=- --user="$user" \
	    </dev/null >"$log" 2>&1 &
	DHCP_PID=$!
	track "$DHCP_PID"
	VN_KEEP_LOGS+=("$log")
	wait_for 5 eval "in_ns $NS_DHCP ss -Hlun 'sport = :67' | grep -q ." || {
		echo "dnsmasq did not start listening on :67"
		cat "$log"
		return 1
	}
}

# dhcp_start_tap: dhcp_start as a TAP test (in this shell: it tracks PIDs).
dhcp_start_tap() {
	dhcp_start >"$VN_TMP/dhcp_start.out" 2>&1
	ok $? "dnsmasq DHCP server running in the home LAN ($DHCP_IP, range .100-.150)" ||
		diag "$(cat "$VN_TMP/dhcp_start.out")"
}

# vm_lease [TRIES]: busybox udhcpc in the VM; VM_IP = leased address.
vm_lease() {
	local tries=${1:-10} script="$VN_TMP/udhcpc.sh"
	cat >"$script" <<EOF
#!/bin/sh
# udhcpc script written by the vnet test harness.
case "\$1" in
deconfig)
	ip -4 addr flush dev "\$interface" scope global
	ip link set "\$interface" up
	;;
bound|renew)
	ip -4 addr flush dev "\$interface" scope global
	ip addr add "\$ip/\${mask:-24}" dev "\$interface"
	echo "\$ip" >"$VN_TMP/vm.lease"
	;;
esac
exit 0
EOF
	chmod 0755 "$script"
	rm -f "$VN_TMP/vm.lease"
	timeout $((tries * 2 + 10)) ip netns exec "$NS_VM" \
	    busybox udhcpc -i eth0 -f -q -n -t "$tries" -T 1 -s "$script" \
	    >"$VN_TMP/udhcpc.log" 2>&1
	local st=$?
	VM_IP=$(cat "$VN_TMP/vm.lease" 2>/dev/null)
	[ "$st" -eq 0 ] && [ -n "$VM_IP" ]
}

# vm_lease_tap: the VM leases an address as a TAP test.
vm_lease_tap() {
	local t0 t1 last
	t0=$(now_ms)
	if vm_lease 15; then
		t1=$(now_ms)
		last=${VM_IP##*.}
		if [ "${VM_IP%.*}" = 10.202.0 ] && [ "$last" -ge 100 ] && [ "$last" -le 150 ]; then
			ok 0 "VM leased $VM_IP from dnsmasq through vnet ($((t1 - t0)) ms)"
			return 0
		fi
		ok 1 "VM leased an address in 10.202.0.100-150 (got $VM_IP)"
	else
		ok 1 "VM leased an address from dnsmasq through vnet"
	fi
	diag_file "$VN_TMP/udhcpc.log" 20 udhcpc.log
	diag_file "$VN_TMP/dnsmasq.log" 20 dnsmasq.log
	return 1
}

# ---------------------------------------------------------------- traffic

# ping4 NS ADDR: 3 echo replies within 10 s.
ping4() {
	in_ns "$1" ping -4 -n -q -c 3 -i 0.2 -w 10 "$2"
}

# ping6ll NS ADDR: IPv6 link-local ping over eth0.
ping6ll() {
	in_ns "$1" ping -6 -n -q -c 3 -i 0.2 -w 10 "$2%eth0"
}

# ll_addr NS DEV: the link-local address, once DAD is done.
ll_addr() {
	in_ns "$1" ip -6 -o addr show dev "$2" scope link |
	    awk '!/tentative|dadfailed/ { split($4, a, "/"); print a[1]; exit }'
}

# ll_state NS DEV: the link-local address line (for diagnostics).
ll_state() {
	in_ns "$1" ip -6 -o addr show dev "$2" scope link
}

# xfer SRC_NS DST_NS DST_IP MIB [PORT]: send MIB MiB of random data over
# TCP (socat) from SRC_NS to a listener at DST_IP in DST_NS, compare
# sha256 at both ends. Prints a one-line summary; fails on any mismatch.
# Runs in the test's shell (uses wait).
VN_XFER_PORT=5000
xfer() {
	local src_ns=$1 dst_ns=$2 ip=$3 mib=$4 port=${5:-$((VN_XFER_PORT++))}
	local src="$VN_TMP/xfer.$port.src" dst="$VN_TMP/xfer.$port.dst" lpid st t0 t1 h1 h2
	head -c "$((mib * 1048576))" /dev/urandom >"$src" || return 1
	rm -f "$dst"
	ip netns exec "$dst_ns" timeout 120 socat -u \
	    "TCP-LISTEN:$port,bind=$ip,reuseaddr" "CREATE:$dst" \
	    </dev/null >"$VN_TMP/xfer.$port.log" 2>&1 &
	lpid=$!
	track "$lpid"
	if ! wait_for 5 eval "in_ns $dst_ns ss -Hltn 'sport = :$port' | grep -q ."; then
		echo "listener on $ip:$port did not start"
		cat "$VN_TMP/xfer.$port.log"
		stop_pid "$lpid"
		return 1
	fi
	t0=$(now_ms)
	ip netns exec "$src_ns" timeout 60 socat -u "OPEN:$src,rdonly" \
	    "TCP:$ip:$port,connect-timeout=5" </dev/null >>"$VN_TMP/xfer.$port.log" 2>&1
	st=$?
	if ! wait_for 60 eval "! alive $lpid"; then
		echo "receiver did not finish within 60 s after the sender (sender exit $st)"
		stop_pid "$lpid"
	fi
	wait "$lpid" 2>/dev/null
	t1=$(now_ms)
	h1=$(sha256sum <"$src" | cut -d' ' -f1)
	h2=$(sha256sum <"$dst" 2>/dev/null | cut -d' ' -f1)
	local got
	got=$(stat -c %s "$dst" 2>/dev/null || echo 0)
	local ms=$((t1 - t0)); [ "$ms" -gt 0 ] || ms=1
	echo "$mib MiB $src_ns->$dst_ns: sent $((mib * 1048576)) bytes, received $got, $ms ms ($(( mib * 1048576 * 8 / ms / 1000 )) Mbit/s), sender exit $st"
	echo "sha256 sent     $h1"
	echo "sha256 received $h2"
	if [ "$st" -ne 0 ] || [ "$h1" != "$h2" ]; then
		cat "$VN_TMP/xfer.$port.log"
		rm -f "$src" "$dst"
		return 1
	fi
	rm -f "$src" "$dst"
	return 0
}

# xfer_tap DESC ARGS...: xfer as a TAP test, summary as diagnostics
# (xfer needs "wait", so it runs in this shell with output to a file).
xfer_tap() {
	local desc=$1 st; shift
	xfer "$@" >"$VN_TMP/xfer.out" 2>&1
	st=$?
	ok "$st" "$desc"
	diag "$(cat "$VN_TMP/xfer.out")"
	return $st
}

# ---------------------------------------------------------------- tcpdump

# cap_start NAME NS DEV FILTER [OPTION...]: tcpdump -e -n to
# $VN_TMP/NAME.cap (text), waits until it is listening. CAP_PID[NAME].
declare -A CAP_PID
cap_start() {
	local name=$1 ns=$2 dev=$3 filter=$4; shift 4
	ip netns exec "$ns" tcpdump -i "$dev" -e -n -l -Z root "$@" "$filter" \
	    </dev/null >"$VN_TMP/$name.cap" 2>"$VN_TMP/$name.cap.err" &
	CAP_PID[$name]=$!
	track "${CAP_PID[$name]}"
	wait_for 5 grep -q "listening on" "$VN_TMP/$name.cap.err"
}

# cap_stop NAME: stop tcpdump (SIGINT flushes), bounded.
cap_stop() {
	local pid=${CAP_PID[$1]}
	kill_tracked INT "$pid"
	wait_for 3 eval "! alive $pid" || kill_tracked KILL "$pid"
	wait "$pid" 2>/dev/null
	return 0
}

# cap_count NAME MAC: frames in the capture with that source MAC.
cap_count() {
	awk -v m="$2" '$2 == m' "$VN_TMP/$1.cap" | wc -l
}

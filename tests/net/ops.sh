# SPDX-License-Identifier: ISC
# tests/net/ops.sh: helpers for the operator-facing tests (80-audit,
# 82-vnetctl, 84-reload, 86-install). Sourced after lib.sh, whose TAP,
# cleanup, topology, certificate and daemon helpers these build on.
#
#   syslog     syslog_start NAME...: a private rsyslogd, one imuxsock
#              socket per NAME ($VN_TMP/NAME.logsock) written to
#              $VN_TMP/NAME.syslog as "FACILITY SEVERITY TAG MSG"
#   daemon     vnetd_start_syslog NAME NS CONF [VNETD] [LIBEXEC]: vnetd
#              WITHOUT -d (it daemonizes and logs with syslog(3)) in a
#              private mount namespace whose /dev/log is NAME's socket;
#              vnetd_daemon_pid, vnetd_stop_daemon
#   control    ctl NAME ARGS...: vnetctl -s <NAME's control socket> ARGS
#              ctl_json NAME CMD: vnetctl -j, checked by jq
#   second host  ops_host2_up: host namespace NS_HOST2 like lib.sh's
#              topo_add_host2, plus its own VM (NS_VM2, VM2_MAC)
#
# Nothing here touches the machine's /dev/log or its syslog: rsyslogd
# gets its own configuration, sockets, pid file and work directory in
# $VN_TMP, with the system socket off, and vnetd sees its /dev/log only
# inside a mount namespace of its own, on a fresh tmpfs /dev.

VM2_MAC=52:54:00:22:22:22
NS_VM2="vn$$u"

# The source tree (86-install copies it); VNET_SRC names another one.
OPS_ROOT=${VNET_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# ops_prereq: what these tests need beyond lib.sh's tools.
ops_prereq() {
	local t missing=""
	for t in jq rsyslogd unshare setpriv mknod stat; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] || bail "missing tools:$missing (apt-get install jq rsyslog util-linux coreutils)"
	[ -x "${VNET_BUILD:-}/vnetctl" ] || bail "vnetctl not built in VNET_BUILD=$VNET_BUILD (run make)"
}

# ---------------------------------------------------------------- syslog

OPS_SYSLOG_PID=""

# syslog_start NAME...: rsyslogd -n with only our inputs and outputs.
syslog_start() {
	local n conf="$VN_TMP/rsyslog.conf" i
	mkdir -p "$VN_TMP/rsyslog.work" || return 1
	{
		echo "global(workDirectory=\"$VN_TMP/rsyslog.work\" maxMessageSize=\"16k\")"
		# No /dev/log: SysSock off. Our sockets only.
		echo 'module(load="imuxsock" SysSock.Use="off")'
		echo 'template(name="vnfmt" type="string" string="%syslogfacility-text% %syslogseverity-text% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\n")'
		for n in "$@"; do
			: >"$VN_TMP/$n.syslog"
			echo "ruleset(name=\"rs_$n\") { action(type=\"omfile\" file=\"$VN_TMP/$n.syslog\" template=\"vnfmt\" flushOnTXEnd=\"on\" asyncWriting=\"off\") }"
			echo "input(type=\"imuxsock\" Socket=\"$VN_TMP/$n.logsock\" ruleset=\"rs_$n\" RateLimit.Interval=\"0\")"
		done
	} >"$conf"
	rsyslogd -N1 -f "$conf" >"$VN_TMP/rsyslog.check" 2>&1 || { cat "$VN_TMP/rsyslog.check"; return 1; }
	rsyslogd -n -f "$conf" -i "$VN_TMP/rsyslogd.pid" </dev/null \
	    >"$VN_TMP/rsyslog.err" 2>&1 &
	OPS_SYSLOG_PID=$!
	track "$OPS_SYSLOG_PID"
	VN_KEEP_LOGS+=("$VN_TMP/rsyslog.err")
	for n in "$@"; do
		wait_for 5 test -S "$VN_TMP/$n.logsock" || {
			echo "rsyslogd did not create $VN_TMP/$n.logsock"
			cat "$VN_TMP/rsyslog.err"
			return 1
		}
	done
	# A line through each socket proves the whole path.
	for n in "$@"; do
		logger --socket-errors=on -u "$VN_TMP/$n.logsock" -p user.info -t ops-probe "probe $n" || return 1
		wait_for 5 grep -q "ops-probe.*probe $n" "$VN_TMP/$n.syslog" || {
			echo "probe line did not reach $VN_TMP/$n.syslog"
			cat "$VN_TMP/rsyslog.err"
			return 1
		}
	done
}

syslog_start_tap() {
	syslog_start "$@" >"$VN_TMP/syslog_start.out" 2>&1
	ok $? "rsyslogd $(rsyslogd -v 2>/dev/null | head -n 1 | awk '{print $2}') running on private sockets ($(printf '%s.logsock ' "$@")in the temp dir, no /dev/log)" ||
		{ diag "$(cat "$VN_TMP/syslog_start.out")"; fail_rest "no syslog daemon"; }
}

# ---------------------------------------------------------------- daemonized vnetd

# devlog_state: what the machine's own /dev/log is (must never change).
devlog_state() {
	if [ -e /dev/log ] || [ -L /dev/log ]; then
		stat -c '%F %i %Y' /dev/log
	else
		echo absent
	fi
}

# vnetd_daemon_pid NS CONF EXE: the one process running EXE (a vnetd
# monitor) with "-f CONF" whose network namespace is NS. Prints nothing
# unless there is exactly one.
vnetd_daemon_pid() {
	local ns=$1 conf=$2 exe=$3 want p found=()
	want="net:[$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)]"
	for p in $(pgrep -x vnetd 2>/dev/null); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$exe" ] || continue
		[ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$want" ] || continue
		tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | grep -qxF -- "$conf" || continue
		alive "$p" || continue
		found+=("$p")
	done
	[ "${#found[@]}" = 1 ] && echo "${found[0]}"
}

# vnetd_start_syslog NAME NS CONF [VNETD [LIBEXEC]]: start vnetd without
# -d. Its launcher runs in a new mount namespace (private propagation)
# with a fresh tmpfs on /dev holding the usual character devices and
# /dev/log -> $VN_TMP/NAME.logsock; "ip netns exec" then enters NS.
# vnetd forks into the background and the launcher exits; the daemon is
# found by exe, network namespace and -f argument, tracked (PID + start
# time) and recorded as VNETD_PID[NAME], with VNETD_LOG[NAME] its syslog
# file. Pre-daemon errors go to $VN_TMP/NAME.stderr.
vnetd_start_syslog() {
	local name=$1 ns=$2 conf=$3 exe=${4:-$VNET_BUILD/vnetd} xdir=${5:-$VNET_BUILD}
	local sock="$VN_TMP/$name.logsock" lpid pid real
	real=$(readlink -f "$exe")
	VNETD_LOG[$name]="$VN_TMP/$name.syslog"
	VNETD_NS[$name]=$ns
	echo "---- vnetd start $(date +%T.%N) ----" >>"$VN_TMP/$name.stderr"
	unshare --mount --propagation private -- /bin/sh -c '
		set -e
		sock=$1; shift
		mount -t tmpfs -o mode=0755,nosuid,size=64k vnet-test-dev /dev
		mknod -m 0666 /dev/null c 1 3
		mknod -m 0666 /dev/zero c 1 5
		mknod -m 0666 /dev/full c 1 7
		mknod -m 0666 /dev/random c 1 8
		mknod -m 0666 /dev/urandom c 1 9
		mknod -m 0666 /dev/tty c 5 0
		ln -s /proc/self/fd /dev/fd
		ln -s "$sock" /dev/log
		exec "$@"' vnet-launch "$sock" \
	    ip netns exec "$ns" env VNET_LIBEXECDIR="$xdir" \
	    "$exe" -f "$conf" -x "$xdir" </dev/null >>"$VN_TMP/$name.stderr" 2>&1 &
	lpid=$!
	# The launcher is the daemon's parent: it exits once daemon() forked.
	wait_for 10 eval "! alive $lpid"
	wait "$lpid" 2>/dev/null || { echo "launcher exited $?"; cat "$VN_TMP/$name.stderr"; return 1; }
	wait_for 5 eval 'pid=$(vnetd_daemon_pid "$ns" "$conf" "$real"); [ -n "$pid" ]'
	pid=$(vnetd_daemon_pid "$ns" "$conf" "$real")
	[ -n "$pid" ] || { echo "no daemonized vnetd ($real -f $conf) in $ns"; cat "$VN_TMP/$name.stderr"; return 1; }
	track "$pid"
	VNETD_PID[$name]=$pid
	local l
	for l in "${VN_KEEP_LOGS[@]}"; do [ "$l" = "${VNETD_LOG[$name]}" ] && return 0; done
	VN_KEEP_LOGS+=("${VNETD_LOG[$name]}")
}

# vnetd_stop_daemon NAME [SECS]: SIGTERM a daemonized monitor (not our
# child), wait until it and its workers are gone.
vnetd_stop_daemon() {
	local name=$1 secs=${2:-10} pid=${VNETD_PID[$1]} w ws="" st=0
	for w in $(pgrep -P "$pid" 2>/dev/null); do track "$w"; ws="$ws $w"; done
	kill_tracked TERM "$pid"
	if ! wait_for "$secs" eval "! alive $pid"; then
		echo "vnetd $name (pid $pid) still running ${secs}s after SIGTERM"
		kill_tracked KILL "$pid"
		st=1
	fi
	for w in $ws; do
		wait_for 3 eval "! alive $w" || { kill_tracked KILL "$w"; st=1; }
	done
	return $st
}

# syslog_start_mark NAME: lines in NAME's syslog before its last start.
syslog_start_mark() {
	local m
	m=$(grep -n ' event=start ' "${VNETD_LOG[$1]}" 2>/dev/null | tail -n 1 | cut -d: -f1)
	echo $(( ${m:-1} - 1 ))
}

# ---------------------------------------------------------------- control

# ctl_sock NAME: the control socket named in NAME's configuration.
declare -A CTL_SOCK
ctl() {
	local name=$1; shift
	"$VNET_BUILD/vnetctl" -s "${CTL_SOCK[$name]}" "$@"
}

# ---------------------------------------------------------------- a second host

# ops_host2_up: HOST2 (lib.sh's topo_add_host2: routed WAN 10.201.1.2 via
# the proxy's wan1) with its own VM namespace NS_VM2 (eth0, VM2_MAC) on
# its brvm.
ops_host2_up() {
	topo_add_host2 || return 1
	ns_add "$NS_VM2" || return 1
	veth "$NS_VM2" eth0 "$NS_HOST2" vm0 "$VM2_MAC" || return 1
	ip -n "$NS_HOST2" link set vm0 master brvm || return 1
	offload_apply
	ip -n "$NS_HOST2" link set vm0 up && ip -n "$NS_VM2" link set eth0 up
}

# ops_leaf DIR NAME CN: another host certificate from DIR's CA.
ops_leaf() {
	vn_leaf "$1" "$2" "$3"
}

# json_ok FILE: FILE holds exactly one valid JSON value.
json_ok() {
	jq -e . "$1" >/dev/null 2>&1 && [ "$(jq -s length "$1" 2>/dev/null)" = 1 ]
}

#!/bin/bash
# SPDX-License-Identifier: ISC
# The Debian package, end to end: `make deb` builds it (debhelper,
# dpkg-buildpackage) under this test's temp dir and lintian finds no
# error and no warning that is not overridden with a reason; dpkg -i
# installs it on this machine and its postinst makes only what is
# missing and starts nothing; the installed vnetd checks a file and, with
# no -x and no VNET_LIBEXECDIR, runs a proxy and a host in this test's
# namespaces with traffic through them (the proxy the way vnetd@.service
# runs an instance, reached by vnetctl -i); the instance's metrics parse
# and match its JSON, and the packaged timer's command writes them for
# node_exporter; dpkg --purge stops the daemons still running and leaves
# nothing that the package installed or made, and everything that was
# there before.
#
# It installs into the real /usr, /lib and /etc: it refuses to run when
# a package vnet is already there, and its EXIT trap purges what it
# installed whatever happens. 86-install.t is not disturbed: it looks
# only at what is newer than its own start, and this test leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ops.sh"
vn_prereq
ops_prereq
PY=/usr/bin/python3
CHECK="$(cd "$(dirname "$0")" && pwd)/metrics_check.py"
missing=""
for t in dpkg-buildpackage dh lintian dpkg-deb start-stop-daemon unshare; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
[ -z "$missing" ] || bail "missing tools:$missing (apt-get install debhelper dpkg-dev lintian util-linux)"
"$PY" -c 'import prometheus_client' 2>/dev/null ||
	bail "Debian's python3-prometheus-client is missing (apt-get install python3-prometheus-client)"
case "$(dpkg-query -W -f='${Status}' vnet 2>/dev/null)" in
*installed*|*config-files*)
	bail "a package vnet is already on this machine: this test installs and purges its own (dpkg --purge vnet first)" ;;
esac
vn_init
plan 18

DEB_B="$VN_TMP/deb"
INST="vnt$$"			# the vnetd@ instance the proxy plays
INSTALLED=0
RUN_MADE=()			# directories under /run this test made

deb_cleanup() {
	local d
	if [ "$INSTALLED" = 1 ]; then
		dpkg --purge vnet >"$VN_TMP/cleanup-purge.log" 2>&1 ||
			{ echo "# cleanup: dpkg --purge vnet failed:"; sed 's/^/# /' "$VN_TMP/cleanup-purge.log"; }
	fi
	for d in "${RUN_MADE[@]}"; do rmdir "$d" 2>/dev/null; done
	# Should a broken postrm leave them, the directories this run saw
	# made go too, when empty (tests 16 and 17 have said so already).
	for d in /etc/vnet /var/lib/vnet; do
		[ "$INSTALLED" = 0 ] && [ "${EXISTED_SET:-0}" = 1 ] && [ -z "${EXISTED[$d]}" ] &&
		    rmdir "$d" 2>/dev/null
	done
}
trap 'rc=$?; deb_cleanup; (exit $rc); vn_cleanup' EXIT

# ---- 1: the build.
t0=$(now_ms)
make -C "$OPS_ROOT" --no-print-directory deb DEB_B="$DEB_B" >"$VN_TMP/make-deb.log" 2>&1
st=$?
DEB=$(ls "$DEB_B"/vnet_*.deb 2>/dev/null | head -n 1)
ok "$([ "$st" = 0 ] && [ -f "$DEB" ]; echo $?)" "make deb builds ${DEB##*/} with dpkg-buildpackage, and its lintian passes ($(( $(now_ms) - t0 )) ms)" ||
	{ diag_file "$VN_TMP/make-deb.log" 40 make-deb.log; fail_rest "no package"; }

# ---- 2: lintian's word, kept in the build's lintian.log.
lintian_clean() {
	local log="$DEB_B/lintian.log" ov="$OPS_ROOT/debian/vnet.lintian-overrides" tag bad=0
	cat "$log"
	grep -Eq '^[EW]: ' "$log" && { echo "an error or a warning is not overridden"; bad=1; }
	# Every override is in the file, under a comment that says why.
	for tag in $(sed -n 's/^O: vnet: \([a-z0-9.+-]*\).*/\1/p' "$log"); do
		awk -v t="$tag" '$0 ~ "^vnet: " t { exit !(prev ~ /^#/) } { prev = $0 } END { }' "$ov" ||
			{ echo "override $tag has no comment above it in $ov"; bad=1; }
	done
	return $bad
}
check "lintian: no error, no warning; each override has its reason in debian/vnet.lintian-overrides" lintian_clean &&
	diag "lintian: $(grep -c . "$DEB_B/lintian.log") lines:" "$(cat "$DEB_B/lintian.log")"

# ---- 3: what it holds.
EXPECTED="/lib/systemd/system/vnetd-metrics@.service
/lib/systemd/system/vnetd-metrics@.timer
/lib/systemd/system/vnetd.service
/lib/systemd/system/vnetd@.service
/usr/libexec/vnet/vnet-capture
/usr/libexec/vnet/vnet-crypt
/usr/libexec/vnet/vnet-inject
/usr/sbin/vnet-pki
/usr/sbin/vnetctl
/usr/sbin/vnetd
/usr/share/doc/vnet/ARCHITECTURE.md.gz
/usr/share/doc/vnet/AUDIT.md.gz
/usr/share/doc/vnet/README.md.gz
/usr/share/doc/vnet/README.selinux
/usr/share/doc/vnet/changelog.gz
/usr/share/doc/vnet/copyright
/usr/share/doc/vnet/examples/host.conf
/usr/share/doc/vnet/examples/proxy.conf
/usr/share/lintian/overrides/vnet
/usr/share/man/man5/vnetd.conf.5.gz
/usr/share/man/man8/vnet-pki.8.gz
/usr/share/man/man8/vnetctl.8.gz
/usr/share/man/man8/vnetd.8.gz
/usr/share/selinux/packages/vnet/vnetd.pp"
ALL_PATHS=$(dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | grep -v '^$' | sort)
contents() {
	local files units
	files=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./|/|' | LC_ALL=C sort)
	[ "$files" = "$EXPECTED" ] || { diff <(echo "$EXPECTED") <(echo "$files"); return 1; }
	dpkg-deb -x "$DEB" "$VN_TMP/x" || return 1
	units=$(grep -h '^Exec' "$VN_TMP/x"/lib/systemd/system/*)
	echo "$units"
	! grep -rq /usr/local "$VN_TMP/x/lib/systemd/system" &&
	    grep -q '^ExecStart=/usr/sbin/vnetd -d -f /etc/vnet/%i.conf$' "$VN_TMP/x/lib/systemd/system/vnetd@.service" &&
	    grep -q '^ExecStart=/usr/sbin/vnetd -d -f /etc/vnet/vnetd.conf$' "$VN_TMP/x/lib/systemd/system/vnetd.service"
}
check "the package holds exactly the daemon, vnetctl, vnet-pki, the three workers, four units naming /usr/sbin, man pages, docs, examples, lintian overrides and the SELinux module" contents

# ---- 4, 5: dpkg -i, and what the postinst made.
BEFORE_USER=$(getent passwd vnetd >/dev/null && echo yes || echo no)
BEFORE_GROUP=$(getent group vnetd >/dev/null && echo yes || echo no)
declare -A EXISTED
for p in $ALL_PATHS /var/empty /etc/vnet /var/lib/vnet /run/vnetd/vnetd.sock; do
	[ -e "$p" ] && EXISTED[$p]=1
done
EXISTED_SET=1
INSTALLED=1
dpkg -i "$DEB" >"$VN_TMP/dpkg-i.log" 2>&1
st=$?
ok "$([ "$st" = 0 ] && [ "$(dpkg-query -W -f='${Status}' vnet)" = "install ok installed" ]; echo $?)" "dpkg -i: installed" ||
	{ diag_file "$VN_TMP/dpkg-i.log"; fail_rest "dpkg -i failed"; }
made() {
	local want got e
	want=$( {
		[ "$BEFORE_USER" = no ] && echo user
		[ "$BEFORE_GROUP" = no ] && echo group
		[ -n "${EXISTED[/var/empty]}" ] || echo "dir /var/empty"
		[ -n "${EXISTED[/etc/vnet]}" ] || echo "dir /etc/vnet"
	} | sort | tr '\n' ' ')
	got=$(sort /var/lib/vnet/created 2>/dev/null | tr '\n' ' ')
	echo "user vnetd before: $BEFORE_USER; /var/empty before: ${EXISTED[/var/empty]:-no}; /etc/vnet before: ${EXISTED[/etc/vnet]:-no}"
	echo "recorded as made: ${got:-nothing}"
	[ "$got" = "$want" ] || { echo "expected: ${want:-nothing}"; return 1; }
	e=$(getent passwd vnetd) || { echo "no user vnetd"; return 1; }
	echo "$e"
	[ "$(echo "$e" | cut -d: -f4)" != 0 ] || { echo "vnetd's gid is 0"; return 1; }
	[ "$(stat -c '%U %a %F' /var/empty)" = "root 755 directory" ] || { stat /var/empty; return 1; }
	[ -d /etc/vnet ] || { echo "no /etc/vnet"; return 1; }
	if pgrep -x vnetd >/dev/null; then
		for e in $(pgrep -x vnetd); do
			[ "$(readlink "/proc/$e/exe")" = /usr/sbin/vnetd ] && { echo "vnetd $e started by the package"; return 1; }
		done
	fi
	return 0
}
check "postinst: the user vnetd, /var/empty (root, 0755) and /etc/vnet exist, exactly the missing ones are recorded as made, and no daemon was started" made

# ---- 6: the installed vnetd checks a file, and knows its installed paths.
topo_up >"$VN_TMP/topo.out" 2>&1 && vn_setup_pki >>"$VN_TMP/topo.out" 2>&1 ||
	{ diag_file "$VN_TMP/topo.out"; fail_rest "no topology"; }
# The instance's file has no control line: its socket is the default one.
sed -i '/^control /d' "$VN_TMP/proxy.conf"
installed_check() {
	local out
	env -u VNET_LIBEXECDIR /usr/sbin/vnetd -n -f "$VN_TMP/proxy.conf" || return 1
	env -u VNET_LIBEXECDIR /usr/sbin/vnetd -n -f "$VN_TMP/host.conf" || return 1
	out=$(/usr/sbin/vnetd -n 2>&1) && { echo "vnetd -n without a file passed: $out"; return 1; }
	echo "$out"
	printf '%s\n' "$out" | grep -qF /etc/vnet/vnetd.conf &&
	    grep -qaF /usr/libexec/vnet /usr/sbin/vnetd
}
check "/usr/sbin/vnetd -n: both files OK; with no -f it reads /etc/vnet/vnetd.conf; its workers are in /usr/libexec/vnet" installed_check

# ---- 7-9: a proxy run as vnetd@$INST runs it, and a host, from /usr.
mkrun() {	# DIR: make it, and remember to remove it, if it is missing
	[ -d "$1" ] && return 0
	mkdir -p "$1" && RUN_MADE=("$1" "${RUN_MADE[@]}")
}
mkrun /run/vnetd && mkrun /run/vnet && mkrun "/run/vnet/$INST" || fail_rest "cannot make /run/vnet/$INST"
start_installed() {	# NAME NS CONF [INSTANCE]
	local name=$1 log="$VN_TMP/$1.log"
	VNETD_LOG[$name]=$log
	VNETD_NS[$name]=$2
	VN_KEEP_LOGS+=("$log")
	echo "---- vnetd start $(date +%T.%N) ----" >>"$log"
	if [ -n "$4" ]; then
		# What vnetd@.service's RuntimeDirectory= and BindPaths= do.
		env -u VNET_LIBEXECDIR unshare --mount --propagation private -- sh -c \
		    'mount --bind "$1" /run/vnetd && shift && exec ip netns exec "$@"' \
		    vnetd@ "/run/vnet/$4" "$2" /usr/sbin/vnetd -d -f "$3" </dev/null >>"$log" 2>&1 &
	else
		env -u VNET_LIBEXECDIR ip netns exec "$2" /usr/sbin/vnetd -d -f "$3" </dev/null >>"$log" 2>&1 &
	fi
	VNETD_PID[$name]=$!
	track "$!"
}
start_installed proxy "$NS_PROXY" "$VN_TMP/proxy.conf" "$INST"
wait_for 5 eval "in_ns $NS_PROXY ss -Hltn 'sport = :$VNET_PORT' | grep -q ."
start_installed host "$NS_HOST" "$VN_TMP/host.conf"
vnetd_wait_link 20 proxy host
ok $? "the installed vnetd (no -x) brings up a proxy as instance $INST and a host: link_up on both" ||
	fail_rest "no link with the installed daemons"
exes() {
	local n k p e bad=0
	for n in proxy host; do
		e=$(readlink "/proc/${VNETD_PID[$n]}/exe"); echo "$n monitor: $e"
		[ "$e" = /usr/sbin/vnetd ] || bad=1
		for k in capture crypt inject; do
			p=$(vnetd_worker "$n" "$k")
			e=$(readlink "/proc/$p/exe" 2>/dev/null); echo "$n $k $p: $e"
			[ "$e" = "/usr/libexec/vnet/vnet-$k" ] || bad=1
		done
	done
	return $bad
}
check "every process runs an installed executable (/usr/sbin/vnetd, /usr/libexec/vnet/vnet-*)" exes
ip -n "$NS_VM" addr add 10.202.0.99/24 dev eth0
check "the VM pings the client through the installed daemons" ping4 "$NS_VM" "$CLIENT_IP"

# ---- 10: vnetctl -i reaches the instance, at its own socket only.
instance_ctl() {
	local out
	[ -S "/run/vnet/$INST/vnetd.sock" ] || { ls -la "/run/vnet/$INST"; return 1; }
	if [ -z "${EXISTED[/run/vnetd/vnetd.sock]}" ] && [ -e /run/vnetd/vnetd.sock ]; then
		echo "the instance made /run/vnetd/vnetd.sock outside its namespace"; return 1
	fi
	out=$(/usr/sbin/vnetctl -i "$INST" -j links) || return 1
	echo "$out"
	printf '%s\n' "$out" | jq -e '.total == 1 and .links[0].host == "vmhost1"' >/dev/null
}
check "vnetctl -i $INST reaches the instance at /run/vnet/$INST/vnetd.sock: one link, vmhost1" instance_ctl

# ---- 11: its metrics, labelled with the instance, against its JSON.
ictl() { /usr/sbin/vnetctl -i "$INST" "$@"; }
inst_metrics() {
	local c
	for c in stats links macs; do ictl -j "$c" >"$VN_TMP/i.$c.1" || return 1; done
	ictl metrics >"$VN_TMP/i.prom" || return 1
	for c in stats links macs; do ictl -j "$c" >"$VN_TMP/i.$c.2" || return 1; done
	"$PY" "$CHECK" "$VN_TMP/i.prom" "$VN_TMP"/i.{stats,links,macs}.1 "$VN_TMP"/i.{stats,links,macs}.2 "$INST"
}
check "vnetctl -i $INST metrics: Prometheus' parser takes it, every sample has vnetd_instance=\"$INST\", values match -j stats/links/macs" inst_metrics

# ---- 12, 13: the packaged timer's command writes the textfile, and
# removes it when the daemon is gone.
TEXTFILE="$VN_TMP/textfile"
mkdir -p "$TEXTFILE"
UNIT_CMD=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/vnetd-metrics@.service |
    sed -e "s|\${TEXTFILE_DIR}|$TEXTFILE|g" -e "s|%i|$INST|g" -e 's/\$\$/$/g')
textfile() {
	local f="$TEXTFILE/vnetd-$INST.prom"
	eval "$UNIT_CMD" || return 1
	ls -l "$TEXTFILE"
	[ "$(stat -c %a "$f")" = 644 ] && [ "$(ls "$TEXTFILE")" = "vnetd-$INST.prom" ] &&
	    "$PY" -c 'import sys
from prometheus_client.parser import text_string_to_metric_families as p
f = list(p(open(sys.argv[1]).read()))
assert any(s.labels.get("host") == "vmhost1" for x in f for s in x.samples if x.name == "vnet_link_up")' "$f"
}
check "vnetd-metrics@$INST.service's command writes $INST's metrics (mode 0644, nothing else) for node_exporter" textfile
vnetd_stop proxy 10 >/dev/null 2>&1
textfile_gone() {
	eval "$UNIT_CMD" && { echo "it succeeded with no daemon"; return 1; }
	[ -z "$(ls "$TEXTFILE")" ] || { ls -l "$TEXTFILE"; return 1; }
}
check "with the instance stopped, the command fails and removes the file (no stale metrics)" textfile_gone

# ---- 14-17: purge, with the host still running.
HOST_PID=${VNETD_PID[host]}
HOST_WORKERS=$(pgrep -P "$HOST_PID" | tr '\n' ' ')
for p in $HOST_WORKERS; do track "$p"; done
dpkg --purge vnet >"$VN_TMP/purge.log" 2>&1
st=$?
[ "$st" = 0 ] && INSTALLED=0
ok "$([ "$st" = 0 ] && [ -z "$(dpkg-query -W -f='${Status}' vnet 2>/dev/null | grep installed)" ]; echo $?)" "dpkg --purge vnet" ||
	diag_file "$VN_TMP/purge.log"
stopped() {
	local p
	alive "$HOST_PID" && { echo "vnetd $HOST_PID still runs"; return 1; }
	for p in $HOST_WORKERS; do alive "$p" && { echo "worker $p still runs"; return 1; }; done
	return 0
}
check "the prerm stopped the running vnetd (started by hand from /usr/sbin) and its workers" stopped
left() {
	local p bad=0
	for p in $ALL_PATHS /var/lib/vnet; do
		if [ -n "${EXISTED[$p]}" ]; then
			[ -e "$p" ] || { echo "$p existed before and is gone"; bad=1; }
		else
			[ -e "$p" ] && { echo "$p is left"; bad=1; }
		fi
	done
	return $bad
}
check "nothing the package installed is left (every file, /usr/libexec/vnet, /usr/share/doc/vnet, /var/lib/vnet), and nothing that was there before is gone" left
yn() { [ -n "${EXISTED[$1]}" ] && echo yes || echo no; }
kept() {
	local bad=0
	for p in /var/empty /etc/vnet; do
		if [ -n "${EXISTED[$p]}" ]; then [ -d "$p" ] || { echo "$p was there before and is gone"; bad=1; }
		else [ -e "$p" ] && { echo "$p, made by the package, is left"; bad=1; }; fi
	done
	if [ "$BEFORE_USER" = yes ]; then getent passwd vnetd >/dev/null || { echo "user vnetd was there before and is gone"; bad=1; }
	else getent passwd vnetd >/dev/null && { echo "user vnetd, made by the package, is left"; bad=1; }; fi
	if [ "$BEFORE_GROUP" = yes ]; then getent group vnetd >/dev/null || { echo "group vnetd was there before and is gone"; bad=1; }
	else getent group vnetd >/dev/null && { echo "group vnetd, made by the package, is left"; bad=1; }; fi
	return $bad
}
# ---- 18: the other path, where the user is missing: the package's own
# maintainer scripts in a private mount namespace, on a copy of /etc
# without the user and group vnetd and on an empty /var/lib, so that
# this machine's users and files are never touched.
fresh_user() {
	local d="$VN_TMP/fresh"
	mkdir -p "$d" && dpkg-deb -e "$DEB" "$d/ctl" && cp -a /etc "$d/etc" || return 1
	unshare --mount --propagation private -- sh -c '
		set -e
		d=$1
		mount --bind "$d/etc" /etc
		mount -t tmpfs tmpfs /var/lib
		sed -i "/^vnetd:/d" /etc/passwd /etc/group /etc/shadow /etc/gshadow
		# (No "! cmd" below: set -e ignores it.)
		[ -z "$(getent passwd vnetd)" ]
		sh "$d/ctl/postinst" configure "" >"$d/log" 2>&1
		echo "made: $(sort /var/lib/vnet/created | tr "\n" " ")"
		[ "$(sort /var/lib/vnet/created | tr "\n" " ")" = "dir /etc/vnet group user " ]
		getent passwd vnetd
		[ "$(getent passwd vnetd | cut -d: -f7)" = /usr/sbin/nologin ]
		[ "$(getent group vnetd | cut -d: -f3)" = "$(getent passwd vnetd | cut -d: -f4)" ]
		sh "$d/ctl/postrm" purge >>"$d/log" 2>&1
		[ -z "$(getent passwd vnetd)" ] || { echo "user vnetd left"; exit 1; }
		[ -z "$(getent group vnetd)" ] || { echo "group vnetd left"; exit 1; }
		[ ! -e /etc/vnet ] || { echo "/etc/vnet left"; exit 1; }
		[ ! -e /var/lib/vnet ] || { echo "/var/lib/vnet left"; exit 1; }
		echo "purged: no user, group, /etc/vnet or /var/lib/vnet left"' fresh "$d"
}
check "with no user vnetd (copies of /etc, in a private namespace): postinst makes user and group vnetd (nologin) and /etc/vnet, records them, and purge removes exactly those" fresh_user

check "what the postinst made is gone, what it found is kept (before: user vnetd $BEFORE_USER, /var/empty $(yn /var/empty), /etc/vnet $(yn /etc/vnet))" kept

tap_done

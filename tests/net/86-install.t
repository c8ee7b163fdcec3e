#!/bin/bash
# SPDX-License-Identifier: ISC
# make install / make uninstall into a DESTDIR, from a copy of the source
# tree (so the shared build directory is never written), inside a mount
# namespace where / is read-only and only the test's temp dir is
# writable: an install that writes anything outside DESTDIR fails there.
# The installed vnetd, running its workers from the installed libexec
# directory, brings a host/proxy pair up, and the installed vnetctl
# reads it. Offloads play no part: the result is the same either way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ops.sh"
vn_prereq
ops_prereq
vn_init
plan 14

SRC="$VN_TMP/src"
DEST="$VN_TMP/dest"
PFX=/usr/local
STAMP="$VN_TMP/stamp"

# What make install must put in DESTDIR, and nothing else.
EXPECTED="$PFX/lib/systemd/system/vnetd.service
$PFX/libexec/vnet/vnet-capture
$PFX/libexec/vnet/vnet-crypt
$PFX/libexec/vnet/vnet-inject
$PFX/sbin/vnet-pki
$PFX/sbin/vnetctl
$PFX/sbin/vnetd
$PFX/share/doc/vnet/examples/host.conf
$PFX/share/doc/vnet/examples/proxy.conf
$PFX/share/man/man5/vnetd.conf.5
$PFX/share/man/man8/vnet-pki.8
$PFX/share/man/man8/vnetctl.8
$PFX/share/man/man8/vnetd.8"

# confined CMD...: run CMD in a private mount namespace in which / is
# read-only and only $VN_TMP is writable (its own bind mount); TMPDIR
# (the compiler's temporary files) points into it.
confined() {
	unshare --mount --propagation private -- /bin/sh -c '
		set -e
		t=$1; shift
		mount --bind "$t" "$t"
		mount -o remount,bind,ro /
		mkdir -p "$t/tmpdir"
		TMPDIR="$t/tmpdir"; export TMPDIR
		exec "$@"' confined "$VN_TMP" "$@"
}

# ---- 1: a copy of the source tree with its build directory (times
# kept, so make rebuilds only what is stale there), without the other
# build trees or VCS data.
copy() {
	mkdir -p "$SRC" &&
	tar -C "$OPS_ROOT" --exclude=./.git --exclude='./build-*' \
	    --exclude=./fuzz/build --exclude=./fuzz/corpus -cf - . | tar -C "$SRC" -xf - &&
	[ -f "$SRC/GNUmakefile" ] && [ ! -e "$SRC/.git" ]
}
check "source tree (and build/) copied to the temp dir: make install never writes the shared build directory" copy

# ---- 2: the confinement works: a write outside the temp dir fails.
out=$(confined sh -c 'touch /var/tmp/vnet-install-probe.$$' 2>&1); st=$?
ok "$([ "$st" != 0 ] && printf '%s\n' "$out" | grep -q 'Read-only file system' &&
    ! ls /var/tmp/vnet-install-probe.* >/dev/null 2>&1; echo $?)" \
    "confinement: in the install namespace a write outside the temp dir fails (EROFS)" || diag "exit $st: $out"
out=$(confined sh -c "touch '$VN_TMP/probe' && rm '$VN_TMP/probe'" 2>&1)
ok $? "confinement: the temp dir itself stays writable" || diag "$out"

# ---- 4: make install, confined.
touch "$STAMP"
sleep 1.1	# the stamp must be older than anything written after it
t0=$(now_ms)
confined make -C "$SRC" -j2 install DESTDIR="$DEST" PREFIX="$PFX" >"$VN_TMP/install.log" 2>&1
st=$?
ok "$([ "$st" = 0 ]; echo $?)" "make install DESTDIR=\$tmp PREFIX=$PFX succeeds with / read-only (build and install: $(( $(now_ms) - t0 )) ms)" ||
	{ diag_file "$VN_TMP/install.log" 30 install.log; fail_rest "make install failed"; }

# ---- 5: exactly the expected files.
got=$(cd "$DEST" && find . -mindepth 1 \( -type f -o -type l \) | sed 's|^\.||' | sort)
is "$got" "$EXPECTED" "DESTDIR holds exactly: vnetd, vnetctl, vnet-pki in sbin; vnet-capture, vnet-crypt, vnet-inject in libexec/vnet; vnetd.8, vnetctl.8, vnet-pki.8, vnetd.conf.5; the two examples; vnetd.service"

# ---- 6: modes, and the installed files are the ones built and shipped.
modes() {
	local f m bad=0
	for f in sbin/vnetd sbin/vnetctl sbin/vnet-pki libexec/vnet/vnet-capture libexec/vnet/vnet-crypt libexec/vnet/vnet-inject; do
		m=$(stat -c %a "$DEST$PFX/$f"); [ "$m" = 755 ] || { echo "$f: mode $m"; bad=1; }
	done
	for f in share/man/man8/vnetd.8 share/man/man8/vnetctl.8 share/man/man8/vnet-pki.8 share/man/man5/vnetd.conf.5 \
	    share/doc/vnet/examples/host.conf share/doc/vnet/examples/proxy.conf lib/systemd/system/vnetd.service; do
		m=$(stat -c %a "$DEST$PFX/$f"); [ "$m" = 644 ] || { echo "$f: mode $m"; bad=1; }
	done
	for f in vnetd vnetctl vnet-capture vnet-crypt vnet-inject; do
		cmp -s "$SRC/build/$f" "$DEST$PFX/$([ "${f#vnet-}" != "$f" ] && echo libexec/vnet || echo sbin)/$f" ||
			{ echo "$f differs from the copy's build/$f"; bad=1; }
	done
	cmp -s "$SRC/doc/vnetctl.8" "$DEST$PFX/share/man/man8/vnetctl.8" || { echo "vnetctl.8 differs"; bad=1; }
	cmp -s "$SRC/ctl/vnet-pki" "$DEST$PFX/sbin/vnet-pki" || { echo "vnet-pki differs"; bad=1; }
	cmp -s "$SRC/etc/vnetd.service" "$DEST$PFX/lib/systemd/system/vnetd.service" || { echo "vnetd.service differs"; bad=1; }
	# The daemon looks for its workers where they were installed.
	grep -qF "$PFX/libexec/vnet" "$DEST$PFX/sbin/vnetd" || { echo "vnetd does not name $PFX/libexec/vnet"; bad=1; }
	return $bad
}
check "programs 0755, pages/examples/unit 0644; identical to the copy's build and sources; vnetd's compiled-in worker directory is $PFX/libexec/vnet" modes

# ---- 7: nothing was written outside DESTDIR (belt and braces: files
# newer than the stamp under the install prefix and /etc).
new=$(find "$PFX" /etc /lib/systemd/system /usr/lib/systemd/system -xdev -newer "$STAMP" \
    \( -name 'vnet*' -o -path '*/vnet/*' \) 2>/dev/null | head -n 20)
ok "$([ -z "$new" ]; echo $?)" "no vnet file newer than the install under $PFX, /etc or the systemd unit directories" || diag "$new"

# ---- 8: the installed man pages render cleanly.
check "installed vnetd.8, vnetctl.8, vnet-pki.8 and vnetd.conf.5 pass mandoc -Tlint -Wwarning" \
    mandoc -Tlint -Wwarning "$DEST$PFX/share/man/man8/vnetd.8" "$DEST$PFX/share/man/man8/vnetctl.8" \
    "$DEST$PFX/share/man/man8/vnet-pki.8" \
    "$DEST$PFX/share/man/man5/vnetd.conf.5"

# ---- 9-11: the installed programs run a pair.
IVNETD="$DEST$PFX/sbin/vnetd"
IXDIR="$DEST$PFX/libexec/vnet"
ivnetd_start() {	# NAME NS CONF
	local name=$1 log="$VN_TMP/$1.log" pid
	VNETD_LOG[$name]=$log
	VNETD_NS[$name]=$2
	echo "---- vnetd start $(date +%T.%N) ----" >>"$log"
	ip netns exec "$2" "$IVNETD" -d -f "$3" -x "$IXDIR" </dev/null >>"$log" 2>&1 &
	pid=$!
	track "$pid"
	VNETD_PID[$name]=$pid
	VN_KEEP_LOGS+=("$log")
}
pair() {
	topo_up && vn_setup_pki || return 1
	"$IVNETD" -n -f "$VN_TMP/proxy.conf" && "$IVNETD" -n -f "$VN_TMP/host.conf" || return 1
	ivnetd_start proxy "$NS_PROXY" "$VN_TMP/proxy.conf"
	wait_for 5 eval "in_ns $NS_PROXY ss -Hltn 'sport = :$VNET_PORT' | grep -q ."
	ivnetd_start host "$NS_HOST" "$VN_TMP/host.conf"
}
pair >"$VN_TMP/pair.out" 2>&1
vnetd_wait_link 20 proxy host
ok $? "the installed vnetd (-x $PFX/libexec/vnet in DESTDIR) brings a host/proxy pair up: link_up on both" ||
	{ diag "$(cat "$VN_TMP/pair.out")"; fail_rest "no link with the installed daemon"; }
exes() {
	local n k p e bad=0
	for n in proxy host; do
		e=$(readlink "/proc/${VNETD_PID[$n]}/exe"); echo "$n monitor: $e"
		[ "$e" = "$IVNETD" ] || bad=1
		for k in capture crypt inject; do
			p=$(vnetd_worker "$n" "$k")
			e=$(readlink "/proc/$p/exe" 2>/dev/null); echo "$n $k $p: $e"
			[ "$e" = "$IXDIR/vnet-$k" ] || bad=1
		done
	done
	return $bad
}
check "every process runs an installed executable (monitor from sbin, workers from libexec/vnet)" exes
ip -n "$NS_VM" addr add 10.202.0.99/24 dev eth0
check "the VM pings the client through the installed daemons" ping4 "$NS_VM" "$CLIENT_IP"
out=$("$DEST$PFX/sbin/vnetctl" -s "$(conf_control "$VN_TMP/proxy.conf")" -j links 2>&1)
ok "$(printf '%s\n' "$out" | jq -e '.total == 1 and .links[0].host == "vmhost1" and .links[0].tls == "TLSv1.3"' >/dev/null; echo $?)" \
    "the installed vnetctl reads the proxy: one link, vmhost1, TLSv1.3" || diag "$out"
vnetd_stop host 10 >/dev/null 2>&1
vnetd_stop proxy 10 >/dev/null 2>&1

# ---- 13, 14: make uninstall, confined, removes every file.
confined make -C "$SRC" uninstall DESTDIR="$DEST" PREFIX="$PFX" >"$VN_TMP/uninstall.log" 2>&1
st=$?
left=$(cd "$DEST" && find . -mindepth 1 \( -type f -o -type l \) | sed 's|^\.||')
ok "$([ "$st" = 0 ] && [ -z "$left" ]; echo $?)" "make uninstall DESTDIR=\$tmp PREFIX=$PFX (confined) exits 0 and removes every installed file" ||
	{ diag "exit $st; left: $left"; diag_file "$VN_TMP/uninstall.log" 10 uninstall.log; }
dirs=$(cd "$DEST" && find . -mindepth 1 -type d \( -path "*/libexec/vnet" -o -path "*/share/doc/vnet*" \))
ok "$([ -z "$dirs" ]; echo $?)" "and the package's own directories (libexec/vnet, share/doc/vnet) are gone" || diag "$dirs"

tap_done

#!/bin/bash
# SPDX-License-Identifier: ISC
# The SELinux policy module in selinux/: build it with Debian's refpolicy
# development files, install it into a private copy of the installed
# selinux-policy-default store (semodule -p TMPROOT), and check the kernel
# policy that comes out with sesearch. SELinux need not be enabled on the
# running kernel, and the system's own store is never touched.
#
# VNET_SELINUX_DIR=DIR checks the module in DIR instead of selinux/ (how
# a deliberately broken copy is shown to fail).
#
# Needs (Debian): selinux-policy-dev selinux-policy-default
# policycoreutils semodule-utils checkpolicy setools selinux-utils make m4
. "$(dirname "$0")/lib.sh"
vn_init

SRC=${VNET_SELINUX_DIR:-$(cd "$(dirname "$0")/../../selinux" 2>/dev/null && pwd)}
DEVEL=/usr/share/selinux/devel/Makefile
STORE=/var/lib/selinux/default
ETC=/etc/selinux/default

[ "$(id -u)" = 0 ] || bail "must run as root (the installed policy store is readable by root only)"
export PATH="$PATH:/usr/sbin:/sbin"
missing=""
for t in make m4 checkmodule semodule_package semodule sesearch seinfo matchpathcon sha256sum; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
[ -z "$missing" ] || bail "missing tools:$missing (apt-get install selinux-policy-dev policycoreutils semodule-utils checkpolicy setools selinux-utils make m4)"
[ -f "$DEVEL" ] || bail "no $DEVEL (apt-get install selinux-policy-dev)"
[ -d "$STORE/active" ] && [ -d "$ETC/policy" ] ||
	bail "no installed default policy store in $STORE and $ETC (apt-get install selinux-policy-default)"
for f in vnetd.te vnetd.fc vnetd.if; do
	[ -f "$SRC/$f" ] || bail "no $SRC/$f"
done

plan 25

VN_WORKERS="vnet_capture_t vnet_crypt_t vnet_inject_t"
VN_DOMAINS="vnetd_t $VN_WORKERS"
ROOT=$VN_TMP/root
POL=""

# The rules are read once: every rule whose source is one of vnet's
# domains or an attribute it has (sesearch -A -s D, targets as written),
# the type transitions, and the attribute members (seinfo -a -x). The
# checks below read these files, so each costs no policy load.
R=$VN_TMP/rules
mkdir -p "$R"
dump_rules() {
	local d
	for d in $VN_DOMAINS; do
		sesearch -A -s "$d" "$POL" >"$R/$d" 2>"$R/err" ||
			{ echo "sesearch -A -s $d: $(cat "$R/$d" "$R/err")"; return 1; }
		[ -s "$R/$d" ] || { echo "no rule at all for $d"; return 1; }
	done
	sesearch -T -s vnetd_t "$POL" >"$R/T.from-vnetd_t" 2>"$R/err" &&
		sesearch -T -t vnetd_exec_t "$POL" >"$R/T.to-vnetd_exec_t" 2>>"$R/err" &&
		seinfo -a -x "$POL" >"$R/attrs" 2>>"$R/err" || { cat "$R/err"; return 1; }
}

# targets T: T and every attribute T has (a rule on either applies to T).
targets() {
	echo "$1"
	awk -v t="$1" '/^ +attribute /{ a = $2; sub(/;$/, "", a); next } $1 == t { print a }' "$R/attrs"
}

# The base policy lets every daemon use sockets inherited from init
# (systemd socket activation), "allow daemon init_t:tcp_socket { getattr
# getopt ioctl read setopt write };" and the same for every socket class.
# vnet ships no socket unit, so init never hands vnetd one; that rule, and
# only exactly that rule, is not this module's and is left out.
BASE_RULE='^allow daemon init_t:[a-z0-9_]+ \\{ getattr getopt ioctl read setopt write \\};$'

# has D CLASS PERM [TARGET]: the rules by which D (or an attribute it has)
# holds PERM on CLASS (of TARGET); exit 0 if there is one. Conditional
# rules count whatever their boolean's default.
has() {
	local d=$1 c=$2 p=$3 ts=""
	[ -f "$R/$d" ] || { echo "no rules read for $d"; return 2; }
	[ -n "$4" ] && ts=" $(targets "$4" | tr '\n' ' ')"
	awk -v c="$c" -v p="$p" -v ts="$ts" -v BASE="$BASE_RULE" '
		$1 != "allow" { next }
		$0 ~ BASE { next }
		{
			split($3, a, ":")
			if (a[2] != c || (ts != "" && index(ts, " " a[1] " ") == 0))
				next
			r = $0; sub(/;.*/, "", r); n = split(r, f, /[ {}]+/)
			for (i = 4; i <= n; i++)
				if (f[i] == p) { print; found = 1; next }
		}
		END { exit !found }' "$R/$d"
}

# only WHO CLASS PERM [TARGET]: among vnet's domains exactly those in WHO
# hold PERM on CLASS (of TARGET).
only() {
	local who=" $1 " c=$2 p=$3 t=$4 d out st bad=0
	for d in $VN_DOMAINS; do
		out=$(has "$d" "$c" "$p" $t); st=$?
		if [ "$st" -eq 2 ]; then
			echo "$out"; bad=1
		elif [ "$st" -eq 0 ] && [[ "$who" != *" $d "* ]]; then
			echo "$d must not have $c $p${t:+ on $t}, but:"; echo "$out"; bad=1
		elif [ "$st" -eq 1 ] && [[ "$who" == *" $d "* ]]; then
			echo "$d should have $c $p${t:+ on $t} and has not"; bad=1
		fi
	done
	return $bad
}

# perms D CLASS: "TARGET:PERM" pairs D holds on CLASS, sorted, one line.
perms() {
	awk -v c="$2" -v BASE="$BASE_RULE" '
		$1 != "allow" { next }
		$0 ~ BASE { next }
		{
			split($3, a, ":")
			if (a[2] != c) next
			r = $0; sub(/;.*/, "", r); n = split(r, f, /[ {}]+/)
			for (i = 4; i <= n; i++) if (f[i] != "") print a[1] ":" f[i]
		}' "$R/$1" | sort -u | tr '\n' ' '
}

# ---------------------------------------------------------------- build

B=$VN_TMP/build
mkdir -p "$B"
cp "$SRC"/vnetd.te "$SRC"/vnetd.fc "$SRC"/vnetd.if "$B"/
check "the module builds: make -f $DEVEL vnetd.pp" \
    make -C "$B" -f "$DEVEL" vnetd.pp						# 1

# ---------------------------------------------------------------- store

# A private copy of the installed store and policy under $ROOT; semodule
# -p makes every path relative to it and -n loads nothing into a kernel.
sum_before=$(cd / && find "${STORE#/}" "${ETC#/}" -type f -exec sha256sum {} + 2>/dev/null | sort -k2 | sha256sum)
mkdir -p "$ROOT/etc/selinux" "$ROOT/var/lib/selinux"
cp -a "$ETC" "$ROOT/etc/selinux/" &&
	cp -a /etc/selinux/semanage.conf "$ROOT/etc/selinux/" &&
	cp -a "$STORE" "$ROOT/var/lib/selinux/" &&
	rm -f "$ROOT$STORE"/*.LOCK ||
	fail_rest "cannot copy the installed store and policy to $ROOT"
# cp -a kept the old times: what semodule writes is newer than this mark.
touch -d "@$(( $(date +%s) - 2 ))" "$VN_TMP/mark"
install_mod() {
	[ -f "$B/vnetd.pp" ] || { echo "no vnetd.pp (the build failed)"; return 1; }
	semodule -n -p "$ROOT" -s default -i "$B/vnetd.pp" 2>&1 |
		grep -v 'libsemanage.add_user: user .* not in password file'
	[ "${PIPESTATUS[0]}" -eq 0 ] || return 1
	semodule -p "$ROOT" -s default -l | grep -qx 'vnetd' ||
		{ echo "vnetd not listed by semodule -p TMPROOT -l"; return 1; }
	new_policy >/dev/null || { echo "no new binary policy in $ROOT$ETC/policy"; return 1; }
}
# new_policy: the binary policy semodule wrote (policy.NN, newest version).
new_policy() {
	local p
	p=$(ls -1 "$ROOT$ETC"/policy/policy.[0-9]* 2>/dev/null | sort -V | tail -n 1)
	[ -n "$p" ] && [ "$p" -nt "$VN_TMP/mark" ] && echo "$p"
}
check "installed into a private copy of the default store (semodule -n -p TMPROOT -s default -i)" \
    install_mod									# 2
POL=$(new_policy) || fail_rest "no policy with the vnetd module was built"
diag "policy under test: ${POL#$VN_TMP/}"
out=$(dump_rules) || fail_rest "cannot read the rules of the built policy: $out"

sum_after=$(cd / && find "${STORE#/}" "${ETC#/}" -type f -exec sha256sum {} + 2>/dev/null | sort -k2 | sha256sum)
is "$sum_after" "$sum_before" "the system's own store and policy ($STORE, $ETC) are unchanged"	# 3

# ---------------------------------------------------------------- transitions

# transition SRC EXEC DOM: type_transition, allow transition, entrypoint,
# execute.
transition() {
	local s=$1 x=$2 d=$3 bad=0
	grep -qx "type_transition $s $x:process $d;" "$R/T.from-$s" ||
		{ echo "no 'type_transition $s $x:process $d;'"; cat "$R/T.from-$s"; bad=1; }
	has "$s" process transition "$d" >/dev/null ||
		{ echo "$s has no process transition to $d"; bad=1; }
	has "$d" file entrypoint "$x" >/dev/null ||
		{ echo "$d has no entrypoint on $x"; bad=1; }
	has "$s" file execute "$x" >/dev/null ||
		{ echo "$s cannot execute $x"; bad=1; }
	return $bad
}
for w in capture crypt inject; do
	check "vnetd_t -> vnet_${w}_t on exec of vnet_${w}_exec_t (type_transition, transition, entrypoint, execute)" \
	    transition vnetd_t "vnet_${w}_exec_t" "vnet_${w}_t"		# 4-6
done

# The monitor runs with no_new_privs (its seccomp filter) when it starts
# a worker: without nnp_transition the exec fails with EPERM.
nnp() {
	local w bad=0
	for w in $VN_WORKERS; do
		has vnetd_t process2 nnp_transition "$w" >/dev/null ||
			{ echo "no process2 nnp_transition from vnetd_t to $w"; bad=1; }
	done
	return $bad
}
check "vnetd_t may enter each worker domain under no_new_privs (process2 nnp_transition)" nnp	# 7

# etc/vnetd.service sets NoNewPrivileges=yes: init must be allowed to
# enter vnetd_t under no_new_privs too.
init_trans() {
	local out
	cat "$R/T.to-vnetd_exec_t"
	grep -qx 'type_transition initrc_t vnetd_exec_t:process vnetd_t;' "$R/T.to-vnetd_exec_t" &&
		grep -qx 'type_transition init_t vnetd_exec_t:process vnetd_t;' "$R/T.to-vnetd_exec_t" ||
		{ echo "no type_transition from init_t and initrc_t"; return 1; }
	out=$(sesearch -A -s init_t -t vnetd_t -c process2 -p nnp_transition "$POL" 2>&1) &&
		[ -n "$out" ] || { echo "no process2 nnp_transition from init_t to vnetd_t: $out"; return 1; }
}
check "init and init scripts start vnetd in vnetd_t (init_daemon_domain), also under NoNewPrivileges" init_trans	# 8

# ---------------------------------------------------------------- raw packets

check "packet_socket create: among vnet domains only vnet_capture_t and vnet_inject_t" \
    only "vnet_capture_t vnet_inject_t" packet_socket create			# 9
check "capability net_raw: among vnet domains only vnet_capture_t and vnet_inject_t (not the monitor)" \
    only "vnet_capture_t vnet_inject_t" capability net_raw			# 10

# The monitor: exactly what it uses itself (setpcap, kill, net_admin,
# net_bind_service). net_raw, sys_chroot, setuid and setgid are only
# passed on to the workers and need no SELinux permission in vnetd_t.
mon_caps() {
	local got
	got=$(perms vnetd_t capability | sed 's/[^ ]*://g')
	[ "$got" = "kill net_admin net_bind_service setpcap " ] ||
		{ echo "capabilities of vnetd_t: '$got'"; return 1; }
}
check "vnetd_t's capabilities are exactly kill net_admin net_bind_service setpcap" mon_caps	# 11

# ---------------------------------------------------------------- TCP

check "tcp_socket connect: among vnet domains only vnet_crypt_t" \
    only vnet_crypt_t tcp_socket connect					# 12

name_connect() {
	local out bad=0 t
	only vnet_crypt_t tcp_socket name_connect || bad=1
	# ... and crypt to nothing but vnetd_port_t.
	out=$(has vnet_crypt_t tcp_socket name_connect)
	for t in $(printf '%s\n' "$out" | awk '$1 == "allow" { split($3, a, ":"); print a[1] }' | sort -u); do
		[ "$t" = vnetd_port_t ] || { echo "vnet_crypt_t may name_connect to $t:"; echo "$out"; bad=1; }
	done
	has vnet_crypt_t tcp_socket name_connect vnetd_port_t >/dev/null ||
		{ echo "vnet_crypt_t cannot name_connect to vnetd_port_t"; bad=1; }
	return $bad
}
check "tcp_socket name_connect: among vnet domains only vnet_crypt_t, and only to vnetd_port_t" \
    name_connect								# 13

tcp_io() {
	local p bad=0
	for p in read write accept; do
		only vnet_crypt_t tcp_socket "$p" || bad=1
	done
	return $bad
}
check "tcp_socket read, write, accept: among vnet domains only vnet_crypt_t" tcp_io	# 14

# The monitor makes the proxy's listening socket and hands it to crypt:
# create, setopt (SO_REUSEADDR), bind (name_bind on the port, node_bind
# on the address), listen, and nothing else. (recvfrom on peer labels is
# the base policy's labelled-networking rule for every domain.)
mon_tcp() {
	local got
	got=$(perms vnetd_t tcp_socket | tr ' ' '\n' | grep -v ':recvfrom$' | tr '\n' ' ')
	[ "$got" = "node_t:node_bind vnetd_port_t:name_bind vnetd_t:bind vnetd_t:create vnetd_t:listen vnetd_t:setopt " ] ||
		{ echo "vnetd_t tcp_socket rights: '$got'"; grep ':tcp_socket ' "$R/vnetd_t"; return 1; }
}
check "vnetd_t's TCP rights are only create, setopt, bind (vnetd_port_t), listen on its own socket" mon_tcp	# 15

port_type() {
	targets vnetd_port_t | grep -qx port_type ||
		{ echo "vnetd_port_t has attributes: $(targets vnetd_port_t | tr '\n' ' ')"; return 1; }
}
check "vnetd_port_t is a port type (semanage port -a -t vnetd_port_t -p tcp 4789)" port_type	# 16

# ---------------------------------------------------------------- files

# no_secrets W: no read (file, lnk_file) on the configuration or keys.
no_secrets() {
	local w=$1 t c out st bad=0
	for t in vnetd_conf_t vnetd_key_t; do
		for c in file lnk_file; do
			out=$(has "$w" "$c" read "$t"); st=$?
			[ "$st" -eq 1 ] && continue
			echo "$w: $c read on $t:"; echo "$out"; bad=1
		done
	done
	return $bad
}
for w in $VN_WORKERS; do
	check "$w has no read on vnetd_conf_t or vnetd_key_t" no_secrets "$w"	# 17-19
done

mon_reads() {
	has vnetd_t file read vnetd_conf_t && has vnetd_t file read vnetd_key_t
}
check "vnetd_t reads vnetd_conf_t and vnetd_key_t" mon_reads			# 20

# What each worker may read before its drop, and nothing more:
#   every domain (base policy): ld.so, ld.so.cache, shared libraries,
#     /sys/devices/system/cpu/online, /proc/sys/crypto;
#   its own executable and its own /proc/PID;
#   etc_t: /etc/nsswitch.conf, /etc/passwd (getpwnam of the worker user);
#   sysctl_kernel_t: /proc/sys/kernel/cap_last_cap (libcap-ng);
#   capture: sysfs_t (libpcap: /sys/class/net/IF/...);
#   crypt: cert_t (OpenSSL's openssl.cnf; the keys come as messages);
#   every worker: vnetd_tmpfs_t, the data rings it maps (test 25).
MIN_READ="cpu_online_t etc_t ld_so_cache_t ld_so_t lib_t sysctl_crypto_t sysctl_kernel_t textrel_shlib_t"
file_reads() {
	local w=$1 extra=$2 allowed out t bad=0
	allowed=" $MIN_READ $w ${w%_t}_exec_t vnetd_tmpfs_t $extra "
	out=$(has "$w" file read)
	for t in $(printf '%s\n' "$out" | awk '$1 == "allow" { split($3, a, ":"); print a[1] }' | sort -u); do
		case "$allowed" in
		*" $t "*) ;;
		*) echo "$w may read files of type $t:"; printf '%s\n' "$out" | grep " $t:file "; bad=1 ;;
		esac
	done
	return $bad
}
check "vnet_capture_t reads only: $MIN_READ sysfs_t, itself, its executable" \
    file_reads vnet_capture_t sysfs_t						# 21
check "vnet_crypt_t reads only: $MIN_READ cert_t, itself, its executable" \
    file_reads vnet_crypt_t cert_t						# 22
check "vnet_inject_t reads only: $MIN_READ, itself, its executable" \
    file_reads vnet_inject_t ""							# 23

# ---------------------------------------------------------------- labels

labels() {
	local fc="$ROOT$ETC/contexts/files/file_contexts" bad=0 p want got
	while read -r p want; do
		got=$(matchpathcon -f "$fc" "$p" 2>&1 | awk '{ print $2 }')
		[ "${got#*:object_r:}" = "$want:s0" ] ||
			{ echo "$p: got '$got', want $want"; bad=1; }
	done <<-EOF
	/usr/sbin/vnetd vnetd_exec_t
	/usr/local/sbin/vnetd vnetd_exec_t
	/usr/libexec/vnet/vnet-capture vnet_capture_exec_t
	/usr/libexec/vnet/vnet-crypt vnet_crypt_exec_t
	/usr/libexec/vnet/vnet-inject vnet_inject_exec_t
	/usr/local/libexec/vnet/vnet-capture vnet_capture_exec_t
	/usr/local/libexec/vnet/vnet-crypt vnet_crypt_exec_t
	/usr/local/libexec/vnet/vnet-inject vnet_inject_exec_t
	/etc/vnet vnetd_conf_t
	/etc/vnet/vnetd.conf vnetd_conf_t
	/etc/vnet/ca.crt vnetd_conf_t
	/etc/vnet/host.key vnetd_key_t
	/etc/vnet/private/proxy.pem vnetd_key_t
	/var/empty var_t
	EOF
	return $bad
}
check "file contexts: executables, /etc/vnet, keys; /var/empty keeps var_t" labels	# 24

# ---------------------------------------------------------------- data rings

# The monitor's memfds get vnetd_tmpfs_t (not the shared tmpfs_t); it
# creates them, each worker maps them, and no vnet domain may map any
# other tmpfs file.
rings() {
	local bad=0 out t
	grep -qx 'type_transition vnetd_t tmpfs_t:file vnetd_tmpfs_t;' "$R/T.from-vnetd_t" ||
		{ echo "no 'type_transition vnetd_t tmpfs_t:file vnetd_tmpfs_t;'"; bad=1; }
	only vnetd_t file create vnetd_tmpfs_t || bad=1
	only "$VN_DOMAINS" file map vnetd_tmpfs_t || bad=1
	for d in $VN_DOMAINS; do
		out=$(has "$d" file map)
		for t in $(printf '%s\n' "$out" | awk '$1 == "allow" { split($3, a, ":"); print a[1] }' | sort -u); do
			case " $(targets tmpfs_t | tr '\n' ' ') " in
			*" $t "*) echo "$d may map every tmpfs file ($t)"; bad=1 ;;
			esac
		done
	done
	return $bad
}
check "data rings: vnetd_t creates vnetd_tmpfs_t memfds, every vnet domain maps them, none maps tmpfs_t" rings	# 25

tap_done

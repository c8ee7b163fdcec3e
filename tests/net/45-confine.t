#!/bin/bash
# SPDX-License-Identifier: ISC
# Confinement as the kernel sees it, while traffic flows: every worker of
# both daemons runs as user vnetd (all uids and gids), holds no capability
# in any set, has no_new_privs and a seccomp filter, is chrooted to the
# configured directory and holds no descriptor to a file or directory;
# each monitor has its seccomp filter and exactly the documented six
# capabilities (effective and bounding). The data path still works.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 48

# CAP_KILL(5) CAP_SETGID(6) CAP_SETUID(7) CAP_SETPCAP(8) CAP_NET_RAW(13)
# CAP_SYS_CHROOT(18): the monitor's set (monitor/vnetd.c monitor_caps).
MONITOR_CAPS=00000000000421e0
ZERO_CAPS=0000000000000000
VM_STATIC_IP=10.202.0.99

topo_up_tap								# 1
check "certificates and configurations generated" vn_setup_pki	# 2
start_pair_tap								# 3

# 4, 5: traffic both ways, so that capture, crypt and inject of both
# daemons have all run their data path before we look at them.
ip -n "$NS_VM" addr add "$VM_STATIC_IP/24" dev eth0
VM_IP=$VM_STATIC_IP
check "VM pings the client ($VM_IP -> $CLIENT_IP)" ping4 "$NS_VM" "$CLIENT_IP"
check "client pings the VM ($CLIENT_IP -> $VM_IP)" ping4 "$NS_CLIENT" "$VM_IP"

# conf_value FILE KEY: the value of a "KEY VALUE" line of a config.
conf_value() {
	awk -v k="$2" '$1 == k { print $2; exit }' "$1"
}

VNETD_UID=$(id -u vnetd)
VNETD_GID=$(id -g vnetd)

# ---- snapshot: /proc/PID/status, root and descriptors of every process.
declare -A P_ROLE P_DAEMON P_STATUS P_ROOT P_FDS
PROCS=()	# monitor first, then its workers, for each daemon
snapshot() {	# DAEMON ROLE PID
	local pid=$3
	P_DAEMON[$pid]=$1
	P_ROLE[$pid]=$2
	P_STATUS[$pid]=$(cat "/proc/$pid/status" 2>/dev/null)
	P_ROOT[$pid]=$(readlink "/proc/$pid/root" 2>/dev/null)
	# "FD -> TARGET" per descriptor, sorted by number.
	P_FDS[$pid]=$(for f in "/proc/$pid/fd/"*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		echo "${f##*/} -> $(readlink "$f" 2>/dev/null)"
	done | sort -n)
	PROCS+=("$pid")
}

# field PID NAME: the value(s) of "NAME:" in the snapshot, tabs as spaces.
field() {
	printf '%s\n' "${P_STATUS[$1]}" | awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ +/, ""); print; exit }'
}

# 6: find the processes: a monitor and exactly three workers per daemon.
declare -A WPID
find_out=""
find_st=0
for d in host proxy; do
	mon=${VNETD_PID[$d]}
	if ! alive "$mon"; then
		find_out="$find_out$d: monitor $mon is not running"$'\n'
		find_st=1
		continue
	fi
	snapshot "$d" vnetd "$mon"
	kids=$(pgrep -P "$mon" | sort -n | tr '\n' ' ')
	find_out="$find_out$d: monitor $mon, children: $kids"$'\n'
	[ "$(echo $kids | wc -w)" -eq 3 ] || { find_out="$find_out$d: expected 3 children"$'\n'; find_st=1; }
	for k in capture crypt inject; do
		p=$(vnetd_worker "$d" "$k")
		if [ -z "$p" ]; then
			find_out="$find_out$d: no vnet-$k child"$'\n'
			find_st=1
			continue
		fi
		WPID[$d.$k]=$p
		snapshot "$d" "vnet-$k" "$p"
	done
done
ok "$find_st" "both daemons: a running monitor with exactly three children, vnet-capture, vnet-crypt and vnet-inject"
diag "${find_out%$'\n'}"

# ---- the table (quoted in reports).
uniq4() {	# "a b c d" -> "a" when all equal, else "a/b/c/d"
	local a=$1
	if [ "$#" -eq 4 ] && [ "$1" = "$2" ] && [ "$2" = "$3" ] && [ "$3" = "$4" ]; then
		echo "$a"
	else
		echo "$*" | tr ' ' '/'
	fi
}
table() {
	local p
	printf '%-5s %-12s %-6s %-5s %-5s %-16s %-16s %-16s %-16s %-16s %-3s %-3s %-10s %s\n' \
	    daemon process pid Uid Gid CapInh CapPrm CapEff CapBnd CapAmb NNP Sec root fds
	for p in "${PROCS[@]}"; do
		printf '%-5s %-12s %-6s %-5s %-5s %-16s %-16s %-16s %-16s %-16s %-3s %-3s %-10s %s\n' \
		    "${P_DAEMON[$p]}" "${P_ROLE[$p]}" "$p" \
		    "$(uniq4 $(field "$p" Uid))" "$(uniq4 $(field "$p" Gid))" \
		    "$(field "$p" CapInh)" "$(field "$p" CapPrm)" "$(field "$p" CapEff)" \
		    "$(field "$p" CapBnd)" "$(field "$p" CapAmb)" \
		    "$(field "$p" NoNewPrivs)" "$(field "$p" Seccomp)" "${P_ROOT[$p]}" \
		    "$(printf '%s\n' "${P_FDS[$p]}" | grep -c .)"
	done
}
diag "/proc/PID/status per process (Uid, Gid: one value when all four fields are equal; NNP = NoNewPrivs; Sec = Seccomp mode; fds = open descriptors):"
diag "$(table)"

# ---- workers: 5 tests each, 7-36.
worker_ids() {	# PID
	local p=$1 bad=0 f v x want
	for f in Uid Gid; do
		v=$(field "$p" $f)
		echo "$f: $v"
		[ "$f" = Uid ] && want=$VNETD_UID || want=$VNETD_GID
		set -- $v
		[ "$#" -eq 4 ] || { echo "$f has $# fields, expected 4"; bad=1; }
		for x in "$@"; do
			[ "$x" != 0 ] && [ "$x" = "$want" ] ||
				{ echo "$f field $x: expected $want (user $WORKER_USER), never 0"; bad=1; }
		done
	done
	echo "Groups: $(field "$p" Groups)"
	return $bad
}
worker_caps() {
	local p=$1 bad=0 f v
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		v=$(field "$p" $f)
		echo "$f: $v"
		[ "$v" = "$ZERO_CAPS" ] || { echo "$f is $v, expected $ZERO_CAPS"; bad=1; }
	done
	return $bad
}
worker_nnp_seccomp() {
	local p=$1 bad=0 v
	v=$(field "$p" NoNewPrivs); echo "NoNewPrivs: $v"
	[ "$v" = 1 ] || { echo "NoNewPrivs is '$v', expected 1"; bad=1; }
	v=$(field "$p" Seccomp); echo "Seccomp: $v ($(field "$p" Seccomp_filters) filters)"
	[ "$v" = 2 ] || { echo "Seccomp is '$v', expected 2 (filter mode)"; bad=1; }
	return $bad
}
# worker_fds PID: every descriptor is a socket, pipe, anonymous inode or
# /dev/null; nothing that names a file or directory.
worker_fds() {
	local p=$1 bad=0 fd target type
	while read -r fd _ target; do
		[ -n "$fd" ] || continue
		type=$(stat -L -c %F "/proc/$p/fd/$fd" 2>/dev/null || echo "?")
		case "$target" in
		socket:\[*\]|pipe:\[*\]|anon_inode:*|/dev/null)
			echo "fd $fd -> $target ($type)" ;;
		*)
			echo "fd $fd -> $target ($type)  <-- not a socket, pipe, anon_inode or /dev/null"
			bad=1 ;;
		esac
	done <<<"${P_FDS[$p]}"
	[ -n "${P_FDS[$p]}" ] || { echo "no descriptors read"; bad=1; }
	return $bad
}

# report DESC FUNC PID: FUNC's output always as diagnostics.
report() {
	local desc=$1 fn=$2 p=$3 out st
	out=$($fn "$p" 2>&1); st=$?
	ok "$st" "$desc"
	diag "$out"
	return $st
}

for d in host proxy; do
	CONF=$VN_TMP/$d.conf
	WORKER_USER=$(conf_value "$CONF" user)
	CHROOT=$(conf_value "$CONF" chroot)
	if [ "$WORKER_USER" != vnetd ]; then
		diag "$d.conf names user '$WORKER_USER'; expected vnetd"
	fi
	for k in capture crypt inject; do
		p=${WPID[$d.$k]:-0}
		w="$d vnet-$k (pid $p)"
		report "$w: Uid and Gid, all four fields, are user vnetd ($VNETD_UID/$VNETD_GID), not 0" worker_ids "$p"
		report "$w: CapInh, CapPrm, CapEff, CapBnd, CapAmb all $ZERO_CAPS" worker_caps "$p"
		report "$w: NoNewPrivs 1, Seccomp 2" worker_nnp_seccomp "$p"
		is "${P_ROOT[$p]}" "$CHROOT" "$w: /proc/PID/root is the configured chroot $CHROOT"
		report "$w: only sockets, pipes, anon inodes, /dev/null as descriptors (no file, no directory)" worker_fds "$p"
	done
done

# ---- monitors: 3 tests each, 37-42.
for d in host proxy; do
	p=${VNETD_PID[$d]}
	w="$d vnetd monitor (pid $p)"
	uid=$(field "$p" Uid)
	is "$uid" "0 0 0 0" "$w: Uid 0 (all four fields)"
	is "$(field "$p" Seccomp)" 2 "$w: Seccomp 2 (filter mode)"
	got="CapEff=$(field "$p" CapEff) CapBnd=$(field "$p" CapBnd)"
	is "$got" "CapEff=$MONITOR_CAPS CapBnd=$MONITOR_CAPS" \
	    "$w: CapEff and CapBnd exactly $MONITOR_CAPS (KILL SETGID SETUID SETPCAP NET_RAW SYS_CHROOT)"
	diag "CapInh $(field "$p" CapInh) CapPrm $(field "$p" CapPrm) CapAmb $(field "$p" CapAmb) NoNewPrivs $(field "$p" NoNewPrivs)"
done

# ---- 43-45: the data path still works, confined.
check "confined: VM pings the client ($VM_IP -> $CLIENT_IP)" ping4 "$NS_VM" "$CLIENT_IP"
check "confined: client pings the VM ($CLIENT_IP -> $VM_IP)" ping4 "$NS_CLIENT" "$VM_IP"
xfer_tap "confined: 2 MiB TCP VM -> client, sha256 matches" "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" 2

# 46: the processes looked at are still the ones running (nothing was
# restarted under us).
same=0
changed=""
for d in host proxy; do
	alive "${VNETD_PID[$d]}" || { same=1; changed="$changed $d-monitor(gone)"; }
	for k in capture crypt inject; do
		p=$(vnetd_worker "$d" "$k")
		[ -n "$p" ] && [ "$p" = "${WPID[$d.$k]}" ] ||
			{ same=1; changed="$changed $d-$k(${WPID[$d.$k]}->${p:-none})"; }
	done
done
ok "$same" "after the traffic: both monitors alive, the same six worker pids" ||
	diag "changed:$changed"

# 47, 48: nothing died and nothing was denied.
for d in host proxy; do
	bad=$(grep -E '(^| )event=(worker_exit|seccomp[a-z_]*)( |$)' "${VNETD_LOG[$d]}")
	ok "$([ -z "$bad" ]; echo $?)" "$d.log: no event=worker_exit, no event=seccomp*" ||
		diag "$bad"
done

tap_done

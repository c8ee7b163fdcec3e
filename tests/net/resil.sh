# SPDX-License-Identifier: ISC
# tests/net/resil.sh: helpers for the resilience tests (90-hostile,
# 92-crash, 94-wan, 96-storm, 98-soak). Sourced after lib.sh, whose
# TAP, cleanup, topology, daemon and log helpers these build on; every
# process started here is tracked (lib.sh's track) and so is stopped by
# lib.sh's EXIT trap, as are the namespaces (and their firewall rules).
#
#   prerequisites  rs_prereq [nft] [python]
#   setup          rs_vm_static (VM address without DHCP), rs_conf_append
#   control        rs_stats NAME FILE, rs_jget FILE WORKER KEY, rs_links_up
#   resources      rs_snapshot NAME (monitor and workers: pid, fds, VmRSS),
#                  rs_snap_compare BEFORE AFTER FD_MARGIN RSS_MARGIN_KB
#   streams        rs_stream_start/_fast/_bytes/_wait: a paced TCP
#                  transfer in the background, sha256 compared at the end
#   ping           rs_ping_start/_stop, rs_ping_gap FILE FROM TO
#   WAN            rs_wan_block NS, rs_wan_unblock NS (nft, netdev hooks)
#   misc           rs_load, rs_save_logs (RS_SAVE_LOGS=DIR)
#   PKI            rs_leaf (also expired certificates), rs_host_block

RS_PY=${VNET_PYTHON:-/usr/bin/python3}
[ -x "$RS_PY" ] || RS_PY=$(command -v python3)
RS_TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)"
VM_IP=10.202.0.99	# the VM's static address (no DHCP in these tests)

# rs_prereq [nft] [python]: lib.sh's prerequisites plus what is asked for.
rs_prereq() {
	local want
	vn_prereq
	[ -n "$RS_PY" ] && "$RS_PY" -c 'import ssl; assert ssl.HAS_TLSv1_3' 2>/dev/null ||
		bail "python3 with TLS 1.3 support is needed (apt-get install python3)"
	for want in "$@"; do
		case $want in
		nft)	command -v nft >/dev/null 2>&1 ||
				bail "nft is needed to cut the WAN (apt-get install nftables)" ;;
		python)	[ -r "$RS_TOOLS/wirepeer.py" ] || bail "missing $RS_TOOLS/wirepeer.py" ;;
		esac
	done
}

# rs_vm_static: the VM gets $VM_IP/24 without DHCP (these tests measure
# recovery, not leasing), and is reachable from the client.
rs_vm_static() {
	ip -n "$NS_VM" addr add "$VM_IP/24" dev eth0 || return 1
	in_ns "$NS_CLIENT" ping -4 -n -q -c 3 -i 0.2 -w 10 "$VM_IP"
}

# rs_conf_append FILE LINE...: keywords added to a generated config,
# which must still parse (vnetd -n).
rs_conf_append() {
	local f=$1; shift
	printf '%s\n' "$@" >>"$f"
	"$VNET_BUILD/vnetd" -n -f "$f"
}

# ---------------------------------------------------------------- control

# rs_stats NAME FILE: "vnetctl -j stats" of daemon NAME into FILE.
rs_stats() {
	timeout 5 "$VNET_BUILD/vnetctl" -j -s "$VN_TMP/$1.sock" stats >"$2" 2>&1
}

# rs_jget FILE WORKER KEY: one value from such a file (empty if absent).
rs_jget() {
	"$RS_PY" - "$@" <<'EOF' 2>/dev/null
import json, sys
try:
    print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])
except Exception:
    pass
EOF
}

# rs_links_up NAME: the crypt's links_up counter now (empty on error).
rs_links_up() {
	rs_stats "$1" "$VN_TMP/lu.$1.json" && rs_jget "$VN_TMP/lu.$1.json" crypt links_up
}

# ---------------------------------------------------------------- resources

rs_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rs_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# rs_snapshot NAME: "ROLE PID FDS RSS_KB" for the monitor and each worker.
rs_snapshot() {
	local mon=${VNETD_PID[$1]} k p
	echo "monitor $mon $(rs_fds "$mon") $(rs_rss "$mon")"
	for k in capture crypt inject; do
		p=$(vnetd_worker "$1" "$k")
		if [ -n "$p" ]; then
			echo "$k $p $(rs_fds "$p") $(rs_rss "$p")"
		else
			echo "$k - 0 0"
		fi
	done
}

# rs_snap_compare BEFORE AFTER FD_MARGIN RSS_MARGIN_KB [ROLES]: prints a
# table; fails if a process (of ROLES, default all four) is missing or was
# replaced (another pid) after, or has more than FD_MARGIN more
# descriptors or RSS_MARGIN_KB more RSS.
rs_snap_compare() {
	awk -v fm="$3" -v rm="$4" -v roles="${5:-monitor capture crypt inject}" '
	BEGIN { n = split(roles, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1 }
	NR == FNR { pid[$1] = $2; fd[$1] = $3; rss[$1] = $4; next }
	($1 in want) {
		bad = ""
		if ($2 == "-" || $4 == "" || rss[$1] == "") bad = " MISSING"
		else {
			if ($2 != pid[$1]) bad = " REPLACED"
			if ($3 > fd[$1] + fm) bad = bad " FDS"
			if ($4 > rss[$1] + rm) bad = bad " RSS"
		}
		printf "%-8s pid %s -> %s  fds %s -> %s (%+d)  VmRSS %s -> %s kB (%+d)%s\n",
		    $1, pid[$1], $2, fd[$1], $3, $3 - fd[$1], rss[$1], $4, $4 - rss[$1], bad
		if (bad != "") st = 1
	}
	END { exit st }' "$1" "$2"
}

# rs_load: the load average, for the diagnostics of timing results.
rs_load() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------- streams

# rs_stream_start ID SRC_NS DST_NS DST_IP MIB RATE [PORT [TIMEOUT]]: MIB MiB of
# random data from SRC_NS to a receiver at DST_IP in DST_NS, paced at
# RATE bytes/s (0: unpaced) until rs_stream_fast ID. Progress lines
# ("WALLCLOCK BYTES") in $VN_TMP/stream.ID.prog. Runs in the test's shell.
declare -A RS_SRECV RS_SSEND RS_SPORT RS_SBYTES RS_SIP
RS_PORT=5100
rs_stream_start() {
	local id=$1 src_ns=$2 dst_ns=$3 ip=$4 mib=$5 rate=$6 port=${7:-$((RS_PORT++))}
	local tmo=${8:-800} d="$VN_TMP/stream.$id"
	RS_SPORT[$id]=$port
	RS_SBYTES[$id]=$((mib * 1048576))
	rm -f "$d.src" "$d.dst" "$d.prog" "$d.fast" "$d.recv" "$d.send"
	head -c "${RS_SBYTES[$id]}" /dev/urandom >"$d.src" || return 1
	ip netns exec "$dst_ns" timeout 900 "$RS_PY" "$RS_TOOLS/tcpstream.py" recv \
	    --bind "$ip" --port "$port" --out "$d.dst" --progress "$d.prog" \
	    --accept-timeout 30 --idle-timeout 240 --timeout "$tmo" \
	    </dev/null >"$d.recv" 2>&1 &
	RS_SRECV[$id]=$!
	track "${RS_SRECV[$id]}"
	if ! wait_for 10 eval "in_ns $dst_ns ss -Hltn 'sport = :$port' | grep -q ."; then
		echo "stream $id: receiver on $ip:$port did not start"
		cat "$d.recv"
		return 1
	fi
	ip netns exec "$src_ns" timeout 900 "$RS_PY" "$RS_TOOLS/tcpstream.py" send \
	    --connect "$ip" --port "$port" --file "$d.src" --rate "$rate" \
	    --fast-file "$d.fast" --timeout "$tmo" </dev/null >"$d.send" 2>&1 &
	RS_SSEND[$id]=$!
	track "${RS_SSEND[$id]}"
	return 0
}

# rs_stream_fast ID: stop pacing.
rs_stream_fast() { : >"$VN_TMP/stream.$1.fast"; }

# rs_stream_bytes ID: bytes received so far.
rs_stream_bytes() { stat -c %s "$VN_TMP/stream.$1.dst" 2>/dev/null || echo 0; }

# rs_stream_running ID: both ends still running.
rs_stream_running() { alive "${RS_SRECV[$1]}" && alive "${RS_SSEND[$1]}"; }

# rs_stream_wait ID SECS: wait for both ends, then compare sizes and
# sha256 of the file sent and the file received. Prints a summary.
rs_stream_wait() {
	local id=$1 secs=$2 d="$VN_TMP/stream.$1" st=0 s1 s2 h1 h2 n
	if ! wait_for "$secs" eval "! alive ${RS_SSEND[$id]} && ! alive ${RS_SRECV[$id]}"; then
		echo "stream $id: not finished after $secs s (received $(rs_stream_bytes "$id") of ${RS_SBYTES[$id]} bytes)"
		stop_pid "${RS_SSEND[$id]}"; stop_pid "${RS_SRECV[$id]}"
		st=1
	fi
	wait "${RS_SSEND[$id]}" 2>/dev/null; s1=$?
	wait "${RS_SRECV[$id]}" 2>/dev/null; s2=$?
	h1=$(sha256sum <"$d.src" | cut -d' ' -f1)
	h2=$(sha256sum <"$d.dst" 2>/dev/null | cut -d' ' -f1)
	n=$(rs_stream_bytes "$id")
	echo "stream $id: sent ${RS_SBYTES[$id]} bytes, received $n; sender exit $s1, receiver exit $s2"
	cat "$d.send" "$d.recv"
	echo "sha256 sent     $h1"
	echo "sha256 received $h2"
	[ "$s1" = 0 ] && [ "$s2" = 0 ] && [ "$n" = "${RS_SBYTES[$id]}" ] &&
	    [ -n "$h1" ] && [ "$h1" = "$h2" ] || st=1
	rm -f "$d.src" "$d.dst"
	return $st
}

# rs_stream_stall ID FROM TO: the longest pause (ms) between progress
# lines with timestamps in [FROM, TO] (wall clock, seconds), counting the
# time from FROM to the first line and from the last line to TO.
rs_stream_stall() {
	awk -v a="$2" -v b="$3" '
	{ t = $1 + 0; if (t < a) { last = a; next } if (t > b) exit
	  if (last != "" && t - last > m) m = t - last; last = t }
	END { if (last != "" && b - last > m) m = b - last; printf "%d", m * 1000 }' \
	    "$VN_TMP/stream.$1.prog"
}

# ---------------------------------------------------------------- ping

declare -A RS_PING
# rs_ping_start NAME NS DST: ping every 50 ms, timestamps (-D) to
# $VN_TMP/NAME.ping.
rs_ping_start() {
	# ip netns exec execs ping: $! is ping itself (a function such as
	# in_ns would run in a subshell and $! would be that shell).
	ip netns exec "$2" ping -D -n -i 0.05 -W 1 "$3" </dev/null >"$VN_TMP/$1.ping" 2>&1 &
	RS_PING[$1]=$!
	track "${RS_PING[$1]}"
}

rs_ping_stop() {
	local pid=${RS_PING[$1]}
	kill_tracked INT "$pid"
	wait_for 3 eval "! alive $pid" || kill_tracked KILL "$pid"
	wait "$pid" 2>/dev/null
	return 0
}

# rs_ping_gap FILE FROM TO: the longest time (ms) without an echo reply
# in [FROM, TO] (wall clock seconds), edges included, and the count of
# replies in it: "GAP_MS REPLIES".
rs_ping_gap() {
	awk -v a="$2" -v b="$3" '
	/bytes from/ { t = substr($1, 2, length($1) - 2) + 0
		if (t < a) next
		if (t > b) exit
		n++; if (last == "") last = a
		if (t - last > m) m = t - last; last = t }
	END { if (last == "") last = a; if (b - last > m) m = b - last
	      printf "%d %d\n", m * 1000, n }' "$1"
}

# rs_ping_since FILE T: replies with a timestamp after T (seconds).
rs_ping_since() {
	awk -v a="$2" '/bytes from/ { t = substr($1, 2, length($1) - 2) + 0
		if (t > a) n++ } END { print n + 0 }' "$1"
}

now_s() { date +%s.%N | cut -c1-14; }

# ---------------------------------------------------------------- WAN

# rs_wan_block NS: drop every frame in and out of NS's wan0 (netdev
# ingress and egress hooks: nothing reaches or leaves the stack, no error
# is reported to local senders, TCP state everywhere is left alone).
rs_wan_block() {
	ip netns exec "$1" nft -f - <<'EOF'
table netdev vnrswan {
	chain in { type filter hook ingress device "wan0" priority -500; counter drop; }
	chain out { type filter hook egress device "wan0" priority -500; counter drop; }
}
EOF
}

# rs_wan_unblock NS: remove the table; prints its drop counters.
rs_wan_unblock() {
	ip netns exec "$1" nft list table netdev vnrswan 2>/dev/null |
	    awk '/chain/ { c = $2 } /counter/ { print c ": " $3 " " $4 " " $5 " " $6 }' | tr '\n' ' '
	ip netns exec "$1" nft delete table netdev vnrswan
}

# ---------------------------------------------------------------- PKI

# rs_leaf DIR NAME CN CA [STARTDATE ENDDATE]: a host certificate
# DIR/NAME.crt (.key) for CN by vnet-pki, from the CA vn_certs made in DIR
# (CA "ca") or in DIR/CA.d ("rogue-ca"); with dates (YYYYMMDDHHMMSSZ),
# valid for exactly that time (an expired certificate without faking the
# clock).
rs_leaf() {
	local d=$1 n=$2 cn=$3 ca=$4 start=$5 end=$6 cadir
	cadir=$d
	[ "$ca" = ca ] || cadir=$d/$ca.d
	if [ -z "$start" ]; then
		"$VN_PKI" -d "$cadir" host -v 2 -o "$d/$n" "$cn" >/dev/null
	else
		"$VN_PKI" -d "$cadir" host -s "$start" -e "$end" -o "$d/$n" "$cn" >/dev/null
	fi
}

# rs_host_block FILE NAME MAC: a host block for CN NAME on the proxy.
rs_host_block() {
	printf '%s\n' "host $2 {" "    mac $3" "}" >>"$1"
}

# rs_save_logs: with RS_SAVE_LOGS=DIR, keep the daemons' logs (and the
# test's other records) there as NAME.TEST.log before the temp dir goes.
rs_save_logs() {
	local f t
	[ -n "$RS_SAVE_LOGS" ] && mkdir -p "$RS_SAVE_LOGS" || return 0
	t=$(basename "$0" .t)
	for f in "$VN_TMP"/*.log "$VN_TMP"/*.ping "$VN_TMP"/samples "$VN_TMP"/flaps "$VN_TMP"/results; do
		[ -f "$f" ] && cp "$f" "$RS_SAVE_LOGS/$(basename "$f").$t"
	done
	return 0
}

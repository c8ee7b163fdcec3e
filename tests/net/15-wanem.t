#!/bin/bash
# SPDX-License-Identifier: ISC
# The WAN emulator (tests/tools/wanem) measured against its own profile:
# delay by ping, loss by a counted UDP stream (and its own counters),
# jitter without reordering, reordering, the rate limit, a reproducible
# seed, GSO super-frames refused and counted, bad options refused.
#
#   A eth0 10.203.0.1 --- wa [W: wanem] wb --- eth0 10.203.0.2 B
#
# It runs once in make check: it sets the offloads of its own link
# (tests/tools/wanem.sh says why), so VNET_OFFLOAD does not apply.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/wanem.sh"
vn_prereq
vn_init
plan 24

TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
WANEM_BIN="$VNET_BUILD/tests/tools/wanem"
[ -x "$WANEM_BIN" ] || bail "$WANEM_BIN not built (make $WANEM_BIN)"
[ -x /usr/bin/python3 ] || bail "/usr/bin/python3 missing (apt-get install python3)"

D=$VN_TMP
NS_A="vn$$wa"; NS_W="vn$$ww"; NS_B="vn$$wb"
IP_A=10.203.0.1; IP_B=10.203.0.2
MAC_A=52:54:00:a0:00:01; MAC_B=52:54:00:b0:00:02
PORT=9700
WL="$D/wanem.log"

# Static neighbours and no IPv6 at the ends: the only frames through the
# emulator are the test's own, so its counters can be compared exactly.
wan_topo() {
	local ns
	for ns in "$NS_A" "$NS_B"; do
		ns_add "$ns" && no_ipv6 "$ns" || return 1
	done
	wan_link "$NS_A" eth0 "$NS_W" "$NS_B" eth0 || return 1
	ip -n "$NS_A" link set eth0 address "$MAC_A" &&
	ip -n "$NS_B" link set eth0 address "$MAC_B" &&
	ip -n "$NS_A" addr add "$IP_A/24" dev eth0 &&
	ip -n "$NS_B" addr add "$IP_B/24" dev eth0 &&
	ip -n "$NS_A" neigh replace "$IP_B" lladdr "$MAC_B" dev eth0 nud permanent &&
	ip -n "$NS_B" neigh replace "$IP_A" lladdr "$MAC_A" dev eth0 nud permanent
}
wan_topo >"$D/topo.out" 2>&1
if ! ok $? "topology: A and B through the WAN namespace, offloads off for the emulator"; then
	diag "$(cat "$D/topo.out")"
	fail_rest "topology setup failed"
fi

# ---------------------------------------------------------------- options

# bad_opt DESC WANT ARGS...: exit status 2 and WANT on stderr.
bad_opt() {
	local desc=$1 want=$2 out rc; shift 2
	out=$(in_ns "$NS_W" "$WANEM_BIN" "$@" 2>&1); rc=$?
	if [ "$rc" = 2 ] && printf '%s\n' "$out" | grep -qF -- "$want"; then
		ok 0 "$desc"
		return
	fi
	ok 1 "$desc"
	diag "wanem $*: exit $rc, output: $out"
}
bad_opt "loss over 100 % refused, naming --loss" "--loss: 101 is out of range" \
	--loss 101 wa wb
bad_opt "jitter larger than the delay refused" "--jitter (6.000 ms) exceeds --delay" \
	--delay 5 --jitter 6 wa wb
bad_opt "reordering without a delay refused" "--reorder needs a --delay" \
	--reorder 10 wa wb
bad_opt "an interface missing from the namespace refused" "interface nosuch0: not found" \
	wa nosuch0

# ---------------------------------------------------------------- helpers

# start_wan LABEL OPTION...: a fresh emulator (counters from zero).
start_wan() {
	local label=$1; shift
	WL="$D/wanem-$label.log"
	VN_KEEP_LOGS+=("$WL")
	wanem_start "$NS_W" "$WL" "$@" || diag "wanem $* did not start: $(cat "$WL")"
}

# rtts COUNT INTERVAL: ping B from A; one RTT (ms) per line, sorted.
rtts() {
	in_ns "$NS_A" ping -n -c "$1" -i "$2" -W 2 "$IP_B" 2>&1 |
		sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | sort -n
}

# median FILE / spread FILE (max - min), of sorted numbers.
median() { awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print -1 }' "$1"; }
spread() { awk 'NR == 1 { lo = $1 } { hi = $1 } END { print (NR ? hi - lo : -1) }' "$1"; }

# between X LO HI (decimal numbers)
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }

# stream COUNT SEND_OPTIONS...: COUNT datagrams A -> B; the receiver's
# summary in $D/recv.out, the sender's in $D/send.out.
stream() {
	local n=$1 rpid; shift
	ip netns exec "$NS_B" "$TOOLS/udpcount.py" recv --bind "$IP_B" --port "$PORT" \
	    --count "$n" --idle 1 --timeout 40 >"$D/recv.out" 2>&1 &
	rpid=$!
	track "$rpid"
	wait_for 5 grep -q '^udpcount: ready' "$D/recv.out" || return 1
	timeout 40 ip netns exec "$NS_A" "$TOOLS/udpcount.py" send --to "$IP_B" \
	    --port "$PORT" --count "$n" "$@" >"$D/send.out" 2>&1
	wait_for 45 eval "! alive $rpid"
	wait "$rpid" 2>/dev/null
	diag "send: $(tail -n 1 "$D/send.out")"
	diag "recv: $(tail -n 1 "$D/recv.out")"
}

# got FILE KEY: KEY from the udpcount summary in FILE.
got() {
	awk -v k="$2" '$1 == "udpcount:" { for (i = 2; i <= NF; i++)
		if (index($i, k "=") == 1) v = substr($i, length(k) + 2) } END { print v }' "$1"
}

# ---------------------------------------------------------------- no profile

start_wan plain
rtts 20 0.02 >"$D/rtt-plain"
m=$(median "$D/rtt-plain")
diag "no profile: $(wc -l <"$D/rtt-plain") replies, median RTT $m ms"
between "$m" 0 2
ok $? "no profile: median ping RTT under 2 ms (got $m ms)"

stream 2000 --pps 2000 --size 1000
r=$(got "$D/recv.out" received); l=$(got "$D/recv.out" late)
wanem_report "$WL"
rx=$(wanem_get "$WL" ab rx); tx=$(wanem_get "$WL" ab tx)
# Counters run from the start: the 20 echo requests crossed ab too.
[ "$r" = 2000 ] && [ "$l" = 0 ] && [ "$rx" = 2020 ] && [ "$tx" = 2020 ]
ok $? "no profile: 2000 datagrams (offloaded checksums) all arrive in order; wanem ab rx=tx=2020 with the pings (got $r, late $l, rx $rx, tx $tx)"

cpu=$(wanem_get "$WL" ba cpu_s); pg=$(wanem_get "$WL" ab cpu_s_per_gbit)
[ -n "$cpu" ] && [ -n "$pg" ] && [ "$(wanem_lines "$WL")" = 2 ]
ok $? "SIGUSR1: one counter line per direction, with CPU use (cpu_s=$cpu, cpu_s_per_gbit=$pg)"
wanem_stop

# ---------------------------------------------------------------- delay

start_wan delay --delay 20
rtts 30 0.05 >"$D/rtt-delay"
m=$(median "$D/rtt-delay")
diag "20 ms each way: $(wc -l <"$D/rtt-delay") replies, median RTT $m ms"
between "$m" 39 46
ok $? "20 ms one way each direction: median ping RTT within 39-46 ms (got $m ms)"
wanem_stop

start_wan jitter --delay 20 --jitter 5
rtts 30 0.05 >"$D/rtt-jitter"
m=$(median "$D/rtt-jitter"); s=$(spread "$D/rtt-jitter")
diag "20 +- 5 ms each way: median RTT $m ms, max - min $s ms"
between "$m" 33 50 && between "$s" 4 25
ok $? "jitter 5 ms: median RTT 33-50 ms and RTTs spread 4-25 ms (got $m, $s)"
stream 2000 --pps 1000
r=$(got "$D/recv.out" received); l=$(got "$D/recv.out" late)
[ "$r" = 2000 ] && [ "$l" = 0 ]
ok $? "jitter never reorders: 2000 of 2000 datagrams, none late (got $r, late $l)"
wanem_stop

# ---------------------------------------------------------------- loss

# loss_run PCT N SEED: N datagrams through PCT % loss; sets MISS (the
# receiver's count) and DROP (the emulator's).
loss_run() {
	start_wan "loss$1-$3" --dir ab --loss "$1" --seed "$3"
	stream "$2" --pps 10000
	wanem_stop
	MISS=$(got "$D/recv.out" missing)
	DROP=$(wanem_get "$WL" ab drop_loss)
}

# loss_case PCT N: observed loss within 5 standard deviations of the
# binomial mean, and exactly the emulator's own count.
loss_case() {
	local pct=$1 n=$2 tol mean
	loss_run "$pct" "$n" 42
	mean=$(awk -v n="$n" -v p="$pct" 'BEGIN { printf "%d", n * p / 100 }')
	tol=$(awk -v n="$n" -v p="$pct" 'BEGIN { p /= 100; printf "%d", 5 * sqrt(n * p * (1 - p)) + 1 }')
	between "${MISS:--1}" $((mean - tol)) $((mean + tol))
	ok $? "loss $pct %: $MISS of $n datagrams lost, within $mean +- $tol"
	[ "$MISS" = "$DROP" ] && [ "$(wanem_get "$WL" ab drop_kernel)" = 0 ] &&
	    [ "$(got "$D/recv.out" dup)" = 0 ]
	ok $? "loss $pct %: the receiver's count equals wanem's drop_loss ($MISS, $DROP)"
	check "loss $pct %: every frame received is sent or counted" \
		wanem_balance "$WL" ab
}
loss_case 1 20000
loss_case 5 20000

# The same seed and the same frames give the same losses.
d42=$DROP
loss_run 5 20000 42
is "$DROP" "$d42" "seed 42 again: the same number of frames lost ($d42)"

# ---------------------------------------------------------------- reorder

start_wan reorder --delay 5 --reorder 10
stream 3000 --pps 2000
wanem_stop
l=$(got "$D/recv.out" late); r=$(got "$D/recv.out" received)
ro=$(wanem_get "$WL" ab reordered)
[ "${l:-0}" -gt 0 ] && [ "${ro:-0}" -gt 150 ] && [ "$ro" -lt 450 ] && [ "$r" = 3000 ]
ok $? "reorder 10 %: $ro of 3000 frames overtook (150-450), $l arrived late, none lost"

# ---------------------------------------------------------------- rate

start_wan rate --rate 100M
stream 34000 --mbit 200 --size 1472
wanem_stop
mb=$(got "$D/recv.out" mbit)
diag "offered $(got "$D/send.out" mbit) Mbit/s of payload"
between "$mb" 85 105
ok $? "rate 100 Mbit/s: the receiver gets 85-105 Mbit/s (got $mb)"
qd=$(wanem_get "$WL" ab drop_queue)
[ "${qd:-0}" -gt 0 ] && [ "$(got "$D/recv.out" missing)" = "$qd" ]
ok $? "rate: the excess is tail-dropped and counted (drop_queue $qd = missing $(got "$D/recv.out" missing))"
check "rate: every frame received is sent or counted" wanem_balance "$WL" ab

# ---------------------------------------------------------------- GSO

# With TSO back on at A, TCP hands the emulator super-frames: refused,
# counted and reported, never forwarded as one 64 KB "packet".
in_ns "$NS_A" ethtool -K eth0 tso on gso on >/dev/null 2>&1
start_wan gso
ip netns exec "$NS_B" socat -u TCP-LISTEN:$((PORT + 1)),bind="$IP_B",reuseaddr OPEN:/dev/null &
track $!
wait_for 5 in_ns "$NS_B" ss -Htln "sport = :$((PORT + 1))"
head -c 4000000 /dev/zero | timeout 3 ip netns exec "$NS_A" socat -u - \
	TCP:"$IP_B":$((PORT + 1)),connect-timeout=2 >/dev/null 2>&1
wanem_stop
g=$(wanem_get "$WL" ab drop_gso)
[ "${g:-0}" -gt 0 ] && grep -q 'GSO super-frame .* dropped: turn TSO/GSO off' "$WL"
ok $? "TSO on at the sender: super-frames dropped, counted ($g) and reported on stderr"

bad=$(printf '%s\n' "${WANEM_RCS[@]}" | grep -vcx 0)
san=$(cat "$D"/wanem-*.log | grep -c 'Sanitizer\|runtime error')
[ "${#WANEM_RCS[@]}" = 9 ] && [ "$bad" = 0 ] && [ "$san" = 0 ]
ok $? "every wanem run exited 0 on SIGTERM, no sanitizer report (exits: ${WANEM_RCS[*]})"

tap_done

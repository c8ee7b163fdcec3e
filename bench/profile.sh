#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/profile.sh: where vnet's cycles go, per worker process.
#
#   VNET_BUILD=$PWD/build bash bench/profile.sh
#
# Builds the benchmark topology with the vnet pair (as bench.sh's vnet-udp
# and vnet-tcp, but with the host's default transport, auto), then for each direction runs one iperf3 TCP test (or,
# with PROFILE_TEST=udp64, one iperf3 UDP test with 64-byte payloads from
# the client to the VM) while "perf record -g" samples the six workers
# (capture, crypt, inject of the host and of the proxy). Prints, per
# process, its CPU seconds during the run, the share per DSO (kernel,
# libcrypto, libpcap, the worker itself) and its top symbols (self time),
# and writes the same to
# bench/results/profile-on.txt (or -off.txt, or profile-udp64-on.txt).
#
# With udp64 it also prints both daemons' worker counters (vnetctl stats)
# after the run, where the frames lost on the way show.
#
# Environment: VNET_BUILD, PROFILE_OFFLOAD=on|off (default on),
# PROFILE_TEST=tcp|udp64 (default tcp),
# PROFILE_SECS (default 10), PROFILE_TOP (symbols per process, default 12).
# Needs perf (apt-get install linux-perf). With no hardware counters
# (e.g. in a VM) perf samples the cpu-clock software event, as here.

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bench_prereq perf
vn_init
bench_snapshot_build

OFF=${PROFILE_OFFLOAD:-on}
SECS=${PROFILE_SECS:-10}
TOP=${PROFILE_TOP:-12}
TEST=${PROFILE_TEST:-tcp}
case $OFF in on|off) ;; *) bail "PROFILE_OFFLOAD must be on or off" ;; esac
case $TEST in
tcp) DIRS="to_vm from_vm"; SUFFIX=$OFF ;;
udp64) DIRS="to_vm"; SUFFIX=udp64-$OFF ;;
*) bail "PROFILE_TEST must be tcp or udp64" ;;
esac
RESULTS_DIR="$BENCH_DIR/results"
mkdir -p "$RESULTS_DIR" || bail "cannot create $RESULTS_DIR"

say "vnet profile: offloads $OFF, iperf3 $TEST ${SECS} s; load $(cut -d' ' -f1-3 /proc/loadavg)"
bench_topo_up "$OFF" || bail "topology setup failed"
setup_vnet || bail "vnet did not start"
iperf3_server && reach || bail "the client does not reach the VM through vnet"

declare -A WPID		# WPID[host-crypt] = pid
for side in host proxy; do
	for k in capture crypt inject; do
		WPID[$side-$k]=$(vnetd_worker "$side" "$k")
		[ -n "${WPID[$side-$k]}" ] || bail "no vnet-$k worker for $side"
	done
done
ORDER="proxy-capture proxy-crypt host-crypt host-inject host-capture proxy-inject"
PIDLIST=$(for w in $ORDER; do printf '%s,' "${WPID[$w]}"; done)
PIDLIST=${PIDLIST%,}

# ctxsw PID: voluntary + involuntary context switches so far.
ctxsw() {
	awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }' "/proc/$1/status" 2>/dev/null
}
declare -A CS_BEFORE CS_AFTER

# summarize PID REPORT: from "perf report --sort pid,dso,sym" lines, the
# process's samples per DSO and its top symbols, as shares of its own
# samples. libcrypto.so.3 is stripped: its unresolved addresses are
# folded into one line per DSO ("[.] (stripped)").
summarize() {
	awk -v pid="$1" -v top="$TOP" '
	{
		split($2, pc, ":"); if (pc[1] != pid) next
		pct = $1; sub(/%/, "", pct); dso = $3
		sym = $0; sub(/^ *[0-9.]+% +[^ ]+ +[^ ]+ +/, "", sym)
		if (sym ~ /^\[.\] 0x[0-9a-f]+$/) sym = "[.] (" dso ", stripped)"
		else sym = sym "  (" dso ")"
		tot += pct; D[dso] += pct; S[sym] += pct
	}
	END {
		if (tot == 0) { print "    (no samples)"; exit }
		line = "    by DSO:"
		n = 0; for (d in D) { k[n++] = d }
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (D[k[j]] > D[k[i]]) { t = k[i]; k[i] = k[j]; k[j] = t }
		for (i = 0; i < n && i < 6; i++) line = line sprintf(" %s %.0f%%", k[i], 100 * D[k[i]] / tot)
		print line
		n = 0; for (s in S) { q[n++] = s }
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (S[q[j]] > S[q[i]]) { t = q[i]; q[i] = q[j]; q[j] = t }
		for (i = 0; i < n && i < top; i++) printf "    %5.1f%%  %s\n", 100 * S[q[i]] / tot, q[i]
	}' "$2"
}

# syscalls PID SELF CHILDREN: the process's samples inside each system
# call (inclusive, from the kernel call chains: ksys_read, __sys_sendto,
# do_sys_poll, ...), as shares of its samples.
syscalls() {
	awk -v pid="$1" '
	FNR == 1 { f++ }
	f == 1 { split($2, pc, ":"); if (pc[1] != pid) next; p = $1; sub(/%/, "", p); tot += p; next }
	{ split($3, pc, ":"); if (pc[1] != pid) next }
	{
		n = $NF
		if (n ~ /^(ksys_|__sys_|do_sys_)/) sub(/^(ksys_|__sys_|do_sys_)/, "", n)
		else next
		p = $1; sub(/%/, "", p)
		if (p + 0 > S[n]) S[n] = p + 0
	}
	END {
		if (tot == 0) exit
		m = 0; for (n in S) k[m++] = n
		for (i = 0; i < m; i++) for (j = i + 1; j < m; j++) if (S[k[j]] > S[k[i]]) { t = k[i]; k[i] = k[j]; k[j] = t }
		for (i = 0; i < m; i++) if (S[k[i]] >= 0.005 * tot) out = out sprintf(" %s %.0f%%", k[i], 100 * S[k[i]] / tot)
		if (out != "") print "    in syscalls (inclusive):" out
	}' "$2" "$3"
}

REPORT="$VN_TMP/profile.txt"
{
	echo "vnet profile, $(date -u '+%Y-%m-%d %H:%M UTC'); nproc $(nproc), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "vnet $BENCH_BUILD_ID"
	echo "offloads $OFF; perf $(perf --version | awk '{ print $3 }'), event cpu-clock, call graphs (fp); iperf3 $TEST ${SECS} s per direction"
	echo "workers: $(for w in $ORDER; do printf '%s=%s ' "$w" "${WPID[$w]}"; done)"
} >"$REPORT"

for dir in $DIRS; do
	data="$VN_TMP/perf.$dir.data"
	bg_start perfpid "$VN_TMP/perf.$dir.out" perf record -N -q -e cpu-clock -F 1999 -g \
	    -p "$PIDLIST" -o "$data"
	sleep 1
	alive "$perfpid" || { cat "$VN_TMP/perf.$dir.out" >&2; bail "perf record did not start"; }
	before=$(cpu_ticks $(for w in $ORDER; do echo "${WPID[$w]}"; done))
	o0=$(others_ticks); m0=$(now_ms)
	for w in $ORDER; do CS_BEFORE[${WPID[$w]}]=$(ctxsw "${WPID[$w]}"); done
	if [ "$TEST" = tcp ]; then
		m_tcp "$dir" "$SECS" "$VN_TMP/iperf.$dir.json" || say "iperf3 $dir failed"
		RESULT="iperf3 TCP $dir: $M_GBPS Gbit/s (client $( [ "$dir" = to_vm ] && echo '->' || echo '<-' ) VM)"
	else
		m_udp64 "$SECS" "$VN_TMP/iperf.$dir.json" || say "iperf3 udp64 failed"
		RESULT="iperf3 UDP 64-byte payloads client -> VM: $M_PPS pkt/s received, loss $M_LOSS%"
	fi
	after=$(cpu_ticks $(for w in $ORDER; do echo "${WPID[$w]}"; done))
	o1=$(others_ticks); m1=$(now_ms)
	others=$(awk -v a="$o0" -v b="$o1" -v hz="$CLK_TCK" -v ms=$((m1 - m0)) 'BEGIN { printf "%.2f", (b - a) / hz / (ms / 1000) }')
	for w in $ORDER; do CS_AFTER[${WPID[$w]}]=$(ctxsw "${WPID[$w]}"); done
	kill_tracked INT "$perfpid"
	wait_for 30 eval "! alive $perfpid" || kill_tracked KILL "$perfpid"
	wait "$perfpid" 2>/dev/null
	perf report -i "$data" --no-children --sort pid,dso,sym --stdio -g none 2>/dev/null |
	    grep -v '^#' >"$VN_TMP/perf.$dir.txt"
	perf report -i "$data" --children --sort pid,sym --stdio -g none 2>/dev/null |
	    grep -v '^#' >"$VN_TMP/perf.$dir.children.txt"
	{
		echo
		echo "=== $RESULT; other processes used $others cores meanwhile"
		for w in $ORDER; do
			p=${WPID[$w]}
			cpu=$(cpu_delta "$(printf '%s\n' $before | grep "^$p:")" "$(printf '%s\n' $after | grep "^$p:")" 2>/dev/null)
			cs=$(( ${CS_AFTER[$p]:-0} - ${CS_BEFORE[$p]:-0} ))
			echo
			echo "--- $w (pid $p): $cpu CPU s in $SECS s, $((cs / SECS)) context switches/s"
			summarize "$p" "$VN_TMP/perf.$dir.txt"
			syscalls "$p" "$VN_TMP/perf.$dir.txt" "$VN_TMP/perf.$dir.children.txt"
		done
	} >>"$REPORT"
done

if [ "$TEST" = udp64 ]; then
	for side in proxy host; do
		echo
		echo "=== $side worker counters after the run (vnetctl stats)"
		timeout 5 "$VNET_BUILD/vnetctl" -s "$(conf_control "$VN_TMP/$side.conf")" stats 2>&1
	done >>"$REPORT"
fi

bench_topo_down
cat "$REPORT"
cp "$REPORT" "$RESULTS_DIR/profile-$SUFFIX.txt"
echo
echo "written: bench/results/profile-$SUFFIX.txt"

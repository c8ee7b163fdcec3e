#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/bench.sh: vnet against the direct path and OpenVPN, in one run.
#
#   make bench            # 3 runs of 10 s per TCP/UDP figure
#   make bench QUICK=1    # 1 run of 3 s (a check that everything works)
#
# For offloads on and then off, five configurations, each on a fresh copy
# of the test topology (tests/net/lib.sh topo_up):
#   direct       the VM's veth moved into the home LAN bridge (no tunnel)
#   vnet-tls     the vnetd pair from $VNET_BUILD, as in tests/net/20-bridge.t
#                (the proxy authorizes 1 MAC and has 1 link)
#   vnet-scale   the same pair, but the proxy authorizes 1000 MACs and 15
#                more (idle) host vnetd are linked to it: 16 links
#   openvpn-udp  OpenVPN 2.6, TAP, UDP, AES-256-GCM, bridged like vnet
#   openvpn-tcp  the same over TCP
# Figures between the home CLIENT and the VM: iperf3 TCP each way, iperf3
# UDP 64-byte payloads at unlimited rate, 200 pings at 10 ms, and the
# CPU seconds of the tunnel's processes per GB carried. See
# doc/PERFORMANCE.md and bench/README.
#
# Environment: VNET_BUILD (default ./build), QUICK=1, and for partial
# runs BENCH_OFFLOADS="on off", BENCH_CONFIGS="direct vnet-tls vnet-scale
# openvpn-udp openvpn-tcp" (ratios and targets need all five; the scale
# target only vnet-tls and vnet-scale).
# Results: printed, and bench/results/latest.txt (one line per
# configuration: "name offload=on key=value ...") and latest.log.

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bench_prereq
vn_init
bench_snapshot_build

case "${QUICK:-}" in
1|y|yes|true) RUNS=1; SECS=3; MODE="QUICK=1: 1 run of 3 s per TCP/UDP figure" ;;
"" | 0 | n | no | false) RUNS=3; SECS=10; MODE="median of 3 runs of 10 s per TCP/UDP figure" ;;
*) bail "QUICK must be 1 or empty, not '$QUICK'" ;;
esac
OFFLOADS=${BENCH_OFFLOADS:-on off}
CONFIGS=${BENCH_CONFIGS:-direct vnet-tls vnet-scale openvpn-udp openvpn-tcp}
for c in $CONFIGS; do
	case $c in direct|vnet-tls|vnet-scale|openvpn-udp|openvpn-tcp) ;; *) bail "unknown configuration '$c'" ;; esac
done
for o in $OFFLOADS; do
	case $o in on|off) ;; *) bail "offload must be on or off, not '$o'" ;; esac
done

RESULTS_DIR="$BENCH_DIR/results"
mkdir -p "$RESULTS_DIR" || bail "cannot create $RESULTS_DIR"

T_START=$(now_ms)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
NPROC=$(nproc)
KERNEL=$(uname -r)
load_now() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_START=$(load_now)
OTHERS_START=$(others_ticks)
OVPN_VERSION=$(openvpn --version | head -n 1 | awk '{ print $2 }')
IPERF_VERSION=$(iperf3 --version | head -n 1 | awk '{ print $2 }')

say "vnet bench: $MODE; offloads: $OFFLOADS; configurations: $CONFIGS"
say "nproc=$NPROC kernel=$KERNEL load=$LOAD_START openvpn=$OVPN_VERSION iperf3=$IPERF_VERSION build=$BENCH_BUILD_FROM ($BENCH_BUILD_ID)"

declare -A R	# R[config|offload|key] = value
FAILED=()

# fig NAME KEY: a stored figure or NA.
fig() { echo "${R[$1|$2]:-NA}"; }

run_config() {
	local cfg=$1 off=$2 k=$1\|$2 t0 out i dir a b sa sb bytes cpu ok=1
	local -a runs
	t0=$(now_ms)
	say ""
	say "== $cfg, offloads $off (load $(load_now))"
	if ! bench_topo_up "$off"; then
		say "bench: topology setup failed"
		FAILED+=("$cfg/$off: topology"); bench_topo_down; return 1
	fi
	case $cfg in
	direct) setup_direct ;;
	vnet-tls) setup_vnet ;;
	vnet-scale) setup_vnet_scale ;;
	openvpn-udp) setup_openvpn udp ;;
	openvpn-tcp) setup_openvpn tcp ;;
	esac || { FAILED+=("$cfg/$off: setup"); bench_topo_down; return 1; }
	# vnet: the links up at the proxy and the MACs it authorizes.
	R[$k|links]=$BENCH_LINKS; R[$k|macs]=$BENCH_MACS
	if ! iperf3_server || ! reach; then
		say "bench: the client does not reach the VM ($VM_IP) through $cfg"
		FAILED+=("$cfg/$off: no connectivity"); bench_topo_down; return 1
	fi
	out="$VN_TMP/$cfg-$off"
	local o0 o1 m0 m1
	o0=$(others_ticks); m0=$(now_ms)

	# Latency first, on an idle path.
	if m_ping "$out.ping"; then
		R[$k|rtt_avg_ms]=$M_RTT_AVG; R[$k|rtt_p99_ms]=$M_RTT_P99; R[$k|ping_received]=$M_RTT_N
		say "   ping: avg $M_RTT_AVG ms, p99 $M_RTT_P99 ms ($M_RTT_N/200 replies)"
	else
		say "   ping: failed"; tail -n 5 "$out.ping" >&2; ok=0
	fi

	# TCP both ways; the tunnel's CPU time over all TCP runs.
	bytes=0
	b=$(cpu_ticks $($CPU_PIDS_FN)); sb=$(cpu_ticks $($CPU_SIDE_FN))
	for dir in to_vm from_vm; do
		runs=()
		for ((i = 1; i <= RUNS; i++)); do
			sleep 0.5
			if m_tcp "$dir" "$SECS" "$out.tcp-$dir.$i.json"; then
				runs+=("$M_GBPS"); bytes=$((bytes + M_BYTES))
			else
				runs+=(NA); ok=0
				say "   tcp $dir run $i: iperf3 failed: $(tr -d '\n' <"$out.tcp-$dir.$i.json" | grep -o '"error":[^,}]*' | head -n 1)"
			fi
		done
		R[$k|tcp_${dir}_gbps]=$(median "${runs[@]}")
		R[$k|tcp_${dir}_runs]=$(IFS=,; echo "${runs[*]}")
		say "   tcp $dir: ${R[$k|tcp_${dir}_gbps]} Gbit/s (runs ${R[$k|tcp_${dir}_runs]})"
	done
	a=$(cpu_ticks $($CPU_PIDS_FN)); sa=$(cpu_ticks $($CPU_SIDE_FN))
	[ "$bytes" -gt 0 ] && R[$k|tcp_gb]=$(awk -v n="$bytes" 'BEGIN { printf "%.3f", n / 1e9 }')
	if [ -n "$b" ] && [ "$bytes" -gt 0 ]; then
		cpu=$(cpu_delta "$b" "$a")
		R[$k|cpu_s]=$cpu
		R[$k|cpu_s_per_gb]=$(awk -v c="$cpu" -v n="$bytes" 'BEGIN { printf "%.3f", c / (n / 1e9) }')
		say "   cpu: $cpu s for ${R[$k|tcp_gb]} GB over TCP = ${R[$k|cpu_s_per_gb]} s/GB (pids: $(echo $($CPU_PIDS_FN)))"
	fi
	[ -n "$sb" ] && say "   cpu: the ${#BENCH_XHOSTS[@]} other linked hosts' vnetd used $(cpu_delta "$sb" "$sa") s meanwhile (not counted above)"

	# 64-byte UDP, client -> VM, unlimited rate.
	runs=(); local losses=()
	for ((i = 1; i <= RUNS; i++)); do
		sleep 0.5
		if m_udp64 "$SECS" "$out.udp.$i.json"; then
			runs+=("$M_PPS"); losses+=("$M_LOSS")
		else
			runs+=(NA); losses+=(NA); ok=0
			say "   udp64 run $i: iperf3 failed: $(tr -d '\n' <"$out.udp.$i.json" | grep -o '"error":[^,}]*' | head -n 1)"
		fi
	done
	R[$k|udp64_pps]=$(median "${runs[@]}")
	R[$k|udp64_loss_pct]=$(median "${losses[@]}")
	R[$k|udp64_runs]=$(IFS=,; echo "${runs[*]}")
	say "   udp64: ${R[$k|udp64_pps]} pkt/s received, loss ${R[$k|udp64_loss_pct]} % (runs ${R[$k|udp64_runs]})"
	o1=$(others_ticks); m1=$(now_ms)
	R[$k|others_cores]=$(awk -v a="$o0" -v b="$o1" -v hz="$CLK_TCK" -v ms=$((m1 - m0)) \
	    'BEGIN { if (a == "" || b == "" || ms <= 0) print "NA"; else printf "%.2f\n", (b - a) / hz / (ms / 1000) }')
	say "   other processes on the machine used ${R[$k|others_cores]} cores meanwhile"

	case $cfg in
	vnet-*)
		local crashes n
		crashes=$(for n in host proxy "${BENCH_XHOSTS[@]}"; do log_lines "$VN_TMP/$n.log" 0 event=worker_exit; done)
		[ -n "$crashes" ] && { say "   vnet workers exited during the run:"; say "$crashes"; ok=0; }
		if [ -n "$BENCH_LINKS" ]; then
			R[$k|links_end]=$(bench_links)
			if [ "${R[$k|links_end]}" != "$BENCH_LINKS" ]; then
				say "   the proxy reports ${R[$k|links_end]:-no} links up after the measurements, $BENCH_LINKS before"
				FAILED+=("$cfg/$off: $BENCH_LINKS links up before the measurements, ${R[$k|links_end]:-?} after")
			fi
		fi
		;;
	esac
	bench_topo_down
	[ "$ok" = 1 ] || FAILED+=("$cfg/$off: some measurements failed")
	say "   ($(( ($(now_ms) - t0) / 1000 )) s)"
}

for off in $OFFLOADS; do
	for cfg in $CONFIGS; do
		run_config "$cfg" "$off"
	done
done
LOAD_END=$(load_now)
ELAPSED=$(( ($(now_ms) - T_START) / 1000 ))
OTHERS=$(awk -v a="$OTHERS_START" -v b="$(others_ticks)" -v hz="$CLK_TCK" -v s="$ELAPSED" \
    'BEGIN { if (a == "" || b == "" || s <= 0) print "NA"; else printf "%.2f\n", (b - a) / hz / s }')

# ---------------------------------------------------------------- report

KEYS="tcp_to_vm_gbps tcp_from_vm_gbps udp64_pps udp64_loss_pct rtt_avg_ms rtt_p99_ms cpu_s_per_gb"

report() {
	local off cfg
	echo "vnet benchmark, $DATE"
	echo "nproc $NPROC, kernel $KERNEL, load average $LOAD_START at start, $LOAD_END at end;"
	echo "other processes (outside this run) used $OTHERS of the $NPROC cores on average"
	echo "vnet $BENCH_BUILD_ID; OpenVPN $OVPN_VERSION, iperf3 $IPERF_VERSION"
	echo "$MODE; ${ELAPSED} s"
	echo
	printf '%-12s %-4s %10s %10s %10s %7s %8s %8s %8s %7s\n' \
	    config offl "TCP->VM" "TCP<-VM" "UDP64" "loss" "RTT avg" "RTT p99" "CPU" "others"
	printf '%-12s %-4s %10s %10s %10s %7s %8s %8s %8s %7s\n' \
	    "" "" "Gbit/s" "Gbit/s" "pkt/s" "%" "ms" "ms" "s/GB" "cores"
	for off in $OFFLOADS; do
		for cfg in $CONFIGS; do
			printf '%-12s %-4s %10s %10s %10s %7s %8s %8s %8s %7s\n' "$cfg" "$off" \
			    "$(fig "$cfg|$off" tcp_to_vm_gbps)" "$(fig "$cfg|$off" tcp_from_vm_gbps)" \
			    "$(fig "$cfg|$off" udp64_pps)" "$(fig "$cfg|$off" udp64_loss_pct)" \
			    "$(fig "$cfg|$off" rtt_avg_ms)" "$(fig "$cfg|$off" rtt_p99_ms)" \
			    "$(fig "$cfg|$off" cpu_s_per_gb)" "$(fig "$cfg|$off" others_cores)"
		done
	done
	echo "(TCP: iperf3 receiver rate, median; UDP64: packets the VM received per second; RTT: client->VM;"
	echo " CPU: utime+stime of the tunnel's processes during the TCP runs per GB carried, direct has none;"
	echo " others: CPU cores other processes on the machine used while the configuration was measured;"
	echo " vnet-scale: vnet-tls's pair with $SCALE_MACS MACs authorized and $SCALE_LINKS links up at the proxy)"
}

# ratio A B [DECIMALS]: A/B to 2 (or DECIMALS) decimals, or NA.
ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
		if (a == "NA" || b == "NA" || a == "" || b == "" || b + 0 == 0) { print "NA"; exit }
		printf "%." d "f\n", a / b }'
}
# maclinks CFG OFF: "N MACs, L links" that the proxy of a vnet configuration
# authorized and had up.
maclinks() {
	local m l
	m=$(fig "$1|$2" macs); l=$(fig "$1|$2" links)
	printf '%s MAC%s, %s link%s\n' "$m" "$([ "$m" = 1 ] || echo s)" "$l" "$([ "$l" = 1 ] || echo s)"
}

# added CFG OFF: rtt_avg of CFG minus direct's, in ms (NA if missing).
added() {
	awk -v a="$(fig "$1|$2" rtt_avg_ms)" -v d="$(fig "direct|$2" rtt_avg_ms)" 'BEGIN {
		if (a == "NA" || d == "NA") { print "NA"; exit }
		printf "%.3f\n", a - d }'
}

ratios() {
	local off key
	echo
	echo "vnet-tls relative to each configuration, same run (vnet / other; for RTT and CPU lower is better):"
	printf '%-5s %-17s %10s %12s %12s\n' offl figure "/ direct" "/ ovpn-udp" "/ ovpn-tcp"
	for off in $OFFLOADS; do
		for key in $KEYS; do
			[ "$key" = udp64_loss_pct ] && continue
			printf '%-5s %-17s %10s %12s %12s\n' "$off" "$key" \
			    "$(ratio "$(fig "vnet-tls|$off" "$key")" "$(fig "direct|$off" "$key")")" \
			    "$(ratio "$(fig "vnet-tls|$off" "$key")" "$(fig "openvpn-udp|$off" "$key")")" \
			    "$(ratio "$(fig "vnet-tls|$off" "$key")" "$(fig "openvpn-tcp|$off" "$key")")"
		done
		printf '%-5s %-17s %10s %12s %12s   (ms over direct: vnet %s, ovpn-udp %s, ovpn-tcp %s)\n' \
		    "$off" "added_rtt_avg" "-" \
		    "$(ratio "$(added vnet-tls "$off")" "$(added openvpn-udp "$off")")" \
		    "$(ratio "$(added vnet-tls "$off")" "$(added openvpn-tcp "$off")")" \
		    "$(added vnet-tls "$off")" "$(added openvpn-udp "$off")" "$(added openvpn-tcp "$off")"
	done
	echo
	echo "vnet-scale relative to vnet-tls, same run (scale / tls):"
	printf '%-5s %-17s %10s   %s\n' offl figure "/ vnet-tls" "Gbit/s"
	for off in $OFFLOADS; do
		for key in tcp_to_vm_gbps tcp_from_vm_gbps; do
			printf '%-5s %-17s %10s   %s\n' "$off" "$key" \
			    "$(ratio "$(fig "vnet-scale|$off" "$key")" "$(fig "vnet-tls|$off" "$key")" 3)" \
			    "$(fig "vnet-scale|$off" "$key") ($(maclinks vnet-scale "$off")) / $(fig "vnet-tls|$off" "$key") ($(maclinks vnet-tls "$off"))"
		done
	done
}

# verdict TEXT VALUE OP LIMIT FIGURES: one target line.
verdict() {
	local text=$1 v=$2 op=$3 lim=$4 figs=$5 res
	res=$(awk -v v="$v" -v op="$op" -v l="$lim" 'BEGIN {
		if (v == "NA" || v == "") { print "n/a    "; exit }
		m = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0)
		print m ? "met    " : "NOT MET" }')
	printf '  %s  %-44s %s\n' "$res" "$text" "$figs"
}

targets() {
	local off dir r a b
	echo
	echo "Targets (reported, not asserted):"
	for off in $OFFLOADS; do
		for dir in to_vm from_vm; do
			r=$(ratio "$(fig "vnet-tls|$off" "tcp_${dir}_gbps")" "$(fig "direct|$off" "tcp_${dir}_gbps")")
			verdict "offloads $off: TCP $dir >= 50% of direct" "$r" ">=" 0.5 \
			    "vnet $(fig "vnet-tls|$off" "tcp_${dir}_gbps") / direct $(fig "direct|$off" "tcp_${dir}_gbps") Gbit/s = $r"
		done
		if [ "$off" = on ]; then
			for dir in to_vm from_vm; do
				r=$(ratio "$(fig "vnet-tls|$off" "tcp_${dir}_gbps")" "$(fig "openvpn-tcp|$off" "tcp_${dir}_gbps")")
				verdict "offloads $off: TCP $dir >= 10x OpenVPN-TCP" "$r" ">=" 10 \
				    "vnet $(fig "vnet-tls|$off" "tcp_${dir}_gbps") / ovpn-tcp $(fig "openvpn-tcp|$off" "tcp_${dir}_gbps") Gbit/s = ${r}x"
			done
		fi
		for o in udp tcp; do
			a=$(added vnet-tls "$off"); b=$(added "openvpn-$o" "$off")
			r=$(awk -v a="$a" -v b="$b" 'BEGIN {
				if (a == "NA" || b == "NA") { print "NA"; exit }
				if (b <= 0) { print (a <= 0) ? 0 : "NA"; exit }
				printf "%.2f\n", a / b }')
			verdict "offloads $off: added RTT <= 1/3 of OpenVPN-${o^^}'s" "$r" "<=" 0.3333 \
			    "vnet +$a ms, ovpn-$o +$b ms over direct = $r"
		done
		for o in udp tcp; do
			r=$(ratio "$(fig "vnet-tls|$off" udp64_pps)" "$(fig "openvpn-$o|$off" udp64_pps)")
			verdict "offloads $off: UDP64 pps >= 2x OpenVPN-${o^^}" "$r" ">=" 2 \
			    "vnet $(fig "vnet-tls|$off" udp64_pps) / ovpn-$o $(fig "openvpn-$o|$off" udp64_pps) pkt/s = ${r}x"
		done
		# 3 decimals: 0.948 must not round up to a met 0.95.
		for dir in to_vm from_vm; do
			r=$(ratio "$(fig "vnet-scale|$off" "tcp_${dir}_gbps")" "$(fig "vnet-tls|$off" "tcp_${dir}_gbps")" 3)
			verdict "offloads $off: TCP $dir with $SCALE_MACS MACs and $SCALE_LINKS links >= 95% of 1 MAC, 1 link" "$r" ">=" 0.95 \
			    "scale $(fig "vnet-scale|$off" "tcp_${dir}_gbps") ($(maclinks vnet-scale "$off")) / tls $(fig "vnet-tls|$off" "tcp_${dir}_gbps") ($(maclinks vnet-tls "$off")) Gbit/s = $r"
		done
	done
}

{
	echo
	report
	ratios
	targets
	if [ "${#FAILED[@]}" -gt 0 ]; then
		echo
		echo "Problems during the run:"
		printf '  %s\n' "${FAILED[@]}"
	fi
} | tee "$VN_TMP/report"

{
	echo "# vnet bench $DATE nproc=$NPROC kernel=$KERNEL load_start=${LOAD_START// /,} load_end=${LOAD_END// /,} others_cores=$OTHERS runs=$RUNS secs=$SECS vnet=${BENCH_BUILD_ID%% *} openvpn=$OVPN_VERSION iperf3=$IPERF_VERSION"
	for off in $OFFLOADS; do
		for cfg in $CONFIGS; do
			line="$cfg offload=$off"
			for key in $KEYS tcp_to_vm_runs tcp_from_vm_runs udp64_runs ping_received cpu_s tcp_gb others_cores macs links links_end; do
				line="$line $key=$(fig "$cfg|$off" "$key")"
			done
			echo "$line"
		done
	done
} >"$RESULTS_DIR/latest.txt"
cp "$VN_TMP/report" "$RESULTS_DIR/latest.log"
echo
echo "written: bench/results/latest.txt, bench/results/latest.log"
[ "${#FAILED[@]}" -eq 0 ]

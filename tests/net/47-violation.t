#!/bin/bash
# SPDX-License-Identifier: ISC
# The monitor treats every worker as hostile. A worker that breaks its
# control channel's rules (tests/evil/evil-worker.c) is killed (SIGKILL),
# audited (event=worker_violation), and restarted with a growing delay;
# the monitor and the other workers carry on untouched, and SIGTERM still
# stops everything cleanly.
#   wrong-type    in the role of vnet-crypt: sends MSG_FRAMES
#   wrong-length  in the role of vnet-inject: sends MSG_READY with 4 bytes
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 22

EVIL_DIR=$VNET_BUILD/tests/evil
for e in wrong-type wrong-length; do
	[ -x "$EVIL_DIR/$e" ] ||
		bail "not built: $EVIL_DIR/$e (make $EVIL_DIR/wrong-type $EVIL_DIR/wrong-length)"
done
diag "offloads: ${VNET_OFFLOAD:-on} (no traffic is sent here; the proxy runs alone in one namespace)"

# 1: one namespace holding the proxy's interfaces, each a veth whose
# peer stays in the same namespace (no dummy module needed).
NS=$NS_PROXY
topo_alone "$NS" >"$VN_TMP/topo.out" 2>&1
ok $? "namespace $NS: veth lan0 and wan0 ($PROXY_WAN), peers in the same namespace" ||
	{ diag "$(cat "$VN_TMP/topo.out")"; fail_rest "namespace setup failed"; }

# 2
check "certificates and the proxy configuration generated" vn_setup_pki

# evil_libexec DIR KIND EVIL: a libexec dir with copies of the real
# workers, except vnet-KIND, which is the hostile EVIL binary.
evil_libexec() {
	local dir=$1 kind=$2 evil=$3 k
	mkdir -p "$dir" && chmod 0755 "$dir" || return 1
	for k in capture crypt inject; do
		if [ "$k" = "$kind" ]; then
			cp "$EVIL_DIR/$evil" "$dir/vnet-$k" || return 1
		else
			cp "$VNET_BUILD/vnet-$k" "$dir/vnet-$k" || return 1
		fi
	done
	cmp -s "$EVIL_DIR/$evil" "$dir/vnet-$kind" || { echo "vnet-$kind is not $evil"; return 1; }
	ls -l "$dir"
}

# evil_start NAME NS CONF XDIR: vnetd_start with workers from XDIR (-x
# and VNET_LIBEXECDIR). The monitor and its workers are cleaned up like
# any other vnetd of lib.sh.
evil_start() {
	local name=$1 ns=$2 conf=$3 xdir=$4 log="$VN_TMP/$1.log" pid
	VNETD_LOG[$name]=$log
	VNETD_NS[$name]=$ns
	echo "---- vnetd start $(date +%T.%N) ----" >>"$log"
	ip netns exec "$ns" env VNET_LIBEXECDIR="$xdir" \
	    "$VNET_BUILD/vnetd" -d -f "$conf" -x "$xdir" </dev/null >>"$log" 2>&1 &
	pid=$!
	track "$pid"
	VNETD_PID[$name]=$pid
	VN_KEEP_LOGS+=("$log")
}

# line_of LOG TOKEN...: the (1-based) number of the first line holding
# every TOKEN, 0 if none.
line_of() {
	local log=$1; shift
	awk -v toks="$*" '
	BEGIN { n = split(toks, t, " ") }
	{
		l = " " $0 " "
		for (i = 1; i <= n; i++) if (index(l, " " t[i] " ") == 0) next
		print NR; found = 1; exit
	}
	END { if (!found) print 0 }' "$log"
}

# count_of LOG TOKEN...
count_of() {
	local log=$1; shift
	log_lines "$log" 0 "$@" | grep -c .
}

# cycles LOG KIND REASON: walk the log's records about worker KIND and
# check every start -> violation (REASON, action=kill) -> exit signal=9
# -> restart -> start cycle, in order. Prints a trace; sets CYC_N
# (completed restarts), CYC_DELAYS (delay_ms, in order), CYC_PIDS, CYC_ERR.
cycles() {
	local log=$1 kind=$2 reason=$3 line ev pid stage=none cur=""
	CYC_N=0; CYC_DELAYS=(); CYC_PIDS=(); CYC_ERR=0
	while IFS= read -r line; do
		ev=$(log_value "$line" event)
		pid=$(log_value "$line" pid)
		case "$ev" in
		worker_start)
			if [ "$stage" != none ] && [ "$stage" != restart ]; then
				echo "ERROR: start of pid $pid while pid $cur was at '$stage'"; CYC_ERR=1
			fi
			cur=$pid; stage=start; CYC_PIDS+=("$pid")
			echo "start     pid=$pid" ;;
		worker_violation)
			echo "violation pid=$pid reason=\"$(log_value "$line" reason)\" action=$(log_value "$line" action)"
			[ "$stage" = start ] && [ "$pid" = "$cur" ] ||
				{ echo "ERROR: violation for pid $pid out of order (current $cur at '$stage')"; CYC_ERR=1; }
			[ "$(log_value "$line" reason)" = "$reason" ] ||
				{ echo "ERROR: reason is not \"$reason\""; CYC_ERR=1; }
			[ "$(log_value "$line" action)" = kill ] ||
				{ echo "ERROR: action is not kill"; CYC_ERR=1; }
			stage=violation ;;
		worker_exit)
			echo "exit      pid=$pid signal=$(log_value "$line" signal)$(log_value "$line" status | sed 's/^./ status=&/')"
			[ "$stage" = violation ] && [ "$pid" = "$cur" ] ||
				{ echo "ERROR: exit of pid $pid out of order (current $cur at '$stage')"; CYC_ERR=1; }
			[ "$(log_value "$line" signal)" = 9 ] ||
				{ echo "ERROR: not killed by signal 9"; CYC_ERR=1; }
			stage="exit" ;;
		worker_restart)
			echo "restart   delay_ms=$(log_value "$line" delay_ms) restarts=$(log_value "$line" restarts)"
			[ "$stage" = exit ] ||
				{ echo "ERROR: restart while at '$stage'"; CYC_ERR=1; }
			CYC_DELAYS+=("$(log_value "$line" delay_ms)")
			CYC_N=$((CYC_N + 1))
			stage=restart ;;
		worker_ready)
			echo "ERROR: ready pid=$pid (a hostile worker must never count as ready)"
			CYC_ERR=1 ;;
		esac
	done < <(log_lines "$log" 0 "worker=$kind" | grep -E ' event=worker_(start|violation|exit|restart|ready) ')
	[ "${#CYC_PIDS[@]}" -gt 0 ] || { echo "ERROR: no worker_start for $kind"; CYC_ERR=1; }
}

# increasing N...: strictly increasing numbers.
increasing() {
	local prev=-1 v
	for v in "$@"; do
		[ "$v" -gt "$prev" ] 2>/dev/null || return 1
		prev=$v
	done
}

# scenario NAME KIND EVIL REASON: 10 tests.
scenario() {
	local name=$1 kind=$2 evil=$3 reason=$4
	local xdir="$VN_TMP/libexec-$evil" log="$VN_TMP/$1.log" k p others="" mon
	local -A real
	for k in capture crypt inject; do [ "$k" = "$kind" ] || others="$others $k"; done

	# a: the libexec dir.
	check "$name: libexec dir with the real vnet-{$(echo $others | tr ' ' ,)} and $evil as vnet-$kind" \
	    evil_libexec "$xdir" "$kind" "$evil"

	# b: start; the real workers become ready.
	local t0 t1
	t0=$(now_ms)
	evil_start "$name" "$NS" "$VN_TMP/proxy.conf" "$xdir"
	mon=${VNETD_PID[$name]}
	local st=0 out=""
	for k in $others; do
		if vnetd_wait "$name" 5 0 event=worker_ready "worker=$k"; then
			real[$k]=$(log_value "$(log_lines "$log" 0 event=worker_ready "worker=$k" | head -n 1)" pid)
			out="$out$k: pid ${real[$k]} ready"$'\n'
		else
			out="${out}no event=worker_ready worker=$k within 5 s"$'\n'
			st=1
		fi
	done
	alive "$mon" || { out="${out}vnetd $mon exited"$'\n'; st=1; }
	ok "$st" "$name: vnetd (pid $mon) -x $xdir runs; the real workers log worker_ready" ||
		diag_file "$log" 20 "$name.log"
	diag "${out%$'\n'}"

	# Let the hostile worker be killed and restarted a few times: the
	# 4th restart is due about 100+200+400 ms after the first kill.
	wait_for 5 eval '[ "$(count_of "$log" event=worker_restart worker='"$kind"')" -ge 4 ] || ! alive '"$mon"
	t1=$(now_ms)
	cycles "$log" "$kind" "$reason" >"$VN_TMP/$name.cycles" 2>&1
	local p1=${CYC_PIDS[0]:-none}

	# c: the first hostile instance is audited with the reason, action=kill.
	local lv le lr ls2 vline
	lv=$(line_of "$log" event=worker_violation "worker=$kind" "pid=$p1")
	vline=$(sed -n "${lv}p" "$log")
	[ "$lv" -gt 0 ] && [ "$(log_value "$vline" reason)" = "$reason" ] &&
	    [ "$(log_value "$vline" action)" = kill ]
	ok $? "$name: event=worker_violation worker=$kind pid=$p1 reason=\"$reason\" action=kill" ||
		diag_file "$log" 20 "$name.log"
	diag "${vline:-(no such line)}"

	# d: then it exits by SIGKILL.
	le=$(line_of "$log" event=worker_exit "worker=$kind" "pid=$p1")
	[ "$le" -gt "$lv" ] && [ "$lv" -gt 0 ] &&
	    log_has "$log" 0 event=worker_exit "worker=$kind" "pid=$p1" signal=9
	ok $? "$name: then event=worker_exit worker=$kind pid=$p1 signal=9 (line $le after the violation on line $lv)"
	diag "$(sed -n "${le}p" "$log" 2>/dev/null)"

	# e: then a restart is scheduled and a new instance starts.
	lr=$(tail -n "+$((le + 1))" "$log" | awk -v k="worker=$kind" '
	    index(" " $0 " ", " event=worker_restart ") && index(" " $0 " ", " " k " ") { print NR; exit }')
	lr=$(( ${lr:-0} > 0 ? le + lr : 0 ))
	local p2=${CYC_PIDS[1]:-none}
	ls2=$(line_of "$log" event=worker_start "worker=$kind" "pid=$p2")
	[ "$le" -gt 0 ] && [ "$lr" -gt "$le" ] && [ "$ls2" -gt "$lr" ] && [ "$p2" != "$p1" ]
	ok $? "$name: then event=worker_restart worker=$kind (line $lr) and a new event=worker_start worker=$kind pid=$p2 (line $ls2)"
	diag "$(sed -n "${lr}p" "$log" 2>/dev/null)"
	diag "$(sed -n "${ls2}p" "$log" 2>/dev/null)"

	# f: every instance went through the same cycle, in order, and none
	# was ever counted as ready.
	ok "$CYC_ERR" "$name: each of ${#CYC_PIDS[@]} vnet-$kind instances: start, violation (same reason, action=kill), exit signal=9, restart; never worker_ready"
	diag "$(cat "$VN_TMP/$name.cycles")"

	# g: backoff grows.
	[ "$CYC_N" -ge 3 ] && increasing "${CYC_DELAYS[@]}"
	ok $? "$name: $CYC_N restarts in $((t1 - t0)) ms with growing delay_ms (${CYC_DELAYS[*]})"

	# h: the monitor and the real workers are untouched.
	st=0; out=""
	alive "$mon" || { out="${out}vnetd $mon is gone"$'\n'; st=1; }
	for k in $others; do
		p=$(vnetd_worker "$name" "$k")
		out="${out}vnet-$k: ready as pid ${real[$k]:-?}, now pid ${p:-none}"$'\n'
		[ -n "$p" ] && [ "$p" = "${real[$k]}" ] || st=1
		n=$(count_of "$log" "worker=$k" event=worker_start)
		[ "$n" -eq 1 ] || { out="${out}vnet-$k started $n times"$'\n'; st=1; }
		if log_has "$log" 0 event=worker_exit "worker=$k" || log_has "$log" 0 event=worker_violation "worker=$k"; then
			out="${out}vnet-$k: $(log_lines "$log" 0 "worker=$k" | grep -E 'event=worker_(exit|violation)')"$'\n'
			st=1
		fi
	done
	ok "$st" "$name: the monitor (pid $mon) stays up; the real workers keep their pids, no exit or violation for them"
	diag "${out%$'\n'}"

	# i: SIGTERM stops everything, exit status 0.
	local seen="" t2
	seen=$(log_lines "$log" 0 event=worker_start | while IFS= read -r l; do log_value "$l" pid; done | xargs)
	t2=$(now_ms)
	vnetd_stop "$name" 10 >"$VN_TMP/$name.stop" 2>&1
	st=$?
	[ "$st" -eq 0 ] && [ "${VNETD_STATUS[$name]}" = 0 ] && ! alive "$mon" &&
	    log_has "$log" 0 event=stopped
	ok $? "$name: SIGTERM: vnetd exits with status ${VNETD_STATUS[$name]} (expected 0) within $(( $(now_ms) - t2 )) ms, logs event=stopped" ||
		{ diag "$(cat "$VN_TMP/$name.stop")"; diag_file "$log" 10 "$name.log"; }

	# j: and leaves no child: none of the workers it ever started runs,
	# nothing is left in the namespace.
	local left="" nsp
	for p in $seen; do alive "$p" && left="$left $p($(cat /proc/$p/comm 2>/dev/null))"; done
	nsp=$(ip netns pids "$NS" 2>/dev/null | tr '\n' ' ')
	[ -z "$left" ] && [ -z "$nsp" ]
	ok $? "$name: no process left: none of the started workers ($seen) alive, namespace $NS empty" ||
		diag "still alive:${left:- none}; in $NS: ${nsp:-none}"
}

# 3-12
scenario evtype crypt wrong-type "message type not allowed on this channel"
# 13-22
scenario evlen inject wrong-length "message length out of bounds for its type"

tap_done

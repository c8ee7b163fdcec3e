#!/bin/bash
# SPDX-License-Identifier: ISC
# Crash recovery under load: while a TCP transfer client -> VM runs
# through the bridge, kill -9 every worker (capture, crypt, inject) of
# each daemon (host, then proxy), one at a time. Each death is audited
# (worker_exit signal=9, worker_restart, worker_start, worker_ready),
# traffic resumes within 2 s of each kill (pings client -> VM every
# 50 ms, timestamps from ping -D), and the transfer, which lasts through
# all six kills, completes with a matching sha256.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resil.sh"
rs_prereq
vn_init
plan 12

GAP_MAX_MS=${RS_GAP_MAX_MS:-2000}	# the requirement: traffic resumes within 2 s
RATE=$((2 * 1048576))			# paced transfer: 2 MiB/s ...
MIB=128					# ... of 128 MiB: 64 s of room for the kills

topo_up_tap								# 1
check "certificates and configurations generated" vn_setup_pki	# 2
start_pair_tap								# 3
check "VM $VM_IP (static) answers the client's ping" rs_vm_static	# 4

# The transfer and the pings run through all the kills.
rs_stream_start x "$NS_CLIENT" "$NS_VM" "$VM_IP" "$MIB" "$RATE" >"$VN_TMP/ss.out" 2>&1 ||
	{ diag "$(cat "$VN_TMP/ss.out")"; fail_rest "the transfer did not start"; }
rs_ping_start p "$NS_CLIENT" "$VM_IP"
wait_for 10 eval '[ "$(rs_stream_bytes x)" -gt 1048576 ]' ||
	{ diag "$(cat "$VN_TMP"/stream.x.*)"; fail_rest "the transfer does not flow"; }
diag "transfer client -> VM running ($MIB MiB paced at $((RATE / 1048576)) MiB/s); load $(rs_load)"

# kill_one NAME KIND: SIGKILL the daemon's vnet-KIND; expect the four
# audit records, and traffic (ping replies and transfer progress) after
# the new worker is ready. Sets K_* for the report.
kill_one() {
	local name=$1 kind=$2 log=${VNETD_LOG[$1]} old new mark t_ready b0 st=0 l
	old=$(vnetd_worker "$name" "$kind")
	[ -n "$old" ] || { echo "$name has no vnet-$kind child"; return 1; }
	track "$old"
	mark=$(log_mark "$log")
	K_T0=$(now_s)
	kill_tracked KILL "$old" || { echo "could not signal $old"; return 1; }
	for l in "event=worker_exit worker=$kind pid=$old signal=9" \
	    "event=worker_restart worker=$kind"; do
		# shellcheck disable=SC2086
		vnetd_wait "$name" 5 "$mark" $l || { echo "no '$l' within 5 s"; st=1; }
	done
	wait_for 5 eval 'new=$(vnetd_worker '"$name $kind"'); [ -n "$new" ] && [ "$new" != '"$old"' ]'
	new=$(vnetd_worker "$name" "$kind")
	if [ -z "$new" ] || [ "$new" = "$old" ]; then
		echo "no new vnet-$kind within 5 s"
		return 1
	fi
	for l in "event=worker_start worker=$kind pid=$new" \
	    "event=worker_ready worker=$kind pid=$new"; do
		# shellcheck disable=SC2086
		vnetd_wait "$name" 5 "$mark" $l || { echo "no '$l' within 5 s"; st=1; }
	done
	t_ready=$(now_s)
	if [ "$kind" = crypt ]; then
		vnetd_wait host 10 "$mark_h" event=link_up &&
		    vnetd_wait proxy 10 "$mark_p" event=link_up ||
			{ echo "no new event=link_up on both sides within 10 s"; st=1; }
	fi
	# Traffic again: 5 echo replies and 256 KiB more of the transfer.
	b0=$(rs_stream_bytes x)
	wait_for 10 eval '[ "$(rs_ping_since "$VN_TMP/p.ping" '"$t_ready"')" -ge 5 ] &&
	    [ "$(rs_stream_bytes x)" -gt $((b0 + 262144)) ]' ||
		{ echo "traffic did not resume within 10 s of worker_ready"; st=1; }
	K_T1=$(now_s)
	K_OLD=$old K_NEW=$new
	log_lines "$log" "$mark" event=worker_exit "worker=$kind"
	log_lines "$log" "$mark" event=worker_restart "worker=$kind"
	log_lines "$log" "$mark" event=worker_ready "worker=$kind"
	return $st
}

# 5-10: each kill, one at a time (host first, then proxy).
ROWS=()
for name in host proxy; do
	for kind in capture crypt inject; do
		mark_h=$(log_mark "${VNETD_LOG[host]}"); mark_p=$(log_mark "${VNETD_LOG[proxy]}")
		K_T0=""; K_T1=""; K_OLD=""; K_NEW=""
		kill_one "$name" "$kind" >"$VN_TMP/kill.out" 2>&1; st=$?
		# The gap: the longest time without an echo reply from just
		# before the kill until traffic was seen flowing again.
		gap=""; stall=""
		if [ -n "$K_T0" ]; then
			sleep 0.3	# ping -D lines are printed as replies come
			set -- $(rs_ping_gap "$VN_TMP/p.ping" "$(awk -v t="$K_T0" 'BEGIN { printf "%.3f", t - 0.2 }')" "${K_T1:-$(now_s)}")
			gap=$1
			stall=$(rs_stream_stall x "$K_T0" "${K_T1:-$(now_s)}")
		fi
		ROWS+=("$(printf '%-6s %-8s %7s -> %-7s gap %5s ms  transfer stall %5s ms' \
		    "$name" "$kind" "$K_OLD" "$K_NEW" "${gap:-?}" "${stall:-?}")")
		ok "$([ "$st" -eq 0 ] && [ -n "$gap" ] && [ "$gap" -lt "$GAP_MAX_MS" ]; echo $?)" \
		    "kill -9 $name vnet-$kind (pid $K_OLD): worker_exit signal=9, worker_restart, worker_start and worker_ready (pid $K_NEW) audited; traffic resumed, longest ping gap ${gap:-?} ms < $GAP_MAX_MS ms" ||
			diag "$(cat "$VN_TMP/kill.out")"
		sleep 0.5
	done
done
diag "recovery per kill (ping client -> VM every 50 ms; load $(rs_load)):"
for r in "${ROWS[@]}"; do diag "  $r"; done

# 11: the transfer outlived all six kills, then completes intact.
left=$(( RS_SBYTES[x] - $(rs_stream_bytes x) ))
running=0; rs_stream_running x || running=1
rs_stream_fast x
rs_stream_wait x 120 >"$VN_TMP/sw.out" 2>&1; st=$?
ok "$([ "$st" -eq 0 ] && [ "$running" -eq 0 ] && [ "$left" -gt 0 ]; echo $?)" \
    "the $MIB MiB transfer client -> VM was still running after the last kill ($left bytes to go) and completed with a matching sha256"
diag "$(cat "$VN_TMP/sw.out")"
rs_ping_stop p

# 12: six deaths, six restarts, nothing else died, both daemons alive.
n_exit=$(( $(log_lines "${VNETD_LOG[host]}" 0 event=worker_exit | wc -l) +
    $(log_lines "${VNETD_LOG[proxy]}" 0 event=worker_exit | wc -l) ))
n_sig9=$(( $(log_lines "${VNETD_LOG[host]}" 0 event=worker_exit signal=9 | wc -l) +
    $(log_lines "${VNETD_LOG[proxy]}" 0 event=worker_exit signal=9 | wc -l) ))
ok "$([ "$n_exit" -eq 6 ] && [ "$n_sig9" -eq 6 ] && alive "${VNETD_PID[host]}" && alive "${VNETD_PID[proxy]}"; echo $?)" \
    "exactly the 6 killed workers exited ($n_exit worker_exit, $n_sig9 with signal=9); both monitors alive" ||
	diag "$(log_lines "${VNETD_LOG[host]}" 0 event=worker_exit; log_lines "${VNETD_LOG[proxy]}" 0 event=worker_exit)"

rs_save_logs
tap_done

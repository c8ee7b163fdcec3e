#!/bin/bash
# SPDX-License-Identifier: ISC
# Recovery: a killed worker is replaced and traffic resumes; vnetd stops
# cleanly on SIGTERM and the link comes back when it starts again.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 21

topo_up_tap								# 1
check "certificates and configurations generated" vn_setup_pki	# 2
dhcp_start_tap								# 3
start_pair_tap								# 4
if ! vm_lease_tap; then							# 5
	VM_IP=10.202.0.99
	diag "no lease: giving the VM $VM_IP statically for the remaining tests"
	ip -n "$NS_VM" addr add "$VM_IP/24" dev eth0
fi
check "baseline: VM pings the client" ping4 "$NS_VM" "$CLIENT_IP"	# 6

HLOG=${VNETD_LOG[host]}

# kill_worker KIND: SIGKILL the host's vnet-KIND; expect worker_exit for
# it (signal=9), then a new vnet-KIND child that logs start and ready.
kill_worker() {
	local kind=$1 old new mark
	old=$(vnetd_worker host "$kind")
	[ -n "$old" ] || { echo "host has no vnet-$kind child"; return 1; }
	mark=$(log_mark "$HLOG")
	kill -KILL "$old"
	if ! vnetd_wait host 5 "$mark" event=worker_exit "worker=$kind" "pid=$old"; then
		echo "no 'event=worker_exit worker=$kind pid=$old' within 5 s"
		return 1
	fi
	log_lines "$HLOG" "$mark" event=worker_exit "worker=$kind" "pid=$old"
	if ! log_has "$HLOG" "$mark" event=worker_exit "worker=$kind" "pid=$old" signal=9; then
		echo "worker_exit line lacks signal=9"
		return 1
	fi
	wait_for 10 eval 'new=$(vnetd_worker host '"$kind"'); [ -n "$new" ] && [ "$new" != '"$old"' ]'
	new=$(vnetd_worker host "$kind")
	if [ -z "$new" ] || [ "$new" = "$old" ]; then
		echo "no new vnet-$kind child within 10 s"
		return 1
	fi
	if ! vnetd_wait host 5 "$mark" event=worker_start "worker=$kind" "pid=$new"; then
		echo "no 'event=worker_start worker=$kind pid=$new'"
		return 1
	fi
	if ! vnetd_wait host 5 "$mark" event=worker_ready "worker=$kind" "pid=$new"; then
		echo "no 'event=worker_ready worker=$kind pid=$new'"
		return 1
	fi
	log_lines "$HLOG" "$mark" event=worker_start "worker=$kind" "pid=$new"
	echo "vnet-$kind: pid $old killed, pid $new took over"
}

# 7-15: each of the host's workers in turn.
for kind in capture crypt inject; do
	mark=$(log_mark "$HLOG")
	out=$(kill_worker "$kind"); st=$?
	ok "$st" "kill -9 host vnet-$kind: worker_exit (signal=9) logged, a new vnet-$kind starts and is ready"
	diag "$out"
	# After losing the crypt worker the TLS session is new: wait for it.
	if [ "$kind" = crypt ]; then
		vnetd_wait host 20 "$mark" event=link_up ||
			diag "no new event=link_up in host.log within 20 s after killing crypt"
	fi
	check "after the $kind restart: VM pings the client" ping4 "$NS_VM" "$CLIENT_IP"
	xfer_tap "after the $kind restart: 8 MiB VM -> client, sha256 matches" \
	    "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" 8
done

# 16-18: SIGTERM stops the host daemon and all its workers.
pmark=$(log_mark "${VNETD_LOG[proxy]}")
hpid=${VNETD_PID[host]}
t0=$(now_ms)
vnetd_stop host 10 >"$VN_TMP/stop.out" 2>&1
st=$?
t1=$(now_ms)
ok "$([ "$st" -eq 0 ] && ! alive "$hpid"; echo $?)" "SIGTERM: host vnetd (pid $hpid) and its workers ($VNETD_WORKERS_STOPPED ) gone within 10 s ($((t1 - t0)) ms)" ||
	diag "$(cat "$VN_TMP/stop.out")"
is "${VNETD_STATUS[host]}" 0 "host vnetd exit status after SIGTERM is 0"
vnetd_wait proxy 10 "$pmark" event=link_down
ok $? "proxy logs event=link_down when the host goes away" ||
	diag_file "${VNETD_LOG[proxy]}" 10 proxy.log

# 19-21: start it again.
pmark=$(log_mark "${VNETD_LOG[proxy]}")
t0=$(now_ms)
vnetd_start host "$NS_HOST" "$VN_TMP/host.conf"
vnetd_wait_link 20 host && vnetd_wait proxy 5 "$pmark" event=link_up
ok $? "host vnetd restarted: event=link_up again on host and proxy ($(( $(now_ms) - t0 )) ms)" ||
	{ diag_file "${VNETD_LOG[host]}" 15 host.log; diag_file "${VNETD_LOG[proxy]}" 15 proxy.log; }
check "after the daemon restart: VM pings the client" ping4 "$NS_VM" "$CLIENT_IP"
xfer_tap "after the daemon restart: 8 MiB client -> VM, sha256 matches" \
    "$NS_CLIENT" "$NS_VM" "$VM_IP" 8

tap_done

#!/bin/bash
# SPDX-License-Identifier: ISC
# A worker can neither stall the monitor nor forge a log record. A
# hostile vnet-crypt (tests/evil/evil-worker.c, log-flood) says it is
# ready, then floods well-formed MSG_LOG records from three threads, as
# fast as its channel takes them (so it never runs dry): at emergency
# and alert severity, some starting with another worker's attribution
# ("worker=inject pid=1 event=..."), some claiming a link. vnetd runs daemonized and logs through a private
# rsyslogd, so each record's facility and severity are seen. During the
# flood:
#   - vnetctl status answers within 1 s, every time;
#   - SIGUSR1's event=stats records of the real capture and inject arrive;
#   - the hostile records come through at most 200 a second, what is held
#     back is summarized (event=suppressed what=worker_log, audit) and
#     counted (total=);
#   - every hostile record starts with the monitor's worker=crypt
#     pid=<its pid>, and none is above severity err;
# and SIGTERM still stops everything.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ops.sh"
vn_prereq
ops_prereq
vn_init
plan 12

EVIL=$VNET_BUILD/tests/evil/log-flood
[ -x "$EVIL" ] || bail "not built: $EVIL (make $EVIL)"
PER_SEC=200		# WORKER_LOG_PER_SEC in monitor/supervise.c

# sys_lines_fac FACILITY TOKEN...: the proxy's syslog lines in FACILITY
# holding every TOKEN.
sys_lines_fac() {
	local fac=$1; shift
	log_lines "$PLOG" 0 "$@" | awk -v f="$fac" '$1 == f'
}

# 1: one namespace holding the proxy's interfaces (as 47-violation.t).
NS=$NS_PROXY
topo_alone "$NS" >"$VN_TMP/topo.out" 2>&1
ok $? "namespace $NS: veth lan0 and wan0 ($PROXY_WAN), peers in the same namespace" ||
	{ diag "$(cat "$VN_TMP/topo.out")"; fail_rest "namespace setup failed"; }

# 2
check "certificates and the proxy configuration generated" vn_setup_pki
syslog_start_tap proxy							# 3
PLOG=$VN_TMP/proxy.syslog
CTL_SOCK[proxy]=$(conf_control "$VN_TMP/proxy.conf")

# 4: the libexec dir: real capture and inject, the flooder as crypt.
XDIR=$VN_TMP/libexec-flood
libexec() {
	mkdir -p "$XDIR" && chmod 0755 "$XDIR" || return 1
	cp "$VNET_BUILD/vnet-capture" "$VNET_BUILD/vnet-inject" "$XDIR/" &&
	    cp "$EVIL" "$XDIR/vnet-crypt"
}
check "libexec dir with the real vnet-capture and vnet-inject, log-flood as vnet-crypt" libexec

# 5: it starts; the real workers become ready, the flood runs.
vnetd_start_syslog proxy "$NS" "$VN_TMP/proxy.conf" "$VNET_BUILD/vnetd" "$XDIR" \
    >"$VN_TMP/start.out" 2>&1
MON=${VNETD_PID[proxy]:-0}
wait_for 10 eval 'log_has "$PLOG" 0 event=worker_ready worker=capture &&
    log_has "$PLOG" 0 event=worker_ready worker=inject &&
    log_has "$PLOG" 0 host=forged'
EVP=$(vnetd_worker proxy crypt)
ok "$([ "$MON" != 0 ] && alive "$MON" && [ -n "$EVP" ] &&
    log_has "$PLOG" 0 event=worker_ready worker=capture &&
    log_has "$PLOG" 0 event=worker_ready worker=inject && log_has "$PLOG" 0 host=forged; echo $?)" \
    "vnetd (pid $MON) runs; capture and inject ready; the flooder (pid ${EVP:-none}) is flooding" ||
	{ diag "$(cat "$VN_TMP/start.out")"; diag_file "$PLOG" 20 proxy.syslog; fail_rest "no flood"; }
T0=$(now_ms)
sleep 1

# 6: the control socket answers within 1 s, 10 times over.
slow=0; times=""
for i in $(seq 1 10); do
	t=$(now_ms)
	out=$(timeout 5 "$VNET_BUILD/vnetctl" -s "${CTL_SOCK[proxy]}" status 2>&1)
	st=$?
	ms=$(( $(now_ms) - t )); times="$times $ms"
	if [ "$st" -ne 0 ] || [ "$ms" -ge 1000 ] || ! printf '%s\n' "$out" | grep -q '^inject '; then
		slow=$((slow + 1))
	fi
	sleep 0.2
done
ok "$slow" "during the flood vnetctl status answered 10 of 10 times within 1000 ms (ms:$times)" ||
	diag "$out"

# 7: the other workers' records still arrive: SIGUSR1's stats.
mark=$(log_mark "$PLOG")
kill -USR1 "$MON"
wait_for 3 eval 'log_has "$PLOG" "$mark" event=stats worker=capture &&
    log_has "$PLOG" "$mark" event=stats worker=inject'
ok "$(log_has "$PLOG" "$mark" event=stats worker=capture &&
    log_has "$PLOG" "$mark" event=stats worker=inject; echo $?)" \
    "during the flood SIGUSR1's event=stats records of capture and inject arrive within 3 s"
diag "$(log_lines "$PLOG" "$mark" event=stats | cut -c1-160)"

sleep 1
T1=$(now_ms)
alive "$EVP" || diag "the flooder $EVP is gone"
# The flood's records: everything that mentions the forgeries.
log_lines "$PLOG" 0 | grep -E 'host=forged|forged=' >"$VN_TMP/forged"
NF=$(grep -c . "$VN_TMP/forged")

# 8: attribution first: after the syslog tag, worker=crypt pid=EVP.
bad=$(awk -v p="pid=$EVP" '$4 != "worker=crypt" || $5 != p' "$VN_TMP/forged" | head -n 3)
ok "$([ "$NF" -gt 0 ] && [ -z "$bad" ]; echo $?)" \
    "each of the $NF flood records starts with the monitor's 'worker=crypt pid=$EVP', whatever the worker wrote" ||
	diag "$bad"
diag "$(grep -m 1 'host=forged' "$VN_TMP/forged")"
diag "$(grep -m 1 'forged=' "$VN_TMP/forged")"

# 9: severities clamped: the worker sent emerg and alert; nothing above err.
sev=$(awk '{ print $2 }' "$VN_TMP/forged" | sort | uniq -c | xargs)
high=$(log_lines "$PLOG" 0 worker=crypt | awk '$2 ~ /^(emerg|alert|crit)$/' | head -n 2)
ok "$([ "$NF" -gt 0 ] && [ -z "$high" ] && [ "$(awk '$2 != "err"' "$VN_TMP/forged" | grep -c .)" = 0 ]; echo $?)" \
    "the worker's emerg and alert records are written at err, no worker record above err (severities: $sev)" ||
	diag "$high"

# 10: rate: at most PER_SEC a second (per window; the count is over
# whole seconds of the run, plus one window at each end).
secs=$(( (T1 - T0 + 999) / 1000 + 2 ))
n_all=$(log_lines "$PLOG" 0 worker=crypt | grep -vc 'event=suppressed')
ok "$([ "$n_all" -gt 0 ] && [ "$n_all" -le $((PER_SEC * (secs + 2))) ]; echo $?)" \
    "the flooder's records are limited: $n_all written in about $secs s (at most $PER_SEC a second)"

# 11: what was held back is summarized, audited and counted.
summ=$(sys_lines_fac authpriv event=suppressed what=worker_log worker=crypt "pid=$EVP")
last=$(printf '%s\n' "$summ" | tail -n 1)
sum=$(printf '%s\n' "$summ" | grep -o ' suppressed=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
tot=$(log_value "$last" total)
ok "$([ -n "$summ" ] && [ "$sum" -gt 0 ] && [ "${tot:-0}" -ge "$sum" ] && [ "${tot:-0}" -gt "$n_all" ]; echo $?)" \
    "held-back records summarized in authpriv: $(printf '%s\n' "$summ" | grep -c .) event=suppressed what=worker_log worker=crypt pid=$EVP records, suppressed= adding up to $sum, total=$tot (more than the $n_all written)"
diag "$last"

# 12: SIGTERM still stops everything.
vnetd_stop_daemon proxy 10 >"$VN_TMP/stop.out" 2>&1
st=$?
wait_for 3 log_has "$PLOG" 0 event=stopped
ok "$([ "$st" = 0 ] && ! alive "$MON" && ! alive "$EVP" && log_has "$PLOG" 0 event=stopped; echo $?)" \
    "SIGTERM during the flood: the monitor and the flooder are gone, event=stopped logged" ||
	diag "$(cat "$VN_TMP/stop.out")"
tap_done

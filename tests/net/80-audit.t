#!/bin/bash
# SPDX-License-Identifier: ISC
# The audit trail as an operator's syslog daemon receives it: rsyslogd
# (private sockets and files in the temp dir) and vnetd started WITHOUT
# -d, so it daemonizes and logs with syslog(3) to a /dev/log that exists
# only in its own mount namespace. Every record is checked with its
# facility and severity: start (config_sha256 = sha256sum of the file),
# workers started and dropped, link up, TLS handshake failures (a host
# from another CA; a client with no certificate), an unauthorized MAC
# dropped, a worker killed and restarted, reload applied and rejected,
# control commands (uid=0), stop; security records in authpriv,
# operational ones (stats) in daemon; then syslog-facility local3 and
# audit-facility local4 honoured.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ops.sh"
vn_prereq
ops_prereq
vn_init
plan 28

DEVLOG0=$(devlog_state)

topo_up_tap host2 vm_if2						# 1
pki() {
	vn_setup_pki "$BAD_MAC" &&
	vn_odd_leaf "$VN_TMP" srvhost /CN=vmhost1 "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=serverAuth"
}
check "certificates and configurations generated (host also lists vm $BAD_MAC; a serverAuth-only host certificate)" \
    pki									# 2
syslog_start_tap proxy host						# 3
CTL_SOCK[proxy]=$(conf_control "$VN_TMP/proxy.conf")
PLOG=$VN_TMP/proxy.syslog
HLOG=$VN_TMP/host.syslog

# sys_lines LOG MARK FACILITY TOKEN...: syslog lines after MARK in
# FACILITY holding every TOKEN (lib.sh's log_lines, then the facility).
sys_lines() {
	local log=$1 mark=$2 fac=$3; shift 3
	log_lines "$log" "$mark" "$@" | awk -v f="$fac" '$1 == f'
}
sys_has() { [ -n "$(sys_lines "$@")" ]; }
# sys_wait SECS LOG MARK FACILITY TOKEN...
sys_wait() { local s=$1; shift; wait_for "$s" sys_has "$@"; }
# sys_pid LINE: the PID in "vnetd[PID]:".
sys_pid() { printf '%s\n' "$1" | sed -n 's/^[a-z0-9]* [a-z]* vnetd\[\([0-9]*\)\]: .*/\1/p'; }

# ---- 4: the proxy daemonizes; its start record carries the file's hash.
vnetd_start_syslog proxy "$NS_PROXY" "$VN_TMP/proxy.conf" >"$VN_TMP/start.out" 2>&1
st=$?
PPID_=$(awk '/^PPid:/ { print $2 }' "/proc/${VNETD_PID[proxy]:-0}/status" 2>/dev/null)
want=$(sha256sum "$VN_TMP/proxy.conf" | cut -d' ' -f1)
sys_wait 5 "$PLOG" 0 authpriv event=start role=proxy
line=$(sys_lines "$PLOG" 0 authpriv event=start | tail -n 1)
ok "$([ "$st" = 0 ] && [ -n "${VNETD_PID[proxy]}" ] && [ "$PPID_" != "$$" ] &&
    [ "$(log_value "$line" config_sha256)" = "$want" ] &&
    [ "$(sys_pid "$line")" = "${VNETD_PID[proxy]}" ] &&
    printf '%s\n' "$line" | grep -q '^authpriv notice vnetd\['; echo $?)" \
    "proxy vnetd (no -d) daemonized as pid ${VNETD_PID[proxy]:-?} (parent $PPID_, not this shell); 'authpriv notice vnetd[PID]: event=start' with config_sha256 = sha256sum proxy.conf" ||
	{ diag "$(cat "$VN_TMP/start.out")"; diag "start line: $line"; diag "sha256sum: $want"; }
diag "$line"
alive "${VNETD_PID[proxy]:-0}" || fail_rest "the proxy is not running"

# ---- 5: the host too; link_up on both sides, in authpriv.
wait_for 5 eval "in_ns $NS_PROXY ss -Hltn 'sport = :$VNET_PORT' | grep -q ."
vnetd_start_syslog host "$NS_HOST" "$VN_TMP/host.conf" >"$VN_TMP/start.out" 2>&1
sys_wait 20 "$PLOG" 0 authpriv event=link_up host=vmhost1 tls=TLSv1.3 &&
    sys_wait 10 "$HLOG" 0 authpriv event=link_up host=proxy tls=TLSv1.3
ok $? "link up: proxy logs 'authpriv notice ... event=link_up host=vmhost1 tls=TLSv1.3', host logs event=link_up host=proxy" ||
	{ diag "$(cat "$VN_TMP/start.out")"; diag_file "$HLOG" 10 host.syslog; fail_rest "no link"; }
diag "$(sys_lines "$PLOG" 0 authpriv event=link_up | tail -n 1)"

# ---- 6: each worker's start and drop, recorded by the monitor
# (worker=, pid= after its event=) with the pids the kernel shows.
workers_logged() {
	local k p bad=0
	for k in capture crypt inject; do
		p=$(vnetd_worker proxy "$k")
		[ -n "$p" ] || { echo "no vnet-$k child of ${VNETD_PID[proxy]}"; bad=1; continue; }
		sys_has "$PLOG" 0 authpriv event=worker_start "worker=$k" "pid=$p" restarts=0 ||
			{ echo "no authpriv event=worker_start worker=$k pid=$p restarts=0"; bad=1; }
		sys_has "$PLOG" 0 authpriv event=worker_ready "worker=$k" "pid=$p" "uid=$(id -u vnetd)" caps=none capeff=0000000000000000 capbnd=0000000000000000 ||
			{ echo "no authpriv event=worker_ready worker=$k pid=$p uid=vnetd caps=none, zero capeff/capbnd"; bad=1; }
	done
	return $bad
}
check "worker_start and worker_ready (uid=vnetd caps=none capeff/capbnd zero) in authpriv for capture, crypt, inject, with their real pids" \
    workers_logged

# ---- 7: a host with a certificate from another CA.
vn_host_conf "$VN_TMP/rogue.conf" "$VN_TMP/rogue-host.crt" "$VN_TMP/rogue-host.key" \
    "$VN_TMP/ca.crt" "$PROXY_WAN"
mark=$(log_mark "$PLOG")
vnetd_start rogue "$NS_HOST2" "$VN_TMP/rogue.conf"
wait_for 15 eval "sys_lines \$PLOG \$mark authpriv event=tls_handshake_failed | grep -q 'peer=$HOST2_WAN:'"
line=$(sys_lines "$PLOG" "$mark" authpriv event=tls_handshake_failed | grep "peer=$HOST2_WAN:" | head -n 1)
reason=$(log_value "$line" reason)
ok "$([ -n "$line" ] && printf '%s\n' "$reason" | grep -Eqi 'certificate|unknown ca' &&
    [ -n "$(log_value "$line" total)" ] && [ -n "$(log_value "$line" suppressed)" ] &&
    [ "$(log_value "$line" worker)" = crypt ] && [ "$(echo "$line" | awk '{ print $4 }')" = worker=crypt ]; echo $?)" \
    "rogue-CA host: 'authpriv notice vnetd[PID]: worker=crypt pid= event=tls_handshake_failed peer=$HOST2_WAN:PORT reason=<certificate> total= suppressed='" ||
	{ diag_file "$PLOG" 10 proxy.syslog; diag_file "${VNETD_LOG[rogue]}" 10 rogue.log; }
diag "$line"
vnetd_stop rogue 10 >/dev/null 2>&1

# ---- 8: a TLS client with no certificate at all.
mark=$(log_mark "$PLOG")
out=$(in_ns "$NS_HOST2" timeout 10 openssl s_client -connect "$PROXY_WAN:$VNET_PORT" \
    -CAfile "$VN_TMP/ca.crt" </dev/null 2>&1)
wait_for 5 eval "sys_lines \$PLOG \$mark authpriv event=tls_handshake_failed | grep -q 'peer=$HOST2_WAN:'"
line=$(sys_lines "$PLOG" "$mark" authpriv event=tls_handshake_failed | grep "peer=$HOST2_WAN:" | head -n 1)
reason=$(log_value "$line" reason)
ok "$([ -n "$line" ] && printf '%s\n' "$reason" | grep -qi 'certificate'; echo $?)" \
    "openssl s_client with no certificate: authpriv event=tls_handshake_failed, reason=\"$reason\"" ||
	{ diag "$out"; diag_file "$PLOG" 10 proxy.syslog; }
diag "$line"

# ---- 9: a host certificate without clientAuth: refused by name.
mark=$(log_mark "$PLOG")
out=$(in_ns "$NS_HOST2" timeout 10 openssl s_client -connect "$PROXY_WAN:$VNET_PORT" \
    -cert "$VN_TMP/srvhost.crt" -key "$VN_TMP/srvhost.key" -CAfile "$VN_TMP/ca.crt" </dev/null 2>&1)
want="certificate's extended key usage lacks clientAuth, which a host's needs"
sys_wait 5 "$PLOG" "$mark" authpriv event=peer_rejected
line=$(sys_lines "$PLOG" "$mark" authpriv event=peer_rejected | grep "peer=$HOST2_WAN:" | head -n 1)
ok "$([ -n "$line" ] && [ "$(log_value "$line" reason)" = "$want" ] &&
    printf '%s\n' "$line" | grep -q '^authpriv notice vnetd\[[0-9]*\]: worker=crypt pid='"$(vnetd_worker proxy crypt)"' event=peer_rejected .* subject="/CN=vmhost1" fingerprint=[0-9a-f]\{64\} reason=.* total=[0-9]* suppressed=[0-9]*$'; echo $?)" \
    "serverAuth-only host certificate: 'authpriv notice vnetd[PID]: worker=crypt pid=<crypt> event=peer_rejected peer=$HOST2_WAN:PORT subject= fingerprint= reason=\"$want\" total= suppressed='" ||
	{ diag "$out"; diag_file "$PLOG" 10 proxy.syslog; }
diag "$line"

# ---- 10: frames from a MAC the proxy does not allow for vmhost1.
mark=$(log_mark "$PLOG")
in_ns "$NS_VM" timeout 10 busybox arping -b -I eth1 -s "$BAD_IP" -c 3 -w 4 "$CLIENT_IP" >/dev/null 2>&1
sys_wait 5 "$PLOG" "$mark" authpriv event=drop reason=mac_unauthorized "src=$BAD_MAC" host=vmhost1
line=$(sys_lines "$PLOG" "$mark" authpriv event=drop reason=mac_unauthorized "src=$BAD_MAC" | head -n 1)
ok "$([ -n "$line" ] && [ -n "$(log_value "$line" total)" ] && [ -n "$(log_value "$line" suppressed)" ] &&
    [ "$(echo "$line" | awk '{ print $4, $5 }')" = "worker=crypt pid=$(vnetd_worker proxy crypt)" ]; echo $?)" \
    "unauthorized source MAC: 'authpriv notice vnetd[PID]: worker=crypt pid=<crypt> event=drop reason=mac_unauthorized src=$BAD_MAC host=vmhost1 peer= total= suppressed='" ||
	diag_file "$PLOG" 10 proxy.syslog
diag "$line"

# ---- 11, 12: kill -9 the proxy's crypt worker.
old=$(vnetd_worker proxy crypt)
mark=$(log_mark "$PLOG")
kill -KILL "$old"
sys_wait 5 "$PLOG" "$mark" authpriv event=worker_exit worker=crypt "pid=$old" signal=9 &&
    sys_wait 5 "$PLOG" "$mark" authpriv event=worker_restart worker=crypt restarts=1
ok $? "kill -9 crypt ($old): authpriv event=worker_exit worker=crypt pid=$old signal=9, then event=worker_restart worker=crypt delay_ms= restarts=1" ||
	diag_file "$PLOG" 10 proxy.syslog
diag "$(sys_lines "$PLOG" "$mark" authpriv event=worker_restart)"
wait_for 10 eval 'new=$(vnetd_worker proxy crypt); [ -n "$new" ] && [ "$new" != "$old" ]'
new=$(vnetd_worker proxy crypt)
sys_wait 5 "$PLOG" "$mark" authpriv event=worker_start worker=crypt "pid=$new" restarts=1 &&
    sys_wait 5 "$PLOG" "$mark" authpriv event=worker_ready worker=crypt "pid=$new" &&
    sys_wait 20 "$PLOG" "$mark" authpriv event=link_up host=vmhost1 worker=crypt "pid=$new"
ok $? "the new crypt ($new) logs worker_start restarts=1, worker_ready, and the link comes back (link_up pid=$new)" ||
	diag_file "$PLOG" 10 proxy.syslog

# ---- 13: SIGUSR1: operational records, in daemon.
mark=$(log_mark "$PLOG")
kill_tracked USR1 "${VNETD_PID[proxy]}"
sys_wait 5 "$PLOG" "$mark" daemon event=stats worker=crypt "pid=$new" restarts=1 &&
    sys_wait 2 "$PLOG" "$mark" daemon event=stats worker=capture &&
    sys_wait 2 "$PLOG" "$mark" daemon event=stats worker=inject
st=$?
sleep 0.3
aud=$(sys_lines "$PLOG" "$mark" authpriv event=stats)
ok "$([ "$st" = 0 ] && [ -z "$aud" ] && log_lines "$PLOG" "$mark" event=stats worker=crypt | grep -q '^daemon info '; echo $?)" \
    "SIGUSR1: 'daemon info ... event=stats worker=NAME pid= restarts= COUNTER=...' for each worker, none in authpriv" ||
	{ diag "$aud"; diag_file "$PLOG" 10 proxy.syslog; }
diag "$(sys_lines "$PLOG" "$mark" daemon event=stats worker=crypt | cut -c1-200)..."

# ---- 14: reload applied (SIGHUP after a valid change).
SHA0=$(sha256sum "$VN_TMP/proxy.conf" | cut -d' ' -f1)
cp "$VN_TMP/proxy.conf" "$VN_TMP/proxy.conf.orig"
sed -i 's/^keepalive 1$/keepalive 2/' "$VN_TMP/proxy.conf"
SHA1=$(sha256sum "$VN_TMP/proxy.conf" | cut -d' ' -f1)
mark=$(log_mark "$PLOG")
kill_tracked HUP "${VNETD_PID[proxy]}"
sys_wait 5 "$PLOG" "$mark" authpriv event=reload result=applied "config=$VN_TMP/proxy.conf" "config_sha256=$SHA1" &&
    sys_wait 5 "$PLOG" "$mark" authpriv event=reload result=applied hosts=1 links_cut=0 worker=crypt
st=$?
ok "$([ "$st" = 0 ] && [ "$SHA1" != "$SHA0" ]; echo $?)" \
    "SIGHUP after a valid change: authpriv event=reload result=applied config_sha256=<new sha256sum>, and crypt's event=reload result=applied hosts=1 macs= links_cut=0" ||
	diag_file "$PLOG" 10 proxy.syslog
diag "$(sys_lines "$PLOG" "$mark" authpriv event=reload)"

# ---- 15: reload rejected (SIGHUP after breaking the file), then fixed.
printf 'no-such-keyword 1\n' >>"$VN_TMP/proxy.conf"
nl=$(wc -l <"$VN_TMP/proxy.conf")
mark=$(log_mark "$PLOG")
kill_tracked HUP "${VNETD_PID[proxy]}"
sys_wait 5 "$PLOG" "$mark" authpriv event=reload result=rejected "running_sha256=$SHA1"
line=$(sys_lines "$PLOG" "$mark" authpriv event=reload result=rejected | head -n 1)
reason=$(log_value "$line" reason)
cp "$VN_TMP/proxy.conf.orig" "$VN_TMP/proxy.conf"
mark2=$(log_mark "$PLOG")
kill_tracked HUP "${VNETD_PID[proxy]}"
sys_wait 5 "$PLOG" "$mark2" authpriv event=reload result=applied "config_sha256=$SHA0"
st=$?
ok "$([ -n "$line" ] && [ "$st" = 0 ] &&
    case $reason in "$VN_TMP/proxy.conf:$nl:"*) true ;; *) false ;; esac; echo $?)" \
    "broken file: authpriv event=reload result=rejected reason=\"FILE:$nl: ...\" running_sha256=<previous>; fixed back: result=applied config_sha256=<original>" ||
	diag_file "$PLOG" 10 proxy.syslog
diag "$line"

# ---- 16: control commands, with the client's uid.
mark=$(log_mark "$PLOG")
ctl proxy status >/dev/null 2>&1
ctl proxy -j links >/dev/null 2>&1
sys_wait 5 "$PLOG" "$mark" authpriv event=control uid=0 command=status json=0 &&
    sys_wait 5 "$PLOG" "$mark" authpriv event=control uid=0 command=links json=1
ok $? "vnetctl status, vnetctl -j links: 'authpriv notice ... event=control uid=0 command=status json=0' and command=links json=1" ||
	diag_file "$PLOG" 10 proxy.syslog

# ---- 17: every record so far is in the facility of its class.
AUDIT_EV="start stopped worker_start worker_ready worker_exit worker_restart worker_violation link_up link_down tls_handshake_failed peer_rejected refused hello_mac_unauthorized malformed_record mac_moved reload control control_rejected vm_unbound vm_port transport datagram_dropped proxy_failover"
OPS_EV="stats mac stop error connect_failed filter_fallback filter_widened log udp_ready udp_peer"
classes() {
	local f=$1 bad=0 n=0 ev fac
	while read -r fac _ _ rest; do
		# A worker's record starts with the monitor's worker= pid=.
		ev=$(printf '%s\n' "$rest" | sed -n 's/^\(worker=[a-z]* pid=[0-9]* \)\{0,1\}event=\([a-z_0-9]*\).*/\2/p')
		[ -n "$ev" ] || continue
		n=$((n + 1))
		case " $AUDIT_EV " in *" $ev "*)
			[ "$fac" = authpriv ] || { echo "audit record in $fac: $rest"; bad=1; }; continue ;;
		esac
		# event=drop: mac_unauthorized is audited, the others operational.
		if [ "$ev" = drop ]; then
			case $rest in *reason=mac_unauthorized*) want=authpriv ;; *) want=daemon ;; esac
			[ "$fac" = "$want" ] || { echo "drop record in $fac: $rest"; bad=1; }
			continue
		fi
		case " $OPS_EV " in *" $ev "*)
			[ "$fac" = daemon ] || { echo "operational record in $fac: $rest"; bad=1; }; continue ;;
		esac
		echo "record of unknown class: $fac $rest"; bad=1
	done <"$f"
	echo "$n records checked in ${f##*/}"
	return $bad
}
check "every record in proxy.syslog and host.syslog is in its class's facility (security: authpriv, operational: daemon)" \
    eval 'classes "$PLOG" && classes "$HLOG"'

# ---- 18: stop: event=stop (daemon), event=stopped config_sha256 (authpriv).
mark=$(log_mark "$PLOG")
vnetd_stop_daemon proxy 10 >"$VN_TMP/stop.out" 2>&1
st=$?
sys_wait 5 "$PLOG" "$mark" daemon event=stop signal=15 &&
    sys_wait 5 "$PLOG" "$mark" authpriv event=stopped "config_sha256=$SHA0"
st2=$?
ok "$([ "$st2" = 0 ] && [ "$st" = 0 ]; echo $?)" "SIGTERM: 'daemon info ... event=stop signal=15', 'authpriv notice ... event=stopped config_sha256=<running>'; monitor and workers gone" ||
	{ diag "$(cat "$VN_TMP/stop.out")"; diag_file "$PLOG" 10 proxy.syslog; }

# ---- 19-22: syslog-facility local3, audit-facility local4.
printf 'syslog-facility local3\naudit-facility local4\n' >>"$VN_TMP/proxy.conf"
SHA2=$(sha256sum "$VN_TMP/proxy.conf" | cut -d' ' -f1)
mark=$(log_mark "$PLOG")
vnetd_start_syslog proxy "$NS_PROXY" "$VN_TMP/proxy.conf" >"$VN_TMP/start.out" 2>&1
sys_wait 5 "$PLOG" "$mark" local4 event=start "config_sha256=$SHA2"
ok $? "with audit-facility local4: 'local4 notice ... event=start config_sha256=<new>'" ||
	{ diag "$(cat "$VN_TMP/start.out")"; diag_file "$PLOG" 10 proxy.syslog; }
sys_wait 20 "$PLOG" "$mark" local4 event=link_up host=vmhost1
ok $? "the host redials: link_up in local4" || diag_file "$PLOG" 10 proxy.syslog
m2=$(log_mark "$PLOG")
kill_tracked USR1 "${VNETD_PID[proxy]}"
sys_wait 5 "$PLOG" "$m2" local3 event=stats worker=crypt
ok $? "with syslog-facility local3: SIGUSR1's event=stats in local3" || diag_file "$PLOG" 10 proxy.syslog
ctl proxy status >/dev/null 2>&1
sys_wait 5 "$PLOG" "$mark" local4 event=control uid=0 command=status
sleep 0.3
stray=$(tail -n "+$((mark + 1))" "$PLOG" | awk '$1 == "authpriv" || $1 == "daemon"')
ok "$([ -z "$stray" ] && sys_has "$PLOG" "$mark" local4 event=control command=status; echo $?)" \
    "after the change nothing goes to authpriv or daemon (control record in local4)" || diag "$stray"

# ---- 23: facilities follow a reload too: back to the defaults.
cp "$VN_TMP/proxy.conf.orig" "$VN_TMP/proxy.conf"
mark=$(log_mark "$PLOG")
kill_tracked HUP "${VNETD_PID[proxy]}"
# The applied record is written after the switch: in authpriv.
sys_wait 5 "$PLOG" "$mark" authpriv event=reload result=applied "config_sha256=$SHA0"
st=$?
kill_tracked USR1 "${VNETD_PID[proxy]}"
sys_wait 5 "$PLOG" "$mark" daemon event=stats worker=crypt
st2=$?
ok "$([ "$st" = 0 ] && [ "$st2" = 0 ]; echo $?)" "reload back to the defaults: reload record in authpriv, stats in daemon" ||
	diag_file "$PLOG" 10 proxy.syslog

# ---- 24: the monitor's pid in every record is the daemon's.
pids=$(tail -n "+$((mark + 1))" "$PLOG" | sed -n 's/^[a-z0-9]* [a-z]* vnetd\[\([0-9]*\)\]:.*/\1/p' | sort -u | tr '\n' ' ')
is "$pids" "${VNETD_PID[proxy]} " "records since the restart all come from vnetd[${VNETD_PID[proxy]}] (LOG_PID is the monitor's)"

# ---- 25: workers never write to syslog themselves: no record has a
# worker's pid as its syslog pid.
wp=" $(pgrep -P "${VNETD_PID[proxy]}" | tr '\n' ' ')"
allp=$(sed -n 's/^[a-z0-9]* [a-z]* vnetd\[\([0-9]*\)\]:.*/\1/p' "$PLOG" "$HLOG" | sort -u | tr '\n' ' ')
bad=""
for p in $allp; do case "$wp" in *" $p "*) bad="$bad $p" ;; esac; done
ok "$([ -z "$bad" ]; echo $?)" "no record is written by a worker (syslog pids: $allp; workers:$wp)"

# ---- 26: rate limiting reports what it suppressed. Hold 8 (the
# default max-pending-per-source) unauthenticated connections from
# HOST2, then open 30 more at once: each is refused (event=refused, at
# most 5 records a second); one more after the window carries the count
# suppressed before it.
mark=$(log_mark "$PLOG")
in_ns "$NS_HOST2" timeout 20 bash -c '
	a=$1
	for fd in 3 4 5 6 7 8 9 10; do eval "exec $fd<>/dev/tcp/$a/'"$VNET_PORT"'"; done
	sleep 0.5
	for i in $(seq 1 30); do exec 20<>/dev/tcp/$a/'"$VNET_PORT"'; exec 20<&-; done
	sleep 1.3
	exec 20<>/dev/tcp/$a/'"$VNET_PORT"'; exec 20<&-
	sleep 0.5' flood "$PROXY_WAN" >"$VN_TMP/flood.out" 2>&1
# The suppressed count comes either with the next event=refused or, once
# the window has ended, in its own event=suppressed what=refused summary.
wait_for 5 eval '[ -n "$(sys_lines "$PLOG" "$mark" authpriv event=refused | awk "/suppressed=[1-9]/")$(sys_lines "$PLOG" "$mark" authpriv event=suppressed what=refused)" ]'
recs=$(sys_lines "$PLOG" "$mark" authpriv event=refused)
summ=$(sys_lines "$PLOG" "$mark" authpriv event=suppressed what=refused)
n=$(printf '%s\n' "$recs" | grep -c 'event=refused')
supp=$(printf '%s\n%s\n' "$recs" "$summ" | grep . | while read -r l; do log_value "$l" suppressed; done | awk '{ s += $1 } END { print s + 0 }')
tot=$(log_value "$(printf '%s\n' "$recs" | tail -n 1)" total)
diag "31 refused connections: $n records (rate 5/s), suppressed counts summing to $supp, last total=$tot"
diag "$(printf '%s\n' "$recs" | tail -n 1)"
ok "$([ "$n" -ge 2 ] && [ "$n" -le 10 ] && [ "$supp" -ge 20 ] && [ "$tot" = $((n + supp)) ] &&
    printf '%s\n' "$recs" | grep -q 'reason="too many unauthenticated connections from this source"'; echo $?)" \
    "rate limit: refused connections logged at most 5 a second, suppressed=N reported (next record or summary); records + suppressed = total ($n + $supp = ${tot:-?})" ||
	{ diag "$(cat "$VN_TMP/flood.out")"; diag "$recs"; }

# ---- 27: a start refused for a bad configuration file: the error on
# stderr, the exit status, and an audit record naming the file, its
# sha256 and the reason (the same words as on stderr).
BADC=$VN_TMP/bad-start.conf
sed 's/^max-links .*//' "$VN_TMP/proxy.conf" >"$BADC"
printf 'max-links many\n' >>"$BADC"
badline=$(wc -l <"$BADC")
BADSHA=$(sha256sum "$BADC" | cut -d' ' -f1)
mark=$(log_mark "$PLOG")
errmark=$(wc -l <"$VN_TMP/proxy.stderr")
vnetd_start_syslog proxy "$NS_PROXY" "$BADC" >"$VN_TMP/bad-start.out" 2>&1
st=$?
err=$(tail -n "+$((errmark + 1))" "$VN_TMP/proxy.stderr" | grep -F "$BADC:$badline:")
sys_wait 5 "$PLOG" "$mark" authpriv event=start_refused "config=$BADC" "config_sha256=$BADSHA"
st2=$?
rec=$(sys_lines "$PLOG" "$mark" authpriv event=start_refused | tail -n 1)
diag "stderr: $err"
diag "audit: $rec"
ok "$([ "$st" != 0 ] && [ -n "$err" ] && [ "$st2" = 0 ] &&
    printf '%s\n' "$rec" | grep -qF "reason=\"$BADC:$badline:"; echo $?)" \
    "a bad configuration file: no daemon, '$BADC:$badline: ...' on stderr, and 'authpriv ... event=start_refused config_sha256=<sha256sum> reason=\"<same>\"'" ||
	{ diag "$(cat "$VN_TMP/bad-start.out")"; diag_file "$PLOG" 5 proxy.syslog; }

# ---- 28: the machine's own /dev/log was never touched.
is "$(devlog_state)" "$DEVLOG0" "the machine's /dev/log is as it was ($DEVLOG0)"

tap_done

#!/bin/bash
# SPDX-License-Identifier: ISC
# vnetd -n: configuration check. No namespaces needed.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 17

D=$VN_TMP
VNETD="$VNET_BUILD/vnetd"

check "test PKI: CA, proxy/host certificates verify, rogue one does not" vn_certs "$D"
vn_proxy_conf "$D/proxy.conf" "$D"
vn_host_conf "$D/host.conf" "$D/host.crt" "$D/host.key" "$D/ca.crt" "$PROXY_WAN"

# run_n CONF: vnetd -n -f CONF; sets RC, OUT (stdout), ERR (stderr).
run_n() {
	timeout 10 "$VNETD" -n -f "$1" -x "$VNET_BUILD" >"$D/n.out" 2>"$D/n.err"
	RC=$?
	OUT=$(cat "$D/n.out"); ERR=$(cat "$D/n.err")
}
show() {
	diag "exit $RC"
	diag "stdout: $OUT"
	diag "stderr: $ERR"
}

for role in host proxy; do
	run_n "$D/$role.conf"
	if [ "$RC" -eq 0 ] && printf '%s\n' "$OUT" | grep -q "configuration OK"; then
		ok 0 "vnetd -n accepts the $role configuration (exit 0, 'configuration OK')"
	else
		ok 1 "vnetd -n accepts the $role configuration (exit 0, 'configuration OK')"
		show
		diag "---- $role.conf ----"
		diag "$(cat -n "$D/$role.conf")"
	fi
done

# A bad MAC address on line 5.
BAD="$D/bad-mac.conf"
cat >"$BAD" <<EOF
role host
interface brvm
user vnetd
chroot /var/empty
vm 52:54:00:12:34:zz
certificate $D/host.crt
key $D/host.key
ca $D/ca.crt
connect $PROXY_WAN port $VNET_PORT
peer-name proxy
EOF
run_n "$BAD"
diag "vnetd -n -f bad-mac.conf: exit $RC, stderr: $ERR"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 124 ]; echo $?)" "vnetd -n rejects a bad MAC address (non-zero exit)" || show
printf '%s\n' "$ERR" | grep -qF "$BAD:5:"
ok $? "the error names the file and line: '$BAD:5: ...'" || show
printf '%s\n' "$OUT" | grep -q "configuration OK"
ok $((! $?)) "no 'configuration OK' for the bad file" || show

# An unknown keyword on line 3 of a proxy file.
BAD2="$D/bad-keyword.conf"
{
	echo "role proxy"
	echo "interface lan0"
	echo "frobnicate yes"
	tail -n +4 "$D/proxy.conf"
} >"$BAD2"
run_n "$BAD2"
diag "vnetd -n -f bad-keyword.conf: exit $RC, stderr: $ERR"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 124 ]; echo $?)" "vnetd -n rejects an unknown keyword (non-zero exit)" || show
printf '%s\n' "$ERR" | grep -qF "$BAD2:3:"
ok $? "the error names the file and line: '$BAD2:3: ...'" || show

# A MAC listed in a host block on line 11 that is not a MAC.
BAD3="$D/bad-block.conf"
sed 's/^    mac .*/    mac 52:54:00:12:34/' "$D/proxy.conf" >"$BAD3"
LINE=$(grep -n '^    mac ' "$BAD3" | cut -d: -f1)
run_n "$BAD3"
diag "vnetd -n -f bad-block.conf: exit $RC, stderr: $ERR"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && printf '%s\n' "$ERR" | grep -qF "$BAD3:$LINE:"; echo $?)" \
    "a short MAC inside a host block is rejected with '$BAD3:$LINE: ...'" || show

# A missing file.
MISSING="$D/no-such-file.conf"
run_n "$MISSING"
diag "vnetd -n -f no-such-file.conf: exit $RC, stderr: $ERR"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 124 ]; echo $?)" "vnetd -n fails for a missing configuration file" || show
printf '%s\n' "$ERR" | grep -qF "$MISSING"
ok $? "the error names the missing file" || show

# -n only checks: it must return by itself (run_n gives it 10 s).
run_n "$D/host.conf"
ok "$([ "$RC" -ne 124 ]; echo $?)" "vnetd -n returns promptly (no daemon started)" || show

# The private key must be root's alone (owner root, no group or other
# access): otherwise vnetd -n says why, and vnetd refuses to start with
# the same message and an event=start_refused audit record.
KEYCONF="$D/badkey.conf"
# key_case NAME CHMOD CHOWN: host.conf with a copy of its key set so.
key_case() {
	cp -p "$D/host.key" "$D/$1.key" && chmod "$2" "$D/$1.key" &&
	    chown "$3" "$D/$1.key" || return 1
	sed "s|^key .*|key $D/$1.key|" "$D/host.conf" >"$KEYCONF"
}
key_case k0640 0640 root
run_n "$KEYCONF"
diag "vnetd -n, key mode 0640: exit $RC, stderr: $ERR"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] &&
    [ "$ERR" = "vnetd: key $D/k0640.key: mode 0640 gives group or others access, must be 0600 or 0400 (chmod 0600 $D/k0640.key)" ] &&
    ! printf '%s\n' "$OUT" | grep -q "configuration OK"; echo $?)" \
    "vnetd -n refuses a key of mode 0640: 'vnetd: key FILE: mode 0640 gives group or others access, must be 0600 or 0400 ...'" || show

key_case k0604 0604 root
run_n "$KEYCONF"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && printf '%s\n' "$ERR" | grep -qF "key $D/k0604.key: mode 0604 gives group or others access"; echo $?)" \
    "vnetd -n refuses a key readable by others (mode 0604)" || show

VUID=$(id -u vnetd)
key_case kuser 0600 vnetd
run_n "$KEYCONF"
diag "vnetd -n, key owned by vnetd ($VUID): exit $RC, stderr: $ERR"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] &&
    [ "$ERR" = "vnetd: key $D/kuser.key: owned by uid $VUID, not by root (chown root $D/kuser.key)" ]; echo $?)" \
    "vnetd -n refuses a key of mode 0600 owned by another user: 'vnetd: key FILE: owned by uid $VUID, not by root ...'" || show

# A start (not -n): refused before anything runs, with the audit record
# (-d: on stderr). Needs no namespace: it stops at the key.
key_case k0640 0640 root
timeout 10 "$VNETD" -d -f "$KEYCONF" -x "$VNET_BUILD" >"$D/start.out" 2>"$D/start.err" </dev/null
RC=$?; OUT=$(cat "$D/start.out"); ERR=$(cat "$D/start.err")
diag "vnetd -d, key mode 0640: exit $RC, stderr: $ERR"
ok "$([ "$RC" = 1 ] && printf '%s\n' "$ERR" | grep -qxF "vnetd: key $D/k0640.key: mode 0640 gives group or others access, must be 0600 or 0400 (chmod 0600 $D/k0640.key)" &&
    printf '%s\n' "$ERR" | grep -F 'event=start_refused ' | grep -qF "reason=\"key $D/k0640.key: mode 0640 gives group or others access"; echo $?)" \
    "vnetd refuses to start with that key: exit 1, the message on stderr, event=start_refused reason=\"key FILE: mode 0640 ...\"" || show

# The same key, made root's alone, is accepted.
chmod 0600 "$D/k0640.key"
run_n "$KEYCONF"
ok "$([ "$RC" = 0 ] && printf '%s\n' "$OUT" | grep -q "configuration OK"; echo $?)" \
    "after chmod 0600 the same key is accepted (configuration OK)" || show

tap_done

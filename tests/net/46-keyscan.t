#!/bin/bash
# SPDX-License-Identifier: ISC
# The private key never enters crypt, the process that talks to the
# network. With the link up, every readable mapping of each daemon's
# vnet-crypt (/proc/PID/maps, /proc/PID/mem) is searched for the secret
# scalar of that daemon's key, in both byte orders (big-endian as in the
# key file, little-endian as in an OpenSSL BIGNUM): not found. The same
# scan of each monitor finds it (the positive control), and crypt's
# scan finds the certificate's public key (the scan reads crypt's heap).
#
# Then a hostile crypt (tests/evil, sign-any) in the proxy asks the
# monitor to sign what no server CertificateVerify looks like, and a
# burst past sign-rate: each is refused (event=sign_refused with its
# reason) and the hostile crypt is left running, not killed. One that
# sends a malformed request (sign-bad) is killed as a violation.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 20

EVIL_DIR=$VNET_BUILD/tests/evil
for e in sign-any sign-bad; do
	[ -x "$EVIL_DIR/$e" ] ||
		bail "not built: $EVIL_DIR/$e (make $EVIL_DIR/sign-any $EVIL_DIR/sign-bad)"
done
command -v python3 >/dev/null || bail "python3 is needed to read /proc/PID/mem"

VM_STATIC_IP=10.202.0.99

topo_up_tap								# 1
check "certificates and configurations generated" vn_setup_pki	# 2
start_pair_tap								# 3
ip -n "$NS_VM" addr add "$VM_STATIC_IP/24" dev eth0
check "VM pings the client over the link ($VM_STATIC_IP -> $CLIENT_IP)" \
    ping4 "$NS_VM" "$CLIENT_IP"						# 4

# key_hex KEY FIELD: the hex bytes after "FIELD:" in openssl's dump of
# an EC key (priv: the secret scalar; pub: the encoded point).
key_hex() {
	openssl pkey -in "$1" -text -noout 2>/dev/null | awk -v f="$2:" '
	$1 == f { on = 1; next }
	on && /^ / { gsub(/[ :]/, ""); printf "%s", $0; next }
	on { exit }'
}

# The scalar as a 32-byte number (openssl adds a 00 when its top bit is
# set), and the same bytes reversed.
scalar_be() { local h; h=$(key_hex "$1" priv); echo "${h: -64}"; }
reverse_hex() { echo "$1" | fold -w2 | tac | tr -d '\n'; }

# memscan PID HEX...: how many of the patterns each appear in the
# process's readable memory; prints one "HEX found|absent" per pattern
# and a summary; fails if a readable mapping could not be read.
memscan() {
	python3 - "$@" <<'EOF'
import sys
pid, pats = sys.argv[1], [bytes.fromhex(h) for h in sys.argv[2:]]
found = [False] * len(pats)
nmap = nread = 0
bad = []
with open("/proc/%s/maps" % pid) as maps, \
     open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for line in maps:
        f = line.split()
        # The kernel's clock pages and vsyscall page cannot be read.
        if f[1][0] != "r" or (len(f) > 5 and
                              (f[5].startswith("[vvar") or f[5] == "[vsyscall]")):
            continue
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        nmap += 1
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except OSError as e:
            bad.append("unreadable %s %s: %s" % (f[0], f[5] if len(f) > 5 else "", e))
            continue
        nread += len(data)
        for i, p in enumerate(pats):
            if not found[i] and p in data:
                found[i] = True
for p, fd in zip(sys.argv[2:], found):
    print("%s... %s" % (p[:16], "found" if fd else "absent"))
print("pid %s: %d readable mappings, %d bytes read, %d unreadable" %
      (pid, nmap, nread, len(bad)))
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# scan_check NAME ROLE KEY WANT: scan the daemon's ROLE process (monitor
# or crypt) for KEY's scalar (both orders), plus its public point when
# ROLE is crypt. WANT: found or absent, for the scalar.
scan_check() {
	local name=$1 role=$2 key=$3 want=$4 pid be le pub out st
	if [ "$role" = monitor ]; then pid=${VNETD_PID[$name]}; else pid=$(vnetd_worker "$name" crypt); fi
	be=$(scalar_be "$key"); le=$(reverse_hex "$be"); pub=$(key_hex "$key" pub)
	if [ ${#be} -ne 64 ] || [ ${#pub} -ne 130 ] || [ -z "$pid" ]; then
		ok 1 "$name $role: scalar of $(basename "$key") extracted, process found"
		diag "scalar '$be' pub '$pub' pid '$pid'"
		return 1
	fi
	out=$(memscan "$pid" "$be" "$le" "$pub"); st=$?
	local nbe nle npub
	nbe=$(echo "$out" | sed -n 1p | awk '{print $2}')
	nle=$(echo "$out" | sed -n 2p | awk '{print $2}')
	npub=$(echo "$out" | sed -n 3p | awk '{print $2}')
	if [ "$want" = absent ]; then
		[ "$st" -eq 0 ] && [ "$nbe" = absent ] && [ "$nle" = absent ] && [ "$npub" = found ]
		ok $? "$name vnet-crypt (pid $pid): the key's scalar is in none of its readable memory (either byte order); its public point is (the scan reads crypt's heap)"
	else
		[ "$st" -eq 0 ] && { [ "$nbe" = found ] || [ "$nle" = found ]; }
		ok $? "$name monitor (pid $pid): the scan finds the key's scalar (big-endian $nbe, little-endian $nle)"
	fi
	diag "$out"
}

# 5-8. A sanitizer build reserves terabytes of shadow and allocator
# address space, which no scan can read: there the scans are skipped.
if ldd "$VNET_BUILD/vnet-crypt" 2>/dev/null | grep -q libasan; then
	for i in 5 6 7 8; do
		ok 0 "memory scan # SKIP sanitizer build (ASan's address space cannot be read whole)"
	done
else
	scan_check proxy crypt "$VN_TMP/proxy.key" absent		# 5
	scan_check host crypt "$VN_TMP/host.key" absent		# 6
	scan_check proxy monitor "$VN_TMP/proxy.key" found		# 7
	scan_check host monitor "$VN_TMP/host.key" found		# 8
fi

# 9: a handshake after the scans still works: the key is used, not held.
pid=$(vnetd_worker host crypt)
m=$(log_mark "${VNETD_LOG[host]}")
kill "$pid"
vnetd_wait host 15 "$m" event=link_up
ok $? "host crypt restarted (killed pid $pid): the link comes back, signed by the monitor"

for n in host proxy; do vnetd_stop "$n" >/dev/null 2>&1; done

# ---- a hostile crypt in the proxy

# evil_run NAME EVIL CONF: vnetd in NS_PROXY with the real capture and
# inject and EVIL as vnet-crypt.
evil_run() {
	local name=$1 evil=$2 conf=$3 xdir="$VN_TMP/libexec-$2" k log="$VN_TMP/$1.log"
	mkdir -p "$xdir" && chmod 0755 "$xdir" || return 1
	for k in capture inject; do cp "$VNET_BUILD/vnet-$k" "$xdir/" || return 1; done
	cp "$EVIL_DIR/$evil" "$xdir/vnet-crypt" || return 1
	VNETD_LOG[$name]=$log
	VNETD_NS[$name]=$NS_PROXY
	ip netns exec "$NS_PROXY" env VNET_LIBEXECDIR="$xdir" \
	    "$VNET_BUILD/vnetd" -d -f "$conf" -x "$xdir" </dev/null >>"$log" 2>&1 &
	VNETD_PID[$name]=$!
	track "$!"
	VN_KEEP_LOGS+=("$log")
}

sed -e '/^keepalive/a sign-rate 3' "$VN_TMP/proxy.conf" >"$VN_TMP/proxy-rate.conf"
evil_run signany sign-any "$VN_TMP/proxy-rate.conf"
vnetd_wait signany 10 0 event=evil_done
ok $? "sign-any: the hostile crypt made all its requests (event=evil_done)" ||	# 10
	diag_file "$VN_TMP/signany.log" 30 signany.log
LOG=$VN_TMP/signany.log

# answer WHAT: the hostile crypt's logged answers to WHAT, space-separated.
answers() {
	log_lines "$LOG" 0 event=evil_answer "what=$1" |
	    while IFS= read -r l; do log_value "$l" answer; done | xargs
}

# refused WHAT REASON: WHAT was refused and the monitor audited REASON.
refused() {
	[ "$(answers "$1")" = refused ] &&
	    log_has "$LOG" 0 event=sign_refused worker=crypt "reason=$2"
}
check "arbitrary bytes: refused, audited event=sign_refused reason=prefix" \
    refused arbitrary prefix						# 11
check "a client CertificateVerify asked of the proxy: refused, reason=role" \
    refused client_context role						# 12
check "a 40-byte transcript hash: refused, reason=hash_length" \
    refused hash_40 hash_length						# 13

# 14: the burst: at sign-rate 3, at most 3 per 1 s window (6 if the burst
# straddles two), the rest refused and audited reason=rate.
burst=$(answers burst)
nsig=$(echo "$burst" | tr ' ' '\n' | grep -c '^signed$')
nref=$(echo "$burst" | tr ' ' '\n' | grep -c '^refused$')
[ "$nsig" -ge 1 ] && [ "$nsig" -le 6 ] && [ $((nsig + nref)) -eq 30 ] &&
    log_has "$LOG" 0 event=sign_refused worker=crypt reason=rate
ok $? "burst of 30 well-formed requests at sign-rate 3: $nsig signed, $nref refused (reason=rate)"
diag "burst answers: $burst"

# 15: every refusal is accounted for: records written (at most 20 a
# second) plus the suppressed counts reported when the window ends.
vnetd_wait signany 3 0 event=suppressed what=sign_refused
written=$(log_lines "$LOG" 0 event=sign_refused worker=crypt | grep -c .)
supp=0
while IFS= read -r l; do
	supp=$((supp + $(log_value "$l" suppressed)))
done < <(log_lines "$LOG" 0 event=sign_refused; log_lines "$LOG" 0 event=suppressed what=sign_refused)
last=$(log_value "$(log_lines "$LOG" 0 event=suppressed what=sign_refused | tail -n 1)" total)
[ $((written + supp)) -eq $((3 + nref)) ] && [ "$last" = $((3 + nref)) ]
ok $? "$((3 + nref)) refusals: $written sign_refused records + $supp suppressed (event=suppressed what=sign_refused total=$last)"
diag "$(log_lines "$LOG" 0 event=sign_refused | tail -n 2)"
diag "$(log_lines "$LOG" 0 event=suppressed what=sign_refused)"

# 16: refusals are not violations: the hostile crypt still runs.
p=$(vnetd_worker signany crypt)
nstart=$(log_lines "$LOG" 0 event=worker_start worker=crypt | grep -c .)
! log_has "$LOG" 0 event=worker_violation && [ -n "$p" ] && [ "$nstart" -eq 1 ]
ok $? "refused requests are answered, not punished: no worker_violation, the same vnet-crypt (pid ${p:-none}) still runs"
check "sign-any: SIGTERM stops vnetd" vnetd_stop signany		# 17

evil_run signbad sign-bad "$VN_TMP/proxy.conf"
vnetd_wait signbad 10 0 event=worker_violation worker=crypt
l=$(log_lines "$VN_TMP/signbad.log" 0 event=worker_violation worker=crypt | head -n 1)
[ "$(log_value "$l" reason)" = "malformed payload" ] && [ "$(log_value "$l" action)" = kill ]
ok $? "sign-bad: a request naming no algorithm is a violation: reason=\"malformed payload\" action=kill" ||	# 18
	diag_file "$VN_TMP/signbad.log" 20 signbad.log
diag "$l"
vnetd_wait signbad 5 0 event=worker_exit worker=crypt signal=9
ok $? "sign-bad: the hostile crypt exits by SIGKILL"			# 19
check "sign-bad: SIGTERM stops vnetd" vnetd_stop signbad		# 20

tap_done

#!/bin/bash
# SPDX-License-Identifier: ISC
# vnet-pki end to end: a CA, a proxy and a host certificate with the key
# usages and names vnetd checks (read back with openssl), vnetd -n taking
# each for its own role and refusing it for the other, revocation seen
# by openssl verify -crl_check, and every refusal of a bad argument. No
# namespaces needed.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 47

D=$VN_TMP
CA=$D/ca
PKI() { "$VN_PKI" -d "$CA" "$@"; }
VNETD="$VNET_BUILD/vnetd"

# refused DESC NEEDLE CMD...: CMD fails with exit 1 (2, a usage error,
# for "usage:" and "unknown command"), says NEEDLE on stderr, and leaves
# no new file in $D.
refused() {
	local desc=$1 needle=$2 want=1 before after out st; shift 2
	case $needle in usage:|"unknown command"*) want=2 ;; esac
	before=$(find "$D" | sort)
	out=$("$@" 2>&1 >/dev/null); st=$?
	after=$(find "$D" | sort)
	if [ "$st" = "$want" ] && printf '%s\n' "$out" | grep -qF -- "$needle" &&
	    [ "$before" = "$after" ]; then
		ok 0 "$desc: exit $st, '$(printf '%s' "$out" | head -n 1)'"
	else
		ok 1 "$desc"
		diag "exit $st (want $want), stderr: $out"
		diag "files added: $(comm -13 <(echo "$before") <(echo "$after"))"
	fi
}

# text FILE: the certificate or CRL as openssl prints it.
text() { openssl x509 -in "$1" -noout -text 2>/dev/null; }
# ext FILE NAME: the lines of one X509v3 extension's value.
ext() { text "$1" | awk -v n="$2" 'f && /^ +X509v3 |^ +Signature/ { f = 0 } f { sub(/^ +/, ""); print } $0 ~ "X509v3 " n ":" { f = 1 }'; }
mode() { stat -c %a "$1"; }

# ---- 1-3: init.
check "init: CA in $CA" PKI init -n "vnet test CA"
ok "$([ "$(mode "$CA/ca.key")" = 600 ] && [ "$(mode "$CA/ca.crt")" = 644 ] &&
    [ -f "$CA/index.txt" ] && [ -s "$CA/serial" ] && [ -s "$CA/crlnumber" ] && [ -s "$CA/crl.pem" ]; echo $?)" \
    "init: ca.key 0600, ca.crt 0644, index.txt, serial, crlnumber, crl.pem" || ls -l "$CA" | while read -r l; do diag "$l"; done
mkdir -m 0711 "$D/existing"
check "init: into an existing directory" "$VN_PKI" -d "$D/existing" init -n "vnet test CA 2"
is "$(mode "$CA")/$(mode "$D/existing")/$(mode "$D/existing/ca.key")" "700/711/600" \
    "init: a directory it creates is 0700; an existing one keeps its mode (0711); the key is 0600 in both"
got=$(ext "$CA/ca.crt" "Basic Constraints")/$(ext "$CA/ca.crt" "Key Usage")/$(openssl x509 -in "$CA/ca.crt" -noout -subject)
is "$got" "CA:TRUE/Certificate Sign, CRL Sign/subject=CN = vnet test CA" "init: CA certificate: CA:TRUE, keyCertSign+cRLSign, CN = vnet test CA"

# ---- 4-9: the proxy's certificate.
check "proxy: issued for proxy.example.net, 192.0.2.1, 2001:db8::1" PKI proxy -o "$D/proxy" proxy.example.net 192.0.2.1 2001:db8::1
is "$(mode "$D/proxy.key")/$(mode "$D/proxy.crt")/$(openssl pkey -in "$D/proxy.key" -noout -text 2>/dev/null | grep -o 'NIST CURVE: P-256')" \
    "600/644/NIST CURVE: P-256" "proxy: key 0600 (EC P-256), certificate 0644"
is "$(ext "$D/proxy.crt" "Extended Key Usage")|$(ext "$D/proxy.crt" "Key Usage")" \
    "TLS Web Server Authentication|Digital Signature" "proxy: EKU serverAuth only; key usage digitalSignature"
is "$(ext "$D/proxy.crt" "Subject Alternative Name")|$(openssl x509 -in "$D/proxy.crt" -noout -subject)" \
    "DNS:proxy.example.net, IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1|subject=CN = proxy.example.net" \
    "proxy: SAN DNS + IPv4 + IPv6 as given, CN = proxy.example.net"
check "proxy: openssl verify -purpose sslserver passes" openssl verify -CAfile "$CA/ca.crt" -purpose sslserver "$D/proxy.crt"
out=$(openssl verify -CAfile "$CA/ca.crt" -purpose sslclient "$D/proxy.crt" 2>&1)
ok "$(printf '%s' "$out" | grep -q 'unsuitable certificate purpose'; echo $?)" \
    "proxy: openssl verify -purpose sslclient fails (unsuitable certificate purpose)" || diag "$out"

# ---- 10-14: a host's certificate.
check "host: issued for vmhost1" PKI host -o "$D/host" vmhost1
is "$(mode "$D/host.key")/$(mode "$D/host.crt")" "600/644" "host: key 0600, certificate 0644"
is "$(ext "$D/host.crt" "Extended Key Usage")|$(ext "$D/host.crt" "Key Usage")|$(openssl x509 -in "$D/host.crt" -noout -subject)" \
    "TLS Web Client Authentication|Digital Signature|subject=CN = vmhost1" \
    "host: EKU clientAuth only; key usage digitalSignature; CN = vmhost1"
check "host: openssl verify -purpose sslclient passes" openssl verify -CAfile "$CA/ca.crt" -purpose sslclient "$D/host.crt"
out=$(openssl verify -CAfile "$CA/ca.crt" -purpose sslserver "$D/host.crt" 2>&1)
ok "$(printf '%s' "$out" | grep -q 'unsuitable certificate purpose'; echo $?)" \
    "host: openssl verify -purpose sslserver fails (unsuitable certificate purpose)" || diag "$out"

# ---- 15-16: vnetd -n takes each certificate for its own role only.
vn_proxy_conf "$D/proxy.conf" "$D"
vn_host_conf "$D/host.conf" "$D/host.crt" "$D/host.key" "$CA/ca.crt" "$PROXY_WAN"
sed -i "s|^ca .*|ca $CA/ca.crt|" "$D/proxy.conf"
n_ok=""
for r in proxy host; do
	"$VNETD" -n -f "$D/$r.conf" >/dev/null 2>&1 && n_ok="$n_ok $r"
done
is "$n_ok" " proxy host" "vnetd -n accepts proxy.crt in the proxy's configuration and host.crt in the host's"
sed "s|^certificate .*|certificate $D/proxy.crt|; s|^key .*|key $D/proxy.key|" "$D/host.conf" >"$D/swap.conf"
out=$("$VNETD" -n -f "$D/swap.conf" 2>&1); st=$?
ok "$([ "$st" = 1 ] && printf '%s' "$out" | grep -qF "$D/proxy.crt: certificate's extended key usage lacks clientAuth, which a host's needs"; echo $?)" \
    "vnetd -n refuses the proxy's certificate as a host's: '$out'" || diag "exit $st: $out"

# ---- 17-21: revocation and the CRL.
PKI host -o "$D/other" vmhost2 >/dev/null
check "revoke host.crt (keyCompromise)" PKI revoke -r keyCompromise "$D/host.crt"
serial=$(openssl x509 -in "$D/host.crt" -noout -serial | cut -d= -f2)
crl=$(openssl crl -in "$CA/crl.pem" -noout -text 2>&1)
ok "$(printf '%s' "$crl" | grep -q "Serial Number: $serial" && printf '%s' "$crl" | grep -q 'Key Compromise'; echo $?)" \
    "crl.pem (PEM) lists host.crt's serial $serial, reason Key Compromise" || diag "$crl"
cat "$CA/ca.crt" "$CA/crl.pem" >"$D/ca+crl.pem"
out=$(openssl verify -crl_check -CAfile "$D/ca+crl.pem" "$D/host.crt" 2>&1)
ok "$(printf '%s' "$out" | grep -q 'certificate revoked'; echo $?)" "openssl verify -crl_check: host.crt fails, 'certificate revoked'" || diag "$out"
check "openssl verify -crl_check: other.crt and proxy.crt still pass" \
    openssl verify -crl_check -CAfile "$D/ca+crl.pem" "$D/other.crt" "$D/proxy.crt"
refused "revoke host.crt again" "Already revoked" PKI revoke "$D/host.crt"

# ---- 22-23: validity.
PKI host -s 20200101000000Z -e 20200201000000Z -o "$D/old" oldhost >/dev/null
is "$(openssl x509 -in "$D/old.crt" -noout -startdate -enddate | tr '\n' ' ')" \
    "notBefore=Jan  1 00:00:00 2020 GMT notAfter=Feb  1 00:00:00 2020 GMT " "host -s/-e: exactly the validity asked for"
PKI crl -v 7 -o "$D/crl7.pem" >/dev/null
next=$(date -d "$(openssl crl -in "$D/crl7.pem" -noout -nextupdate | cut -d= -f2)" +%s)
d=$(( (next - $(date +%s)) / 3600 ))
ok "$([ "$d" -ge 167 ] && [ "$d" -le 168 ]; echo $?)" "crl -v 7: the CRL's nextUpdate is 7 days ahead (${d} h)"

# ---- 24-45: refusals, with no file left behind.
"$VN_PKI" -d "$D/ca2" init >/dev/null
refused "host name with '/'" "host name 'a/b': '/' is not allowed" PKI host a/b
refused "host name with ','" "',' is not allowed" PKI host a,b
refused "host name with '='" "'=' is not allowed" PKI host a=b
refused "host name with '+'" "'+' is not allowed" PKI host a+b
refused "host name with a blank" "a blank is not allowed" PKI host 'a b'
refused "host name with a quote" "'\"' is not allowed" PKI host 'a"b'
refused "host name with a backslash" "'\\' is not allowed" PKI host 'a\b'
refused "host name with a newline" "a newline is not allowed" PKI host "$(printf 'a\nb')"
refused "empty host name" "host name is empty" PKI host ""
refused "over-long host name" "is longer than 64" PKI host "$(printf 'a%.0s' $(seq 65))"
refused "proxy name with '/'" "proxy name 'p/x': '/' is not allowed" PKI proxy p/x
refused "proxy SAN neither DNS name nor address" "'bad_name,x' is not a valid DNS name" PKI proxy p bad_name,x
refused "proxy SAN bad IPv4 address" "'10.0.0' is not a valid IPv4 address" PKI proxy p 10.0.0
refused "two host names" "usage:" PKI host a b
refused "unknown command" "unknown command 'frob'" PKI frob
refused "bad validity" "-v: '0x1' is not a positive number of days" PKI host -v 0x1 h
refused "bad end date" "-e: '2030-01-01' is not a date YYYYMMDDHHMMSSZ" PKI host -e 2030-01-01 h
refused "unknown key type" "key type 'dsa' is not one of" PKI host -k dsa h
refused "issuing without a CA" "is not a vnet-pki CA" "$VN_PKI" -d "$D/none" host h
refused "init over an existing CA" "already holds a CA" PKI init
refused "overwriting an issued certificate" "exists; refusing to overwrite it" PKI host -o "$D/host" vmhost1
refused "revoking a certificate from another CA" "was not issued by the CA in $D/ca2" \
    "$VN_PKI" -d "$D/ca2" revoke "$D/proxy.crt"
tap_done

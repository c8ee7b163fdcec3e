#!/bin/bash
# SPDX-License-Identifier: ISC
# No copy of the key material's PEM text stays in a worker's memory.
# The monitor reads the certificate, key and CA files and sends them to
# crypt as messages; crypt loads them into OpenSSL before its drop and
# must wipe every copy of the text: its own, and the receive buffer the
# messages arrived in. A proxy runs alone in one namespace; once crypt is
# ready, tests/tools/memgrep.py searches every private mapping of each
# worker (through /proc/PID/mem) for each base64 line of the three files.
# The monitor keeps the certificate's and the CA's text (it restarts
# crypt with them) and is searched too: it must hold the certificate's
# text (that proves the search sees what is there) and none of the key's,
# which it parsed once and wiped (monitor/sign.c).
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 6

MEMGREP="$(cd "$(dirname "$0")/../tools" && pwd)/memgrep.py"
PY=${VNET_PYTHON:-/usr/bin/python3}
[ -r "$MEMGREP" ] && [ -x "$PY" ] || bail "need $PY and $MEMGREP"

# 1: one namespace holding the proxy's interfaces (as 47-violation.t).
NS=$NS_PROXY
topo_alone "$NS" >"$VN_TMP/topo.out" 2>&1
ok $? "namespace $NS: veth lan0 and wan0 ($PROXY_WAN), peers in the same namespace" ||
	{ diag "$(cat "$VN_TMP/topo.out")"; fail_rest "namespace setup failed"; }
check "certificates and the proxy configuration generated" vn_setup_pki	# 2

# needles FILE: the first 40 characters of each base64 line of a PEM file.
needles() { grep -v -- '-----' "$1" | cut -c1-40 | grep -E '^.{40}$'; }
mapfile -t KEYN < <(needles "$VN_TMP/proxy.key")
mapfile -t CRTN < <(needles "$VN_TMP/proxy.crt")
mapfile -t CAN < <(needles "$VN_TMP/ca.crt")
diag "needles: ${#KEYN[@]} key lines, ${#CRTN[@]} certificate lines, ${#CAN[@]} CA lines"

# hits PID NEEDLE...: total hits; the tool's lines in $VN_TMP/mg.out.
hits() {
	"$PY" "$MEMGREP" "$@" >"$VN_TMP/mg.out" 2>&1 || { echo error; return; }
	awk '/needle=/ { for (i = 1; i <= NF; i++) if ($i ~ /^hits=/) { split($i, a, "="); n += a[2] } }
	    END { print n + 0 }' "$VN_TMP/mg.out"
}

# 3: the proxy starts with its real workers.
vnetd_start proxy "$NS" "$VN_TMP/proxy.conf"
PLOG=${VNETD_LOG[proxy]}
vnetd_wait proxy 10 0 event=worker_ready worker=crypt &&
    vnetd_wait proxy 5 0 event=worker_ready worker=capture &&
    vnetd_wait proxy 5 0 event=worker_ready worker=inject
ok $? "the proxy's workers are ready" || { diag_file "$PLOG" 20 proxy.log; fail_rest "no proxy"; }
sleep 0.5

# 4: the monitor holds the certificate's text (the search finds what is
# there) and no line of the key's.
c=$(hits "${VNETD_PID[proxy]}" "${CRTN[@]}"); cout=$(cat "$VN_TMP/mg.out")
n=$(hits "${VNETD_PID[proxy]}" "${KEYN[@]}")
ok "$([ "$c" != error ] && [ "$c" -ge "${#CRTN[@]}" ] && [ "$n" = 0 ]; echo $?)" \
    "the monitor (pid ${VNETD_PID[proxy]}) holds the certificate's ${#CRTN[@]} lines ($c hits: the copy it keeps to restart crypt) and none of the key's ($n hits: parsed once, then wiped)" ||
	diag "$cout" "$(cat "$VN_TMP/mg.out")"

# nowhere KIND: no line of the key, certificate or CA in that worker.
nowhere() {
	local p n
	p=$(vnetd_worker proxy "$1")
	[ -n "$p" ] || { echo "no vnet-$1"; return 1; }
	n=$(hits "$p" "${KEYN[@]}" "${CRTN[@]}" "${CAN[@]}")
	cat "$VN_TMP/mg.out"
	[ "$n" = 0 ]
}

# 5: crypt, and the others, hold no line of any of the three files.
st=0; out=""
for k in crypt capture inject; do
	r=$(nowhere "$k") || st=1
	out="$out$k: $r"$'\n'
done
ok "$st" "no line of the key, certificate or CA PEM in the memory of crypt, capture or inject once ready"
diag "${out%$'\n'}"

# 6: the same for a crypt the monitor restarted (fed again from its copy).
old=$(vnetd_worker proxy crypt)
mark=$(log_mark "$PLOG")
kill -KILL "$old"
vnetd_wait proxy 5 "$mark" event=worker_ready worker=crypt
sleep 0.5
out=$(nowhere crypt); st=$?
new=$(vnetd_worker proxy crypt)
ok "$([ "$st" = 0 ] && [ -n "$new" ] && [ "$new" != "$old" ]; echo $?)" \
    "after kill -9 the restarted crypt (pid ${new:-none}) holds none either"
diag "$out"

vnetd_stop proxy 10 >/dev/null 2>&1
tap_done

#!/bin/bash
# SPDX-License-Identifier: ISC
# Layer-2 hygiene (issue 16, point 3), through a real pair with
# "vlan-allow 10" on both sides:
#   the VM sends 802.1Q VID 20, 802.1ad and 0x9100-tagged broadcasts,
#   an allowed 802.1Q VID 10 broadcast, an STP BPDU, a PAUSE frame and
#   an LACPDU (01:80:c2:00:00:00, 01, 02);
#   the LAN (the proxy's LAN port itself) sends the same tags, the
#   allowed one, and STP, PAUSE, LACP and 802.1X (01:80:c2:00:00:03).
# Only the VID 10 frames cross; capture on each side drops the others
# before crypt, counts them (drop_vlan, drop_reserved_dst) and audits
# them. The host's kernel bridge itself drops PAUSE and keeps LACP to
# itself, so those two never reach the host's capture (nor the LAN).
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 10

N=10			# rounds of each kind
MARK=0x88b5		# the ethertype inside every test frame's tag
LANSRC=52:54:00:cc:00:99

# 1
topo_up_tap
# 2
vn_setup_pki >"$VN_TMP/pki.out" 2>&1 &&
    echo "vlan-allow 10" >>"$VN_TMP/proxy.conf" && echo "vlan-allow 10" >>"$VN_TMP/host.conf"
ok $? "certificates and configurations (vlan-allow 10 on both sides)" ||
	diag "$(cat "$VN_TMP/pki.out")"
# 3
start_pair_tap

# send NS DEV SRC KIND...: N rounds of one raw frame per KIND, out of
# DEV in NS. KIND: vlan:TPID:VID (broadcast, tag, then MARK),
# rsv:LAST (to 01:80:c2:00:00:LAST) or plain (an untagged MARK broadcast).
send() {
	local ns=$1 dev=$2 src=$3; shift 3
	ip netns exec "$ns" python3 - "$dev" "$src" "$N" "$@" <<'EOF'
import socket, struct, sys, time
dev, src, n, kinds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
mac = lambda t: bytes(int(x, 16) for x in t.split(':'))
frames = []
for k in kinds:
    f = k.split(':')
    if f[0] == 'vlan':
        hdr = mac('ff:ff:ff:ff:ff:ff') + mac(src) + struct.pack(
            '!HHH', int(f[1], 16), int(f[2]), 0x88b5)
    elif f[0] == 'plain':
        hdr = mac('ff:ff:ff:ff:ff:ff') + mac(src) + struct.pack('!H', 0x88b5)
    else:
        etype = {'00': 0x0026, '01': 0x8808, '02': 0x8809, '03': 0x888e}[f[1]]
        hdr = mac('01:80:c2:00:00:' + f[1]) + mac(src) + struct.pack('!H', etype)
    frames.append((hdr + b'vnet-l2-hygiene').ljust(64, b'\0'))
for i in range(n):
    for fr in frames:
        s.send(fr)
    time.sleep(0.02)
EOF
}

# cstat NAME WORKER COUNTER: a counter in vnetctl stats.
cstat() {
	"$VNET_BUILD/vnetctl" -s "$VN_TMP/$1.sock" stats 2>/dev/null | awk -v w="$2" -v c="$3" '
	    /^[a-z]/ { in_w = ($1 == w); next }
	    in_w && $1 == c { print $2; found = 1; exit }
	    END { if (!found) print "none" }'
}

# counts NAME WORKER COUNTER VALUE...: wait (5 s) for the first, then all.
counts() {
	local name=$1 w=$2 c v got bad=0; shift 2
	wait_for 5 eval '[ "$(cstat '"$name $w $1"')" = "'"$2"'" ]'
	while [ $# -gt 0 ]; do
		c=$1 v=$2; shift 2
		got=$(cstat "$name" "$w" "$c")
		echo "$w $c $got (want $v)"
		[ "$got" = "$v" ] || bad=1
	done
	return $bad
}

# seen NAME: the tagged and reserved frames in a tcpdump text capture:
# prints "allowed forbidden" (VID 10 with MARK; any other tag or an
# 01:80:c2:00:00:0X destination).
seen() {
	local f="$VN_TMP/$1.cap"
	echo "$(grep -c '802\.1Q (0x8100), length [0-9]*: vlan 10, p [0-9], ethertype Unknown (0x88b5)' "$f") $(grep -Ec 'vlan (20|[0-9]+, p [0-9]+, ethertype 802\.1Q)|0x88a8|802\.1Q-QinQ|0x9100|01:80:c2:00:00:0' "$f")"
}

# settle NAME: the allowed frames cross four processes and TLS, on a
# shared machine: wait (5 s) until all N are seen, then 0.5 s more for
# anything sent after them (a leak would travel the same way).
settle() {
	wait_for 5 eval '[ "$(seen '"$1"' | cut -d" " -f1)" -ge "$N" ]'
	sleep 0.5
}

# live NAME NS DEV SRC: untagged MARK broadcasts from DEV until NAME's
# tcpdump shows one. tcpdump says "listening" before its first frame can
# show, and a tag's absence must not be read from a capture that was not
# yet looking.
live() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		N=1 send "$2" "$3" "$4" plain >/dev/null 2>&1
		grep -q "ethertype Unknown (0x88b5)" "$VN_TMP/$1.cap" && return 0
		sleep 0.5
	done
	return 1
}

# 4-6: from the VM.
cap_start lan "$NS_CLIENT" eth0 "" --immediate-mode || diag "tcpdump in the client did not start"
live lan "$NS_VM" eth0 "$VM_MAC" || diag "no untagged frame from the VM reached the client's tcpdump"
mark=$(log_mark "${VNETD_LOG[host]}")
send "$NS_VM" eth0 "$VM_MAC" vlan:8100:20 vlan:88a8:10 vlan:9100:10 vlan:8100:10 rsv:00 rsv:01 rsv:02 \
    >"$VN_TMP/send1.out" 2>&1 || diag "$(cat "$VN_TMP/send1.out")"
check "host capture: drop_vlan $((N * 3)), drop_reserved_dst $N (the STP BPDUs; the bridge drops PAUSE and keeps LACP)" \
    counts host capture drop_vlan $((N * 3)) drop_reserved_dst "$N"
settle lan
cap_stop lan
set -- $(seen lan)
[ "$1" = "$N" ] && [ "$2" = 0 ]
ok $? "LAN (client's tcpdump): the $N VID 10 frames arrived, no other tag, no 01:80:c2:00:00:0X frame (got $1 and $2)" ||
	diag "$(grep -E 'vlan|01:80:c2' "$VN_TMP/lan.cap" | head -n 10)"
log_has "${VNETD_LOG[host]}" "$mark" event=drop reason=vlan dst=ff:ff:ff:ff:ff:ff "src=$VM_MAC" worker=capture &&
    log_has "${VNETD_LOG[host]}" "$mark" event=drop reason=reserved_dst dst=01:80:c2:00:00:00 "src=$VM_MAC" worker=capture
ok $? "host: capture audits event=drop reason=vlan and reason=reserved_dst with dst= src=" ||
	diag "$(log_lines "${VNETD_LOG[host]}" "$mark" event=drop | head -n 5)"

# 7-9: from the LAN, sent by the proxy's own LAN port (p0), so no
# bridge keeps anything back.
cap_start vm "$NS_VM" eth0 "" --immediate-mode || diag "tcpdump in the VM did not start"
live vm "$NS_LAN" p0 "$LANSRC" || diag "no untagged frame from the LAN reached the VM's tcpdump"
mark=$(log_mark "${VNETD_LOG[proxy]}")
send "$NS_LAN" p0 "$LANSRC" vlan:8100:20 vlan:88a8:10 vlan:9100:10 vlan:8100:10 rsv:00 rsv:01 rsv:02 rsv:03 \
    >"$VN_TMP/send2.out" 2>&1 || diag "$(cat "$VN_TMP/send2.out")"
check "proxy capture: drop_vlan $((N * 3)), drop_reserved_dst $((N * 4)) (STP, PAUSE, LACP, 802.1X)" \
    counts proxy capture drop_vlan $((N * 3)) drop_reserved_dst $((N * 4))
settle vm
cap_stop vm
set -- $(seen vm)
[ "$1" = "$N" ] && [ "$2" = 0 ]
ok $? "VM (its tcpdump): the $N VID 10 frames arrived, no other tag, no 01:80:c2:00:00:0X frame (got $1 and $2)" ||
	diag "$(grep -E 'vlan|01:80:c2' "$VN_TMP/vm.cap" | head -n 10)"
log_has "${VNETD_LOG[proxy]}" "$mark" event=drop reason=vlan "src=$LANSRC" worker=capture &&
    log_has "${VNETD_LOG[proxy]}" "$mark" event=drop reason=reserved_dst dst=01:80:c2:00:00:01 "src=$LANSRC" worker=capture
ok $? "proxy: capture audits event=drop reason=vlan and reason=reserved_dst (PAUSE) with dst= src=" ||
	diag "$(log_lines "${VNETD_LOG[proxy]}" "$mark" event=drop | head -n 5)"

# 10: nothing reached inject that it had to refuse: capture kept it back.
inj_clean() {
	local n c v bad=0
	for n in proxy host; do
		for c in drop_vlan drop_reserved_dst; do
			v=$(cstat "$n" inject "$c")
			echo "$n inject $c $v"
			[ "$v" = 0 ] || bad=1
		done
	done
	return $bad
}
check "inject on both sides refused nothing (drop_vlan, drop_reserved_dst 0): the sending side's capture stopped it" inj_clean

tap_done

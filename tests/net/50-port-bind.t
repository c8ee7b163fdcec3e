#!/bin/bash
# Each VM bound to its bridge port (issue 16, point 1). The host's
# configuration says "vm VM_MAC port vm0"; a foreign tenant's VM sits
# on the same bridge (brvm, port vmt0) and:
#   - spoofs the served VM's MAC: DHCP discovers, ARP requests and IPv6
#     router solicitations. Nothing reaches the home LAN (tcpdump in
#     the client); host capture counts each as drop_wrong_port and
#     audits event=drop reason=wrong_port.
#   - keeps spoofing (so the kernel bridge learns the VM's MAC at the
#     tenant's port) while the served VM leases and transfers both
#     ways: the VM gets everything, the tenant sees no frame from the
#     home LAN (tcpdump in its namespace).
# Then the VM's port is deleted and made again (a restarted VM's new
# tap): traffic flows again within a few seconds (the monitor polls
# every 250 ms; the measured time is printed), and the change is
# audited.
. "$(dirname "$0")/lib.sh"
vn_prereq
vn_init
plan 13

N=10			# spoofed frames of each kind
SPOOF_IP=10.202.0.77	# marks the tenant's frames on the LAN

# 1
topo_up_tap tenant
# 2
vn_setup_pki >"$VN_TMP/pki.out" 2>&1 &&
    sed -i "s/^vm $VM_MAC\$/vm $VM_MAC port vm0/" "$VN_TMP/host.conf" &&
    grep -qx "vm $VM_MAC port vm0" "$VN_TMP/host.conf"
ok $? "certificates and configurations (host: vm $VM_MAC port vm0)" ||
	diag "$(cat "$VN_TMP/pki.out")"
# 3
dhcp_start_tap
# 4
start_pair_tap

# spoof DEV N [LOOP_SECS]: from the tenant's DEV, N rounds of a DHCP
# discover, an ARP request and an IPv6 router solicitation, each with
# the served VM's source MAC; with LOOP_SECS, one ARP each 50 ms for
# that long instead.
spoof() {
	ip netns exec "$NS_TENANT" python3 - "$1" "$VM_MAC" "$SPOOF_IP" "$2" "${3:-0}" <<'EOF'
import socket, struct, sys, time
dev, src, sip, n, loop = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
mac = bytes(int(x, 16) for x in src.split(':'))
ip4 = socket.inet_aton(sip)
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ipv4(proto, dst, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, ip4, dst)
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
bootp = struct.pack('!BBBBIHH4s4s4s4s', 1, 1, 6, 0, 0x7e7e7e7e, 0, 0x8000, b'\0' * 4, b'\0' * 4, b'\0' * 4, b'\0' * 4)
bootp += mac + b'\0' * 10 + b'\0' * 192 + b'\x63\x82\x53\x63' + b'\x35\x01\x01\xff'
udp = struct.pack('!HHHH', 68, 67, 8 + len(bootp), 0) + bootp
dhcp = b'\xff' * 6 + mac + b'\x08\x00' + ipv4(17, b'\xff' * 4, udp)
arp = b'\xff' * 6 + mac + b'\x08\x06' + struct.pack('!HHBBH6s4s6s4s', 1, 0x800, 6, 4, 1, mac, ip4, b'\0' * 6, socket.inet_aton('10.202.0.2'))
s6 = socket.inet_pton(socket.AF_INET6, 'fe80::7e7e')
d6 = socket.inet_pton(socket.AF_INET6, 'ff02::2')
icmp = struct.pack('!BBHI', 133, 0, 0, 0) + b'\x01\x01' + mac
ph = s6 + d6 + struct.pack('!I3xB', len(icmp), 58)
icmp = icmp[:2] + struct.pack('!H', csum(ph + icmp)) + icmp[4:]
rs = b'\x33\x33\x00\x00\x00\x02' + mac + b'\x86\xdd' + struct.pack('!IHBB', 0x60000000, len(icmp), 58, 255) + s6 + d6 + icmp
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
if loop > 0:
    end = time.time() + loop
    while time.time() < end:
        s.send(arp.ljust(60, b'\0'))
        time.sleep(0.05)
    sys.exit(0)
for i in range(n):
    for f in (dhcp, arp, rs):
        s.send(f.ljust(60, b'\0'))
    time.sleep(0.02)
EOF
}

cstat() {
	"$VNET_BUILD/vnetctl" -s "$VN_TMP/$1.sock" stats 2>/dev/null | awk -v w="$2" -v c="$3" '
	    /^[a-z]/ { in_w = ($1 == w); next }
	    in_w && $1 == c { print $2; found = 1; exit }
	    END { if (!found) print "none" }'
}

# spoofed NAME: the tenant's frames in a tcpdump capture (its marks).
spoofed() {
	grep -Ec "$SPOOF_IP|fe80::7e7e|0x7e7e7e7e" "$VN_TMP/$1.cap"
}

# 5-7: the tenant spoofs the served VM; the VM itself stays quiet.
cap_start lan "$NS_CLIENT" eth0 "" --immediate-mode -vv || diag "tcpdump in the client did not start"
mark=$(log_mark "${VNETD_LOG[host]}")
spoof eth0 "$N" >"$VN_TMP/spoof1.out" 2>&1 || diag "$(cat "$VN_TMP/spoof1.out")"
want=$((N * 3))
wait_for 5 eval '[ "$(cstat host capture drop_wrong_port)" = "$want" ]'
got=$(cstat host capture drop_wrong_port)
is "$got" "$want" "host capture: drop_wrong_port counts each spoofed frame (N=$N discovers, ARPs, RSs)"
log_has "${VNETD_LOG[host]}" "$mark" event=drop reason=wrong_port "src=$VM_MAC" port=vm0 worker=capture
ok $? "host: capture audits event=drop reason=wrong_port src=$VM_MAC port=vm0" ||
	diag "$(log_lines "${VNETD_LOG[host]}" "$mark" event=drop | head -n 5)"
sleep 1
cap_stop lan
got=$(spoofed lan)
is "$got" 0 "home LAN (client's tcpdump): none of the spoofed discovers, ARPs or RSs arrived"
[ "$got" = 0 ] || diag "$(grep -E "$SPOOF_IP|fe80::7e7e|0x7e7e7e7e" "$VN_TMP/lan.cap" | head -n 5)"

# 8-11: the tenant keeps forging the VM's MAC (the bridge learns it at
# vmt0) while the VM leases and transfers; the tenant sees no home frame.
cap_start tenant "$NS_TENANT" eth0 "ether src $CLIENT_MAC or ether src $DHCP_MAC" --immediate-mode ||
	diag "tcpdump in the tenant did not start"
spoof eth0 0 30 >"$VN_TMP/spoof2.out" 2>&1 &
SPOOF_PID=$!
track "$SPOOF_PID"
sleep 0.3
vm_lease_tap
xfer_tap "4 MiB TCP client -> VM while the tenant forges the VM's MAC" "$NS_CLIENT" "$NS_VM" "$VM_IP" 4
xfer_tap "4 MiB TCP VM -> client while the tenant forges the VM's MAC" "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" 4
in_ns "$NS_CLIENT" ping -4 -n -q -c 3 -i 0.2 -b -w 3 10.202.0.255 >/dev/null 2>&1
sleep 0.5
cap_stop tenant
stop_pid "$SPOOF_PID"
got=$(grep -c . "$VN_TMP/tenant.cap")
is "$got" 0 "tenant (its tcpdump): no frame from the home LAN's client or DHCP server, unicast or broadcast"
[ "$got" = 0 ] || diag "$(head -n 5 "$VN_TMP/tenant.cap")"

# 12-13: the VM's port goes and comes back with a new index.
mark=$(log_mark "${VNETD_LOG[host]}")
t0=$(now_ms)
vm_port_recreate >"$VN_TMP/recreate.out" 2>&1 &&
    in_ns "$NS_VM" ip addr add "$VM_IP/24" dev eth0
st=$?
t1=$(now_ms)
[ "$st" = 0 ] || diag "$(cat "$VN_TMP/recreate.out")"
# Both workers running again on the new port (the pickup itself); the
# ping after it also waits for the VM's ARP retry.
ready() {
	log_has "${VNETD_LOG[host]}" "$mark" event=worker_ready worker=capture &&
	    log_has "${VNETD_LOG[host]}" "$mark" event=worker_ready worker=inject
}
wait_for 5 ready
tr=$(now_ms)
flows() { in_ns "$NS_VM" ping -4 -n -q -c 1 -W 0.2 "$CLIENT_IP" >/dev/null 2>&1; }
wait_for 5 flows
st=$?
t2=$(now_ms)
diag "port re-created in $((t1 - t0)) ms; capture and inject ready on it $((tr - t1)) ms after; traffic flowed again $((t2 - t1)) ms after"
ok "$st" "VM's port re-created (new ifindex): the VM pings the client again within 5 s ($((t2 - t1)) ms)"
# Gone and back within one 250 ms poll is "changed"; else "gone" then
# "appeared".
# "appeared" comes at the next 250 ms poll after "gone", which can be
# after traffic already flows (the workers restarted on "gone").
port_back() {
	log_has "${VNETD_LOG[host]}" "$mark" event=vm_port what=changed "mac=$VM_MAC" port=vm0 ||
	    log_has "${VNETD_LOG[host]}" "$mark" event=vm_port what=appeared "mac=$VM_MAC" port=vm0
}
wait_for 2 port_back
ok $? "host audits event=vm_port (what=changed, or gone then appeared) for port=vm0" ||
	diag "$(log_lines "${VNETD_LOG[host]}" "$mark" event=vm_port | head -n 5)"

tap_done

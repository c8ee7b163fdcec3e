#!/bin/sh
# SPDX-License-Identifier: ISC
# make demo: show vnet putting a remote VM on the home LAN, end to end,
# in throwaway network namespaces. Needs root and a built tree
# (VNET_BUILD, default ./build). Exits non-zero if any step fails.
# Run by "sh"; the work is done in bash (tests/net/lib.sh).
if [ -z "$BASH_VERSION" ]; then
	exec bash "$0" "$@"
fi

. "$(dirname "$0")/net/lib.sh"
VN_TAP=0

# Human output instead of TAP.
STEP=0
step() {
	STEP=$((STEP + 1))
	printf '\n[%d] %s\n' "$STEP" "$*"
}
say() { printf '    %s\n' "$*"; }
good() { printf '    ok: %s\n' "$*"; }
fail() {
	local l
	printf '    FAILED: %s\n' "$*"
	for l in "${VN_KEEP_LOGS[@]}"; do
		[ -s "$l" ] || continue
		printf '    ---- last lines of %s ----\n' "${l##*/}"
		tail -n 15 "$l" | sed 's/^/    | /'
	done
	printf '\nvnet demo FAILED at step %d. Everything it created is being removed.\n' "$STEP"
	exit 1
}
bail() {
	printf 'vnet demo cannot run: %s\n' "$*"
	exit 1
}

cat <<'EOF'
vnet demo: a VM on a remote host appears on its owner's home LAN.

   VM ---[brvm]--- VM host                    proxy ---[brlan]--- home LAN
  eth0   host-only   vnetd ==== TLS 1.3 ==== vnetd  lan0      client 10.202.0.10
                     10.201.0.2   (WAN)   10.201.0.1          dnsmasq 10.202.0.2

Everything runs in throwaway network namespaces on this machine.
EOF

step "Checking prerequisites"
vn_prereq
vn_init
good "root, tools, network namespaces, user vnetd, vnetd built in $VNET_BUILD"

step "Creating a throwaway CA and certificates with vnet-pki (EC P-256)"
vn_setup_pki >"$VN_TMP/pki.out" 2>&1 || { cat "$VN_TMP/pki.out"; fail "certificate generation"; }
say "vnet-pki init; vnet-pki proxy proxy $PROXY_WAN; vnet-pki host vmhost1"
for c in ca proxy host; do
	say "$(printf '%-9s' "$c.crt") $(openssl x509 -in "$VN_TMP/$c.crt" -noout -subject -nameopt oneline)  sha256 $(cert_fp "$VN_TMP/$c.crt" | cut -c1-16)..."
done

step "Building the network"
topo_up >"$VN_TMP/topo.out" 2>&1 || { cat "$VN_TMP/topo.out"; fail "namespace topology"; }
say "VM     ($NS_VM)     eth0 $VM_MAC on bridge brvm of the VM host"
say "host   ($NS_HOST)     brvm, wan0 $HOST_WAN"
say "proxy  ($NS_PROXY)     wan0 $PROXY_WAN, lan0 (no address) on the home LAN switch"
say "LAN    ($NS_LAN)     bridge brlan: proxy, client, DHCP server"
say "client ($NS_CLIENT) $CLIENT_IP; DHCP server ($NS_DHCP) $DHCP_IP"
good "namespaces up, offloads ${VN_OFFLOAD}"

step "Starting the home DHCP server (dnsmasq, range 10.202.0.100-150)"
dhcp_start >"$VN_TMP/dhcp.out" 2>&1 || { cat "$VN_TMP/dhcp.out"; fail "dnsmasq did not start"; }
good "dnsmasq listening on $DHCP_IP:67"

step "Starting vnetd on the proxy, then on the VM host"
t0=$(now_ms)
start_pair 20 || fail "no event=link_up within 20 s"
for n in host proxy; do
	l=$(log_lines "${VNETD_LOG[$n]}" 0 event=link_up | tail -n 1)
	tls=$(log_value "$l" tls); cipher=$(log_value "$l" cipher)
	say "$n: link up with $(log_value "$l" peer), peer $(log_value "$l" subject)${tls:+, $tls}${cipher:+ $cipher}"
done
good "mutually authenticated TLS link up in $(( $(now_ms) - t0 )) ms"

step "The VM asks the home LAN for an address (busybox udhcpc)"
t0=$(now_ms)
vm_lease 15 || { cat "$VN_TMP/udhcpc.log"; fail "the VM got no DHCP lease"; }
say "VM $VM_MAC leased $VM_IP in $(( $(now_ms) - t0 )) ms"
wait_for 5 grep -qi " $VM_MAC $VM_IP " "$VN_TMP/dnsmasq.leases" ||
	fail "dnsmasq's lease file does not list the VM"
say "dnsmasq lease file: $(grep -i " $VM_MAC " "$VN_TMP/dnsmasq.leases")"
good "the VM is on the home LAN as $VM_IP"

step "The VM serves a 16 MiB file over HTTP; the home client downloads it"
mkdir -p "$VN_TMP/www"
head -c $((16 * 1048576)) /dev/urandom >"$VN_TMP/www/blob.bin"
want=$(sha256sum <"$VN_TMP/www/blob.bin" | cut -d' ' -f1)
ip netns exec "$NS_VM" busybox httpd -f -p "$VM_IP:8080" -h "$VN_TMP/www" \
    </dev/null >"$VN_TMP/httpd.log" 2>&1 &
track $!
wait_for 5 eval "in_ns $NS_VM ss -Hltn 'sport = :8080' | grep -q ." ||
	fail "busybox httpd did not start in the VM"
say "VM: busybox httpd on http://$VM_IP:8080/blob.bin (sha256 ${want:0:16}...)"
t0=$(now_ms)
timeout 60 ip netns exec "$NS_CLIENT" busybox wget -q \
    -O "$VN_TMP/fetched.bin" "http://$VM_IP:8080/blob.bin" >"$VN_TMP/wget.log" 2>&1 ||
	{ cat "$VN_TMP/wget.log"; fail "the client could not download the file"; }
ms=$(( $(now_ms) - t0 )); [ "$ms" -gt 0 ] || ms=1
got=$(sha256sum <"$VN_TMP/fetched.bin" | cut -d' ' -f1)
say "client: fetched $(stat -c %s "$VN_TMP/fetched.bin") bytes in $ms ms ($(( 16 * 1048576 * 8 / ms / 1000 )) Mbit/s)"
say "sha256 served  $want"
say "sha256 fetched $got"
[ "$got" = "$want" ] || fail "the downloaded file differs from the served one"
good "checksums match"

step "Stopping both daemons"
vnetd_stop host 10 >"$VN_TMP/stop.out" 2>&1 || { cat "$VN_TMP/stop.out"; fail "host vnetd did not stop on SIGTERM"; }
vnetd_stop proxy 10 >"$VN_TMP/stop.out" 2>&1 || { cat "$VN_TMP/stop.out"; fail "proxy vnetd did not stop on SIGTERM"; }
good "both stopped on SIGTERM (exit status host ${VNETD_STATUS[host]}, proxy ${VNETD_STATUS[proxy]})"

cat <<EOF

What this demo proved:
  - vnetd on the VM host and on the proxy authenticated each other with
    X.509 certificates from one CA and brought up their TLS link;
  - the VM, which only sees a host-only bridge, got its address
    ($VM_IP) from the DHCP server on the home LAN, through the link;
  - a home client downloaded 16 MiB from the VM, byte for byte
    (sha256 checked), at $(( 16 * 1048576 * 8 / ms / 1000 )) Mbit/s.
Cleaning up: namespaces, processes and temp files are removed.
vnet demo: PASSED
EOF
exit 0

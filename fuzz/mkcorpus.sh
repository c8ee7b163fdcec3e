#!/bin/bash
# SPDX-License-Identifier: ISC
# Regenerate the seed corpora in fuzz/corpus/ (see doc/FUZZING.md).
#
#   fuzz/mkcorpus.sh                 everything; the frame and offload
#                                    seeds come from real traffic captured
#                                    in the network-namespace topology of
#                                    tests/net (root; vnetd built in
#                                    VNET_BUILD, default ./build)
#   fuzz/mkcorpus.sh --no-net        only the seeds that need no capture:
#                                    conf, mac and ctlreq from scratch, wire
#                                    and msg from the frame corpus already
#                                    here
#   fuzz/mkcorpus.sh --keep-pcap DIR also keep the raw captures in DIR
#   fuzz/mkcorpus.sh --clean         also drop the inputs "make fuzz-merge"
#                                    added (files named by their SHA-1);
#                                    without it they are kept, and only the
#                                    seeds written here are replaced
#
# The capture runs with the kernel's offloads on (VNET_OFFLOAD=on), so
# GSO super-frames and partial checksums appear as the daemon sees them:
# tcpdump -s 0 on the host bridge brvm and on the proxy's lan0 while the
# VM leases an address (DHCP, ARP), pings the client over IPv4 and IPv6
# (ND, link-local and ULA, and with fragments), sends UDP over both, moves
# TCP data both ways over IPv4 and IPv6, and pings over an 802.1Q VLAN
# and an 802.1ad-in-802.1Q (QinQ) interface.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
C=fuzz/corpus
net=1
keep_pcap=""
clean=0
while [ $# -gt 0 ]; do
	case $1 in
	--no-net) net=0 ;;
	--clean) clean=1 ;;
	--keep-pcap) keep_pcap=${2:?directory}; shift ;;
	*) echo "usage: $0 [--no-net] [--clean] [--keep-pcap DIR]" >&2; exit 2 ;;
	esac
	shift
done

die() { echo "mkcorpus: $*" >&2; exit 1; }
say() { echo "mkcorpus: $*"; }

# reset DIR...: remove the seeds this script wrote; the inputs a merge
# added (libFuzzer names them by their SHA-1) stay unless --clean.
reset() {
	local d
	for d in "$@"; do
		mkdir -p "$d"
		if [ "$clean" = 1 ]; then
			find "$d" -type f -delete
		else
			find "$d" -type f -regextype posix-extended ! -regex '.*/[0-9a-f]{40}' -delete
		fi
	done
}

# ---------------------------------------------------------------- capture

declare -A PCAP_PID

pcap_start() {	# NAME NS DEV
	ip netns exec "$2" tcpdump -i "$3" -s 0 -U -n -Z root \
	    -w "$VN_TMP/$1.pcap" </dev/null >/dev/null 2>"$VN_TMP/$1.err" &
	PCAP_PID[$1]=$!
	track "${PCAP_PID[$1]}"
	wait_for 5 grep -q "listening on" "$VN_TMP/$1.err"
}

pcap_stop() {	# NAME
	local pid=${PCAP_PID[$1]}
	kill_tracked INT "$pid"
	wait_for 3 eval "! alive $pid" || kill_tracked KILL "$pid"
	wait "$pid" 2>/dev/null
	return 0
}

# ip_in NS ARGS...: "ip -n NS ARGS", complaining but going on on failure.
ip_in() {
	local ns=$1; shift
	ip -n "$ns" "$@" || say "warning: ip -n $ns $* failed"
}

# udp_send NS DST PORT FAMILY SIZE...: one datagram of each size.
udp_send() {
	local ns=$1 dst=$2 port=$3 fam=$4 s; shift 4
	for s in "$@"; do
		head -c "$s" /dev/zero | tr '\0' 'u' |
		    in_ns "$ns" timeout 5 socat -u - "UDP$fam-DATAGRAM:$dst:$port" \
		    >/dev/null 2>&1
	done
}

# xfer6 SRC_NS DST_NS ADDR MIB: TCP over IPv6, data thrown away.
xfer6() {
	local src=$1 dst=$2 addr=$3 mib=$4 port=5600 lpid
	ip netns exec "$dst" timeout 60 socat -u \
	    "TCP6-LISTEN:$port,bind=[$addr],reuseaddr" - </dev/null >/dev/null 2>&1 &
	lpid=$!
	track "$lpid"
	wait_for 5 eval "in_ns $dst ss -Hltn 'sport = :$port' | grep -q ." ||
		{ say "warning: no IPv6 listener"; stop_pid "$lpid"; return 1; }
	head -c "$((mib * 1048576))" /dev/urandom |
	    ip netns exec "$src" timeout 60 socat -u - "TCP6:[$addr]:$port" >/dev/null 2>&1
	wait_for 30 eval "! alive $lpid" || stop_pid "$lpid"
	wait "$lpid" 2>/dev/null
	return 0
}

# vlan_pair NAME ID CLIENT_IP VM_IP [PROTO [PARENT]]: a VLAN interface
# on both the VM's and the client's eth0 (or on PARENT, for QinQ).
vlan_pair() {
	local name=$1 id=$2 cip=$3 vip=$4 proto=${5:-802.1Q} parent=${6:-eth0} ns ip
	for ns in "$NS_VM" "$NS_CLIENT"; do
		[ "$ns" = "$NS_VM" ] && ip=$vip || ip=$cip
		ip_in "$ns" link add link "$parent" name "$name" type vlan proto "$proto" id "$id"
		ip_in "$ns" addr add "$ip/24" dev "$name"
		ip_in "$ns" link set "$name" up
	done
}

capture() {
	local VM_LL CL_LL
	set +u			# lib.sh is not written for "set -u"
	# shellcheck source=../tests/net/lib.sh
	. tests/net/lib.sh
	VN_TAP=0
	vn_prereq		# root, tools, namespaces, the daemons (bails out)
	vn_init			# temp dir, cleanup of everything on exit
	VNET_OFFLOAD=on
	command -v python3 >/dev/null || die "python3 is needed to split the captures"

	say "topology (offloads on)"
	topo_up >"$VN_TMP/topo.out" 2>&1 || { cat "$VN_TMP/topo.out"; die "topology failed"; }
	vn_setup_pki || die "certificates failed"
	dhcp_start >/dev/null || die "dnsmasq failed"
	start_pair || die "no link between host and proxy"
	pcap_start brvm "$NS_HOST" brvm || die "tcpdump on brvm did not start"
	pcap_start lan0 "$NS_PROXY" lan0 || die "tcpdump on lan0 did not start"

	say "DHCP and ARP"
	vm_lease 10 || { VM_IP=10.202.0.99; ip -n "$NS_VM" addr add "$VM_IP/24" dev eth0; }
	say "IPv4 ping both ways (VM $VM_IP), with fragments"
	ping4 "$NS_VM" "$CLIENT_IP" >/dev/null
	ping4 "$NS_CLIENT" "$VM_IP" >/dev/null
	in_ns "$NS_VM" ping -4 -n -q -c 2 -s 3000 -w 5 "$CLIENT_IP" >/dev/null

	say "IPv6: ND, link-local and ULA pings, fragments"
	wait_for 10 eval '[ -n "$(ll_addr $NS_VM eth0)" ] && [ -n "$(ll_addr $NS_CLIENT eth0)" ]'
	VM_LL=$(ll_addr "$NS_VM" eth0); CL_LL=$(ll_addr "$NS_CLIENT" eth0)
	[ -n "$VM_LL" ] && ping6ll "$NS_CLIENT" "$VM_LL" >/dev/null
	[ -n "$CL_LL" ] && ping6ll "$NS_VM" "$CL_LL" >/dev/null
	ip_in "$NS_VM" addr add fd00:202::20/64 dev eth0 nodad
	ip_in "$NS_CLIENT" addr add fd00:202::10/64 dev eth0 nodad
	in_ns "$NS_VM" ping -6 -n -q -c 3 -i 0.2 -w 10 fd00:202::10 >/dev/null
	in_ns "$NS_CLIENT" ping -6 -n -q -c 2 -s 3000 -w 5 fd00:202::20 >/dev/null

	say "UDP over IPv4 and IPv6"
	udp_send "$NS_VM" "$CLIENT_IP" 7000 4 1 100 1400 3000
	udp_send "$NS_CLIENT" "$VM_IP" 7000 4 1 1472
	udp_send "$NS_VM" "[fd00:202::10]" 7000 6 1 1200 3000

	say "TCP: 4 MiB each way over IPv4, 4 MiB VM -> client over IPv6"
	xfer "$NS_VM" "$NS_CLIENT" "$CLIENT_IP" 4 >/dev/null || say "warning: TCP VM -> client failed"
	xfer "$NS_CLIENT" "$NS_VM" "$VM_IP" 4 >/dev/null || say "warning: TCP client -> VM failed"
	xfer6 "$NS_VM" "$NS_CLIENT" fd00:202::10 4

	if ip -n "$NS_VM" link add link eth0 name vlanprobe type vlan id 4000 2>/dev/null; then
		ip -n "$NS_VM" link del vlanprobe
		say "VLAN 100 (802.1Q) and 300/400 (802.1ad + 802.1Q): ping, TCP"
		vlan_pair eth0.100 100 10.203.0.10 10.203.0.20
		vlan_pair eth0.300 300 10.204.0.10 10.204.0.20 802.1ad
		vlan_pair eth0.300.400 400 10.205.0.10 10.205.0.20 802.1Q eth0.300
		sleep 1
		in_ns "$NS_VM" ping -4 -n -q -c 3 -i 0.2 -w 10 10.203.0.10 >/dev/null ||
			say "warning: no ping over VLAN 100"
		in_ns "$NS_VM" ping -4 -n -q -c 3 -i 0.2 -w 10 10.205.0.10 >/dev/null ||
			say "warning: no ping over QinQ 300/400"
		xfer "$NS_VM" "$NS_CLIENT" 10.203.0.10 1 >/dev/null ||
			say "warning: TCP over VLAN failed"
	else
		say "this kernel has no 802.1Q support: VLAN frames are crafted only"
	fi
	say "crafted frames from the VM: tags, IPv6 extension headers, GSO"
	in_ns "$NS_VM" python3 fuzz/craft.py eth0 "$VM_MAC" "$CLIENT_MAC" ||
		say "warning: crafted frames not sent"

	sleep 0.5
	pcap_stop brvm
	pcap_stop lan0
	if [ -n "$keep_pcap" ]; then
		mkdir -p "$keep_pcap" && cp "$VN_TMP"/brvm.pcap "$VN_TMP"/lan0.pcap "$keep_pcap"/
	fi
	reset "$C/frame" "$C/offload"
	python3 fuzz/pcapsplit.py "$C/frame" "$C/offload" "$VN_TMP/brvm.pcap" \
	    "$VN_TMP/lan0.pcap" || die "splitting the captures failed"
}

# ---------------------------------------------------------------- conf

conf_seeds() {
	local d="$C/conf"
	reset "$d"
	cp etc/host.conf "$d/etc-host.conf"
	cp etc/proxy.conf "$d/etc-proxy.conf"
	# The EXAMPLES of vnetd.conf(5): every literal block that is a file.
	awk -v d="$d" '
	/^\.Bd -literal/ { inb = 1; buf = ""; next }
	/^\.Ed/ { if (inb && buf ~ /^role /) { f = d "/man-example-" ++n; printf "%s", buf > f; close(f) } inb = 0; next }
	inb { buf = buf $0 "\n" }' doc/vnetd.conf.5
	# What the network tests generate (written with absolute names, as
	# the tests do).
	(
		set +u
		. tests/net/lib.sh
		t=$(mktemp -d /tmp/vnet-seed.XXXXXX) || exit 1
		vn_host_conf "$t/test-host.conf" "$t/host.crt" "$t/host.key" "$t/ca.crt" 10.201.0.1 52:54:00:66:66:66
		vn_proxy_conf "$t/test-proxy.conf" "$t"
		sed "s|$t|/tmp/vnet-test|g" "$t/test-host.conf" >"$d/test-host.conf"
		sed "s|$t|/tmp/vnet-test|g" "$t/test-proxy.conf" >"$d/test-proxy.conf"
		rm -rf "$t"
	)
	# Variants: every keyword, both pin forms, quoting, comments, tabs,
	# the brace on its own line, role last, no final newline, limits.
	cat >"$d/host-full.conf" <<'EOF'
# every host keyword
interface	"br-vm0"   # tab before the value
user _vnet
chroot "/var/lib/vnet empty"
certificate "/etc/vnet/host #1.crt"
key /etc/vnet/host.key
ca /etc/vnet/ca.crt
keepalive 3600
mtu 9000
connect 2001:db8::1 port 65535
peer-name "proxy.example.net"
handshake-timeout 300
restart-max-delay 600000
syslog-facility daemon
pin sha256:0123456789abcdefABCDEF0123456789abcdef0123456789ABCDEF0123456789
vm 52:54:00:12:34:56
vm 02:00:00:00:00:01
vm FE:FF:FF:FF:FF:FE
role host
EOF
	cat >"$d/proxy-full.conf" <<'EOF'
role proxy
interface eth0
keepalive 1
mtu 0
listen :: port 1
handshake-timeout 1
restart-max-delay 100
max-pending 512
max-pending-per-source 1
max-links 2
syslog-facility local7
audit-facility "auth"
control /run/vnet/ctl.sock
control-group vnetadm
certificate /c
key /k
ca /a
host vmhost1 {
	cn "vm host one"
	pin sha256:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef
	mac 52:54:00:12:34:56
	mac 52:54:00:12:34:57
}
host vmhost2
{
	mac 52:54:00:12:34:56   # the same VM may migrate
}
host "vmhost3" {
	cn vmhost1.example
	mac 02:00:00:00:00:02
}
EOF
	printf 'role proxy\ninterface lo\ncertificate /c\nkey /k\nca /a\nlisten 0.0.0.0\nhost h {\nmac 02:00:00:00:00:01\n}' >"$d/proxy-no-newline.conf"
	printf 'role host\ninterface x\ncertificate /c\nkey /k\nca /a\nconnect h\nvm 02:00:00:00:00:01\nmtu 68\n' >"$d/host-minimal.conf"
	# Several proxies, in order of preference; the last line is the eighth.
	{
		printf 'role host\ninterface eth0\ncertificate /c\nkey /k\nca /a\npeer-name p\n'
		printf 'connect 192.0.2.1\nconnect 192.0.2.1 port 443\nconnect "2001:db8::2"\n'
		for n in 4 5 6 7 8; do
			printf 'connect p%d.example port %d\n' "$n" $((4780 + n))
		done
	} >"$d/host-8-proxies.conf"
	# A few errors, each reaching a different check.
	printf 'role host\nconnect a port 1\nconnect b\nconnect a port 1\n' >"$d/err-connect-dup.conf"
	printf 'role host\nconnect a\nconnect b\nconnect c\nconnect d\nconnect e\nconnect f\nconnect g\nconnect h\nconnect i\n' >"$d/err-connect-nine.conf"
	printf 'role host\ninterface eth0\nvm 01:00:5e:00:00:01\n' >"$d/err-multicast.conf"
	printf 'role host\nvm 52:54:00:12:34:56\nvm 52:54:00:12:34:56\n' >"$d/err-duplicate.conf"
	printf 'role proxy\nhost a {\nmac 02:00:00:00:00:01\n}\nhost b {\ncn a\nmac 02:00:00:00:00:02\n}\n' >"$d/err-cn-reused.conf"
	printf 'role host\ninterface "eth0\n' >"$d/err-unterminated.conf"
	printf 'role host\r\n' >"$d/err-crlf.conf"
	printf 'role proxy\nlisten 0.0.0.0 port 4789\nvm 02:00:00:00:00:01\n' >"$d/err-role-mix.conf"
	printf 'interface a/b\nkeepalive 0\n' >"$d/err-values.conf"
	printf 'role host\nuser "a b"\n' >"$d/err-user-blank.conf"
	# Many MACs and hosts (a few hundred: well inside the limits).
	{
		printf 'role proxy\ninterface eth0\ncertificate /c\nkey /k\nca /a\nlisten ::\n'
		for n in $(seq 1 200); do
			printf 'host h%d {\n\tmac 02:00:00:00:%02x:%02x\n}\n' "$n" $((n / 256)) $((n % 256))
		done
	} >"$d/proxy-200-hosts.conf"
	{
		printf 'role host\ninterface eth0\ncertificate /c\nkey /k\nca /a\nconnect p\n'
		for n in $(seq 1 300); do
			printf 'vm 02:00:00:01:%02x:%02x\n' $((n / 256)) $((n % 256))
		done
	} >"$d/host-300-vms.conf"
	say "conf: $(ls "$d" | wc -l) files"
}

# ---------------------------------------------------------------- mac

mac_seeds() {
	local d="$C/mac"
	reset "$d"
	# Byte 0 % 32 is the length of the text for mac_parse.
	printf '\x11%s' 52:54:00:12:34:56 >"$d/parse-ok"
	printf '\x11%s' 52:54:00:12:34:5G >"$d/parse-bad-digit"
	printf '\x11%s' FE-FF-FF-FF-FF-FE >"$d/parse-bad-sep"
	printf '\x12%s' 52:54:00:12:34:567 >"$d/parse-long"
	printf '\x05%s' 52:54 >"$d/parse-short"
	{ printf '\x11%s' 02:00:00:00:00:01; printf '\x52\x54\x00\x12\x34\x56\x02\x00\x00\x00\x00\x01\x52\x54\x00\x12\x34\x56\xff\xff\xff\xff\xff\xff\x52\x54\x00\x12\x34\x57\x00\x00\x00\x00\x00\x00'; } >"$d/set-small"
	# 256 MACs, a fixed spread (seeds stay the same from run to run).
	{
		printf '\000'
		for n in $(seq 0 255); do
			# shellcheck disable=SC2059
			printf "$(printf '\\x52\\x54\\x%02x\\x%02x\\x%02x\\x%02x' \
			    $((n * 7 % 256)) $((n * 13 % 256)) $((n * 29 % 256)) $((255 - n)))"
		done
	} >"$d/set-256"
	say "mac: $(ls "$d" | wc -l) files"
}

# ---------------------------------------------------------------- ctlreq

ctlreq_seeds() {
	local d="$C/ctlreq" w
	reset "$d"
	for w in status links macs stats reload; do
		printf '%s\n' "$w" >"$d/$w"
		printf '%s json\n' "$w" >"$d/$w-json"
	done
	printf 'status\nlinks\n' >"$d/two-lines"
	printf 'links xml\n' >"$d/bad-option"
	say "ctlreq: $(ls "$d" | wc -l) files"
}

# ---------------------------------------------------------------- wire, msg

wire_msg_seeds() {
	local frames confs
	[ -d "$C/frame" ] && [ -n "$(ls "$C/frame")" ] ||
		die "no frame corpus in $C/frame: run without --no-net first"
	make --no-print-directory fuzz/build/mkseeds >/dev/null || die "cannot build fuzz/build/mkseeds"
	# The 40 smallest captured frames and the 2 largest (GSO super-frames).
	frames=$(ls -S "$C/frame" | grep -Ev '^[0-9a-f]{40}$' >"$C/.frames" &&
	    (tail -n 40 "$C/.frames"; head -n 2 "$C/.frames") | sort -u |
	    sed "s|^|$C/frame/|"); rm -f "$C/.frames"
	confs=$(ls "$C"/conf/etc-*.conf "$C"/conf/host-full.conf "$C"/conf/proxy-full.conf 2>/dev/null)
	reset "$C/wire" "$C/msg"
	# shellcheck disable=SC2086
	fuzz/build/mkseeds wire "$C/wire" $frames || die "wire seeds failed"
	# shellcheck disable=SC2086
	fuzz/build/mkseeds msg "$C/msg" $confs -- $frames || die "msg seeds failed"
	say "wire: $(ls "$C/wire" | wc -l) files, msg: $(ls "$C/msg" | wc -l) files"
}

# ---------------------------------------------------------------- dgram

# Hand-written step sequences (fuzz/dgram.c), named by what they do.
dgram_seeds() {
	local d="$C/dgram" pt64 pt1400 i k
	reset "$d"
	pt64=$(head -c 64 /dev/zero | tr '\0' 'f')
	pt1400=$(head -c 1400 /dev/zero | tr '\0' 'F')
	# See fuzz/dgram.c: byte 0 the AEAD, then op bytes and arguments.
	# Op 0 seals DATA (0x08 PROBE, 0x10 PROBE_ACK), 2 delivers as sent,
	# 0x12 with a byte flipped, 0x1a cut short, 4 a raw datagram,
	# 5 skips counters (0x0d: whole epochs), 6 and 7 let time pass.
	printf '\x00\x00\x00\x40%s\x02\x00\x02\x00' "$pt64" >"$d/aes-seal-replay"
	printf '\x01\x00\x05\x78%s\x02\x00\x08\x00\x00ABCDEFGH\x02\x01\x10\x00\x00abcdefgh\x02\x02' \
	    "$pt1400" >"$d/chacha-data-probe-ack"
	{
		printf '\x00'
		for i in 0 1 2 3; do
			printf '\x05\x3e\x00\x00\x40%s\x00\x00\x40%s\x00\x00\x40%s' \
			    "$pt64" "$pt64" "$pt64"
			for k in $((3 * i + 1)) $((3 * i)) $((3 * i + 2)); do
				# shellcheck disable=SC2059
				printf "\\x02\\x$(printf %02x "$k")"
			done
		done
		printf '\x07\x02\x00\x06\x03\xe8\x02\x03\x07\x07\x02\x01'
	} >"$d/aes-epochs-reorder-overlap"
	printf '\x01\x00\x00\x40%s\x12\x00\x00\x10\x01\x12\x00\x00\x30\x80\x1a\x00\x00\x20\x1a\x00\x00\x5f\x02\x00' \
	    "$pt64" >"$d/chacha-flip-cut"
	printf '\x00\x0d\x03\x00\x00\x40%s\x02\x00\x0d\x02\x00\x00\x40%s\x02\x01' \
	    "$pt64" "$pt64" >"$d/aes-future-epoch"
	# Raw datagrams: a probe's header, a bad version, a short one.
	printf '\x00\x04\x00\x28\x02\x01\x00\x00\x76\x6e\x65\x74\x00\x00\x00\x00\x00\x00\x00\x01ABCDEFGHIJKLMNOPQRSTUVWX\x04\x00\x10\x01\x02\x00\x00' \
	    >"$d/raw-probe-badversion"
	say "dgram: $(ls "$d" | wc -l) files"
}

# ---------------------------------------------------------------- mss

# The captured TCP frames behind mss4 1400 and mss6 1380, and two SYNs
# built here: 802.1Q-tagged IPv4, and an MSS at an odd offset.
mss_seeds() {
	local d="$C/mss" f
	reset "$d"
	for f in $(ls "$C/frame" | grep -E '^(0800|86dd)-p6-'); do
		{ printf '\x05\x78\x05\x64'; cat "$C/frame/$f"; } >"$d/$f"
	done
	printf '\x05\x78\x05\x64\x02\x00\x5e\x10\x00\x02\x02\x00\x5e\x10\x00\x01\x81\x00\x00\x64\x08\x00\x45\x00\x00\x30\x12\x34\x40\x00\x40\x06\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02\x9c\x40\x01\xbb\x11\x22\x33\x44\x00\x00\x00\x00\x70\x02\xfa\xf0\x2a\x0b\x00\x00\x02\x04\x05\xb4\x01\x01\x04\x02' \
	    >"$d/vlan-syn"
	printf '\x05\x78\x05\x64\x02\x00\x5e\x10\x00\x02\x02\x00\x5e\x10\x00\x01\x08\x00\x45\x00\x00\x30\x12\x34\x40\x00\x40\x06\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02\x9c\x40\x01\xbb\x11\x22\x33\x44\x00\x00\x00\x00\x70\x12\xfa\xf0\x80\x57\x00\x00\x01\x02\x04\x05\xb4\x01\x01\x01' \
	    >"$d/synack-odd-mss"
	say "mss: $(ls "$d" | wc -l) files"
}

if [ "$net" = 1 ]; then
	( capture ) || die "capture failed"
fi
conf_seeds
mac_seeds
ctlreq_seeds
wire_msg_seeds
dgram_seeds
mss_seeds
say "corpus sizes:"
du -s --apparent-size -k "$C"/* | while read -r k dir; do
	echo "    $dir: $(ls "$dir" | wc -l) files, $k KiB"
done
echo "    total: $(du -s --apparent-size -k "$C" | cut -f1) KiB"

#!/bin/sh
# SPDX-License-Identifier: ISC
# Install the Debian packages vnet needs to build and test, only those
# that are missing. Does nothing (and needs no network) when all are there.
set -eu

BUILD="gcc make pkg-config libc6-dev libpcap-dev libssl-dev libseccomp-dev libcap-ng-dev libcmocka-dev"
# libFuzzer: clang alone (no recommends) brings neither runtime nor symbolizer.
FUZZ="clang libclang-rt-14-dev llvm"
TEST="iproute2 iputils-ping dnsmasq-base tcpdump ethtool socat busybox openssl procps perl mandoc passwd coreutils systemd jq rsyslog util-linux nftables python3"
# The SELinux policy module is built and checked against a private store.
SELINUX="selinux-policy-dev selinux-policy-default policycoreutils semodule-utils checkpolicy setools selinux-utils m4 make"
# make deb (Debian's packaging tools), and tests/net/8[38]-*.t, which
# check it and parse vnetctl's metrics with a real Prometheus parser.
DEB="debhelper dpkg-dev lintian python3-prometheus-client"

want="$BUILD $TEST $SELINUX $FUZZ $DEB"
[ $# -gt 0 ] && want="$*"

missing=""
for p in $want; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An image with no package lists cannot install anything: refresh once.
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update -q
	apt-get install -y --no-install-recommends $missing
fi

#!/bin/bash
# SPDX-License-Identifier: ISC
# Source-level coverage of the daemon's code by the fuzz corpora:
# builds every target again with clang's source-based coverage, replays
# fuzz/corpus/T, fuzz/regressions/T and (when present) fuzz/build/new/T,
# and prints llvm-cov's per-file and per-function report for the files a
# target exercises. Run by "make fuzz-cov"; output in fuzz/build/cov/.
set -u

B=fuzz/build/cov
CC=${FUZZ_CC:-clang}
CFLAGS="-g -O0 -std=gnu11 -D_GNU_SOURCE -I. -fprofile-instr-generate -fcoverage-mapping"
SRCS="$(ls lib/*.c) privsep/msg.c privsep/msgtab.c privsep/log.c"
# lib/dgram.c and lib/x509id.c call libcrypto.
CRYPTO=$(pkg-config --libs libcrypto)
PROFDATA=$(command -v llvm-profdata || command -v llvm-profdata-14)
LLVMCOV=$(command -v llvm-cov || command -v llvm-cov-14)
[ -n "$PROFDATA" ] && [ -n "$LLVMCOV" ] || { echo "llvm-profdata/llvm-cov missing (package llvm)"; exit 1; }

# What each target is there to cover.
files_of() {
	case $1 in
	frame)		echo lib/frame.c ;;
	offload)	echo lib/offload.c lib/csum.c ;;
	wire)		echo lib/wire.c ;;
	msg)		echo privsep/msg.c ;;
	conf)		echo lib/conf.c ;;
	mac)		echo lib/macset.c lib/frame.c ;;
	ctlreq)		echo lib/ctlreq.c ;;
	fwd)		echo lib/fwd.c ;;
	l2pol)		echo lib/l2pol.c ;;
	dgram)		echo lib/dgram.c ;;
	mss)		echo lib/mss.c lib/csum.c ;;
	esac
}

mkdir -p "$B"
for t in "$@"; do
	bin="$B/$t"
	# shellcheck disable=SC2086
	$CC $CFLAGS -fsanitize=fuzzer -o "$bin" "fuzz/$t.c" $SRCS $CRYPTO || exit 1
	dirs=""
	for d in "fuzz/corpus/$t" "fuzz/regressions/$t" "fuzz/build/new/$t"; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	rm -f "$B/$t".profraw
	# shellcheck disable=SC2086
	LLVM_PROFILE_FILE="$B/$t.profraw" "$bin" -runs=0 -max_len=262153 $dirs \
	    >"$B/$t.log" 2>&1
	"$PROFDATA" merge -sparse -o "$B/$t.profdata" "$B/$t.profraw" || exit 1
	echo "== $t ($(echo $dirs))"
	# shellcheck disable=SC2046
	"$LLVMCOV" report "$bin" -instr-profile="$B/$t.profdata" $(files_of "$t") |
	    awk 'NR > 2 && $1 != "TOTAL" && $1 !~ /^-/ { sub(".*/", "", $1); printf "    %-14s lines %s of %s (%s), branches %s of %s (%s)\n", $1, $8 - $9, $8, $10, $11 - $12, $11, $13 }'
	# shellcheck disable=SC2046
	"$LLVMCOV" show "$bin" -instr-profile="$B/$t.profdata" \
	    -show-line-counts-or-regions $(files_of "$t") >"$B/$t.txt"
done
echo "annotated sources: $B/TARGET.txt (lines marked 0 were never run)"

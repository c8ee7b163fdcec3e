#!/bin/bash
# SPDX-License-Identifier: ISC
# Run the libFuzzer targets built by "make fuzz" (see doc/FUZZING.md).
#
#   run.sh run SECS TARGET...    fuzz each target for SECS seconds, one at
#                                a time; new inputs go to fuzz/build/new/T;
#                                a crash is minimised and saved in
#                                fuzz/regressions/T, and the run fails
#   run.sh check SECS TARGET...  replay fuzz/corpus/T and fuzz/regressions/T
#                                (-runs=0), then fuzz SECS seconds from the
#                                corpus; fails on any crash
#   run.sh merge 0 TARGET...     add the inputs of fuzz/build/new/T that
#                                reach new edges (hit counts ignored, to
#                                keep it small) to fuzz/corpus/T
#
# FUZZ_NICE (default 19): niceness of every fuzzer process.
# Run from the top of the tree (the make targets do).
set -u

mode=${1:?mode}; secs=${2:?seconds}; shift 2
targets=("$@")
B=fuzz/build
NICE=${FUZZ_NICE:-19}
MINIMIZE_SECS=${FUZZ_MINIMIZE_SECONDS:-60}

# Symbolized reports (function names are what crashes are named after).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
	for s in llvm-symbolizer llvm-symbolizer-14; do
		if command -v "$s" >/dev/null 2>&1; then
			ASAN_SYMBOLIZER_PATH=$(command -v "$s")
			export ASAN_SYMBOLIZER_PATH
			break
		fi
	done
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Largest input worth trying per target: what the daemon can ever hand
# the function (a frame is at most 65600 bytes, a message 8 + 256 KiB,
# a configuration 256 KiB), plus the harness's own leading bytes.
max_len() {
	case $1 in
	frame)		echo 65600 ;;
	offload)	echo 65603 ;;
	mss)		echo 65604 ;;
	tcpmerge)	echo 131203 ;;
	wire)		echo 140000 ;;
	msg)		echo 262153 ;;
	conf)		echo 262145 ;;
	mac)		echo 4096 ;;
	ctlreq)		echo 128 ;;
	*)		echo 65536 ;;
	esac
}

# Directories that exist, for libFuzzer (it refuses a missing one).
existing() {
	local d
	for d in "$@"; do [ -d "$d" ] && printf '%s\n' "$d"; done
}

common_opts() {	# TARGET
	local t=$1
	printf '%s\n' -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1
	[ -f "fuzz/dict/$t.dict" ] && printf '%s\n' -dict="fuzz/dict/$t.dict"
}

fuzzer() {	# TARGET ARGS...
	local t=$1; shift
	nice -n "$NICE" "$B/$t" "$@"
}

# stats LOG: "execs exec/s edges corpus" from libFuzzer's output.
stats() {
	awk '
	/^stat::number_of_executed_units:/ { ex = $2 }
	/^stat::average_exec_per_sec:/ { eps = $2 }
	/ cov: / { for (i = 1; i < NF; i++) {
		if ($i == "cov:") cov = $(i + 1)
		if ($i == "corp:") { split($(i + 1), c, "/"); corp = c[1] } } }
	END { printf "%s %s %s %s\n", ex == "" ? "?" : ex, eps == "" ? "?" : eps,
	    cov == "" ? "?" : cov, corp == "" ? "?" : corp }' "$1"
}

# crash_name LOG: a descriptive file name from the sanitizer's report.
crash_name() {
	awk '
	function clean(s) { gsub(/[^A-Za-z0-9_.]+/, "_", s); return s }
	/==FUZZ== invariant violated in / && !name {
		fn = $5; loc = $6; sub(/^\(/, "", loc); sub(/\).*/, "", loc)
		n = split(loc, a, ":"); name = "invariant-" fn "-" clean(a[n]) }
	/ERROR: AddressSanitizer: / && !kind { kind = $3 }
	/ERROR: LeakSanitizer:/ && !kind { kind = "leak"; leak = 1 }
	/runtime error:/ && !name && !kind {
		loc = $1; sub(/:$/, "", loc); n = split(loc, a, "/")
		kind = "ubsan"; ubloc = clean(a[n]) }
	/ALARM: working on the last Unit/ && !kind { kind = "timeout" }
	/out-of-memory/ && !kind { kind = "oom" }
	/^ *#[0-9]+ 0x[0-9a-f]+ in / && kind && !fn2 {
		f = $4
		if (f !~ /^(__asan|__ubsan|__interceptor|__sanitizer|malloc|calloc|realloc|memcpy|memmove|memcmp|memset|bcmp|strlen|abort|raise)/ &&
		    f !~ /^(fuzz_fail|LLVMFuzzerTestOneInput)$/ || (leak && f == "LLVMFuzzerTestOneInput"))
			fn2 = f }
	END {
		if (name) { print name; exit }
		if (!kind) kind = "crash"
		s = kind
		if (ubloc) s = s "-" ubloc
		if (fn2) s = s "-" clean(fn2)
		print s }' "$1"
}

# save_crash TARGET ARTIFACT LOG: minimise, name, store; prints the path.
save_crash() {
	local t=$1 art=$2 log=$3 name min sum dest mlog
	name=$(crash_name "$log")
	mkdir -p "fuzz/regressions/$t"
	# The same failure already has a regression file: nothing new.
	for dest in "fuzz/regressions/$t/$name"-*; do
		if [ -e "$dest" ]; then
			echo "known: $dest"
			return 0
		fi
	done
	min="$B/artifacts/$t/min-${art##*/}"
	mlog="$B/logs/$t.minimize.log"
	case "$name" in
	timeout*|oom*) cp "$art" "$min" ;;
	*)
		fuzzer "$t" -minimize_crash=1 -max_total_time="$MINIMIZE_SECS" \
		    -timeout=10 -exact_artifact_path="$min" "$art" >"$mlog" 2>&1
		[ -s "$min" ] || cp "$art" "$min"
		;;
	esac
	sum=$(sha1sum <"$min" | cut -c1-8)
	dest="fuzz/regressions/$t/$name-$sum"
	cp "$min" "$dest"
	echo "saved: $dest ($(stat -c %s "$dest") bytes)"
}

# replay_each TARGET DIR...: name the input(s) that fail.
replay_each() {
	local t=$1 f; shift
	for f in $(find "$@" -type f | sort); do
		if ! fuzzer "$t" -runs=1 -timeout=10 "$f" >/dev/null 2>&1; then
			echo "    FAILS: $f"
		fi
	done
}

fail=0
mkdir -p "$B/logs"
case $mode in
run)
	printf '%-8s %12s %9s %7s %8s %6s  %s\n' target execs exec/s edges corpus new result
	for t in "${targets[@]}"; do
		new="$B/new/$t"; art="$B/artifacts/$t"; log="$B/logs/$t.run.log"
		mkdir -p "$new" "$art"
		rm -f "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*
		n0=$(find "$new" -type f | wc -l)
		fuzzer "$t" $(common_opts "$t") -max_total_time="$secs" \
		    -artifact_prefix="$art/" "$new" $(existing "fuzz/corpus/$t") \
		    >"$log" 2>&1
		rc=$?
		n1=$(find "$new" -type f | wc -l)
		read -r ex eps cov corp < <(stats "$log")
		result=ok
		if [ "$rc" -ne 0 ]; then
			result="FAILED (exit $rc, log $log)"
			fail=1
		fi
		printf '%-8s %12s %9s %7s %8s %6s  %s\n' "$t" "$ex" "$eps" "$cov" "$corp" "$((n1 - n0))" "$result"
		for a in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
			[ -e "$a" ] || continue
			grep -m1 -E '==FUZZ==|ERROR: [A-Za-z]+Sanitizer|runtime error|ALARM|out-of-memory' "$log" | sed 's/^/    /'
			echo "    $(save_crash "$t" "$a" "$log")"
		done
	done
	;;
check)
	for t in "${targets[@]}"; do
		log="$B/logs/$t.check.log"
		dirs=$(existing "fuzz/corpus/$t" "fuzz/regressions/$t")
		n=$(find $dirs /dev/null -type f 2>/dev/null | wc -l)
		if [ -n "$dirs" ]; then
			if ! fuzzer "$t" -runs=0 -timeout=10 -rss_limit_mb=2048 \
			    -max_len="$(max_len "$t")" $dirs >"$log.replay" 2>&1; then
				echo "FAIL $t: replay of $n inputs crashed (log $log.replay)"
				grep -m1 -E '==FUZZ==|ERROR: [A-Za-z]+Sanitizer|runtime error' "$log.replay" | sed 's/^/    /'
				replay_each "$t" $dirs
				fail=1
				continue
			fi
		fi
		scratch="$B/check/$t"; art="$B/artifacts/check-$t"
		rm -rf "$scratch" "$art"; mkdir -p "$scratch" "$art"
		if fuzzer "$t" $(common_opts "$t") -max_total_time="$secs" \
		    -artifact_prefix="$art/" "$scratch" $(existing "fuzz/corpus/$t") \
		    >"$log" 2>&1; then
			read -r ex eps cov corp < <(stats "$log")
			echo "ok   $t: replayed $n inputs; ${secs}s: $ex execs ($eps/s), $cov edges"
		else
			echo "FAIL $t: crash while fuzzing (log $log; input in $art)"
			grep -m1 -E '==FUZZ==|ERROR: [A-Za-z]+Sanitizer|runtime error|ALARM|out-of-memory' "$log" | sed 's/^/    /'
			fail=1
		fi
	done
	;;
merge)
	for t in "${targets[@]}"; do
		[ -d "$B/new/$t" ] || continue
		mkdir -p "fuzz/corpus/$t"
		before=$(find "fuzz/corpus/$t" -type f | wc -l)
		fuzzer "$t" -merge=1 -use_counters=0 -max_len="$(max_len "$t")" -timeout=10 \
		    "fuzz/corpus/$t" "$B/new/$t" >"$B/logs/$t.merge.log" 2>&1 ||
			{ echo "FAIL $t: merge (log $B/logs/$t.merge.log)"; fail=1; continue; }
		after=$(find "fuzz/corpus/$t" -type f | wc -l)
		echo "$t: corpus $before -> $after files ($(du -sh --apparent-size "fuzz/corpus/$t" | cut -f1))"
	done
	;;
*)
	echo "usage: $0 run|check|merge SECONDS TARGET..." >&2
	exit 2
	;;
esac
exit $fail

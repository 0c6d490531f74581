#!/bin/sh
# tests/fuzz/run.sh [SECONDS [FUZZER...]]: build the libFuzzer harnesses
# with clang (ASan + UBSan) and run each for SECONDS (default 60; 0 runs
# the seed corpus once) on a scratch copy of its seeds. Any crash, leak,
# sanitizer report, timeout or failed check fails the run.
set -u

secs=${1:-60}
[ $# -gt 0 ] && shift
fuzzers=${*:-fuzz_packet fuzz_msg fuzz_ctl fuzz_config}

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$here/build
cc=${FUZZ_CC:-clang}
jobs=$(nproc 2>/dev/null || echo 2)

case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS [FUZZER...]]" >&2; exit 2 ;;
esac
if ! command -v "$cc" > /dev/null; then
	echo "fuzz: $cc not found (apt-get install clang)" >&2
	exit 2
fi

pkgs="libevent libevent_extra libconfig libpcap libsodium"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
# Word splitting of these lists is intended (paths without blanks).
# shellcheck disable=SC2086
cflags="-g -O1 -D_GNU_SOURCE -I$top/src $(pkg-config --cflags $pkgs)"
# shellcheck disable=SC2086
libs=$(pkg-config --libs $pkgs) || exit 2

# The library: every src/*.c but main()s and log.c (fuzz_log.c stands in
# for it: messages formatted, never written), built again with clang.
echo "== fuzz: building in $build"
mkdir -p "$build/obj" "$build/artifacts" || exit 2
srcs=
for f in "$top"/src/*.c; do
	case ${f##*/} in
	ilbd.c|ilbctl.c|log.c) ;;
	*) srcs="$srcs $f" ;;
	esac
done
srcs="$srcs $here/fuzz_log.c $here/fuzz_world.c"
export cc cflags san build
# shellcheck disable=SC2016,SC2086
printf '%s\n' $srcs | xargs -P "$jobs" -I{} sh -c '
	o=$build/obj/$(basename {} .c).o
	$cc $cflags $san -fsanitize=fuzzer-no-link -w -c {} -o $o ||
	    { echo "fuzz: cannot compile {}" >&2; exit 255; }' || exit 1
objs=
for f in $srcs; do
	objs="$objs $build/obj/$(basename "$f" .c).o"
done
for fz in $fuzzers; do
	# shellcheck disable=SC2086
	$cc $cflags $san -fsanitize=fuzzer -Wall -Wextra -Werror \
	    "$here/$fz.c" $objs $libs -o "$build/$fz" || {
		echo "fuzz: cannot build $fz" >&2; exit 1; }
done

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
pass=0
fail=0
summary=
for fz in $fuzzers; do
	work=$(mktemp -d "$build/work-$fz.XXXXXX") || exit 2
	mkdir "$work/corpus"
	[ -d "$here/seeds/$fz" ] && cp "$here/seeds/$fz"/* "$work/corpus/" \
	    2> /dev/null
	if [ "$secs" -eq 0 ]; then
		limit="-runs=0"
	else
		limit="-max_total_time=$secs"
	fi
	# libconfig's own leak (lsan.supp) would make libFuzzer run a full
	# leak check after most inputs: fuzz_config runs without, then
	# checks every input of the grown corpus once with it.
	leaks=1
	[ "$fz" = fuzz_config ] && [ "$secs" -gt 0 ] && leaks=0
	echo "== fuzz: $fz ($limit)"
	"$build/$fz" "$limit" -timeout=10 -rss_limit_mb=2048 \
	    -detect_leaks=$leaks -print_final_stats=1 \
	    -artifact_prefix="$build/artifacts/$fz-" \
	    "$work/corpus" > "$build/$fz.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ $leaks -eq 0 ]; then
		"$build/$fz" -runs=0 -detect_leaks=1 -print_final_stats=1 \
		    -artifact_prefix="$build/artifacts/$fz-" \
		    "$work/corpus" > "$build/$fz-leaks.log" 2>&1
		rc=$?
		[ $rc -eq 0 ] || cat "$build/$fz-leaks.log" >> "$build/$fz.log"
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$build/$fz.log" | tail -1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' \
	    "$build/$fz.log" | tail -1)
	cov=$(sed -n 's/^#[0-9]*.*DONE *cov: \([0-9]*\) .*/\1/p' \
	    "$build/$fz.log" | tail -1)
	ninputs=$(find "$work/corpus" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		line="$fz: ok, ${runs:-?} runs, ${speed:-?} exec/s, cov ${cov:-?}, corpus $ninputs"
		rm -rf "$work"
	else
		fail=$((fail + 1))
		crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' \
		    "$build/$fz.log" | tail -1)
		tail -40 "$build/$fz.log"
		line="$fz: FAILED (exit $rc), input ${crash:-?}, log $build/$fz.log"
		echo "fuzz: $fz crashed on ${crash:-an input not saved}; reproduce with $build/$fz ${crash:-}"
		rm -rf "$work"
	fi
	echo "$line"
	summary="$summary$line
"
done
echo "== fuzz: summary"
printf '%s' "$summary"
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]

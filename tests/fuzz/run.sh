#!/bin/sh
# tests/fuzz/run.sh [SECONDS [FUZZER...]]: build the libFuzzer harnesses
# (automake's build: configure CC=clang --enable-fuzz, with ASan and
# UBSan) and run each for SECONDS (default 60; 0 runs the seed corpus
# once) on a scratch copy of its seeds. Any crash, leak, sanitizer report,
# timeout or failed check fails the run.
#
# The build is in tests/fuzz/build/obj, a VPATH build of tests/fuzz/build/
# tree: a copy of the files git knows (as they are in the working tree, so
# an in-place build of the tree is no obstacle), their times kept, so that
# the next run's make rebuilds only what changed. Outside a git checkout
# (a release tarball, not configured in place) the tree itself is built.
# Environment: FUZZ_CC (clang), FUZZ_JOBS (make -j, default nproc).
set -u

secs=${1:-60}
[ $# -gt 0 ] && shift
fuzzers=${*:-fuzz_packet fuzz_msg fuzz_ctl fuzz_config fuzz_quic}

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$here/build
obj=$build/obj
cc=${FUZZ_CC:-clang}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS [FUZZER...]]" >&2; exit 2 ;;
esac
if ! command -v "$cc" > /dev/null; then
	echo "fuzz: $cc not found (apt-get install clang)" >&2
	exit 2
fi

echo "== fuzz: building in $obj"
mkdir -p "$build/artifacts" || exit 2
if git -C "$top" rev-parse --git-dir > /dev/null 2>&1; then
	src=$build/tree
	mkdir -p "$src" || exit 2
	(cd "$top" && git ls-files --cached --others --exclude-standard |
	    while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done |
	    tar -cf - -T -) | tar -xf - -C "$src" || exit 2
	if [ ! -x "$src/configure" ]; then
		(cd "$src" && ./autogen.sh) > "$build/autogen.log" 2>&1 || {
			tail -20 "$build/autogen.log"
			echo "fuzz: autogen.sh failed" >&2; exit 1; }
	fi
else
	src=$top
fi

# The warnings are the project's, errors here: the harnesses build clean.
# Configured again when the compiler changes.
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
if [ ! -f "$obj/Makefile" ] ||
    [ "$(cat "$obj/run.sh.cc" 2> /dev/null)" != "$cc" ]; then
	rm -rf "$obj"
	mkdir -p "$obj" || exit 2
	(cd "$obj" && "$src/configure" CC="$cc" --enable-fuzz --disable-tests \
	    --enable-werror CFLAGS="-g -O1 $san" LDFLAGS="$san") \
	    > "$build/configure.log" 2>&1 || {
		tail -20 "$build/configure.log"
		echo "fuzz: configure failed (log $build/configure.log)" >&2
		exit 1; }
	printf '%s\n' "$cc" > "$obj/run.sh.cc"
fi
targets=
for fz in $fuzzers; do
	targets="$targets tests/fuzz/$fz"
done
# shellcheck disable=SC2086
make -C "$obj" -j"$jobs" $targets > "$build/make.log" 2>&1 || {
	tail -40 "$build/make.log"
	echo "fuzz: build failed (log $build/make.log)" >&2
	exit 1; }
for fz in $fuzzers; do
	ln -sf "obj/tests/fuzz/$fz" "$build/$fz" || exit 2
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

# lib/assert.sh (sourced by tests/netns/lib.sh): the checks and the waits.
# The pass/fail counters and ok / not_ok / check / finish / need / note;
# now_ms; is_num and stat_check (a counter of the last stats_snapshot
# against a value); wait_for (a pattern in a file), wait_until (a command
# succeeds), count_lines, check_alive (every ILB still runs), wait_logs
# (a pattern in every running ILB's log).

pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }

# check DESCRIPTION CMD...: the command must succeed.
check() {
	_desc=$1; shift
	if "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}

# finish: print the plain summary and exit non-zero on any failure.
finish() {
	echo "$(basename "$0"): $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# need REASON: a missing prerequisite is a failure, never a quiet skip
# (exit 99, which automake's test driver reports as ERROR).
need() { echo "$(basename "$0"): ERROR: $*" >&2; exit 99; }

note() { echo "# $*"; }

now_ms() { date +%s%3N; }

# is_num V: V is a non-negative integer.
is_num() { case $1 in ''|*[!0-9]*) return 1;; esac; }

# stat_check DESC KEY OP VALUE [I]: compare the counter (sum over ILBs, or
# ILB I's) with VALUE by test(1)'s OP; a missing key fails.
stat_check() {
	if [ -n "$5" ]; then _v=$(stat_of "$5" "$2"); else _v=$(stat_sum "$2"); fi
	if is_num "$_v" && test "$_v" "$3" "$4"; then
		ok "$1 ($2=$_v)"
	else
		not_ok "$1 ($2=${_v:-missing}, want $3 $4)"
	fi
}

# wait_for FILE PATTERN SECONDS: poll FILE until PATTERN (grep) appears.
wait_for() {
	_i=0
	while [ "$_i" -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds (0) or
# SECONDS have passed (1): for a state that the cluster reaches a moment
# after the step that causes it (a multicast NEW or END learnt, a copy
# batched to the backup), never a fixed sleep.
wait_until() {
	_wu_end=$(($(now_ms) + $1 * 1000)); shift
	until "$@"; do
		[ "$(now_ms)" -lt "$_wu_end" ] || return 1
		sleep 0.1
	done
}

# count_lines FILE PATTERN: lines of FILE matching PATTERN (0 if none).
count_lines() { grep -c "$2" "$1" 2>/dev/null || true; }

# check_alive: every ILB we started is still running.
check_alive() {
	for _j in $(seq 1 "$N_ILB"); do
		check "ilb$_j still running" ilb_alive "$_j"
	done
}

# wait_logs PATTERN MS: every running ILB's log matches PATTERN (grep),
# polled every 50 ms for at most MS ms.  WAIT_MS: the time it took; the
# ILBs still missing it are noted on failure.
wait_logs() {
	_t0=$(now_ms)
	while :; do
		_missing=
		for _j in $(seq 1 "$N_ILB"); do
			ilb_alive "$_j" || continue
			grep -q "$1" "$(ilb_log "$_j")" 2>/dev/null ||
			    _missing="$_missing ilb$_j"
		done
		WAIT_MS=$(($(now_ms) - _t0))
		[ -n "$_missing" ] || return 0
		[ "$WAIT_MS" -lt "$2" ] || break
		sleep 0.05
	done
	note "'$1' missing after $WAIT_MS ms in:$_missing"
	return 1
}

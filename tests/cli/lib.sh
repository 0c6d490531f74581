# lib.sh: helpers for the command-line tests (sourced, POSIX sh).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
ILBD="$top_builddir/src/ilbd"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ilbd-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }

# check DESCRIPTION CMD...: the command must succeed.
check() {
	desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# finish: print the plain summary and exit non-zero on any failure.
finish() {
	echo "$(basename "$0"): $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# A key file and a valid config that uses it.
mkkey() { head -c 32 /dev/urandom > "$TMP/cluster.key"; }

# example_conf OUT: etc/ilbd.conf with its key_file and state_dir pointed
# at $TMP (the daemon keeps its boot epoch there, not in /var/lib/ilbd).
example_conf() {
	mkkey
	sed -e "s|^\([[:space:]]*key_file[[:space:]]*=\).*|\1 \"$TMP/cluster.key\";|" \
	    -e "s|^\([[:space:]]*state_dir[[:space:]]*=\).*|\1 \"$TMP/state\";|" \
	    "$top_srcdir/etc/ilbd.conf" > "$1"
}

# wait_for FILE PATTERN SECONDS: poll FILE until PATTERN appears.
wait_for() {
	i=0
	while [ "$i" -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

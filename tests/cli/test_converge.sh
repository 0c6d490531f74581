#!/bin/sh
# test_converge.sh: tools/converge on handcrafted `ilbctl -j show
# connections` listings: a clean cluster, then each problem it reports.
. "$(dirname "$0")/lib.sh"

CONVERGE="$top_srcdir/tools/converge"
command -v python3 > /dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

A=192.0.2.11 B=192.0.2.12 C=192.0.2.13

# row CLIENT_PORT ROLE OWNER BACKUP [SERVER [STATE]]: one connection row.
row() {
	printf '{"client":"198.51.100.7:%s","vip":"198.51.100.10:80",' "$1"
	printf '"service":"web","server":"%s","role":"%s",' "${5:-192.0.2.21}" "$2"
	printf '"state":"%s","owner":%s,"backup":%s,"idle_s":0}' "${6:-established}" \
	    "$(q "$3")" "$(q "$4")"
}
q() { if [ "$1" = - ]; then echo null; else echo "\"$1\""; fi; }

# listing FILE TRUNCATED ROW...: a member's answer to show connections
# (KIND=cache listing ...: to show cache).
listing() {
	_f=$1; _t=$2; shift 2
	{
		printf '{"%s":[' "${KIND:-connections}"
		_sep=
		for _r in "$@"; do printf '%s%s' "$_sep" "$_r"; _sep=,; done
		printf '],"total":%d,"shown":%d,"limit":100,"truncated":%s,"enabled":true}\n' \
		    $# $# "$_t"
	} > "$_f"
}

# run NAME: converge over $TMP/NAME.{a,b,c}; sets rc and out.
run() {
	out=$("$CONVERGE" "$A=$TMP/$1.a" "$B=$TMP/$1.b" "$C=$TMP/$1.c" 2>&1); rc=$?
}

# expect NAME RC PATTERN: converge exits RC and prints PATTERN.
expect() {
	run "$1"
	if [ "$rc" -eq "$2" ] && printf '%s\n' "$out" | grep -q -- "$3"; then
		ok "$1: exit $2, \"$3\""
	else
		not_ok "$1: exit $2, \"$3\": got exit $rc:"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# clean: 1000 owned by A backed by B; 1001 owned by C backed by A
listing "$TMP/clean.a" false "$(row 1000 owner $A $B)" "$(row 1001 backup $C $A)"
listing "$TMP/clean.b" false "$(row 1000 backup $A $B)"
listing "$TMP/clean.c" false "$(row 1001 owner $C $A)"
expect clean 0 "2 connections on 3 members: clean"

listing "$TMP/noowner.a" false "$(row 1000 backup $B $A)"
listing "$TMP/noowner.b" false
listing "$TMP/noowner.c" false
expect noowner 1 "1000 -> 198.51.100.10:80: no owner"

listing "$TMP/twoowners.a" false "$(row 1000 owner $A $B)"
listing "$TMP/twoowners.b" false "$(row 1000 owner $A $B)"
listing "$TMP/twoowners.c" false
expect twoowners 1 "two owners: $A,$B"

listing "$TMP/nobackup.a" false "$(row 1000 owner $A $B)"
listing "$TMP/nobackup.b" false
listing "$TMP/nobackup.c" false
expect nobackup 1 "no backup (owner $A)"

listing "$TMP/twobackups.a" false "$(row 1000 owner $A $B)"
listing "$TMP/twobackups.b" false "$(row 1000 backup $A $B)"
listing "$TMP/twobackups.c" false "$(row 1000 backup $A $B)"
expect twobackups 1 "two backups: $B,$C"

listing "$TMP/servers.a" false "$(row 1000 owner $A $B 192.0.2.21)"
listing "$TMP/servers.b" false "$(row 1000 backup $A $B 192.0.2.22)"
listing "$TMP/servers.c" false
expect servers 1 "servers disagree"

listing "$TMP/holders.a" false "$(row 1000 owner $A $B)"
listing "$TMP/holders.b" false "$(row 1000 backup $A $C)"
listing "$TMP/holders.c" false
expect holders 1 "holders disagree"

# both name C backup, but B holds it as backup
listing "$TMP/names.a" false "$(row 1000 owner $A $C)"
listing "$TMP/names.b" false "$(row 1000 backup $A $C)"
listing "$TMP/names.c" false
expect names 1 "$B holds it as backup but names $A/$C"

# the backup named is a member not read (a dead one)
listing "$TMP/dead.a" false "$(row 1000 owner $A 192.0.2.14)" "$(row 1001 owner $A $B)"
listing "$TMP/dead.b" false "$(row 1001 backup $A $B)"
listing "$TMP/dead.c" false
expect dead 1 "holder 192.0.2.14 is not a member read"

listing "$TMP/trunc.a" true "$(row 1000 owner $A $B)"
listing "$TMP/trunc.b" false "$(row 1000 backup $A $B)"
listing "$TMP/trunc.c" false
expect trunc 1 "$A: connections listing truncated"

# the caches: a live connection only in caches has no owner; a closing one
# there is ending; a cached server must agree
listing "$TMP/cached.a" false "$(row 1000 owner $A $B)"
listing "$TMP/cached.b" false "$(row 1000 backup $A $B)"
listing "$TMP/cached.c" false
KIND=cache listing "$TMP/cache.a" false "$(row 1001 cache $B $C)" \
    "$(row 1002 cache $B $C 192.0.2.21 closing)"
KIND=cache listing "$TMP/cache.c" false "$(row 1000 cache $B $A)" "$(row 1001 cache $B $C)"
out=$("$CONVERGE" "$A=$TMP/cached.a" "$B=$TMP/cached.b" "$C=$TMP/cached.c" \
    "$A=$TMP/cache.a" "$C=$TMP/cache.c"); rc=$?
check "cache only: exit 1" [ "$rc" -eq 1 ]
check "cache only: no owner, only in the caches of $A,$C" \
    sh -c "printf '%s\n' \"\$1\" | grep -q '1001 -> 198.51.100.10:80: no owner: only in the caches of $A,$C'" sh "$out"
check "cache only: the closing one and the cached holders are not reported" \
    [ "$(printf '%s\n' "$out" | grep -c -e 1002 -e '1000 ->')" -eq 0 ]
KIND=cache listing "$TMP/cache2.c" false "$(row 1000 cache $A $B 192.0.2.23)"
out=$("$CONVERGE" "$A=$TMP/cached.a" "$B=$TMP/cached.b" "$C=$TMP/cached.c" \
    "$C=$TMP/cache2.c"); rc=$?
check "a cached server disagrees: exit 1" [ "$rc" -eq 1 ]
case $out in *"servers disagree"*"$C cache says 192.0.2.23"*) ok "cached server reported";;
*) not_ok "cached server reported: $out";; esac

# -S closing skips a half-expired closing entry
listing "$TMP/closing.a" false "$(row 1000 owner $A $B 192.0.2.21 closing)"
listing "$TMP/closing.b" false
listing "$TMP/closing.c" false
expect closing 1 "no backup (owner $A) (closing)"
out=$("$CONVERGE" -S closing "$A=$TMP/closing.a" "$B=$TMP/closing.b" "$C=$TMP/closing.c"); rc=$?
check "-S closing: clean" [ "$rc" -eq 0 ]

# one member: no backup is expected
out=$("$CONVERGE" "$A=$TMP/nobackup.b"); rc=$?
check "an empty listing of one member: clean" [ "$rc" -eq 0 ]

# usage and input errors: exit 2
"$CONVERGE" > /dev/null 2>&1; rc=$?
check "no argument: exit 2" [ "$rc" -eq 2 ]
"$CONVERGE" "$TMP/clean.a" > /dev/null 2>&1; rc=$?
check "no ID=: exit 2" [ "$rc" -eq 2 ]
"$CONVERGE" -x "$A=$TMP/clean.a" > /dev/null 2>&1; rc=$?
check "unknown option: exit 2" [ "$rc" -eq 2 ]
"$CONVERGE" "$A=$TMP/missing" > /dev/null 2>&1; rc=$?
check "missing file: exit 2" [ "$rc" -eq 2 ]
echo 'not json' > "$TMP/bad.json"
"$CONVERGE" "$A=$TMP/bad.json" > /dev/null 2>&1; rc=$?
check "not JSON: exit 2" [ "$rc" -eq 2 ]
echo '{"members":[]}' > "$TMP/other.json"
"$CONVERGE" "$A=$TMP/other.json" > /dev/null 2>&1; rc=$?
check "another command's JSON: exit 2" [ "$rc" -eq 2 ]
finish

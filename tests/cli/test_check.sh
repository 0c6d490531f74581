#!/bin/sh
# test_check.sh: ilbd -n, -V and usage from the command line.
. "$(dirname "$0")/lib.sh"

example_conf "$TMP/ilbd.conf"
out=$("$ILBD" -n -c "$TMP/ilbd.conf" 2>&1); rc=$?
check "example config passes ilbd -n" [ "$rc" -eq 0 ]
check "ilbd -n prints one summary line" [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]
case $out in *": ok: "*) ok "summary says ok";; *) not_ok "summary says ok: $out";; esac

"$ILBD" -n -v -c "$TMP/ilbd.conf" > "$TMP/dump.out" 2>&1
sed 1d "$TMP/dump.out" > "$TMP/dump.conf"
check "ilbd -n -v dump is itself a valid config" "$ILBD" -n -c "$TMP/dump.conf"
check "dump shows defaults" grep -q "syn_timeout_s" "$TMP/dump.conf"

printf 'node = { id = "192.0.2.1"; interface = "eth0"; };\nservices = (\n  { name = "a"; vip = "198.51.100.1"; port = 80; schedular = "rr";\n' > "$TMP/bad.conf"
printf '    servers = ( { address = "192.0.2.21"; } ); }\n);\ncluster = { authenticate = false; };\n' >> "$TMP/bad.conf"
out=$("$ILBD" -n -c "$TMP/bad.conf" 2>&1); rc=$?
check "a typo exits 1" [ "$rc" -eq 1 ]
case $out in "$TMP/bad.conf:3: "*schedular*) ok "typo reported with file and line";;
*) not_ok "typo reported with file and line: $out";; esac

out=$("$ILBD" -n -c "$TMP/missing.conf" 2>&1); rc=$?
check "a missing file exits 1" [ "$rc" -eq 1 ]
case $out in *"$TMP/missing.conf"*) ok "missing file named";; *) not_ok "missing file named: $out";; esac

out=$("$ILBD" -V); rc=$?
check "ilbd -V exits 0" [ "$rc" -eq 0 ]
case $out in "ilbd "[0-9]*) ok "version printed";; *) not_ok "version printed: $out";; esac

"$ILBD" -x > /dev/null 2>&1; rc=$?
check "an unknown option exits 1" [ "$rc" -eq 1 ]
"$ILBD" -n extra > /dev/null 2>&1; rc=$?
check "a stray argument exits 1" [ "$rc" -eq 1 ]
finish

#!/bin/sh
# test_daemon.sh: ilbd -f runs in the foreground, reloads on HUP (keeping
# the old configuration when the new one is broken) and exits on TERM;
# ilbctl show info tells its state, the file's digest and the last reload.
# It runs in a network namespace of its own (root), with a veth named eth0
# as in the example configuration, so its TUN device and routes stay there.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "test_daemon.sh: needs root (network namespace); run the suite as root" >&2
	exit 1
fi
NS=ilbt$$-d
ip netns add "$NS"
trap 'ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL; ip netns del "$NS"; rm -rf "$TMP"' EXIT
ip -n "$NS" link add eth0 type veth peer name eth0p
ip -n "$NS" addr add 192.0.2.11/24 dev eth0
ip -n "$NS" link set lo up
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth0p up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

example_conf "$TMP/ilbd.conf"
# ilbd gives up root for "nobody" (present everywhere); it must still read
# the configuration and key on reload.
sed -i 's/^\([[:space:]]*user[[:space:]]*=\).*/\1 "nobody";/' "$TMP/ilbd.conf"
# its own control socket (the default one may be another ilbd's)
sed -i "s|^\([[:space:]]*socket[[:space:]]*=\).*|\1 \"$TMP/ilbd.sock\";|" "$TMP/ilbd.conf"
ILBCTL="$top_builddir/src/ilbctl"
ctl() { timeout 10 "$ILBCTL" -s "$TMP/ilbd.sock" "$@"; }
# info_is KEY VALUE: show info -j has KEY (a path into the object: a.b)
# equal to VALUE (compared as JSON text: "x", true, 3).
info_is() {
	ctl -j show info > "$TMP/info.json" || return 1
	python3 - "$TMP/info.json" "$1" "$2" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k] if v is not None else None
got = json.dumps(v)
if got != sys.argv[3]:
    print("# %s: got %s, want %s" % (sys.argv[2], got, sys.argv[3]))
sys.exit(0 if got == sys.argv[3] else 1)
EOF
}
info_text_ok() {
	ctl show info > "$TMP/info.txt" &&
	    grep -q '^version  *[0-9]' "$TMP/info.txt" &&
	    grep -q '^state  *active' "$TMP/info.txt" &&
	    grep -q '^last reload  *never' "$TMP/info.txt"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
chmod 755 "$TMP"
chmod 644 "$TMP/ilbd.conf" "$TMP/cluster.key"
ip netns exec "$NS" "$ILBD" -f -c "$TMP/ilbd.conf" > "$TMP/log" 2>&1 &
pid=$!
check "started message logged" wait_for "$TMP/log" "started (pid $pid)" 60
check "the pid we started is ilbd itself (no fork)" kill -0 "$pid"
check "the TUN device is up" ip -n "$NS" link show ilb0 up
check "the IPv4 VIP is routed into it" sh -c "ip -n $NS route show 198.51.100.10 | grep -q ilb0"
check "the IPv6 VIP is routed into it" sh -c "ip -n $NS -6 route show 2001:db8:100::10 | grep -q ilb0"
check "runs as nobody after set-up" sh -c "grep -q '^Uid:[[:space:]]*65534' /proc/$pid/status"
check "keeps only CAP_NET_ADMIN and CAP_NET_RAW" sh -c "grep -q '^CapEff:[[:space:]]*0000000000003000' /proc/$pid/status"
check "says so in the log" grep -q "running as user nobody" "$TMP/log"
kill -USR1 "$pid"
check "SIGUSR1 logs the counters" wait_for "$TMP/log" "^stats: rx=" 60

check "ilbctl -h prints the usage on stdout, exit 0" sh -c "'$ILBCTL' -h | grep -q '^usage: ilbctl'"
check "ilbctl --help likewise" sh -c "'$ILBCTL' --help | grep -q '^usage: ilbctl'"
check "ilbctl -V prints the version" sh -c "'$ILBCTL' -V | grep -q '^ilbctl [0-9]'"
ctl show connections limit -5 > "$TMP/lim" 2>&1; rc=$?
check "ilbctl show connections limit -5: an operand, not an option ($(cat "$TMP/lim"))" \
    sh -c "[ $rc -eq 1 ] && grep -q 'limit N must be 1..' '$TMP/lim'"
i=0
until info_is state '"active"' > /dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
check "show info: text with version, state, never reloaded" info_text_ok
sed 's/^/#   /' "$TMP/info.txt"
check "show info: config file" info_is config_file "\"$TMP/ilbd.conf\""
check "show info: config sha256 is the file's" info_is config_sha256 "\"$(sha "$TMP/ilbd.conf")\""
check "show info: id" info_is id '"192.0.2.11"'
check "show info: never reloaded" info_is last_reload null

cp "$TMP/ilbd.conf" "$TMP/good.conf"
echo 'tables = { ltoc_size = 1; };' >> "$TMP/ilbd.conf"
kill -HUP "$pid"
check "broken reload is refused" wait_for "$TMP/log" "reload failed, keeping" 60
check "the reason names file and line" \
    grep -q "reload failed, keeping the running configuration: $TMP/ilbd.conf:[0-9]" "$TMP/log"
check "still running after a bad reload" kill -0 "$pid"

sed 's/weight = 2;/weight = 3;/' "$TMP/good.conf" > "$TMP/ilbd.conf"
kill -HUP "$pid"
check "good reload is applied" wait_for "$TMP/log" "configuration reloaded" 60
check "show info: the reload by HUP is ok" info_is last_reload.ok true
check "show info: the new file's sha256" info_is config_sha256 "\"$(sha "$TMP/ilbd.conf")\""
cp "$TMP/ilbd.conf" "$TMP/good3.conf"
echo 'tables = { ltoc_size = 1; };' >> "$TMP/ilbd.conf"
ctl reload > "$TMP/rl" 2>&1; rc=$?
check "ilbctl reload of a broken file exits 1 ($(head -n 1 "$TMP/rl"))" [ "$rc" -eq 1 ]
check "show info: that reload failed" info_is last_reload.ok false
check "show info: ... with the file and line" \
    grep -q "\"result\":\"reload failed, keeping the running configuration: $TMP/ilbd.conf:[0-9]" "$TMP/info.json"
check "show info: ... and the digest of the running file" info_is config_sha256 "\"$(sha "$TMP/good3.conf")\""
check "show info: 2 reloads, 1 failed" \
    sh -c "grep -q '\"reloads\":2,\"reload_failures\":1,' '$TMP/info.json'"
ctl show info | sed 's/^/#   /'

sed 's/id = "192.0.2.11"/id = "192.0.2.99"/' "$TMP/good.conf" > "$TMP/ilbd.conf"
kill -HUP "$pid"
check "changing node.id is refused" wait_for "$TMP/log" "node.id cannot change" 60

kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$pid" 2>/dev/null; then
	not_ok "exits on TERM"
	kill -KILL "$pid"
else
	ok "exits on TERM"
fi
wait "$pid"; rc=$?
check "exit status 0 after TERM" [ "$rc" -eq 0 ]
check "stop logged" grep -q "ilbd stopped" "$TMP/log"
check "the VIP routes are gone" sh -c "! ip -n $NS route show | grep -q 198.51.100.10"
check "the TUN device is gone" sh -c "! ip -n $NS link show ilb0 2>/dev/null"
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=0
ip netns exec "$NS" "$ILBD" -f -c "$TMP/good.conf" > "$TMP/log2" 2>&1; rc=$?
check "forwarding off: exit 1" [ "$rc" -eq 1 ]
check "forwarding off: says so" grep -q "forwarding is disabled" "$TMP/log2"
finish

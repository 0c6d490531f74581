#!/bin/sh
# test_daemon.sh: ilbd -f runs in the foreground, reloads on HUP and by
# ilbctl (keeping the old configuration when the new one is broken or the
# key unreadable, and ilbctl then fails) and exits on TERM. It tells
# systemd READY, STATUS, RELOADING and STOPPING (a fake NOTIFY_SOCKET that
# a script reads), creates its control socket's directory, and prefixes
# its lines with "<N>" priorities when stderr is the journal.
# ilbctl show info tells its state, the file's digest and the last reload;
# ilbctl -h, -V, and options only before the command.
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
# The control socket in a directory that does not exist yet: ilbd creates
# it, as /run/ilbd outside systemd (RuntimeDirectory=ilbd under it).
sed -i "s|^\([[:space:]]*socket[[:space:]]*=\).*|\1 \"$TMP/run/ilbd.sock\";|" "$TMP/ilbd.conf"
chmod 755 "$TMP"
chmod 644 "$TMP/ilbd.conf" "$TMP/cluster.key"
ILBCTL="$top_builddir/src/ilbctl"
ctl() { timeout 10 "$ILBCTL" -s "$TMP/run/ilbd.sock" "$@"; }
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

# A stand-in for systemd's notification socket: one line per datagram,
# "|" for newlines, for at most 300 s.
python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
s.settimeout(1)
end = time.monotonic() + 300
with open(sys.argv[2], "a") as out:
    while time.monotonic() < end:
        try:
            m = s.recv(4096)
        except socket.timeout:
            continue
        out.write(m.decode(errors="replace").replace("\n", "|") + "\n")
        out.flush()
' "$TMP/notify.sock" "$TMP/notify" &
notifier=$!
trap 'kill $notifier 2>/dev/null; ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL; ip netns del "$NS"; rm -rf "$TMP"' EXIT
i=0
while [ ! -S "$TMP/notify.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
: > "$TMP/notify"
# Configured with libsystemd (found, or --with-systemd): notifications due.
if grep -q "DHAVE_LIBSYSTEMD=1" "$top_builddir/Makefile"; then notify=1; else notify=0; fi
# check_notify DESC PATTERN: a notification matching PATTERN came (60 s).
check_notify() {
	if [ "$notify" -eq 0 ]; then
		ok "$1 # SKIP ilbd built without libsystemd (configure --without-systemd)"
		return
	fi
	check "$1" wait_for "$TMP/notify" "$2" 60
}

ip netns exec "$NS" env NOTIFY_SOCKET="$TMP/notify.sock" "$ILBD" -f -c "$TMP/ilbd.conf" > "$TMP/log" 2>&1 &
pid=$!
check "started message logged" wait_for "$TMP/log" "started (pid $pid)" 60
check "the pid we started is ilbd itself (no fork)" kill -0 "$pid"
check "the TUN device is up" ip -n "$NS" link show ilb0 up
check "the IPv4 VIP is routed into it" sh -c "ip -n $NS route show 198.51.100.10 | grep -q ilb0"
check "the IPv6 VIP is routed into it" sh -c "ip -n $NS -6 route show 2001:db8:100::10 | grep -q ilb0"
check "runs as nobody after set-up" sh -c "grep -q '^Uid:[[:space:]]*65534' /proc/$pid/status"
check "keeps only CAP_NET_ADMIN and CAP_NET_RAW" sh -c "grep -q '^CapEff:[[:space:]]*0000000000003000' /proc/$pid/status"
check "says so in the log" grep -q "running as user nobody" "$TMP/log"
check "created the control socket's directory" test -S "$TMP/run/ilbd.sock"
check_notify "READY=1 with STATUS: state and members" \
    '^READY=1|STATUS=[a-z]*; members: [0-9]* active, [0-9]* joining$'
check_notify "STATUS once the member is active" \
    '^STATUS=active; members: 1 active, 0 joining$'
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
check_notify "RELOADING=1 around the reload" '^RELOADING=1|MONOTONIC_USEC=[0-9]*$'
if [ "$notify" -eq 1 ]; then
	check "READY=1 again after each reload (two so far)" sh -c "[ \$(grep -c '^READY=1|' '$TMP/notify') -ge 3 ]"
fi
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
check "show info: 3 reloads (two by HUP), 2 failed" \
    sh -c "grep -q '\"reloads\":3,\"reload_failures\":2,' '$TMP/info.json'"
ctl show info | sed 's/^/#   /'
cp "$TMP/good3.conf" "$TMP/ilbd.conf"

# ilbctl reload (ExecReload= in the unit) reports the daemon's result.
"$ILBCTL" -s "$TMP/run/ilbd.sock" reload > "$TMP/ctl.out" 2>&1; rc=$?
check "ilbctl reload: exit 0 on success" [ "$rc" -eq 0 ]
echo 'tables = { ltoc_size = 1; };' >> "$TMP/ilbd.conf"
"$ILBCTL" -s "$TMP/run/ilbd.sock" reload > "$TMP/ctl.out" 2>&1; rc=$?
check "ilbctl reload of a broken file: exit non-zero" [ "$rc" -ne 0 ]
check "ilbctl reload says why" grep -q "reload failed, keeping the running configuration: $TMP/ilbd.conf:[0-9]" "$TMP/ctl.out"
cp "$TMP/good.conf" "$TMP/ilbd.conf"
# The key rule (0640 root:node.user's group): a key that node.user cannot
# read fails the reload, which keeps the running configuration and says so.
chmod 600 "$TMP/cluster.key"
"$ILBCTL" -s "$TMP/run/ilbd.sock" reload > "$TMP/ctl.out" 2>&1; rc=$?
check "unreadable key: ilbctl reload exits non-zero" [ "$rc" -ne 0 ]
check "unreadable key: says the key must be readable by node.user" \
    grep -q "cannot read key_file \"$TMP/cluster.key\": Permission denied; it must be readable by node.user \"nobody\"" "$TMP/ctl.out"
check "unreadable key: the log says it too" grep -q "reload failed, keeping.*Permission denied" "$TMP/log"
check "still running after it" kill -0 "$pid"
chmod 644 "$TMP/cluster.key"

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
check_notify "STOPPING=1 when the leave starts" '^STOPPING=1|STATUS=leaving'
check "the VIP routes are gone" sh -c "! ip -n $NS route show | grep -q 198.51.100.10"
check "the TUN device is gone" sh -c "! ip -n $NS link show ilb0 2>/dev/null"
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=0
# stderr is "the journal" (JOURNAL_STREAM names log2): "<N>" priorities.
: > "$TMP/log2"
js=$(stat -c %d:%i "$TMP/log2")
ip netns exec "$NS" env JOURNAL_STREAM="$js" "$ILBD" -f -c "$TMP/good.conf" >> "$TMP/log2" 2>&1; rc=$?
check "forwarding off: exit 1" [ "$rc" -eq 1 ]
check "forwarding off: says so" grep -q "forwarding is disabled" "$TMP/log2"
check "journal: the fatal error at priority 2 (crit)" grep -q "^<2>.*forwarding is disabled" "$TMP/log2"
check "journal: every line has a priority" sh -c "! grep -qv '^<[0-7]>' '$TMP/log2'"
[ "$fail" -eq 0 ] || sed "s/^/notify: /" "$TMP/notify"
finish

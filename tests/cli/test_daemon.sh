#!/bin/sh
# test_daemon.sh: ilbd -f runs in the foreground, reloads on HUP (keeping
# the old configuration when the new one is broken) and exits on TERM.
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

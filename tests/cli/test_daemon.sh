#!/bin/sh
# test_daemon.sh: ilbd -f runs in the foreground, reloads on HUP (keeping
# the old configuration when the new one is broken) and exits on TERM.
. "$(dirname "$0")/lib.sh"

example_conf "$TMP/ilbd.conf"
"$ILBD" -f -c "$TMP/ilbd.conf" > "$TMP/log" 2>&1 &
pid=$!
check "started message logged" wait_for "$TMP/log" "started (pid $pid)" 5
check "the pid we started is ilbd itself (no fork)" kill -0 "$pid"

cp "$TMP/ilbd.conf" "$TMP/good.conf"
echo 'tables = { ltoc_size = 1; };' >> "$TMP/ilbd.conf"
kill -HUP "$pid"
check "broken reload is refused" wait_for "$TMP/log" "reload failed, keeping" 5
check "the reason names file and line" \
    grep -q "reload failed, keeping the running configuration: $TMP/ilbd.conf:[0-9]" "$TMP/log"
check "still running after a bad reload" kill -0 "$pid"

sed 's/weight = 2;/weight = 3;/' "$TMP/good.conf" > "$TMP/ilbd.conf"
kill -HUP "$pid"
check "good reload is applied" wait_for "$TMP/log" "configuration reloaded" 5

sed 's/id = "192.0.2.11"/id = "192.0.2.99"/' "$TMP/good.conf" > "$TMP/ilbd.conf"
kill -HUP "$pid"
check "changing node.id is refused" wait_for "$TMP/log" "node.id cannot change" 5

kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$pid" 2>/dev/null; then
	not_ok "exits on TERM"
	kill -KILL "$pid"
else
	ok "exits on TERM"
fi
wait "$pid"; rc=$?
check "exit status 0 after TERM" [ "$rc" -eq 0 ]
check "stop logged" grep -q "ilbd stopped" "$TMP/log"
finish

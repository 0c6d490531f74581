#!/bin/sh
# test_monitor.sh: ilbctl monitor on three running ILBs. A JSON monitor
# on ilb1's control socket and a text one on its read-only socket
# (control.socket_ro) must each get, as a line, the death of ilb3
# (member-dead) and its return (member-join), ilb2's graceful leave
# (member-leave, then member-dead was=leaving), a cluster-wide drain (server-drain), a local weight, a
# reload that works and one that fails (reload result=ok|failed with the
# reason), and srv1's health going down and up again. On the
# read-only socket show works and a command that changes something is
# refused ("permission denied: read-only socket"); the socket is 0666.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

MON_JSON=
MON_TEXT=
HEALTH="{ check = \"tcp\"; interval_ms = 300; timeout_ms = 300; rise = 2;"
HEALTH="$HEALTH fall = 2; }"
SRV1=$(srv_addr 1)

# ilb_conf_ro I: add control.socket_ro = $NETNS_DIR/ilbI.ro.sock.
ilb_conf_ro() {
	_f=$NETNS_DIR/ilb$1.conf
	sed -i "s|^\(  socket = \".*\";\)\$|\1\n  socket_ro = \"$NETNS_DIR/ilb$1.ro.sock\";|" \
	    "$_f" && grep -qF "socket_ro = \"$NETNS_DIR/ilb$1.ro.sock\";" "$_f"
}

# sockets_there: every ILB's two control sockets exist.
sockets_there() {
	for _j in $(seq 1 "$N_ILB"); do
		[ -S "$NETNS_DIR/ilb$_j.sock" ] &&
		    [ -S "$NETNS_DIR/ilb$_j.ro.sock" ] || return 1
	done
}

# monitor_start VAR FILE SOCKET ARGS...: ilbctl -s SOCKET monitor ARGS in
# ilb1's namespace (so that topo_down stops it too), output in FILE, its
# pid in VAR.
monitor_start() {
	_var=$1; _out=$2; _sock=$3; shift 3
	ip netns exec "$(ns_ilb 1)" "$ILBCTL" -s "$_sock" monitor "$@" \
	    > "$_out" 2> "$_out.err" &
	eval "$_var=\$!"
	echo "$!" >> "$NETNS_DIR/pids"
}

# json_event FILE EVENT KEY=VALUE...: a line of FILE is a JSON object
# whose "event" is EVENT, with those members (as strings), and a time.
json_event() {
	"$PYTHON" - "$@" <<'EOF'
import json, re, sys
path, event, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
want = dict(p.split("=", 1) for p in pairs)
for line in open(path, encoding="utf-8", errors="replace"):
    try:
        x = json.loads(line)
    except ValueError:
        continue
    if x.get("event") != event:
        continue
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", x.get("time", "")):
        continue
    if all(str(x.get(k)) == v for k, v in want.items()):
        sys.exit(0)
sys.exit(1)
EOF
}

# event_after N FILE EVENT KEY=VALUE...: json_event on FILE's lines after
# its first N.
event_after() {
	_n=$1; _f=$2; shift 2
	tail -n "+$((_n + 1))" "$_f" > "$_f.after" && json_event "$_f.after" "$@"
}

# text_after N FILE PATTERN: a line of FILE after its first N matches.
text_after() { tail -n "+$(($1 + 1))" "$2" | grep -q "$3"; }

# every_line_json FILE: each line of FILE parses as a JSON object.
every_line_json() {
	"$PYTHON" - "$1" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    json.loads(line)
    n += 1
print("# %d JSON lines" % n)
sys.exit(0 if n > 0 else 1)
EOF
}

# quiet CMD...: CMD with its output in $NETNS_DIR/quiet.
quiet() { "$@" > "$NETNS_DIR/quiet" 2>&1; }

# conf_ro I: ilb_conf (tun, dsr), TCP health checks, control.socket_ro.
conf_ro() {
	ilb_conf "$1" tun dsr && ilb_conf_health "$1" "$HEALTH" &&
	    ilb_conf_ro "$1"
}

# srv1_start: srv1's HTTP server again; waits until it answers.
srv1_start() {
	bg "$(ns_srv 1)" "$NETNS_DIR/srv1.log" "$PYTHON" "$NETNS_SRC/httpd.py" \
	    srv1 "$VIP_PORT"
	SRV_PID_1=$BG_PID
	wait_until 60 nsx "$(ns_srv 1)" curl -s -o /dev/null --max-time 1 \
	    "http://127.0.0.1:$VIP_PORT/"
}

# not_drained I ADDR: show servers -j on ILB I: ADDR is not drained.
not_drained() {
	ctl "$1" -j show servers > "$NETNS_DIR/servers.json" &&
	    "$PYTHON" - "$NETNS_DIR/servers.json" "$2" <<'EOF'
import json, sys
s = [x for x in json.load(open(sys.argv[1]))["servers"]
     if x["address"] == sys.argv[2]]
sys.exit(0 if s and not any(x["drained"] for x in s) else 1)
EOF
}

# refused RC FILE: exit status 1 and the read-only refusal.
refused() { [ "$1" -eq 1 ] && grep -q "permission denied: read-only socket" "$2"; }

require_ilbd
netns_setup
[ -x "$ILBCTL" ] || need "no $ILBCTL (build src/ilbctl)"

check "topology up" topo_up
check "servers answer" start_servers
for i in $(seq 1 "$N_ILB"); do
	check "ilb$i: configured with control.socket_ro" conf_ro "$i"
	check "ilb$i starts" start_ilb "$i"
done
check "each ILB log shows the two others joined" wait_members 60
check "every ILB listens on control.socket and control.socket_ro" \
    wait_until 10 sockets_there
if [ "$fail" -ne 0 ]; then show_logs 2>/dev/null; finish; exit 1; fi
RO=$NETNS_DIR/ilb1.ro.sock
RW=$NETNS_DIR/ilb1.sock
check "the read-only socket is mode 0666 ($(stat -c %a "$RO"))" \
    [ "$(stat -c %a "$RO")" = 666 ]
check "the read-write socket stays 0660 ($(stat -c %a "$RW"))" \
    [ "$(stat -c %a "$RW")" = 660 ]
"$ILBD" -n -v -c "$NETNS_DIR/ilb1.conf" > "$NETNS_DIR/dump" 2>&1
check "ilbd -n -v dumps control.socket_ro" \
    grep -qF "socket_ro = \"$RO\";" "$NETNS_DIR/dump"

# the read-only socket: show yes, changes no
check "read-only socket: show members answers" \
    sh -c "timeout 10 '$ILBCTL' -s '$RO' show members | grep -q active"
check "read-only socket: show servers -j answers" \
    sh -c "timeout 10 '$ILBCTL' -s '$RO' -j show servers > /dev/null"
for c in "server drain web 192.0.2.21" "server weight web 192.0.2.21 3 local" \
    "reload" "leave"; do
	# shellcheck disable=SC2086 # the words of the command
	timeout 10 "$ILBCTL" -s "$RO" $c > "$NETNS_DIR/ro.err" 2>&1
	rc=$?
	check "read-only socket: $c refused ($(cat "$NETNS_DIR/ro.err"))" \
	    refused "$rc" "$NETNS_DIR/ro.err"
done
check "ilb1 still runs (leave was refused)" ilb_alive 1
check "192.0.2.21 not drained by the refused command" not_drained 1 192.0.2.21

monitor_start MON_JSON "$NETNS_DIR/mon.json" "$RW" json
monitor_start MON_TEXT "$NETNS_DIR/mon.txt" "$RO"
check "json monitor (control.socket) subscribed" \
    wait_for "$NETNS_DIR/mon.json" '"event":"monitor-start","format":"json"' 10
check "text monitor (control.socket_ro) subscribed" \
    wait_for "$NETNS_DIR/mon.txt" ' monitor-start format=text socket=read-only' 10

note "kill -9 ilb3"
kill_ilb 3
ID3=$(ilb_id 3)
check "json: member-dead id=$ID3" \
    wait_until 30 json_event "$NETNS_DIR/mon.json" member-dead "id=$ID3" \
    "addr=$(ilb_addr 3)" was=active
check "text: member-dead id=$ID3" \
    wait_for "$NETNS_DIR/mon.txt" "Z member-dead id=$ID3 addr=$(ilb_addr 3) was=active\$" 10
check "ilb3 starts again" start_ilb 3
check "json: member-join id=$ID3" \
    wait_until 30 json_event "$NETNS_DIR/mon.json" member-join "id=$ID3" \
    "addr=$(ilb_addr 3)"

check "server drain web 192.0.2.22 (cluster-wide) answers" \
    quiet ctl 1 server drain web 192.0.2.22
check "json: server-drain service=web server=192.0.2.22 scope=cluster" \
    wait_until 10 json_event "$NETNS_DIR/mon.json" server-drain service=web \
    server=192.0.2.22 scope=cluster
check "text: server-drain" \
    wait_for "$NETNS_DIR/mon.txt" 'Z server-drain service=web server=192\.0\.2\.22 scope=cluster$' 10
check "server weight web 192.0.2.23 4 local answers" \
    quiet ctl 1 server weight web 192.0.2.23 4 local
check "json: server-weight weight=4 scope=local" \
    wait_until 10 json_event "$NETNS_DIR/mon.json" server-weight \
    server=192.0.2.23 weight=4 scope=local

# a cluster-wide change made on another member reaches ilb1's monitor
check "ilb2: server drain web 192.0.2.21 (cluster-wide) answers" \
    quiet ctl 2 server drain web 192.0.2.21
check "json on ilb1: server-drain server=192.0.2.21 from ilb2 (scope=cluster)" \
    wait_until 10 json_event "$NETNS_DIR/mon.json" server-drain service=web \
    server=192.0.2.21 scope=cluster
check "ilb2: server enable web 192.0.2.21 answers" \
    quiet ctl 2 server enable web 192.0.2.21
check "json on ilb1: server-enable server=192.0.2.21 from ilb2" \
    wait_until 10 json_event "$NETNS_DIR/mon.json" server-enable service=web \
    server=192.0.2.21 scope=cluster

check "ilbctl reload succeeds" quiet ctl 1 reload
check "json: reload result=ok" \
    wait_until 10 json_event "$NETNS_DIR/mon.json" reload result=ok
check "text: reload result=ok" \
    wait_for "$NETNS_DIR/mon.txt" 'Z reload result=ok message="configuration reloaded' 10
cp "$NETNS_DIR/ilb1.conf" "$NETNS_DIR/ilb1.conf.good"
echo "bogus = ;" >> "$NETNS_DIR/ilb1.conf"
ctl 1 reload > "$NETNS_DIR/reload.err" 2>&1
rc=$?
check "ilbctl reload of a broken file fails ($(cat "$NETNS_DIR/reload.err"))" \
    [ "$rc" -eq 1 ]
cp "$NETNS_DIR/ilb1.conf.good" "$NETNS_DIR/ilb1.conf"
check "json: reload result=failed with the file:line reason" \
    wait_until 10 sh -c "grep '\"event\":\"reload\",\"result\":\"failed\"' \
    '$NETNS_DIR/mon.json' | grep -q 'ilb1.conf:[0-9]'"
check "text: reload result=failed reason=\"...\"" \
    wait_for "$NETNS_DIR/mon.txt" 'Z reload result=failed reason="reload failed' 10
# health: only what comes after srv1's stop counts
NJ=$(wc -l < "$NETNS_DIR/mon.json")
NT=$(wc -l < "$NETNS_DIR/mon.txt")
note "stop srv1's httpd (pid $SRV_PID_1)"
pid_stop "$SRV_PID_1"
check "json: server-down service=web server=$SRV1 (health check)" \
    wait_until 30 event_after "$NJ" "$NETNS_DIR/mon.json" server-down \
    service=web "server=$SRV1"
check "text: server-down" wait_until 10 text_after "$NT" \
    "$NETNS_DIR/mon.txt" "Z server-down service=web server=$SRV1\$"
NJ=$(wc -l < "$NETNS_DIR/mon.json")
NT=$(wc -l < "$NETNS_DIR/mon.txt")
check "srv1's httpd restarts" srv1_start
check "json: server-up service=web server=$SRV1" \
    wait_until 30 event_after "$NJ" "$NETNS_DIR/mon.json" server-up \
    service=web "server=$SRV1"
check "text: server-up" wait_until 10 text_after "$NT" \
    "$NETNS_DIR/mon.txt" "Z server-up service=web server=$SRV1\$"
ID2=$(ilb_id 2)
note "ilb2 leaves gracefully (SIGTERM)"
stop_ilb 2
check "json: member-leave id=$ID2" \
    wait_until 30 json_event "$NETNS_DIR/mon.json" member-leave "id=$ID2"
check "json: then member-dead id=$ID2 was=leaving" \
    wait_until 30 json_event "$NETNS_DIR/mon.json" member-dead "id=$ID2" \
    was=leaving
check "text: member-leave id=$ID2" \
    wait_for "$NETNS_DIR/mon.txt" "Z member-leave id=$ID2 addr=" 10
check "every line of the json monitor is a JSON object" \
    every_line_json "$NETNS_DIR/mon.json"
check "both monitors still run" \
    sh -c "kill -0 $MON_JSON && kill -0 $MON_TEXT"
note "json monitor:"
sed 's/^/#   /' "$NETNS_DIR/mon.json"
note "text monitor:"
sed 's/^/#   /' "$NETNS_DIR/mon.txt"

kill -TERM "$MON_JSON" "$MON_TEXT" 2>/dev/null
wait "$MON_JSON" "$MON_TEXT" 2>/dev/null
check "ilb1 still runs after its monitors went away" ilb_alive 1
check "ilb1 still answers show info" quiet ctl 1 show info
finish

#!/bin/sh
# test_health_udp.sh: UDP health checks (issue 22).  Two ILBs (tun, dsr,
# rr) with a UDP service "echo" on port 7000, check = "udp": every
# HC_INTERVAL ms a datagram "ping" to each server, which must answer with
# "ping srv" in it.  Every server runs udp_echo.py, which answers
# "<first line> <NAME>": srv1 and srv2 are named srv1 and srv2, srv3 is
# named bad3 and so answers "ping bad3", the wrong text.
#  1. srv1 and srv2 are up at their first good check; srv3 stays down
#     (show servers, its last check "wrong answer"); new flows
#     (udp_flows.py, one datagram each from its own source port) reach
#     srv1 and srv2 only.
#  2. srv2's echo stopped: its port answers ICMP port unreachable, every
#     ILB takes it down after fall checks ("Connection refused"), the
#     health failures counter moves, new flows reach srv1 only.
#  3. srv2's echo started again: up after rise checks, new flows reach it.
# shellcheck source=tests/netns/lib.sh
N_ILB=${N_ILB:-2}
. "$(dirname "$0")/lib.sh"

ECHO_PORT=7000
HC_INTERVAL=300
HC_TIMEOUT=250
HC_RISE=2
HC_FALL=2
HEALTH="{ check = \"udp\"; send = \"ping\"; expect = \"ping srv\";"
HEALTH="$HEALTH interval_ms = $HC_INTERVAL; timeout_ms = $HC_TIMEOUT;"
HEALTH="$HEALTH rise = $HC_RISE; fall = $HC_FALL; }"
FLOWS=${FLOWS:-60}
: "${ILB_SCHEDULER:=rr}"
export ILB_SCHEDULER

srv_re() { echo "service echo: server $(srv_addr "$1" | sed 's/\./\\./g')"; }

# echo_name I: the name server I's echo answers with.
echo_name() { if [ "$1" -eq 3 ]; then echo bad3; else echo "srv$1"; fi; }

# udp_service I: add the UDP service "echo" to ilbI.conf (the last line
# of the file closes the services list).
udp_service() {
	ilb_conf_udp "$1" echo "$ECHO_PORT" "    health = $HEALTH;"
}

# start_ilbs: configure and start every ILB.
start_ilbs() {
	for _j in $(seq 1 "$N_ILB"); do
		ilb_conf "$_j" tun dsr && udp_service "$_j" &&
		    start_ilb "$_j" || return 1
	done
}

# echo_answers I: udp_echo.py in server I answers on its own address.
echo_answers() {
	nsx "$(ns_srv "$1")" "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.sendto(b"ping", (sys.argv[1], int(sys.argv[2])))
sys.exit(0 if s.recv(512) == b"ping " + sys.argv[3].encode() else 1)' \
	    "$(srv_addr "$1")" "$ECHO_PORT" "$(echo_name "$1")" 2>/dev/null
}

# start_echo I: udp_echo.py on ECHO_PORT in server I, its pid in echoI.pid.
start_echo() {
	bg "$(ns_srv "$1")" "$NETNS_DIR/echo$1.log" "$PYTHON" \
	    "$NETNS_LIB/udp_echo.py" -d "$HANG_S" "$(echo_name "$1")" \
	    "$ECHO_PORT"
	echo "$BG_PID" > "$NETNS_DIR/echo$1.pid"
	wait_until 30 echo_answers "$1"
}

# stop_echo I: TERM server I's udp_echo.py, wait for it.
stop_echo() {
	_p=$(cat "$NETNS_DIR/echo$1.pid")
	pid_stop "$_p"
	! kill -0 "$_p" 2>/dev/null
}

# server_line I SRV: srvSRV's line for "echo" in ILB I's show servers;
# server_state I SRV: its HEALTH column.
server_line() {
	ctl "$1" show servers |
	    awk -v a="$(srv_addr "$2")" '$1 == "echo" && $2 == a'
}
server_state() { server_line "$1" "$2" | awk '{ print $3 }'; }

# state_everywhere SRV STATE: every ILB shows srvSRV as STATE.
state_everywhere() {
	for _j in $(seq 1 "$N_ILB"); do
		[ "$(server_state "$_j" "$1")" = "$2" ] || return 1
	done
}

# check_everywhere SRV TEXT: every ILB's line for srvSRV ends with TEXT
# (its LAST_CHECK column).
check_everywhere() {
	for _j in $(seq 1 "$N_ILB"); do
		server_line "$_j" "$1" | grep -q " $2\$" || return 1
	done
}

# both_up: srv1 and srv2 up on every ILB.
both_up() { state_everywhere 1 up && state_everywhere 2 up; }

# srv3_wrong: srv3 down on every ILB, its last check a wrong answer.
srv3_wrong() {
	state_everywhere 3 down &&
	    check_everywhere 3 "wrong answer: expect not found"
}

# run_flows TAG: FLOWS new flows, one datagram each, from the client;
# FLOWS_OUT the summary line.  flows_to NAME: flows NAME answered.
run_flows() {
	nsx "$NS_CLIENT" "$PYTHON" "$NETNS_LIB/udp_flows.py" -n "$FLOWS" \
	    -c 1 -i 200 -d 10 -t 2 -o "$NETNS_DIR/flows$1.json" \
	    "$VIP" "$ECHO_PORT" > "$NETNS_DIR/flows$1.out" 2>&1
	FLOWS_RC=$?
	FLOWS_OUT=$(grep '^udp_flows: ' "$NETNS_DIR/flows$1.out" | tail -n 1)
	note "$FLOWS_OUT"
}
flows_to() {
	_n=$(echo "$FLOWS_OUT" | grep -o " $1=[0-9]*" | cut -d= -f2)
	echo "${_n:-0}"
}
# flows_both: srv1 and srv2 took flows.
flows_both() { [ "$(flows_to srv1)" -gt 0 ] && [ "$(flows_to srv2)" -gt 0 ]; }
# srv3_never_up: no ILB logged srv3 up.
srv3_never_up() {
	for _j in $(seq 1 "$N_ILB"); do
		[ "$(count_lines "$(ilb_log "$_j")" "$(srv_re 3) is up")" -eq 0 ] ||
		    return 1
	done
}

require_ilbd
netns_setup
check "topology up" topo_up
for s in $(seq 1 "$N_SRV"); do
	check "udp_echo.py in srv$s answers as $(echo_name "$s")" start_echo "$s"
done
check "$N_ILB ILBs start (tun, dsr, $ILB_SCHEDULER; udp service echo, check udp)" \
    start_ilbs
check "each ILB log shows the others joined" wait_members 60
if [ "$fail" -ne 0 ]; then show_logs 20; finish; exit 1; fi

# 1. Up at the first good check; the wrong answer keeps srv3 down.
for s in 1 2; do
	check "every ILB: srv$s up at its first good check" \
	    wait_logs "$(srv_re "$s") is up (first check succeeded)" 30000
done
check "show servers: srv1 and srv2 up on every ILB" both_up
check "show servers: srv3 (answers \"ping bad3\") down, last check a wrong answer" \
    wait_until 10 srv3_wrong
run_flows a
check "$FLOWS flows all answered (exit $FLOWS_RC)" [ "$FLOWS_RC" -eq 0 ]
check "srv1 and srv2 take new flows" flows_both
check "no flow reaches srv3 (bad3)" [ "$(flows_to bad3)" -eq 0 ]

# 2. srv2's echo stopped: ICMP port unreachable, down after fall checks.
stats_snapshot
_fail0=$(stat_sum health_failures)
check "srv2's udp_echo.py stopped" stop_echo 2
check "every ILB: srv2 down after $HC_FALL checks (Connection refused)" \
    wait_logs "$(srv_re 2) is down ($HC_FALL checks failed: Connection refused)" 30000
note "srv2 down on every ILB after $WAIT_MS ms"
check "show servers: srv2 down on every ILB" state_everywhere 2 down
stats_snapshot
stat_check "health failures counted (were ${_fail0:-?})" health_failures \
    -ge $((${_fail0:-0} + HC_FALL * N_ILB))
run_flows b
check "$FLOWS flows with srv2 down all answered (exit $FLOWS_RC)" \
    [ "$FLOWS_RC" -eq 0 ]
check "new flows reach srv1 only" \
    [ "$(flows_to srv1)" -eq "$FLOWS" ]

# 3. srv2's echo back: up after rise checks.
check "srv2's udp_echo.py started again" start_echo 2
check "every ILB: srv2 up after $HC_RISE good checks" \
    wait_logs "$(srv_re 2) is up ($HC_RISE checks succeeded)" 30000
note "srv2 up on every ILB after $WAIT_MS ms"
check "show servers: srv2 up on every ILB" state_everywhere 2 up
run_flows c
check "$FLOWS flows after srv2's return all answered (exit $FLOWS_RC)" \
    [ "$FLOWS_RC" -eq 0 ]
check "srv2 takes new flows again" [ "$(flows_to srv2)" -gt 0 ]
check "srv3 never up on any ILB" srv3_never_up
check_alive
[ "$fail" -eq 0 ] || show_logs 20
finish

#!/bin/sh
# test_health.sh: TCP health checks: three ILBs (tun, dsr) check three
# servers every 500 ms; each server is up at its first good check (the
# default health.initial = "down"); srv2's HTTP server stops, every ILB
# marks it down and new connections avoid it; it starts again and comes
# back after rise checks. show servers gives each server's last check:
# the failure while srv2 is down, "ok" (no stale error) once it is back.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

HC_INTERVAL=500
HC_TIMEOUT=500
HC_RISE=2
HC_FALL=2
HEALTH="{ check = \"tcp\"; interval_ms = $HC_INTERVAL;"
HEALTH="$HEALTH timeout_ms = $HC_TIMEOUT; rise = $HC_RISE; fall = $HC_FALL; }"
N=${N:-300}
SRV2_RE="service web: server $(srv_addr 2 | sed 's/\./\\./g')"
: "${ILB_SCHEDULER:=rr}"
export ILB_SCHEDULER

# start_ilbs_health: configure every ILB (tun, dsr) with $HEALTH; start.
start_ilbs_health() {
	for _j in $(seq 1 "$N_ILB"); do
		ilb_conf "$_j" tun dsr && ilb_conf_health "$_j" "$HEALTH" &&
		    start_ilb "$_j" || return 1
	done
}

# srv2_start: srv2's HTTP server again; waits until it answers.
srv2_start() {
	bg "$(ns_srv 2)" "$NETNS_DIR/srv2.log" "$PYTHON" "$NETNS_SRC/httpd.py" \
	    srv2 "$VIP_PORT"
	SRV_PID_2=$BG_PID
	_n=0
	until nsx "$(ns_srv 2)" curl -s -o /dev/null --max-time 1 \
	    "http://127.0.0.1:$VIP_PORT/"; do
		_n=$((_n + 1))
		[ "$_n" -lt 600 ] || return 1
		sleep 0.1
	done
}

# logged_once PATTERN: every ILB's log has exactly one line matching.
logged_once() {
	for _j in $(seq 1 "$N_ILB"); do
		[ "$(count_lines "$(ilb_log "$_j")" "$1")" -eq 1 ] || return 1
	done
}

# last_check I SRV: "AGE RESULT" of srvSRV's last check in ILB I's
# show servers -j (AGE in seconds, "none" before the first check).
last_check() {
	ctl "$1" -j show servers | "$PYTHON" -c '
import json, sys
for s in json.load(sys.stdin)["servers"]:
    if s["address"] == sys.argv[1]:
        a = s["last_check_age_s"]
        print("none" if a is None else a, s["last_check"])
' "$(srv_addr "$2")"
}

# check_everywhere SRV RE: on every ILB srvSRV's last check (AGE RESULT)
# matches the extended RE; prints what each shows.
check_everywhere() {
	for _j in $(seq 1 "$N_ILB"); do
		_lc=$(last_check "$_j" "$1")
		note "ilb$_j: srv$1 last check: $_lc"
		echo "$_lc" | grep -Eqx "$2" || return 1
	done
}

require_ilbd
netns_setup
check "topology up" topo_up
check "servers answer" start_servers
check "3 ILBs start (tun, dsr, $ILB_SCHEDULER, tcp checks: $HC_INTERVAL ms)" \
    start_ilbs_health
check "each ILB log shows the two others joined" wait_members 60
if [ "$fail" -ne 0 ]; then show_logs 20; finish; exit 1; fi
for s in $(seq 1 "$N_SRV"); do
	check "every ILB: srv$s up at its first good check" wait_logs \
	    "service web: server $(srv_addr "$s" | sed 's/\./\\./g') is up (first check succeeded)" 30000
done

check_requests "$N" a
check "no server marked down while all answer" \
    [ "$(cat "$NETNS_DIR"/ilb*.log | count_lines - 'is down (')" -eq 0 ]

# srv2's HTTP server stops: connections to it are refused
note "stop srv2's httpd (pid $SRV_PID_2)"
pid_stop "$SRV_PID_2"
check "every ILB logs srv2 down after $HC_FALL failed checks" \
    wait_logs "$SRV2_RE is down ($HC_FALL checks failed" 60000
note "srv2 down on every ILB after $WAIT_MS ms"
run_requests "$N" b
check "$N requests with srv2 down all succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq "$N" ]
check "none answered by srv2 ($(answers_summary))" \
    [ "$(answered_by srv2)" -eq 0 ]
check "show servers: srv2's last check failed, refused, within 2 s, on every ILB" \
    check_everywhere 2 '[0-2] Connection refused'
check "show servers: srv1's last check ok, within 2 s, on every ILB" \
    check_everywhere 1 '[0-2] ok'
_both=$(($(answered_by srv1) > 0 && $(answered_by srv3) > 0))
check "srv1 and srv3 answer ($(answers_summary))" [ "$_both" -eq 1 ]

# srv2 answers again
check "srv2's httpd restarts" srv2_start
check "every ILB logs srv2 up after $HC_RISE good checks" \
    wait_logs "$SRV2_RE is up ($HC_RISE checks succeeded)" 60000
note "srv2 up on every ILB after $WAIT_MS ms"
check "show servers: srv2's last check ok again, no stale error, on every ILB" \
    check_everywhere 2 '[0-2] ok'
check_requests "$N" c
check "each ILB logged srv2 down once" logged_once "$SRV2_RE is down"
check "each ILB logged srv2 up once after its restart" \
    logged_once "$SRV2_RE is up ($HC_RISE checks"
check "no other server went down" \
    [ "$(cat "$NETNS_DIR"/ilb*.log | count_lines - 'is down (')" -eq "$N_ILB" ]
check_alive
[ "$fail" -eq 0 ] || show_logs 20
finish

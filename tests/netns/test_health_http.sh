#!/bin/sh
# test_health_http.sh: HTTP health checks on a check port that is not the
# service's.  Two ILBs (tun, dsr, rr) check srv1 and srv2 with
# GET /healthz (Host health.test) on port 8080, where a second httpd.py
# answers the status in a file (200 while it is absent); the service on
# port 80 never changes.  Up: every server comes up at its first good
# check; down: srv2's endpoint answers 503, every ILB takes it out after
# fall checks, no new connection reaches it, and the keep-alive
# connections it has keep working; flap: 200 again, back after rise
# checks.  Reload: srv3 is added while its endpoint answers 503: no
# connection reaches it (a new server is down until its first success),
# then 200 and it takes connections.  HC_INITIAL=up runs the same with
# health.initial = "up" (the old behaviour: expect the reload checks to
# fail).
# shellcheck source=tests/netns/lib.sh
N_ILB=${N_ILB:-2}
. "$(dirname "$0")/lib.sh"

HC_PORT=8080
HC_INTERVAL=300
HC_TIMEOUT=250
HC_RISE=2
HC_FALL=2
HEALTH="{ check = \"http\"; port = $HC_PORT; path = \"/healthz\";"
HEALTH="$HEALTH host = \"health.test\"; status = 200;"
HEALTH="$HEALTH interval_ms = $HC_INTERVAL; timeout_ms = $HC_TIMEOUT;"
HEALTH="$HEALTH rise = $HC_RISE; fall = $HC_FALL;"
[ -z "${HC_INITIAL:-}" ] || HEALTH="$HEALTH initial = \"$HC_INITIAL\";"
HEALTH="$HEALTH }"
N=${N:-200}
KA_N=${KA_N:-30}
: "${ILB_SCHEDULER:=rr}"
export ILB_SCHEDULER

srv_re() { echo "service web: server $(srv_addr "$1" | sed 's/\./\\./g')"; }
hc_file() { echo "$NETNS_DIR/hc$1"; }

# conf_health I: $HEALTH into ILB I's file (as ilb_conf_health, whose sed
# cannot take the "/" of a path).
conf_health() {
	sed -i "s|^\( *health = \).*;\$|\1$HEALTH;|" "$NETNS_DIR/ilb$1.conf" &&
	    grep -qF "health = $HEALTH;" "$NETNS_DIR/ilb$1.conf"
}

# conf_all NSRV: every ILB's file with servers srv1..srvNSRV, HTTP checks.
conf_all() {
	_keep=$N_SRV
	N_SRV=$1
	for _j in $(seq 1 "$N_ILB"); do
		if ! { ilb_conf "$_j" tun dsr && conf_health "$_j"; }; then
			N_SRV=$_keep
			return 1
		fi
	done
	N_SRV=$_keep
}

# start_endpoints: httpd.py --status-file on $HC_PORT in every server.
start_endpoints() {
	for _i in $(seq 1 "$N_SRV"); do
		bg "$(ns_srv "$_i")" "$NETNS_DIR/hc$_i.out" "$PYTHON" \
		    "$NETNS_SRC/httpd.py" --status-file "$(hc_file "$_i")" \
		    "hc$_i" "$HC_PORT"
	done
	for _i in $(seq 1 "$N_SRV"); do
		wait_until 60 nsx "$(ns_srv "$_i")" curl -s -o /dev/null \
		    --max-time 1 "http://127.0.0.1:$HC_PORT/" || return 1
	done
}

# start_all: start every ILB from its file.
start_all() {
	for _j in $(seq 1 "$N_ILB"); do start_ilb "$_j" || return 1; done
}

# reload_all: ilbctl reload on every ILB (the daemon's own result).
reload_all() {
	for _j in $(seq 1 "$N_ILB"); do ctl "$_j" reload || return 1; done
}

# server_state I SRV: srvSRV's HEALTH column in ILB I's show servers.
server_state() {
	ctl "$1" show servers | awk -v a="$(srv_addr "$2")" '$2 == a { print $3 }'
}

# state_everywhere SRV STATE: every ILB shows srvSRV as STATE.
state_everywhere() {
	for _j in $(seq 1 "$N_ILB"); do
		[ "$(server_state "$_j" "$1")" = "$2" ] || return 1
	done
}

# logged_n N PATTERN: every ILB's log has exactly N lines matching.
logged_n() {
	for _j in $(seq 1 "$N_ILB"); do
		[ "$(count_lines "$(ilb_log "$_j")" "$2")" -eq "$1" ] || return 1
	done
}

require_ilbd
netns_setup
check "topology up" topo_up
check "servers answer on port $VIP_PORT" start_servers
rm -f "$NETNS_DIR"/hc?
check "health endpoints answer on port $HC_PORT" start_endpoints
check "ILB files: srv1 and srv2, http checks on port $HC_PORT" conf_all 2
check "$N_ILB ILBs start (tun, dsr, $ILB_SCHEDULER)" start_all
check "each ILB log shows the others joined" wait_members 60
if [ "$fail" -ne 0 ]; then show_logs 20; finish; exit 1; fi

# Up: each server is up at its first successful check.
for s in 1 2; do
	check "every ILB: srv$s up at its first good check" \
	    wait_logs "$(srv_re "$s") is up (first check succeeded)" 30000
done
check "the check is GET /healthz HTTP/1.0, Host health.test, port $HC_PORT" \
    grep -q '^GET /healthz HTTP/1.0 health.test$' "$(hc_file 1).log"
run_requests "$N" a
check "$N requests all succeed ($REQ_FAIL failed)" [ "$REQ_OK" -eq "$N" ]
check "srv1 and srv2 answer ($(answers_summary))" \
    [ $(($(answered_by srv1) > 0 && $(answered_by srv2) > 0)) -eq 1 ]

# Keep-alive connections, some on srv2, across its down and up.
keepalive_start "$KA_N" 0
check "keepalive: $KA_N connections up" keepalive_wait 30

# Down: srv2's endpoint answers 503, its port 80 still serves.
echo 503 > "$(hc_file 2)"
note "srv2's /healthz answers 503"
check "every ILB: srv2 down after $HC_FALL checks (HTTP 503)" \
    wait_logs "$(srv_re 2) is down ($HC_FALL checks failed: HTTP status 503, expected 200)" 30000
note "srv2 down on every ILB after $WAIT_MS ms"
check "show servers: srv2 down on every ILB" state_everywhere 2 down
run_requests "$N" b
check "$N requests with srv2 down all succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq "$N" ]
check "no new connection reaches srv2 ($(answers_summary))" \
    [ "$(answered_by srv2)" -eq 0 ]

# Flap: 200 again, up after rise checks.
rm -f "$(hc_file 2)"
check "every ILB: srv2 up after $HC_RISE good checks" \
    wait_logs "$(srv_re 2) is up ($HC_RISE checks succeeded)" 30000
note "srv2 up on every ILB after $WAIT_MS ms"
run_requests "$N" c
check "$N requests after the flap all succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq "$N" ]
check "srv2 answers again ($(answers_summary))" [ "$(answered_by srv2)" -gt 0 ]
keepalive_stop
check "srv2 went down and up once on each ILB" \
    logged_n 1 "$(srv_re 2) is down ("
check "the keep-alive load had connections on srv2" \
    grep -q '"srv2"' "$NETNS_DIR/keepalive.json"

# Reload adding srv3, whose endpoint answers 503: it stays out.
echo 503 > "$(hc_file 3)"
check "ILB files: srv3 added" conf_all 3
check "ilbctl reload on every ILB" reload_all
run_requests "$N" d
check "$N requests after the reload all succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq "$N" ]
check "no connection reaches the new srv3 before a good check ($(answers_summary))" \
    [ "$(answered_by srv3)" -eq 0 ]
check "show servers: srv3 down on every ILB" state_everywhere 3 down
check "srv3 never logged up" logged_n 0 "$(srv_re 3) is up"
rm -f "$(hc_file 3)"
check "every ILB: srv3 up at its first good check" \
    wait_logs "$(srv_re 3) is up (first check succeeded)" 30000
run_requests "$N" e
check "$N requests with srv3 up all succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq "$N" ]
check "srv3 takes connections ($(answers_summary))" \
    [ "$(answered_by srv3)" -gt 0 ]
check "srv1 and srv2 kept their state across the reload" \
    logged_n 1 "$(srv_re 1) is up ("
check_alive
[ "$fail" -eq 0 ] || show_logs 20
finish

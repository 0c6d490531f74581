#!/bin/sh
# test_drain.sh: cluster-wide drain under load (issue 20).  3 ILBs (tun,
# dsr, wlc), KA_C (60) keep-alive connections, some on srv2.  A server is
# chosen by the connection's owner, which can be any ILB: `ilbctl server
# drain web 192.0.2.22` given to ilb1 alone must drain srv2 on all three.
# Then every ILB's show servers says drained (by ilb1, cluster-wide), no
# new connection (REQS of them, each its own, spread over the owners)
# reaches srv2, and the keep-alive connections on srv2 go on (a drain, not
# a kill).  ilb3 is killed (-9) and started again: it shows srv2 drained
# again (learnt from the others) and new connections still avoid srv2.
# `server enable` on ilb2 brings srv2 back everywhere.  The local variant
# (`local`) changes one ILB and says so.  No connection fails, every
# request is answered.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
KA_C=${KA_C:-60}
REQS=${REQS:-90}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

SRV=192.0.2.22

# shown I FIELD: show servers -j of ILB I, FIELD of server $SRV (JSON).
shown() {
	ctl "$1" -j show servers > "$NETNS_DIR/servers.$1.json" 2>/dev/null &&
	    "$PYTHON" - "$NETNS_DIR/servers.$1.json" "$SRV" "$2" <<'PYEOF'
import json, sys
for s in json.load(open(sys.argv[1]))["servers"]:
    if s["address"] == sys.argv[2]:
        print(json.dumps(s.get(sys.argv[3])))
PYEOF
}

# everywhere_drained WANT SECONDS: every running ILB shows $SRV drained
# WANT (true|false) within SECONDS; the last view in DRAINED_VIEW.
everywhere_drained() {
	_end=$(($(now_ms) + $2 * 1000))
	while :; do
		_ok=1; DRAINED_VIEW=
		for _j in $(seq 1 "$N_ILB"); do
			ilb_alive "$_j" || continue
			_d=$(shown "$_j" drained); _a=$(shown "$_j" admin)
			DRAINED_VIEW="$DRAINED_VIEW ilb$_j=$_d/$_a"
			[ "$_d" = "$1" ] || _ok=
		done
		[ -z "$_ok" ] || return 0
		[ "$(now_ms)" -lt "$_end" ] || return 1
		sleep 0.1
	done
}

# last_run_has I TEXT: ILB I's log since its last start has TEXT.
last_run_has() {
	awk -v m="$(grep -c '^# --- start_ilb' "$(ilb_log "$1")")" -v t="$2" \
	    '/^# --- start_ilb/ { c++ } c == m && index($0, t) { f = 1 }
	    END { exit !f }' "$(ilb_log "$1")"
}

# on_srv2: established connections to port 80 in srv2's namespace.
on_srv2() {
	ip netns exec "$(ns_srv 2)" ss -Htn state established \
	    "( sport = :$VIP_PORT )" | wc -l
}

# new_conns TAG: REQS requests, each on a new connection; all succeed
# and none reaches srv2.
new_conns() {
	run_requests "$REQS"
	check "$1: $REQS new connections all succeed ($REQ_FAIL failed)" \
	    [ "$REQ_OK" -eq "$REQS" ]
	check "$1: none reaches srv2 ($(answers_summary))" \
	    [ "$(answered_by srv2)" -eq 0 ]
}

repl_setup
keepalive_start "$KA_C" 0
check "keepalive: $KA_C connections up" keepalive_wait 60
run_requests "$REQS"
check "before the drain: srv2 takes new connections ($(answers_summary))" \
    [ "$(answered_by srv2)" -gt 0 ]
ka2=$(on_srv2)
check "before the drain: keep-alive connections on srv2 ($ka2)" [ "$ka2" -gt 0 ]

# drain on ilb1 only
ctl 1 server drain web "$SRV" > "$NETNS_DIR/ans.drain" 2>&1
rc=$?
check "ilb1: server drain web $SRV ($(cat "$NETNS_DIR/ans.drain"))" \
    [ "$rc" -eq 0 ]
check "the answer says cluster-wide" grep -q "cluster-wide" "$NETNS_DIR/ans.drain"
everywhere_drained true 10
rc=$?
check "every ILB shows $SRV drained within 10 s:$DRAINED_VIEW" [ "$rc" -eq 0 ]
check "... by ilb1, cluster-wide ($(shown 3 admin))" \
    [ "$(shown 3 admin)" = "\"cluster:$(ilb_id 1)\"" ]
new_conns "after the drain on ilb1"
ka2b=$(on_srv2)
check "the keep-alive connections on srv2 go on ($ka2b of $ka2 still established)" \
    [ "$ka2b" -eq "$ka2" ]

# ilb3: kill -9, start again: it learns the drain from the others (its
# own copy in node.state_dir, for a restart of the whole cluster, removed)
note "kill -9 ilb3 and withdraw its route"
kill_ilb 3
check "withdraw ilb3's route" route_del_nexthop 3
check "the survivors log ilb3 gone" repl_wait_gone 3 60
n3=$(wc -l 2>/dev/null < "$NETNS_DIR/state3/admin")
check "ilb3 had kept the state in node.state_dir (${n3:-no} record)" \
    [ "${n3:-0}" -eq 1 ]
rm -f "$NETNS_DIR/state3/admin"
check "ilb3 starts again" start_ilb 3
check "ilb3 rejoins" repl_rejoined 3 60
everywhere_drained true 10
rc=$?
check "after its restart ilb3 shows $SRV drained:$DRAINED_VIEW" [ "$rc" -eq 0 ]
check "... learnt from the others (its log since the restart)" \
    last_run_has 3 "admin: server $SRV of web: drained (cluster-wide, from $(ilb_id 1)"
check "restore ilb3's route" route_add_nexthop 3
new_conns "after ilb3's restart"

# enable, given to ilb2
ctl 2 server enable web "$SRV" > "$NETNS_DIR/ans.enable" 2>&1
check "ilb2: server enable web $SRV ($(cat "$NETNS_DIR/ans.enable"))" \
    grep -q "enabled (cluster-wide" "$NETNS_DIR/ans.enable"
everywhere_drained false 10
rc=$?
check "every ILB shows $SRV enabled:$DRAINED_VIEW" [ "$rc" -eq 0 ]
run_requests "$REQS"
check "after enable: $REQS new connections succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq "$REQS" ]
check "after enable: srv2 takes new connections again ($(answers_summary))" \
    [ "$(answered_by srv2)" -gt 0 ]

# the local variant: ilb1 only, and it says so
ctl 1 server drain web 192.0.2.23 local > "$NETNS_DIR/ans.local" 2>&1
check "ilb1: server drain web 192.0.2.23 local says local only ($(cat "$NETNS_DIR/ans.local"))" \
    grep -q "local only" "$NETNS_DIR/ans.local"
sleep 1.5	# a re-announce period: nothing must come of it
SRV=192.0.2.23
check "local: ilb1 shows 192.0.2.23 drained ($(shown 1 drained) $(shown 1 admin))" \
    [ "$(shown 1 drained)" = true ]
check "local: ilb2 does not ($(shown 2 drained))" [ "$(shown 2 drained)" = false ]
ctl 1 server enable web 192.0.2.23 local > /dev/null 2>&1

keepalive_stop
stats_snapshot
check "show stats counts the cluster-wide commands (admin_commands: $(stat_sum admin_commands))" \
    [ "$(stat_sum admin_commands)" -ge 2 ]
check "... and the records the other members applied (admin_applied: $(stat_sum admin_applied))" \
    [ "$(stat_sum admin_applied)" -gt 0 ]
_rej=$(stat_sum cluster_rx_reject)
check "no cluster message rejected on any ILB (cluster_rx_reject=${_rej:-missing})" \
    [ "${_rej:-1}" -eq 0 ]
check_alive
repl_done

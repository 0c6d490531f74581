#!/bin/sh
# test_reload.sh: 3 ILBs (tun, dsr, wlc) under KA_C (300) keep-alive
# connections (until REPL_AFTER s after the last step). REPL_AT (5) s after they are up, every ILB
# reloads (SIGHUP) a configuration that removes srv3 and adds srv4: srv3's
# connections drain (they go on, on srv3), new connections go to srv1, srv2
# and srv4 only. Then ilb2 is killed: the stateful picture built after the
# reload survives the failover. No connection breaks or changes server,
# every request is answered, no orphan.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
ILBCTL=${ILBCTL:-$top_builddir/src/ilbctl}
[ -x "$ILBCTL" ] || need "no $ILBCTL (build it first)"

# drain_all ADDR: ilbctl server drain web ADDR on every ILB.
drain_all() {
	for _j in 1 2 3; do
		"$ILBCTL" -s "$NETNS_DIR/ilb$_j.sock" server drain web "$1" \
		    > /dev/null || return 1
	done
}

# srv4: one more server on the LAN, started like the others.
add_srv4() {
	topo_srv 4 || return 1
	bg "$(ns_srv 4)" "$NETNS_DIR/srv4.log" \
	    "$PYTHON" "$NETNS_SRC/httpd.py" srv4 "$VIP_PORT"
	_n=0
	until nsx "$(ns_srv 4)" curl -s -o /dev/null --max-time 1 \
	    "http://127.0.0.1:$VIP_PORT/"; do
		_n=$((_n + 1))
		[ "$_n" -lt 600 ] || return 1
		sleep 0.1
	done
	N_SRV=4
}

# reload_all: srv3 out, srv4 in, in every ILB's file; SIGHUP each.
reload_all() {
	for _j in 1 2 3; do
		sed "s/\"$(srv_addr 3)\"/\"$(srv_addr 4)\"/" \
		    "$NETNS_DIR/ilb$_j.conf" > "$NETNS_DIR/ilb$_j.conf.new" &&
		    mv "$NETNS_DIR/ilb$_j.conf.new" "$NETNS_DIR/ilb$_j.conf" &&
		    chmod 644 "$NETNS_DIR/ilb$_j.conf" || return 1
		kill -HUP "$(ilb_pid "$_j")" || return 1
	done
}

repl_setup
check "srv4 answers" add_srv4
repl_load
note "reload every ILB: srv3 removed, srv4 added"
check "SIGHUP sent to every ILB" reload_all
for j in 1 2 3; do
	check "ilb$j applied the reload (one server added, one removed)" \
	    wait_for "$(ilb_log "$j")" "configuration reloaded: .*servers +1 -1" 60
done
run_requests 100
check "new connections after the reload all succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq 100 ]
check "none reaches the removed srv3 ($(answers_summary))" \
    [ "$(answered_by srv3)" -eq 0 ]
check "the added srv4 takes some ($(answers_summary))" \
    [ "$(answered_by srv4)" -gt 0 ]
check "ilbctl server drain web $(srv_addr 1) on every ILB" drain_all "$(srv_addr 1)"
run_requests 60
check "new connections after the drain all succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq 60 ]
check "none reaches the drained srv1 ($(answers_summary))" \
    [ "$(answered_by srv1)" -eq 0 ]
repl_snapshot
repl_kill 2
repl_finish

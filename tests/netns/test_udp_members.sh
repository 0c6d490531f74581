#!/bin/sh
# test_udp_members.sh: UDP flows through a join and a graceful leave
# (issue 22).  3 ILBs (tun, dsr, wlc; udp_replicate_ms UDP_REPL_MS, 20 s,
# so that a flow is replicated by its packet count only), the router
# hashing the tuple, a UDP echo service (port 7000, udp_echo.py).  Each
# phase runs, from before the membership change to UDP_AFTER s after it:
#  * UDP_N (20) long-lived flows, one datagram every 100 ms each
#    (udp_flows.py), replicated before the change;
#  * UDP_SLOW (40) slow flows, one datagram every UDP_SLOW_MS (1000 ms),
#    started just before the change: 4 datagrams or fewer when it comes,
#    so still unreplicated, known only to their owner;
#  * UDP_OPEN (200) flows of 3 datagrams UDP_OPEN_MS (2000 ms) apart,
#    whose first datagrams spread over the UDP_OPEN_MS from just before
#    the change: flows that open while it is under way (a joiner planned
#    but not active, a leaver that handed its entries over but still
#    forwards);
#  * short-lived flows: two loops of batches of UDP_SHORT (30) flows of
#    2 to 6 datagrams, every 300 ms in one, every 1000 ms in the other
#    (their first datagrams spread over that time), one batch after the
#    other: flows in every state (just opened, unreplicated, replicated,
#    ending) whenever the change comes.
# (a) ilb4 (192.0.2.14) joins, then its route is added; (b) ilb2 leaves
# gracefully (SIGTERM: it hands what it holds to the new holders and exits
# 0), then its route is withdrawn; (c) ilb3 leaves as a deployment should
# take it out: its route is withdrawn first (what routers do when ilbd's
# announce marks its routes leaving and drains, ilbd.conf(5)), then
# SIGTERM.  In all: no flow changes server, a slow or short flow loses at
# most 1 datagram, a long one at most UDP_MAX_LOST in (a) and (b), where
# the router still sends the leaver datagrams until it exits, and none in
# (c) (UDP_DRAIN_MAX_LOST); the longest gap of each kind of flow is
# reported per phase.
# (kill -9 is test_udp_dns.sh's part 2.)
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
LEAVE_S=${LEAVE_S:-60}
ILB_SCHEDULER=${ILB_SCHEDULER:-wlc}
export ILB_SCHEDULER
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

ECHO_PORT=7000
UDP_N=${UDP_N:-20}
UDP_SLOW=${UDP_SLOW:-40}
UDP_SLOW_MS=${UDP_SLOW_MS:-1000}
UDP_SHORT=${UDP_SHORT:-30}
UDP_OPEN=${UDP_OPEN:-200}
UDP_OPEN_MS=${UDP_OPEN_MS:-2000}
UDP_REPL_MS=${UDP_REPL_MS:-20000}
UDP_MAX_LOST=${UDP_MAX_LOST:-15}
UDP_DRAIN_MAX_LOST=${UDP_DRAIN_MAX_LOST:-0}
UDP_AFTER=${UDP_AFTER:-4}
FLOWS=$NETNS_LIB/udp_flows.py
J=4
V=2

# udp_conf I: ilbI.conf with the "echo" UDP service added and
# tables.udp_replicate_ms set (the last line of the file closes the
# services list).
udp_conf() {
	ilb_conf "$1" tun dsr && sed -i \
	    "s/^  ltoc_size = .*/&\\n  udp_replicate_ms = $UDP_REPL_MS;/" \
	    "$NETNS_DIR/ilb$1.conf" && ilb_conf_udp "$1" echo "$ECHO_PORT"
}

# short_loop TAG MS: batches of short flows (2 to 6 datagrams, MS apart)
# until $NETNS_DIR/TAG.stop exists (or, should the test end without it,
# the client namespace is gone or 180 s have passed); each batch's report
# appended to
# $NETNS_DIR/TAG.out, the flows that failed to $NETNS_DIR/TAG.bad, the
# count of batches and of failed ones in $NETNS_DIR/TAG.fail.
short_loop() {
	_b=0
	_f=0
	_end=$(($(now_ms) + 180000))
	while [ ! -e "$NETNS_DIR/$1.stop" ] && [ "$(now_ms)" -lt "$_end" ] &&
	    [ -e "/run/netns/$NS_CLIENT" ]; do
		_c=$((2 + _b % 5))
		nsx "$NS_CLIENT" "$PYTHON" "$FLOWS" -n "$UDP_SHORT" -i "$2" \
		    -c "$_c" -d 10 -t 2 --max-lost 1 "$VIP" "$ECHO_PORT" \
		    > "$NETNS_DIR/$1.batch" 2>&1 || {
			_f=$((_f + 1))
			grep '^flow ' "$NETNS_DIR/$1.batch" |
			    awk '$12 > 1 || $16 > 0 || $6 ~ /,/' |
			    sed "s/^/batch $_b: /" >> "$NETNS_DIR/$1.bad"
		}
		grep '^udp_flows:' "$NETNS_DIR/$1.batch" >> "$NETNS_DIR/$1.out"
		_b=$((_b + 1))
	done
	echo "$_b $_f" > "$NETNS_DIR/$1.fail"
}

# phase_start TAG PORT [LOST]: the long flows (each may lose LOST
# datagrams, default UDP_MAX_LOST), then (once replicated) the slow
# flows and the short-flow batches; returns when every slow flow has its
# first answer (so the change comes while they are still unreplicated),
# and the opening flows are started.  The long, slow and opening flows
# bind source ports PORT.., PORT+100.. and PORT+200.. (UDP_N and UDP_SLOW
# 100 at most): below the kernel's ephemeral range, so no flow of theirs
# meets an entry left by an earlier flow on the same tuple.
phase_start() {
	rm -f "$NETNS_DIR/$1".*
	stats_snapshot
	_rep0=$(stat_sum udp_replicated)
	bg "$NS_CLIENT" "$NETNS_DIR/$1.long.out" "$PYTHON" "$FLOWS" \
	    -n "$UDP_N" -i 100 -d 120 -t 2 --max-lost "${3:-$UDP_MAX_LOST}" \
	    --sport-base "$2" --ready "$NETNS_DIR/$1.long.ready" \
	    -o "$NETNS_DIR/$1.long.json" "$VIP" "$ECHO_PORT"
	LONG_PID=$BG_PID
	check "$1: $UDP_N long flows answered" \
	    wait_for "$NETNS_DIR/$1.long.ready" READY 60
	check "$1: the long flows replicated (udp_replicated >= ${_rep0:-0} + $UDP_N)" \
	    wait_until 30 live_stat_at_least udp_replicated $((${_rep0:-0} + UDP_N))
	short_loop "$1.short" 300 &
	SHORT_PID=$!
	short_loop "$1.short1s" 1000 &
	SHORT1S_PID=$!
	bg "$NS_CLIENT" "$NETNS_DIR/$1.slow.out" "$PYTHON" "$FLOWS" \
	    -n "$UDP_SLOW" -i "$UDP_SLOW_MS" -d 120 -t 3 --max-lost 1 \
	    --sport-base $(($2 + 100)) --ready "$NETNS_DIR/$1.slow.ready" \
	    -o "$NETNS_DIR/$1.slow.json" "$VIP" "$ECHO_PORT"
	SLOW_PID=$BG_PID
	check "$1: $UDP_SLOW slow flows answered" \
	    wait_for "$NETNS_DIR/$1.slow.ready" READY 30
	bg "$NS_CLIENT" "$NETNS_DIR/$1.open.out" "$PYTHON" "$FLOWS" \
	    -n "$UDP_OPEN" -i "$UDP_OPEN_MS" -c 3 -d 120 -t 3 --max-lost 1 \
	    --sport-base $(($2 + 200)) -o "$NETNS_DIR/$1.open.json" \
	    "$VIP" "$ECHO_PORT"
	OPEN_PID=$BG_PID
	sleep 0.3
}

# flows_result TAG KIND PID: stop udp_flows.py PID (SIGUSR1), check its
# report: every flow kept its server, lost no more than allowed.
flows_result() {
	kill -USR1 "$3" 2>/dev/null
	wait "$3"
	_rc=$?
	_t=$(tail -n 1 "$NETNS_DIR/$1.$2.out")
	_g=$(echo "$_t" | sed -n 's/.*max_gap_ms \([0-9]*\).*/\1/p')
	note "$1 $2: $_t"
	grep '^flow ' "$NETNS_DIR/$1.$2.out" |
	    awk '$12 > 0 || $16 > 0 || $6 ~ /,/' | head -n 5 | sed 's/^/# /'
	check "$1: $2 flows: each kept its server, lost no more than allowed (max gap ${_g:-?} ms; exit $_rc)" \
	    [ "$_rc" -eq 0 ]
}

# short_result TAG MS PID: the outcome of short_loop TAG MS (pid PID).
short_result() {
	wait "$3"
	read -r _b _f < "$NETNS_DIR/$1.fail"
	_g=$(awk '{ for (i = 1; i < NF; i++) if ($i == "max_gap_ms") {
	    v = $(i + 1) + 0; if (v > m) m = v } }
	    END { print m + 0 }' "$NETNS_DIR/$1.out")
	[ -s "$NETNS_DIR/$1.bad" ] &&
	    head -n 5 "$NETNS_DIR/$1.bad" | sed 's/^/# /'
	check "$1: $_b batches of $UDP_SHORT short flows ($2 ms), $_f failed (max gap $_g ms)" \
	    test "$_b" -gt 0 -a "$_f" -eq 0
}

# phase_end TAG: UDP_AFTER s more, then every kind of flow's outcome.
phase_end() {
	sleep "$UDP_AFTER"
	touch "$NETNS_DIR/$1.short.stop" "$NETNS_DIR/$1.short1s.stop"
	flows_result "$1" slow "$SLOW_PID"
	flows_result "$1" open "$OPEN_PID"
	flows_result "$1" long "$LONG_PID"
	short_result "$1.short" 300 "$SHORT_PID"
	short_result "$1.short1s" 1000 "$SHORT1S_PID"
	stats_snapshot
	STATS_KEYS="rx udp_rx udp_new_flow udp_replicated udp_unreplicated handoff_out handoff_in forward_owner forward_backup forward_cache misrouted orphan" \
	    stats_print
}

require_ilbd
netns_setup
check "topology up" topo_up
check "udp_echo.py runs in every server namespace" \
    start_udp_echo "$ECHO_PORT"
for _j in 1 2 3; do
	check "ilb$_j starts (tun, dsr, $ILB_SCHEDULER; udp service echo, udp_replicate_ms $UDP_REPL_MS)" \
	    eval "udp_conf $_j && start_ilb $_j"
done
check "each ILB log shows the two others joined" wait_members 60
check "the router's ECMP hashes the tuple (policy 3)" router_tuple_hash
check "ilb$J's namespace added (192.0.2.1$J)" topo_add_ilb $J
check "ilb$J configured" udp_conf $J
if [ "$fail" -ne 0 ]; then show_logs 20; finish; exit 1; fi

# (a) ilb4 joins.
phase_start join 20000
note "start ilb$J"
check "ilb$J starts" start_ilb $J
check "every ILB logs the others joined and its join complete (ilb$J included)" \
    wait_members 60
check "add ilb$J's route" route_add_nexthop $J
phase_end join
stat_check "ilb$J took UDP datagrams" udp_rx -gt 0 $J

# (b) ilb2 leaves gracefully.
phase_start leave 21000
note "SIGTERM ilb$V (graceful leave)"
leave_ilb $V
check "ilb$V exits 0 within ${LEAVE_S}s of SIGTERM (exit $rc after $t ms)" \
    [ "$rc" = 0 ]
check "withdraw ilb$V's route" route_del_nexthop $V
phase_end leave

# (c) ilb3 leaves drained: route withdrawn, then SIGTERM.
W=3
phase_start drain 22000 "$UDP_DRAIN_MAX_LOST"
check "withdraw ilb$W's route first" route_del_nexthop $W
sleep 0.5
note "SIGTERM ilb$W (graceful leave, no route)"
leave_ilb $W
check "ilb$W exits 0 within ${LEAVE_S}s of SIGTERM (exit $rc after $t ms)" \
    [ "$rc" = 0 ]
phase_end drain
for _j in 1 $J; do
	check "ilb$_j still running" ilb_alive "$_j"
done
[ "$fail" -eq 0 ] || show_logs 15
finish

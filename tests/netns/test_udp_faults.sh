#!/bin/sh
# test_udp_faults.sh: UDP flows under the faults of the faults issue
# (issue 22: failover and fault handling for UDP flows as for TCP).
# 4 ILBs (tun, dsr, wlc, cache on), the router hashing the tuple, a UDP
# echo service (port 7000, udp_echo.py) with its own idle timeouts:
# udp_timeout_s UDP_TMO (10), udp_stream_timeout_s UDP_STREAM_TMO (40).
#  1. LOSS (30) % of the cluster's UDP dropped on every ILB (nftables) for
#     the whole phase, so that members flap (the "is gone" / "joined"
#     lines of the logs are counted and reported).  UDP_N (20) long flows,
#     a datagram every 100 ms each, and UDP_SPARSE (10) sparse streams:
#     6 quick datagrams (so that each is a stream, replicated), then one
#     every SPARSE_MS (15000 ms), idle longer than udp_timeout_s but
#     shorter than udp_stream_timeout_s: only their stream state keeps
#     them.  SPARSE_KILL_S (60) s into the sparse part, past every timeout,
#     kill -9 ilb3 and withdraw its route, at a moment when no sparse
#     datagram is due for a second (they are spread SPARSE_MS / UDP_SPARSE
#     apart).  No flow changes server (the sparse streams compared with
#     their quick start too) nor is opened twice (udp_new_flow), every
#     sparse datagram is answered, a quick flow loses at most
#     QUICK_MAX_LOST and a long flow at most UDP_MAX_LOST (those in
#     flight at the kill; gaps reported), and no replicated flow expired
#     at its owner (udp_expired_end 0) while they all lived.
#  2. Loss off, ilb3 restarted (it rejoins).  UDP_N2 (60) long flows;
#     once replicated, kill -9 ilb2 and ilb3 in one command and withdraw
#     both routes: the flows they alone held (owner and backup, about one
#     in six) survive from the survivors' caches (as test_repl_double.sh
#     for TCP): no flow changes server, none loses more than UDP_MAX_LOST,
#     and the survivors adopted cached entries.
# What part 1 found (30 % loss, members declared gone 10 to 36 times a
# run), each fixed with a test in tests/unit/test_repl.c: live replicated
# UDP entries expired at an owner that missed their REFRESHes (END sent),
# and copies that missed a stream's REFRESH expired; holders now ask the
# members before expiring a replicated UDP flow (pull, lb.c
# lb_ltoc_keep_udp(); a backup answers by its own datagrams).  Then flows
# opened while members flap, before their NEW got out (known only to
# their owner), were opened twice, sometimes on another server: a member
# that disagrees with the one that handed it a datagram now hands it on
# once, and one that declared the owner gone sends it there for
# cluster.dead_ms (lb.c lb_udp_handoff(), lb_udp_gone()).  A datagram can
# still be dropped while three members disagree (misrouted), as a TCP
# segment is (and sent again by TCP): a quick flow may lose up to
# QUICK_MAX_LOST (3), never its server.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
ILB_SCHEDULER=${ILB_SCHEDULER:-wlc}
export ILB_SCHEDULER
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

LOSS=${LOSS:-30}
ECHO_PORT=7000
UDP_TMO=${UDP_TMO:-10}
UDP_STREAM_TMO=${UDP_STREAM_TMO:-40}
UDP_N=${UDP_N:-20}
UDP_N2=${UDP_N2:-60}
UDP_SPARSE=${UDP_SPARSE:-10}
SPARSE_MS=${SPARSE_MS:-15000}
SPARSE_KILL_S=${SPARSE_KILL_S:-60}
UDP_MAX_LOST=${UDP_MAX_LOST:-15}
UDP_AFTER=${UDP_AFTER:-6}
QUICK_MAX_LOST=${QUICK_MAX_LOST:-3}
FLOWS=$NETNS_LIB/udp_flows.py
J=4
K=3

# udp_conf I: ilbI.conf with the "echo" UDP service (its own timeouts)
# added (the last line of the file closes the services list).
udp_conf() {
	ilb_conf "$1" tun dsr && ilb_conf_udp "$1" echo "$ECHO_PORT" \
	    "    udp_timeout_s = $UDP_TMO;
    udp_stream_timeout_s = $UDP_STREAM_TMO;"
}

# flaps: members declared gone, as every ILB logged it ("member X is
# gone" lines, all logs).
flaps() {
	cat "$NETNS_DIR"/ilb*.log 2>/dev/null | grep -c 'member [0-9.]* is gone'
}

# flows_out TAG PID LOST [end]: stop udp_flows.py PID (SIGUSR1; with
# "end", let it end by itself), note its total and the flows that lost
# more than LOST or switched; sets rc and gap (its max gap, ms).
flows_out() {
	[ "${4:-}" = end ] || kill -USR1 "$2" 2>/dev/null
	wait "$2"
	rc=$?
	_t=$(tail -n 1 "$NETNS_DIR/$1.out")
	gap=$(echo "$_t" | sed -n 's/.*max_gap_ms \([0-9]*\).*/\1/p')
	note "$1: $_t"
	grep '^flow ' "$NETNS_DIR/$1.out" |
	    awk -v m="${3:-0}" '$12 > m || $16 > 0 || $6 ~ /,/' |
	    head -n 5 | sed 's/^/# /'
}

# same_server A B: every flow of udp_flows.py's output A saw the server
# it saw in B (the flows matched by source port).
same_server() {
	awk '$1 == "flow" { if (FILENAME == ARGV[1]) s[$4] = $6
	    else if (!($4 in s) || s[$4] != $6) { print "# sport " $4 ": " s[$4] " then " $6; bad++ } }
	    END { exit bad > 0 }' "$NETNS_DIR/$1.out" "$NETNS_DIR/$2.out"
}

# held_by PORT0 N A B: how many of the N flows from source ports PORT0..
# are owned and backed up by ILBs A and B (ilbctl show owner on ilb1).
held_by() {
	_n=0
	_ida=$(ilb_id "$3")
	_idb=$(ilb_id "$4")
	for _p in $(seq "$1" $(($1 + $2 - 1))); do
		ctl 1 show owner "$CLIENT_ADDR:$_p" "$VIP:$ECHO_PORT" udp |
		    awk -v a="$_ida" -v b="$_idb" '
			($1 == "owner" || $1 == "backup") && ($2 == a || $2 == b) { n++ }
			END { exit n != 2 }' && _n=$((_n + 1))
	done
	echo "$_n"
}

# survivors_sum KEY: counter KEY summed over the last stats_snapshot of
# ilb1 and ilb$J (the survivors of part 2).
survivors_sum() {
	cat "$NETNS_DIR/stats.1" "$NETNS_DIR/stats.$J" 2>/dev/null |
	    awk -v k="$1" '$1 == k { s += $2 } END { print s + 0 }'
}

require_ilbd
netns_setup
check "topology up" topo_up
check "udp_echo.py runs in every server namespace" \
    start_udp_echo "$ECHO_PORT"
for _j in 1 2 3; do
	check "ilb$_j starts (tun, dsr, $ILB_SCHEDULER; echo: udp_timeout_s $UDP_TMO, udp_stream_timeout_s $UDP_STREAM_TMO)" \
	    eval "udp_conf $_j && start_ilb $_j"
done
check "ilb$J's namespace added (192.0.2.1$J)" topo_add_ilb $J
check "ilb$J starts" eval "udp_conf $J && start_ilb $J"
check "every ILB logs the others joined" wait_members 60
check "add ilb$J's route" route_add_nexthop $J
check "the route has the four ILBs" [ "$(route_ilb_list | tr '\n' ' ')" = "1 2 3 4 " ]
check "the router's ECMP hashes the tuple (policy 3)" router_tuple_hash
if [ "$fail" -ne 0 ]; then show_logs 20; finish; exit 1; fi

# 1. Heavy control loss, long and sparse flows, kill -9 ilb3.
_flaps0=$(flaps)
check "drop $LOSS % of the cluster's UDP on every ILB (nftables)" loss_on "$LOSS"
stats_snapshot
_new0=$(stat_sum udp_new_flow)
bg "$NS_CLIENT" "$NETNS_DIR/long.out" "$PYTHON" "$FLOWS" \
    -n "$UDP_N" -i 100 -d 150 -t 2 --max-lost "$UDP_MAX_LOST" \
    --sport-base 20000 --ready "$NETNS_DIR/long.ready" \
    -o "$NETNS_DIR/long.json" "$VIP" "$ECHO_PORT"
LONG_PID=$BG_PID
check "$UDP_N long flows answered" wait_for "$NETNS_DIR/long.ready" READY 60
# the sparse streams' quick start: 6 datagrams 100 ms apart (> 4: streams)
nsx "$NS_CLIENT" "$PYTHON" "$FLOWS" -n "$UDP_SPARSE" -i 100 -c 6 -d 10 \
    -t 3 --max-lost "$QUICK_MAX_LOST" --sport-base 21000 "$VIP" \
    "$ECHO_PORT" > "$NETNS_DIR/quick.out" 2>&1
_rc=$?
note "quick: $(tail -n 1 "$NETNS_DIR/quick.out")"
check "$UDP_SPARSE sparse streams: 6 quick datagrams each, at most $QUICK_MAX_LOST lost (exit $_rc)" \
    [ "$_rc" -eq 0 ]
stats_snapshot
_new=$(($(stat_sum udp_new_flow) - ${_new0:-0}))
check "no flow opened twice: $_new UDP flows opened for $((UDP_N + UDP_SPARSE))" \
    [ "$_new" -eq $((UDP_N + UDP_SPARSE)) ]
# then a datagram every SPARSE_MS each, the same source ports
_t0=$(now_ms)
bg "$NS_CLIENT" "$NETNS_DIR/sparse.out" "$PYTHON" "$FLOWS" \
    -n "$UDP_SPARSE" -i "$SPARSE_MS" -d $((SPARSE_KILL_S + SPARSE_MS / 1000 + 1)) \
    -t 3 --max-lost 0 --sport-base 21000 -o "$NETNS_DIR/sparse.json" \
    "$VIP" "$ECHO_PORT"
SPARSE_PID=$BG_PID
# the kill 35 % of a slot after sparse flow 0's datagram of SPARSE_KILL_S
_slot=$((SPARSE_MS / UDP_SPARSE))
_kill_at=$((_t0 + SPARSE_KILL_S * 1000 + _slot * 35 / 100))
while [ "$(now_ms)" -lt $((_kill_at - 3000)) ]; do sleep 1; done
repl_snapshot
stats_snapshot
STATS_KEYS="udp_rx udp_new_flow udp_replicated udp_stream udp_expired_end udp_unreplicated udp_relayed udp_to_gone rebalances forward_backup forward_cache handoff_out misrouted orphan" \
    stats_print
_e=$(stat_sum udp_expired_end)
check "no replicated flow expired at its owner under the live flows (udp_expired_end=${_e:-missing}, all ILBs, $(($(now_ms) - _t0)) ms into the sparse part)" \
    [ "${_e:-1}" -eq 0 ]
_fl=$(($(flaps) - _flaps0))
note "members flapped: declared gone $_fl times (all ILBs' logs) in $(($(now_ms) - _t0)) ms of the sparse part; $(stat_sum rebalances) rebalances"
while [ "$(now_ms)" -lt "$_kill_at" ]; do sleep 0.05; done
note "kill -9 ilb$K and withdraw its route ($(($(now_ms) - _t0)) ms into the sparse part)"
kill_ilb $K
check "withdraw ilb$K's route" route_del_nexthop $K
check "the survivors log ilb$K gone" repl_wait_gone $K 60
flows_out sparse "$SPARSE_PID" 0 end
check "sparse streams: every datagram answered, each kept its server (exit $rc)" \
    [ "$rc" -eq 0 ]
check "sparse streams: the server of their quick start" same_server quick sparse
_s=$(grep '^flow ' "$NETNS_DIR/sparse.out" | awk '{ s += $8 } END { print s + 0 }')
check "sparse streams: $_s datagrams, at least 4 each (idle up to $SPARSE_MS ms, past udp_timeout_s)" \
    [ "$_s" -ge $((UDP_SPARSE * 4)) ]
sleep 1
stats_snapshot
_e=$(stat_sum udp_expired_end)
check "no replicated flow expired at a survivor (udp_expired_end=${_e:-missing})" \
    [ "${_e:-1}" -eq 0 ]
flows_out long "$LONG_PID" "$UDP_MAX_LOST"
check "long flows: each kept its server, lost at most $UDP_MAX_LOST (max gap ${gap:-?} ms; exit $rc)" \
    [ "$rc" -eq 0 ]
_d=$(loss_dropped)
check "the loss rules dropped cluster datagrams ($_d)" [ "$_d" -gt 0 ]
check "members flapped under the loss before the kill (declared gone $_fl times)" \
    [ "$_fl" -gt 0 ]
loss_off
STATS_KEYS="udp_rx udp_new_flow udp_replicated udp_stream udp_expired_end udp_unreplicated udp_relayed udp_to_gone rebalances promoted forward_backup forward_cache misrouted orphan" \
    stats_print

# 2. Owner and backup die together.
check "ilb$K starts again" start_ilb $K
check "ilb$K rejoins: its join completes, the others log it joined" \
    repl_rejoined $K 60
check "restore ilb$K's route" route_add_nexthop $K
check "the route has the four ILBs" [ "$(route_ilb_list | tr '\n' ' ')" = "1 2 3 4 " ]
stats_snapshot
_rep0=$(stat_sum udp_replicated)
bg "$NS_CLIENT" "$NETNS_DIR/double.out" "$PYTHON" "$FLOWS" \
    -n "$UDP_N2" -i 100 -d 60 -t 2 --max-lost "$UDP_MAX_LOST" \
    --sport-base 22000 --ready "$NETNS_DIR/double.ready" \
    -o "$NETNS_DIR/double.json" "$VIP" "$ECHO_PORT"
DOUBLE_PID=$BG_PID
check "$UDP_N2 flows answered" wait_for "$NETNS_DIR/double.ready" READY 60
check "the flows replicated (udp_replicated >= ${_rep0:-0} + $UDP_N2)" \
    wait_until 30 live_stat_at_least udp_replicated $((${_rep0:-0} + UDP_N2))
sleep 2
_h=$(held_by 22000 "$UDP_N2" 2 3)
note "$_h of the $UDP_N2 flows are owned and backed up by ilb2 and ilb3"
stats_snapshot
_ad0=$(survivors_sum adopted)
note "kill -9 ilb2 and ilb3 at the same moment, withdraw their routes"
kill -KILL "$(ilb_pid 2)" "$(ilb_pid 3)"
kill_ilb 2
kill_ilb 3
check "withdraw ilb2's and ilb3's routes" route_ilbs 1 4
check "the survivors log ilb2 gone" repl_wait_gone 2 60
check "the survivors log ilb3 gone" repl_wait_gone 3 60
sleep "$UDP_AFTER"
flows_out double "$DOUBLE_PID" "$UDP_MAX_LOST"
check "owner and backup killed together: every flow kept its server, lost at most $UDP_MAX_LOST (max gap ${gap:-?} ms; exit $rc)" \
    [ "$rc" -eq 0 ]
stats_snapshot
STATS_KEYS="udp_rx udp_replicated udp_expired_end adopted holders_gone left_together promoted forward_backup forward_cache misrouted orphan" \
    stats_print
_ad=$(($(survivors_sum adopted) - ${_ad0:-0}))
check "the survivors adopted cached flows ($_ad)" [ "$_ad" -gt 0 ]
for _j in 1 $J; do
	check "ilb$_j still running" ilb_alive "$_j"
done
[ "$fail" -eq 0 ] || show_logs 15
finish

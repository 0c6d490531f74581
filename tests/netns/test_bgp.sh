#!/bin/sh
# test_bgp.sh: the router's route to the VIP comes from BGP, as in a real
# network: BIRD 2 in the router namespace (examples/bird-router.conf:
# dynamic BGP, BFD, ECMP "merge paths") and in each of 3 ILB namespaces
# (examples/bird-ilb.conf: imports ilbd's readiness table, announce.table
# $ANN_TABLE).  No next hop is set by hand.  3 ILBs (tun, dsr, wlc),
# KA_C (300) keep-alive connections:
#   start: an ILB is announced only once active: while an ILB has not
#     logged "join complete", neither its table nor the router holds a
#     path via it (sampled; the third is held joining for the join
#     timeout, 10 s, by dropping the reliable channel's TCP);
#   kill -9 of ilbd on ilb2: its path leaves the router (time printed);
#   graceful leave (SIGTERM) of ilb3: its path carries 65535:0 and leaves
#     the router's ECMP route while ilbd still runs (time printed), then it
#     exits 0;
#   no connection fails, no request goes unanswered, orphan == 0.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
ANN_TABLE=242			# as in examples/bird-ilb.conf
ANN_DRAIN_MS=${ANN_DRAIN_MS:-2000}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/netns/lib/bgp.sh
. "$NETNS_LIB/bgp.sh"
EXAMPLES=$BGP_EXAMPLES
for _c in bird birdc nft; do
	command -v "$_c" > /dev/null 2>&1 || need "needs $_c (bird2)"
done

require_ilbd
netns_setup
ILB_SCHEDULER=wlc
export ILB_SCHEDULER
check "topology up" topo_up
# the VIP's route is BGP's to make, not the test's
check "no static VIP route at the router" ip -n "$NS_ROUTER" route del "$VIP/32"
check "servers answer" start_servers
check "BIRD in the router (examples/bird-router.conf)" \
    bird_start router "$NS_ROUTER" "$EXAMPLES/bird-router.conf"
for bi in $(seq 1 "$N_ILB"); do
	check "BIRD in ilb$bi (examples/bird-ilb.conf)" \
	    bird_start "ilb$bi" "$(ns_ilb "$bi")" "$EXAMPLES/bird-ilb.conf"
done
check "each ILB's BGP session with the router is up" wait_until 60 bgp_all_up
check "without ilbd the router has no route to the VIP" \
    test -z "$(ip -n "$NS_ROUTER" route show "$VIP/32")"
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi

# start: the ILBs one after the other, each announced once it is active
readiness_watch &
WATCH_PID=$!
for bi in $(seq 1 "$N_ILB"); do
	echo "0 0" > "$NETNS_DIR/watch.$bi"
	echo "$bi" > "$NETNS_DIR/watch.cur"
	if [ "$bi" = "$N_ILB" ]; then
		# hold the last one joining: no DONE reaches it over the
		# reliable channel, so it joins for the join timeout (10 s)
		check "ilb$bi: drop the reliable channel (TCP $GROUP_PORT)" \
		    join_hold_on "$bi"
	fi
	ilb_conf "$bi" tun dsr && ilb_announce "$bi" &&
	    check "ilb$bi starts (announce.table $ANN_TABLE)" start_ilb "$bi"
	check "ilb$bi logs join complete" wait_for "$(ilb_log "$bi")" "join complete" 60
	if [ "$bi" = "$N_ILB" ]; then
		check "ilb$bi was held joining until the join timeout" \
		    grep -q "going active anyway" "$(ilb_log "$bi")"
		check "ilb$bi: the reliable channel again" join_hold_off "$bi"
	fi
	bt0=$(now_ms)
	check "the router has a path via ilb$bi" wait_until 60 has_path "$bi"
	note "ilb$bi: path at the router $(($(now_ms) - bt0)) ms after join complete was seen"
done
touch "$NETNS_DIR/watch.stop"
wait "$WATCH_PID"
for bi in $(seq 1 "$N_ILB"); do
	# a 300 ms join may pass between two samples on a busy machine; the
	# held one (10 s) must be seen
	_min=0
	[ "$bi" != "$N_ILB" ] || _min=1
	watch_result "$bi" "$_min"
done
check "each ILB's log shows the two others joined" wait_members 60
check "the router's VIP route: ECMP over ilb1, ilb2, ilb3" paths_are "1 2 3 "
note "router: $(ip -n "$NS_ROUTER" route show "$VIP/32" | tr '\n' ' ')"
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi

repl_load

# kill -9 of ilbd on ilb2: its TUN device goes, with the readiness route
note "kill -9 ilbd on ilb2"
bt0=$(now_ms)
kill_ilb 2
check "the router drops the path via ilb2" wait_until 60 no_path 2
note "ilb2's path left the router $(($(now_ms) - bt0)) ms after kill -9"
check "the router's VIP route: ilb1, ilb3" paths_are "1 3 "
check "the survivors log ilb2 gone" repl_wait_gone 2 60
repl_snapshot

# graceful leave of ilb3: de-preferred first, then it hands over and exits
note "SIGTERM ilbd on ilb3 (drain_ms $ANN_DRAIN_MS)"
bp3=$(ilb_pid 3)
bt0=$(now_ms)
kill -TERM "$bp3"
check "ilb3 marks its route leaving (metric 200)" wait_until 60 \
    sh -c "ip -n $(ns_ilb 3) route show table $ANN_TABLE | grep -q 'metric 200'"
note "ilb3's BIRD: $(birdc_ ilb3 show route protocol ilbd all | grep -iE 'metric|community|via' | tr -s ' \n' ' ')"
check "the router drops the path via ilb3" wait_until 60 no_path 3
bt1=$(now_ms)
check "ilbd on ilb3 still runs when its path is gone" kill -0 "$bp3"
note "ilb3's path left the router $((bt1 - bt0)) ms after SIGTERM"
note "router: $(birdc_ router show route "$VIP/32" all | grep -E 'via|community' | tr -s ' \n' ' ')"
check "the router kept ilb3's path with 65535:0" \
    sh -c "birdc -s $NETNS_DIR/bird-router.ctl show route $VIP/32 all | grep -q '(65535,0)'"
brc=0
_i=0
while kill -0 "$bp3" 2>/dev/null && [ "$_i" -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
wait "$bp3"; brc=$?
check "ilbd on ilb3 exits 0 ($(($(now_ms) - bt0)) ms after SIGTERM)" [ "$brc" -eq 0 ]
check "the log of ilb3: drained, then handed over" \
    grep -q "drained $ANN_DRAIN_MS ms" "$(ilb_log 3)"
check "the router's VIP route: ilb1" paths_are "1 "
check "ilb1 logs ilb3 gone" repl_wait_gone 3 60
repl_finish

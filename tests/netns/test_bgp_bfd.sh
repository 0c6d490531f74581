#!/bin/sh
# test_bgp_bfd.sh: BGP and BFD with real BIRD 2 speakers (router:
# examples/bird-router.conf; each ILB: examples/bird-ilb.conf, announce
# table $ANN_TABLE), no next hop set by hand.  ilb1 and ilb2 start (tun,
# dsr, wlc), KA_C (300) keep-alive connections, then:
#   join under load: ilb3 starts while the load runs; it is announced only
#     once active (sampled: while it has not logged "join complete",
#     neither its table nor the router holds a path via it), then the
#     router's route is ECMP over the three (time printed);
#   death of a whole machine: ilb2's LAN link goes down (its bridge port:
#     BIRD and ilbd there stop answering, nothing withdraws anything);
#     the router's BFD session to ilb2 goes down and BIRD removes the path
#     well before the BGP hold time (3 s) (time printed);
#   no connection fails, no request goes unanswered, orphan == 0.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
ANN_TABLE=242			# as in examples/bird-ilb.conf
ANN_DRAIN_MS=${ANN_DRAIN_MS:-2000}
BGP_HOLD_MS=3000		# examples/bird-router.conf, bird-ilb.conf
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/lib/bgp.sh
. "$NETNS_LIB/bgp.sh"

for _c in bird birdc nft; do
	command -v "$_c" > /dev/null 2>&1 || need "needs $_c (bird2)"
done

# bfd_up I: the router's BFD session to ILB I is Up.
bfd_up() { birdc_ router show bfd sessions | grep -q "^$(ilb_addr "$1") .* Up"; }

require_ilbd
netns_setup
ILB_SCHEDULER=wlc
export ILB_SCHEDULER
check "topology up" topo_up
check "no static VIP route at the router" ip -n "$NS_ROUTER" route del "$VIP/32"
check "servers answer" start_servers
check "BIRD in the router (examples/bird-router.conf)" \
    bird_start router "$NS_ROUTER" "$BGP_EXAMPLES/bird-router.conf"
for bi in $(seq 1 "$N_ILB"); do
	check "BIRD in ilb$bi (examples/bird-ilb.conf)" \
	    bird_start "ilb$bi" "$(ns_ilb "$bi")" "$BGP_EXAMPLES/bird-ilb.conf"
done
check "each ILB's BGP session with the router is up" wait_until 60 bgp_all_up
check "the router's BFD sessions to ilb1..3 are up" wait_until 30 \
    sh -c "[ \$(birdc -s $NETNS_DIR/bird-router.ctl show bfd sessions | grep -c ' Up ') -eq 3 ]"
for bi in 1 2; do
	ilb_conf "$bi" tun dsr && ilb_announce "$bi" &&
	    check "ilb$bi starts (announce.table $ANN_TABLE)" start_ilb "$bi"
	check "the router has a path via ilb$bi" wait_until 60 has_path "$bi"
done
check "the router's VIP route: ECMP over ilb1, ilb2" paths_are "1 2 "
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi

repl_load

# join of ilb3 under load: not announced before it is active
ilb_conf 3 tun dsr && ilb_announce 3
echo "0 0" > "$NETNS_DIR/watch.3"
echo 3 > "$NETNS_DIR/watch.cur"
readiness_watch &
WATCH_PID=$!
bt0=$(now_ms)
check "ilb3 starts under load" start_ilb 3
check "ilb3 logs join complete" wait_for "$(ilb_log 3)" "join complete" 60
bt1=$(now_ms)
check "the router has a path via ilb3" wait_until 60 has_path 3
note "ilb3: joined $((bt1 - bt0)) ms after start (as seen), path at the router $(($(now_ms) - bt1)) ms after join complete was seen"
touch "$NETNS_DIR/watch.stop"
wait "$WATCH_PID"
watch_result 3 1
check "each ILB's log shows the two others joined" wait_members 60
check "the router's VIP route: ECMP over ilb1, ilb2, ilb3" paths_are "1 2 3 "
repl_snapshot

# a whole ILB goes away: ilb2's link down; nobody withdraws anything
check "the router's BFD session to ilb2 is up" bfd_up 2
# the router's BIRD logs its protocols' events from here on (the example
# logs only what BIRD logs by default: no session changes)
check "the router's BIRD debugs its protocols" \
    sh -c "birdc -s $NETNS_DIR/bird-router.ctl debug all all | grep -qv -i error"
note "ilb2's LAN link down (bridge port ilb2)"
bt0=$(now_ms)
ip -n "$NS_LAN" link set ilb2 down
check "the router drops the path via ilb2" wait_until 60 no_path 2
bt1=$(now_ms)
note "ilb2's path left the router $((bt1 - bt0)) ms after its link went down"
check "... before the BGP hold time ($BGP_HOLD_MS ms): BFD did it" \
    test $((bt1 - bt0)) -lt "$BGP_HOLD_MS"
check "the router's BIRD logs a BFD session down" \
    grep -qi "BFD session down" "$NETNS_DIR/bird-router.log"
note "router's log: $(grep -i 'session down' "$NETNS_DIR/bird-router.log" | head -n 2 | cut -c 12- | tr '\n' ';')"
check "the router's VIP route: ilb1, ilb3" paths_are "1 3 "
check "the survivors log ilb2 gone" repl_wait_gone 2 60
repl_finish

#!/bin/sh
# test_peers.sh: a network that carries no multicast.  nftables in every
# ILB namespace drops every datagram to the cluster group (out and in) for
# the whole run.  The router's route to the VIP comes from BGP, as in
# test_bgp.sh: BIRD 2 in the router (examples/bird-router.conf) and in
# each ILB (examples/bird-ilb.conf, announce.table $ANN_TABLE); no next
# hop is set by hand.
# (a) Without cluster.peers (the old behaviour), 3 ILBs never hear each
# other: after CONTROL_S (3) s no log shows a member joined, and the rules
# did drop the group's datagrams.  (b) The same ILBs restarted one after
# the other with cluster.peers listing all three (own address included)
# and the announce group: each is announced only once active (sampled as
# in test_bgp.sh), the router's route is ECMP over the three; under KA_C
# (300) keep-alive connections (tun, dsr, wlc), kill -9 of ilbd on ilb2:
# its path leaves the router by BGP (time printed), the members see ilb2
# gone, replication carries its connections: no connection fails, no
# request goes unanswered, orphan == 0; nothing more reaches the group
# (the rules' counters stand still), cluster_rx > 0, no datagram is
# refused as from outside the peers.  Then SIGHUP ilb1 with a fourth peer
# added (it sends to 3 peers), then without peers (refused: a restart is
# needed).
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
CONTROL_S=${CONTROL_S:-3}
ANN_TABLE=242			# as in examples/bird-ilb.conf
ANN_DRAIN_MS=${ANN_DRAIN_MS:-2000}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/lib/bgp.sh
. "$NETNS_LIB/bgp.sh"
for _c in bird birdc nft; do
	command -v "$_c" > /dev/null 2>&1 || need "needs $_c (bird2)"
done

# peers_joins: "member ... joined" lines in every ILB log.
peers_joins() {
	for _j in $(seq 1 "$N_ILB"); do
		grep -c "member .* joined" "$(ilb_log "$_j")" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}

require_ilbd
netns_setup
ILB_SCHEDULER=wlc
export ILB_SCHEDULER
check "topology up" topo_up
# the VIP's route is BGP's to make, not the test's
check "no static VIP route at the router" ip -n "$NS_ROUTER" route del "$VIP/32"
check "servers answer" start_servers
check "drop all multicast to the cluster group in every ILB (nftables)" \
    mcast_drop_on
check "BIRD in the router (examples/bird-router.conf)" \
    bird_start router "$NS_ROUTER" "$BGP_EXAMPLES/bird-router.conf"
for pi in $(seq 1 "$N_ILB"); do
	check "BIRD in ilb$pi (examples/bird-ilb.conf)" \
	    bird_start "ilb$pi" "$(ns_ilb "$pi")" "$BGP_EXAMPLES/bird-ilb.conf"
done
check "each ILB's BGP session with the router is up" wait_until 60 bgp_all_up
check "without ilbd the router has no route to the VIP" \
    test -z "$(ip -n "$NS_ROUTER" route show "$VIP/32")"
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi

# (a) multicast only: the members never meet
check "3 ILBs start without cluster.peers" start_ilbs tun dsr
sleep "$CONTROL_S"
_j0=$(peers_joins)
_d0=$(mcast_dropped)
check "without peers: no member joined in $CONTROL_S s ($_j0 'joined' lines)" \
    [ "$_j0" -eq 0 ]
check "the rules dropped the group's datagrams ($_d0)" [ "$_d0" -gt 0 ]
for pi in $(seq 1 "$N_ILB"); do stop_ilb "$pi"; done
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi
# (b) reads the logs from their start ("join complete"): (a)'s aside
for pi in $(seq 1 "$N_ILB"); do
	mv "$(ilb_log "$pi")" "$NETNS_DIR/ilb$pi.a.log" || exit 1
done

# (b) cluster.peers: the kill scenario by unicast, routed by BGP.  The
# ILBs start one after the other, each announced once it is active.
_peers=
for pi in $(seq 1 "$N_ILB"); do _peers="$_peers $(ilb_id "$pi")"; done
_d1=$(mcast_dropped)
readiness_watch &
WATCH_PID=$!
for pi in $(seq 1 "$N_ILB"); do
	echo "0 0" > "$NETNS_DIR/watch.$pi"
	echo "$pi" > "$NETNS_DIR/watch.cur"
	# shellcheck disable=SC2086 # one address per argument
	ilb_conf "$pi" tun dsr && ilb_conf_peers "$pi" $_peers &&
	    ilb_announce "$pi" &&
	    check "ilb$pi starts with cluster.peers =$_peers (announce.table $ANN_TABLE)" \
	    start_ilb "$pi"
	check "ilb$pi logs join complete" wait_for "$(ilb_log "$pi")" "join complete" 60
	pt0=$(now_ms)
	check "the router has a path via ilb$pi" wait_until 60 has_path "$pi"
	note "ilb$pi: path at the router $(($(now_ms) - pt0)) ms after join complete was seen"
done
touch "$NETNS_DIR/watch.stop"
wait "$WATCH_PID"
# a short join may pass between two samples: no minimum of samples
for pi in $(seq 1 "$N_ILB"); do watch_result "$pi" 0; done
check "each logs unicast to its 2 peers" \
    wait_logs "cluster: unicast to 2 peers, no multicast" 10000
check "with peers: each ILB log shows the two others joined" wait_members 60
check "the router's VIP route: ECMP over ilb1, ilb2, ilb3" paths_are "1 2 3 "
note "router: $(ip -n "$NS_ROUTER" route show "$VIP/32" | tr '\n' ' ')"
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi

repl_load
# kill -9 of ilbd on ilb2: its TUN device goes with the readiness route,
# BIRD withdraws, the router drops the path (not repl_kill: no hand-made
# route change)
note "kill -9 ilbd on ilb2"
pt0=$(now_ms)
kill_ilb 2
check "the router drops the path via ilb2" wait_until 60 no_path 2
note "ilb2's path left the router $(($(now_ms) - pt0)) ms after kill -9"
check "the router's VIP route: ilb1, ilb3" paths_are "1 3 "
check "the survivors log ilb2 gone" repl_wait_gone 2 60
repl_results
_d2=$(mcast_dropped)
check "nothing sent to the group with peers (rules' counters $_d1 -> $_d2)" \
    [ "$_d2" -eq "$_d1" ]
for _k in cluster_rx cluster_rx_reject cluster_rx_not_peer cluster_tx_errors; do
	note "$_k: $(for pi in 1 3; do printf 'ilb%s=%s ' "$pi" "$(stat_of "$pi" "$_k")"; done)"
done
check "cluster datagrams received by unicast (cluster_rx on ilb1: $(stat_of 1 cluster_rx))" \
    [ "$(stat_of 1 cluster_rx)" -gt 0 ]
check "no datagram refused as from outside the peers (cluster_rx_not_peer: $(stat_sum cluster_rx_not_peer))" \
    [ "$(stat_sum cluster_rx_not_peer)" -eq 0 ]

# a reload changes the list at once; from unicast to multicast is refused
_c1=$NETNS_DIR/ilb1.conf
sed "s|^\(  peers = \[.*\)\( \];\)\$|\1, \"$(ilb_id 4)\"\2|" "$_c1" > "$_c1.new" &&
    mv "$_c1.new" "$_c1" && chmod 644 "$_c1"
check "SIGHUP ilb1 with a fourth peer" kill -HUP "$(ilb_pid 1)"
check "ilb1 now sends to 3 peers" wait_for "$(ilb_log 1)" \
    "cluster: unicast to 3 peers (was 2)" 30
sed '/^  peers = /d' "$_c1" > "$_c1.new" && mv "$_c1.new" "$_c1" && chmod 644 "$_c1"
check "SIGHUP ilb1 without peers" kill -HUP "$(ilb_pid 1)"
check "ilb1 refuses to switch to multicast at run time" wait_for "$(ilb_log 1)" \
    "cluster.peers (from unicast to multicast) cannot change at run time" 30
check "ilb1 still runs" ilb_alive 1
repl_done

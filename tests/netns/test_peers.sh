#!/bin/sh
# test_peers.sh: a network that carries no multicast.  nftables in every
# ILB namespace drops every datagram to the cluster group (out and in).
# (a) Without cluster.peers (the old behaviour), 3 ILBs never hear each
# other: after CONTROL_S (3) s no log shows a member joined, and the rules
# did drop the group's datagrams.  (b) The same ILBs restarted with
# cluster.peers listing all three (own address included): the kill of
# test_repl_kill.sh (tun, dsr, wlc, KA_C keep-alive connections, kill -9
# ilb2 and withdraw its route) loses nothing; the members join and see
# ilb2 gone, replication carries its connections, nothing more reaches
# the group (the rules' counters stand still), no datagram is refused as
# from outside the peers.  Then SIGHUP ilb1 with a fourth peer added (it
# sends to 3 peers), then without peers (refused: a restart is needed).
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
CONTROL_S=${CONTROL_S:-3}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

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
check "servers answer" start_servers
check "drop all multicast to the cluster group in every ILB (nftables)" \
    mcast_drop_on

# (a) multicast only: the members never meet
check "3 ILBs start without cluster.peers" start_ilbs tun dsr
sleep "$CONTROL_S"
_j0=$(peers_joins)
_d0=$(mcast_dropped)
check "without peers: no member joined in $CONTROL_S s ($_j0 'joined' lines)" \
    [ "$_j0" -eq 0 ]
check "the rules dropped the group's datagrams ($_d0)" [ "$_d0" -gt 0 ]
for _i in $(seq 1 "$N_ILB"); do stop_ilb "$_i"; done
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi

# (b) cluster.peers: the kill scenario by unicast
_peers=
for _i in $(seq 1 "$N_ILB"); do _peers="$_peers $(ilb_id "$_i")"; done
_d1=$(mcast_dropped)
_ok=0
for _i in $(seq 1 "$N_ILB"); do
	# shellcheck disable=SC2086 # one address per argument
	ilb_conf "$_i" tun dsr && ilb_conf_peers "$_i" $_peers &&
	    start_ilb "$_i" || _ok=1
done
check "3 ILBs start with cluster.peers =$_peers (wlc, hello $HELLO_MS ms, dead $DEAD_MS ms)" \
    [ "$_ok" -eq 0 ]
check "each logs unicast to its 2 peers" \
    wait_logs "cluster: unicast to 2 peers, no multicast" 10000
check "with peers: each ILB log shows the two others joined" wait_members 60
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi
repl_load
repl_kill 2
repl_results
_d2=$(mcast_dropped)
check "nothing sent to the group with peers (rules' counters $_d1 -> $_d2)" \
    [ "$_d2" -eq "$_d1" ]
for _k in cluster_rx cluster_rx_reject cluster_rx_not_peer cluster_tx_errors; do
	note "$_k: $(for _i in 1 3; do printf 'ilb%s=%s ' "$_i" "$(stat_of "$_i" "$_k")"; done)"
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

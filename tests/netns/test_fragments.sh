#!/bin/sh
# test_fragments.sh: fragmented TCP through ilbd (IPv4).  Three ILBs, tun,
# dsr.  The client does no path MTU discovery (ip_no_pmtu_disc=1: DF
# clear) and the router's LAN side (its eth0) has MTU $LAN_MTU (1000) while
# the client, the ILBs and the servers stay at 1500: the client sends
# 1500-byte segments, the router routes each (ECMP by its L4 hash) and then
# fragments it, so all the fragments of a datagram reach the same ILB; the
# first carries the TCP header, the later ones do not.  An upload arrives
# only if ilbd sends the later fragments after the first: to the same
# server, or in GRE to the same owner (a fragment of at most LAN_MTU bytes
# + 28 of GRE still fits the 1500 between ILBs).  Otherwise the servers
# never reassemble the segment and the upload stalls until curl's
# --max-time.
#
# $N (30) HTTP POSTs of $SIZE (102400) random bytes, each on a new
# connection; httpd.py answers with the length and SHA-256 it received.
# Passes only if every answer matches, the router fragmented and the
# servers reassembled, frag_forwarded summed over the ILBs > 0, fragment
# (later fragments dropped) == 0 and parse_tiny_fragment == 0 (every first
# fragment is ~1000 bytes), dsr_too_big == 0 and gre_too_big == 0 (every
# fragment fits the 1500 of the LAN, in GRE too), nothing misrouted, every
# ILB still running.
# (No fragment should be dropped: over veth the fragments of a datagram
# arrive in order, the first first, well within the 5 s an ILB waits.)
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

N=${N:-30}
SIZE=${SIZE:-102400}
LAN_MTU=${LAN_MTU:-1000}
MAXT=${MAXT:-20}        # curl --max-time per upload, seconds
PROBE=3                 # if the first PROBE uploads all fail, stop there

require_ilbd
netns_setup
check "topology up" topo_up
check "client: no path MTU discovery (DF clear)" \
    sysctl_set "$NS_CLIENT" net.ipv4.ip_no_pmtu_disc=1
check "router: LAN side (eth0) MTU $LAN_MTU" \
    ip -n "$NS_ROUTER" link set eth0 mtu "$LAN_MTU"
check "servers answer" start_servers
check "3 ILBs start (mode tun, forward dsr)" start_ilbs tun dsr
check "each ILB log shows the two others joined" wait_members 60
head -c "$SIZE" /dev/urandom > "$NETNS_DIR/upload"
check "an upload of $SIZE random bytes" \
    [ "$(wc -c < "$NETNS_DIR/upload")" -eq "$SIZE" ]
if [ "$fail" -ne 0 ]; then show_logs 15; finish; exit 1; fi

frag0=$(snmp "$NS_ROUTER" Ip FragCreates)
reasm0=$(srv_snmp_sum Ip ReasmOKs)
rfail0=$(srv_snmp_sum Ip ReasmFails)
uploads_run "$N"
frags=$(($(snmp "$NS_ROUTER" Ip FragCreates) - frag0))
reasm=$(($(srv_snmp_sum Ip ReasmOKs) - reasm0))
rfail=$(($(srv_snmp_sum Ip ReasmFails) - rfail0))

done_ok=$(uploads_whole)
uploads_report "$N"
note "router created $frags fragments; servers reassembled $reasm datagrams, $rfail reassemblies failed"
check "all $N uploads arrive whole (length and SHA-256; $done_ok did)" \
    [ "$done_ok" -eq "$N" ]
check "the router fragmented the client's segments ($frags fragments)" \
    [ "$frags" -gt 0 ]
check "the servers reassembled them ($reasm datagrams)" [ "$reasm" -gt 0 ]

sleep 0.5
stats_snapshot
STATS_KEYS="rx frag_forwarded frag_held fragment parse_tiny_fragment forward_owner forward_cache handoff_out handoff_in orphan misrouted dsr_too_big gre_too_big" \
    stats_print
stat_check "later fragments forwarded after their first (summed over the ILBs)" \
    frag_forwarded -gt 0
# each datagram here has one later fragment; one handed off in GRE is
# counted by the ILB that hands it off and again by the owner
_ff=$(stat_sum frag_forwarded)
! is_num "$_ff" ||
    note "frag_forwarded - datagrams reassembled = $((_ff - reasm)) (later fragments handed off in GRE, about)"
stat_check "no later fragment dropped" fragment -eq 0
stat_check "no first fragment too short for the TCP header" \
    parse_tiny_fragment -eq 0
stat_check "no fragment too big for the path to a server" dsr_too_big -eq 0
stat_check "no fragment too big for GRE to another ILB" gre_too_big -eq 0
stat_check "nothing misrouted" misrouted -eq 0
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

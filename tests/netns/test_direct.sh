#!/bin/sh
# test_direct.sh: the baseline, no ilbd: the router's ECMP route for the VIP
# points straight at the three servers (VIP on their lo); 300 requests, each
# on a new connection, all succeed and every server answers some; topo_down
# leaves no namespace and no process behind.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

N=${N:-300}
netns_setup
check "topology up" topo_up
check "servers answer" start_servers
check "route straight to the servers" route_direct
check_requests "$N"

pids=$(cat "$NETNS_DIR/pids")
topo_down
check "no namespace left after topo_down" [ -z "$(netns_list)" ]
left=
for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
check "no process left after topo_down${left:+ (left:$left)}" [ -z "$left" ]
finish

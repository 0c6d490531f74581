#!/bin/sh
# test_port_reuse.sh: the client opens a new connection on the tuple of one
# that just closed (same source port), and the ILB its packets reach holds
# the old connection's closing entry in its cache but has not learnt the
# new one: nftables drops the multicast NEW there.  The owner saw the new
# SYN (every SYN goes to its owner) and chose another server; the cache
# holder must hand the packets of the new connection to the owner instead
# of sending them to the old connection's server, which would answer with
# a reset or nothing at all.
#
# The ILB the router's ECMP picks for a tuple is found by trying source
# ports until one reaches an ILB that is neither owner nor backup (such an
# ILB learns a connection only from the multicast NEW, never over TCP).
# The router hashes the tuple itself (router_tuple_hash in lib.sh), so that
# both connections on the tuple take the same ILB, as with a real router.
# shellcheck disable=SC2046 # "set -- $(tuple_get ...)" splits the answer on purpose
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

REUSE_TABLE=ilbt_reuse
PORT0=${PORT0:-41000}
TRIES=${TRIES:-30}
: "${ILB_SCHEDULER:=rr}"	# the owner picks another server each time
export ILB_SCHEDULER

# drop_new I: in ILB I's namespace, drop every multicast NEW arriving on
# the cluster port: a MIXED message (type 8 at offset 5 of the UDP
# payload) whose first record is a NEW (type 2 at offset 44, after the
# 44-byte header), as the owner's message of a SYN is.
drop_new() {
	ip netns exec "$(ns_ilb "$1")" nft -f - <<EOF
table inet $REUSE_TABLE {
  chain input {
    type filter hook input priority -10; policy accept;
    udp dport $GROUP_PORT @th,104,8 8 @th,416,8 2 counter drop
  }
}
EOF
}

# drop_count I: NEW datagrams drop_new dropped in ILB I.
drop_count() {
	ip netns exec "$(ns_ilb "$1")" nft list table inet "$REUSE_TABLE" |
	    sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}

# count_old S: in server S's namespace, count (netdev ingress) every packet
# from the client's tuple.  old_count S: how many.
count_old() {
	ip netns exec "$(ns_srv "$1")" nft -f - <<EOF
table netdev $REUSE_TABLE {
  chain in {
    type filter hook ingress device eth0 priority -10; policy accept;
    ip saddr $CLIENT_ADDR tcp sport $PORT counter
  }
}
EOF
}
old_count() {
	ip netns exec "$(ns_srv "$1")" nft list table netdev "$REUSE_TABLE" |
	    sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}

# cache_closing I: ILB I's cache entry for the tuple is in state closing.
cache_closing() {
	ctl "$1" show owner "$CLIENT_ADDR:$PORT" "$VIP:$VIP_PORT" |
	    grep -q '^cache .* closing '
}

# grew A B: B is a number greater than A (A missing counts as 0).
grew() { is_num "$2" && [ "$2" -gt "${1:-0}" ]; }

require_ilbd
[ -x "$ILBCTL" ] || need "no $ILBCTL (build it first)"
command -v nft > /dev/null 2>&1 || need "needs nft (apt-get install nftables)"
netns_setup
# Find a source port whose packets reach an ILB that neither owns nor
# backs up the connection; the first GET on it is the old connection.
tuple_bed_up "$PORT0" "$TRIES"
note "ilb$X for port $PORT: $(ctl "$X" show owner "$CLIENT_ADDR:$PORT" "$VIP:$VIP_PORT" | tr '\n' ' ')"

check "ilb$X's cache holds the first connection, closing" \
    wait_until 30 cache_closing "$X"
check "ilb$X drops multicast NEW from now on" drop_new "$X"
h0=$(ctl_stat "$X" closing_to_owner)

# The new connection on the same tuple: its SYN reaches the owner by
# handoff, the owner picks the next server (rr); its other packets reach
# ilb$X, which never learns the NEW.
OLD=${FIRST#srv}
check "$FIRST counts what reaches it from port $PORT" count_old "$OLD"
set -- $(tuple_get "$PORT" 3)
note "second GET from port $PORT: answered by $1, code $2"
check "the second connection on the tuple succeeds (code $2)" [ "$2" = 200 ]
check "another server answers it ($FIRST first, $1 now)" \
    test "$1" != "$FIRST" -a "$1" != -
check "ilb$X dropped the NEW ($(drop_count "$X") datagrams)" \
    [ "$(drop_count "$X")" -gt 0 ]
check "nothing of the new connection reached the old server $FIRST ($(old_count "$OLD") packets)" \
    [ "$(old_count "$OLD")" -eq 0 ]
h1=$(ctl_stat "$X" closing_to_owner)
check "ilb$X handed the packets that met the closing entry to the owner (closing_to_owner ${h0:-missing} -> ${h1:-missing})" \
    grew "$h0" "$h1"
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

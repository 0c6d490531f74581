#!/bin/sh
# test_partition.sh: partition and merge (issue 18 point 5).  3 ILBs (tun,
# dsr, wlc, cache on), KA_C (300) keep-alive connections; REPL_AT (5) s
# after they are all up, nftables in ilb1's namespace cuts ilb1 off from
# ilb2 and ilb3 (every packet from or to their addresses, and ilb1's
# cluster multicast) for CUT_S (3) s while the router keeps sending to
# it.  Each side finds the other gone after dead_ms and takes over; on
# heal each hears the other claim ACTIVE.  By the merge rule of
# ilbd-protocol(7) ilb1 (the smaller side) joins again: it owns nothing
# until it has the transfer tables, and the others do not score it until
# it has.  Afterwards tools/converge finds every connection held once by
# an owner and a backup that agree on its server, and no connection
# breaks or changes server (keep-alive load), no request goes unanswered.
# Tuple reuse across the partition (the conflict rule): before the cut,
# one short connection on each of up to REUSE_N (6) tuples (source ports
# from REUSE_PORT0, 20000, below the ephemeral range) that the router
# sends to ilb1 and that ilb1 backs up: their closing entries, server X,
# stay at the owner (ilb2 or ilb3) and at ilb1 for fin_timeout_s.  During
# the cut a new keep-alive connection on each tuple (tuple_hold.py, a
# request every 0.2 s until the end) goes to ilb1, alone, which picks a
# server anew (wlc; X or another).  On heal the old owner's closing record
# of the old connection reaches ilb1 (its join's transfer table), which
# holds the new, live one: the record is refused (ilbd-protocol(7),
# Conflicting records; counted as learn_conflict) and every held
# connection must keep its server and have every request answered.
# During the cut a packet that ilb1 hands to ilb2 or ilb3 before dead_ms
# has passed is lost (TCP retransmits it): the load tolerates that, as it
# does a kill.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
CUT_S=${CUT_S:-3}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

PART_TABLE=ilbt_part

# cut_on I: ilb I's namespace drops every packet from or to the other
# ILBs, and its own cluster multicast (the group is not theirs alone).
cut_on() {
	_o=
	for _j in $(seq 1 "$N_ILB"); do
		[ "$_j" = "$1" ] || _o="$_o${_o:+, }$(ilb_addr "$_j")"
	done
	nsx "$(ns_ilb "$1")" nft -f - <<EON
table inet $PART_TABLE {
  chain input {
    type filter hook input priority -20; policy accept;
    ip saddr { $_o } counter drop
  }
  chain output {
    type filter hook output priority -20; policy accept;
    ip daddr { $_o } counter drop
    ip daddr $GROUP counter drop
  }
}
EON
}

cut_off() { nsx "$(ns_ilb "$1")" nft delete table inet "$PART_TABLE"; }

cut_dropped() {
	nsx "$(ns_ilb "$1")" nft list table inet "$PART_TABLE" 2>/dev/null |
	    awk '/packets/ { for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
}

REUSE_PORT0=${REUSE_PORT0:-20000}
REUSE_TRIES=${REUSE_TRIES:-60}
REUSE_N=${REUSE_N:-6}

# ilb_of_port PORT: the ILB the router sends the client's tuple from PORT
# to (its ECMP hash of the tuple, policy 3: ip route get).
ilb_of_port() {
	ip -n "$NS_ROUTER" route get "$VIP" from "$CLIENT_ADDR" iif eth1 \
	    ipproto tcp sport "$1" dport "$VIP_PORT" |
	    awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' |
	    sed -n 's/^192\.0\.2\.1\([0-9]\)$/\1/p'
}

# reuse_before: one GET on each of up to REUSE_N tuples the router sends
# to ilb1 and that ilb1 backs up; REUSE_LIST gets "PORT:SERVER" each.
reuse_before() {
	REUSE_LIST=
	_n=0
	for _p in $(seq "$REUSE_PORT0" $((REUSE_PORT0 + REUSE_TRIES - 1))); do
		[ "$_n" -lt "$REUSE_N" ] || break
		[ "$(ilb_of_port "$_p")" = 1 ] || continue
		[ "$(tuple_role 1 "$_p")" = backup ] || continue
		# shellcheck disable=SC2046 # the answer's two words
		set -- $(tuple_get "$_p")
		[ "$2" = 200 ] || { note "port $_p: GET failed ($*)"; continue; }
		REUSE_LIST="$REUSE_LIST $_p:$1"
		_n=$((_n + 1))
	done
	note "before the cut, closed connections on port:server$REUSE_LIST"
	[ "$_n" -gt 0 ]
}

# reuse_during: a new keep-alive connection on each tuple of REUSE_LIST
# (through ilb1, cut off), kept open (tuple_hold.py) with a request every
# 0.2 s until reuse_after.
reuse_during() {
	_ports=
	for _e in $REUSE_LIST; do _ports="$_ports ${_e%%:*}"; done
	rm -f "$NETNS_DIR/hold.stop"
	# shellcheck disable=SC2086 # the ports, one argument each
	bg "$NS_CLIENT" "$NETNS_DIR/hold.out" "$PYTHON" \
	    "$NETNS_SRC/tuple_hold.py" "$CLIENT_ADDR" "$VIP" "$VIP_PORT" \
	    "$NETNS_DIR/hold.stop" 90 $_ports
	HOLD_PID=$BG_PID
	wait_for "$NETNS_DIR/hold.out" READY 10
}

# reuse_after: stop tuple_hold.py; every held connection answered every
# request from the server of its first answer.
reuse_after() {
	touch "$NETNS_DIR/hold.stop"
	wait "$HOLD_PID"
	_rc=$?
	sed 's/^/# hold: /' "$NETNS_DIR/hold.out" | grep -v READY
	_moved=0
	for _e in $REUSE_LIST; do
		_s=$(awk -v p="${_e%%:*}" '$1 == p { print $2 }' "$NETNS_DIR/hold.out")
		[ "$_s" = "${_e#*:}" ] || _moved=$((_moved + 1))
	done
	note "$_moved of the held connections are on another server than their tuple's previous connection"
	return "$_rc"
}

command -v nft > /dev/null 2>&1 || need "needs nft (apt-get install nftables)"
repl_setup
check "the router's ECMP hashes the tuple (policy 3)" router_tuple_hash
repl_load
check "closed connections on tuples that ilb1 backs up" reuse_before
check "converged before the cut" repl_converge 30
note "cut ilb1 off from ilb2 and ilb3 for $CUT_S s (the router still sends to it)"
check "ilb1 cut off (nftables)" cut_on 1
check "ilb2 and ilb3 log ilb1 gone" repl_wait_gone 1 30
_re=$(member_re "$(ilb_id 2)" "is gone")
check "ilb1 logs ilb2 gone" wait_for "$(ilb_log 1)" "$_re" 30
_t0=$(now_ms)
check "new keep-alive connections on those tuples through ilb1 alone" reuse_during
_left=$((CUT_S * 1000 - ($(now_ms) - _t0)))
[ "$_left" -le 0 ] || sleep "$((_left / 1000)).$(printf %03d $((_left % 1000)))"
note "cut dropped $(cut_dropped 1) packets; heal"
check "healed" cut_off 1
check "ilb1 joins again (the smaller side): join complete a second time" \
    wait_until 30 sh -c "[ \$(grep -c 'join complete' '$(ilb_log 1)') -ge 2 ]"
check "ilb1 logs that it joins again (merge rule)" grep -q "this node joins again" "$(ilb_log 1)"
# ilb2 and ilb3 never score ilb1 between the heal and its new join: after
# "is gone", ilb1 joined as joining (it heard them first and went joining
# at once), or joined as active and is held unscored at once
back_unscored() {
	awk -v id="member $(ilb_id 1) " '
	    index($0, id) && /is gone/ { g = 1; n = 0; next }
	    g && index($0, id) {
		if (++n == 1) {
			if (/joined .*joining/) { ok = 1; exit }
			if (/joined .*active/) next
			exit
		}
		ok = /declared gone/; exit
	    }
	    END { exit !ok }' "$(ilb_log "$1")"
}
check "ilb2 did not score ilb1 until it joined again" back_unscored 2
check "ilb3 did not score ilb1 until it joined again" back_unscored 3
check "every ILB has 3 active members again" wait_until 30 sh -c \
    "for j in 1 2 3; do tail -n 200 $NETNS_DIR/ilb\$j.log | grep 'membership: ' | tail -n 1 | grep -q '3 active members\$' || exit 1; done"
check "converged after the heal: one owner, one backup, one server each" \
    repl_converge 30
repl_results
check "the connections opened during the cut kept their server, every request answered" reuse_after
stat_check "ilb1 joined again once" cluster_merge_rejoins -eq 1 1
stat_check "ilb2 and ilb3 did not join again" cluster_merge_rejoins -eq 1
note "merge records refused by the conflict rule: learn_conflict=$(stat_sum learn_conflict); members held unscored: $(stat_sum cluster_merge_held)"
repl_done

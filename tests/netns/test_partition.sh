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

command -v nft > /dev/null 2>&1 || need "needs nft (apt-get install nftables)"
repl_setup
repl_load
check "converged before the cut" repl_converge 30
note "cut ilb1 off from ilb2 and ilb3 for $CUT_S s (the router still sends to it)"
check "ilb1 cut off (nftables)" cut_on 1
check "ilb2 and ilb3 log ilb1 gone" repl_wait_gone 1 30
_re=$(member_re "$(ilb_id 2)" "is gone")
check "ilb1 logs ilb2 gone" wait_for "$(ilb_log 1)" "$_re" 30
sleep "$CUT_S"
note "cut dropped $(cut_dropped 1) packets; heal"
check "healed" cut_off 1
check "ilb1 joins again (the smaller side): join complete a second time" \
    wait_until 30 sh -c "[ \$(grep -c 'join complete' '$(ilb_log 1)') -ge 2 ]"
check "ilb1 logs that it joins again (merge rule)" grep -q "this node joins again" "$(ilb_log 1)"
# ilb2 and ilb3 never score ilb1 between the heal and its new join: the
# first word on it after "is gone" is that it joined as joining (it heard
# them first and went joining at once), or that it is held unscored
back_unscored() {
	awk -v id="member $(ilb_id 1) " 'index($0, id) && /is gone/ { g = 1; next }
	    g && index($0, id) { ok = /joined .*joining/ || /declared gone/; exit }
	    END { exit !ok }' "$(ilb_log "$1")"
}
check "ilb2 did not score ilb1 until it joined again" back_unscored 2
check "ilb3 did not score ilb1 until it joined again" back_unscored 3
check "every ILB has 3 active members again" wait_until 30 sh -c \
    "for j in 1 2 3; do tail -n 200 $NETNS_DIR/ilb\$j.log | grep 'membership: ' | tail -n 1 | grep -q '3 active members\$' || exit 1; done"
check "converged after the heal: one owner, one backup, one server each" \
    repl_converge 30
repl_results
stat_check "ilb1 joined again once" cluster_merge_rejoins -eq 1 1
stat_check "ilb2 and ilb3 did not join again" cluster_merge_rejoins -eq 1
note "merge records refused by the conflict rule: learn_conflict=$(stat_sum learn_conflict); members held unscored: $(stat_sum cluster_merge_held)"
repl_done

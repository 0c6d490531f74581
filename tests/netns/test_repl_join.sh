#!/bin/sh
# test_repl_join.sh: a 4th ILB (192.0.2.14) joins under load.  KA_C (300)
# keep-alive connections through 3 ILBs (tun, dsr, wlc); REPL_AT (5) s
# after they are all up, ilb4 starts: the others log it joined, it gets
# the entries it will own or back up (claim 17) and becomes active; then
# its route is added, so the router sends it part of the established
# connections.  No connection breaks or changes server, every request is
# answered, no orphan, and ilb4 does carry packets.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
# JOIN_RE: a joiner's log line saying its join is over (grep -i -E)
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

J=4
repl_setup
check "ilb$J's namespace added (192.0.2.1$J)" topo_add_ilb $J
check "ilb$J configured" ilb_conf $J tun dsr
repl_load
note "start ilb$J"
check "ilb$J starts" start_ilb $J
# wait_members also waits for every ILB's "join complete" (ilb4's too):
# only then is its route added
check "every ILB logs the others joined and its join complete (ilb$J included)" \
    wait_members 60
note "ilb$J: $(grep 'join complete' "$(ilb_log $J)" | tail -n 1)"
check "add ilb$J's route" route_add_nexthop $J
check "the route has the four ILBs" [ "$(route_ilb_list | tr '\n' ' ')" = "1 2 3 4 " ]
repl_results
stat_check "ilb$J received packets" rx -gt 0 $J
stat_check "ilb$J had every member's table (no join timeout)" repl_join_timeouts -eq 0 $J
stat_check "ilb$J was sent entries (claim 17)" repl_new_rx -gt 0 $J
check_alive
repl_done

#!/bin/sh
# test_repl_double.sh: owner and backup die together (issue 18).  4 ILBs
# (tun, dsr, wlc, cache on), KA_C (300) keep-alive connections; REPL_AT
# (5) s after they are all up, kill -9 ilb2 and ilb3 in one command and
# withdraw both routes.  The connections that only they held (owner and
# backup, about one in six) survive in the survivors' caches: the new
# owner and backup adopt them (LTOC entry, role, copy to the other),
# whether the survivors find both dead in one membership change or in
# two a moment apart.
# tools/converge then finds every connection held once by an owner and a
# backup that agree; no connection breaks or changes server, every request
# is answered, no orphan.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

J=4
repl_setup
check "ilb$J's namespace added (192.0.2.1$J)" topo_add_ilb $J
check "ilb$J configured" ilb_conf $J tun dsr
check "ilb$J starts" start_ilb $J
check "every ILB logs the others joined and its join complete" wait_members 60
check "add ilb$J's route" route_add_nexthop $J
check "the route has the four ILBs" [ "$(route_ilb_list | tr '\n' ' ')" = "1 2 3 4 " ]
repl_load
check "converged before the kill" repl_converge 30
note "kill -9 ilb2 and ilb3 at the same moment, withdraw their routes"
kill -KILL "$(ilb_pid 2)" "$(ilb_pid 3)"
kill_ilb 2
kill_ilb 3
check "withdraw ilb2's and ilb3's routes" route_ilbs 1 4
check "the survivors log ilb2 gone" repl_wait_gone 2 60
check "the survivors log ilb3 gone" repl_wait_gone 3 60
check "converged after the kill: one owner, one backup, one server each" \
    repl_converge 30
repl_results
stat_check "the survivors adopted cached connections" adopted -gt 0
# one membership change or two (ilb2 and ilb3 found silent a tick apart):
# holders_gone counts entries whose two holders left in the same one
note "holders_gone=$(stat_sum holders_gone) (0 when the two deaths were two membership changes)"
repl_done

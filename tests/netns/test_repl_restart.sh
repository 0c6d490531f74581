#!/bin/sh
# test_repl_restart.sh: crash and restart under load (issue 18).  3 ILBs
# (tun, dsr, wlc), KA_C (300) keep-alive connections; REPL_AT (5) s after
# they are all up, kill -9 ilb2 and withdraw its route; the survivors log
# it gone; RESTART_S (3) s later ilb2 starts again, joins (it is sent the
# entries it will own or back up) and its route is added back.  No
# connection breaks or changes server, every request is answered, no
# orphan, and tools/converge finds every connection held once by an owner
# and a backup that agree, after the crash and after the restart.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
RESTART_S=${RESTART_S:-3}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

V=2
repl_setup
repl_load
repl_kill $V
check "converged after the crash" repl_converge 30
# the scenario's own delay before the restart, not a wait for work
sleep "$RESTART_S"
note "restart ilb$V ${RESTART_S}s after the crash"
check "ilb$V starts again" start_ilb $V
check "ilb$V rejoins: its join completes, the others log it joined" \
    repl_rejoined $V 60
check "restore ilb$V's route" route_add_nexthop $V
check "the route has the three ILBs again" \
    [ "$(route_ilb_list | tr '\n' ' ')" = "1 2 3 " ]
check "converged after the restart" repl_converge 30
repl_results
stat_check "ilb$V received packets after its restart" rx -gt 0 $V
stat_check "ilb$V was sent entries when it rejoined (claim 17)" repl_new_rx -gt 0 $V
check_alive
repl_done

#!/bin/sh
# test_repl_leave.sh: graceful leave.  KA_C (300) keep-alive connections
# through 3 ILBs (tun, dsr, wlc); REPL_AT (5) s after they are all up,
# SIGTERM ilb2: it hands every entry it owns or backs up to the new
# holders, waits for their acknowledgement and exits 0 (LEAVE_S, 60 s,
# only catches a hang); then its route is withdrawn.  No connection breaks or changes
# server, every request is answered, no orphan.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
LEAVE_S=${LEAVE_S:-60}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

V=2
repl_setup
repl_load
note "SIGTERM ilb$V (graceful leave)"
leave_ilb $V
check "ilb$V exits 0 within ${LEAVE_S}s of SIGTERM (exit $rc after $t ms)" [ "$rc" = 0 ]
check "withdraw ilb$V's route" route_del_nexthop $V
repl_finish

#!/bin/sh
# test_repl_loss.sh: 5 % (LOSS) of the cluster's UDP (port 7946) dropped
# at random by nftables on every ILB from the start; KA_C (300) keep-alive
# connections; REPL_AT (5, >= 1) s after they are all up, kill -9 ilb3
# and withdraw its route.  The backups' copies must not depend on one
# datagram (acknowledgement and retransmission): no connection breaks,
# every request is answered, no orphan, and the rules did drop datagrams.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
LOSS=${LOSS:-5}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

repl_setup
check "drop $LOSS % of the cluster's UDP on every ILB (nftables)" loss_on "$LOSS"
[ "$REPL_AT" -ge 1 ] || REPL_AT=1
repl_load
repl_kill 3
repl_results
check "the loss rules dropped cluster datagrams ($(loss_dropped))" \
    [ "$(loss_dropped)" -gt 0 ]
loss_off
repl_done

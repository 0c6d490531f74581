#!/bin/sh
# test_repl_loss45.sh: test_repl_loss.sh with connections that live past
# every syn and handshake timeout: LOSS (5) % of the cluster's UDP dropped
# at random on every ILB; KA_C (300) keep-alive connections, a request
# every 100 ms each, scheduler wlc; REPL_AT (45) s after they are all up
# (past tables.syn_timeout_s, 30 s), kill -9 ilb3 and withdraw its route.
# A backup copy must not depend on the one multicast REFRESH that made it
# established (issue 18): no connection breaks, every request is
# answered, no orphan, and no LTOC entry expired before the kill.
# ILB_CACHE_SIZE=0: the same without cache
# (test_repl_loss45_nocache.sh).
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
LOSS=${LOSS:-5}
REPL_AT=${REPL_AT:-45}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

repl_setup
check "drop $LOSS % of the cluster's UDP on every ILB (nftables)" loss_on "$LOSS"
repl_load
repl_no_expiry
repl_kill 3
repl_results
check "the loss rules dropped cluster datagrams ($(loss_dropped))" \
    [ "$(loss_dropped)" -gt 0 ]
if [ "${ILB_CACHE_SIZE:-}" = 0 ]; then
	stat_check "no ILB forwarded from a cache (cache_size 0)" forward_cache -eq 0
fi
loss_off
repl_done

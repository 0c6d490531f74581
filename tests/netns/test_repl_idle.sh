#!/bin/sh
# test_repl_idle.sh: idle connections through heavy control loss (issue
# 18): LOSS (30) % of the cluster's UDP dropped on every ILB (members
# flap); KA_C (300) keep-alive connections make one request each, then
# stay idle IDLE_S (40) s, past tables.syn_timeout_s (30 s); kill -9 ilb3
# and withdraw its route; then every connection makes one more request:
# all answered on their first server, no orphan, no LTOC entry expired
# before the kill.  ILB_CACHE_SIZE=0: the
# same without cache (test_repl_idle_nocache.sh).
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
LOSS=${LOSS:-30}
IDLE_S=${IDLE_S:-40}
REPL_AFTER=${REPL_AFTER:-1}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

repl_setup
check "drop $LOSS % of the cluster's UDP on every ILB (nftables)" loss_on "$LOSS"
keepalive_start "$KA_C" 0 --idle
check "keepalive: $KA_C connections up, one request each" keepalive_wait 60
since_ready_sleep "$IDLE_S"
repl_snapshot
repl_no_expiry
repl_kill 3
check "every connection sends one more request" keepalive_poke
repl_idle_results
check "the loss rules dropped cluster datagrams ($(loss_dropped))" \
    [ "$(loss_dropped)" -gt 0 ]
if [ "${ILB_CACHE_SIZE:-}" = 0 ]; then
	stat_check "no ILB forwarded from a cache (cache_size 0)" forward_cache -eq 0
fi
loss_off
repl_done

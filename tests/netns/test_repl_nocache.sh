#!/bin/sh
# test_repl_nocache.sh: test_repl_kill.sh with tables.cache_size = 0 on
# every ILB (claim 15: no LTOC cache, so a packet reaching a non-owner is
# always handed off, and after the kill only the backups' LTOC copies keep
# ilb2's connections alive): kill -9 ilb2 and withdraw its route REPL_AT
# (5) s after the KA_C (300) connections are up; none breaks, every
# request is answered, no orphan.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
ILB_CACHE_SIZE=0                # read by ilb_conf in lib.sh
export ILB_CACHE_SIZE
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

repl_setup
repl_load
repl_kill 2
repl_results
stat_check "no ILB forwarded from a cache (cache_size 0)" forward_cache -eq 0
repl_done

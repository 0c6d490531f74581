#!/bin/sh
# test_repl_idle_nocache.sh: test_repl_idle.sh with tables.cache_size = 0
# on every ILB (claim 15): after the kill only the backups' LTOC copies
# keep ilb3's idle connections alive.
ILB_CACHE_SIZE=0                # read by ilb_conf in lib.sh
export ILB_CACHE_SIZE
exec sh "$(dirname "$0")/test_repl_idle.sh" "$@"

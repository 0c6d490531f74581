#!/bin/sh
# test_repl_steady.sh: the baseline of the test_repl_* scenarios: 3 ILBs
# (tun, dsr, scheduler wlc), KA_C (300) keep-alive connections for
# REPL_AT + REPL_AFTER (15) s, a GET every 100 ms on each, and no membership change at all:
# every connection lives on one server, every request is answered, and
# no packet is an orphan.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

repl_setup
repl_load
note "no membership change"
check_alive
repl_finish

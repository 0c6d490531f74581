#!/bin/sh
# test_repl_kill.sh: 3 ILBs (tun, dsr, scheduler wlc), KA_C (300)
# keep-alive connections (until REPL_AFTER s after the kill); REPL_AT (5) s after they are all
# up, kill -9 ilb2 and withdraw its route at once.  The survivors log it
# gone; its connections go on through their backups (claim 18): no
# connection breaks or changes server, every request is answered, no
# packet is an orphan.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

repl_setup
repl_load
repl_kill 2
repl_finish

#!/bin/sh
# test_workers_pcap.sh: test_workers.sh in input mode pcap, two workers
# each reading a capture socket of one PACKET_FANOUT_HASH group.
REPL_MODE=pcap
export REPL_MODE
exec "$(dirname "$0")/test_workers.sh"

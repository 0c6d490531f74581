#!/bin/sh
# test_workers_xdp.sh: test_workers.sh in input mode xdp (xdp_mode auto:
# native on veth), each ILB's eth0 with two RX queues whose AF_XDP sockets
# two workers read, one each.
REPL_MODE=xdp
ILB_QUEUES=2
export REPL_MODE ILB_QUEUES
exec "$(dirname "$0")/test_workers.sh"

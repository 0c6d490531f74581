#!/bin/sh
# test_icmp_ptb6.sh: test_icmp_ptb.sh over IPv6: ICMPv6 "packet too big"
# for connections to VIP6 reaches each connection's server through ilbd.
PTB_FAMILY=6 exec sh "$(dirname "$0")/test_icmp_ptb.sh"

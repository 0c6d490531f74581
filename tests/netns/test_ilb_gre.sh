#!/bin/sh
# test_ilb_gre.sh: three ILBs in tun mode forwarding to the servers in GRE;
# each server runs tests/netns/gredecap (GREDECAP_ARGS, e.g. "-k KEY", are
# passed to it) which writes the inner packets to its TUN gre0; 300
# requests, each on a new connection.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

scenario_ilb tun gre "${N:-300}"
finish

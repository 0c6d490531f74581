#!/bin/sh
# test_ilb_tun.sh: three ILBs in tun mode forwarding with DSR behind the
# router's ECMP route; 1,000 requests, each on a new connection.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

scenario_ilb tun dsr "${N:-1000}"
finish

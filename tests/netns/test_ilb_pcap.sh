#!/bin/sh
# test_ilb_pcap.sh: three ILBs in pcap mode (capture on eth0, ip_forward=0)
# forwarding with DSR; 300 requests, each on a new connection.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

scenario_ilb pcap dsr "${N:-300}"
finish

#!/bin/sh
# test_udp_dns_pcap.sh: test_udp_dns.sh with the ILBs in pcap mode: the
# capture filter takes the UDP services' datagrams as well as TCP.
UDP_MODE=pcap
# shellcheck source=tests/netns/test_udp_dns.sh
. "$(dirname "$0")/test_udp_dns.sh"

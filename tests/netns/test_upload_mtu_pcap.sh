#!/bin/sh
# test_upload_mtu_pcap.sh: test_upload_mtu.sh with the ILBs in pcap mode:
# no TUN device whose MTU makes the kernel answer, so ilbd sends the ICMP
# "fragmentation needed" itself when a handoff is too big for GRE.
UPLOAD_MODE=pcap
# shellcheck source=tests/netns/test_upload_mtu.sh
. "$(dirname "$0")/test_upload_mtu.sh"

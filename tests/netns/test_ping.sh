#!/bin/sh
# test_ping.sh: ping to a VIP.  Three ILBs (tun, dsr) and lib.sh's IPv6
# topology (IPV6=1: the IPv4 VIP and VIP6).  ilbd answers an ICMP or
# ICMPv6 echo request to a VIP itself, from the VIP, wherever the router
# sent it (no handoff), at most icmp.echo_rate a second.
#  (a) default echo_rate (100): from the client, ping -c 3 VIP and
#      ping -6 -c 3 VIP6 get 3 replies each, from the VIP; the ILBs'
#      icmp_echo_answered sums to >= 6, nothing rate-limited, no send
#      error.
#  (b) echo_rate = 5 (reload, SIGHUP): ping -c 40 -i 0.01 VIP (0.4 s)
#      gets some replies but not all (the bucket holds 5, refills 5 a
#      second), and icmp_echo_ratelimited > 0.
# Before this, every echo to a VIP was dropped (not_tcp): (a) fails.
# shellcheck disable=SC2154 # fail: lib/assert.sh's counter
IPV6=1
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

command -v ping > /dev/null || need "ping (iputils-ping)"
require_ilbd
netns_setup
check "topology up" topo_up
check "servers answer" start_servers
check "3 ILBs start (tun, dsr)" start_ilbs tun dsr
check "each ILB log shows the two others joined" wait_members 60
[ "$fail" -eq 0 ] || { show_logs 15; finish; exit 1; }

# ping_ok ADDR COUNT [OPTS]: all COUNT replies, each from ADDR.
ping_ok() {
	_a=$1 _n=$2; shift 2
	_out=$(nsx "$NS_CLIENT" ping -n -c "$_n" -i 0.2 -W 2 "$@" "$_a" 2>&1)
	echo "$_out" | sed -n 's/^/#   /; /received/p'
	[ "$(echo "$_out" | grep -c "bytes from $_a: icmp_seq=")" -eq "$_n" ]
}

check "ping -c 3 $VIP: 3 replies from the VIP" ping_ok "$VIP" 3
check "ping -6 -c 3 $VIP6: 3 replies from the VIP" ping_ok "$VIP6" 3 -6
stats_snapshot
STATS_KEYS="rx icmp_echo_answered icmp_echo_ratelimited icmp_echo_errors not_tcp"
stats_print
stat_check "echo requests answered by the ILBs" icmp_echo_answered -ge 6
stat_check "none rate-limited at the default rate" icmp_echo_ratelimited -eq 0
stat_check "no echo reply send error" icmp_echo_errors -eq 0
stat_check "no echo request counted as a drop (not_tcp)" not_tcp -eq 0

# (b) echo_rate = 5 on every ILB, by reload
for j in $(seq 1 "$N_ILB"); do
	printf 'icmp = {\n  echo_rate = 5;\n};\n' >> "$NETNS_DIR/ilb$j.conf"
	kill -HUP "$(ilb_pid "$j")"
done
for j in $(seq 1 "$N_ILB"); do
	check "ilb$j reloaded with echo_rate 5" \
	    wait_for "$(ilb_log "$j")" "configuration reloaded" 30
done
sleep 1.2               # the buckets refill to their 5
out=$(nsx "$NS_CLIENT" ping -n -c 40 -i 0.01 -W 1 "$VIP" 2>&1)
got=$(echo "$out" | grep -c "bytes from $VIP: icmp_seq=")
note "40 pings in 0.4 s at echo_rate 5: $got replies"
check "some replies ($got >= 3)" [ "$got" -ge 3 ]
check "not all: rate-limited ($got <= 20)" [ "$got" -le 20 ]
stats_snapshot
stats_print
stat_check "echo requests rate-limited" icmp_echo_ratelimited -gt 0
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

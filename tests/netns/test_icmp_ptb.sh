#!/bin/sh
# test_icmp_ptb.sh: path MTU discovery through ilbd (IPv4).  Three ILBs,
# tun, dsr.  The router's route to the client has mtu $HOP_MTU (1280) while
# the client, the servers and the LAN stay at 1500: the client's SYN
# advertises MSS 1460, so a server answers with 1500-byte segments with DF
# set; the router drops them and sends ICMP "fragmentation needed" (type 3
# code 4, next-hop MTU 1280) to their source, the VIP, which its ECMP route
# takes to some ILB.  Only if ilbd delivers that ICMP to the connection's
# server (the embedded tuple, reversed) does the server lower its path MTU
# and the download complete; otherwise it stalls (no MTU probing) until
# curl's --max-time.
#
# $N (30) downloads of $SIZE (262144) bytes, each on a new connection; before
# each, every server's cached path MTU is flushed, so that each download
# needs a PTB of its own.  Passes only if every download completes with the
# right size, its server learnt the path MTU $HOP_MTU, the router sent at
# least N "destination unreachable" and the servers received every one of
# them (nothing else sends them any), icmp_ptb summed over the ILBs >= N,
# icmp_orphan == 0 (every PTB is for a live connection: it answers a
# segment of a transfer still in progress), not_tcp == 0 (no other non-TCP
# traffic is sent to the VIP), and every ILB is still running.
#
# PTB_FAMILY=6 (test_icmp_ptb6.sh) does the same over IPv6 (lib.sh's IPV6=1
# topology, VIP6): the router sends ICMPv6 "packet too big" instead.
# shellcheck source=tests/netns/lib.sh
PTB_FAMILY=${PTB_FAMILY:-4}
[ "$PTB_FAMILY" = 4 ] || IPV6=1
. "$(dirname "$0")/lib.sh"

N=${N:-30}
SIZE=${SIZE:-262144}
HOP_MTU=${HOP_MTU:-1280}
MAXT=${MAXT:-20}        # curl --max-time per download, seconds
PROBE=3                 # if the first PROBE downloads all stall, stop there
if [ "$PTB_FAMILY" = 6 ]; then
	CLIENT_NET=2001:db8:c::/64 CLIENT_SRC=$ROUTER6_CLIENT
	PTB_CLIENT=$CLIENT6_ADDR PTB_URL="http://[$VIP6]:$VIP_PORT"
	ICMP_OUT="Icmp6 OutPktTooBigs" ICMP_IN="Icmp6 InPktTooBigs"
	ICMP_WHAT="ICMPv6 packet too big"
	RATELIMIT=net.ipv6.icmp.ratelimit=0
	# IPv6 forwarding honours only a locked route MTU; metric 256 is the
	# connected route's, which the replacement must replace
	MTU_LOCK="metric 256 mtu lock"
else
	CLIENT_NET=203.0.113.0/24 CLIENT_SRC=203.0.113.1
	PTB_CLIENT=$CLIENT_ADDR PTB_URL="http://$VIP:$VIP_PORT"
	ICMP_OUT="Icmp OutDestUnreachs" ICMP_IN="Icmp InDestUnreachs"
	ICMP_WHAT="ICMP fragmentation needed"
	RATELIMIT=net.ipv4.icmp_ratelimit=0
	MTU_LOCK=mtu
fi

# srv_pmtu I: the path MTU server I has cached for the client ("" if none).
srv_pmtu() {
	ip -n "$(ns_srv "$1")" route get "$PTB_CLIENT" 2>/dev/null |
	    sed -n 's/.* mtu \([0-9]*\).*/\1/p' | head -n 1
}

# flush_pmtu: forget every server's cached path MTU (route exceptions);
# fails if some server still has one.
flush_pmtu() {
	for _i in $(seq 1 "$N_SRV"); do
		ip -n "$(ns_srv "$_i")" -"$PTB_FAMILY" route flush cache ||
		    return 1
	done
	for _i in $(seq 1 "$N_SRV"); do
		[ -z "$(srv_pmtu "$_i")" ] || return 1
	done
}

# download I: GET /bytes/$SIZE on a new connection; appends
# "I code size server pmtu" to $NETNS_DIR/downloads (pmtu: the path MTU
# the answering server has cached for the client afterwards, - if none).
download() {
	_r=$(timeout --foreground -k 2 $((MAXT + 5)) \
	    ip netns exec "$NS_CLIENT" curl -s --http1.1 --max-time "$MAXT" \
	    -H 'Connection: close' -o /dev/null \
	    -w '%{http_code} %{size_download} %header{x-server}' \
	    "$PTB_URL/bytes/$SIZE" 2>/dev/null)
	# shellcheck disable=SC2086 # split curl's three fields
	set -- "$1" $_r
	_srv=${4:--}
	_pmtu=-
	case $_srv in
	srv[1-9]) _pmtu=$(srv_pmtu "${_srv#srv}"); _pmtu=${_pmtu:--};;
	esac
	echo "$1 ${2:-000} ${3:-0} $_srv $_pmtu" >> "$NETNS_DIR/downloads"
}

require_ilbd
netns_setup
check "topology up" topo_up
# shellcheck disable=SC2086 # MTU_LOCK is a list of words
check "router: route to the client with mtu $HOP_MTU (the small hop)" \
    ip -n "$NS_ROUTER" route replace "$CLIENT_NET" dev eth1 src "$CLIENT_SRC" \
    $MTU_LOCK "$HOP_MTU"
# every too-big segment gets its ICMP at once (no 1/s per-destination limit)
check "router: ICMP errors not rate-limited" \
    sysctl_set "$NS_ROUTER" "$RATELIMIT"
# no blackhole detection: only a delivered PTB lets a download complete
for _i in $(seq 1 "$N_SRV"); do
	check "srv$_i: TCP MTU probing off" \
	    sysctl_set "$(ns_srv "$_i")" net.ipv4.tcp_mtu_probing=0
done
check "servers answer" start_servers
check "3 ILBs start (mode tun, forward dsr)" start_ilbs tun dsr
check "each ILB log shows the two others joined" wait_members 60
if [ "$fail" -ne 0 ]; then show_logs 15; finish; exit 1; fi

# shellcheck disable=SC2086 # ICMP_OUT and ICMP_IN are "GROUP FIELD"
icmp_out0=$(snmp "$NS_ROUTER" $ICMP_OUT)
# shellcheck disable=SC2086
icmp_in0=$(srv_snmp_sum $ICMP_IN)
: > "$NETNS_DIR/downloads"
stale=0
i=1
while [ "$i" -le "$N" ]; do
	flush_pmtu || stale=$((stale + 1))
	download "$i"
	if [ "$i" -eq "$PROBE" ] && [ "$i" -lt "$N" ] &&
	    [ "$(awk -v s="$SIZE" '$2 == 200 && $3 == s' "$NETNS_DIR/downloads" |
	    wc -l)" -eq 0 ]; then
		note "the first $PROBE downloads all stalled: the other $((N - i)) are not tried"
		break
	fi
	i=$((i + 1))
done
# shellcheck disable=SC2086
icmp_out=$(($(snmp "$NS_ROUTER" $ICMP_OUT) - icmp_out0))
# shellcheck disable=SC2086
icmp_in=$(($(srv_snmp_sum $ICMP_IN) - icmp_in0))

done_ok=$(awk -v s="$SIZE" '$2 == 200 && $3 == s { n++ } END { print n + 0 }' \
    "$NETNS_DIR/downloads")
learnt=$(awk -v s="$SIZE" -v m="$HOP_MTU" '$2 == 200 && $3 == s && $5 == m { n++ }
    END { print n + 0 }' "$NETNS_DIR/downloads")
by_srv=$(awk '$2 == 200 { n[$4]++ } END { for (s in n) printf "%s=%d ", s, n[s] }' \
    "$NETNS_DIR/downloads")
note "downloads: $N of $SIZE bytes ($(wc -l < "$NETNS_DIR/downloads") tried), $done_ok complete (answered by: ${by_srv:-none})"
awk -v s="$SIZE" '!($2 == 200 && $3 == s)' "$NETNS_DIR/downloads" | head -n 5 |
    while read -r _n _c _b _s _m; do
	note "  download $_n: http $_c, $_b bytes, server $_s, its path MTU $_m"
    done
note "router sent $icmp_out $ICMP_WHAT, servers received $icmp_in"
check "before each download no server had a path MTU cached ($stale had)" \
    [ "$stale" -eq 0 ]
check "all $N downloads complete with $SIZE bytes ($done_ok did)" \
    [ "$done_ok" -eq "$N" ]
check "each download's server learnt the path MTU $HOP_MTU ($learnt did)" \
    [ "$learnt" -eq "$N" ]
check "the router sent >= $N $ICMP_WHAT ($icmp_out)" \
    [ "$icmp_out" -ge "$N" ]
check "the servers received every one through the ILBs ($icmp_in of $icmp_out)" \
    [ "$icmp_in" -eq "$icmp_out" ]

sleep 0.5
stats_snapshot
STATS_KEYS="rx icmp_ptb icmp_orphan not_tcp forward_owner forward_cache handoff_out handoff_in orphan misrouted" \
    stats_print
stat_check "ICMP PTBs delivered (summed over the ILBs) >= $N" icmp_ptb -ge "$N"
stat_check "no ICMP PTB for an unknown connection" icmp_orphan -eq 0
stat_check "no other non-TCP packet dropped" not_tcp -eq 0
stat_check "nothing misrouted" misrouted -eq 0
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

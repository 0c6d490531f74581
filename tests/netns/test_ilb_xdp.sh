#!/bin/sh
# test_ilb_xdp.sh: three ILBs in input mode xdp (AF_XDP on eth0, the XDP
# program in skb mode) forwarding with DSR, as test_ilb_pcap.sh: requests
# through the VIP all answered and spread over the servers; what is not
# for a VIP still reaches the ILBs' kernels (the cluster's multicast, a
# ping of an ILB's own address); a reload that adds a VIP and one that
# removes it update the program's VIP map; an ILB killed leaves its
# program, which the next start replaces; after ilbd stops, eth0 has no
# XDP program.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

VIP2=198.51.100.20

require_ilbd
netns_setup

# start_xdp_ilbs: ilb_conf and start_ilb for each ILB, input.xdp_mode
# from $XDP_MODES in turn (default: skb, skb, native: veth has both).
XDP_MODES=${XDP_MODES:-skb skb native}
start_xdp_ilbs() {
	for _j in $(seq 1 "$N_ILB"); do
		_m=$(echo "$XDP_MODES" | awk -v j="$_j" '{ print $(((j - 1) % NF) + 1) }')
		ilb_conf "$_j" xdp dsr && ilb_conf_metrics "$_j" || return 1
		sed "s/^  mode = \"xdp\";/&\n  xdp_mode = \"$_m\";/" \
		    "$NETNS_DIR/ilb$_j.conf" > "$NETNS_DIR/ilb$_j.conf.new" &&
		    mv "$NETNS_DIR/ilb$_j.conf.new" "$NETNS_DIR/ilb$_j.conf" &&
		    chmod 644 "$NETNS_DIR/ilb$_j.conf" &&
		    grep -q "xdp_mode = \"$_m\"" "$NETNS_DIR/ilb$_j.conf" &&
		    start_ilb "$_j" || return 1
	done
}

# xdp_metric I NAME: NAME's value in ILB I's /metrics ("" if absent).
xdp_metric() {
	nsx "$(ns_ilb "$1")" curl -s --max-time 20 \
	    "http://$(ilb_addr "$1"):9650/metrics" |
	    awk -v n="$2" '$1 == n { print $2 }'
}

# xdp_on I: ILB I's eth0 runs an XDP program.
xdp_on() { ip -n "$(ns_ilb "$1")" link show dev eth0 | grep -q ' xdp'; }
xdp_off() { ! xdp_on "$1"; }

# input_packets I: what ILB I's AF_XDP sockets received (ilbctl's stats).
input_packets() { ctl_stat "$1" input_packets; }

# input_sum: input_packets over the three ILBs.
input_sum() {
	_s=0
	for _j in $(seq 1 "$N_ILB"); do
		_v=$(input_packets "$_j")
		is_num "$_v" || return 1
		_s=$((_s + _v))
	done
	echo "$_s"
}

# vip2_set: VIP2 on every server's lo and routed over the ILBs.
vip2_set() {
	for _s in $(seq 1 "$N_SRV"); do
		ip -n "$(ns_srv "$_s")" addr add "$VIP2/32" dev lo || return 1
	done
	_nh=
	for _j in $(seq 1 "$N_ILB"); do
		_nh="$_nh nexthop via $(ilb_addr "$_j") dev eth0"
	done
	# shellcheck disable=SC2086 # _nh is a list of words
	ip -n "$NS_ROUTER" route replace "$VIP2/32" $_nh
}

# conf_web2 I on|off: ILB I's file with or without a service web2 on VIP2;
# then SIGHUP it.
conf_web2() {
	_f="$NETNS_DIR/ilb$1.conf"
	if [ "$2" = on ]; then
		sed '$d' "$_f" > "$_f.new" && cat >> "$_f.new" <<EOF || return 1
  ,
  {
    name = "web2";
    vip = "$VIP2";
    port = $VIP_PORT;
    forward = "dsr";
    scheduler = "rr";
    health = { check = "none"; };
    servers = ( { address = "$(srv_addr 1)"; weight = 1; },
      { address = "$(srv_addr 2)"; weight = 1; },
      { address = "$(srv_addr 3)"; weight = 1; } );
  }
);
EOF
	else
		awk '/^  ,$/ { exit } { print }' "$_f" > "$_f.new" &&
		    echo ");" >> "$_f.new" || return 1
	fi
	mv "$_f.new" "$_f" && chmod 644 "$_f" && kill -HUP "$(ilb_pid "$1")"
}

# reload_all on|off N: every ILB reloaded, the Nth reload seen in its log.
reload_all() {
	for _j in $(seq 1 "$N_ILB"); do conf_web2 "$_j" "$1" || return 1; done
	for _j in $(seq 1 "$N_ILB"); do
		wait_until 60 [ "$(count_lines "$(ilb_log "$_j")" \
		    'configuration reloaded')" -ge "$2" ] || return 1
	done
}

# vip2_requests N: N requests to VIP2 (REQ_OK, REQ_FAIL set).
vip2_requests() { REQ_VIP=$VIP2 run_requests "$1"; unset REQ_VIP; }

check "topology up" topo_up
check "servers answer" start_servers
check "VIP2 on the servers and routed over the ILBs" vip2_set
check "3 ILBs start (mode xdp, xdp_mode $XDP_MODES, forward dsr)" \
    start_xdp_ilbs
for j in $(seq 1 "$N_ILB"); do
	m=$(echo "$XDP_MODES" | awk -v j="$j" '{ print $(((j - 1) % NF) + 1) }')
	check "ilb$j: an XDP program on eth0" xdp_on "$j"
	check "ilb$j's log: attached in $m mode" grep -q \
	    "XDP program ilbd_xdp attached ($m mode" "$(ilb_log "$j")"
	check "ilb$j's log: AF_XDP input" grep -q "AF_XDP input on" \
	    "$(ilb_log "$j")"
done
if [ "$fail" -ne 0 ]; then show_logs 20; finish; exit 1; fi
# The cluster's multicast UDP is not for a VIP: passed to the kernel.
check "each ILB log shows the two others joined (multicast passed)" \
    wait_members 60
check_requests "${N:-300}"
for j in $(seq 1 "$N_ILB"); do
	_v=$(input_packets "$j")
	check "ilb$j: its AF_XDP sockets received packets (input_packets=$_v)" \
	    [ "${_v:-0}" -gt 0 ]
done
_m=$(xdp_metric 1 ilbd_input_packets_total)
check "ilb1's /metrics: ilbd_input_packets_total=$_m, counted in mode xdp" \
    [ "${_m:-0}" -gt 0 ]
_m=$(xdp_metric 1 ilbd_xdp_dropped_packets_total)
check "ilb1's /metrics: ilbd_xdp_dropped_packets_total (=$_m) exported" \
    is_num "$_m"

# Not for a VIP: the kernel answers, ilbd does not see it.
before=$(input_sum)
check "the router pings ilb1's own address" \
    nsx "$NS_ROUTER" ping -q -c 3 -i 0.2 -W 2 "$(ilb_addr 1)" > /dev/null
check "a ping of an ILB's address from a server" \
    nsx "$(ns_srv 1)" ping -q -c 3 -i 0.2 -W 2 "$(ilb_addr 3)" > /dev/null
# ctl traffic is on a Unix socket: nothing else reaches the VIP meanwhile.
after=$(input_sum)
check "the pings did not reach the AF_XDP sockets ($before, $after)" \
    [ "$before" = "$after" ]

# VIP2: not in the map yet, so passed to the kernel, which drops it.
before=$(input_sum)
vip2_requests 3
check "before the reload, VIP2 is not answered ($REQ_OK answered)" \
    [ "$REQ_OK" -eq 0 ]
after=$(input_sum)
check "nor does it reach the AF_XDP sockets ($before, $after)" \
    [ "$before" = "$after" ]
check "reload adding service web2 on VIP2 applied on every ILB" \
    reload_all on 1
vip2_requests 60
check "after the reload, VIP2's requests all succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq 60 ]
check "reload removing web2 applied on every ILB" reload_all off 2
before=$(input_sum)
vip2_requests 3
check "after the second reload, VIP2 is not answered ($REQ_OK answered)" \
    [ "$REQ_OK" -eq 0 ]
after=$(input_sum)
check "nor does it reach the AF_XDP sockets ($before, $after)" \
    [ "$before" = "$after" ]
run_requests 30
check "VIP still answered after both reloads ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq 30 ]

# A crash leaves the program; the next start replaces it.
kill_ilb 1
wait "$(ilb_pid 1)" 2>/dev/null
check "ilb1 killed: its XDP program stays" xdp_on 1
check "ilb1 starts again" start_ilb 1
check "ilb1's log: the stale program removed" \
    grep -q "removed a stale XDP program" "$(ilb_log 1)"
check "ilb1 rejoined" wait_members 60
run_requests 60
check "requests after the restart all succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq 60 ]
check_alive

for j in $(seq 1 "$N_ILB"); do
	stop_ilb "$j"
	check "ilb$j stopped: no XDP program on eth0" xdp_off "$j"
done
[ "$fail" -eq 0 ] || show_logs 15
finish

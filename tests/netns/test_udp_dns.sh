#!/bin/sh
# test_udp_dns.sh: UDP services (issue 22).  3 ILBs (tun, dsr, wlc), the
# router hashing the tuple; two UDP services on the VIP: "dns" (port 53,
# dnsmasq in every server namespace, each answering its own address for
# the test name) and "echo" (port 7000, udp_echo.py).
#  1. DNS_Q (600) queries, each from its own socket and source port
#     (dns_query.py): every answer correct, answers from every server, and
#     one-datagram flows cost no replication: NEW records queued stay far
#     below the queries (udp_unreplicated counts the flows that expired
#     unannounced: none yet, udp_timeout_s is 30 s).
#  2. UDP_N (20) long-lived flows, one datagram every 100 ms each
#     (udp_flows.py): every flow is replicated once seen again; then
#     kill -9 ilb2 and withdraw its route: no flow changes server, none
#     loses more than UDP_MAX_LOST datagrams (those in flight while the
#     survivors notice, DEAD_MS).
# With UDP_MODE=pcap (test_udp_dns_pcap.sh) the ILBs capture with libpcap,
# whose filter must take the UDP services' datagrams.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
ILB_SCHEDULER=${ILB_SCHEDULER:-wlc}
export ILB_SCHEDULER
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

UDP_MODE=${UDP_MODE:-tun}
DNS_Q=${DNS_Q:-600}
DNS_NAME=test.ilbd.example
DNS_PORT=53
ECHO_PORT=7000
UDP_N=${UDP_N:-20}
UDP_MAX_LOST=${UDP_MAX_LOST:-15}
DNSMASQ=${DNSMASQ:-$(command -v dnsmasq || echo /usr/sbin/dnsmasq)}
DNS_QUERY=$NETNS_LIB/dns_query.py

# The address server I gives for the test name.
dns_addr() { echo "198.18.0.$1"; }

# udp_services I: add the "dns" and "echo" UDP services to ilbI.conf (the
# last line of the file closes the services list).
udp_services() {
	ilb_conf_udp "$1" dns "$DNS_PORT" && ilb_conf_udp "$1" echo "$ECHO_PORT"
}

# start_udp_ilbs: configure and start the 3 ILBs with the UDP services.
start_udp_ilbs() {
	for _j in $(seq 1 "$N_ILB"); do
		ilb_conf "$_j" "$UDP_MODE" dsr && udp_services "$_j" &&
		    start_ilb "$_j" || return 1
	done
}

# dns_ready I: server I's dnsmasq answers on the VIP, from its namespace.
dns_ready() {
	nsx "$(ns_srv "$1")" "$PYTHON" "$DNS_QUERY" -q 1 -t 1 -d 5 \
	    "$VIP" "$DNS_NAME" "$(dns_addr "$1")" > /dev/null 2>&1
}

# start_dns: dnsmasq (no config file, no upstream, no hosts file) on the
# VIP in every server namespace; waits until each answers.
start_dns() {
	[ -x "$DNSMASQ" ] || { note "no dnsmasq (package dnsmasq-base)"; return 1; }
	for _i in $(seq 1 "$N_SRV"); do
		bg "$(ns_srv "$_i")" "$NETNS_DIR/dnsmasq$_i.log" "$DNSMASQ" -k \
		    --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
		    --pid-file= --port="$DNS_PORT" --listen-address="$VIP" \
		    --address="/$DNS_NAME/$(dns_addr "$_i")" --log-facility=-
	done
	for _i in $(seq 1 "$N_SRV"); do
		wait_until 30 dns_ready "$_i" ||
		    { note "dnsmasq on srv$_i does not answer"; return 1; }
	done
}

require_ilbd
netns_setup
check "topology up" topo_up
check "dnsmasq answers on the VIP in every server namespace" start_dns
check "udp_echo.py runs in every server namespace" \
    start_udp_echo "$ECHO_PORT"
check "3 ILBs start ($UDP_MODE, dsr, $ILB_SCHEDULER; udp services dns, echo)" \
    start_udp_ilbs
check "each ILB log shows the two others joined" wait_members 60
check "the router's ECMP hashes the tuple (policy 3)" router_tuple_hash
if [ "$fail" -ne 0 ]; then show_logs 20; finish; exit 1; fi

# 1. DNS: one datagram each way per flow.
stats_snapshot
_new0=$(stat_sum new_queued)
# shellcheck disable=SC2046 # one address per server
nsx "$NS_CLIENT" "$PYTHON" "$DNS_QUERY" -q "$DNS_Q" -P 20 -t 2 -d 120 \
    -o "$NETNS_DIR/dns.json" "$VIP" "$DNS_NAME" \
    $(for _i in $(seq 1 "$N_SRV"); do dns_addr "$_i"; done) \
    > "$NETNS_DIR/dns.out" 2>&1
_rc=$?
note "$(tail -n 1 "$NETNS_DIR/dns.out")"
check "dns_query: $DNS_Q queries, every answer correct (exit $_rc)" \
    [ "$_rc" -eq 0 ]
for _i in $(seq 1 "$N_SRV"); do
	_n=$(grep -o "$(dns_addr "$_i")=[0-9]*" "$NETNS_DIR/dns.out" |
	    tail -n 1 | cut -d= -f2)
	check "srv$_i answered queries (${_n:-0})" [ "${_n:-0}" -gt 0 ]
done
stats_snapshot
STATS_KEYS="rx udp_rx udp_new_flow udp_replicated udp_unreplicated new_queued handoff_out handoff_in forward_owner forward_cache misrouted no_service" \
    stats_print
_new=$(($(stat_sum new_queued) - ${_new0:-0}))
stat_check "the owners opened a flow per query (at least 90 %)" \
    udp_new_flow -ge $((DNS_Q * 9 / 10))
check "one-datagram flows are not replicated: $_new NEW records for $DNS_Q queries (at most 5 %)" \
    [ "$_new" -le $((DNS_Q / 20)) ]
stat_check "queries handed off to their owner" handoff_out -gt 0
stat_check "nothing misrouted" misrouted -eq 0
stat_check "no UDP datagram without a service" no_service -eq 0

# 2. Long-lived flows through the kill of an ILB.
stats_snapshot
_rep0=$(stat_sum udp_replicated)
bg "$NS_CLIENT" "$NETNS_DIR/flows.out" "$PYTHON" \
    "$NETNS_LIB/udp_flows.py" -n "$UDP_N" -i 100 -d 60 -t 2 \
    --max-lost "$UDP_MAX_LOST" --ready "$NETNS_DIR/flows.ready" \
    -o "$NETNS_DIR/flows.json" "$VIP" "$ECHO_PORT"
FLOWS_PID=$BG_PID
check "udp_flows: $UDP_N flows answered" \
    wait_for "$NETNS_DIR/flows.ready" READY 60
check "every flow replicated once seen again (udp_replicated >= $_rep0 + $UDP_N)" \
    wait_until 30 live_stat_at_least udp_replicated $((${_rep0:-0} + UDP_N))
note "kill -9 ilb2 and withdraw its route"
kill_ilb 2
check "withdraw ilb2's route" route_del_nexthop 2
check "the survivors log ilb2 gone" repl_wait_gone 2 60
# the flows go on through the survivors: once they have taken 20 more
# datagrams a flow, stop sending (SIGUSR1) and wait for the report
_rx0=$(live_stat_sum udp_rx)
check "the survivors carry the flows on ($UDP_N x 20 datagrams)" \
    wait_until 60 live_stat_at_least udp_rx $((_rx0 + UDP_N * 20))
kill -USR1 "$FLOWS_PID" 2>/dev/null
wait "$FLOWS_PID"
_rc=$?
note "$(tail -n 1 "$NETNS_DIR/flows.out")"
grep '^flow ' "$NETNS_DIR/flows.out" | awk '$12 > 0 || $16 > 0' |
    head -n 5 | sed 's/^/# /'
check "udp_flows: every flow kept its server, lost at most $UDP_MAX_LOST (exit $_rc)" \
    [ "$_rc" -eq 0 ]
stats_snapshot
STATS_KEYS="rx udp_rx udp_new_flow udp_replicated udp_stream promoted learn_backup learn_cache forward_backup forward_cache misrouted orphan" \
    stats_print
check_alive_but() {
	for _j in $(seq 1 "$N_ILB"); do
		[ "$_j" = "$1" ] || check "ilb$_j still running" ilb_alive "$_j"
	done
}
check_alive_but 2
[ "$fail" -eq 0 ] || show_logs 15
finish

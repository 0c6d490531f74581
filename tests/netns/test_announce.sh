#!/bin/sh
# test_announce.sh: ilbd's readiness routes (announce.table), no routing
# daemon: for input tun and then pcap, one ILB with announce.table 4243:
# once active, table 4243 holds VIP/32 out of ilb0, metric 100 (pcap:
# ilb0 is a TUN device made only for this); a reload that adds a service
# on a second VIP adds its route, one that removes it deletes it; SIGTERM
# turns the routes to metric 200 while ilbd still runs (drain_ms 1500),
# then ilbd exits 0 and table and device are gone; after a restart, kill
# -9 leaves neither route nor device behind.  Requests to the VIP
# succeed in both modes.  In tun mode ilbd's own route of the VIP into
# ilb0 (main table, metric 0) has protocol kernel, which FRR's zebra
# ignores (test_frr.sh: otherwise it would hide the readiness route).
N_ILB=1
ANN_TABLE=4243
VIP2=198.51.100.20
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

table() { ip -n "$(ns_ilb 1)" route show table "$ANN_TABLE" 2>/dev/null; }
# has ADDR METRIC: the table holds ADDR out of ilb0 with METRIC.
has() { table | grep -q "^$1 dev ilb0 proto static scope link metric $2"; }
table_empty() { [ -z "$(table)" ]; }
no_ilb0() { ! ip -n "$(ns_ilb 1)" link show ilb0 > /dev/null 2>&1; }

# conf MODE [SECOND_VIP]: ILB 1's configuration, announce group appended.
conf() {
	ilb_conf 1 "$1" dsr || return 1
	if [ -n "$2" ]; then
		# a second service "web2" on VIP2, before the closing ");"
		sed -i '$d' "$NETNS_DIR/ilb1.conf"
		cat >> "$NETNS_DIR/ilb1.conf" <<EOC
  , { name = "web2"; vip = "$VIP2"; port = 80; health = { check = "none"; };
      servers = ( { address = "$(srv_addr 1)"; } ); }
);
EOC
	fi
	cat >> "$NETNS_DIR/ilb1.conf" <<EOC
announce = { table = $ANN_TABLE; drain_ms = 1500; };
EOC
}

require_ilbd
netns_setup
check "topology up" topo_up
check "servers answer" start_servers
for mode in tun pcap; do
	note "--- input $mode"
	conf "$mode" && check "ilb1 starts ($mode)" start_ilb 1
	check "$mode: ilb1 active" wait_for "$(ilb_log 1)" "announce: active" 60
	check "$mode: table $ANN_TABLE: $VIP out of ilb0, metric 100" \
	    wait_until 10 has "$VIP" 100
	note "$mode: table $ANN_TABLE: $(table | tr '\n' ' ')"
	[ "$mode" != tun ] || check "tun: ilbd's own route of the VIP into ilb0 is protocol kernel (zebra ignores it)" \
	    sh -c "ip -n $(ns_ilb 1) route show $VIP/32 | grep -q '^$VIP dev ilb0 proto kernel '"
	run_requests 30
	check "$mode: 30 requests to the VIP" [ "$REQ_OK" -eq 30 ]
	conf "$mode" second && kill -HUP "$(ilb_pid 1)"
	check "$mode: reload adds $VIP2" wait_until 30 has "$VIP2" 100
	conf "$mode" && kill -HUP "$(ilb_pid 1)"
	check "$mode: reload removes $VIP2" wait_until 30 sh -c \
	    "! ip -n $(ns_ilb 1) route show table $ANN_TABLE | grep -q $VIP2"
	p=$(ilb_pid 1)
	kill -TERM "$p"
	check "$mode: SIGTERM: metric 200" wait_until 10 has "$VIP" 200
	check "$mode: ... and no metric 100" sh -c \
	    "! ip -n $(ns_ilb 1) route show table $ANN_TABLE | grep -q 'metric 100'"
	check "$mode: ilbd still runs while draining" kill -0 "$p"
	i=0
	while kill -0 "$p" 2>/dev/null && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	wait "$p"; rc=$?
	check "$mode: ilbd exits 0 after the drain" [ "$rc" -eq 0 ]
	check "$mode: table $ANN_TABLE empty after exit" table_empty
	check "$mode: no ilb0 after exit" no_ilb0
	check "$mode: ilb1 starts again" start_ilb 1
	check "$mode: routed again" wait_until 60 has "$VIP" 100
	kill_ilb 1
	check "$mode: kill -9: table $ANN_TABLE empty" wait_until 10 table_empty
	check "$mode: kill -9: no ilb0" wait_until 10 no_ilb0
done
finish

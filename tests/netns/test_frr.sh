#!/bin/sh
# test_frr.sh: smoke test of examples/frr-ilb.conf: FRR (zebra, bfdd,
# bgpd, started by hand per namespace) on each of 3 ILBs, BIRD 2 on the
# router (examples/bird-router.conf).  The ILBs keep their readiness
# routes in the main table (announce.table 254), which FRR announces by
# "redistribute kernel" with a route-map on the metric.  No next hop is
# set by hand.  ilb1 and ilb2 input tun, ilb3 input pcap (its routes go
# out of a TUN device made for them); dsr, wlc; KA_C (300) keep-alive
# connections:
#   start: an ILB is announced only once active (sampled as in
#     test_bgp.sh; ilb2 is held joining for the join timeout, 10 s, and
#     FRR's BGP table has no VIP meanwhile); ilbd's own route of the VIP
#     into ilb0 (tun) is protocol kernel, which zebra ignores: otherwise
#     (metric 0) it would hide the readiness route and nothing would be
#     announced;
#   kill -9 of ilbd on ilb2: its path leaves the router (time printed);
#   graceful leave (SIGTERM) of ilb3: its path carries 65535:0 at the
#     router and leaves the ECMP route while ilbd still runs (time
#     printed), then ilbd exits 0;
#   no connection fails, no request goes unanswered, orphan == 0.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
ANN_TABLE=254			# main: as in examples/frr-ilb.conf
ANN_DRAIN_MS=${ANN_DRAIN_MS:-2000}
BGP_ILB=frr
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/lib/bgp.sh
. "$NETNS_LIB/bgp.sh"

for _c in bird birdc vtysh nft; do
	command -v "$_c" > /dev/null 2>&1 || need "needs $_c (bird2, frr)"
done
for _c in zebra bgpd bfdd; do
	[ -x "$FRR_SBIN/$_c" ] || need "needs $FRR_SBIN/$_c (frr)"
done
id frr > /dev/null 2>&1 || need "needs the user frr (frr)"

# ilb_mode I: ilb3 captures (pcap), the others route (tun).
ilb_mode() { if [ "$1" = 3 ]; then echo pcap; else echo tun; fi; }
HOLD_ILB=2	# tun: held joining for the join timeout

require_ilbd
netns_setup
ILB_SCHEDULER=wlc
export ILB_SCHEDULER
check "topology up" topo_up
check "no static VIP route at the router" ip -n "$NS_ROUTER" route del "$VIP/32"
check "servers answer" start_servers
check "BIRD in the router (examples/bird-router.conf)" \
    bird_start router "$NS_ROUTER" "$BGP_EXAMPLES/bird-router.conf"
for fi in $(seq 1 "$N_ILB"); do
	check "FRR in ilb$fi (examples/frr-ilb.conf)" \
	    frr_start "ilb$fi" "$(ns_ilb "$fi")" "$BGP_EXAMPLES/frr-ilb.conf"
done
check "each ILB's BGP session with the router is up" wait_until 60 bgp_all_up
check "the router's BFD sessions to the 3 FRR ILBs are up (bfdd, profile ilbd)" \
    wait_until 30 sh -c "[ \$(birdc -s $NETNS_DIR/bird-router.ctl show bfd sessions | grep -c ' Up ') -eq 3 ]"
# bfd_local I: ILB I's bfdd, its own timers towards the router.
bfd_local() {
	vtysh_ "ilb$1" -c "show bfd peer $ROUTER_LAN" |
	    sed -n '/Local timers/,/Remote timers/p'
}
for fi in $(seq 1 "$N_ILB"); do
	check "ilb$fi's bfdd: 100 ms x 3 to the router (profile ilbd)" sh -c \
	    "vtysh --vty_socket $NETNS_DIR/frr-ilb$fi -c 'show bfd peer $ROUTER_LAN' | sed -n '/Local timers/,/Remote timers/p' | grep -q 'Receive interval: 100ms'"
done
note "ilb1's bfdd: $(bfd_local 1 | grep -E 'interval|multiplier' | tr -s ' \n' ' ')"
check "without ilbd the router has no route to the VIP" \
    test -z "$(ip -n "$NS_ROUTER" route show "$VIP/32")"
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi

readiness_watch &
WATCH_PID=$!
for fi in $(seq 1 "$N_ILB"); do
	echo "0 0" > "$NETNS_DIR/watch.$fi"
	echo "$fi" > "$NETNS_DIR/watch.cur"
	if [ "$fi" = "$HOLD_ILB" ]; then
		check "ilb$fi: drop the reliable channel (TCP $GROUP_PORT)" \
		    join_hold_on "$fi"
	fi
	ilb_conf "$fi" "$(ilb_mode "$fi")" dsr && ilb_announce "$fi" &&
	    check "ilb$fi starts ($(ilb_mode "$fi"), announce.table $ANN_TABLE)" \
	    start_ilb "$fi"
	if [ "$fi" = "$HOLD_ILB" ]; then
		# joining: FRR holds no BGP route of the VIP, although ilbd
		# routes the VIP into ilb0 already
		sleep 1
		check "ilb$fi joining: FRR's BGP table has no VIP" sh -c \
		    "! vtysh --vty_socket $NETNS_DIR/frr-ilb$fi -c 'show bgp ipv4 unicast' | grep -q '$VIP/32'"
	fi
	check "ilb$fi logs join complete" wait_for "$(ilb_log "$fi")" "join complete" 60
	if [ "$fi" = "$HOLD_ILB" ]; then
		check "ilb$fi was held joining until the join timeout" \
		    grep -q "going active anyway" "$(ilb_log "$fi")"
		check "ilb$fi: the reliable channel again" join_hold_off "$fi"
	fi
	ft0=$(now_ms)
	check "the router has a path via ilb$fi" wait_until 60 has_path "$fi"
	note "ilb$fi: path at the router $(($(now_ms) - ft0)) ms after join complete was seen"
done
touch "$NETNS_DIR/watch.stop"
wait "$WATCH_PID"
for fi in $(seq 1 "$N_ILB"); do
	_min=0
	[ "$fi" != "$HOLD_ILB" ] || _min=1
	watch_result "$fi" "$_min"
done
check "ilb1 (tun): ilbd's capture route is protocol kernel" sh -c \
    "ip -n $(ns_ilb 1) route show $VIP/32 proto kernel | grep -q 'dev ilb0'"
note "ilb1: main table: $(ip -n "$(ns_ilb 1)" route show "$VIP/32" | tr '\n' ';')"
note "ilb1's FRR: $(vtysh_ ilb1 -c "show bgp ipv4 unicast $VIP/32" | grep -iE 'metric|community' | tr -s ' \n' ' ')"
check "each ILB's log shows the two others joined" wait_members 60
check "the router's VIP route: ECMP over ilb1, ilb2, ilb3" paths_are "1 2 3 "
note "router: $(ip -n "$NS_ROUTER" route show "$VIP/32" | tr '\n' ' ')"
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi

repl_load

note "kill -9 ilbd on ilb2"
ft0=$(now_ms)
kill_ilb 2
check "the router drops the path via ilb2" wait_until 60 no_path 2
note "ilb2's path left the router $(($(now_ms) - ft0)) ms after kill -9"
check "the router's VIP route: ilb1, ilb3" paths_are "1 3 "
check "the survivors log ilb2 gone" repl_wait_gone 2 60
repl_snapshot

note "SIGTERM ilbd on ilb3 (pcap, drain_ms $ANN_DRAIN_MS)"
fp3=$(ilb_pid 3)
ft0=$(now_ms)
kill -TERM "$fp3"
check "ilb3 marks its route leaving (metric 200)" wait_until 60 \
    sh -c "ip -n $(ns_ilb 3) route show table $ANN_TABLE proto static | grep -q 'metric 200'"
check "the router drops the path via ilb3" wait_until 60 no_path 3
ft1=$(now_ms)
check "ilbd on ilb3 still runs when its path is gone" kill -0 "$fp3"
note "ilb3's path left the router $((ft1 - ft0)) ms after SIGTERM"
note "router: $(birdc_ router show route "$VIP/32" all | grep -E 'via|community|med' | tr -s ' \n' ' ')"
check "the router kept ilb3's path with 65535:0" \
    sh -c "birdc -s $NETNS_DIR/bird-router.ctl show route $VIP/32 all | grep -q '(65535,0)'"
_i=0
while kill -0 "$fp3" 2>/dev/null && [ "$_i" -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
wait "$fp3"; frc=$?
check "ilbd on ilb3 exits 0 ($(($(now_ms) - ft0)) ms after SIGTERM)" [ "$frc" -eq 0 ]
check "the log of ilb3: drained, then handed over" \
    grep -q "drained $ANN_DRAIN_MS ms" "$(ilb_log 3)"
check "the router's VIP route: ilb1" wait_until 30 paths_are "1 "
check "ilb1 logs ilb3 gone" repl_wait_gone 3 60
repl_finish

#!/bin/sh
# test_ipv6.sh: IPv6 end to end through the 3-ILB topology (IPV6=1 in
# lib.sh): a v6 VIP (2001:db8:100::10, service "web6") on the servers' lo,
# the router's ECMP route for it over the ILBs' IPv6 addresses; 3 ILBs
# (tun, dsr, scheduler wlc), MACs of the servers learnt by ND.
#  (a) N (300) requests to [VIP6]:80, each on a new connection: all
#      succeed, every server answers some, packets are handed off and
#      received by handoff, every ILB learnt every server's MAC by ND (its
#      neighbour table holds the server's real MAC, no_mac = 0), nothing
#      misrouted, orphaned, refused or dropped at all (not even the
#      kernel's MLD reports out of the TUN device, as not_tcp); the IPv4
#      VIP is still served beside.
#      Run twice: first with the cluster on IPv6 (node.id the ILBs' IPv6
#      addresses, group ff35:20:2001:db8::1: the GRE handoffs of the v6
#      packets go over IPv6), then, the ILBs restarted, on IPv4 (v6 in GRE
#      over v4).
#  (b) then, cluster on IPv4: KA_C (300) keep-alive IPv6 connections
#      (test_repl_*'s load); REPL_AT (5) s after they are all up, kill -9 ilb2 and
#      withdraw its IPv4 and IPv6 routes: no connection breaks or changes
#      server, every request is answered, no orphan (test_repl_kill.sh
#      over IPv6).  KILL_CLUSTER6=1: (b) with the cluster on IPv6 instead.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
IPV6=1
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

[ -e /proc/sys/net/ipv6/conf/all/forwarding ] || need "IPv6 in the kernel"

# vip6_silent: from a host on the LAN (rogue, 2001:db8:1::66) with VIP6
# routed on-link, VIP6 cannot be reached (nobody answers its neighbour
# solicitation), while a server's own address can (HTTP, curl).
vip6_silent() {
	rogue_up && addr6 "$NS_ROGUE" 2001:db8:1::66/64 &&
	ip -n "$NS_ROGUE" -6 route add "$VIP6/128" dev eth0 || return 1
	if ! nsx "$NS_ROGUE" curl -s -o /dev/null --max-time 20 \
	    "http://[$(srv_addr6 1)]:$VIP_PORT/"; then
		note "srv1's own address $(srv_addr6 1) does not answer"
		return 1
	fi
	if nsx "$NS_ROGUE" curl -s -o /dev/null --max-time 4 \
	    "http://[$VIP6]:$VIP_PORT/"; then
		note "VIP6 answers on the LAN: $(ip -n "$NS_ROGUE" -6 neigh show "$VIP6")"
		return 1
	fi
	return 0
}

# nd_learnt I: ILB I's neighbour table holds every server's IPv6 address
# with the MAC of that server's eth0 (learnt by ND, not stale garbage).
nd_learnt() {
	for _s in $(seq 1 "$N_SRV"); do
		_want=$(ip -n "$(ns_srv "$_s")" link show eth0 |
		    awk '$1 == "link/ether" { print $2 }')
		_got=$(ip -n "$(ns_ilb "$1")" -6 neigh show "$(srv_addr6 "$_s")" dev eth0 |
		    awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
		if [ -z "$_want" ] || [ "$_got" != "$_want" ]; then
			note "ilb$1: $(srv_addr6 "$_s") lladdr '${_got:-none}', srv$_s has '$_want'"
			return 1
		fi
	done
}

# route6_without I: VIP6's route at the router no longer goes via ILB I
# (and still goes via the others).
route6_without() {
	_l=$(route_ilb_list6 | tr '\n' ' ')
	note "VIP6 nexthops now: ilb ${_l:-none}"
	case " $_l" in *" $1 "*) return 1;; esac
	[ -n "$_l" ]
}

# cluster_family: "IPv6" or "IPv4", as CLUSTER6 says.
cluster_family() { if [ -n "$CLUSTER6" ]; then echo IPv6; else echo IPv4; fi; }

# new_conns PATH: part (a), with the ILBs as they run.
new_conns() {
	_cf="cluster on $(cluster_family)"
	REQ_VIP=$VIP6
	check_requests "${N:-300}" "$1"
	sleep 0.5       # let NEW/END and handoffs settle before counting
	stats_snapshot
	stats_print
	for _j in $(seq 1 "$N_ILB"); do
		stat_check "ilb$_j received IPv6 packets (ECMP spreads)" rx -gt 0 "$_j"
		check "ilb$_j learnt every server's MAC by ND" nd_learnt "$_j"
	done
	stat_check "$_cf: handoff_out > 0 on some ILB" handoff_out -gt 0
	stat_check "$_cf: handoff_in > 0 on some ILB" handoff_in -gt 0
	stat_check "$_cf: GRE handoffs sent without error" gre_send_errors -eq 0
	stat_check "$_cf: no handoff refused" gre_rx_reject -eq 0
	stat_check "no packet lacked a server MAC" no_mac -eq 0
	stat_check "nothing misrouted" misrouted -eq 0
	stat_check "no orphan" orphan -eq 0
	stat_check "no service missing" no_service -eq 0
	# nor anything else: the kernel's MLD reports out of the TUN device
	# (IPv6 forwarding joins it to ff02::2) are not input (not_tcp)
	stat_check "nothing dropped at all" drop -eq 0
	REQ_VIP=
	run_requests 30 "$1v4-"
	check "30 requests to the IPv4 VIP beside it all succeed ($REQ_FAIL failed)" \
	    [ "$REQ_OK" -eq 30 ]
}

# restart_ilbs: stop every ILB (TERM), start them again with the configs
# ilb_conf writes now (CLUSTER6 as set), wait until all have joined.
restart_ilbs() {
	for _j in $(seq 1 "$N_ILB"); do stop_ilb "$_j"; done
	start_ilbs tun dsr && wait_members 60
}

CLUSTER6=1
repl_setup
check "VIP6 on the servers' lo is not announced on the LAN" vip6_silent
check "the router's VIP6 route is ECMP over the 3 ILBs" \
    [ "$(route_ilb_list6 | tr -d '\n')" = 123 ]
new_conns c6-

CLUSTER6=$KILL_CLUSTER6
check "3 ILBs restarted, cluster on $(cluster_family); all joined" restart_ilbs
new_conns c4-

# (b) a kill -9 under IPv6 keep-alive load
REQ_VIP=$VIP6
repl_load
repl_kill 2
check "the router's VIP6 route no longer goes via ilb2" route6_without 2
repl_finish

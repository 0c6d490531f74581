# lib/topo.sh (sourced by tests/netns/lib.sh): the namespaces and their
# network.  Names and addresses (ns_ilb, ilb_addr, ilb_id, cluster_group,
# the IPv6 ones), nsx, sysctl_set, router_tuple_hash; netns_setup (state
# directory, traps) and netns_exit; bg and pid_stop (processes in the
# namespaces, recorded for topo_down); topo_up / topo_down: the bridge,
# the router and client, the ILB and server namespaces, IPv6 addressing
# (IPV6=1), rogue_up; snmp counters; the router's ECMP routes (route_*);
# topo_add_ilb (a 4th ILB) and the loss rules of the cluster's UDP
# (loss_on / loss_off / loss_dropped, nftables), for test_repl_*.sh; the
# drop of all multicast to the group (mcast_drop_on / mcast_dropped).

ns_ilb() { echo "$NETNS_TAG-ilb$1"; }
ns_srv() { echo "$NETNS_TAG-srv$1"; }
ilb_addr() { echo "192.0.2.1$1"; }
srv_addr() { echo "192.0.2.2$1"; }
ilb_id() { if [ -n "$CLUSTER6" ]; then ilb_addr6 "$1"; else ilb_addr "$1"; fi; }
cluster_group() { if [ -n "$CLUSTER6" ]; then echo "$GROUP6"; else echo "$GROUP"; fi; }
ilb_addr6() { echo "2001:db8:1::1$1"; }
srv_addr6() { echo "2001:db8:1::2$1"; }     # node.id as written in the config and logs
nsx() { _ns=$1; shift; ip netns exec "$_ns" "$@"; }

# sysctl_set NS KEY=VALUE...: sysctls inside the namespace only.
sysctl_set() {
	_ns=$1; shift
	ip netns exec "$_ns" sysctl -qw "$@" > /dev/null
}

# router_tuple_hash: the router places each IPv4 packet by its own hash of
# the tuple (fib_multipath_hash_policy 3, fields addresses, protocol and
# ports), as a real router does.  With policy 1 a forwarded packet that
# already carries an L4 hash is placed by it, and a veth keeps the hash
# the client's socket gave it: random per socket and changed after a
# retransmission timeout, so here a connection's packets can move to
# another ILB on a retransmission, and two connections on one tuple can
# take different ILBs.
router_tuple_hash() {
	sysctl_set "$NS_ROUTER" net.ipv4.fib_multipath_hash_policy=3 \
	    net.ipv4.fib_multipath_hash_fields=0x0037
}

# netns_list: our namespaces (exact tag prefix).
netns_list() {
	ip netns list 2>/dev/null | awk -v p="$NETNS_TAG-" \
	    'index($1, p) == 1 { print $1 }'
}

# netns_require: root, ip, curl, python3; an error (99) otherwise.
netns_require() {
	[ "$(id -u)" -eq 0 ] || need "needs root"
	for _c in ip curl timeout "$PYTHON"; do
		command -v "$_c" > /dev/null 2>&1 || need "needs $_c"
	done
	ip netns list > /dev/null 2>&1 || need "no network namespaces"
}

# netns_setup: state directory and traps; call once, first.  On any exit
# (success, failure, ^C, TERM) netns_exit removes everything we created.
netns_setup() {
	netns_require
	if [ -n "$NETNS_DIR" ]; then
		mkdir -p "$NETNS_DIR" || exit 1
	else
		NETNS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ilbd-netns.XXXXXX") || exit 1
	fi
	# the ILBs give up root (node.user) and re-read configs on reload
	chmod 755 "$NETNS_DIR"
	: > "$NETNS_DIR/pids"
	# shellcheck disable=SC2154 # netns_rc is assigned in the trap itself
	trap 'netns_rc=$?; netns_exit; exit $netns_rc' EXIT
	trap 'fail=$((fail + 1)); echo "# interrupted"; exit 130' INT
	trap 'fail=$((fail + 1)); echo "# terminated"; exit 143' TERM HUP
}

# netns_exit: topo_down, unless NETNS_KEEP=1 and a check failed (to debug
# it) or NETNS_KEEP_TOPO=1 (tools/netns-demo --keep): then say how to clean.
# shellcheck disable=SC2154 # fail: lib/assert.sh's counter, sourced first
netns_exit() {
	if [ -n "$NETNS_KEEP_TOPO" ] ||
	    { [ -n "$NETNS_KEEP" ] && [ "$fail" -ne 0 ]; }; then
		note "kept namespaces $NETNS_TAG-*, state in $NETNS_DIR"
		note "explore: ip netns exec $NS_CLIENT curl http://$VIP/"
		note "remove:  tools/netns-demo --down $NETNS_TAG; rm -rf $NETNS_DIR"
		return 0
	fi
	topo_down
}

# bg NS LOG CMD...: start CMD in NS in the background; its pid in BG_PID.
# "ip netns exec" execs CMD, so the pid is CMD's own.
bg() {
	_ns=$1; _log=$2; shift 2
	ip netns exec "$_ns" "$@" > "$_log" 2>&1 &
	BG_PID=$!
	echo "$BG_PID" >> "$NETNS_DIR/pids"
}

# pid_stop PID [SECONDS]: TERM, wait (default 3 s), then KILL.
pid_stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	_i=0
	while kill -0 "$1" 2>/dev/null && [ "$_i" -lt $((${2:-3} * 10)) ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# topo_down: stop every process inside our namespaces, delete them, remove
# the state directory (kept, with its logs, if a check failed).
# Idempotent; safe when nothing was created.
# shellcheck disable=SC2154 # fail: lib/assert.sh's counter, sourced first
topo_down() {
	_nss=$(netns_list)
	_pids=
	for _ns in $_nss; do _pids="$_pids $(ip netns pids "$_ns" 2>/dev/null)"; done
	for _p in $_pids; do kill -TERM "$_p" 2>/dev/null; done
	_i=0
	while [ "$_i" -lt 30 ]; do
		_alive=
		for _p in $_pids; do kill -0 "$_p" 2>/dev/null && _alive=1; done
		[ -z "$_alive" ] && break
		sleep 0.1; _i=$((_i + 1))
	done
	for _p in $_pids; do kill -KILL "$_p" 2>/dev/null; done
	for _p in $_pids; do wait "$_p" 2>/dev/null; done
	for _ns in $_nss; do ip netns del "$_ns" 2>/dev/null; done
	if [ -n "$NETNS_DIR" ] && [ -d "$NETNS_DIR" ]; then
		if [ "$fail" -eq 0 ] && [ -z "$NETNS_KEEP_LOGS" ]; then
			rm -rf "$NETNS_DIR"
		else
			echo "# logs kept in $NETNS_DIR"
		fi
	fi
	return 0
}

# lan_attach NS PORT ADDR [QUEUES]: veth from bridge port PORT (in lan) to
# eth0 in NS, with QUEUES (default 1) TX and RX queues at each end.
lan_attach() {
	_q=${4:-1}
	ip -n "$NS_LAN" link add name "$2" numtxqueues "$_q" numrxqueues "$_q" \
	    type veth peer name eth0 numtxqueues "$_q" numrxqueues "$_q" \
	    netns "$1" &&
	ip -n "$NS_LAN" link set "$2" master br0 up &&
	ip -n "$1" addr add "$3/24" dev eth0 &&
	ip -n "$1" link set eth0 up
}

# ns_new NAME: create a namespace with lo up.
ns_new() {
	ip netns add "$1" && ip -n "$1" link set lo up || return 1
	[ -z "$IPV6" ] || ns_v6 "$1"
}

# topo_up: build the whole topology (no processes).  Returns non-zero on
# the first failing step.
topo_up() {
	topo_down_leftover || return 1
	ns_new "$NS_LAN" || return 1
	ip -n "$NS_LAN" link add br0 type bridge stp_state 0 forward_delay 0 \
	    mcast_snooping 0 || return 1
	ip -n "$NS_LAN" link set br0 up || return 1
	bridge_plain || return 1
	topo_router || return 1
	_i=1
	while [ "$_i" -le "$N_ILB" ]; do topo_ilb "$_i" || return 1; _i=$((_i + 1)); done
	_i=1
	while [ "$_i" -le "$N_SRV" ]; do topo_srv "$_i" || return 1; _i=$((_i + 1)); done
	route_ilbs
}

# bridge_plain (topo_up): where br_netfilter is loaded, the LAN namespace's bridge
# hands IPv4/IPv6 frames to the IP hooks, which drop a bad IHL, total or
# payload length or header checksum before the ILB even sees the frame; a
# switch does not.  Turn that off in the LAN namespace (per namespace).
bridge_plain() {
	for _k in iptables ip6tables arptables; do
		nsx "$NS_LAN" sysctl -n "net.bridge.bridge-nf-call-$_k" \
		    > /dev/null 2>&1 || continue
		sysctl_set "$NS_LAN" "net.bridge.bridge-nf-call-$_k=0" || return 1
	done
}

# snmp NS GROUP FIELD: a counter of /proc/net/snmp inside namespace NS
# (GROUP e.g. Icmp, Ip; FIELD e.g. InDestUnreachs); group Icmp6 reads
# /proc/net/snmp6 (one "Icmp6FIELD value" per line).
snmp() {
	if [ "$2" = Icmp6 ]; then
		nsx "$1" cat /proc/net/snmp6 | awk -v k="$2$3" '
		    $1 == k { v = $2 } END { print v + 0 }'
		return
	fi
	nsx "$1" cat /proc/net/snmp | awk -v g="$2:" -v f="$3" '
	    $1 == g && !h { for (i = 2; i <= NF; i++) if ($i == f) c = i; h = 1; next }
	    $1 == g && h && c { v = $c }
	    END { print v + 0 }'
}

# snmp_sum srv|ilb GROUP FIELD: the counter summed over the servers or
# the ILBs.  srv_snmp_sum GROUP FIELD: over the servers.
snmp_sum() {
	_s=0
	if [ "$1" = ilb ]; then _n=$N_ILB; else _n=$N_SRV; fi
	for _i in $(seq 1 "$_n"); do
		_s=$((_s + $(snmp "$(ns_"$1" "$_i")" "$2" "$3")))
	done
	echo "$_s"
}
srv_snmp_sum() { snmp_sum srv "$@"; }

# ns_v6 NS (IPV6=1): no DAD on the interfaces created later in NS (their
# link-local and global addresses are usable at once), IPv6 not disabled.
ns_v6() {
	sysctl_set "$1" net.ipv6.conf.all.disable_ipv6=0 \
	    net.ipv6.conf.default.disable_ipv6=0 \
	    net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# addr6 NS ADDR/LEN [DEV]: an IPv6 address without DAD (default dev eth0).
addr6() { ip -n "$1" -6 addr add "$2" dev "${3:-eth0}" nodad; }

# topo_down_leftover: a namespace with our tag is from a dead run (the tag
# holds our pid): remove it.
topo_down_leftover() {
	for _ns in $(netns_list); do ip netns del "$_ns" || return 1; done
}

topo_router() {
	ns_new "$NS_ROUTER" && ns_new "$NS_CLIENT" &&
	lan_attach "$NS_ROUTER" router "$ROUTER_LAN" &&
	ip -n "$NS_ROUTER" link add eth1 type veth peer name eth0 netns "$NS_CLIENT" &&
	ip -n "$NS_ROUTER" addr add 203.0.113.1/24 dev eth1 &&
	ip -n "$NS_ROUTER" link set eth1 up &&
	ip -n "$NS_CLIENT" addr add "$CLIENT_ADDR/24" dev eth0 &&
	ip -n "$NS_CLIENT" link set eth0 up &&
	ip -n "$NS_CLIENT" route add default via 203.0.113.1 &&
	csum_off "$NS_CLIENT" eth0 &&
	sysctl_set "$NS_ROUTER" net.ipv4.ip_forward=1 \
	    net.ipv4.fib_multipath_hash_policy=1 \
	    net.ipv4.conf.all.send_redirects=0 \
	    net.ipv4.conf.default.send_redirects=0 \
	    net.ipv4.conf.eth0.send_redirects=0 &&
	{ [ -z "$IPV6" ] || topo_router_v6; }
}

# topo_router_v6 (IPV6=1): the router forwards IPv6 (ECMP hashing L4 as
# for IPv4), no redirects; the client's default route is via the router.
topo_router_v6() {
	addr6 "$NS_ROUTER" "$ROUTER6_LAN/64" &&
	addr6 "$NS_ROUTER" "$ROUTER6_CLIENT/64" eth1 &&
	addr6 "$NS_CLIENT" "$CLIENT6_ADDR/64" &&
	ip -n "$NS_CLIENT" -6 route add default via "$ROUTER6_CLIENT" &&
	sysctl_set "$NS_ROUTER" net.ipv6.conf.all.forwarding=1 \
	    net.ipv6.fib_multipath_hash_policy=1
}

# csum_off NS DEV: complete TCP/UDP checksums in software on DEV, as on a
# real wire.  Over veth the kernel leaves them to a (non-existent) NIC: a
# packet captured in pcap mode and sent again from userspace would reach
# the server with a bad checksum (TcpInErrs) and be dropped.
csum_off() {
	if command -v ethtool > /dev/null 2>&1; then
		ip netns exec "$1" ethtool -K "$2" tx off > /dev/null
	else
		need "ethtool (tx checksum offload must be off on the client)"
	fi
}

# topo_ilb I: ILB namespace; ip_forward is set by start_ilb per mode.  Its
# eth0 has ILB_QUEUES (default 1) queues: several for AF_XDP workers.
topo_ilb() {
	_ns=$(ns_ilb "$1")
	ns_new "$_ns" && lan_attach "$_ns" "ilb$1" "$(ilb_addr "$1")" "${ILB_QUEUES:-1}" &&
	ip -n "$_ns" route add default via "$ROUTER_LAN" &&
	sysctl_set "$_ns" net.ipv4.conf.all.rp_filter=0 \
	    net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 \
	    net.ipv4.conf.all.send_redirects=0 \
	    net.ipv4.conf.default.send_redirects=0 \
	    net.ipv4.conf.eth0.send_redirects=0 &&
	{ [ -z "$IPV6" ] || topo_ilb_v6 "$1"; }
}

# topo_ilb_v6 I (IPV6=1): ILB I's IPv6 address and default route.
# Forwarding (tun mode) is set by start_ilb.
topo_ilb_v6() {
	_ns=$(ns_ilb "$1")
	addr6 "$_ns" "$(ilb_addr6 "$1")/64" &&
	ip -n "$_ns" -6 route add default via "$ROUTER6_LAN"
}

# topo_srv I: a server with the VIP on lo, silent about it on the LAN.
topo_srv() {
	_ns=$(ns_srv "$1")
	ns_new "$_ns" && lan_attach "$_ns" "srv$1" "$(srv_addr "$1")" &&
	ip -n "$_ns" addr add "$VIP/32" dev lo &&
	ip -n "$_ns" route add default via "$ROUTER_LAN" &&
	sysctl_set "$_ns" net.ipv4.conf.all.arp_ignore=1 \
	    net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
	    net.ipv4.conf.eth0.arp_announce=2 net.ipv4.conf.all.rp_filter=0 \
	    net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 &&
	{ [ -z "$IPV6" ] || topo_srv_v6 "$1"; }
}

# topo_srv_v6 I (IPV6=1): server I's IPv6 address, VIP6 on lo, default
# route via the router.  Linux answers neighbour solicitations only for
# addresses of the interface they arrive on, so VIP6 on lo stays silent on
# the LAN without the arp_ignore of IPv4 (vip6_silent checks it).
topo_srv_v6() {
	_ns=$(ns_srv "$1")
	addr6 "$_ns" "$(srv_addr6 "$1")/64" &&
	addr6 "$_ns" "$VIP6/128" lo &&
	ip -n "$_ns" -6 route add default via "$ROUTER6_LAN"
}

# rogue_up: an attacker's namespace on the bridge (192.0.2.66).
rogue_up() {
	ns_new "$NS_ROGUE" && lan_attach "$NS_ROGUE" rogue "$ROGUE_ADDR" &&
	ip -n "$NS_ROGUE" route add default via "$ROUTER_LAN"
}

# route_set ADDR...: the router's route for the VIP, ECMP over ADDRs.
route_set() {
	_nh=
	for _a in "$@"; do _nh="$_nh nexthop via $_a"; done
	# shellcheck disable=SC2086 # word splitting of the nexthops is wanted
	ip -n "$NS_ROUTER" route replace "$VIP/32" $_nh
}

# route_set6 ADDR...: the router's route for VIP6, ECMP over ADDRs.
route_set6() {
	_nh=
	for _a in "$@"; do _nh="$_nh nexthop via $_a dev eth0"; done
	# shellcheck disable=SC2086 # word splitting of the nexthops is wanted
	ip -n "$NS_ROUTER" -6 route replace "$VIP6/128" $_nh
}

# route_ilbs [I...]: ECMP over the given ILBs (default: all).
route_ilbs() {
	[ $# -gt 0 ] || set -- $(seq 1 "$N_ILB")
	_addrs=
	for _i in "$@"; do _addrs="$_addrs $(ilb_addr "$_i")"; done
	# shellcheck disable=SC2086
	route_set $_addrs || return 1
	[ -z "$IPV6" ] || route_ilbs6 "$@"
}

# route_ilbs6 I...: VIP6's route, ECMP over the given ILBs' IPv6 addresses.
route_ilbs6() {
	_addrs=
	for _i in "$@"; do _addrs="$_addrs $(ilb_addr6 "$_i")"; done
	# shellcheck disable=SC2086
	route_set6 $_addrs
}

# route_ilb_list6: the ILB indexes VIP6's route currently points to.
route_ilb_list6() {
	ip -n "$NS_ROUTER" -6 route show "$VIP6/128" |
	    sed -n 's/.*via 2001:db8:1::1\([0-9]\) .*/\1/p' | sort -u
}

# route_direct: baseline, ECMP straight to the servers (VIP on their lo).
route_direct() {
	_addrs=
	for _i in $(seq 1 "$N_SRV"); do _addrs="$_addrs $(srv_addr "$_i")"; done
	# shellcheck disable=SC2086
	route_set $_addrs
}

# route_del_nexthop I / route_add_nexthop I: withdraw or restore ILB I's
# nexthop (the rest stay).  The current set is kept in $NETNS_DIR/nexthops.
route_del_nexthop() {
	_keep=
	for _i in $(route_ilb_list); do [ "$_i" = "$1" ] || _keep="$_keep $_i"; done
	# shellcheck disable=SC2086
	route_ilbs $_keep
}
route_add_nexthop() {
	# shellcheck disable=SC2046
	route_ilbs $( (route_ilb_list; echo "$1") | sort -u)
}
# route_ilb_list: the ILB indexes the VIP's route currently points to.
route_ilb_list() {
	ip -n "$NS_ROUTER" route show "$VIP/32" |
	    sed -n 's/.*via 192\.0\.2\.1\([0-9]\).*/\1/p' | sort -u
}

# topo_add_ilb I: add ILB namespace I (192.0.2.1I) to a running topology;
# N_ILB grows to I, so start_ilb, stats_snapshot, wait_members, check_alive
# and route_add_nexthop I cover it.  No route change (route_add_nexthop I).
topo_add_ilb() {
	ip netns list 2>/dev/null | grep -q "^$(ns_ilb "$1")\( \|$\)" ||
	    topo_ilb "$1" || return 1
	[ "$1" -le "$N_ILB" ] || N_ILB=$1
}

# ilb_ns_exists I: ILB I's namespace exists.
ilb_ns_exists() {
	ip netns list 2>/dev/null | grep -q "^$(ns_ilb "$1")\( \|$\)"
}

# loss_on PERCENT: in every ILB namespace, nftables (table inet
# $LOSS_TABLE) drops PERCENT % of the cluster's UDP, chosen at random per
# packet: every datagram to port $GROUP_PORT, and every one from it to
# another port (answers), with "numgen random mod 100 < PERCENT".  The
# rules sit in the input hook only (LOSS_HOOKS="input" by default), so each
# receiver loses PERCENT % of each sender's datagrams independently, and a
# datagram is never subject to two draws; LOSS_HOOKS="input output" drops
# on the way out too (about 2 x PERCENT end to end).  Loopback is exempt.
# TCP (the reliable channel) and GRE handoffs are not touched.
LOSS_TABLE=ilbt_loss
LOSS_HOOKS=${LOSS_HOOKS:-input}
loss_on() {
	command -v nft > /dev/null 2>&1 || need "needs nft (apt-get install nftables)"
	if ! is_num "$1" || [ "$1" -gt 100 ]; then
		note "loss_on: bad percent '$1'"; return 1
	fi
	for _j in $(seq 1 "$N_ILB"); do
		ilb_ns_exists "$_j" || continue
		loss_rules "$1" | ip netns exec "$(ns_ilb "$_j")" nft -f - || return 1
	done
	# shellcheck disable=SC2034 # read by repl_results (lib/repl.sh)
	LOSS_PERCENT=$1
}

# loss_rules PERCENT: the nft script of loss_on (replaces the table).
loss_rules() {
	echo "table inet $LOSS_TABLE"
	echo "delete table inet $LOSS_TABLE"
	echo "table inet $LOSS_TABLE {"
	for _h in $LOSS_HOOKS; do
		echo "  chain $_h {"
		echo "    type filter hook $_h priority -10; policy accept;"
		echo "    meta iifname \"lo\" accept"
		echo "    meta oifname \"lo\" accept"
		echo "    udp dport $GROUP_PORT numgen random mod 100 < $1 counter drop"
		echo "    udp sport $GROUP_PORT udp dport != $GROUP_PORT numgen random mod 100 < $1 counter drop"
		echo "  }"
	done
	echo "}"
}

# loss_off: remove the loss rules everywhere (no error if absent).
loss_off() {
	for _j in $(seq 1 "$N_ILB"); do
		ilb_ns_exists "$_j" || continue
		ip netns exec "$(ns_ilb "$_j")" nft delete table inet "$LOSS_TABLE" \
		    2>/dev/null
	done
	return 0
}

# loss_dropped [I]: packets the loss rules dropped (ILB I, or all).
loss_dropped() {
	[ $# -gt 0 ] || set -- $(seq 1 "$N_ILB")
	for _j in "$@"; do
		ilb_ns_exists "$_j" || continue
		ip netns exec "$(ns_ilb "$_j")" nft list table inet "$LOSS_TABLE" \
		    2>/dev/null
	done | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' |
	    awk '{ s += $1 } END { print s + 0 }'
}

# mcast_drop_on: in every ILB namespace, nftables (table inet
# $MCAST_TABLE) drops every datagram to the cluster group, on the way out
# and on the way in (a network that carries no multicast), with a counter
# per rule.  mcast_dropped [I]: what the rules dropped (ILB I, or all).
MCAST_TABLE=ilbt_mcast
mcast_drop_on() {
	command -v nft > /dev/null 2>&1 || need "needs nft (apt-get install nftables)"
	if [ -n "$CLUSTER6" ]; then _m="ip6 daddr $GROUP6"; else _m="ip daddr $GROUP"; fi
	for _j in $(seq 1 "$N_ILB"); do
		ilb_ns_exists "$_j" || continue
		ip netns exec "$(ns_ilb "$_j")" nft -f - <<EOF || return 1
table inet $MCAST_TABLE {
  chain output {
    type filter hook output priority -10; policy accept;
    $_m counter drop
  }
  chain input {
    type filter hook input priority -10; policy accept;
    $_m counter drop
  }
}
EOF
	done
}
mcast_dropped() {
	[ $# -gt 0 ] || set -- $(seq 1 "$N_ILB")
	for _j in "$@"; do
		ilb_ns_exists "$_j" || continue
		ip netns exec "$(ns_ilb "$_j")" nft list table inet "$MCAST_TABLE" \
		    2>/dev/null
	done | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' |
	    awk '{ s += $1 } END { print s + 0 }'
}

# lib.sh: the network-namespace topology of the integration tests (sourced,
# POSIX sh, run as root).  See tests/netns/README for the picture.
#
#   client 203.0.113.2 -- router 203.0.113.1 | 192.0.2.1 -- br0 (namespace lan)
#   br0: ilb1..ilb3 192.0.2.11..13, srv1..srv3 192.0.2.21..23, rogue 192.0.2.66
#   router: ECMP route VIP/32 over the ILBs (or straight to the servers)
#   servers: VIP on lo, arp_ignore=1, arp_announce=2, default via 192.0.2.1
#
# Every namespace is named "$NETNS_TAG-NAME"; the tag defaults to "ilbt$$",
# unique among live processes, so parallel runs never clash and a leftover
# with our tag can only come from a dead run.  Nothing is done outside the
# namespaces we create, except files in $NETNS_DIR.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
ILBD=${ILBD:-$top_builddir/src/ilbd}
GREDECAP=${GREDECAP:-$top_builddir/tests/netns/gredecap}
NETNS_SRC=$top_srcdir/tests/netns
PYTHON=${PYTHON:-python3}

NETNS_TAG=${NETNS_TAG:-ilbt$$}
NS_LAN=$NETNS_TAG-lan
NS_ROUTER=$NETNS_TAG-router
NS_CLIENT=$NETNS_TAG-client
NS_ROGUE=$NETNS_TAG-rogue
N_ILB=${N_ILB:-3}
N_SRV=${N_SRV:-3}

VIP=198.51.100.10
VIP_PORT=80
ROUTER_LAN=192.0.2.1
CLIENT_ADDR=203.0.113.2
ROGUE_ADDR=192.0.2.66
GROUP=239.192.0.1
GROUP_PORT=7946
HELLO_MS=${HELLO_MS:-200}
DEAD_MS=${DEAD_MS:-1000}

# IPv6 (IPV6=1 before topo_up: test_ipv6.sh).  Unset, nothing below is
# done and the topology is IPv4 only, as before.  Set, every namespace also
# gets IPv6 (no DAD: addresses usable at once):
#   client 2001:db8:c::2/64 -- router 2001:db8:c::1 | 2001:db8:1::1/64 -- br0
#   ilbI 2001:db8:1::1I, srvI 2001:db8:1::2I (/64), VIP6 2001:db8:100::10/128
#   on the servers' lo; the router's route for VIP6 is ECMP over the ILBs'
#   IPv6 addresses, kept in step with the IPv4 one (route_ilbs); the ILBs
#   get a second service "web6" (VIP6, port 80, dsr, the servers' IPv6
#   addresses).  The cluster and GRE handoffs stay on IPv4 (node.id),
#   unless CLUSTER6=1 too: then node.id is the ILB's IPv6 address and the
#   group ff35:20:2001:db8::1 (RFC 3306, from the documentation prefix), so
#   the cluster, the peer TCP links and the GRE handoffs run over IPv6
#   (read by ilb_id and ilb_conf, so it may change between ILB restarts).
IPV6=${IPV6:-}
CLUSTER6=${CLUSTER6:-}
GROUP6=ff35:20:2001:db8::1
VIP6=2001:db8:100::10
ROUTER6_LAN=2001:db8:1::1
ROUTER6_CLIENT=2001:db8:c::1
CLIENT6_ADDR=2001:db8:c::2

pass=0
fail=0
NETNS_DIR=${NETNS_DIR:-}       # state: configs, logs, pids; default mktemp
# HANG_S: the bound of a wait or a load that must only catch a hang.  Tests
# wait for conditions, not for durations: a busy machine makes everything
# slower, and a fixed window that a step must fit in fails there.
HANG_S=${HANG_S:-600}

ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }

# check DESCRIPTION CMD...: the command must succeed.
check() {
	_desc=$1; shift
	if "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}

# finish: print the plain summary and exit non-zero on any failure.
finish() {
	echo "$(basename "$0"): $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# need REASON: a missing prerequisite is a failure, never a quiet skip
# (exit 99, which automake's test driver reports as ERROR).
need() { echo "$(basename "$0"): ERROR: $*" >&2; exit 99; }

note() { echo "# $*"; }

ns_ilb() { echo "$NETNS_TAG-ilb$1"; }
ns_srv() { echo "$NETNS_TAG-srv$1"; }
ilb_addr() { echo "192.0.2.1$1"; }
srv_addr() { echo "192.0.2.2$1"; }
ilb_id() { if [ -n "$CLUSTER6" ]; then ilb_addr6 "$1"; else ilb_addr "$1"; fi; }
cluster_group() { if [ -n "$CLUSTER6" ]; then echo "$GROUP6"; else echo "$GROUP"; fi; }
ilb_addr6() { echo "2001:db8:1::1$1"; }
srv_addr6() { echo "2001:db8:1::2$1"; }     # node.id as written in the config and logs
nsx() { _ns=$1; shift; ip netns exec "$_ns" "$@"; }
now_ms() { date +%s%3N; }

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

# require_ilbd: the daemon must be built.
require_ilbd() { [ -x "$ILBD" ] || need "no $ILBD (build it first)"; }

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

# lan_attach NS PORT ADDR: veth from bridge port PORT (in lan) to eth0 in NS.
lan_attach() {
	ip -n "$NS_LAN" link add "$2" type veth peer name eth0 netns "$1" &&
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

# topo_ilb I: ILB namespace; ip_forward is set by start_ilb per mode.
topo_ilb() {
	_ns=$(ns_ilb "$1")
	ns_new "$_ns" && lan_attach "$_ns" "ilb$1" "$(ilb_addr "$1")" &&
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

# start_servers: the HTTP server in every server namespace, port 80;
# waits until each answers.
start_servers() {
	for _i in $(seq 1 "$N_SRV"); do
		# shellcheck disable=SC2046 # IPV6=1: listen on :: too
		bg "$(ns_srv "$_i")" "$NETNS_DIR/srv$_i.log" \
		    "$PYTHON" "$NETNS_SRC/httpd.py" "srv$_i" "$VIP_PORT" \
		    $([ -z "$IPV6" ] || echo "::")
		eval "SRV_PID_$_i=\$BG_PID"
	done
	for _i in $(seq 1 "$N_SRV"); do
		_n=0
		until nsx "$(ns_srv "$_i")" curl -s -o /dev/null --max-time 1 \
		    "http://127.0.0.1:$VIP_PORT/"; do
			_n=$((_n + 1))
			[ "$_n" -lt 600 ] || { note "srv$_i does not answer"; return 1; }
			sleep 0.1
		done
	done
}

# start_gredecap [ARGS...]: the GRE decapsulator in every server namespace,
# writing into TUN "gre0" (rp_filter off); ARGS e.g. "-k KEY".
start_gredecap() {
	[ -x "$GREDECAP" ] || { note "no $GREDECAP"; return 1; }
	for _i in $(seq 1 "$N_SRV"); do
		_ns=$(ns_srv "$_i")
		bg "$_ns" "$NETNS_DIR/gredecap$_i.log" "$GREDECAP" "$@" gre0
		_n=0
		until ip -n "$_ns" link show gre0 > /dev/null 2>&1; do
			_n=$((_n + 1))
			[ "$_n" -lt 600 ] || { note "srv$_i: no gre0"; return 1; }
			sleep 0.1
		done
		ip -n "$_ns" link set gre0 up &&
		sysctl_set "$_ns" net.ipv4.conf.gre0.rp_filter=0 || return 1
	done
}

# ilb_conf I MODE FORWARD [AUTHENTICATE [SCORING]]: write $NETNS_DIR/ilbI.conf
# (and the shared key file, once).  MODE tun|pcap, FORWARD dsr|gre.
ilb_conf() {
	[ -f "$NETNS_DIR/cluster.key" ] ||
	    head -c 32 /dev/urandom > "$NETNS_DIR/cluster.key"
	chmod 644 "$NETNS_DIR/cluster.key"	# a test key, read after set-up
	_servers=
	for _s in $(seq 1 "$N_SRV"); do
		_servers="$_servers${_servers:+,
}      { address = \"$(srv_addr "$_s")\"; weight = 1; }"
	done
	_web6=
	if [ -n "$IPV6" ]; then
		_servers6=
		for _s in $(seq 1 "$N_SRV"); do
			_servers6="$_servers6${_servers6:+,
}      { address = \"$(srv_addr6 "$_s")\"; weight = 1; }"
		done
		_web6=",
  {
    name = \"web6\";
    vip = \"$VIP6\";
    port = $VIP_PORT;
    forward = \"$3\";
    scheduler = \"${ILB_SCHEDULER:-rr}\";
    health = { check = \"none\"; };
    servers = (
$_servers6
    );
  }"
	fi
	cat > "$NETNS_DIR/ilb$1.conf" <<EOF
# ilb$1 of the netns test $NETNS_TAG
node = {
  id = "$(ilb_id "$1")";
  interface = "eth0";
  user = "${ILB_USER-nobody}";
};
cluster = {
  group = "$(cluster_group)";
  port = $GROUP_PORT;
  hello_ms = $HELLO_MS;
  dead_ms = $DEAD_MS;
  key_file = "$NETNS_DIR/cluster.key";
  authenticate = ${4:-true};
  scoring = "${5:-crc32c-mix}";
};
input = {
  mode = "$2";
  device = "ilb0";
};
tables = {
  ltoc_size = 65536;
  cache_size = ${ILB_CACHE_SIZE:-65536};
};
control = {
  socket = "$NETNS_DIR/ilb$1.sock";
};
metrics = {
  listen = "";
};
services = (
  {
    name = "web";
    vip = "$VIP";
    port = $VIP_PORT;
    forward = "$3";
    scheduler = "${ILB_SCHEDULER:-rr}";
    health = { check = "none"; };
    servers = (
$_servers
    );
  }$_web6
);
EOF
}

ilb_log() { echo "$NETNS_DIR/ilb$1.log"; }
ilb_pid() { eval "echo \${ILB_PID_$1:-}"; }

# start_ilb I: run ilbd -f for ILB I with $NETNS_DIR/ilbI.conf (its mode
# sets ip_forward: 1 for tun, 0 for pcap); the log is appended to
# $NETNS_DIR/ilbI.log.  Waits for "started"; extra options in $ILBD_ARGS.
start_ilb() {
	_ns=$(ns_ilb "$1")
	if grep -q 'mode = "pcap"' "$NETNS_DIR/ilb$1.conf"; then
		sysctl_set "$_ns" net.ipv4.ip_forward=0
		[ -z "$IPV6" ] || sysctl_set "$_ns" net.ipv6.conf.all.forwarding=0
	else
		sysctl_set "$_ns" net.ipv4.ip_forward=1
		[ -z "$IPV6" ] || sysctl_set "$_ns" net.ipv6.conf.all.forwarding=1
	fi
	_log=$(ilb_log "$1")
	echo "# --- start_ilb $1 at $(now_ms)" >> "$_log"
	# shellcheck disable=SC2086 # ILBD_ARGS is a list of options
	ip netns exec "$_ns" "$ILBD" -f $ILBD_ARGS -c "$NETNS_DIR/ilb$1.conf" \
	    >> "$_log" 2>&1 &
	eval "ILB_PID_$1=\$!"
	echo "$!" >> "$NETNS_DIR/pids"
	_n=$(grep -c '^# --- start_ilb' "$_log")
	_i=0
	# wait for "started" after our marker (60 s: a hang)
	while [ "$_i" -lt 600 ]; do
		awk -v n="$_n" '/^# --- start_ilb/ { m++ } m == n && /started/ { f = 1 }
		    END { exit !f }' "$_log" && return 0
		kill -0 "$(ilb_pid "$1")" 2>/dev/null || break
		sleep 0.1; _i=$((_i + 1))
	done
	note "ilb$1 did not start; its log:"
	tail -n 20 "$_log" | sed 's/^/#   /'
	return 1
}

# start_ilbs MODE FORWARD [AUTHENTICATE [SCORING]]: configure and start all.
start_ilbs() {
	for _j in $(seq 1 "$N_ILB"); do
		ilb_conf "$_j" "$@" && start_ilb "$_j" || return 1
	done
}

# stop_ilb I: graceful (TERM, up to 5 s, then KILL).  kill_ilb I: KILL.
stop_ilb() { pid_stop "$(ilb_pid "$1")" 5; }
kill_ilb() {
	_p=$(ilb_pid "$1")
	kill -KILL "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	return 0
}
ilb_alive() { _p=$(ilb_pid "$1"); [ -n "$_p" ] && kill -0 "$_p" 2>/dev/null; }

# ilb_stats I: send USR1, wait for a new "stats:" line, print it as
# "key value" lines (unknown keys included).
ilb_stats() {
	_log=$(ilb_log "$1")
	_before=$(grep -c 'stats: ' "$_log")
	kill -USR1 "$(ilb_pid "$1")" 2>/dev/null || return 1
	_i=0
	while [ "$(grep -c 'stats: ' "$_log")" -le "$_before" ]; do
		_i=$((_i + 1)); [ "$_i" -lt 300 ] || return 1
		sleep 0.1
	done
	grep 'stats: ' "$_log" | tail -n 1 | sed 's/.*stats: //' |
	    tr '[:blank:]' '\n' | sed -n 's/^\([A-Za-z0-9_.]*\)=\(.*\)$/\1 \2/p'
}

# stats_snapshot: ilb_stats of every running ILB into $NETNS_DIR/stats.I.
stats_snapshot() {
	for _j in $(seq 1 "$N_ILB"); do
		: > "$NETNS_DIR/stats.$_j"
		ilb_alive "$_j" && ilb_stats "$_j" > "$NETNS_DIR/stats.$_j"
	done
	return 0
}

# stat_of I KEY: KEY from the last snapshot of ILB I ("" if absent).
stat_of() { awk -v k="$2" '$1 == k { v = $2 } END { print v }' "$NETNS_DIR/stats.$1"; }

# stat_sum KEY / stat_max KEY: over all ILBs ("" if no ILB reported KEY).
stat_sum() {
	cat "$NETNS_DIR"/stats.* 2>/dev/null |
	    awk -v k="$1" '$1 == k { s += $2; f = 1 } END { if (f) print s }'
}
stat_max() {
	cat "$NETNS_DIR"/stats.* 2>/dev/null |
	    awk -v k="$1" '$1 == k && (!f || $2 > m) { m = $2; f = 1 } END { if (f) print m }'
}

# stats_print: one line per ILB with the counters in $STATS_KEYS (all
# counters are in $NETNS_DIR/stats.I).
STATS_KEYS=${STATS_KEYS:-rx forward_owner forward_backup forward_cache handoff_out handoff_in misrouted orphan no_service no_mac gre_rx_reject cluster_rx_reject}
stats_print() {
	for _j in $(seq 1 "$N_ILB"); do
		[ -s "$NETNS_DIR/stats.$_j" ] || { note "ilb$_j: no stats"; continue; }
		note "ilb$_j: $(awk -v keys="$STATS_KEYS" '
		    BEGIN { n = split(keys, k, " ") }
		    { v[$1] = $2 }
		    END { for (i = 1; i <= n; i++) if (k[i] in v) printf "%s=%s ", k[i], v[k[i]] }
		    ' "$NETNS_DIR/stats.$_j")"
	done
}

# is_num V: V is a non-negative integer.
is_num() { case $1 in ''|*[!0-9]*) return 1;; esac; }

# stat_check DESC KEY OP VALUE [I]: compare the counter (sum over ILBs, or
# ILB I's) with VALUE by test(1)'s OP; a missing key fails.
stat_check() {
	if [ -n "$5" ]; then _v=$(stat_of "$5" "$2"); else _v=$(stat_sum "$2"); fi
	if is_num "$_v" && test "$_v" "$3" "$4"; then
		ok "$1 ($2=$_v)"
	else
		not_ok "$1 ($2=${_v:-missing}, want $3 $4)"
	fi
}

# run_requests N [PATH]: N HTTP GETs from the client to the VIP, each on a
# new connection (Connection: close; curl --max-time 5 each).  The first
# 10 are a probe: if none succeeds the rest are not sent (counted failed),
# so a dead data path fails in seconds; the rest are bounded by
# 60 s + N/2 s (a hang; a request that takes 5 s fails).  Sets REQ_OK, REQ_FAIL, REQ_CONNECTS; the answering server
# per request in $NETNS_DIR/answers ("srvI code connects").
run_requests() {
	_n=$1
	_probe=10
	[ "$_n" -gt "$_probe" ] || _probe=$_n
	: > "$NETNS_DIR/answers"
	curl_batch "$_probe" "${2:-r}p"
	if [ "$(awk '$2 == 200' "$NETNS_DIR/answers" | wc -l)" -gt 0 ] &&
	    [ "$_n" -gt "$_probe" ]; then
		curl_batch $((_n - _probe)) "${2:-r}"
	fi
	REQ_OK=$(awk 'NF == 3 && $2 == 200 { n++ } END { print n + 0 }' "$NETNS_DIR/answers")
	REQ_CONNECTS=$(awk 'NF == 3 && $2 == 200 { n += $3 } END { print n + 0 }' "$NETNS_DIR/answers")
	REQ_FAIL=$((_n - REQ_OK))
	note "requests: $_n, $REQ_OK ok, $REQ_FAIL failed, $REQ_CONNECTS connections; $(answers_summary)"
}

# curl_batch N PATH: N sequential GETs of /PATH1../PATHN appended to
# $NETNS_DIR/answers.  --foreground: ^C reaches curl.  The address is
# $REQ_VIP if set (e.g. $VIP6), else $VIP.
curl_batch() {
	timeout --foreground -k 2 $((60 + $1 / 2)) \
	    ip netns exec "$NS_CLIENT" curl -s --http1.1 \
	    --max-time 5 -H 'Connection: close' \
	    -w ' %{http_code} %{num_connects}\n' \
	    "http://$(url_host "${REQ_VIP:-$VIP}"):$VIP_PORT/$2[1-$1]" \
	    >> "$NETNS_DIR/answers" 2> /dev/null
}

# url_host ADDR: ADDR as the host of a URL ([ADDR] for IPv6).
url_host() { case $1 in *:*) echo "[$1]";; *) echo "$1";; esac; }

# answered_by NAME: how many requests of the last run NAME answered.
answered_by() {
	awk -v s="$1" 'NF == 3 && $2 == 200 && $1 == s { n++ } END { print n + 0 }' \
	    "$NETNS_DIR/answers"
}

answers_summary() {
	_s=
	for _i in $(seq 1 "$N_SRV"); do _s="$_s srv$_i=$(answered_by "srv$_i")"; done
	echo "${_s# }"
}

# Uploads (test_fragments.sh, test_upload_mtu.sh): HTTP POSTs of the file
# $NETNS_DIR/upload, each on a new connection (curl --max-time $MAXT, 5 s
# by default); httpd.py answers with the length and SHA-256 it received.
#
# upload I: one POST; appends "I code server length sha256" to
# $NETNS_DIR/uploads ("I code - - -" without an answer).
upload() {
	_maxt=${MAXT:-5}
	_r=$(timeout --foreground -k 2 $((_maxt + 5)) \
	    ip netns exec "$NS_CLIENT" curl -s --http1.1 --max-time "$_maxt" \
	    -H 'Connection: close' -H 'Expect:' \
	    -H 'Content-Type: application/octet-stream' \
	    --data-binary "@$NETNS_DIR/upload" \
	    -w ' %{http_code} %header{x-server}' \
	    "http://$VIP:$VIP_PORT/up$1" 2>/dev/null)
	# the body "LENGTH SHA256", then the code and the server
	# shellcheck disable=SC2086 # split into fields
	set -- "$1" $_r
	if [ $# -eq 5 ]; then
		echo "$1 $4 $5 $2 $3"
	else
		echo "$1 ${2:-000} - - -"
	fi >> "$NETNS_DIR/uploads"
}

# upload_want: "LENGTH SHA256" of $NETNS_DIR/upload, what every answer
# must say.
upload_want() {
	echo "$(wc -c < "$NETNS_DIR/upload") $(sha256sum < "$NETNS_DIR/upload" | cut -d ' ' -f 1)"
}

# uploads_run N: N uploads into a fresh $NETNS_DIR/uploads; if none of the
# first $PROBE (3) arrived whole the rest are not tried, so a dead path
# fails in seconds.  uploads_whole: how many arrived whole.
uploads_run() {
	_want=$(upload_want)
	_probe=${PROBE:-3}
	: > "$NETNS_DIR/uploads"
	_k=1
	while [ "$_k" -le "$1" ]; do
		upload "$_k"
		if [ "$_k" -eq "$_probe" ] && [ "$_k" -lt "$1" ] &&
		    [ "$(uploads_whole)" -eq 0 ]; then
			note "the first $_probe uploads all failed: the other $(($1 - _k)) are not tried"
			break
		fi
		_k=$((_k + 1))
	done
}
uploads_whole() {
	awk -v w="$(upload_want)" '$2 == 200 && $4 " " $5 == w { n++ } END { print n + 0 }' \
	    "$NETNS_DIR/uploads"
}

# uploads_report N: a note with the count and the servers that answered,
# and one per failed upload (at most 5).
uploads_report() {
	_want=$(upload_want)
	_by=$(awk -v w="$_want" '$2 == 200 && $4 " " $5 == w { n[$3]++ }
	    END { for (s in n) printf "%s=%d ", s, n[s] }' "$NETNS_DIR/uploads")
	note "uploads: $1 of ${_want% *} bytes ($(wc -l < "$NETNS_DIR/uploads") tried), $(uploads_whole) arrived whole (per server: ${_by:-none})"
	awk -v w="$_want" '!($2 == 200 && $4 " " $5 == w)' "$NETNS_DIR/uploads" |
	    head -n 5 | while read -r _n _c _sv _l _h; do
		note "  upload $_n: http $_c, server $_sv, it received $_l bytes"
	    done
}

# check_requests N [PATH]: run N requests and check all succeed, each on
# its own connection, and every server answers some.
check_requests() {
	run_requests "$@"
	check "$1 requests through the VIP all succeed ($REQ_FAIL failed)" \
	    [ "$REQ_OK" -eq "$1" ]
	check "each request on a new connection ($REQ_CONNECTS connects)" \
	    [ "$REQ_CONNECTS" -eq "$REQ_OK" ]
	_none=
	for _i in $(seq 1 "$N_SRV"); do
		[ "$(answered_by "srv$_i")" -gt 0 ] || _none="$_none srv$_i"
	done
	check "every server answers some (${_none:+none from}${_none:-$(answers_summary)})" \
	    [ -z "$_none" ]
}

# wait_for FILE PATTERN SECONDS: poll FILE until PATTERN (grep) appears.
wait_for() {
	_i=0
	while [ "$_i" -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds (0) or
# SECONDS have passed (1): for a state that the cluster reaches a moment
# after the step that causes it (a multicast NEW or END learnt, a copy
# batched to the backup), never a fixed sleep.
wait_until() {
	_wu_end=$(($(now_ms) + $1 * 1000)); shift
	until "$@"; do
		[ "$(now_ms)" -lt "$_wu_end" ] || return 1
		sleep 0.1
	done
}

# count_lines FILE PATTERN: lines of FILE matching PATTERN (0 if none).
count_lines() { grep -c "$2" "$1" 2>/dev/null || true; }

# member_re ID EVENT: the log pattern of "member ID joined|is gone".
member_re() { echo "member $(echo "$1" | sed 's/\./\\./g') $2"; }

# wait_members SECONDS: every running ILB's log shows each other running
# ILB joined (polled together, one deadline).
wait_members() {
	_i=0
	while :; do
		_missing=
		_alive=0
		for _j in $(seq 1 "$N_ILB"); do
			ilb_alive "$_j" || continue
			_alive=$((_alive + 1))
			# joined the cluster itself: it is active, scored by all
			grep -q "join complete" "$(ilb_log "$_j")" 2>/dev/null ||
			    _missing="$_missing ilb$_j:active"
			for _k in $(seq 1 "$N_ILB"); do
				if [ "$_k" = "$_j" ] || ! ilb_alive "$_k"; then continue; fi
				grep -q "$(member_re "$(ilb_id "$_k")" joined)" \
				    "$(ilb_log "$_j")" 2>/dev/null ||
				    _missing="$_missing ilb$_j:$(ilb_id "$_k")"
			done
		done
		[ "$_alive" -gt 0 ] || _missing=" no ILB running"
		if [ -z "$_missing" ]; then
			# one more hello, so every member has heard the others
			sleep "$(awk -v h="${HELLO_MS:-200}" 'BEGIN { print 2 * h / 1000 }')"
			return 0
		fi
		_i=$((_i + 1))
		[ "$_i" -lt $(($1 * 10)) ] || break
		sleep 0.1
	done
	note "'member ID joined' missing in (log:ID):$_missing"
	return 1
}

# check_alive: every ILB we started is still running.
check_alive() {
	for _j in $(seq 1 "$N_ILB"); do
		check "ilb$_j still running" ilb_alive "$_j"
	done
}

# show_logs: the tail of each ILB's log (for a failure).
show_logs() {
	for _j in $(seq 1 "$N_ILB"); do
		[ -f "$(ilb_log "$_j")" ] || continue
		note "--- ilb$_j log (tail)"
		tail -n "${1:-15}" "$(ilb_log "$_j")" | sed 's/^/#   /'
	done
}

# scenario_ilb MODE FORWARD N: the common body of test_ilb_{tun,pcap,gre}:
# three ILBs in MODE with FORWARD, N requests each on a new connection all
# succeed and reach every server; every ILB sees the two others join and
# receives some packets; some packets are handed off and received by
# handoff; nothing is misrouted or orphaned; every ILB is still running.
scenario_ilb() {
	require_ilbd
	[ "$2" != gre ] || [ -x "$GREDECAP" ] || need "no $GREDECAP (build it first)"
	netns_setup
	check "topology up" topo_up
	check "servers answer" start_servers
	if [ "$2" = gre ]; then
		# shellcheck disable=SC2086 # GREDECAP_ARGS is a list of options
		check "gredecap runs in every server namespace" \
		    start_gredecap $GREDECAP_ARGS
	fi
	check "3 ILBs start (mode $1, forward $2)" start_ilbs "$1" "$2"
	check "each ILB log shows the two others joined" wait_members 60
	check_requests "$3"
	sleep 0.5       # let NEW/END and handoffs settle before counting
	stats_snapshot
	for _j in $(seq 1 "$N_ILB"); do
		check "ilb$_j answers USR1 with a stats line" [ -s "$NETNS_DIR/stats.$_j" ]
		stat_check "ilb$_j received packets (ECMP spreads)" rx -gt 0 "$_j"
	done
	stats_print
	stat_check "handoff_out > 0 on some ILB" handoff_out -gt 0
	stat_check "handoff_in > 0 on some ILB" handoff_in -gt 0
	stat_check "nothing misrouted" misrouted -eq 0
	stat_check "no orphan" orphan -eq 0
	check_alive
	[ "$fail" -eq 0 ] || show_logs 15
}

# ---------------------------------------------------------------------------
# Replication scenarios (test_repl_*.sh): a 4th ILB, loss of cluster UDP,
# long-lived keep-alive connections.

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

# keepalive_start [C [D [ARGS...]]]: tests/netns/keepalive.py in the client
# namespace, in the background (its pid is recorded, so topo_down stops
# it): C keep-alive connections (default $KA_C, 300) to the VIP, a GET at
# least every 100 ms on each, for D seconds from its start (default $KA_D,
# 20; the connections open over the first 2 s).  ARGS go to keepalive.py
# (e.g. --interval 0.05).  Its READY line goes to $NETNS_DIR/keepalive.ready,
# its JSON summary to $NETNS_DIR/keepalive.json, stderr to keepalive.log.
# The address is $REQ_VIP if set (e.g. $VIP6), else $VIP.
# A test whose load must outlast an event of unknown length gives D = 0:
# the load then runs until keepalive_stop, bounded by $KA_MAX s (a hang).
KA_C=${KA_C:-300}
KA_D=${KA_D:-20}
KA_MAX=${KA_MAX:-$HANG_S}
keepalive_start() {
	KA_CONNS=${1:-$KA_C}
	KA_DUR=${2:-$KA_D}
	if [ $# -ge 2 ]; then shift 2; else shift $#; fi
	KA_STOP_MS=
	_d=$KA_DUR
	[ "$KA_DUR" != 0 ] || _d=$KA_MAX
	rm -f "$NETNS_DIR/keepalive.ready" "$NETNS_DIR/keepalive.json"
	KA_T0=$(now_ms)
	bg "$NS_CLIENT" "$NETNS_DIR/keepalive.log" "$PYTHON" \
	    "$NETNS_SRC/keepalive.py" -c "$KA_CONNS" -d "$_d" \
	    --ready "$NETNS_DIR/keepalive.ready" \
	    --out "$NETNS_DIR/keepalive.json" "$@" "${REQ_VIP:-$VIP}"
	KA_PID=$BG_PID
}

# keepalive_stop: end the load of keepalive_start C 0 now (SIGUSR1: no new
# requests, the outstanding ones awaited), then keepalive_result.  Fails if
# the load had ended already (it ran into $KA_MAX).
keepalive_stop() {
	KA_STOP_MS=$(now_ms)
	_r=0
	if kill -0 "$KA_PID" 2>/dev/null; then
		kill -USR1 "$KA_PID"
		note "keepalive: stopped after $(((KA_STOP_MS - KA_T0) / 1000)) s of load"
	else
		note "keepalive.py had ended before keepalive_stop (KA_MAX=${KA_MAX}s)"
		_r=1
	fi
	keepalive_result
	check "keepalive: the load lasted until the test stopped it" [ "$_r" -eq 0 ]
}

# keepalive_wait [SECONDS]: wait (default 30 s) for keepalive.py's READY:
# every connection opened and answered once.  Fails if it does not come,
# if keepalive.py died, or if some connection failed already.
keepalive_wait() {
	_i=0
	while [ ! -s "$NETNS_DIR/keepalive.ready" ]; do
		kill -0 "$KA_PID" 2>/dev/null || { note "keepalive.py exited early"; return 1; }
		_i=$((_i + 1))
		[ "$_i" -lt $((${1:-30} * 10)) ] || { note "no READY from keepalive.py"; return 1; }
		sleep 0.1
	done
	KA_READY_MS=$(now_ms)
	# READY ok failed seconds
	read -r _r _ok _failed _secs < "$NETNS_DIR/keepalive.ready"
	note "keepalive.py ready after ${_secs}s: $_ok connections up, $_failed failed"
	[ "$_failed" -eq 0 ]
}

# since_ready_sleep SECONDS: sleep until SECONDS after keepalive READY.
since_ready_sleep() {
	_t=$((KA_READY_MS + $1 * 1000 - $(now_ms)))
	[ "$_t" -le 0 ] || sleep "$((_t / 1000)).$(printf %03d $((_t % 1000)))"
}

# keepalive_result: wait for keepalive.py to exit (at most D + 15 s after
# its start, or 20 s after keepalive_stop; it bounds itself to D + 10 s, or
# its --timeout + 5 s after the stop), read its JSON summary into
# KA_* variables and check: every connection lived to the end, every
# request was answered, it exited 0.  Prints the summary and the first
# failures.
keepalive_result() {
	if [ -n "$KA_STOP_MS" ]; then _deadline=$((KA_STOP_MS + 20000))
	else _deadline=$((KA_T0 + (KA_DUR + 15) * 1000))
	fi
	while kill -0 "$KA_PID" 2>/dev/null && [ "$(now_ms)" -lt "$_deadline" ]; do
		sleep 0.2
	done
	kill -0 "$KA_PID" 2>/dev/null && { note "keepalive.py overran; stopping it"; pid_stop "$KA_PID"; }
	wait "$KA_PID" 2>/dev/null
	KA_RC=$?
	KA_OK=; KA_FAILED=; KA_SENT=; KA_ANSWERED=; KA_UNANSWERED=
	if [ -s "$NETNS_DIR/keepalive.json" ]; then
		eval "$("$PYTHON" - "$NETNS_DIR/keepalive.json" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
print("KA_OK=%d KA_FAILED=%d KA_SENT=%d KA_ANSWERED=%d KA_UNANSWERED=%d" % (
    s["connections_ok"], s["connections_failed"], s["requests_sent"],
    s["requests_answered"], s["requests_unanswered"]))
srv = " ".join("%s=%d/%d" % (k, v["connections"], v["answers"])
               for k, v in sorted(s["servers"].items()))
l = s["latency_ms"]
msg = ("# keepalive: %d connections (%d ok, %d failed), %d requests sent, "
       "%d answered, %d unanswered" % (s["connections"], s["connections_ok"],
       s["connections_failed"], s["requests_sent"], s["requests_answered"],
       s["requests_unanswered"]))
msg += ("\n# keepalive: per server (connections/answers) %s; latency max %s ms "
        "p50 %s p99 %s; largest gap between answers %s ms; ready after %s s"
        % (srv, l["max"], l["p50"], l["p99"], s["max_gap_ms"], s["ready_s"]))
if s["failures_by_reason"]:
    msg += "\n# keepalive: failures by reason: " + ", ".join(
        "%s %d" % (k, v) for k, v in sorted(s["failures_by_reason"].items()))
for f in s["failures"][:5]:
    msg += ("\n#   conn %d (port %d, %s): %s at t=%ss%s, %d answers" % (
            f["conn"], f["local_port"], f["server"] or "no server yet",
            f["reason"], f["t"], "" if f["t_since_ready"] is None else
            " (%ss after ready)" % f["t_since_ready"], f["answers"]))
print("KA_MSG=%s" % "'" + msg.replace("'", "") + "'")
PYEOF
)"
		echo "$KA_MSG"
	else
		note "keepalive.py wrote no summary (exit $KA_RC); its log:"
		tail -n 10 "$NETNS_DIR/keepalive.log" 2>/dev/null | sed 's/^/#   /'
	fi
	_c=1; [ "${KA_FAILED:-1}" -eq 0 ] && [ "${KA_OK:-0}" -eq "$KA_CONNS" ] && _c=0
	_lived=${KA_DUR}s
	[ -z "$KA_STOP_MS" ] || _lived="until stopped"
	check "keepalive: all $KA_CONNS connections lived $_lived on one server each (${KA_FAILED:-?} failed)" \
	    [ "$_c" -eq 0 ]
	_c=1; [ "${KA_UNANSWERED:-1}" -eq 0 ] && [ "${KA_ANSWERED:-0}" -gt 0 ] && _c=0
	check "keepalive: every request answered (${KA_SENT:-?} sent, ${KA_UNANSWERED:-?} unanswered)" \
	    [ "$_c" -eq 0 ]
	check "keepalive.py exits 0 (exit $KA_RC)" [ "$KA_RC" -eq 0 ]
}

# The common frame of test_repl_*.sh: 3 ILBs (tun, dsr, scheduler
# $ILB_SCHEDULER: wlc, stateful), 3 servers, $KA_C keep-alive connections;
# the membership change comes REPL_AT s (default 5) after every connection
# is up, and the load goes on until REPL_AFTER s (default 10) after the
# test's last step, however long the steps took (a busy machine); passing
# needs no failed connection, no unanswered request and orphan == 0 summed
# over every ILB (the last snapshot of a stopped ILB included).
REPL_AT=${REPL_AT:-5}
REPL_AFTER=${REPL_AFTER:-10}
STATS_KEYS_REPL="rx forward_owner forward_backup forward_cache handoff_out handoff_in learn_backup learn_cache misrouted orphan"

# repl_setup [N]: topology, servers, ILBs 1..3 started, members joined.
repl_setup() {
	require_ilbd
	netns_setup
	: "${ILB_SCHEDULER:=wlc}"
	export ILB_SCHEDULER
	check "topology up" topo_up
	check "servers answer" start_servers
	check "3 ILBs start (tun, dsr, $ILB_SCHEDULER, cache_size ${ILB_CACHE_SIZE:-65536}; hello $HELLO_MS ms, dead $DEAD_MS ms)" \
	    start_ilbs tun dsr
	check "each ILB log shows the two others joined" wait_members 60
	if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi
}

# repl_load: start the keep-alive load (until repl_results), wait for
# READY, then until REPL_AT s after it; snapshot every ILB's counters into
# $NETNS_DIR/last.I.
repl_load() {
	keepalive_start "$KA_C" 0
	check "keepalive: $KA_C connections up" keepalive_wait 60
	since_ready_sleep "$REPL_AT"
	repl_snapshot
}

# repl_snapshot: ilb_stats of every running ILB into $NETNS_DIR/last.I
# (kept when the ILB stops, for orphan totals).
repl_snapshot() {
	for _j in $(seq 1 "$N_ILB"); do
		ilb_alive "$_j" || continue
		ilb_stats "$_j" > "$NETNS_DIR/last.$_j.tmp" &&
		    mv "$NETNS_DIR/last.$_j.tmp" "$NETNS_DIR/last.$_j"
	done
	return 0
}

# repl_wait_gone V SECONDS: every other running ILB logs V gone.
repl_wait_gone() {
	_re=$(member_re "$(ilb_id "$1")" "is gone")
	_i=0
	while [ "$_i" -lt $(($2 * 10)) ]; do
		_missing=
		_n=0
		for _j in $(seq 1 "$N_ILB"); do
			if [ "$_j" = "$1" ] || ! ilb_alive "$_j"; then continue; fi
			_n=$((_n + 1))
			grep -q "$_re" "$(ilb_log "$_j")" || _missing=1
		done
		[ "$_n" -gt 0 ] || return 1
		[ -n "$_missing" ] || return 0
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}

# repl_finish: repl_results, then repl_done.
repl_finish() { repl_results; repl_done; }

# repl_done: on a failure the ILB logs (without stats lines); the summary.
repl_done() {
	if [ "$fail" -ne 0 ]; then
		for _j in $(seq 1 "$N_ILB"); do
			[ -f "$(ilb_log "$_j")" ] || continue
			note "--- ilb$_j log (tail, stats lines left out)"
			grep -v 'stats: ' "$(ilb_log "$_j")" | tail -n 15 | sed 's/^/#   /'
		done
	fi
	finish
}

# repl_results: REPL_AFTER s more of load, then the keep-alive outcome,
# counters, orphan == 0.
repl_results() {
	sleep "$REPL_AFTER"
	keepalive_stop
	sleep 0.5
	repl_snapshot
	stats_snapshot
	STATS_KEYS=$STATS_KEYS_REPL stats_print
	for _j in $(seq 1 "$N_ILB"); do
		[ -s "$NETNS_DIR/stats.$_j" ] || continue
		_r=$(awk '$1 ~ /^repl_/ && $2 != 0 { printf "%s=%s ", $1, $2 }' \
		    "$NETNS_DIR/stats.$_j")
		[ -z "$_r" ] || note "ilb$_j: $_r"
	done
	[ -z "$LOSS_PERCENT" ] || note "loss rules dropped $(loss_dropped) cluster datagrams"
	# orphan over every ILB: the live ones now, a stopped one as last seen
	_o=$(cat "$NETNS_DIR"/last.* 2>/dev/null |
	    awk '$1 == "orphan" { s += $2; f = 1 } END { if (f) print s }')
	check "no orphan: mid-connection packets found an entry (orphan=${_o:-missing}, all ILBs)" \
	    [ "${_o:-1}" -eq 0 ]
	# the backup's reliable copies leave in tick batches, not one TCP
	# message each (the running ILBs' counters)
	_b=$(stat_sum repl_backup_sent); _t=$(stat_sum repl_tcp_sent)
	check "backup copies batched: ${_t:-?} reliable messages for ${_b:-?} NEW copies and their ENDs" \
	    test "${_b:-0}" -gt 0 -a "${_t:-0}" -lt "${_b:-0}"
}

# repl_kill V: kill -9 ILB V and withdraw its route at once; the others
# must log it gone (60 s catches a hang).
repl_kill() {
	note "kill -9 ilb$1 and withdraw its route"
	kill_ilb "$1"
	check "withdraw ilb$1's route" route_del_nexthop "$1"
	check "the survivors log ilb$1 gone" repl_wait_gone "$1" 60
}

# ilb_conf_health I GROUP: replace the health group that ilb_conf wrote in
# $NETNS_DIR/ilbI.conf (check = "none") by GROUP, e.g.
# '{ check = "tcp"; interval_ms = 200; timeout_ms = 100; rise = 2; fall = 2; }'.
ilb_conf_health() {
	sed "s/^\( *health = \).*;\$/\1$2;/" "$NETNS_DIR/ilb$1.conf" \
	    > "$NETNS_DIR/ilb$1.conf.tmp" &&
	    mv "$NETNS_DIR/ilb$1.conf.tmp" "$NETNS_DIR/ilb$1.conf" &&
	    grep -qF "health = $2;" "$NETNS_DIR/ilb$1.conf"
}

# wait_logs PATTERN MS: every running ILB's log matches PATTERN (grep),
# polled every 50 ms for at most MS ms.  WAIT_MS: the time it took; the
# ILBs still missing it are noted on failure.
wait_logs() {
	_t0=$(now_ms)
	while :; do
		_missing=
		for _j in $(seq 1 "$N_ILB"); do
			ilb_alive "$_j" || continue
			grep -q "$1" "$(ilb_log "$_j")" 2>/dev/null ||
			    _missing="$_missing ilb$_j"
		done
		WAIT_MS=$(($(now_ms) - _t0))
		[ -n "$_missing" ] || return 0
		[ "$WAIT_MS" -lt "$2" ] || break
		sleep 0.05
	done
	note "'$1' missing after $WAIT_MS ms in:$_missing"
	return 1
}

# ilb_conf_metrics I [LISTEN]: in $NETNS_DIR/ilbI.conf (from ilb_conf), serve
# /metrics on LISTEN (default ILB I's own address, port 9650) instead of "".
ilb_conf_metrics() {
	_l=${2:-$(ilb_addr "$1"):9650}
	sed -i "s|^  listen = \"\";|  listen = \"$_l\";|" "$NETNS_DIR/ilb$1.conf" &&
	    grep -qF "  listen = \"$_l\";" "$NETNS_DIR/ilb$1.conf"
}

# ---------------------------------------------------------------- ilbctl and
# one tuple's connections (test_ilbctl.sh, test_port_reuse.sh,
# test_late_end.sh)

ILBCTL=${ILBCTL:-$top_builddir/src/ilbctl}

# ctl I ARGS...: ilbctl on ILB I's socket (the path works from the host).
ctl() {
	_i=$1; shift
	timeout 10 "$ILBCTL" -s "$NETNS_DIR/ilb$_i.sock" "$@"
}

# ctl_stat I NAME: counter NAME of ILB I (show stats).
ctl_stat() { ctl "$1" show stats | awk -v k="$2" '$1 == k { print $2 }'; }

# direct_rx I: packets ILB I read from its input (not handed off to it).
direct_rx() { echo $(($(ctl_stat "$1" rx) - $(ctl_stat "$1" handoff_in))); }

# tuple_role I PORT: ILB I's role for the client's tuple from source port
# PORT to the VIP (owner, backup or neither), from show owner.
tuple_role() {
	ctl "$1" show owner "$CLIENT_ADDR:$2" "$VIP:$VIP_PORT" |
	    awk -v me="$(ilb_id "$1")" '
		$1 == "owner" && $2 == me { r = "owner" }
		$1 == "backup" && $2 == me { r = "backup" }
		END { print r ? r : "neither" }'
}

# tuple_get PORT [TIMEOUT]: one GET from the client's source port PORT
# (tuple_http.py, timeout 2 s); prints the answering server's name and the
# HTTP status ("- error" on failure).
tuple_get() {
	ip netns exec "$NS_CLIENT" "$PYTHON" "$NETNS_SRC/tuple_http.py" \
	    "$CLIENT_ADDR" "$1" "$VIP" "$VIP_PORT" "${2:-2}" 2> /dev/null ||
	    echo "- error"
}

# tuple_to_neither PORT0 TRIES: GET from source ports PORT0, PORT0 + 1, ...
# (at most TRIES) until one's packets reach an ILB that neither owns nor
# backs up its tuple (such an ILB learns a connection only from the
# multicast NEW).  Sets PORT, X (that ILB) and FIRST (the server that
# answered); PORT is empty if none did.  The router must hash the tuple
# (router_tuple_hash), so that every connection on it takes that ILB.
tuple_to_neither() {
	PORT='' X='' FIRST=''
	_p=$1
	while [ "$_p" -lt $(($1 + $2)) ]; do
		for _j in $(seq 1 "$N_ILB"); do eval "_rx0_$_j=$(direct_rx "$_j")"; done
		# shellcheck disable=SC2046 # the answer's two words
		set -- "$1" "$2" $(tuple_get "$_p")
		for _j in $(seq 1 "$N_ILB"); do
			eval "_d=\$((\$(direct_rx $_j) - _rx0_$_j))"
			_r=$(tuple_role "$_j" "$_p")
			# shellcheck disable=SC2154 # _d is set through eval
			note "port $_p: ilb$_j read $_d, $_r; answer $3 $4"
			if [ "$_d" -gt 0 ] && [ "$4" = 200 ] && [ "$_r" = neither ]; then
				PORT=$_p X=$_j FIRST=$3
			fi
		done
		[ -z "$PORT" ] || return 0
		_p=$((_p + 1))
	done
}

# tuple_bed_up PORT0 TRIES: the topology, the servers, 3 ILBs (tun, dsr,
# $ILB_SCHEDULER), the router hashing the tuple (policy 3), then
# tuple_to_neither PORT0 TRIES; each a check.  On a failure the logs are
# shown and the script ends.
tuple_bed_up() {
	check "topology up" topo_up
	check "servers answer" start_servers
	check "3 ILBs start (tun, dsr, $ILB_SCHEDULER)" start_ilbs tun dsr
	check "each ILB log shows the two others joined" wait_members 60
	check "the router's ECMP hashes the tuple (policy 3)" router_tuple_hash
	if [ "$fail" -ne 0 ]; then show_logs 20; finish; exit 1; fi
	tuple_to_neither "$1" "$2"
	check "a source port reaches an ILB that is neither owner nor backup (port ${PORT:-none}, ilb${X:-?}, first answer from ${FIRST:-nobody})" \
	    [ -n "$PORT" ]
	if [ -z "$PORT" ]; then show_logs 10; finish; exit 1; fi
}

# lib.sh: the network-namespace topology of the integration tests (sourced,
# POSIX sh, run as root).  See tests/netns/README for the picture.
# The one file every test sources: it sets the common variables, then
# sources its parts from lib/ (topology, servers, ILBs, load, checks, the
# frames of whole tests: see the end and the README's "lib.sh in short").
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

NETNS_DIR=${NETNS_DIR:-}       # state: configs, logs, pids; default mktemp
# HANG_S: the bound of a wait or a load that must only catch a hang.  Tests
# wait for conditions, not for durations: a busy machine makes everything
# slower, and a fixed window that a step must fit in fails there.
HANG_S=${HANG_S:-600}

# The parts, in this order; each begins with what it holds.  They are in
# lib/ beside this file, i.e. in $NETNS_SRC (a sourced file cannot name
# itself; NETNS_SRC is its directory from the source tree, also under
# make distcheck's separate build directory).  Their variables read the
# ones above (KA_MAX: HANG_S; ILBCTL: top_builddir) and those a test set
# before sourcing this file.
NETNS_LIB=$NETNS_SRC/lib
# shellcheck source=tests/netns/lib/assert.sh
. "$NETNS_LIB/assert.sh"
# shellcheck source=tests/netns/lib/topo.sh
. "$NETNS_LIB/topo.sh"
# shellcheck source=tests/netns/lib/servers.sh
. "$NETNS_LIB/servers.sh"
# shellcheck source=tests/netns/lib/daemons.sh
. "$NETNS_LIB/daemons.sh"
# shellcheck source=tests/netns/lib/load.sh
. "$NETNS_LIB/load.sh"
# shellcheck source=tests/netns/lib/repl.sh
. "$NETNS_LIB/repl.sh"
# shellcheck source=tests/netns/lib/scenario.sh
. "$NETNS_LIB/scenario.sh"

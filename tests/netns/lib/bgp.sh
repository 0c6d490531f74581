# lib/bgp.sh (sourced by test_bgp*.sh and test_frr.sh after lib.sh): the
# routing daemons of the BGP scenarios, run from the files of examples/
# as they are but for the log line: BIRD 2 (bird_start, birdc_) and FRR
# (frr_start, vtysh_: zebra, bfdd and bgpd per namespace, by hand: no
# systemd), the router's paths (has_path, no_path, paths_are), the
# announce group of an ILB (ilb_announce), the sampler that proves an ILB
# is not announced while it joins (readiness_watch), and a join held for
# the join timeout (join_hold_on).  Every daemon runs inside a namespace
# of the test: topo_down stops it with the namespace.
# Reads ANN_TABLE, ANN_DRAIN_MS and BGP_ILB (bird, frr) set by the test.

BGP_EXAMPLES=$top_srcdir/examples

# bird_start NAME NS CONF: BIRD with the example CONF, logging to a file of
# the test and its control socket at $NETNS_DIR/bird-NAME.ctl.
bird_start() {
	sed "s|^log syslog all;|log \"$NETNS_DIR/bird-$1.log\" all;|" "$3" \
	    > "$NETNS_DIR/bird-$1.conf" || return 1
	bg "$2" "$NETNS_DIR/bird-$1.out" bird -f -c "$NETNS_DIR/bird-$1.conf" \
	    -s "$NETNS_DIR/bird-$1.ctl"
	wait_until 30 birdc -s "$NETNS_DIR/bird-$1.ctl" show status > /dev/null 2>&1
}
birdc_() { _n=$1; shift; birdc -s "$NETNS_DIR/bird-$_n.ctl" "$@"; }

# frr_start NAME NS CONF: zebra, bfdd and bgpd (as user frr, daemonized)
# with the example CONF in NS; sockets, pid files and the log in
# $NETNS_DIR/frr-NAME/.  Waits until bgpd answers on its vty socket.
FRR_SBIN=${FRR_SBIN:-/usr/lib/frr}
frr_start() {
	_d=$NETNS_DIR/frr-$1
	mkdir -p "$_d" && chown frr:frr "$_d" || return 1
	sed "s|^log syslog informational|log file $_d/frr.log|" "$3" \
	    > "$_d/frr.conf" && chmod 644 "$_d/frr.conf" || return 1
	for _dm in zebra bfdd bgpd; do
		_x=
		[ "$_dm" != bfdd ] || _x="--bfdctl $_d/bfdd.sock"
		# shellcheck disable=SC2086 # _x: an option and its value
		ip netns exec "$2" "$FRR_SBIN/$_dm" -d -f "$_d/frr.conf" \
		    -i "$_d/$_dm.pid" --vty_socket "$_d" -z "$_d/zserv.api" \
		    -P 0 $_x >> "$_d/start.out" 2>&1 || return 1
		[ "$_dm" != zebra ] ||
		    wait_until 30 test -S "$_d/zserv.api" || return 1
	done
	wait_until 30 vtysh_ "$1" -c "show bgp summary" > /dev/null
}
# vtysh_ NAME ARGS: vtysh on NAME's daemons (in its namespace: the vty
# sockets are files, the namespace does not matter to them).
vtysh_() { _n=$1; shift; vtysh --vty_socket "$NETNS_DIR/frr-$_n" "$@"; }

# bgp_up I: ILB I's BGP session with the router is Established (its
# daemon: BIRD, or FRR when BGP_ILB=frr).  bgp_all_up: every ILB's.
bgp_up() {
	if [ "${BGP_ILB:-bird}" = frr ]; then
		vtysh_ "ilb$1" -c "show bgp neighbors $ROUTER_LAN" |
		    grep -q "BGP state = Established"
	else
		birdc_ "ilb$1" show protocols uplink | grep -q Established
	fi
}
bgp_all_up() {
	for _j in $(seq 1 "$N_ILB"); do bgp_up "$_j" || return 1; done
}

# has_path I: the router's VIP route goes via ILB I.
has_path() { route_ilb_list | grep -qx "$1"; }
no_path() { ! has_path "$1"; }
paths_are() { [ "$(route_ilb_list | tr '\n' ' ')" = "$1" ]; }

# ilb_announce I: the announce group in ILB I's configuration.
ilb_announce() {
	cat >> "$NETNS_DIR/ilb$1.conf" <<EOC
announce = {
  table = $ANN_TABLE;
  drain_ms = $ANN_DRAIN_MS;
};
EOC
}

# ann_routes I: ILB I's readiness routes (protocol static in table
# $ANN_TABLE: in the main table, ilbd's capture route is protocol kernel).
ann_routes() {
	ip -n "$(ns_ilb "$1")" route show table "$ANN_TABLE" proto static \
	    2>/dev/null
}

# readiness_watch: until $NETNS_DIR/watch.stop exists, sample the ILB
# named in $NETNS_DIR/watch.cur (the one starting) as fast as the shell
# goes: a path via it at the router or a readiness route (read first),
# then whether its log says "join complete" (read after: the routes come
# after that line).  Counts in $NETNS_DIR/watch.I: "joining_samples
# violations".
readiness_watch() {
	_js=0; _v=0; _cur=
	# (it ends with the state directory too: an interrupted test)
	while [ -d "$NETNS_DIR" ] && [ ! -e "$NETNS_DIR/watch.stop" ]; do
		_j=$(cat "$NETNS_DIR/watch.cur" 2>/dev/null)
		if [ "$_j" != "$_cur" ]; then _js=0; _v=0; _cur=$_j; fi
		[ -n "$_j" ] || { sleep 0.01; continue; }
		_paths=" $(route_ilb_list | tr '\n' ' ')"
		_tab=$(ann_routes "$_j")
		grep -q "join complete" "$(ilb_log "$_j")" 2>/dev/null && continue
		_js=$((_js + 1))
		case "$_paths" in *" $_j "*) _v=$((_v + 1));; esac
		[ -z "$_tab" ] || _v=$((_v + 1))
		echo "$_js $_v" > "$NETNS_DIR/watch.$_j"
	done
}

# join_hold_on I: in ILB I's namespace, drop the cluster's TCP (the
# reliable channel: TRANSFER, DONE) both ways, before it starts.
join_hold_on() {
	nsx "$(ns_ilb "$1")" nft -f - <<EON
table inet ilbt_join {
	chain input {
		type filter hook input priority 0;
		tcp dport $GROUP_PORT drop
		tcp sport $GROUP_PORT drop
	}
}
EON
}
join_hold_off() { nsx "$(ns_ilb "$1")" nft delete table inet ilbt_join; }

# watch_result I MIN: ILB I was seen joining at least MIN times and never
# announced meanwhile (readiness_watch's counts).
watch_result() {
	read -r _js _v < "$NETNS_DIR/watch.$1"
	check "ilb$1: seen joining ($_js samples), never announced meanwhile ($_v)" \
	    test "$_js" -ge "$2" -a "$_v" -eq 0
}

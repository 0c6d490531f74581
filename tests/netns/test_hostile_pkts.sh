#!/bin/sh
# test_hostile_pkts.sh: malformed and odd packets to the VIP, sent with
# scapy (tests/netns/hostile_pkts.py) from the client (through the router,
# ECMP over the ILBs) and from the rogue on the LAN (Ethernet frames to
# ilb1's MAC), first with the ILBs in tun mode, then in pcap mode, while
# KA_C (100) keep-alive connections run beside the attack.  ilbd keeps
# running, each class of packet that reaches ilbd raises the counter of
# its reason by at least the number that reached it (summed over the
# ILBs; malformed ones raise bad_packet and drop too), IPv4 with options is
# forwarded (the server's SYN-ACK comes back) and not counted bad, no
# keep-alive connection fails, and new connections after the attack all
# succeed.
#
# What reaches ilbd:
#   tun mode: what the kernel forwards into the TUN device.  The kernel
#     (the router's, then the ILB's) drops an IPv4 header with IHL < 5,
#     an IHL or total length past the packet, a total length below the
#     header, a wrong header checksum, and an IPv6 payload length past the
#     packet: those never reach ilbd (sent anyway; ilbd must not care).
#     It trims bytes past the total length, so "total length 20" reaches
#     ilbd as a bare 20-byte header.  It does not reassemble (no conntrack
#     in the namespaces), nor look at TCP, ICMP or IPv6 extension headers
#     past hop-by-hop: the ILBs get net.ipv6.conf.all.forwarding=1, and a
#     second service on an IPv6 VIP ($VIP6, added to each config here) so
#     ilbd routes it into the TUN device.
#   pcap mode: exactly the frames that match ilbd's capture filter, read
#     from its log and compiled by libpcap in hostile_pkts.py, so the
#     expectation follows the filter.  "dst port P" reads the port at
#     4 * IHL, so the IHL frames put P there; a frame whose port would lie
#     past its end (IHL past the packet) never matches; an IPv6 extension
#     header other than a fragment header first, and UDP, never match.
#     From the client only what the router forwards unchanged is sent.
#   IHL past the packet reaches ilbd in neither mode.
#   The LAN bridge must not validate IP headers (br_netfilter, where
#   loaded, would drop them before any ILB): bridge_plain.
# The expected count of a class is then COUNT (tun, where it reaches) or
# the frames that match the filter (pcap); a class expected to reach
# nothing is noted, not checked.  A packet is parsed once, where it first
# arrives, so the reason counters must rise by exactly that many; a
# fragment may be counted at two ILBs (handoff), so frag_* by at least.
# The counters that rose during each class are printed.
# eval of single-quoted checks and eval-assigned variables are deliberate
# shellcheck disable=SC2016,SC2154
KA_C=${KA_C:-100}               # keep-alive connections beside the attack
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=${COUNT:-10}              # packets (or fragment pairs) per class
N=${N:-100}                     # new connections after each attack
FRAG_WAIT=${FRAG_WAIT:-6}       # s after a lone later fragment: dropped by then
VIP6=${VIP6:-2001:db8::10}      # lib.sh's, if it has an IPv6 VIP
SRV6=2001:db8::21
ROGUE6=2001:db8::66
HOSTILE=$NETNS_SRC/hostile_pkts.py

# Classes sent, per source; see hostile_pkts.py --list.  From the client
# only what the router forwards as it is (zero_payload: in tun mode only,
# since the router trims it and the filter then no longer matches).
CLIENT_CLASSES="options_nop options_rr tcp_doff_low tcp_doff_past
flags_synfin flags_synrst flags_none flags_urgpsh frag_tiny frag_overlap
frag_reverse udp sctp icmp_echo icmp_bad_inner"
ROGUE_CLASSES="ihl0 ihl2 ihl_past_end ihl_past_totlen totlen_past_end
totlen_short zero_payload bad_csum tcp_doff_low flags_synfin flags_none
frag_tiny v6_plen_past v6_too_many v6_hbh_late v6_two_frag v6_exthdr_past
v6_ah"

# class_keys CLASS: the counters one of its packets raises (any of them).
class_keys() {
	case $1 in
	ihl0|ihl2|ihl_past_end) echo parse_bad_ihl;;
	ihl_past_totlen) echo "parse_bad_ihl parse_bad_totlen";;
	totlen_*) echo parse_bad_totlen;;
	zero_payload) echo parse_truncated;;
	bad_csum) echo parse_bad_csum;;
	tcp_doff_*) echo parse_bad_tcp_offset;;
	flags_*) echo parse_bad_tcp_flags;;
	frag_tiny) echo parse_tiny_fragment;;
	frag_overlap) echo parse_tiny_fragment;;	# RFC 1858: offset 8
	frag_reverse) echo frag_held;;
	frag_orphan) echo fragment;;
	udp) echo no_service;;	# the VIP has TCP services only
	sctp) echo not_tcp;;
	icmp_echo) echo icmp_echo_answered;;	# ilbd answers ping itself
	icmp_bad_inner) echo parse_bad_icmp;;
	v6_plen_past) echo parse_bad_plen;;
	v6_too_many) echo parse_too_many_exthdrs;;
	v6_hbh_late|v6_two_frag|v6_exthdr_past) echo parse_bad_exthdr;;
	v6_ah) echo parse_unsupported_exthdr;;
	options_*) echo none;;
	esac
}

# class_bad CLASS: a malformed packet (also counted bad_packet and drop).
class_bad() {
	case $1 in
	options_*|frag_reverse|frag_orphan|udp|sctp|icmp_echo) return 1;;
	esac
}

# tun_reaches CLASS: the kernel hands it to ilbd in tun mode.
tun_reaches() {
	case $1 in
	ihl*|totlen_*|bad_csum|v6_plen_past) return 1;;
	esac
}

# scapy_python: a python3 with scapy (Debian's, if $PYTHON lacks it).
scapy_python() {
	for _p in "$PYTHON" /usr/bin/python3; do
		if "$_p" -c 'import scapy.all' > /dev/null 2>&1; then
			SCAPY_PY=$_p
			return 0
		fi
	done
	need "python3-scapy (scapy for $PYTHON)"
}

ns_mac() { ip -n "$1" -br link show "$2" | awk '{ print $3 }'; }

# conf_v6 I: a second service on the IPv6 VIP in ilbI.conf (the services
# list ends the file), so both modes take $VIP6 as a VIP; nothing to do if
# ilb_conf has a service on it already.
conf_v6() {
	_f=$NETNS_DIR/ilb$1.conf
	! grep -q "^ *vip = \"$VIP6\";" "$_f" || return 0
	[ "$(tail -n 1 "$_f")" = ");" ] ||
	    { note "conf_v6: $_f does not end with the services list"; return 1; }
	sed '$d' "$_f" > "$_f.tmp" && cat >> "$_f.tmp" <<EOF &&
  ,
  {
    name = "web6";
    vip = "$VIP6";
    port = $VIP_PORT;
    forward = "dsr";
    scheduler = "rr";
    health = { check = "none"; };
    servers = ( { address = "$SRV6"; weight = 1; } );
  }
);
EOF
	mv "$_f.tmp" "$_f"
}

# phase_start MODE: the three ILBs in MODE (dsr) with the IPv6 service;
# earlier logs are moved aside, so "joined" lines are this phase's.
phase_start() {
	MODE=$1
	for _j in $(seq 1 "$N_ILB"); do
		if ilb_alive "$_j"; then kill_ilb "$_j"; fi
		[ ! -f "$(ilb_log "$_j")" ] ||
		    mv "$(ilb_log "$_j")" "$NETNS_DIR/ilb$_j.$PREV_MODE.log"
	done
	for _j in $(seq 1 "$N_ILB"); do
		sysctl_set "$(ns_ilb "$_j")" \
		    net.ipv6.conf.all.forwarding="$([ "$MODE" = tun ] && echo 1 || echo 0)"
		ilb_conf "$_j" "$MODE" dsr && conf_v6 "$_j" && start_ilb "$_j" ||
		    return 1
	done
	PREV_MODE=$MODE
}

# sender_start NAME NS DSTMAC SRC FD: hostile_pkts.py in NS, reading its
# commands from a FIFO held open on file descriptor FD (5 or 6).
sender_start() {
	_in=$NETNS_DIR/$1.in
	rm -f "$_in" && mkfifo "$_in" || return 1
	_flt=
	[ "$MODE" != pcap ] ||
	    _flt=$(sed -n 's/.*capture on eth0 ([^)]*): //p' "$(ilb_log 1)" | tail -n 1)
	ip netns exec "$2" timeout "$HANG_S" "$SCAPY_PY" "$HOSTILE" --iface eth0 \
	    --dst-mac "$3" --src "$4" --vip "$VIP" --port "$VIP_PORT" \
	    --src6 "$ROGUE6" --vip6 "$VIP6" --idle 60 ${_flt:+--filter "$_flt"} \
	    < "$_in" > "$NETNS_DIR/$1.out" 2> "$NETNS_DIR/$1.err" &
	echo "$!" >> "$NETNS_DIR/pids"
	eval "SENDER_PID_$1=\$!"
	eval "exec $5> \"\$_in\""
	eval "SENDER_FD_$1=$5"
	wait_for "$NETNS_DIR/$1.out" '^ready' 60 || {
		note "$1: hostile_pkts.py not ready:"
		sed 's/^/#   /' "$NETNS_DIR/$1.err"
		return 1
	}
}

# sender_stop NAME: close its FIFO (EOF), wait for it.
sender_stop() {
	eval "_fd=\$SENDER_FD_$1 _p=\$SENDER_PID_$1"
	eval "exec $_fd>&-"
	_i=0
	while kill -0 "$_p" 2>/dev/null && [ "$_i" -lt 300 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	pid_stop "$_p"
}

# send NAME CLASS COUNT: one command; sets SENT, ANSWERED, MATCHED.
send() {
	eval "_fd=\$SENDER_FD_$1"
	_n=$(count_lines "$NETNS_DIR/$1.out" '^done\|^error')
	echo "$2 $3" >&"$_fd"
	_i=0
	while [ "$(count_lines "$NETNS_DIR/$1.out" '^done\|^error')" -le "$_n" ]; do
		_i=$((_i + 1))
		[ "$_i" -lt 1200 ] || { note "$1: no answer to $2 in 60 s"; return 1; }
		sleep 0.05
	done
	# done CLASS COUNT SENT ANSWERED MATCHED
	# shellcheck disable=SC2046 # the words of the line
	set -- $(grep '^done\|^error' "$NETNS_DIR/$1.out" | tail -n 1)
	[ "$1" = "done" ] || { note "hostile_pkts.py: $*"; return 1; }
	SENT=$4 ANSWERED=$5 MATCHED=$6
}

# snap: lib.sh's stats_snapshot, but every ILB asked at once (USR1), so a
# class costs one wait, not three.
snap() {
	for _j in $(seq 1 "$N_ILB"); do
		eval "_n$_j=\$(count_lines \"\$(ilb_log $_j)\" 'stats: ')"
		kill -USR1 "$(ilb_pid "$_j")" 2>/dev/null
	done
	_i=0
	while [ "$_i" -lt 30 ]; do
		_left=
		for _j in $(seq 1 "$N_ILB"); do
			eval "_n=\$_n$_j"
			[ "$(count_lines "$(ilb_log "$_j")" 'stats: ')" -gt "$_n" ] ||
			    _left=1
		done
		[ -n "$_left" ] || break
		sleep 0.05; _i=$((_i + 1))
	done
	for _j in $(seq 1 "$N_ILB"); do
		grep 'stats: ' "$(ilb_log "$_j")" | tail -n 1 | sed 's/.*stats: //' |
		    tr '[:blank:]' '\n' |
		    sed -n 's/^\([A-Za-z0-9_.]*\)=\(.*\)$/\1 \2/p' \
		    > "$NETNS_DIR/stats.$_j"
	done
}

# snap_until KEYS N: snap until the counters KEYS rose by N in all (the
# ILBs, and the owners of handed-off fragments, are done with the class),
# or for 10 s, which only a hang or a miscount reaches; the checks
# then read the last snap.  KEYS "none" (or N 0): one snap after 0.2 s.
snap_until() {
	if [ "$1" = none ] || [ "$2" -eq 0 ]; then
		sleep 0.2; snap; return
	fi
	_u0=$(now_ms)
	while :; do
		snap
		_d=$(delta "$1")
		! is_num "$_d" || [ "$_d" -lt "$2" ] || return 0
		[ $(($(now_ms) - _u0)) -lt 10000 ] || return 0
		sleep 0.1
	done
}

# base_snapshot: every ILB's counters now, kept as the base of delta.
base_snapshot() {
	snap
	for _j in $(seq 1 "$N_ILB"); do cp "$NETNS_DIR/stats.$_j" "$NETNS_DIR/base.$_j"; done
}

# delta KEYS: the rise of the sum of KEYS over the ILBs since the base
# ("" if an ILB lacks one of them).
delta() {
	_d=0
	for _k in $1; do
		_a=$(stat_sum "$_k")
		_b=$(cat "$NETNS_DIR"/base.* | awk -v k="$_k" \
		    '$1 == k { s += $2; f = 1 } END { if (f) print s }')
		if ! is_num "$_a" || ! is_num "$_b"; then echo; return; fi
		_d=$((_d + _a - _b))
	done
	echo "$_d"
}

# rose: the counters that rose since the base, but the traffic of the
# keep-alive connections (for the report: which counters a class raised).
rose() {
	for _j in $(seq 1 "$N_ILB"); do
		sed 's/^/b /' "$NETNS_DIR/base.$_j"
		sed 's/^/a /' "$NETNS_DIR/stats.$_j"
	done | awk '
	    $1 == "b" { b[$2] += $3 } $1 == "a" { a[$2] += $3; k[$2] = 1 }
	    END { for (x in k) if (a[x] != b[x] && x !~ /^(rx|input_packets|dsr_|ltoc_entries|cache_entries|forward_|handoff_|established|new_queued|end_queued|refresh|learn_|cache_|ltoc_expired|tun_|cap_|pcap_|fwd_|gre_|cluster_|repl_|msg_|peer_|hello|tx)/)
	        printf "%s+%d ", x, a[x] - b[x] }'
}

op_text() { case $1 in -eq) echo "exactly";; *) echo ">=";; esac; }

# attack NAME CLASS: send COUNT of CLASS from NAME and check the counters.
attack() {
	_a0=$(now_ms)
	send "$1" "$2" "$COUNT" || { not_ok "$2 from $1 ($MODE): sent"; return; }
	_a1=$(now_ms)
	if [ "$MODE" = pcap ]; then REACHED=$MATCHED
	elif tun_reaches "$2"; then REACHED=$COUNT
	else REACHED=0
	fi
	_k=$(class_keys "$2")
	snap_until "$_k" "$REACHED"
	note "$2 from $1 ($MODE): $SENT frames, $REACHED reach ilbd; rose: $(rose)($((_a1 - _a0)) + $(($(now_ms) - _a1)) ms)"
	case $2 in
	options_*)
		check "$2 from $1 ($MODE): forwarded, the server answers ($ANSWERED of $COUNT SYN-ACKs)" \
		    [ "$ANSWERED" -eq "$COUNT" ]
		_b=$(delta bad_packet)
		check "$2 from $1 ($MODE): not counted as bad_packet (+${_b:-missing})" \
		    [ "${_b:-1}" -eq 0 ];;
	frag_orphan)
		;;                      # checked FRAG_WAIT s later
	*)
		if [ "$REACHED" -eq 0 ]; then
			note "$2 from $1 ($MODE): reaches no ilbd (see the head of $(basename "$0"))"
		else
			# a packet is parsed once, where it first arrives: the
			# reasons are exact; a fragment may be counted twice
			# (forwarded by handoff, then at the owner)
			_op=-eq
			case $_k in frag_*) _op=-ge;; esac
			_d=$(delta "$_k")
			check "$2 from $1 ($MODE): $(echo "$_k" | sed 's/ /+/g') rose by $(op_text $_op) $REACHED (+${_d:-missing})" \
			    eval 'is_num "$_d" && [ "$_d" $_op "$REACHED" ]'
			if class_bad "$2"; then
				for _x in bad_packet drop; do
					_d=$(delta $_x)
					check "$2 from $1 ($MODE): $_x rose by >= $REACHED (+${_d:-missing})" \
					    eval 'is_num "$_d" && [ "$_d" -ge "$REACHED" ]'
				done
			else
				_d=$(delta bad_packet)
				check "$2 from $1 ($MODE): not counted as bad_packet (+${_d:-missing})" \
				    [ "${_d:-1}" -eq 0 ]
			fi
		fi;;
	esac
	base_snapshot
}

# phase MODE: ILBs in MODE, the keep-alive load, the attack from both
# sources, then new connections; every ILB still running.
phase() {
	_f0=$fail
	check "3 ILBs start ($1, dsr, IPv4 and IPv6 VIPs)" phase_start "$1"
	check "each ILB log shows the two others joined ($1)" wait_members 60
	[ "$fail" -eq "$_f0" ] || return 1
	# the senders first: importing scapy takes seconds on a loaded machine
	check "client sender ready ($1)" sender_start client "$NS_CLIENT" \
	    "$(ns_mac "$NS_ROUTER" eth1)" "$CLIENT_ADDR" 5
	check "rogue sender ready ($1)" sender_start rogue "$NS_ROGUE" \
	    "$(ns_mac "$(ns_ilb 1)" eth0)" "$ROGUE_ADDR" 6
	[ "$fail" -eq "$_f0" ] || return 1
	keepalive_start "$KA_C" 0       # until the attack is over
	check "keepalive ($1): $KA_C connections up" keepalive_wait 60
	[ "$fail" -eq "$_f0" ] || return 1
	base_snapshot
	# lone later fragments first: they must be dropped within 5 s
	for _j in $(seq 1 "$N_ILB"); do cp "$NETNS_DIR/base.$_j" "$NETNS_DIR/orphan.base.$_j"; done
	_orph=0
	for _s in client rogue; do
		if send "$_s" frag_orphan "$COUNT"; then
			if [ "$MODE" = pcap ]; then _orph=$((_orph + MATCHED))
			else _orph=$((_orph + COUNT)); fi
		else
			not_ok "frag_orphan from $_s ($MODE): sent"
		fi
	done
	_t0=$(now_ms)
	base_snapshot
	for _c in $CLIENT_CLASSES; do
		[ "$MODE:$_c" != pcap:zero_payload ] || continue
		attack client "$_c"
	done
	for _c in $ROGUE_CLASSES; do attack rogue "$_c"; done
	_t=$((_t0 + FRAG_WAIT * 1000 - $(now_ms)))
	[ "$_t" -le 0 ] || sleep "$((_t / 1000)).$(printf %03d $((_t % 1000)))"
	for _j in $(seq 1 "$N_ILB"); do cp "$NETNS_DIR/orphan.base.$_j" "$NETNS_DIR/base.$_j"; done
	snap_until fragment "$_orph"
	if [ "$_orph" -gt 0 ]; then
		_d=$(delta fragment)
		check "frag_orphan ($MODE): fragment rose by >= $_orph after the ${FRAG_WAIT}s hold (+${_d:-missing})" \
		    eval 'is_num "$_d" && [ "$_d" -ge "$_orph" ]'
	else
		note "frag_orphan ($MODE): reaches no ilbd (the capture filter)"
	fi
	sender_stop client
	sender_stop rogue
	check_alive
	keepalive_stop
	check_requests "$N"
	stats_print
	check_alive
}

require_ilbd
scapy_python
netns_setup
check "topology up" topo_up
check "rogue namespace on the LAN" rogue_up
check "the LAN bridge is a plain switch (no br_netfilter)" bridge_plain
check "servers answer" start_servers
PREV_MODE=none
if [ "$fail" -eq 0 ]; then
	phase tun
	phase pcap
fi
[ "$fail" -eq 0 ] || show_logs 15
finish

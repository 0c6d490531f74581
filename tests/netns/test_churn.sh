#!/bin/sh
# test_churn.sh: new connections as fast as the machine allows through 3
# ILBs (tun, dsr, rr: the owner picks another server for each connection),
# CHURN_S (30) s of them, CHURN_C (64) in flight, from a client whose local
# port range is narrowed to CHURN_PORTS (1000) ports, so that every tuple
# comes back within seconds (issue 18, point 6).  The router hashes the
# tuple itself, so a tuple's connections all take the same ILB.  Each ILB
# drops NEW_LOSS (10) % of the multicast record datagrams (MIXED: NEWs and
# ENDs) it receives (nftables), as a full socket buffer does at 9,000
# connections a second: the backup then learns some connections only from
# the owner's reliable copy, staged up to 100 ms, which arrives after a
# short connection's END; and an owner that lost a connection's END meets
# the tuple's next SYN on a live entry of another tag (syn_end_missed).  The client
# (churn.py -r) reads each answer to the end and then resets the
# connection, as wrk does, so the servers forget a tuple at once.
#
# A late copy of an older connection's record must never revive that
# connection on a holder, nor overwrite or end a newer one's entry: a
# packet of the new connection would then go to the old connection's
# server, which answers with a reset.  Passes only with every connection
# answered (no client error) and no server reset that ilbd could cause.
#
# The servers' resets are counted (TcpOutRsts of each server namespace,
# /proc/net/snmp, before and after) and classified from captures of their
# SYN and RST segments (tcpdump, rstclass.py): a server reset answering a
# late segment of a connection the client had already reset (a handed-off
# segment takes a longer path than the client's reset, which may overtake
# it) is not ilbd's fault and is allowed; every other one -- a segment of
# a connection the server never had on the tuple, i.e. another
# connection's, sent to the wrong server -- fails the test.  The captures
# must have seen every reset the counters show.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

CHURN_S=${CHURN_S:-30}
CHURN_C=${CHURN_C:-64}
CHURN_PORTS=${CHURN_PORTS:-1000}
NEW_LOSS=${NEW_LOSS:-10}
CHURN_TABLE=ilbt_churn
PORT_LO=40000
STATS_KEYS="rx handoff_out new_conn port_reuse retransmitted_syn syn_end_missed syn_reopen closing_to_owner learn_stale learn_end_stale syn_stranger syn_superseded syn_records_first orphan misrouted"
: "${ILB_SCHEDULER:=rr}"
export ILB_SCHEDULER

# out_rsts NS: TcpOutRsts of namespace NS.
# shellcheck disable=SC2016 # awk's fields, not the shell's
out_rsts() {
	ip netns exec "$1" awk '$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++)
	    if ($i == "OutRsts") c = i; h = 1; next }
	    $1 == "Tcp:" && h { print $c }' /proc/net/snmp
}

# srv_rsts: the servers' TcpOutRsts, summed.
srv_rsts() {
	_s=0
	for _i in $(seq 1 "$N_SRV"); do
		_s=$((_s + $(out_rsts "$(ns_srv "$_i")")))
	done
	echo "$_s"
}

# new_loss_on I: in ILB I's namespace, drop NEW_LOSS % of the multicast
# datagrams that carry records (MIXED, type 8 at offset 5 of the UDP
# payload: under this load nearly every one carries NEWs, with ENDs) at
# random, as a full socket buffer does under load; the reliable copy of
# each NEW still reaches the backup, 100 ms later.
new_loss_on() {
	ip netns exec "$(ns_ilb "$1")" nft -f - <<EOF
table inet $CHURN_TABLE {
  chain input {
    type filter hook input priority -10; policy accept;
    udp dport $GROUP_PORT @th,104,8 8 numgen random mod 100 < $NEW_LOSS counter drop
  }
}
EOF
}

# new_dropped: datagrams new_loss_on dropped, over all ILBs.
new_dropped() {
	_s=0
	for _i in $(seq 1 "$N_ILB"); do
		_n=$(ip netns exec "$(ns_ilb "$_i")" nft list table inet \
		    "$CHURN_TABLE" | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
		_s=$((_s + ${_n:-0}))
	done
	echo "$_s"
}

# cap_start / cap_stop: tcpdump of the SYN and RST segments on the service
# port in every server namespace, into $NETNS_DIR/capI.pcap.
cap_start() {
	for _i in $(seq 1 "$N_SRV"); do
		bg "$(ns_srv "$_i")" "$NETNS_DIR/cap$_i.log" tcpdump -U -n -i eth0 \
		    -w "$NETNS_DIR/cap$_i.pcap" \
		    "tcp port $VIP_PORT and tcp[tcpflags] & (tcp-syn|tcp-rst) != 0"
		eval "CAP_PID_$_i=\$BG_PID"
	done
	for _i in $(seq 1 "$N_SRV"); do
		wait_for "$NETNS_DIR/cap$_i.log" "listening on" 10 || return 1
	done
}
cap_stop() {
	for _i in $(seq 1 "$N_SRV"); do
		pid_stop "$(eval "echo \$CAP_PID_$_i")" 5
	done
}

# caps_classify: rstclass.py over the captures, into rstclass.out;
# class_field NAME: a count from its first line.  caps_complete N: the
# captures hold N server resets (tcpdump -U writes each packet at once).
caps_classify() {
	"$PYTHON" "$NETNS_SRC/rstclass.py" "$VIP_PORT" "$NETNS_DIR"/cap*.pcap \
	    > "$NETNS_DIR/rstclass.out" 2>&1
}
class_field() {
	awk -v k="$1" 'NR == 1 { for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' \
	    "$NETNS_DIR/rstclass.out"
}
caps_complete() { caps_classify; [ "$(class_field server_rsts)" = "$1" ]; }

# churn_field NAME: a count from churn.py's summary line.
churn_field() {
	awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' \
	    "$NETNS_DIR/churn.out"
}

require_ilbd
netns_setup
check "topology up" topo_up
check "servers answer" start_servers
check "3 ILBs start (tun, dsr, $ILB_SCHEDULER)" start_ilbs tun dsr
check "each ILB log shows the two others joined" wait_members 60
check "the router's ECMP hashes the tuple (policy 3)" router_tuple_hash
check "the client's local ports: $PORT_LO..$((PORT_LO + CHURN_PORTS - 1))" \
    sysctl_set "$NS_CLIENT" \
    net.ipv4.ip_local_port_range="$PORT_LO $((PORT_LO + CHURN_PORTS - 1))"
for _i in $(seq 1 "$N_ILB"); do
	check "ilb$_i drops $NEW_LOSS % of multicast NEW (nftables)" new_loss_on "$_i"
done
if [ "$fail" -ne 0 ]; then show_logs 20; finish; exit 1; fi

check "tcpdump captures SYN and RST in every server namespace" cap_start
r0=$(srv_rsts)
note "churn: $CHURN_S s, $CHURN_C in flight"
nsx "$NS_CLIENT" "$PYTHON" "$NETNS_SRC/churn.py" -r "$VIP" "$VIP_PORT" \
    "$CHURN_S" "$CHURN_C" > "$NETNS_DIR/churn.out" 2>&1
r1=$(srv_rsts)
wait_until 20 caps_complete $((r1 - r0))
cap_stop
caps_classify
note "rstclass.py: $(head -n 1 "$NETNS_DIR/rstclass.out")"
sed -n '2,$s/^/#   /p' "$NETNS_DIR/rstclass.out"
note "churn.py: $(cat "$NETNS_DIR/churn.out")"
done_n=$(churn_field "done")
failed=$(churn_field failed)
rate=$(churn_field rate)
check "the client made connections ($done_n, $rate/s)" \
    [ "${done_n:-0}" -gt 0 ]
check "each tuple came back at least 5 times (done $done_n, $CHURN_PORTS ports)" \
    [ "${done_n:-0}" -ge $((5 * CHURN_PORTS)) ]
check "no client error (failed ${failed:-missing}: reset $(churn_field reset), timeout $(churn_field timeout), other $(churn_field other))" \
    [ "${failed:-1}" -eq 0 ]
check "the loss rules dropped multicast NEWs ($(new_dropped))" \
    [ "$(new_dropped)" -gt 0 ]
check "the captures saw every server reset ($(class_field server_rsts) captured, TcpOutRsts $r0 -> $r1)" \
    [ "$(class_field server_rsts)" = "$((r1 - r0))" ]
check "no server reset ilbd could have caused ($(class_field unexplained) unexplained, $(class_field excused) after the client's own reset)" \
    [ "$(class_field unexplained)" = 0 ]
stats_snapshot
stats_print
stat_check "no orphan" orphan -eq 0
stat_check "nothing misrouted" misrouted -eq 0
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

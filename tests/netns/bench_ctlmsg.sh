#!/bin/sh
# bench_ctlmsg.sh: the replication traffic a new connection costs (issue 18,
# point 7): 3 ILBs (tun, dsr, rr), new connections as fast as they go for
# CTL_S (20) s, CTL_C (64) in flight (churn.py, each connection one GET,
# read to the end, then closed), then every ILB's replication counters:
# multicast datagrams and reliable-channel messages sent, and their bytes
# (repl_mc_sent, repl_mc_bytes, repl_tcp_sent, repl_tcp_bytes), summed over
# the ILBs and divided by the connections made.  ID messages (periodic,
# not per connection) are not counted.  A measurement, not a test: not in
# SH_TESTS; it fails only if the load or the counters are missing.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

CTL_S=${CTL_S:-20}
CTL_C=${CTL_C:-64}
: "${ILB_SCHEDULER:=rr}"
export ILB_SCHEDULER

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
if [ "$fail" -ne 0 ]; then show_logs 20; finish; exit 1; fi

stats_snapshot
for k in repl_mc_sent repl_mc_bytes repl_tcp_sent repl_tcp_bytes; do
	eval "b_$(echo "$k" | tr . _)=\$(stat_sum $k)"
done
note "churn: $CTL_S s, $CTL_C in flight"
nsx "$NS_CLIENT" "$PYTHON" "$NETNS_SRC/churn.py" "$VIP" "$VIP_PORT" \
    "$CTL_S" "$CTL_C" > "$NETNS_DIR/churn.out" 2>&1
sleep 1		# the last ENDs and the staged copies leave
stats_snapshot
note "churn.py: $(cat "$NETNS_DIR/churn.out")"
n=$(churn_field done)
check "the client made connections (${n:-0})" [ "${n:-0}" -gt 0 ]
ok=1
for k in repl_mc_sent repl_mc_bytes repl_tcp_sent repl_tcp_bytes; do
	v=$(stat_sum $k)
	is_num "$v" || { ok=0; continue; }
	eval "b=\$b_$(echo "$k" | tr . _)"
	eval "d_$(echo "$k" | tr . _)=$((v - ${b:-0}))"
done
check "every ILB reported its replication counters" [ "$ok" = 1 ]
if [ "$ok" = 1 ] && [ "${n:-0}" -gt 0 ]; then
	# shellcheck disable=SC2154 # set by eval above
	note "$(awk -v n="$n" -v ms="$d_repl_mc_sent" -v mb="$d_repl_mc_bytes" \
	    -v ts="$d_repl_tcp_sent" -v tb="$d_repl_tcp_bytes" 'BEGIN {
	    printf "RESULT connections %d multicast %d msgs %d bytes, " \
	    "channel %d msgs %d bytes; per connection: multicast %.3f msgs " \
	    "%.1f bytes, channel %.3f msgs %.1f bytes, total %.3f msgs " \
	    "%.1f bytes", n, ms, mb, ts, tb, ms / n, mb / n, ts / n, tb / n,
	    (ms + ts) / n, (mb + tb) / n }')"
	for _j in $(seq 1 "$N_ILB"); do
		note "ilb$_j: $(grep -E '^repl_(mc_sent|mc_bytes|tcp_sent|tcp_bytes|backup_flushes|new_sent|end_sent|refresh_sent|backup_sent|end_rel_sent|refresh_rel_sent) ' "$NETNS_DIR/stats.$_j" | tr '\n' ' ')"
	done
fi
check_alive
finish

# lib/scenario.sh (sourced by tests/netns/lib.sh): the common bodies of
# whole tests: scenario_ilb (test_ilb_tun/pcap/gre.sh) and tuple_bed_up
# (test_ilbctl.sh, test_port_reuse.sh, test_late_end.sh).

# scenario_ilb MODE FORWARD N: the common body of test_ilb_{tun,pcap,gre}:
# three ILBs in MODE with FORWARD, N requests each on a new connection all
# succeed and reach every server; every ILB sees the two others join and
# receives some packets; some packets are handed off and received by
# handoff; nothing is misrouted or orphaned; every ILB is still running.
# shellcheck disable=SC2154 # fail: lib/assert.sh's counter, sourced first
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

# tuple_bed_up PORT0 TRIES: the topology, the servers, 3 ILBs (tun, dsr,
# $ILB_SCHEDULER), the router hashing the tuple (policy 3), then
# tuple_to_neither PORT0 TRIES; each a check.  On a failure the logs are
# shown and the script ends.
# shellcheck disable=SC2154 # fail: lib/assert.sh's counter, sourced first
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

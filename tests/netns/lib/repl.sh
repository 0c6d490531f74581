# lib/repl.sh (sourced by tests/netns/lib.sh): the common frame of
# test_repl_*.sh: repl_setup, repl_load, repl_snapshot, repl_wait_gone,
# repl_kill, repl_results, repl_done, repl_finish; REPL_AT, REPL_AFTER,
# STATS_KEYS_REPL.  The replication scenarios' other pieces are with their
# concern: a 4th ILB (topo_add_ilb) and the loss of cluster UDP (loss_on)
# in lib/topo.sh, the long-lived keep-alive connections (keepalive_*) in
# lib/load.sh.

# The common frame of test_repl_*.sh: 3 ILBs (input mode $REPL_MODE, tun
# unless set; dsr, scheduler
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
# shellcheck disable=SC2154 # fail: lib/assert.sh's counter, sourced first
repl_setup() {
	require_ilbd
	netns_setup
	: "${ILB_SCHEDULER:=wlc}"
	export ILB_SCHEDULER
	check "topology up" topo_up
	check "servers answer" start_servers
	check "3 ILBs start (${REPL_MODE:-tun}, dsr, $ILB_SCHEDULER, cache_size ${ILB_CACHE_SIZE:-65536}; hello $HELLO_MS ms, dead $DEAD_MS ms)" \
	    start_ilbs "${REPL_MODE:-tun}" dsr
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
# shellcheck disable=SC2154 # fail: lib/assert.sh's counter, sourced first
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
	# the reliable copies (NEW to the backup, END and REFRESH to the
	# holders, reconciliation) leave in tick batches, not one TCP message
	# each (the running ILBs' counters)
	_b=$(stat_sum repl_backup_sent); _t=$(stat_sum repl_tcp_sent)
	_a=${_b:-0}
	for _k in repl_end_rel_sent repl_refresh_rel_sent repl_recon_sent; do
		_v=$(stat_sum "$_k"); _a=$((_a + ${_v:-0}))
	done
	check "reliable copies batched: ${_t:-?} reliable messages for $_a records (${_b:-?} NEW copies)" \
	    test "${_b:-0}" -gt 0 -a "${_t:-0}" -lt "$_a"
}

# repl_kill V: kill -9 ILB V and withdraw its route at once; the others
# must log it gone (60 s catches a hang).
repl_kill() {
	note "kill -9 ilb$1 and withdraw its route"
	kill_ilb "$1"
	check "withdraw ilb$1's route" route_del_nexthop "$1"
	check "the survivors log ilb$1 gone" repl_wait_gone "$1" 60
}

# repl_converge [SECONDS]: tools/converge over every running ILB's
# connections and cache (ilbctl on its socket), again every 0.5 s until it
# reports nothing or SECONDS (default 30) have passed: replication settles
# a moment after a change (copies batched on the tick, the cache adoption
# walk in slices).  Its last output is in $NETNS_DIR/converge.out, the
# problems noted on failure (20 lines at most).
CONVERGE=${CONVERGE:-$top_srcdir/tools/converge}
repl_converge() {
	_end=$(($(now_ms) + ${1:-30} * 1000))
	_tries=0
	while :; do
		set --
		for _j in $(seq 1 "$N_ILB"); do
			ilb_alive "$_j" || continue
			set -- "$@" "$(ilb_id "$_j")=$NETNS_DIR/ilb$_j.sock"
		done
		_tries=$((_tries + 1))
		"$PYTHON" "$CONVERGE" -i "$ILBCTL" "$@" > "$NETNS_DIR/converge.out" 2>&1 &&
		    break
		if [ "$(now_ms)" -ge "$_end" ]; then
			note "converge: still not clean after $_tries tries:"
			head -n 20 "$NETNS_DIR/converge.out" | sed 's/^/#   /'
			note "$(tail -n 1 "$NETNS_DIR/converge.out")"
			return 1
		fi
		sleep 0.5
	done
	note "$(tail -n 1 "$NETNS_DIR/converge.out") (try $_tries)"
}

# repl_rejoined V SECONDS: ILB V, restarted, logs "join complete" in its
# new run, and every other running ILB's last word on V is "joined".
repl_rejoined() {
	_end=$(($(now_ms) + $2 * 1000))
	_re=$(member_re "$(ilb_id "$1")" "\\(joined\\|is gone\\)")
	while :; do
		_missing=
		awk -v m="$(grep -c '^# --- start_ilb' "$(ilb_log "$1")")" \
		    '/^# --- start_ilb/ { c++ } c == m && /join complete/ { f = 1 }
		    END { exit !f }' "$(ilb_log "$1")" || _missing=" ilb$1:active"
		for _j in $(seq 1 "$N_ILB"); do
			if [ "$_j" = "$1" ] || ! ilb_alive "$_j"; then continue; fi
			grep "$_re" "$(ilb_log "$_j")" | tail -n 1 | grep -q joined ||
			    _missing="$_missing ilb$_j"
		done
		[ -n "$_missing" ] || return 0
		if [ "$(now_ms)" -ge "$_end" ]; then
			note "ilb$1 not rejoined in:$_missing"
			return 1
		fi
		sleep 0.1
	done
}

# repl_idle_results: the outcome of an idle load (keepalive_start C 0
# --idle) poked once: repl_results, and every connection answered twice
# (its first request and the poke's).
repl_idle_results() {
	repl_results
	check "keepalive: every connection answered its request after the kill (${KA_ANSWERED:-?} answers, $((2 * KA_C)) wanted)" \
	    [ "${KA_ANSWERED:-0}" -eq $((2 * KA_C)) ]
}

# repl_no_expiry: after repl_snapshot, before the membership change: no
# LTOC entry (owner's or backup's) expired on any ILB, summed over the
# snapshots: with no connection closed yet, each expiry is a copy that
# lapsed under a live connection (issue 18: a backup copy left in state
# syn expires after tables.syn_timeout_s).
repl_no_expiry() {
	_e=$(cat "$NETNS_DIR"/last.* 2>/dev/null |
	    awk '$1 == "ltoc_expired" { s += $2; f = 1 } END { if (f) print s }')
	check "no LTOC entry expired under the live connections before the kill (ltoc_expired=${_e:-missing}, all ILBs)" \
	    [ "${_e:-1}" -eq 0 ]
}

#!/bin/sh
# test_synflood.sh: SYN floods from spoofed sources (issue 7).  3 ILBs
# (tun, dsr, scheduler wlc), a small LTOC (LTOC_SIZE, 4096, per ILB) and
# syn_timeout_s SYN_TIMEOUT (5); KA_C (1,000) keep-alive connections,
# a GET every KA_I (1) s on each, until both floods are over: each ILB owns or
# backs up about 2/3 of them (~670 entries), well below 15/16 of the
# LTOC (3,840), where new SYNs stop getting entries.  Then:
#
#  1. tests/netns/synflood in the client sends SYNs to the VIP from random
#     sources in $SPOOF at FLOOD_RATE (20,000) pps through the router's
#     ECMP to all ILBs for at least FLOOD_S (10) s, enough to fill every
#     LTOC within a second; after FLOOD_WARM (2) s, N (200) requests, each
#     on a new connection, must all succeed while it still runs: with the
#     LTOC nearly full, new connections fall back to the stateless hash
#     (syn_hash_fallback > 0) instead of being refused (ltoc_full).
#  2. from the rogue namespace, straight at ilb1 (its route to the VIP is
#     via 192.0.2.11), a flood for RATE_S (8) s at each rate of RATE_STEPS
#     (pps; default 20000, what one ILB takes whole on the 2-vCPU build
#     VM; 0: as fast as synflood sends): the SYN rate ilb1 takes ("#
#     synrate:", its syn counter delta over the flood's seconds) while the
#     connections keep working.  Offered more than it can read, an ILB
#     drops input in its TUN queue, the connections' packets among the
#     SYNs, and TCP retransmits: a connection then can go 5 s without an
#     answer, which this test counts as a failure; bench/synrate.sh sweeps
#     rates up to full speed (reported, not asserted).
#
# Passing needs: every request answered; no keep-alive connection failed
# or moved, no request unanswered (established entries are never
# evicted); syn_hash_fallback > 0 summed; no orphan; no member declared
# gone; every ILB running; the VmRSS of each ilbd after both floods at
# most RSS_SLACK_KB (8192) above its value before them (the tables are
# allocated at start-up; their pages count once first touched, so with a
# large LTOC_SIZE raise RSS_SLACK_KB too: 1048576 entries took ~11 MiB).
#
# Spoofed sources: $SPOOF is 203.0.113.128/25, in the client's link
# prefix but owned by nobody.  The servers' SYN-ACKs (DSR: straight to
# the router) would make the router ARP for up to 128 absent hosts; the
# router routes $SPOOF to the client instead, which does not forward and
# drops them silently (no RST, no ICMP).
# eval of single-quoted checks is deliberate
# shellcheck disable=SC2016
KA_C=${KA_C:-1000}
RATE_S=${RATE_S:-8}
RATE_STEPS=${RATE_STEPS:-20000}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

SYNFLOOD=${SYNFLOOD:-$top_builddir/tests/netns/synflood}
LTOC_SIZE=${LTOC_SIZE:-4096}
SYN_TIMEOUT=${SYN_TIMEOUT:-5}
KA_I=${KA_I:-1}
N=${N:-200}
FLOOD_RATE=${FLOOD_RATE:-20000}
FLOOD_S=${FLOOD_S:-10}
FLOOD_MAX=${FLOOD_MAX:-600}
FLOOD_WARM=${FLOOD_WARM:-2}
RSS_SLACK_KB=${RSS_SLACK_KB:-8192}
SPOOF=203.0.113.128/25

# rss_kb I: VmRSS of ILB I's ilbd in KiB ("" if gone).
rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$(ilb_pid "$1")/status" \
	    2>/dev/null
}

# rss_all: "ilb1=KB ilb2=KB ..." now.
rss_all() {
	for _j in $(seq 1 "$N_ILB"); do printf 'ilb%s=%s ' "$_j" "$(rss_kb "$_j")"; done
}

# keep_stats NAME: copy the last snapshot stats.I to NAME.I (not stats.*,
# which stat_sum reads).
keep_stats() {
	for _j in $(seq 1 "$N_ILB"); do
		cp "$NETNS_DIR/stats.$_j" "$NETNS_DIR/$1.$_j"
	done
}

# delta KEY I NAME: stat_of I KEY minus its value in NAME.I.
delta() {
	_a=$(stat_of "$2" "$1")
	_b=$(awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$NETNS_DIR/$3.$2")
	if is_num "$_a" && is_num "$_b"; then echo $((_a - _b)); fi
}

# sum_delta KEY NAME: delta KEY summed over the ILBs ("" if missing).
sum_delta() {
	_s=
	for _j in $(seq 1 "$N_ILB"); do
		_d=$(delta "$1" "$_j" "$2")
		[ -n "$_d" ] || { echo; return; }
		_s=$((${_s:-0} + _d))
	done
	echo "$_s"
}

# flood_notes NAME: per ILB, the deltas since NAME of the counters that
# tell what the flood did.
FLOOD_KEYS="rx syn new_conn syn_hash_fallback hash_fallback forward_hash ltoc_full handoff_out orphan drop"
flood_notes() {
	for _j in $(seq 1 "$N_ILB"); do
		_l=
		for _k in $FLOOD_KEYS; do
			_l="$_l $_k=$(delta "$_k" "$_j" "$1")"
		done
		note "ilb$_j (since $1):$_l"
	done
}

# flood_wait PID SECONDS: wait for synflood PID to exit on its own.
flood_wait() {
	_i=0
	while kill -0 "$1" 2>/dev/null && [ "$_i" -lt $(($2 * 10)) ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	pid_stop "$1"
}

# sent_of LOG: "N T" from synflood's "sent N in T s (R pps)".
sent_of() { sed -n 's/^sent \([0-9]*\) in \([0-9.]*\) s .*/\1 \2/p' "$1"; }

# synrate_step RATE: flood ilb1 alone from the rogue for RATE_S s at RATE
# pps (0: as fast as synflood sends); print the "# synrate:" line: the
# SYNs ilb1 took (its syn counter delta) per second of the flood.
synrate_step() {
	stats_snapshot
	keep_stats step
	if [ "$1" -eq 0 ]; then _what="as fast as possible"; else _what="$1 pps"; fi
	note "flood 2: $_what from $SPOOF, rogue -> ilb1 only, ${RATE_S}s"
	bg "$NS_ROGUE" "$NETNS_DIR/flood2.log" "$SYNFLOOD" -t "$RATE_S" \
	    -r "$1" -s "$SPOOF" "$VIP" "$VIP_PORT"
	flood_wait "$BG_PID" $((RATE_S + 5))
	sleep 0.5	# let ilb1 drain its queue
	stats_snapshot
	note "flood 2: $(cat "$NETNS_DIR/flood2.log")"
	flood_notes step
	# shellcheck disable=SC2046 # "N T", split on purpose
	set -- $(sent_of "$NETNS_DIR/flood2.log")
	_syn=$(delta syn 1 step)
	if [ -n "$_syn" ] && [ -n "$2" ]; then
		note "$(awk -v n="$_syn" -v t="$2" -v s="$1" -v c="$KA_C" 'BEGIN {
		    printf "synrate: ilb1 took %d SYNs in %.2f s = %.0f SYN/s " \
		        "(sent %d = %.0f pps), %d keep-alive connections open", \
		        n, t, n / t, s, s / t, c }'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
	else
		note "synrate: no figure (syn=${_syn:-missing}, flood log: $(cat "$NETNS_DIR/flood2.log"))"
	fi
	check "keepalive.py still runs after the flood at $_what" kill -0 "$KA_PID"
}

require_ilbd
[ -x "$SYNFLOOD" ] || need "no $SYNFLOOD (build it first: make check or make tests/netns/synflood)"
netns_setup
ILB_SCHEDULER=wlc
export ILB_SCHEDULER

check "topology up" topo_up
check "rogue namespace up, its route to the VIP via ilb1" \
    eval 'rogue_up && ip -n "$NS_ROGUE" route add "$VIP/32" via "$(ilb_addr 1)"'
check "router routes the spoofed $SPOOF to the client (SYN-ACKs die there)" \
    ip -n "$NS_ROUTER" route add "$SPOOF" via "$CLIENT_ADDR"
check "servers answer" start_servers
for _j in $(seq 1 "$N_ILB"); do
	ilb_conf "$_j" tun dsr
	sed "s/^  ltoc_size = 65536;\$/  ltoc_size = $LTOC_SIZE; syn_timeout_s = $SYN_TIMEOUT;/" \
	    "$NETNS_DIR/ilb$_j.conf" > "$NETNS_DIR/ilb$_j.conf.tmp" &&
	    mv "$NETNS_DIR/ilb$_j.conf.tmp" "$NETNS_DIR/ilb$_j.conf"
	check "ilb$_j: ltoc_size = $LTOC_SIZE, syn_timeout_s = $SYN_TIMEOUT" \
	    grep -q "ltoc_size = $LTOC_SIZE; syn_timeout_s = $SYN_TIMEOUT;" \
	    "$NETNS_DIR/ilb$_j.conf"
	check "ilb$_j starts (tun, dsr, wlc)" start_ilb "$_j"
done
check "each ILB log shows the two others joined" wait_members 60
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi

keepalive_start "$KA_C" 0 -i "$KA_I"     # until keepalive_stop
check "keepalive: $KA_C connections up" keepalive_wait 60
if [ "$fail" -ne 0 ]; then repl_done; exit 1; fi
stats_snapshot
keep_stats pre
RSS_PRE=$(rss_all)
note "VmRSS before the floods (KiB): $RSS_PRE"

# 1. through the router to all ILBs, requests during the flood; it runs
# until the requests are done and FLOOD_S s have passed (its own bound of
# FLOOD_MAX s only catches a hang)
note "flood 1: $FLOOD_RATE pps from $SPOOF via the router, at least ${FLOOD_S}s"
T_FLOOD=$(now_ms)
bg "$NS_CLIENT" "$NETNS_DIR/flood1.log" "$SYNFLOOD" -t "$FLOOD_MAX" \
    -r "$FLOOD_RATE" -s "$SPOOF" "$VIP" "$VIP_PORT"
FLOOD_PID=$BG_PID
sleep "$FLOOD_WARM"
run_requests "$N" f
check "the flood still runs when the requests are done" kill -0 "$FLOOD_PID"
check "$N requests during the flood all succeed ($REQ_FAIL failed)" \
    [ "$REQ_OK" -eq "$N" ]
_t=$((T_FLOOD + FLOOD_S * 1000 - $(now_ms)))
[ "$_t" -le 0 ] || sleep "$((_t / 1000)).$(printf %03d $((_t % 1000)))"
pid_stop "$FLOOD_PID"
note "flood 1: $(cat "$NETNS_DIR/flood1.log")"
check "flood 1 sent SYNs" [ -n "$(sent_of "$NETNS_DIR/flood1.log")" ]
stats_snapshot
flood_notes pre
_d=$(sum_delta syn_hash_fallback pre)
check "new connections fell back to the hash (syn_hash_fallback=${_d:-missing}, all ILBs)" \
    [ "${_d:-0}" -gt 0 ]
keep_stats mid
note "VmRSS after flood 1 (KiB): $(rss_all)"

# 2. straight at ilb1 from the rogue, at each rate of RATE_STEPS
for _r in $RATE_STEPS; do
	synrate_step "$_r"
done

RSS_POST=$(rss_all)
note "VmRSS after both floods (KiB): $RSS_POST"
for _j in $(seq 1 "$N_ILB"); do
	_a=$(echo "$RSS_PRE" | tr ' ' '\n' | sed -n "s/^ilb$_j=//p")
	_b=$(rss_kb "$_j")
	_c=1
	is_num "$_a" && is_num "$_b" && [ "$_b" -le $((_a + RSS_SLACK_KB)) ] && _c=0
	check "ilb$_j: VmRSS ${_a:-?} -> ${_b:-?} KiB, within $RSS_SLACK_KB KiB" [ "$_c" -eq 0 ]
done

keepalive_stop
stats_snapshot
flood_notes pre
stat_check "no orphan over both floods" orphan -eq 0
_g=0
for _j in $(seq 1 "$N_ILB"); do
	_g=$((_g + $(count_lines "$(ilb_log "$_j")" "is gone")))
done
check "no member declared gone during the floods ($_g)" [ "$_g" -eq 0 ]
check_alive
repl_done

#!/bin/sh
# test_workers.sh: input.workers = 2 (issue 21). 3 ILBs (input mode
# $REPL_MODE: tun, or pcap from test_workers_pcap.sh; dsr, wlc), each read
# by two worker threads (ilbd-in0, ilbd-in1): with tun, one per queue of a
# multi-queue TUN device; with pcap, one per capture socket of a
# PACKET_FANOUT_HASH group.  The workers hand packets to the daemon's loop
# over rings and send the frames to the servers that it queues for them.
# KA_C (300) keep-alive connections, after 2,000 requests that open a
# connection each: both workers of every ILB carry packets, none is
# dropped on a ring, and the workers hand on every packet their input
# gave them and send every frame the loop queued.  A reload that changes
# input.workers is refused and changes nothing; one that does not is
# taken under the load (with pcap it stops the workers while it sets the
# sockets' filters) and both threads run on.  Then kill -9 ilb2: its
# connections go on through their backups, as with one worker
# (test_repl_kill.sh): no connection breaks, no orphan.
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
REPL_MODE=${REPL_MODE:-tun}
ILB_WORKERS=2
export ILB_WORKERS REPL_MODE
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

# threads I: the names of ILB I's threads, sorted, on one line
threads() {
	cat /proc/"$(ilb_pid "$1")"/task/*/comm 2>/dev/null | sort | tr '\n' ' '
}

# wstats I: the counters the checks compare, one line
wstats() {
	ctl "$1" show stats | awk '$1 ~ /^(input_packets|input_worker_|dsr_sent)/ { printf "%s=%s ", $1, $2 }'
}

# settled I: two reads of ILB I's counters 0.2 s apart agree (nothing
# on a ring or in flight any more); the last read in $NETNS_DIR/wstats.I
settled() {
	_a=$(wstats "$1") || return 1
	sleep 0.2
	_b=$(wstats "$1") || return 1
	[ -n "$_a" ] && [ "$_a" = "$_b" ] && ctl "$1" show stats > "$NETNS_DIR/wstats.$1"
}

case $REPL_MODE in
tun)	started="input: $ILB_WORKERS workers, one per queue of ilb0" ;;
pcap)	started="input: $ILB_WORKERS workers, one capture socket each on eth0 (fanout group" ;;
xdp)	started="input: $ILB_WORKERS workers, the AF_XDP sockets of $ILB_QUEUES queues of eth0" ;;
*)	echo "REPL_MODE: tun, pcap or xdp" >&2; exit 2 ;;
esac
repl_setup
# The router places packets by its own hash of the tuple.  With the hash
# a packet carries (policy 1), the choice of ILB and the choice of the
# ILB's RX queue (xdp: ILB_QUEUES) come from the same bits: each ILB but
# one would see its packets on one queue only.
check "the router hashes the tuple itself" router_tuple_hash
for _j in $(seq 1 "$N_ILB"); do
	check "ilb$_j logs its $ILB_WORKERS input workers ($REPL_MODE)" \
	    grep -q "$started" "$(ilb_log "$_j")"
	_t=$(threads "$_j")
	check "ilb$_j runs threads ilbd-in0 and ilbd-in1 ($_t)" \
	    sh -c "echo '$_t' | grep -q 'ilbd-in0 ' && echo '$_t' | grep -q 'ilbd-in1 '"
done
# client_segs: TCP segments the client has sent (retransmissions too)
client_segs() {
	ip netns exec "$NS_CLIENT" nstat -asz TcpOutSegs TcpRetransSegs |
	    awk '/^Tcp/ { n += $2 } END { print n + 0 }'
}

# dsr_sum: frames sent to servers, summed over the ILBs
dsr_sum() {
	for _j in $(seq 1 "$N_ILB"); do ctl "$_j" show stats; done |
	    awk '$1 == "dsr_sent" { n += $2 } END { print n + 0 }'
}

# new connections first, alone: with no other load the counters settle,
# and what the workers took and sent can be compared exactly
_c0=$(client_segs); _d0=$(dsr_sum)
check_requests 2000
for _j in $(seq 1 "$N_ILB"); do
	check "ilb$_j: the counters settle after the requests" wait_until 10 settled "$_j"
	_w0=$(awk '$1 == "input_worker_queue_packets{worker=\"0\"}" { print $2 }' "$NETNS_DIR/wstats.$_j")
	_w1=$(awk '$1 == "input_worker_queue_packets{worker=\"1\"}" { print $2 }' "$NETNS_DIR/wstats.$_j")
	_in=$(awk '$1 == "input_packets" { print $2 }' "$NETNS_DIR/wstats.$_j")
	_wp=$(awk '$1 == "input_worker_packets" { print $2 }' "$NETNS_DIR/wstats.$_j")
	_dr=$(awk '$1 == "input_worker_dropped" { print $2 }' "$NETNS_DIR/wstats.$_j")
	check "ilb$_j: both workers carried packets (worker 0: ${_w0:-none}, worker 1: ${_w1:-none})" \
	    [ "${_w0:-0}" -gt 0 -a "${_w1:-0}" -gt 0 ]
	check "ilb$_j: the workers handed on what the input gave (input_packets ${_in:-?}, worker_packets ${_wp:-?})" \
	    [ -n "$_in" -a "$_in" = "${_wp:-}" ]
	check "ilb$_j: no packet dropped on a ring (worker_dropped ${_dr:-?})" \
	    [ "${_dr:-1}" -eq 0 ]
	# dsr output: the loop queues frames, the workers send them
	_ds=$(awk '$1 == "dsr_sent" { print $2 }' "$NETNS_DIR/wstats.$_j")
	_ws=$(awk '$1 == "input_worker_sent" { print $2 }' "$NETNS_DIR/wstats.$_j")
	_we=$(awk '$1 == "input_worker_send_errors" { print $2 }' "$NETNS_DIR/wstats.$_j")
	_wd=$(awk '$1 == "input_worker_send_dropped" { print $2 }' "$NETNS_DIR/wstats.$_j")
	check "ilb$_j: the workers sent every frame to the servers (dsr_sent ${_ds:-?}, worker_sent ${_ws:-?}, errors ${_we:-?}, dropped ${_wd:-?})" \
	    [ "${_ws:-0}" -gt 0 -a "${_ws:-0}" = "${_ds:-}" -a "${_we:-1}" -eq 0 -a "${_wd:-1}" -eq 0 ]
done
# each segment reaches a server once: an input that gave the decision a
# packet twice (two workers' sockets both taking it) would forward more
_c1=$(client_segs); _d1=$(dsr_sum)
check "each client segment sent to a server once, no more (client sent $((_c1 - _c0)), the ILBs forwarded $((_d1 - _d0)))" \
    [ $((_d1 - _d0)) -le $((_c1 - _c0)) -a $((_d1 - _d0)) -ge $((_c1 - _c0 - (_c1 - _c0) / 100)) ]
repl_load
# a reload may not change the number of workers
sed -i 's/^  workers = [0-9]*;/  workers = 3;/' "$NETNS_DIR/ilb1.conf"
_n=$(grep -c "input.workers cannot change" "$(ilb_log 1)")
kill -HUP "$(ilb_pid 1)"
_i=0
while [ "$_i" -lt 50 ] && [ "$(grep -c "input.workers cannot change" "$(ilb_log 1)")" -eq "$_n" ]; do
	sleep 0.1; _i=$((_i + 1))
done
check "ilb1 refuses a reload that changes input.workers" \
    [ "$(grep -c "input.workers cannot change" "$(ilb_log 1)")" -gt "$_n" ]
check "ilb1 still has its two workers ($(threads 1))" \
    sh -c "echo '$(threads 1)' | grep -q 'ilbd-in1 '"
sed -i 's/^  workers = [0-9]*;/  workers = 2;/' "$NETNS_DIR/ilb1.conf"
# one that keeps them is taken, under the load
ctl 1 reload > "$NETNS_DIR/reload.out" 2>&1 || true
check "ilb1 reloads under the load ($REPL_MODE: $(head -c 160 "$NETNS_DIR/reload.out"))" \
    grep -q "configuration reloaded" "$NETNS_DIR/reload.out"
check "ilb1 runs both workers after it ($(threads 1))" \
    sh -c "echo '$(threads 1)' | grep -q 'ilbd-in0 ' && echo '$(threads 1)' | grep -q 'ilbd-in1 '"
repl_kill 2
repl_finish

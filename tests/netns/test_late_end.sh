#!/bin/sh
# test_late_end.sh: the client aborts a connection (RST) and at once opens
# a new one on the same tuple, and both packets reach a cache holder in
# one read batch.
#
# The tuple's packets reach ilbX, which neither owns nor backs it up.
# ilbX is stopped (SIGSTOP) while the client sends the RST and the new
# SYN, so that it reads both in one batch when it runs again: the RST
# queues the old connection's END, and the SYN is handed off to the owner
# by GRE.  Were the handoff sent first and the END at the end of the
# batch, the owner would decide the SYN on the old connection's live
# entry: a retransmission, the old server kept, no NEW, and the late END
# would then mark the new connection closing on every ILB (its entries
# expire after fin_timeout_s of idleness, and ilbX hands all its packets
# to the owner).  ilbX sends the END and the RST to the old server first
# (syn_records_first; a server that got the new SYN before the RST would
# answer it with a reset), and the owner reads what the cluster sent
# before it decides a SYN on a live entry (syn_sync, unit-tested in
# test_lb.c): the END closes the old entry, the SYN opens a new
# connection (port_reuse), its NEW reaches ilbX.  (Until it does, ilbX
# hands the new connection's packets to the owner, closing_to_owner: how
# many depends on the machine's load, so it is not checked.)
#
# While ilbX is stopped the old server may retransmit its FIN (the client
# aborted before its delayed ACK of that FIN left).  The connecting client
# answers it with a reset, which closes the new connection's entries once
# ilbX runs, and sends its SYN again at once.  The owner takes that SYN,
# the same sequence number, for the connection it opened (syn_reopen):
# the same server, and a fresh NEW that makes ilbX's closing copy live
# again.  Decided anew, the SYN would get a second server's SYN-ACK and
# the client a reset (the cause of this test's failures before
# syn_reopen).  Either way the new connection must open.
# shellcheck disable=SC2046 # "set -- $(tuple_get ...)" splits the answer on purpose
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

PORT0=${PORT0:-42000}
TRIES=${TRIES:-30}
STOP_MS=${STOP_MS:-200}		# ilbX stays stopped this long after the SYN
: "${ILB_SCHEDULER:=rr}"
export ILB_SCHEDULER
# ID messages every second: ilbX's, when it runs again, would otherwise
# often reach the owner before the handoff and have it read the END first
# whatever ilbX's order (stopped for STOP_MS: well within dead_ms)
HELLO_MS=1000 DEAD_MS=5000

# state I WHICH: the state of ILB I's ltoc or cache entry for the tuple
# ("-" if none).
state() {
	ctl "$1" show owner "$CLIENT_ADDR:$PORT" "$VIP:$VIP_PORT" |
	    awk -v w="$2" '$1 == w { print ($2 == "-" ? "-" : $3) }'
}

# client DIR: in the background, one GET from PORT, read to the end
# (tuple_http.py; DIR/first: server and status); then, once DIR/go
# exists, abort that connection (RST: the port is free at once) and
# connect again from PORT (DIR/reconnecting just before; DIR/second:
# "connected in S s" or the error), and hold the new connection until
# DIR/done exists.  Every wait is bounded.
client() {
	cat > "$NETNS_DIR/client.py" <<'EOF'
import os, socket, struct, sys, time
src, sport, dst, dport, d, lib = sys.argv[1:7]
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, lib)
from tuple_http import get
def wait(name, secs):
    end = time.time() + secs
    while not os.path.exists(os.path.join(d, name)):
        if time.time() > end:
            sys.exit("no " + name)
        time.sleep(0.005)
def put(name, text):
    with open(os.path.join(d, name + ".tmp"), "w") as f:
        f.write(text + "\n")
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))
s, answer = get(src, int(sport), dst, int(dport), 3, "/late")
put("first", answer)
wait("go", 60)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()                       # RST
s = socket.socket()
s.settimeout(5)
s.bind((src, int(sport)))
put("reconnecting", "")         # the SYN leaves right after
t0 = time.time()
try:
    s.connect((dst, int(dport)))
    put("second", "connected in %.3f s" % (time.time() - t0))
except OSError as e:
    put("second", "error " + str(e))
    sys.exit(1)
wait("done", 120)
s.close()
EOF
	bg "$NS_CLIENT" "$NETNS_DIR/client.log" "$PYTHON" "$NETNS_DIR/client.py" \
	    "$CLIENT_ADDR" "$PORT" "$VIP" "$VIP_PORT" "$1" "$NETNS_SRC"
	CLIENT_PID=$BG_PID
}

# wait_file F SECS: F exists within SECS seconds.
wait_file() {
	_n=0
	while [ ! -e "$1" ]; do
		_n=$((_n + 1))
		[ "$_n" -le $(($2 * 20)) ] || return 1
		sleep 0.05
	done
}

require_ilbd
[ -x "$ILBCTL" ] || need "no $ILBCTL (build it first)"
netns_setup
tuple_bed_up "$PORT0" "$TRIES"
O=
for j in $(seq 1 "$N_ILB"); do
	[ "$(tuple_role "$j" "$PORT")" = owner ] && O=$j
done
check "the tuple's owner is known (ilb${O:-?})" [ -n "$O" ]

D=$NETNS_DIR/late
mkdir -p "$D" && chmod 777 "$D"
client "$D"
check "the first connection on the tuple gets its answer" wait_file "$D/first" 30
note "first connection: $(cat "$D/first" 2>/dev/null)"
st=$(state "$O" ltoc)
check "ilb$O's entry for it is live ($st)" \
    test "$st" = syn -o "$st" = established
reuse0=$(ctl_stat "$O" port_reuse) retr0=$(ctl_stat "$O" retransmitted_syn)
first0=$(ctl_stat "$X" syn_records_first)

XPID=$(ilb_pid "$X")
kill -STOP "$XPID"
touch "$D/go"			# RST, then the new SYN: queued for ilbX
check "the client sent the RST and the new SYN" wait_file "$D/reconnecting" 30
sleep "$(awk -v ms="$STOP_MS" 'BEGIN { print ms / 1000 }')"
kill -CONT "$XPID"
wait_file "$D/second" 30
second=$(cat "$D/second" 2>/dev/null)
check "the new connection on the tuple opens (${second:-no answer})" \
    [ "${second%% *}" = connected ]
# ilbX learns the new connection from the owner's NEW (and REFRESH)
live_at() { _s=$(state "$1" "$2"); [ "$_s" = syn ] || [ "$_s" = established ]; }
wait_until 30 live_at "$X" cache

for j in "$O" "$X"; do
	note "ilb$j: $(ctl "$j" show stats | awk '$1 ~ /^(rx|syn|handoff_in|handoff_out|port_reuse|syn_reopen|retransmitted_syn|syn_sync|syn_records_first|new_conn|closing|learn_end|learn_cache|learn_update|closing_to_owner)$/ { printf "%s=%s ", $1, $2 }')"
done
reuse1=$(ctl_stat "$O" port_reuse) retr1=$(ctl_stat "$O" retransmitted_syn)
first1=$(ctl_stat "$X" syn_records_first)
check "ilb$X sent the END before handing off the SYN (syn_records_first $first0 -> $first1)" \
    test "$first1" -eq $((first0 + 1))
check "ilb$O took the SYN for a new connection (port_reuse $reuse0 -> $reuse1)" \
    test "$reuse1" -gt "$reuse0"
check "not for a retransmission (retransmitted_syn $retr0 -> $retr1)" \
    test "$retr1" -eq "$retr0"
st=$(state "$O" ltoc)
check "ilb$O's entry for the new connection is live ($st)" \
    test "$st" = syn -o "$st" = established
st=$(state "$X" cache)
check "ilb$X's entry for it is live ($st)" \
    test "$st" = syn -o "$st" = established
touch "$D/done"
pid_stop "$CLIENT_PID" 5
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

#!/bin/sh
# test_replay.sh: a member's ID message replayed long after it left is
# refused (issue 18, DESIGN section 5: no replayed message is ever
# accepted).  A rogue on the LAN (192.0.2.66) captures an ID message that
# ilb2 multicasts; ilb2 leaves gracefully (TERM) and both others log it
# gone; REPLAY_AFTER_S (60) s later the rogue multicasts the captured
# datagram, unchanged (its MAC is valid), to the group, three times.  Each
# survivor counts it as a replay (cluster_replays, ilbctl show stats), does
# not log ilb2 joined again, and ilbctl show members still lists ilb2 as
# gone.  Before, a departed member's epoch was forgotten 10 dead_ms after
# it fell silent and this replay re-admitted it.  Also: each ILB keeps its
# boot epoch in its node.state_dir (the file "epoch" holds the epoch that
# ilbctl show members gives for itself), and ilb2, restarted with a
# recorded epoch a day ahead of the clock, takes that epoch + 1 and is
# admitted again.
# eval of single-quoted checks and eval-assigned variables are deliberate
# shellcheck disable=SC2016,SC2154
HELLO_MS=${HELLO_MS:-100}
DEAD_MS=${DEAD_MS:-500}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

REPLAY_AFTER_S=${REPLAY_AFTER_S:-60}
V=2                             # the member that leaves
others="1 3"

# capture: in the rogue namespace, join the group and keep the first ID
# message from ilb V (magic "ILBD", type 1 at offset 5) as hex in
# $NETNS_DIR/captured; prints its epoch and sequence.  20 s: a hang.
capture() {
	nsx "$NS_ROGUE" timeout 30 "$PYTHON" - "$(cluster_group)" "$GROUP_PORT" \
	    "$ROGUE_ADDR" "$(ilb_addr $V)" "$NETNS_DIR/captured" <<'PY'
import socket, struct, sys, time
group, port, me, victim, out = sys.argv[1:6]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
u.bind((group, int(port)))
u.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton(group) + socket.inet_aton(me))
u.settimeout(1)
end = time.time() + 20
while time.time() < end:
    try:
        msg, src = u.recvfrom(65535)
    except socket.timeout:
        continue
    if src[0] == victim and msg[:4] == b"ILBD" and len(msg) > 24 and msg[5] == 1:
        epoch, seq = struct.unpack("!QQ", msg[8:24])
        open(out, "w").write(msg.hex() + "\n")
        print("epoch=%d seq=%d len=%d" % (epoch, seq, len(msg)))
        sys.exit(0)
sys.exit(1)
PY
}

# replay: the captured datagram, unchanged, to the group from the rogue.
replay() {
	nsx "$NS_ROGUE" timeout 30 "$PYTHON" - "$(cluster_group)" "$GROUP_PORT" \
	    "$ROGUE_ADDR" "$NETNS_DIR/captured" <<'PY'
import socket, sys, time
group, port, me, path = sys.argv[1:5]
msg = bytes.fromhex(open(path).read().strip())
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(me))
u.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for i in range(3):
    u.sendto(msg, (group, int(port)))
    time.sleep(0.05)
PY
}

# member_state I ID: ID's STATE in ILB I's ilbctl show members ("" if absent).
member_state() { ctl "$1" show members | awk -v id="$2" '$1 == id { print $3 }'; }

# self_epoch I: ILB I's own EPOCH in its ilbctl show members.
self_epoch() { ctl "$1" show members | awk -v id="$(ilb_id "$1")" '$1 == id { print $4 }'; }

# gone_logged I N: ILB I's log has more than N "member V is gone" lines.
gone_logged() { [ "$(count_lines "$(ilb_log "$1")" "$gone_re")" -gt "$2" ]; }
# joined_logged I N: the same for "member V joined".
joined_logged() { [ "$(count_lines "$(ilb_log "$1")" "$joined_re")" -gt "$2" ]; }

require_ilbd
netns_setup
check "topology up" topo_up
check "rogue namespace on the LAN" rogue_up
check "3 ILBs start (tun, dsr, authenticated; hello $HELLO_MS ms, dead $DEAD_MS ms)" \
    start_ilbs tun dsr true
check "each ILB log shows the two others joined" wait_members 60
for j in 1 2 3; do
	e=$(self_epoch "$j")
	f=$(cat "$NETNS_DIR/state$j/epoch" 2>/dev/null)
	check "ilb$j's state_dir holds its boot epoch (${f:-none}, ilbctl: ${e:-?})" \
	    eval 'is_num "$e" && [ "$f" = "$e" ]'
done

out=$(capture)
note "captured from ilb$V: ${out:-nothing}"
check "the rogue captured an ID message of ilb$V" [ -s "$NETNS_DIR/captured" ]

gone_re=$(member_re "$(ilb_id $V)" "is gone")
joined_re=$(member_re "$(ilb_id $V)" joined)
for j in $others; do
	eval "gone0_$j=\$(count_lines \"\$(ilb_log $j)\" \"\$gone_re\")"
	eval "joined0_$j=\$(count_lines \"\$(ilb_log $j)\" \"\$joined_re\")"
	eval "replays0_$j=\$(ctl_stat $j cluster_replays)"
done

check "ilb$V leaves gracefully (TERM)" stop_ilb $V
for j in $others; do
	eval "g0=\$gone0_$j"
	check "ilb$j logs ilb$V gone" wait_until 60 gone_logged "$j" "$g0"
	check "ilb$j lists ilb$V as gone" \
	    eval '[ "$(member_state $j "$(ilb_id $V)")" = gone ]'
done

# the scenario's delay, not work that must fit in it
note "waiting $REPLAY_AFTER_S s before the replay"
sleep "$REPLAY_AFTER_S"
check "the rogue replays the captured message" replay

# the replay is handled when it is counted as one, or re-admits ilb2
handled() {
	for _j in $others; do
		eval "_r0=\$replays0_$_j _j0=\$joined0_$_j"
		_r=$(ctl_stat "$_j" cluster_replays)
		if is_num "$_r" && is_num "$_r0" && [ "$_r" -gt "$_r0" ]; then continue; fi
		[ "$(count_lines "$(ilb_log "$_j")" "$joined_re")" -gt "$_j0" ] || return 1
	done
}
wait_until 30 handled || note "the replay was neither counted nor admitted within 30 s"
for j in $others; do
	eval "r0=\$replays0_$j j0=\$joined0_$j"
	r=$(ctl_stat "$j" cluster_replays)
	check "ilb$j counts the replay (cluster_replays ${r0:-missing} -> ${r:-missing})" \
	    eval 'is_num "$r" && is_num "$r0" && [ "$r" -gt "$r0" ]'
	jn=$(count_lines "$(ilb_log "$j")" "$joined_re")
	check "ilb$j does not log ilb$V joined again ($j0 -> $jn)" [ "$jn" -eq "$j0" ]
	st=$(member_state "$j" "$(ilb_id $V)")
	check "ilb$j still lists ilb$V as gone (${st:-absent})" [ "$st" = gone ]
done

# A real restart is still admitted, with an epoch above the recorded one
# even when that is ahead of the clock (as after the clock went back).
ahead=$(($(date +%s) + 86400))000000000
echo "$ahead" > "$NETNS_DIR/state$V/epoch"
check "ilb$V restarts" start_ilb $V
for j in $others; do
	eval "j0=\$joined0_$j"
	check "ilb$j logs ilb$V joined again after its restart" \
	    wait_until 60 joined_logged "$j" "$j0"
done
e=$(self_epoch $V)
f=$(cat "$NETNS_DIR/state$V/epoch" 2>/dev/null)
check "ilb$V's new epoch is the recorded one + 1 ($ahead -> ${e:-?}, file ${f:-none})" \
    eval 'is_num "$e" && [ "$e" = "$((ahead + 1))" ] && [ "$f" = "$e" ]'
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

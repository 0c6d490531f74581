#!/bin/sh
# test_hostile.sh: a rogue namespace on the LAN (192.0.2.66) sends ILB1 GRE
# handoffs without a key and with a wrong key (inner TCP SYN to the VIP),
# and sends the cluster group random datagrams, a captured ID message with
# one byte flipped (valid header, wrong MAC) and the same message replayed
# unchanged.  ilbd keeps running, gre_rx_reject and cluster_rx_reject rise,
# the membership does not change, requests through the VIP all succeed.
# eval of single-quoted checks and eval-assigned variables are deliberate
# shellcheck disable=SC2016,SC2154
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

N=${N:-300}
COUNT=${COUNT:-20}

# rogue: the attacker, run in the rogue namespace; prints what it sent.
rogue() {
	nsx "$NS_ROGUE" timeout 120 "$PYTHON" - "$(ilb_addr 1)" "$VIP" "$GROUP" \
	    "$GROUP_PORT" "$ROGUE_ADDR" "$COUNT" <<'PY'
import os, socket, struct, sys
ilb, vip, group, port, me = sys.argv[1:6]
port, count = int(port), int(sys.argv[6])

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def syn(src, sport):
    s, d = socket.inet_aton(src), socket.inet_aton(vip)
    tcp = struct.pack("!HHIIBBHHH", sport, 80, 12345, 0, 5 << 4, 0x02, 64240, 0, 0)
    c = csum(s + d + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, s, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp

sent = {}
g = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
for i in range(count):
    inner = syn("203.0.113.2", 40000 + i)
    g.sendto(struct.pack("!HH", 0, 0x0800) + inner, (ilb, 0))           # no key
    g.sendto(struct.pack("!HHI", 0x2000, 0x0800, 0xdeadbeef ^ i) + inner, (ilb, 0))  # wrong key
sent["gre_nokey"] = sent["gre_badkey"] = count

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
u.bind(("", port))
u.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton(group) + socket.inet_aton(me))
u.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(me))
u.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
u.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
u.settimeout(5)
for i in range(count):
    u.sendto(os.urandom(16 + 8 * i), (group, port))
sent["mcast_random"] = count
try:
    msg, src = u.recvfrom(65535)
    sent["captured_from"] = src[0]
    sent["captured_len"] = len(msg)
    bad = msg[:-1] + bytes([msg[-1] ^ 0x01])
    for i in range(count):
        u.sendto(bad, (group, port))
    sent["mcast_badmac"] = count
    for i in range(5):
        u.sendto(msg, (group, port))
    sent["mcast_replay"] = 5
except socket.timeout:
    sent["captured"] = "none"
print(" ".join("%s=%s" % kv for kv in sent.items()))
PY
}

require_ilbd
netns_setup
check "topology up" topo_up
check "rogue namespace on the LAN" rogue_up
check "servers answer" start_servers
check "3 ILBs start (tun, dsr, authenticated)" start_ilbs tun dsr true
check "each ILB log shows the two others joined" wait_members 60
run_requests 30 warmup
stats_snapshot
gre0=$(stat_of 1 gre_rx_reject)
for j in 1 2 3; do eval "cl0_$j=\$(stat_of $j cluster_rx_reject)"; done
for j in 1 2 3; do eval "mem0_$j=\$(count_lines \"\$(ilb_log $j)\" 'member ')"; done

out=$(rogue)
note "rogue sent: $out"
check "rogue captured an ID message to forge" \
    eval 'case $out in *mcast_badmac=*) true;; *) false;; esac'
# let the ILBs notice a forged member, or a real one time out, if they will
sleep "$(awk -v d="$DEAD_MS" -v h="$HELLO_MS" 'BEGIN { print (d + h) / 1000 + 0.5 }')"
stats_snapshot
stats_print
check_alive
g=$(stat_of 1 gre_rx_reject)
check "ilb1 gre_rx_reject rises (${gre0:-missing} -> ${g:-missing})" \
    eval 'is_num "$g" && is_num "$gre0" && [ "$g" -gt "$gre0" ]'
for j in 1 2 3; do
	eval "c0=\$cl0_$j"
	c=$(stat_of "$j" cluster_rx_reject)
	check "ilb$j cluster_rx_reject rises (${c0:-missing} -> ${c:-missing})" \
	    eval 'is_num "$c" && is_num "$c0" && [ "$c" -gt "$c0" ]'
	eval "m0=\$mem0_$j"
	m=$(count_lines "$(ilb_log "$j")" 'member ')
	check "ilb$j membership unchanged (member lines $m0 -> $m)" [ "$m" -eq "$m0" ]
	check "ilb$j never saw $ROGUE_ADDR as a member" \
	    eval '! grep -q "member $ROGUE_ADDR" "$(ilb_log $j)"'
done
check_requests "$N"
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

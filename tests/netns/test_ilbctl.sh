#!/bin/sh
# test_ilbctl.sh: ilbctl against three running ILBs: members, owner, stats,
# connections, drain/enable, weight, and its errors.
#
# LEAD WIRING: every check marked [wiring] needs ilbd to listen on
# control.socket (control_open() with ctlcmd_handle in src/ilbd.c) and
# src/ilbctl built; the [ilbctl] ones need only src/ilbctl.  Until both
# exist the script stops with ERROR (99), never a quiet skip.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

VIPP="$VIP:$VIP_PORT"
KA_N=${KA_N:-9}			# keep-alive connections through the drain

# ctl_json I FILE ARGS...: ctl -j into FILE; fails unless it is valid JSON.
ctl_json() {
	_i=$1; _f=$2; shift 2
	ctl "$_i" -j "$@" > "$_f" 2> "$_f.err" &&
	    "$PYTHON" -c 'import json, sys; json.load(open(sys.argv[1]))' "$_f"
}

# quiet CMD...: CMD with its output in $NETNS_DIR/quiet.
quiet() { "$@" > "$NETNS_DIR/quiet" 2>&1; }

# py FILE... <<EOF: a python check; its stdout is a note, exit 0 passes.
py() { "$PYTHON" - "$@"; }

# wait_sockets: every ILB's control socket exists (5 s).
wait_sockets() {
	for _j in $(seq 1 "$N_ILB"); do
		_n=0
		until [ -S "$NETNS_DIR/ilb$_j.sock" ]; do
			_n=$((_n + 1))
			[ "$_n" -lt 600 ] || { note "no $NETNS_DIR/ilb$_j.sock"; return 1; }
			sleep 0.1
		done
	done
}

# members_ok I: show members -j lists 192.0.2.11..13, all active, self = I.
members_ok() {
	ctl_json "$1" "$NETNS_DIR/members.$1.json" show members || return 1
	py "$NETNS_DIR/members.$1.json" "$(ilb_id "$1")" "$N_ILB" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))["members"]
ids = sorted(x["id"] for x in m if x["state"] == "active")
want = sorted("192.0.2.1%d" % i for i in range(1, int(sys.argv[3]) + 1))
self_ = [x["id"] for x in m if x["self"]]
print("# %s: active %s, self %s" % (sys.argv[2], " ".join(ids), self_))
sys.exit(0 if ids == want and self_ == [sys.argv[2]] else 1)
EOF
}

# info_ok I: show info -j: active, its own id, a boot epoch, its file and
# that file's SHA-256, never reloaded.
info_ok() {
	ctl_json "$1" "$NETNS_DIR/info.$1.json" show info || return 1
	py "$NETNS_DIR/info.$1.json" "$(ilb_id "$1")" "$NETNS_DIR/ilb$1.conf" <<'EOF'
import hashlib, json, sys
x = json.load(open(sys.argv[1]))
sha = hashlib.sha256(open(sys.argv[3], "rb").read()).hexdigest()
print("# %s: %s, epoch %s, up %s s" % (x["id"], x["state"], x["epoch"],
                                      x["uptime_s"]))
sys.exit(0 if x["state"] == "active" and x["id"] == sys.argv[2] and
         x["epoch"] > 0 and x["config_file"] == sys.argv[3] and
         x["config_sha256"] == sha and x["last_reload"] is None and
         x["version"] else 1)
EOF
}

# owner_agree TUPLE: show owner -j gives one owner and one backup on all.
owner_agree() {
	for _j in $(seq 1 "$N_ILB"); do
		ctl_json "$_j" "$NETNS_DIR/owner.$_j.json" show owner "$1" "$VIPP" ||
		    return 1
	done
	py "$NETNS_DIR"/owner.*.json <<'EOF'
import json, sys
a = [json.load(open(f)) for f in sys.argv[1:]]
pairs = set((x["owner"], x["backup"]) for x in a)
o, b = next(iter(pairs))
sys.exit(0 if len(pairs) == 1 and o and b and o != b and
         all(x["service"] == "web" for x in a) else 1)
EOF
}

# ltoc_roles: over the client's keep-alive connections, each is in exactly
# one ILB's LTOC as owner and one other's as backup, and show owner on
# every ILB names those two and reports what its own LTOC holds.
ltoc_roles() {
	for _j in $(seq 1 "$N_ILB"); do
		ctl_json "$_j" "$NETNS_DIR/conns.$_j.json" show connections \
		    client "$CLIENT_ADDR" limit 1000 || return 1
	done
	py "$KA_N" "$NETNS_DIR"/conns.*.json > "$NETNS_DIR/roles" <<'EOF' || return 1
import json, sys
want = int(sys.argv[1])
roles = {}
for f in sys.argv[2:]:
    ilb = f.rsplit(".", 2)[-2]
    for c in json.load(open(f))["connections"]:
        roles.setdefault(c["client"], []).append((c["role"], ilb))
bad = [t for t, r in roles.items()
       if sorted(x for x, _ in r) != ["backup", "owner"]]
print("# %d connections in the LTOCs, %d without one owner and one backup"
      % (len(roles), len(bad)))
for t in sorted(roles)[:1]:
    r = dict(roles[t])
    print("TUPLE %s %s %s" % (t, r.get("owner", "-"), r.get("backup", "-")))
sys.exit(0 if len(roles) == want and not bad else 1)
EOF
	grep '^#' "$NETNS_DIR/roles"
	# one tuple: show owner on each ILB must match who holds it
	read -r _t _tuple _own _bak <<EOF
$(grep '^TUPLE' "$NETNS_DIR/roles")
EOF
	[ "$_t" = TUPLE ] || return 1
	owner_agree "$_tuple" || return 1
	py "$_own" "$_bak" "$NETNS_DIR"/owner.*.json <<'EOF'
import json, sys
own, bak = sys.argv[1], sys.argv[2]
ok = True
for f in sys.argv[3:]:
    i = f.rsplit(".", 2)[-2]
    x = json.load(open(f))
    me = "192.0.2.1" + i
    role = (x["ltoc"] or {}).get("role")
    want = "owner" if i == own else "backup" if i == bak else None
    ok &= role == want and x["self"] == (want or "neither")
    ok &= (x["owner"] == me) == (i == own) and (x["backup"] == me) == (i == bak)
sys.exit(0 if ok else 1)
EOF
}

# ltoc_roles_settle: ltoc_roles, tried until it holds (the backups learn
# their copies in batches, a tick after the owner) or for 30 s; the notes
# of the last try only.
ltoc_roles_settle() {
	_t0=$(now_ms)
	until ltoc_roles > "$NETNS_DIR/roles.notes"; do
		[ $(($(now_ms) - _t0)) -lt 30000 ] ||
		    { cat "$NETNS_DIR/roles.notes"; return 1; }
		sleep 0.2
	done
	cat "$NETNS_DIR/roles.notes"
}

# all_ctl ARGS...: the same command on every ILB; each must answer.
all_ctl() {
	for _j in $(seq 1 "$N_ILB"); do
		ctl "$_j" "$@" > "$NETNS_DIR/ans.$_j" 2>&1 ||
		    { note "ilb$_j: $(cat "$NETNS_DIR/ans.$_j")"; return 1; }
	done
}

# server_field I ADDR KEY: KEY of server ADDR in show servers -j.
server_field() {
	ctl_json "$1" "$NETNS_DIR/servers.$1.json" show servers || return 1
	py "$NETNS_DIR/servers.$1.json" "$2" "$3" <<'EOF'
import json, sys
for s in json.load(open(sys.argv[1]))["servers"]:
    if s["address"] == sys.argv[2]:
        print(json.dumps(s[sys.argv[3]]))
EOF
}

# exit1_with RC PATTERN FILE: RC is 1 and FILE matches PATTERN.
exit1_with() { [ "$1" -eq 1 ] && grep -q "$2" "$3"; }

stats_text_ok() {
	ctl 1 show stats > "$NETNS_DIR/stats.txt" &&
	    grep -q '^rx [0-9]' "$NETNS_DIR/stats.txt" &&
	    grep -q '^orphan [0-9]' "$NETNS_DIR/stats.txt"
}

stats_json_ok() {
	ctl_json 1 "$NETNS_DIR/stats.json" show stats &&
	    py "$NETNS_DIR/stats.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
sys.exit(0 if "rx" in c and "orphan" in c else 1)
EOF
}

# weight_shown W CONF: ilb1 shows 192.0.2.23 with weight W, configured CONF.
weight_shown() {
	[ "$(server_field 1 192.0.2.23 weight)" = "$1" ] &&
	    [ "$(server_field 1 192.0.2.23 weight_configured)" = "$2" ]
}

ilbs_alive() {
	for _j in $(seq 1 "$N_ILB"); do ilb_alive "$_j" || return 1; done
}

# ltoc_on SRV: keep-alive connections whose owner entry names SRV, summed
# over the ILBs (keepalive.py tells only at its end).
ltoc_on() {
	_n=0
	for _j in $(seq 1 "$N_ILB"); do
		ctl_json "$_j" "$NETNS_DIR/c.$_j.json" show connections \
		    client "$CLIENT_ADDR" limit 1000 || return 1
		_n=$((_n + $(py "$NETNS_DIR/c.$_j.json" "$1" <<'EOF'
import json, sys
print(sum(1 for c in json.load(open(sys.argv[1]))["connections"]
          if c["role"] == "owner" and c["server"] == sys.argv[2]))
EOF
)))
	done
	echo "$_n"
}

require_ilbd
netns_setup
[ -x "$ILBCTL" ] || need "no $ILBCTL (build it: the lead wires ilbctl)"

# [ilbctl] errors that need no daemon
"$ILBCTL" -s /nonexistent show stats > "$NETNS_DIR/e1" 2>&1
rc=$?
check "[ilbctl] -s /nonexistent show stats exits 1 ($(head -n 1 "$NETNS_DIR/e1"))" \
    [ "$rc" -eq 1 ]
"$ILBCTL" -s /nonexistent shwo members > "$NETNS_DIR/e2" 2>&1
rc=$?
check "[ilbctl] a typo'd command exits 1 with a reason ($(head -n 1 "$NETNS_DIR/e2"))" \
    exit1_with "$rc" . "$NETNS_DIR/e2"

check "topology up" topo_up
check "servers answer" start_servers
check "3 ILBs start (tun, dsr, rr)" start_ilbs tun dsr
check "each ILB log shows the two others joined" wait_members 60
check "[wiring] every ILB listens on its control.socket" wait_sockets
if [ "$fail" -ne 0 ]; then show_logs 2>/dev/null; finish; exit 1; fi

for i in $(seq 1 "$N_ILB"); do
	check "[wiring] ilb$i: show members: 3 active members, self marked" \
	    members_ok "$i"
done
ctl 1 show members | sed 's/^/#   /'
for i in $(seq 1 "$N_ILB"); do
	check "[wiring] ilb$i: show info: active, its id, epoch, config file and sha256" \
	    info_ok "$i"
done
ctl 1 show info | sed 's/^/#   /'
check "[ilbctl] -h: usage on stdout, exit 0" sh -c "'$ILBCTL' -h | grep -q '^usage: ilbctl'"
ctl 1 show connections limit -5 > "$NETNS_DIR/e7" 2>&1
rc=$?
check "[ilbctl] show connections limit -5: an operand, not an option ($(cat "$NETNS_DIR/e7"))" \
    exit1_with "$rc" "limit N must be 1..100000, not '-5'" "$NETNS_DIR/e7"

for p in 40001 40002 40003 40004 40005; do
	check "[wiring] show owner $CLIENT_ADDR:$p: same owner and backup on every ILB" \
	    owner_agree "$CLIENT_ADDR:$p"
done
ctl 1 show owner "$CLIENT_ADDR:40001" "$VIPP" | sed 's/^/#   /'
ctl 1 show owner "$CLIENT_ADDR:40001" "$VIP:81" > "$NETNS_DIR/e3" 2>&1
rc=$?
check "[wiring] show owner for a VIP:port without service exits 1 ($(cat "$NETNS_DIR/e3"))" \
    exit1_with "$rc" "no service for $VIP:81" "$NETNS_DIR/e3"

check "[wiring] show stats has rx and orphan" stats_text_ok
check "[wiring] show stats -j is JSON with counters.rx and orphan" stats_json_ok
for c in "show services" "show servers" "show cache"; do
	# shellcheck disable=SC2086 # the words of the command
	check "[wiring] $c -j is valid JSON" ctl_json 2 "$NETNS_DIR/x.json" $c
done

# keep-alive connections through the drain of srv2
keepalive_start "$KA_N" 0       # until keepalive_stop
check "keepalive: $KA_N connections up" keepalive_wait 60
check "[wiring] each keep-alive connection is in one LTOC as owner, one as backup; show owner agrees" \
    ltoc_roles_settle
on2=$(ltoc_on 192.0.2.22)
note "keep-alive connections on srv2 before the drain: $on2"
check "[wiring] some keep-alive connections run on srv2 ($on2)" [ "${on2:-0}" -gt 0 ]
# each ILB on its own (local): test_drain.sh has the cluster-wide drain
check "[wiring] server drain web 192.0.2.22 local on every ILB" \
    all_ctl server drain web 192.0.2.22 local
check "[wiring] the answer is one line" \
    grep -qx 'server 192.0.2.22 of web drained (local only: this member; the others still use it)' "$NETNS_DIR/ans.1"
check "[wiring] show servers: 192.0.2.22 drained" \
    [ "$(server_field 2 192.0.2.22 drained)" = true ]
run_requests 30
check "[wiring] after the drain 30 new requests succeed ($REQ_FAIL failed)" [ "$REQ_OK" -eq 30 ]
check "[wiring] ... and none reaches srv2 ($(answers_summary))" [ "$(answered_by srv2)" -eq 0 ]
keepalive_stop
check "[wiring] server enable web 192.0.2.22 local on every ILB" \
    all_ctl server enable web 192.0.2.22 local
run_requests 30
check "[wiring] after enable srv2 answers again ($(answers_summary))" [ "$(answered_by srv2)" -gt 0 ]

check "[wiring] server weight web 192.0.2.23 5" quiet ctl 1 server weight web 192.0.2.23 5
check "[wiring] show servers: weight 5, configured 1" weight_shown 5 1
ctl 1 show servers | sed 's/^/#   /'
ctl 1 server weight web 192.0.2.23 1 > /dev/null
ctl 1 server drain nosuch 192.0.2.22 > "$NETNS_DIR/e4" 2>&1
rc=$?
check "[wiring] server drain of an unknown service exits 1 ($(cat "$NETNS_DIR/e4"))" \
    exit1_with "$rc" 'unknown service' "$NETNS_DIR/e4"
ctl 1 server drain web 192.0.2.99 > "$NETNS_DIR/e5" 2>&1
rc=$?
check "[wiring] server drain of a server not in the service exits 1 ($(cat "$NETNS_DIR/e5"))" \
    exit1_with "$rc" 'no server 192.0.2.99 in service web' "$NETNS_DIR/e5"
ctl 1 shwo members > "$NETNS_DIR/e6" 2>&1
rc=$?
check "[ilbctl] a typo'd command exits 1 with a reason ($(head -n 1 "$NETNS_DIR/e6"))" \
    exit1_with "$rc" . "$NETNS_DIR/e6"
check "the ILBs are still running" ilbs_alive

finish

# lib/daemons.sh (sourced by tests/netns/lib.sh): the ILBs (ilbd).
# require_ilbd; ilb_conf and its edits (ilb_conf_health, ilb_conf_udp,
# ilb_conf_metrics, ilb_conf_peers); start_ilb(s) / stop_ilb / kill_ilb / ilb_alive /
# ilb_pid / ilb_log; their counters through USR1 (ilb_stats,
# stats_snapshot, stat_of / stat_sum / stat_max, stats_print, STATS_KEYS);
# the membership in their logs (member_re, wait_members); show_logs; ilbctl
# (ctl, ctl_stat) and one tuple's connections (direct_rx, tuple_role,
# tuple_get, tuple_to_neither).

# require_ilbd: the daemon must be built.
require_ilbd() { [ -x "$ILBD" ] || need "no $ILBD (build it first)"; }

# ilb_conf I MODE FORWARD [AUTHENTICATE [SCORING]]: write $NETNS_DIR/ilbI.conf
# (and the shared key file, once).  MODE tun|pcap, FORWARD dsr|gre.  Each
# ILB keeps its boot epoch in its own node.state_dir, $NETNS_DIR/stateI,
# not in the machine's /var/lib/ilbd.
ilb_conf() {
	[ -f "$NETNS_DIR/cluster.key" ] ||
	    head -c 32 /dev/urandom > "$NETNS_DIR/cluster.key"
	chmod 644 "$NETNS_DIR/cluster.key"	# a test key, read after set-up
	_servers=
	for _s in $(seq 1 "$N_SRV"); do
		_servers="$_servers${_servers:+,
}      { address = \"$(srv_addr "$_s")\"; weight = 1; }"
	done
	_web6=
	if [ -n "$IPV6" ]; then
		_servers6=
		for _s in $(seq 1 "$N_SRV"); do
			_servers6="$_servers6${_servers6:+,
}      { address = \"$(srv_addr6 "$_s")\"; weight = 1; }"
		done
		_web6=",
  {
    name = \"web6\";
    vip = \"$VIP6\";
    port = $VIP_PORT;
    forward = \"$3\";
    scheduler = \"${ILB_SCHEDULER:-rr}\";
    health = { check = \"none\"; };
    servers = (
$_servers6
    );
  }"
	fi
	cat > "$NETNS_DIR/ilb$1.conf" <<EOF
# ilb$1 of the netns test $NETNS_TAG
node = {
  id = "$(ilb_id "$1")";
  interface = "eth0";
  user = "${ILB_USER-nobody}";
  state_dir = "$NETNS_DIR/state$1";
};
cluster = {
  group = "$(cluster_group)";
  port = $GROUP_PORT;
  hello_ms = $HELLO_MS;
  dead_ms = $DEAD_MS;
  key_file = "$NETNS_DIR/cluster.key";
  authenticate = ${4:-true};
  scoring = "${5:-crc32c-mix}";
};
input = {
  mode = "$2";
  device = "ilb0";
  workers = ${ILB_WORKERS:-1};
};
tables = {
  ltoc_size = 65536;
  cache_size = ${ILB_CACHE_SIZE:-65536};
};
control = {
  socket = "$NETNS_DIR/ilb$1.sock";
};
metrics = {
  listen = "";
};
services = (
  {
    name = "web";
    vip = "$VIP";
    port = $VIP_PORT;
    forward = "$3";
    scheduler = "${ILB_SCHEDULER:-rr}";
    health = { check = "none"; };
    servers = (
$_servers
    );
  }$_web6
);
EOF
}

ilb_log() { echo "$NETNS_DIR/ilb$1.log"; }
ilb_pid() { eval "echo \${ILB_PID_$1:-}"; }

# start_ilb I: run ilbd -f for ILB I with $NETNS_DIR/ilbI.conf (its mode
# sets ip_forward: 1 for tun, 0 for pcap); the log is appended to
# $NETNS_DIR/ilbI.log.  Waits for "started"; extra options in $ILBD_ARGS.
start_ilb() {
	_ns=$(ns_ilb "$1")
	if grep -q 'mode = "pcap"' "$NETNS_DIR/ilb$1.conf"; then
		sysctl_set "$_ns" net.ipv4.ip_forward=0
		[ -z "$IPV6" ] || sysctl_set "$_ns" net.ipv6.conf.all.forwarding=0
	else
		sysctl_set "$_ns" net.ipv4.ip_forward=1
		[ -z "$IPV6" ] || sysctl_set "$_ns" net.ipv6.conf.all.forwarding=1
	fi
	_log=$(ilb_log "$1")
	echo "# --- start_ilb $1 at $(now_ms)" >> "$_log"
	# shellcheck disable=SC2086 # ILBD_ARGS is a list of options
	ip netns exec "$_ns" "$ILBD" -f $ILBD_ARGS -c "$NETNS_DIR/ilb$1.conf" \
	    >> "$_log" 2>&1 &
	eval "ILB_PID_$1=\$!"
	echo "$!" >> "$NETNS_DIR/pids"
	_n=$(grep -c '^# --- start_ilb' "$_log")
	_i=0
	# wait for "started" after our marker (60 s: a hang)
	while [ "$_i" -lt 600 ]; do
		awk -v n="$_n" '/^# --- start_ilb/ { m++ } m == n && /started/ { f = 1 }
		    END { exit !f }' "$_log" && return 0
		kill -0 "$(ilb_pid "$1")" 2>/dev/null || break
		sleep 0.1; _i=$((_i + 1))
	done
	note "ilb$1 did not start; its log:"
	tail -n 20 "$_log" | sed 's/^/#   /'
	return 1
}

# start_ilbs MODE FORWARD [AUTHENTICATE [SCORING]]: configure and start all.
start_ilbs() {
	for _j in $(seq 1 "$N_ILB"); do
		ilb_conf "$_j" "$@" && start_ilb "$_j" || return 1
	done
}

# leave_ilb I: graceful leave of ilbI (SIGTERM), waiting LEAVE_S (60) s at
# most for its exit, then SIGKILL; sets rc (its exit status, or why not)
# and t (ms it took).
leave_ilb() {
	_p=$(ilb_pid "$1")
	_t0=$(now_ms)
	kill -TERM "$_p"
	while kill -0 "$_p" 2>/dev/null &&
	    [ $(($(now_ms) - _t0)) -lt $((${LEAVE_S:-60} * 1000)) ]; do
		sleep 0.05
	done
	t=$(($(now_ms) - _t0))
	if kill -0 "$_p" 2>/dev/null; then
		kill -KILL "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
		rc="still running after ${LEAVE_S:-60}s, killed"
	else
		wait "$_p"
		rc=$?
	fi
}

# stop_ilb I: graceful (TERM, up to 5 s, then KILL).  kill_ilb I: KILL.
stop_ilb() { pid_stop "$(ilb_pid "$1")" 5; }
kill_ilb() {
	_p=$(ilb_pid "$1")
	kill -KILL "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	return 0
}
ilb_alive() { _p=$(ilb_pid "$1"); [ -n "$_p" ] && kill -0 "$_p" 2>/dev/null; }

# ilb_stats I: send USR1, wait for a new "stats:" line, print it as
# "key value" lines (unknown keys included).
ilb_stats() {
	_log=$(ilb_log "$1")
	_before=$(grep -c 'stats: ' "$_log")
	kill -USR1 "$(ilb_pid "$1")" 2>/dev/null || return 1
	_i=0
	while [ "$(grep -c 'stats: ' "$_log")" -le "$_before" ]; do
		_i=$((_i + 1)); [ "$_i" -lt 300 ] || return 1
		sleep 0.1
	done
	grep 'stats: ' "$_log" | tail -n 1 | sed 's/.*stats: //' |
	    tr '[:blank:]' '\n' | sed -n 's/^\([A-Za-z0-9_.]*\)=\(.*\)$/\1 \2/p'
}

# stats_snapshot: ilb_stats of every running ILB into $NETNS_DIR/stats.I.
stats_snapshot() {
	for _j in $(seq 1 "$N_ILB"); do
		: > "$NETNS_DIR/stats.$_j"
		ilb_alive "$_j" && ilb_stats "$_j" > "$NETNS_DIR/stats.$_j"
	done
	return 0
}

# stat_of I KEY: KEY from the last snapshot of ILB I ("" if absent).
stat_of() { awk -v k="$2" '$1 == k { v = $2 } END { print v }' "$NETNS_DIR/stats.$1"; }

# stat_sum KEY / stat_max KEY: over all ILBs ("" if no ILB reported KEY).
stat_sum() {
	cat "$NETNS_DIR"/stats.* 2>/dev/null |
	    awk -v k="$1" '$1 == k { s += $2; f = 1 } END { if (f) print s }'
}
stat_max() {
	cat "$NETNS_DIR"/stats.* 2>/dev/null |
	    awk -v k="$1" '$1 == k && (!f || $2 > m) { m = $2; f = 1 } END { if (f) print m }'
}

# stats_print: one line per ILB with the counters in $STATS_KEYS (all
# counters are in $NETNS_DIR/stats.I).
STATS_KEYS=${STATS_KEYS:-rx forward_owner forward_backup forward_cache handoff_out handoff_in misrouted orphan no_service no_mac gre_rx_reject cluster_rx_reject}
stats_print() {
	for _j in $(seq 1 "$N_ILB"); do
		[ -s "$NETNS_DIR/stats.$_j" ] || { note "ilb$_j: no stats"; continue; }
		note "ilb$_j: $(awk -v keys="$STATS_KEYS" '
		    BEGIN { n = split(keys, k, " ") }
		    { v[$1] = $2 }
		    END { for (i = 1; i <= n; i++) if (k[i] in v) printf "%s=%s ", k[i], v[k[i]] }
		    ' "$NETNS_DIR/stats.$_j")"
	done
}

# member_re ID EVENT: the log pattern of "member ID joined|is gone".
member_re() { echo "member $(echo "$1" | sed 's/\./\\./g') $2"; }

# wait_members SECONDS: every running ILB's log shows each other running
# ILB joined (polled together, one deadline).
wait_members() {
	_i=0
	while :; do
		_missing=
		_alive=0
		for _j in $(seq 1 "$N_ILB"); do
			ilb_alive "$_j" || continue
			_alive=$((_alive + 1))
			# joined the cluster itself: it is active, scored by all
			grep -q "join complete" "$(ilb_log "$_j")" 2>/dev/null ||
			    _missing="$_missing ilb$_j:active"
			for _k in $(seq 1 "$N_ILB"); do
				if [ "$_k" = "$_j" ] || ! ilb_alive "$_k"; then continue; fi
				grep -q "$(member_re "$(ilb_id "$_k")" joined)" \
				    "$(ilb_log "$_j")" 2>/dev/null ||
				    _missing="$_missing ilb$_j:$(ilb_id "$_k")"
			done
		done
		[ "$_alive" -gt 0 ] || _missing=" no ILB running"
		if [ -z "$_missing" ]; then
			# one more hello, so every member has heard the others
			sleep "$(awk -v h="${HELLO_MS:-200}" 'BEGIN { print 2 * h / 1000 }')"
			return 0
		fi
		_i=$((_i + 1))
		[ "$_i" -lt $(($1 * 10)) ] || break
		sleep 0.1
	done
	note "'member ID joined' missing in (log:ID):$_missing"
	return 1
}

# show_logs: the tail of each ILB's log (for a failure).
show_logs() {
	for _j in $(seq 1 "$N_ILB"); do
		[ -f "$(ilb_log "$_j")" ] || continue
		note "--- ilb$_j log (tail)"
		tail -n "${1:-15}" "$(ilb_log "$_j")" | sed 's/^/#   /'
	done
}

# ilb_conf_health I GROUP: replace the health group that ilb_conf wrote in
# $NETNS_DIR/ilbI.conf (check = "none") by GROUP, e.g.
# '{ check = "tcp"; interval_ms = 200; timeout_ms = 100; rise = 2; fall = 2; }'.
ilb_conf_health() {
	sed "s/^\( *health = \).*;\$/\1$2;/" "$NETNS_DIR/ilb$1.conf" \
	    > "$NETNS_DIR/ilb$1.conf.tmp" &&
	    mv "$NETNS_DIR/ilb$1.conf.tmp" "$NETNS_DIR/ilb$1.conf" &&
	    grep -qF "health = $2;" "$NETNS_DIR/ilb$1.conf"
}

# ilb_conf_udp I NAME PORT [KEYS [SRVFN]]: append the UDP service NAME to
# $NETNS_DIR/ilbI.conf (from ilb_conf, whose last line closes the services
# list): the VIP, port PORT, forward dsr, scheduler ILB_SCHEDULER, every
# server.  KEYS: more lines of the service (timeouts, quic_lb, ...); unless
# they set health, health = { check = "none"; }.  SRVFN: a function that
# prints more keys of server J, given J.
ilb_conf_udp() {
	_c=$NETNS_DIR/ilb$1.conf
	_keys=${4:-}
	case $_keys in
	*"health ="*) ;;
	*) _keys="$_keys${_keys:+
}    health = { check = \"none\"; };" ;;
	esac
	_servers=
	for _s in $(seq 1 "$N_SRV"); do
		_x=
		[ -z "${5:-}" ] || _x=" $("$5" "$_s")"
		_servers="$_servers${_servers:+,
      }{ address = \"$(srv_addr "$_s")\";$_x }"
	done
	sed -i '$d' "$_c" || return 1
	cat >> "$_c" <<EOF
  ,
  {
    name = "$2";
    vip = "$VIP";
    port = $3;
    protocol = "udp";
    forward = "dsr";
    scheduler = "${ILB_SCHEDULER:-rr}";
$_keys
    servers = ( $_servers );
  }
);
EOF
}

# ilb_conf_metrics I [LISTEN]: in $NETNS_DIR/ilbI.conf (from ilb_conf), serve
# /metrics on LISTEN (default ILB I's own address, port 9650) instead of "".
ilb_conf_metrics() {
	_l=${2:-$(ilb_addr "$1"):9650}
	sed -i "s|^  listen = \"\";|  listen = \"$_l\";|" "$NETNS_DIR/ilb$1.conf" &&
	    grep -qF "  listen = \"$_l\";" "$NETNS_DIR/ilb$1.conf"
}

# ilb_conf_peers I ADDR...: in $NETNS_DIR/ilbI.conf (from ilb_conf), add
# cluster.peers = [ ADDR, ... ] after the group: unicast, no multicast.
ilb_conf_peers() {
	_f=$NETNS_DIR/ilb$1.conf; shift
	_l=
	for _a in "$@"; do _l="$_l${_l:+, }\"$_a\""; done
	sed -i "s|^\(  group = .*;\)\$|\1\n  peers = [ $_l ];|" "$_f" &&
	    grep -qF "  peers = [ $_l ];" "$_f"
}

# ---------------------------------------------------------------- ilbctl and
# one tuple's connections (test_ilbctl.sh, test_port_reuse.sh,
# test_late_end.sh)

ILBCTL=${ILBCTL:-$top_builddir/src/ilbctl}

# ctl I ARGS...: ilbctl on ILB I's socket (the path works from the host).
ctl() {
	_i=$1; shift
	timeout 10 "$ILBCTL" -s "$NETNS_DIR/ilb$_i.sock" "$@"
}

# ctl_stat I NAME: counter NAME of ILB I (show stats).
ctl_stat() { ctl "$1" show stats | awk -v k="$2" '$1 == k { print $2 }'; }

# direct_rx I: packets ILB I read from its input (not handed off to it).
# live_stat_sum KEY: counter KEY summed over the running ILBs (ilbctl).
live_stat_sum() {
	_s=0
	for _j in $(seq 1 "$N_ILB"); do
		ilb_alive "$_j" || continue
		_v=$(ctl_stat "$_j" "$1")
		_s=$((_s + ${_v:-0}))
	done
	echo "$_s"
}
# live_stat_at_least KEY N: the running ILBs' KEY adds up to N or more.
live_stat_at_least() { [ "$(live_stat_sum "$1")" -ge "$2" ]; }
direct_rx() { echo $(($(ctl_stat "$1" rx) - $(ctl_stat "$1" handoff_in))); }

# tuple_role I PORT: ILB I's role for the client's tuple from source port
# PORT to the VIP (owner, backup or neither), from show owner.
tuple_role() {
	ctl "$1" show owner "$CLIENT_ADDR:$2" "$VIP:$VIP_PORT" |
	    awk -v me="$(ilb_id "$1")" '
		$1 == "owner" && $2 == me { r = "owner" }
		$1 == "backup" && $2 == me { r = "backup" }
		END { print r ? r : "neither" }'
}

# tuple_get PORT [TIMEOUT]: one GET from the client's source port PORT
# (tuple_http.py, timeout 2 s); prints the answering server's name and the
# HTTP status ("- error" on failure).
tuple_get() {
	ip netns exec "$NS_CLIENT" "$PYTHON" "$NETNS_SRC/tuple_http.py" \
	    "$CLIENT_ADDR" "$1" "$VIP" "$VIP_PORT" "${2:-2}" 2> /dev/null ||
	    echo "- error"
}

# tuple_to_neither PORT0 TRIES: GET from source ports PORT0, PORT0 + 1, ...
# (at most TRIES) until one's packets reach an ILB that neither owns nor
# backs up its tuple (such an ILB learns a connection only from the
# multicast NEW).  Sets PORT, X (that ILB) and FIRST (the server that
# answered); PORT is empty if none did.  The router must hash the tuple
# (router_tuple_hash), so that every connection on it takes that ILB.
# shellcheck disable=SC2034 # X and FIRST: read by tuple_bed_up (lib/scenario.sh)
tuple_to_neither() {
	PORT='' X='' FIRST=''
	_p=$1
	while [ "$_p" -lt $(($1 + $2)) ]; do
		for _j in $(seq 1 "$N_ILB"); do eval "_rx0_$_j=$(direct_rx "$_j")"; done
		# shellcheck disable=SC2046 # the answer's two words
		set -- "$1" "$2" $(tuple_get "$_p")
		for _j in $(seq 1 "$N_ILB"); do
			eval "_d=\$((\$(direct_rx $_j) - _rx0_$_j))"
			_r=$(tuple_role "$_j" "$_p")
			# shellcheck disable=SC2154 # _d is set through eval
			note "port $_p: ilb$_j read $_d, $_r; answer $3 $4"
			if [ "$_d" -gt 0 ] && [ "$4" = 200 ] && [ "$_r" = neither ]; then
				PORT=$_p X=$_j FIRST=$3
			fi
		done
		[ -z "$PORT" ] || return 0
		_p=$((_p + 1))
	done
}

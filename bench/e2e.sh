#!/bin/sh
# bench/e2e.sh: the end-to-end benchmark in network namespaces (root).
#
# One run, on the topology of tests/netns/lib.sh (client -- router -- LAN:
# 3 ILB nodes, 3 servers), measures for
#   direct   no load balancer: router ECMP straight to the servers
#   ilbd     3 ILBs, input tun (ILB_MODE), forward dsr (replies bypass
#            ilbd)
#   ilbd1    the same with 1 ILB (the router's route to it alone): no
#            handoff and no replication, so the difference from ilbd is
#            the cost of the cluster and the rest that of the forwarding
#   bare1    bench/fwd_bare instead of ilbd on that one node: the same
#            input (TUN, or AF_XDP with ILB_MODE=xdp) and AF_PACKET
#            output to the 3 servers (picked by
#            source port) with no load balancer logic, so the difference
#            from ilbd1 is the cost of ilbd's logic and the rest that of
#            any userspace hop of this shape
#   haproxy  HAProxy in TCP mode on the same 3 nodes (not DSR: replies
#            come back through it), router ECMP over the nodes
# new connections per second (wrk, HTTP with "Connection: close"), requests
# per second on keep-alive connections (wrk), download throughput (wrk
# fetching a BIG_MB file from a python3 -m http.server on port 8080 of
# every server), then prints a table with the ratios to "direct".
#
# Then the forwarding rate of ONE ilbd (a cluster of one: it owns every
# connection) against bench/fwd_bare (the same input and AF_PACKET output,
# no logic): bench/blast in the client sends FWD_FLOWS 40-byte
# TCP flows (a SYN each, then ACKs) to the VIP at a fixed offered rate for
# FWD_STEP s; an nftables netdev ingress rule in every server counts and
# drops them (delivered).  The offered rate climbs (FWD_RATES) until the
# delivered rate stops following it; the peak is the best delivered rate;
# then FWD_OVER s at 2 x peak offered gives delivered / peak.
#
# Reported, never asserted; not run by make check or CI.  Every load is
# bounded (DUR s per HTTP measurement, FWD_STEP / FWD_OVER s per rate),
# all traffic stays inside the namespaces this run creates, and they are
# removed at the end (lib.sh's traps).
#
# Knobs (environment): DUR (5), WRK_C (64), WRK_T (2), DL_C (6), BIG_MB
# (10), ROUNDS (5: the HTTP phases are run ROUNDS times, interleaved; the
# table shows the median of each figure, then every round and the median
# of the ratios to direct taken round by round), FWD_STEP (3), FWD_OVER
# (5), FWD_FLOWS (1024), FWD_RATES ("25000
# 50000 100000 200000 400000 0"; 0 = as fast as blast can), FWD_CPU (empty:
# no limit; a percentage: each forwarder gets that share of one CPU through
# a cgroup CPU quota, in 10 ms periods, so that blast, whose sending also
# pays the receiving kernel's work on a veth, can offer twice the peak of
# the slowed forwarder), FWD_CPU_EACH (empty; 1: FWD_CPU for each thread
# of a forwarder on its own, as if each had a core: ilbd with
# ILB_WORKERS=N has N + 1 threads), ILB_WORKERS (1: ilbd's input.workers,
# mode tun), PHASES ("direct ilbd ilbd1 bare1 haproxy fwd"), ILB_MODE
# (tun: the ilbd phase's input mode, tun, pcap or xdp; with xdp fwd_bare
# reads with the same AF_XDP input, fwd_bare -x auto), SPLIT_CPUS (empty; 1:
# the HTTP servers on CPU 0 and everything else on the other CPUs, for
# every phase), ILBD, FWD_BARE, BLAST, HAPROXY, WRK.
#
# shellcheck disable=SC2154 # variables set through eval (per-phase names)
# shellcheck disable=SC2046 # "set -- $(...)" splits a result line on purpose
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/netns/lib.sh"

DUR=${DUR:-5}
WRK_C=${WRK_C:-64}
WRK_T=${WRK_T:-2}
DL_C=${DL_C:-6}
BIG_MB=${BIG_MB:-10}
DL_PORT=8080
FWD_STEP=${FWD_STEP:-3}
FWD_OVER=${FWD_OVER:-5}
FWD_FLOWS=${FWD_FLOWS:-1024}
FWD_SPORT0=1024
FWD_RATES=${FWD_RATES:-25000 50000 100000 200000 400000 0}
FWD_CPU=${FWD_CPU:-}
FWD_CPU_EACH=${FWD_CPU_EACH:-}
PHASES=${PHASES:-direct ilbd ilbd1 bare1 haproxy fwd}
ILB_MODE=${ILB_MODE:-tun}
# fwd_bare's input: ilbd's when fwd_bare has it (tun, xdp), else tun
case $ILB_MODE in
xdp)	BARE_IN="-x auto" BARE_MODE=xdp;;
*)	BARE_IN="" BARE_MODE=tun;;
esac
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
# the CPUs, counted before SPLIT_CPUS narrows this script to some of them
NCPU=$(nproc)
SPLIT_CPUS=${SPLIT_CPUS:-}
ROUNDS=${ROUNDS:-5}
FWD_BARE=${FWD_BARE:-$top_builddir/bench/fwd_bare}
BLAST=${BLAST:-$top_builddir/bench/blast}
HAPROXY=${HAPROXY:-haproxy}
WRK=${WRK:-wrk}
BENCH_TABLE=ilbbench

has_phase() { case " $PHASES " in *" $1 "*) return 0;; esac; return 1; }

[ "$(id -u)" -eq 0 ] || need "needs root"
command -v "$WRK" > /dev/null 2>&1 || need "needs wrk (apt-get install wrk)"
if has_phase haproxy; then
	command -v "$HAPROXY" > /dev/null 2>&1 ||
	    need "needs haproxy (apt-get install haproxy)"
fi
if has_phase ilbd || has_phase ilbd1 || has_phase fwd; then require_ilbd; fi
if has_phase fwd || has_phase bare1; then
	[ -x "$FWD_BARE" ] || need "no $FWD_BARE (build it first)"
fi
if has_phase fwd; then
	command -v nft > /dev/null 2>&1 || need "needs nft (apt-get install nftables)"
	[ -x "$BLAST" ] || need "no $BLAST (build it first)"
fi

netns_setup
NETNS_KEEP_LOGS=${NETNS_KEEP_LOGS:-}

# awk arithmetic on the command line: calc EXPR
calc() { awk "BEGIN { print $1 }"; }

# cpu_busy: the machine's busy CPU time so far, in USER_HZ ticks (user,
# nice, system, irq and softirq of every CPU; idle, iowait and steal out).
cpu_busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }

# fwd_ticks: user + system CPU ticks of the running forwarders (the ilbd
# processes, or bare1's fwd_bare).
fwd_ticks() {
	_t=0
	for _p in $(for _j in $(seq 1 "$N_ILB"); do ilb_pid "$_j"; done) \
	    ${BARE1_PID:-}; do
		[ -r "/proc/$_p/stat" ] || continue
		_t=$((_t + $(sed 's/.*) //' "/proc/$_p/stat" | awk '{ print $12 + $13 }')))
	done
	echo "$_t"
}

# ---------------------------------------------------------------- set-up

# bench_servers: httpd.py on :80 (lib.sh) and a static server with a
# BIG_MB file on :8080 in every server namespace.
bench_servers() {
	start_servers || return 1
	SRV_PIDS=
	for _i in $(seq 1 "$N_SRV"); do
		eval "SRV_PIDS=\"\$SRV_PIDS \$SRV_PID_$_i\""
	done
	mkdir -p "$NETNS_DIR/www" &&
	    head -c $((BIG_MB * 1048576)) /dev/zero > "$NETNS_DIR/www/big" ||
	    return 1
	chmod -R a+rX "$NETNS_DIR/www"
	for _i in $(seq 1 "$N_SRV"); do
		bg "$(ns_srv "$_i")" "$NETNS_DIR/dl$_i.log" "$PYTHON" -m \
		    http.server "$DL_PORT" --bind 0.0.0.0 --directory "$NETNS_DIR/www"
		SRV_PIDS="$SRV_PIDS $BG_PID"
	done
	for _i in $(seq 1 "$N_SRV"); do
		_n=0
		until nsx "$(ns_srv "$_i")" curl -s -o /dev/null --max-time 1 \
		    "http://127.0.0.1:$DL_PORT/"; do
			_n=$((_n + 1))
			[ "$_n" -lt 50 ] || { note "srv$_i: no :$DL_PORT"; return 1; }
			sleep 0.1
		done
	done
}

# split_cpus: with SPLIT_CPUS=1, the HTTP servers (every thread, and the
# threads they start later) on CPU 0 and everything else this script
# starts (router and ILB softirq work aside) on the other CPUs, as when
# the load balancers and the servers are different machines; the same
# placement for every phase.
split_cpus() {
	[ -n "$SPLIT_CPUS" ] || return 0
	_last=$((NCPU - 1))
	[ "$_last" -ge 1 ] || { note "SPLIT_CPUS needs 2 CPUs"; return 1; }
	taskset -a -p -c 1-"$_last" $$ > /dev/null || return 1
	for _p in $SRV_PIDS; do
		taskset -a -p -c 0 "$_p" > /dev/null || return 1
	done
	note "SPLIT_CPUS: servers on CPU 0, the rest on CPUs 1-$_last"
}

# bench_client: room for many short connections in the client.
bench_client() {
	sysctl_set "$NS_CLIENT" net.ipv4.ip_local_port_range="1024 65000" \
	    net.ipv4.tcp_tw_reuse=1
}

# bench_ilb_conf I: lib.sh's config (tun, dsr, rr) plus a second service
# on the download port.
bench_ilb_conf() {
	ilb_conf "$1" "$ILB_MODE" dsr || return 1
	_f=$NETNS_DIR/ilb$1.conf
	awk -v vip="$VIP" -v port="$DL_PORT" -v n="$N_SRV" '
	    { line[NR] = $0 }
	    END {
		for (i = NR; i > 0; i--) if (line[i] == ");") { last = i; break }
		for (i = 1; i < last; i++) {
			if (i == last - 1 && line[i] == "  }") { print "  },"; continue }
			print line[i]
		}
		print "  {"
		print "    name = \"dl\";"
		print "    vip = \"" vip "\";"
		print "    port = " port ";"
		print "    forward = \"dsr\";"
		print "    scheduler = \"rr\";"
		print "    health = { check = \"none\"; };"
		print "    servers = ("
		for (s = 1; s <= n; s++)
			printf "      { address = \"192.0.2.2%d\"; weight = 1; }%s\n", s, s < n ? "," : ""
		print "    );"
		print "  }"
		for (i = last; i <= NR; i++) print line[i]
	    }' "$_f" > "$_f.tmp" && mv "$_f.tmp" "$_f"
	grep -q "name = \"dl\"" "$_f"
}

# haproxy_conf: mode tcp, VIP:80 and VIP:8080 to the 3 servers.
haproxy_conf() {
	{
		echo "global"
		echo "  maxconn 8000"
		echo "  nbthread 1"
		echo "defaults"
		echo "  mode tcp"
		echo "  timeout connect 2s"
		echo "  timeout client 30s"
		echo "  timeout server 30s"
		for _p in "$VIP_PORT" "$DL_PORT"; do
			echo "frontend f$_p"
			echo "  bind $VIP:$_p"
			echo "  default_backend b$_p"
			echo "backend b$_p"
			echo "  balance roundrobin"
			for _s in $(seq 1 "$N_SRV"); do
				echo "  server srv$_s $(srv_addr "$_s"):$_p"
			done
		done
	} > "$NETNS_DIR/haproxy.cfg"
}

# early_demux 0|1: net.ipv4.ip_early_demux on the ILB nodes.  HAProxy
# leaves TIME_WAIT sockets for VIP:80 <-> client:port there; with early
# demux on, a later packet of a reused client port finds such a socket
# before routing, and the kernel then refuses to forward it (ip_forward()
# drops any packet that carries a socket): the ilbd phase after a HAProxy
# phase lost SYNs to it.  Off while ilbd runs, on again for HAProxy.
early_demux() {
	for _j in $(seq 1 "$N_ILB"); do
		sysctl_set "$(ns_ilb "$_j")" net.ipv4.ip_early_demux="$1"
	done
}

haproxy_start() {
	early_demux 1
	haproxy_conf
	"$HAPROXY" -c -q -f "$NETNS_DIR/haproxy.cfg" || return 1
	HAPROXY_PIDS=
	for _j in $(seq 1 "$N_ILB"); do
		_ns=$(ns_ilb "$_j")
		ip -n "$_ns" addr add "$VIP/32" dev lo || return 1
		bg "$_ns" "$NETNS_DIR/haproxy$_j.log" "$HAPROXY" -db \
		    -f "$NETNS_DIR/haproxy.cfg"
		HAPROXY_PIDS="$HAPROXY_PIDS $BG_PID"
	done
	for _j in $(seq 1 "$N_ILB"); do
		_n=0
		until nsx "$(ns_ilb "$_j")" curl -s -o /dev/null --max-time 1 \
		    "http://$VIP:$VIP_PORT/"; do
			_n=$((_n + 1))
			[ "$_n" -lt 50 ] || { note "haproxy on ilb$_j does not answer"; return 1; }
			sleep 0.1
		done
	done
}

haproxy_stop() {
	for _p in $HAPROXY_PIDS; do pid_stop "$_p"; done
	for _j in $(seq 1 "$N_ILB"); do
		ip -n "$(ns_ilb "$_j")" addr del "$VIP/32" dev lo 2>/dev/null
	done
	return 0
}

# ---------------------------------------------------------------- HTTP

cat > "$NETNS_DIR/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.bytes, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout))
end
EOF

# client_pkts: packets the router has received from the client (eth1).
client_pkts() {
	ip -n "$NS_ROUTER" -s link show eth1 | awk '/RX:/ { getline; print $2; exit }'
}

# wrk_run NAME CONNS URL [ARGS...]: wrk in the client for DUR s; sets
# W_REQ W_BYTES W_SECS W_ERR (connect+read+write+status+timeout), W_BUSY
# (machine CPU ticks), W_FWD (the forwarder processes' CPU ticks) and W_PKTS
# (the client's packets).
wrk_run() {
	_name=$1; _c=$2; _url=$3; shift 3
	_t=$WRK_T; [ "$_c" -ge "$_t" ] || _t=$_c
	_pk0=$(client_pkts) _fw0=$(fwd_ticks)
	_busy0=$(cpu_busy)
	timeout -k 2 $((DUR + 15)) ip netns exec "$NS_CLIENT" "$WRK" \
	    -t "$_t" -c "$_c" -d "${DUR}s" --timeout 2s \
	    -s "$NETNS_DIR/report.lua" "$@" "$_url" \
	    > "$NETNS_DIR/wrk.$_name.out" 2>&1
	W_BUSY=$(($(cpu_busy) - _busy0))
	W_PKTS=$(($(client_pkts) - _pk0)) W_FWD=$(($(fwd_ticks) - _fw0))
	set -- $(sed -n 's/^WRK //p' "$NETNS_DIR/wrk.$_name.out")
	if [ $# -ne 8 ]; then
		note "$_name: wrk gave no result:"
		tail -n 5 "$NETNS_DIR/wrk.$_name.out" | sed 's/^/#   /'
		W_REQ=0; W_BYTES=0; W_SECS=1; W_ERR=-1
		return 1
	fi
	# wrk counts the server's close after each "Connection: close"
	# answer as a read error: read errors are kept apart (W_RERR)
	W_REQ=$1; W_BYTES=$2; W_SECS=$(calc "$3 / 1e6")
	W_ERR=$(($4 + $6 + $7 + $8)); W_RERR=$5
}

# http_probe: one request on each port through the VIP works.
http_probe() {
	ip netns exec "$NS_CLIENT" curl -s -o /dev/null --max-time 2 \
	    "http://$VIP:$VIP_PORT/" &&
	ip netns exec "$NS_CLIENT" curl -s -o /dev/null --max-time 5 \
	    "http://$VIP:$DL_PORT/big"
}

# measure_http NAME: the three HTTP figures into R_<NAME>_{CPS,RPS,MBS}.
measure_http() {
	if ! http_probe; then
		note "$1: the VIP does not answer; no figures"
		eval "R_$1_ERR=\"\${R_$1_ERR:-} probe-failed\""
		return 1
	fi
	_errs=
	wrk_run "$1.cps" "$WRK_C" "http://$VIP:$VIP_PORT/" -H "Connection: close"
	_cps=$(calc "$W_REQ / $W_SECS"); _errs="$_errs cps:$W_ERR"
	# machine CPU per connection, us (USER_HZ ticks of 1/$HZ s)
	_ccpu=$(calc "($W_REQ > 0 ? $W_BUSY * 1e6 / $HZ / $W_REQ : 0)")
	note "$1: new connections: $W_REQ requests in $W_SECS s = $_cps /s (errors $W_ERR; read/close $W_RERR)"
	wrk_run "$1.rps" "$WRK_C" "http://$VIP:$VIP_PORT/"
	_rps=$(calc "$W_REQ / $W_SECS"); _errs="$_errs ka:$((W_ERR + W_RERR))"
	note "$1: keep-alive: $W_REQ requests in $W_SECS s = $_rps /s (errors $W_ERR; read $W_RERR)"
	wrk_run "$1.dl" "$DL_C" "http://$VIP:$DL_PORT/big"
	_mbs=$(calc "$W_BYTES / 1e6 / $W_SECS"); _errs="$_errs dl:$W_ERR"
	_mcpu=$(calc "($W_BYTES > 0 ? $W_BUSY * 1e12 / $HZ / $W_BYTES : 0)")
	# the client's packets (ACKs, the requests) per MB downloaded
	_mpk=$(calc "($W_BYTES > 0 ? $W_PKTS * 1e6 / $W_BYTES : 0)")
	_icpu=$(calc "($W_BYTES > 0 ? $W_FWD * 1e12 / $HZ / $W_BYTES : 0)")
	eval "C_$1=\"\${C_$1:-}\${C_$1:+; }$(printf '%.0f %.0f %.1f %.0f' "$_ccpu" "$_mcpu" "$_mpk" "$_icpu")\""
	note "$1: download: $W_BYTES bytes ($W_REQ files of $BIG_MB MiB) in $W_SECS s = $_mbs MB/s (errors $W_ERR; read/close $W_RERR)"
	# the per-round list ("cps rps MB/s; ...")
	eval "L_$1=\"\${L_$1:-}\${L_$1:+; }$(printf '%.0f %.0f %.1f' "$_cps" "$_rps" "$_mbs")\""
	eval "R_$1_ERR=\"\${R_$1_ERR:-}$_errs\""
}

# cluster_per_conn: from the last stats snapshot of the 3 ILBs, the
# cluster's work per new connection (handoffs, multicast datagrams,
# reliable-channel messages), summed over the ILBs; the round's
# keep-alive and download connections are a few hundred of its thousands.
cluster_per_conn() {
	_nc=$(stat_sum new_conn)
	is_num "$_nc" && [ "$_nc" -gt 0 ] || return 0
	note "ilbd: per new connection: $(awk -v n="$_nc" \
	    -v h="$(stat_sum handoff_out)" -v m="$(stat_sum repl_mc_sent)" \
	    -v t="$(stat_sum repl_tcp_sent)" 'BEGIN {
		printf "%.2f handoffs, %.2f multicast datagrams, %.2f channel messages", h / n, m / n, t / n }')"
}

# ---------------------------------------------------------------- forwarding

# count_on: in every server, a netdev ingress rule counts and drops
# blast's packets (client address, source ports of blast, to VIP:80).
count_on() {
	for _i in $(seq 1 "$N_SRV"); do
		cat <<EOF | ip netns exec "$(ns_srv "$_i")" nft -f - || return 1
table netdev $BENCH_TABLE
delete table netdev $BENCH_TABLE
table netdev $BENCH_TABLE {
  chain in {
    type filter hook ingress device "eth0" priority -500; policy accept;
    ip saddr $CLIENT_ADDR ip daddr $VIP tcp dport $VIP_PORT tcp sport $FWD_SPORT0-$((FWD_SPORT0 + FWD_FLOWS - 1)) counter drop
  }
}
EOF
	done
}

# delivered: packets the count_on rules saw, all servers.
delivered() {
	for _i in $(seq 1 "$N_SRV"); do
		ip netns exec "$(ns_srv "$_i")" nft list table netdev "$BENCH_TABLE"
	done | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' |
	    awk '{ s += $1 } END { print s + 0 }'
}

# pin PID CPU: every thread of PID on CPU (only with 2 CPUs or more).
pin() {
	[ "$NCPU" -ge 2 ] || return 0
	taskset -apc "$2" "$1" > /dev/null 2>&1 || note "cannot pin $1 to CPU $2"
}

# cpu_limit NAME PID: with FWD_CPU set, every thread of PID into a cgroup
# of its own (NAME) limited to FWD_CPU % of one CPU: cgroup v2 if it has
# the cpu controller, else v1's cpu hierarchy.  cpu_unlimit NAME removes
# it once PID is gone.
CG_V2=/sys/fs/cgroup
CG_V1=/sys/fs/cgroup/cpu
cpu_limit() {
	[ -n "$FWD_CPU" ] || return 0
	_q=$((FWD_CPU * 100))
	if [ -n "$FWD_CPU_EACH" ]; then
		# a cgroup (v1) per thread: each as if on a core of its own
		[ -w "$CG_V1/cpu.cfs_quota_us" ] ||
		    { note "FWD_CPU_EACH: needs the cgroup v1 cpu hierarchy"; return 1; }
		_nt=0
		for _t in /proc/"$2"/task/*; do
			_nt=$((_nt + 1))
			_cg=$CG_V1/ilbbench.$$.$1.${_t##*/}
			mkdir -p "$_cg" && echo 10000 > "$_cg/cpu.cfs_period_us" &&
			    echo "$_q" > "$_cg/cpu.cfs_quota_us" &&
			    echo "${_t##*/}" > "$_cg/tasks" || return 1
		done
		note "$1: each of its $_nt threads limited to $FWD_CPU % of a CPU"
		return 0
	fi
	if grep -qw cpu "$CG_V2/cgroup.controllers" 2>/dev/null; then
		_cg=$CG_V2/ilbbench.$$.$1
		echo +cpu > "$CG_V2/cgroup.subtree_control" 2>/dev/null
		mkdir -p "$_cg" && echo "$_q 10000" > "$_cg/cpu.max" &&
		    echo "$2" > "$_cg/cgroup.procs" || return 1
	elif [ -w "$CG_V1/cpu.cfs_quota_us" ]; then
		_cg=$CG_V1/ilbbench.$$.$1
		mkdir -p "$_cg" && echo 10000 > "$_cg/cpu.cfs_period_us" &&
		    echo "$_q" > "$_cg/cpu.cfs_quota_us" || return 1
		for _t in /proc/"$2"/task/*; do
			echo "${_t##*/}" > "$_cg/tasks" || return 1
		done
	else
		note "FWD_CPU: no cgroup cpu controller here"; return 1
	fi
	note "$1: limited to $FWD_CPU % of a CPU ($_cg)"
}
cpu_unlimit() {
	[ -n "$FWD_CPU" ] || return 0
	for _cg in "$CG_V2/ilbbench.$$.$1" "$CG_V1/ilbbench.$$.$1" \
	    "$CG_V1/ilbbench.$$.$1".*; do
		[ -d "$_cg" ] || continue
		_n=0
		until rmdir "$_cg" 2>/dev/null; do
			_n=$((_n + 1)); [ "$_n" -lt 50 ] || break
			sleep 0.1
		done
	done
}

# run_ns PID: CPU time (ns) of every thread of PID so far (schedstat).
run_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'
}
# run_ns_main PID: the same for its first thread alone (ilbd's event loop:
# with input workers, the decision and the queueing of the output).
run_ns_main() { awk '{ printf "%.0f", $1 }' "/proc/$1/task/$1/schedstat" 2>/dev/null || echo 0; }

# tun_drops: TUN queue drops on node $FWD_NODE (the kernel could not
# queue a packet for the forwarder: it was not reading fast enough).
tun_drops() {
	ip netns exec "$(ns_ilb "$FWD_NODE")" \
	    cat /sys/class/net/ilb0/statistics/tx_dropped 2>/dev/null || echo 0
}

# blast_step RATE SECONDS: offer RATE pps (0: all blast can) to the VIP
# from the rogue namespace (frames to node $FWD_NODE's MAC, blast on
# CPU 0); sets
# B_OFFERED (pps blast sent), B_DELIV (pps delivered), B_DROPS (TUN queue
# drops during the step), B_CPU (forwarder $FWD_PID's CPU share, %) and
# B_NS (its CPU ns per delivered packet).
blast_step() {
	_d0=$(delivered); _t0=$(tun_drops); _c0=$(run_ns "$FWD_PID")
	_m0=$(run_ns_main "$FWD_PID")
	_pin=; [ "$NCPU" -lt 2 ] || _pin="taskset -c 0"
	# shellcheck disable=SC2086 # _pin is a command prefix or nothing
	timeout -k 2 $(($2 + 10)) ip netns exec "$NS_ROGUE" $_pin "$BLAST" \
	    -r "$1" -d "$2" -f "$FWD_FLOWS" -P "$FWD_SPORT0" \
	    -i "$BLAST_IF" -m "$BLAST_MAC" \
	    "$CLIENT_ADDR" "$VIP" "$VIP_PORT" > "$NETNS_DIR/blast.out" 2>&1
	_c1=$(run_ns "$FWD_PID"); _m1=$(run_ns_main "$FWD_PID")
	sleep 0.3	# let the queues drain into the counters
	_d1=$(delivered); _t1=$(tun_drops)
	# blast: sent N in T s = R pps (offered O pps), errors E
	set -- $(sed -n 's/^blast: sent \([0-9]*\) in \([0-9.]*\) s.*/\1 \2/p' \
	    "$NETNS_DIR/blast.out")
	if [ $# -ne 2 ]; then
		note "blast failed: $(cat "$NETNS_DIR/blast.out")"
		B_OFFERED=0; B_DELIV=0; B_DROPS="?"
		return 1
	fi
	B_OFFERED=$(calc "int($1 / $2)")
	B_DELIV=$(calc "int(($_d1 - $_d0) / $2)")
	B_DROPS=$(calc "$_t1 - $_t0" 2>/dev/null)
	B_CPU=$(calc "int(($_c1 - $_c0) / 1e7 / $2)")
	B_NS=$(awk -v c="$((_c1 - _c0))" -v d="$((_d1 - _d0))" \
	    'BEGIN { if (d > 0) printf "%.0f", c / d; else print 0 }')
	B_NS_MAIN=$(awk -v c="$((_m1 - _m0))" -v d="$((_d1 - _d0))" \
	    'BEGIN { if (d > 0) printf "%.0f", c / d; else print 0 }')
}

# fwd_use NAME: aim blast_step at forwarder NAME (ilbd on node 1, bare
# on node 2): FWD_NODE, FWD_PID, BLAST_MAC.
fwd_use() {
	if [ "$1" = ilbd ]; then FWD_NODE=1; FWD_PID=$ILBD_FWD_PID
	else FWD_NODE=2; FWD_PID=$BARE_PID; fi
	BLAST_MAC=$(ip -n "$(ns_ilb "$FWD_NODE")" link show eth0 |
	    awk '/link\/ether/ { print $2 }')
}

# fwd_step NAME K RATE SECONDS: one blast_step at forwarder NAME, noted
# and recorded as step K (FWD_{NS,DELIV,SENT,UNSAT}_NAME_K).
fwd_step() {
	fwd_use "$1"
	blast_step "$3" "$4" || return 1
	_mn=
	[ "$1" != ilbd ] || [ "${ILB_WORKERS:-1}" = 1 ] ||
	    _mn=" (event loop $B_NS_MAIN)"
	note "$1: offered $(if [ "$3" = 0 ]; then echo "max"; else echo "$3"; fi) -> sent $B_OFFERED pps, delivered $B_DELIV pps (tun queue drops $B_DROPS); $1 CPU $B_CPU %, $B_NS ns/packet$_mn"
	_unsat=0
	[ "$(calc "($B_DELIV >= 0.95 * $B_OFFERED) ? 1 : 0")" = 0 ] || _unsat=1
	eval "FWD_NS_$1_$2=\$B_NS FWD_UNSAT_$1_$2=\$_unsat FWD_DELIV_$1_$2=\$B_DELIV FWD_SENT_$1_$2=\$B_OFFERED"
	eval "_pk=\${FWD_PEAK_$1:-0}"
	if [ "$B_DELIV" -gt "$_pk" ]; then
		eval "FWD_PEAK_$1=\$B_DELIV FWD_PEAKOFF_$1=\$B_OFFERED"
	fi
	if [ "$(calc "($B_DELIV < 0.9 * $B_OFFERED) ? 1 : 0")" = 1 ]; then
		eval "FWD_SAT_$1=\$((\${FWD_SAT_$1:-0} + 1))"
	fi
}

# fwd_compare: both forwarders, interleaved step by step so that the
# machine's load hits both alike: each rate of FWD_RATES for FWD_STEP s at
# ilbd, then at fwd_bare, until both have fallen below 90 % of the offered
# rate twice (or the list ends); the peak of each is its best delivered
# rate; then 2 x its own peak for FWD_OVER s, again interleaved.
fwd_compare() {
	# every flow's SYN first, slowly: a SYN lost in the TUN queue would
	# leave its flow's ACKs orphaned at ilbd (counted, dropped) but not
	# at fwd_bare
	for _f in ilbd bare; do
		fwd_use "$_f"; blast_step 2000 1
		note "$_f: warm-up: $B_DELIV pps delivered of $B_OFFERED"
	done
	_k=0
	for _r in $FWD_RATES; do
		_k=$((_k + 1))
		eval "FWD_RATE_$_k=\$_r"
		fwd_step ilbd "$_k" "$_r" "$FWD_STEP" || return 1
		fwd_step bare "$_k" "$_r" "$FWD_STEP" || return 1
		[ "${FWD_SAT_ilbd:-0}" -lt 2 ] || [ "${FWD_SAT_bare:-0}" -lt 2 ] || break
	done
	for _f in ilbd bare; do
		eval "_over=\$((2 * \${FWD_PEAK_$_f:-0}))"
		fwd_use "$_f"
		blast_step "$_over" "$FWD_OVER" || return 1
		note "$_f: overload: asked $_over pps -> sent $B_OFFERED pps, delivered $B_DELIV pps (tun queue drops $B_DROPS); $_f CPU $B_CPU %"
		eval "FWD_OVOFF_$_f=\$B_OFFERED FWD_OVDEL_$_f=\$B_DELIV"
	done
}

# ---------------------------------------------------------------- run

note "bench/e2e.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) on $NCPU CPUs, $(uname -r); state in $NETNS_DIR"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
note "wrk -t $WRK_T -c $WRK_C -d ${DUR}s (download: -c $DL_C, $BIG_MB MiB file); $ROUNDS round(s); phases: $PHASES"
topo_up || { not_ok "topology up"; exit 1; }
bench_client
bench_servers || { not_ok "servers answer"; exit 1; }
split_cpus || { not_ok "SPLIT_CPUS"; exit 1; }

# the HTTP phases, interleaved: ROUNDS x (direct, ilbd, ilbd1, haproxy)
_round=1
while [ "$_round" -le "$ROUNDS" ]; do
	note "--- round $_round of $ROUNDS"
	if has_phase direct; then
		route_direct
		measure_http direct
	fi
	if has_phase ilbd; then
		_okilb=1
		early_demux 0
		for _j in $(seq 1 "$N_ILB"); do
			{ bench_ilb_conf "$_j" && start_ilb "$_j"; } || { _okilb=0; break; }
		done
		if [ "$_okilb" = 1 ] && wait_members 10; then
			route_ilbs
			measure_http ilbd
			stats_snapshot
			STATS_KEYS="rx forward_owner forward_cache handoff_out handoff_in no_mac orphan misrouted new_conn repl_mc_sent repl_tcp_sent" stats_print
			cluster_per_conn
		else
			not_ok "ilbd: 3 ILBs up"
		fi
		for _j in $(seq 1 "$N_ILB"); do kill_ilb "$_j"; done
	fi
	if has_phase ilbd1; then
		# the same, one ILB: no handoff, no replication; what is left
		# is the cost of the forwarding path itself
		_n_ilb=$N_ILB
		N_ILB=1
		early_demux 0
		if bench_ilb_conf 1 && start_ilb 1 && wait_members 10; then
			route_ilbs 1
			measure_http ilbd1
		else
			not_ok "ilbd1: 1 ILB up"
		fi
		kill_ilb 1
		N_ILB=$_n_ilb
	fi
	if has_phase bare1; then
		# that node's hop without ilbd's logic: fwd_bare to the
		# servers (its TUN device takes the name ilbd's had)
		early_demux 0
		sysctl_set "$(ns_ilb 1)" net.ipv4.ip_forward=1
		# shellcheck disable=SC2046,SC2086 # one argument per server
		bg "$(ns_ilb 1)" "$NETNS_DIR/bare1.$_round.log" "$FWD_BARE" \
		    -d ilb0 -i eth0 $BARE_IN "$VIP" \
		    $(for _i in $(seq 1 "$N_SRV"); do srv_addr "$_i"; done)
		BARE1_PID=$BG_PID
		if wait_for "$NETNS_DIR/bare1.$_round.log" started 5; then
			sleep 0.5	# the servers' MACs
			route_ilbs 1
			measure_http bare1
			kill -USR1 "$BARE1_PID"; sleep 0.2
			note "bare1: $(grep 'stats:' "$NETNS_DIR/bare1.$_round.log" | tail -n 1)"
		else
			not_ok "bare1: fwd_bare starts"
			cat "$NETNS_DIR/bare1.$_round.log"
		fi
		pid_stop "$BARE1_PID"
		BARE1_PID=
	fi
	if has_phase haproxy; then
		route_ilbs
		if haproxy_start; then
			measure_http haproxy
		else
			not_ok "haproxy: 3 nodes up"
		fi
		haproxy_stop
	fi
	_round=$((_round + 1))
done

if has_phase fwd; then
	# blast sends from the LAN (rogue namespace) straight to the node's
	# MAC (no router: the sender must cost less per packet than what it
	# measures); ilbd alone on node 1 (a cluster of one: it owns every
	# connection), fwd_bare on node 2 (to srv1 only); blast pinned to
	# CPU 0, both forwarders to CPU 1 when there are 2 CPUs
	rogue_up || { not_ok "rogue namespace (the sender)"; exit 1; }
	BLAST_IF=eth0
	route_ilbs 1
	count_on || { not_ok "nft counters in the servers"; exit 1; }
	_n_ilb=$N_ILB
	N_ILB=1
	_okf=1
	if bench_ilb_conf 1 && start_ilb 1 && wait_members 10; then
		ILBD_FWD_PID=$(ilb_pid 1)
		pin "$ILBD_FWD_PID" 1
		cpu_limit ilbd "$ILBD_FWD_PID" || _okf=0
	else
		not_ok "ilbd alone starts"; _okf=0
	fi
	sysctl_set "$(ns_ilb 2)" net.ipv4.ip_forward=1
	# shellcheck disable=SC2086 # BARE_IN: none or two arguments
	bg "$(ns_ilb 2)" "$NETNS_DIR/fwd_bare.log" "$FWD_BARE" -d ilb0 -i eth0 \
	    $BARE_IN "$VIP" "$(srv_addr 1)"
	BARE_PID=$BG_PID
	if wait_for "$NETNS_DIR/fwd_bare.log" started 5; then
		pin "$BARE_PID" 1
		cpu_limit bare "$BARE_PID" || _okf=0
		sleep 0.5	# the server's MAC
	else
		not_ok "fwd_bare starts"; cat "$NETNS_DIR/fwd_bare.log"; _okf=0
	fi
	if [ "$_okf" = 1 ]; then
		fwd_compare
		stats_snapshot
		STATS_KEYS="rx forward_owner no_mac fwd_errors orphan" stats_print
		kill -USR1 "$BARE_PID"; sleep 0.2
		note "fwd_bare: $(grep 'stats:' "$NETNS_DIR/fwd_bare.log" | tail -n 1)"
	fi
	kill_ilb 1
	pid_stop "$BARE_PID"
	cpu_unlimit ilbd
	cpu_unlimit bare
	N_ILB=$_n_ilb
fi

# ---------------------------------------------------------------- report

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
# median LIST FIELD: the median of field FIELD over the rounds in LIST
# ("c r m; c r m; ...": 1 cps, 2 rps, 3 MB/s; or the CPU list "c m; ...").
median() {
	echo "$1" | tr ';' '\n' | awk -v f="$2" 'NF >= f { print $f }' | sort -g |
	    awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# paired BASE LIST: the median over rounds of LIST's figure / BASE's figure
# in the same round, for each of the three figures ("cps 0.86x, ka 1.00x,
# dl 0.93x"); empty unless both lists have the same number of rounds.  The
# phases of one round run within a minute, so a ratio taken within a round
# is less exposed to the load of a shared machine drifting between rounds
# than the ratio of the medians.
paired() {
	awk -v b="$1" -v l="$2" 'BEGIN {
		nb = split(b, B, ";"); nl = split(l, L, ";")
		if (nb != nl || nb == 0) exit
		split("cps ka dl", name, " ")
		for (f = 1; f <= 3; f++) {
			n = 0
			for (i = 1; i <= nb; i++) {
				split(B[i], x, " "); split(L[i], y, " ")
				if (x[f] > 0) r[++n] = y[f] / x[f]
			}
			for (i = 2; i <= n; i++) {	# insertion sort
				t = r[i]
				for (j = i - 1; j >= 1 && r[j] > t; j--) r[j + 1] = r[j]
				r[j + 1] = t
			}
			m = n == 0 ? 0 : (n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2)
			printf "%s %.2fx%s", name[f], m, f < 3 ? ", " : "\n"
		}
	}'
}

echo
echo "== bench/e2e.sh, $(date -u +%Y-%m-%d), $NCPU CPUs, $(uname -r)"
echo "   load average at the start $LOAD0, at the end $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: compare figures of one run only)"
if has_phase direct || has_phase ilbd || has_phase ilbd1 || has_phase bare1 ||
    has_phase haproxy; then
	echo "   HTTP: median of $ROUNDS interleaved round(s), each figure ${DUR} s of wrk -t $WRK_T -c $WRK_C (download -c $DL_C)"
	printf '%-22s %16s %20s %20s\n' "" "new conn/s" "keep-alive req/s" "download MB/s"
fi
for _p in direct ilbd ilbd1 bare1 haproxy; do
	has_phase "$_p" || continue
	eval "_e=\${R_${_p}_ERR:-} _rl=\${L_${_p}:-}"
	_c=$(median "$_rl" 1); _r=$(median "$_rl" 2); _m=$(median "$_rl" 3)
	case $_p in
	direct) _l="no LB (router ECMP)"; D_C=$_c; D_R=$_r; D_M=$_m;;
	ilbd) _l="ilbd, 3 ILBs $ILB_MODE+dsr";;
	ilbd1) _l="ilbd, 1 ILB $ILB_MODE+dsr";;
	bare1) _l="fwd_bare, 1 node";;
	haproxy) _l="haproxy tcp, 3 nodes";;
	esac
	if [ "$_p" = direct ] || ! has_phase direct; then
		printf '%-22s %16.0f %20.0f %20.1f\n' "$_l" "$_c" "$_r" "$_m"
	else
		printf '%-22s %9.0f %6s %13.0f %6s %13.1f %6s\n' "$_l" \
		    "$_c" "$(ratio "$_c" "$D_C")" "$_r" "$(ratio "$_r" "$D_R")" \
		    "$_m" "$(ratio "$_m" "$D_M")"
	fi
	echo "    rounds: $_rl; wrk errors:$_e"
	if [ "$_p" != direct ] && has_phase direct; then
		_pr=$(paired "$L_direct" "$_rl")
		[ -z "$_pr" ] ||
		    echo "    paired with direct round by round (median of the ratios): $_pr"
	fi
	eval "_cl=\${C_${_p}:-}"
	printf '    machine CPU: %.0f us per new connection, %.0f us per MB downloaded (of which the forwarder processes %.0f us); the client sends %.1f packets per MB (medians; rounds: %s)\n' \
	    "$(median "$_cl" 1)" "$(median "$_cl" 2)" "$(median "$_cl" 4)" "$(median "$_cl" 3)" "$_cl"
done
if has_phase fwd; then
	echo "forwarding, 1 node, $FWD_FLOWS flows of 40-byte TCP to the VIP (blast on the LAN), delivered to the servers${FWD_CPU:+, each forwarder${FWD_CPU_EACH:+ thread} limited to $FWD_CPU % of a CPU}; ilbd input.workers ${ILB_WORKERS:-1}:"
	# CPU per packet: at the highest offered rate that neither forwarder
	# dropped (delivered >= 95 % of sent; the sender's own backlog loses some), the same for both
	_kc=0; _k=1
	for _r in $FWD_RATES; do
		eval "_u1=\${FWD_UNSAT_ilbd_$_k:-0} _u2=\${FWD_UNSAT_bare_$_k:-0}"
		[ "$_u1$_u2" != 11 ] || [ "$_r" = 0 ] || _kc=$_k
		_k=$((_k + 1))
	done
	_rcnote=
	if [ "$_kc" = 0 ]; then _kc=1; _rcnote=" (both dropped some already)"; fi
	eval "FWD_NS_ilbd=\${FWD_NS_ilbd_$_kc:-0} FWD_NS_bare=\${FWD_NS_bare_$_kc:-0} _rc=\${FWD_RATE_$_kc:-0}"
	for _f in ilbd bare; do
		eval "_pk=\${FWD_PEAK_$_f:-0} _po=\${FWD_PEAKOFF_$_f:-0} _oo=\${FWD_OVOFF_$_f:-0} _od=\${FWD_OVDEL_$_f:-0} _s=\${FWD_SAT_$_f:-0} _ns=\${FWD_NS_$_f:-0}"
		printf '  %-9s peak %7d pps (offered %d%s); CPU %s ns/packet at %s pps%s\n' \
		    "$(if [ "$_f" = bare ]; then echo fwd_bare; else echo ilbd; fi)" \
		    "$_pk" "$_po" "$(if [ "$_s" = 0 ]; then echo ", never saturated: a floor"; fi)" "$_ns" "$_rc" "$_rcnote"
		printf '            2x overload: offered %d pps (%s of peak) -> delivered %d pps = %s of peak\n' \
		    "$_oo" "$(ratio "$_oo" "$_pk")" "$_od" "$(ratio "$_od" "$_pk")"
	done
	# fwd_bare reads a TUN device or AF_XDP: against another input mode
	# the difference is the input's, not the logic's
	if [ "$ILB_MODE" != "$BARE_MODE" ]; then
		echo "  no logic cost: ilbd's input is $ILB_MODE, fwd_bare's is $BARE_MODE"
	elif [ "${FWD_PEAK_bare:-0}" -gt 0 ]; then
		echo "  logic cost by peak rate: 1 - ilbd/fwd_bare = $(awk -v a="${FWD_PEAK_ilbd:-0}" -v b="$FWD_PEAK_bare" 'BEGIN { printf "%.1f %%", 100 * (1 - a / b) }')"
	fi
	if [ "$ILB_MODE" = "$BARE_MODE" ] && [ "${FWD_NS_bare:-0}" -gt 0 ]; then
		echo "  logic cost by CPU per packet: ilbd/fwd_bare - 1 = $(awk -v a="${FWD_NS_ilbd:-0}" -v b="$FWD_NS_bare" 'BEGIN { printf "%+.1f %%", 100 * (a / b - 1) }')"
	fi
fi
finish

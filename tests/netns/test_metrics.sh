#!/bin/sh
# test_metrics.sh: three ILBs (tun, dsr) serve Prometheus text at /metrics on
# their own address; it parses strictly and the counters follow the traffic.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

N=${N:-200}
PROMCHECK=$NETNS_SRC/promcheck.py

# prom_python: a python3 with prometheus_client (Debian's, if $PYTHON lacks it).
prom_python() {
	for _p in "$PYTHON" /usr/bin/python3; do
		if "$_p" -c 'import prometheus_client' > /dev/null 2>&1; then
			PROMPY=$_p
			return 0
		fi
	done
	need "python3-prometheus-client (prometheus_client for $PYTHON)"
}

# metrics_conf I: ILB I's config (tun, dsr) with /metrics on its address.
metrics_conf() { ilb_conf "$1" tun dsr && ilb_conf_metrics "$1"; }

metrics_url() { echo "http://$(ilb_addr "$1"):9650${2:-/metrics}"; }

# metrics_fetch I TAG: ILB I's /metrics, fetched inside its namespace,
# into $NETNS_DIR/metrics.I.TAG; checks the status and content type.
metrics_fetch() {
	_f=$NETNS_DIR/metrics.$1.$2
	nsx "$(ns_ilb "$1")" curl -s --max-time 20 -D "$_f.hdr" -o "$_f" \
	    "$(metrics_url "$1")" || return 1
	head -n 1 "$_f.hdr" | grep -q '^HTTP/1\.[01] 200 ' &&
	    grep -qi '^content-type: text/plain; version=0\.0\.4; charset=utf-8' \
	    "$_f.hdr"
}

# promcheck ARGS...: promcheck.py quietly (it prints what fails).
promcheck() { "$PROMPY" "$PROMCHECK" -q "$@"; }

# metric_value I TAG SEL: SEL's sum in ILB I's saved text ("missing").
metric_value() { promcheck --value "$3" "$NETNS_DIR/metrics.$1.$2"; }

# http_code I PATH [CURL ARGS...]: the status ILB I answers for PATH.
http_code() {
	_i=$1 _path=$2; shift 2
	nsx "$(ns_ilb "$_i")" curl -s --max-time 20 -o /dev/null \
	    -w '%{http_code}' "$@" "$(metrics_url "$_i" "$_path")"
}

# check_rose DESC BEFORE AFTER: both numbers, AFTER > BEFORE.
check_rose() {
	if is_num "$2" && is_num "$3" && [ "$3" -gt "$2" ]; then
		ok "$1 ($2 -> $3)"
	else
		not_ok "$1 (${2:-missing} -> ${3:-missing})"
	fi
}

require_ilbd
prom_python
netns_setup
check "topology up" topo_up
check "servers answer" start_servers
for _j in $(seq 1 "$N_ILB"); do
	check "ilb$_j configured with metrics on $(ilb_addr "$_j"):9650" \
	    metrics_conf "$_j"
	check "ilb$_j starts" start_ilb "$_j"
done
check "each ILB log shows the two others joined" wait_members 60

for _j in $(seq 1 "$N_ILB"); do
	check "ilb$_j: GET /metrics answers 200, text/plain; version=0.0.4" \
	    metrics_fetch "$_j" before
	check "ilb$_j: the text parses; one HELP and TYPE per family, never split" \
	    promcheck "$NETNS_DIR/metrics.$_j.before" 'ilbd_up==1'
done
check "promcheck.py fetches and parses the URL inside the namespace" \
    nsx "$(ns_ilb 1)" "$PROMPY" "$PROMCHECK" -q "$(metrics_url 1)" \
    'ilbd_start_time_seconds>0'
check "GET /other answers 404" [ "$(http_code 1 /other)" = 404 ]
check "POST /metrics answers 405" \
    [ "$(http_code 1 /metrics -X POST -d x)" = 405 ]
check "HEAD /metrics answers 200" [ "$(http_code 1 /metrics -I)" = 200 ]

check_requests "$N"
sleep 0.5       # let NEW/END and handoffs settle before counting

_fo_before=0 _fo_after=0
for _j in $(seq 1 "$N_ILB"); do
	check "ilb$_j: /metrics after the requests" metrics_fetch "$_j" after
	check "ilb$_j: the text still parses" \
	    promcheck "$NETNS_DIR/metrics.$_j.after"
	check_rose "ilb$_j: ilbd_lb_rx_total rose" \
	    "$(metric_value "$_j" before ilbd_lb_rx_total)" \
	    "$(metric_value "$_j" after ilbd_lb_rx_total)"
	_b=$(metric_value "$_j" before ilbd_lb_forward_owner_total)
	_a=$(metric_value "$_j" after ilbd_lb_forward_owner_total)
	is_num "$_b" && _fo_before=$((_fo_before + _b))
	is_num "$_a" && _fo_after=$((_fo_after + _a))
	check "ilb$_j: ilbd_server_active_connections has service and server labels" \
	    promcheck --labels ilbd_server_active_connections=service,server \
	    "$NETNS_DIR/metrics.$_j.after"
	check "ilb$_j: every server up (3 samples of ilbd_server_up, sum 3)" \
	    promcheck "$NETNS_DIR/metrics.$_j.after" \
	    "ilbd_server_up{service=\"web\"}==$N_SRV"
done
check_rose "sum of ilbd_lb_forward_owner_total rose" "$_fo_before" "$_fo_after"
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

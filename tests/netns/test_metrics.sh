#!/bin/sh
# test_metrics.sh: three ILBs (tun, dsr) serve Prometheus text at /metrics on
# their own address; it parses strictly, passes promtool check metrics (the
# naming conventions), has reasons as labels, process_*, members' age,
# table capacity, the last reload, and the counters follow the traffic,
# per server and per service too.
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

# promtool_ok FILE: promtool check metrics finds no problem in FILE (it
# lints the conventions: _total on counters, units, HELP).
promtool_ok() {
	promtool check metrics < "$1" > "$1.lint" 2>&1
	_rc=$?
	[ -s "$1.lint" ] && sed 's/^/#   promtool: /' "$1.lint"
	[ "$_rc" -eq 0 ] && ! [ -s "$1.lint" ]
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
command -v promtool > /dev/null 2>&1 || need "promtool (Debian package prometheus)"
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
	check "ilb$_j: promtool check metrics: no problem" \
	    promtool_ok "$NETNS_DIR/metrics.$_j.before"
done
m1=$NETNS_DIR/metrics.1.before
check "process_*: start time, CPU, resident memory, open fds" \
    promcheck "$m1" 'process_start_time_seconds>1000000000' \
    'process_cpu_seconds_total>0' 'process_resident_memory_bytes>1000000' \
    'process_open_fds>3' 'process_max_fds>0'
check "drops by reason: ilbd_packets_dropped_total{reason=...} (no_service, orphan)" \
    promcheck --labels ilbd_packets_dropped_total=reason "$m1" \
    'ilbd_packets_dropped_total{reason="no_service"}>=0' \
    'ilbd_packets_dropped_total{reason="orphan"}>=0'
check "the old names are gone (ilbd_lb_rx_total, ilbd_lb_drop_total, ilbd_start_time_seconds)" \
    sh -c "! grep -Eq '^(ilbd_lb_rx_total|ilbd_lb_drop_total|ilbd_lb_no_service_total|ilbd_start_time_seconds) ' '$m1'"
check "table capacity and use: ltoc and cache" \
    promcheck "$m1" 'ilbd_table_capacity_entries{table="ltoc"}>0' \
    'ilbd_table_capacity_entries{table="cache"}>=0' \
    'ilbd_table_entries{table="ltoc"}>=0'
check "members' age: 3 members, self 0 s, the others heard within 5 s" \
    promcheck --labels ilbd_member_last_heard_seconds=member "$m1" \
    'ilbd_member_active==3' "ilbd_member_last_heard_seconds{member=\"$(ilb_id 1)\"}==0" \
    'ilbd_member_last_heard_seconds<15'
check "configuration: file and sha256 as labels, last reload ok (the start)" \
    promcheck --labels ilbd_config_info=file,sha256 "$m1" 'ilbd_config_info==1' \
    'ilbd_config_last_reload_successful==1' \
    'ilbd_config_last_reload_timestamp_seconds>1000000000'
check "per server: up, drained, health, weight, connections" \
    promcheck "$m1" "ilbd_server_drained{service=\"web\"}==0" \
    "ilbd_server_health_up{service=\"web\"}==$N_SRV" \
    "ilbd_server_health_last_error{service=\"web\"}==0"
grep -q "sha256=\"$(sha256sum "$NETNS_DIR/ilb1.conf" | cut -d' ' -f1)\"" "$m1"
check "ilbd_config_info's sha256 is the file's" [ $? -eq 0 ]
check "promcheck.py fetches and parses the URL inside the namespace" \
    nsx "$(ns_ilb 1)" "$PROMPY" "$PROMCHECK" -q "$(metrics_url 1)" \
    'process_start_time_seconds>0'
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
	check "ilb$_j: promtool check metrics: still no problem" \
	    promtool_ok "$NETNS_DIR/metrics.$_j.after"
	check_rose "ilb$_j: ilbd_packets_received_total rose" \
	    "$(metric_value "$_j" before ilbd_packets_received_total)" \
	    "$(metric_value "$_j" after ilbd_packets_received_total)"
	_b=$(metric_value "$_j" before 'ilbd_packets_forwarded_total{path="owner"}')
	_a=$(metric_value "$_j" after 'ilbd_packets_forwarded_total{path="owner"}')
	is_num "$_b" && _fo_before=$((_fo_before + _b))
	is_num "$_a" && _fo_after=$((_fo_after + _a))
	check "ilb$_j: ilbd_server_active_connections has service and server labels" \
	    promcheck --labels ilbd_server_active_connections=service,server \
	    "$NETNS_DIR/metrics.$_j.after"
	check "ilb$_j: every server up (3 samples of ilbd_server_up, sum 3)" \
	    promcheck "$NETNS_DIR/metrics.$_j.after" \
	    "ilbd_server_up{service=\"web\"}==$N_SRV"
done
check_rose "sum of ilbd_packets_forwarded_total{path=\"owner\"} rose" "$_fo_before" "$_fo_after"

# metric_sum TAG SEL: SEL's sum over every ILB's saved TAG text ("" if an
# ILB lacks it).
metric_sum() {
	_s=0
	for _k in $(seq 1 "$N_ILB"); do
		_v=$(metric_value "$_k" "$1" "$2")
		is_num "$_v" || { echo; return; }
		_s=$((_s + _v))
	done
	echo "$_s"
}

# check_ge DESC A B: both numbers, A >= B.
check_ge() {
	if is_num "$2" && is_num "$3" && [ "$2" -ge "$3" ]; then
		ok "$1 ($2 >= $3)"
	else
		not_ok "$1 (${2:-missing}, want >= ${3:-missing})"
	fi
}

# Per server and per service: what each ILB sent to the servers. Every
# request is a connection of at least 3 packets from the client (SYN, ACK
# with the request, FIN or RST), each sent to its server by one ILB.
_pk=$(metric_sum after 'ilbd_server_packets_total{service="web"}')
check_ge "sum over the ILBs of ilbd_server_packets_total >= 3 x $N requests" \
    "$_pk" $((3 * N))
_by=$(metric_sum after 'ilbd_server_bytes_total{service="web"}')
check_ge "and ilbd_server_bytes_total >= 40 bytes a packet" "$_by" $((40 * _pk))
_cb=$(metric_sum before 'ilbd_server_connections_total{service="web"}')
_ca=$(metric_sum after 'ilbd_server_connections_total{service="web"}')
check_ge "ilbd_server_connections_total rose by >= $N over the ILBs (one owner each)" \
    "$((${_ca:-0} - ${_cb:-0}))" "$N"
check "and equals ilbd_connections_total's sum" \
    [ "$_ca" = "$(metric_sum after ilbd_connections_total)" ]
for _j in $(seq 1 "$N_ILB"); do
	_m=$NETNS_DIR/metrics.$_j.after
	check "ilb$_j: ilbd_server_{packets,bytes,connections}_total have service and server labels" \
	    promcheck --labels ilbd_server_packets_total=service,server \
	    --labels ilbd_server_bytes_total=service,server \
	    --labels ilbd_server_connections_total=service,server "$_m"
	for _t in packets bytes connections; do
		check "ilb$_j: ilbd_service_${_t}_total{service=\"web\"} is the sum of its servers'" \
		    [ "$(metric_value "$_j" after "ilbd_service_${_t}_total{service=\"web\"}")" = \
		    "$(metric_value "$_j" after "ilbd_server_${_t}_total{service=\"web\"}")" ]
	done
done
for _i in $(seq 1 "$N_SRV"); do
	[ "$(answered_by "srv$_i")" -gt 0 ] || continue
	_sel="{service=\"web\",server=\"$(srv_addr "$_i")\"}"
	check_ge "srv$_i: its connections over the ILBs, one a request it answered" \
	    "$(metric_sum after "ilbd_server_connections_total$_sel")" \
	    "$(answered_by "srv$_i")"
	check_ge "srv$_i: its packets over the ILBs" \
	    "$(metric_sum after "ilbd_server_packets_total$_sel")" \
	    "$((3 * $(answered_by "srv$_i")))"
done

# contrib/: the alerting rules and the Grafana dashboard
CONTRIB=$top_srcdir/contrib
check "promtool check rules contrib/*.rules.yml" \
    sh -c "promtool check rules '$CONTRIB'/*.rules.yml > '$NETNS_DIR/rules.out' 2>&1"
check "promtool test rules contrib/ilbd.rules.test.yml (the alerts fire when they should)" \
    sh -c "cd '$CONTRIB' && promtool test rules ilbd.rules.test.yml > '$NETNS_DIR/rules.test' 2>&1"
check "contrib/ilbd.grafana.json is JSON with panels" \
    "$PYTHON" -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["panels"] else 1)' \
    "$CONTRIB/ilbd.grafana.json"
# contrib_names_ok: every ilbd_* and process_* name the rules and the
# dashboard use is a sample of a real scrape (a rename would break them).
contrib_names_ok() {
	_missing=
	for _n in $(grep -oh '\b\(ilbd\|process\)_[a-z_]*' "$CONTRIB"/*.rules.yml \
	    "$CONTRIB"/ilbd.grafana.json | sort -u); do
		grep -q "^$_n[{ ]" "$NETNS_DIR/metrics.1.after" || _missing="$_missing $_n"
	done
	[ -z "$_missing" ] || note "not in the scrape:$_missing"
	[ -z "$_missing" ]
}
check "every metric the rules and the dashboard use is in ilb1's scrape" contrib_names_ok
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

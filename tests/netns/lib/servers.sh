# lib/servers.sh (sourced by tests/netns/lib.sh): what runs in the server
# namespaces: start_servers (httpd.py on the VIP's port in each) and
# start_gredecap (the GRE decapsulator into TUN gre0 in each).

# start_servers: the HTTP server in every server namespace, port 80;
# waits until each answers.
start_servers() {
	for _i in $(seq 1 "$N_SRV"); do
		# shellcheck disable=SC2046 # IPV6=1: listen on :: too
		bg "$(ns_srv "$_i")" "$NETNS_DIR/srv$_i.log" \
		    "$PYTHON" "$NETNS_SRC/httpd.py" "srv$_i" "$VIP_PORT" \
		    $([ -z "$IPV6" ] || echo "::")
		eval "SRV_PID_$_i=\$BG_PID"
	done
	for _i in $(seq 1 "$N_SRV"); do
		_n=0
		until nsx "$(ns_srv "$_i")" curl -s -o /dev/null --max-time 1 \
		    "http://127.0.0.1:$VIP_PORT/"; do
			_n=$((_n + 1))
			[ "$_n" -lt 600 ] || { note "srv$_i does not answer"; return 1; }
			sleep 0.1
		done
	done
}

# start_gredecap [ARGS...]: the GRE decapsulator in every server namespace,
# writing into TUN "gre0" (rp_filter off); ARGS e.g. "-k KEY".
start_gredecap() {
	[ -x "$GREDECAP" ] || { note "no $GREDECAP"; return 1; }
	for _i in $(seq 1 "$N_SRV"); do
		_ns=$(ns_srv "$_i")
		bg "$_ns" "$NETNS_DIR/gredecap$_i.log" "$GREDECAP" "$@" gre0
		_n=0
		until ip -n "$_ns" link show gre0 > /dev/null 2>&1; do
			_n=$((_n + 1))
			[ "$_n" -lt 600 ] || { note "srv$_i: no gre0"; return 1; }
			sleep 0.1
		done
		ip -n "$_ns" link set gre0 up &&
		sysctl_set "$_ns" net.ipv4.conf.gre0.rp_filter=0 || return 1
	done
}

# start_udp_echo PORT: udp_echo.py (lib/udp_echo.py) on PORT in every
# server namespace, answering with the server's name, srvI.
start_udp_echo() {
	for _i in $(seq 1 "$N_SRV"); do
		bg "$(ns_srv "$_i")" "$NETNS_DIR/echo$_i.log" "$PYTHON" \
		    "$NETNS_LIB/udp_echo.py" -d "$HANG_S" "srv$_i" "$1"
	done
}

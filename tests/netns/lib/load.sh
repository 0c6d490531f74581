# lib/load.sh (sourced by tests/netns/lib.sh): the client's load through
# the VIP.  run_requests / curl_batch / check_requests (one connection per
# request; answered_by, answers_summary, url_host); uploads (upload,
# uploads_run, uploads_whole, uploads_report); the keep-alive load of
# keepalive.py (keepalive_start / keepalive_wait / since_ready_sleep /
# keepalive_stop / keepalive_result, KA_C, KA_D, KA_MAX).

# run_requests N [PATH]: N HTTP GETs from the client to the VIP, each on a
# new connection (Connection: close; curl --max-time 5 each).  The first
# 10 are a probe: if none succeeds the rest are not sent (counted failed),
# so a dead data path fails in seconds; the rest are bounded by
# 60 s + N/2 s (a hang; a request that takes 5 s fails).  Sets REQ_OK, REQ_FAIL, REQ_CONNECTS; the answering server
# per request in $NETNS_DIR/answers ("srvI code connects").
run_requests() {
	_n=$1
	_probe=10
	[ "$_n" -gt "$_probe" ] || _probe=$_n
	: > "$NETNS_DIR/answers"
	curl_batch "$_probe" "${2:-r}p"
	if [ "$(awk '$2 == 200' "$NETNS_DIR/answers" | wc -l)" -gt 0 ] &&
	    [ "$_n" -gt "$_probe" ]; then
		curl_batch $((_n - _probe)) "${2:-r}"
	fi
	REQ_OK=$(awk 'NF == 3 && $2 == 200 { n++ } END { print n + 0 }' "$NETNS_DIR/answers")
	REQ_CONNECTS=$(awk 'NF == 3 && $2 == 200 { n += $3 } END { print n + 0 }' "$NETNS_DIR/answers")
	REQ_FAIL=$((_n - REQ_OK))
	note "requests: $_n, $REQ_OK ok, $REQ_FAIL failed, $REQ_CONNECTS connections; $(answers_summary)"
}

# curl_batch N PATH: N sequential GETs of /PATH1../PATHN appended to
# $NETNS_DIR/answers.  --foreground: ^C reaches curl.  The address is
# $REQ_VIP if set (e.g. $VIP6), else $VIP.
curl_batch() {
	timeout --foreground -k 2 $((60 + $1 / 2)) \
	    ip netns exec "$NS_CLIENT" curl -s --http1.1 \
	    --max-time 5 -H 'Connection: close' \
	    -w ' %{http_code} %{num_connects}\n' \
	    "http://$(url_host "${REQ_VIP:-$VIP}"):$VIP_PORT/$2[1-$1]" \
	    >> "$NETNS_DIR/answers" 2> /dev/null
}

# url_host ADDR: ADDR as the host of a URL ([ADDR] for IPv6).
url_host() { case $1 in *:*) echo "[$1]";; *) echo "$1";; esac; }

# answered_by NAME: how many requests of the last run NAME answered.
answered_by() {
	awk -v s="$1" 'NF == 3 && $2 == 200 && $1 == s { n++ } END { print n + 0 }' \
	    "$NETNS_DIR/answers"
}

answers_summary() {
	_s=
	for _i in $(seq 1 "$N_SRV"); do _s="$_s srv$_i=$(answered_by "srv$_i")"; done
	echo "${_s# }"
}

# Uploads (test_fragments.sh, test_upload_mtu.sh): HTTP POSTs of the file
# $NETNS_DIR/upload, each on a new connection (curl --max-time $MAXT, 5 s
# by default); httpd.py answers with the length and SHA-256 it received.
#
# upload I: one POST; appends "I code server length sha256" to
# $NETNS_DIR/uploads ("I code - - -" without an answer).
upload() {
	_maxt=${MAXT:-5}
	_r=$(timeout --foreground -k 2 $((_maxt + 5)) \
	    ip netns exec "$NS_CLIENT" curl -s --http1.1 --max-time "$_maxt" \
	    -H 'Connection: close' -H 'Expect:' \
	    -H 'Content-Type: application/octet-stream' \
	    --data-binary "@$NETNS_DIR/upload" \
	    -w ' %{http_code} %header{x-server}' \
	    "http://$VIP:$VIP_PORT/up$1" 2>/dev/null)
	# the body "LENGTH SHA256", then the code and the server
	# shellcheck disable=SC2086 # split into fields
	set -- "$1" $_r
	if [ $# -eq 5 ]; then
		echo "$1 $4 $5 $2 $3"
	else
		echo "$1 ${2:-000} - - -"
	fi >> "$NETNS_DIR/uploads"
}

# upload_want: "LENGTH SHA256" of $NETNS_DIR/upload, what every answer
# must say.
upload_want() {
	echo "$(wc -c < "$NETNS_DIR/upload") $(sha256sum < "$NETNS_DIR/upload" | cut -d ' ' -f 1)"
}

# uploads_run N: N uploads into a fresh $NETNS_DIR/uploads; if none of the
# first $PROBE (3) arrived whole the rest are not tried, so a dead path
# fails in seconds.  uploads_whole: how many arrived whole.
uploads_run() {
	_want=$(upload_want)
	_probe=${PROBE:-3}
	: > "$NETNS_DIR/uploads"
	_k=1
	while [ "$_k" -le "$1" ]; do
		upload "$_k"
		if [ "$_k" -eq "$_probe" ] && [ "$_k" -lt "$1" ] &&
		    [ "$(uploads_whole)" -eq 0 ]; then
			note "the first $_probe uploads all failed: the other $(($1 - _k)) are not tried"
			break
		fi
		_k=$((_k + 1))
	done
}
uploads_whole() {
	awk -v w="$(upload_want)" '$2 == 200 && $4 " " $5 == w { n++ } END { print n + 0 }' \
	    "$NETNS_DIR/uploads"
}

# uploads_report N: a note with the count and the servers that answered,
# and one per failed upload (at most 5).
uploads_report() {
	_want=$(upload_want)
	_by=$(awk -v w="$_want" '$2 == 200 && $4 " " $5 == w { n[$3]++ }
	    END { for (s in n) printf "%s=%d ", s, n[s] }' "$NETNS_DIR/uploads")
	note "uploads: $1 of ${_want% *} bytes ($(wc -l < "$NETNS_DIR/uploads") tried), $(uploads_whole) arrived whole (per server: ${_by:-none})"
	awk -v w="$_want" '!($2 == 200 && $4 " " $5 == w)' "$NETNS_DIR/uploads" |
	    head -n 5 | while read -r _n _c _sv _l _h; do
		note "  upload $_n: http $_c, server $_sv, it received $_l bytes"
	    done
}

# check_requests N [PATH]: run N requests and check all succeed, each on
# its own connection, and every server answers some.
check_requests() {
	run_requests "$@"
	check "$1 requests through the VIP all succeed ($REQ_FAIL failed)" \
	    [ "$REQ_OK" -eq "$1" ]
	check "each request on a new connection ($REQ_CONNECTS connects)" \
	    [ "$REQ_CONNECTS" -eq "$REQ_OK" ]
	_none=
	for _i in $(seq 1 "$N_SRV"); do
		[ "$(answered_by "srv$_i")" -gt 0 ] || _none="$_none srv$_i"
	done
	check "every server answers some (${_none:+none from}${_none:-$(answers_summary)})" \
	    [ -z "$_none" ]
}

# keepalive_start [C [D [ARGS...]]]: tests/netns/keepalive.py in the client
# namespace, in the background (its pid is recorded, so topo_down stops
# it): C keep-alive connections (default $KA_C, 300) to the VIP, a GET at
# least every 100 ms on each, for D seconds from its start (default $KA_D,
# 20; the connections open over the first 2 s).  ARGS go to keepalive.py
# (e.g. --interval 0.05).  Its READY line goes to $NETNS_DIR/keepalive.ready,
# its JSON summary to $NETNS_DIR/keepalive.json, stderr to keepalive.log.
# The address is $REQ_VIP if set (e.g. $VIP6), else $VIP.
# A test whose load must outlast an event of unknown length gives D = 0:
# the load then runs until keepalive_stop, bounded by $KA_MAX s (a hang).
KA_C=${KA_C:-300}
KA_D=${KA_D:-20}
KA_MAX=${KA_MAX:-$HANG_S}
keepalive_start() {
	KA_CONNS=${1:-$KA_C}
	KA_DUR=${2:-$KA_D}
	if [ $# -ge 2 ]; then shift 2; else shift $#; fi
	KA_STOP_MS=
	_d=$KA_DUR
	[ "$KA_DUR" != 0 ] || _d=$KA_MAX
	rm -f "$NETNS_DIR/keepalive.ready" "$NETNS_DIR/keepalive.json"
	KA_T0=$(now_ms)
	bg "$NS_CLIENT" "$NETNS_DIR/keepalive.log" "$PYTHON" \
	    "$NETNS_SRC/keepalive.py" -c "$KA_CONNS" -d "$_d" \
	    --ready "$NETNS_DIR/keepalive.ready" \
	    --out "$NETNS_DIR/keepalive.json" "$@" "${REQ_VIP:-$VIP}"
	KA_PID=$BG_PID
}

# keepalive_stop: end the load of keepalive_start C 0 now (SIGUSR1: no new
# requests, the outstanding ones awaited), then keepalive_result.  Fails if
# the load had ended already (it ran into $KA_MAX).
keepalive_stop() {
	KA_STOP_MS=$(now_ms)
	_r=0
	if kill -0 "$KA_PID" 2>/dev/null; then
		kill -USR1 "$KA_PID"
		note "keepalive: stopped after $(((KA_STOP_MS - KA_T0) / 1000)) s of load"
	else
		note "keepalive.py had ended before keepalive_stop (KA_MAX=${KA_MAX}s)"
		_r=1
	fi
	keepalive_result
	check "keepalive: the load lasted until the test stopped it" [ "$_r" -eq 0 ]
}

# keepalive_wait [SECONDS]: wait (default 30 s) for keepalive.py's READY:
# every connection opened and answered once.  Fails if it does not come,
# if keepalive.py died, or if some connection failed already.
keepalive_wait() {
	_i=0
	while [ ! -s "$NETNS_DIR/keepalive.ready" ]; do
		kill -0 "$KA_PID" 2>/dev/null || { note "keepalive.py exited early"; return 1; }
		_i=$((_i + 1))
		[ "$_i" -lt $((${1:-30} * 10)) ] || { note "no READY from keepalive.py"; return 1; }
		sleep 0.1
	done
	KA_READY_MS=$(now_ms)
	# READY ok failed seconds
	read -r _r _ok _failed _secs < "$NETNS_DIR/keepalive.ready"
	note "keepalive.py ready after ${_secs}s: $_ok connections up, $_failed failed"
	[ "$_failed" -eq 0 ]
}

# since_ready_sleep SECONDS: sleep until SECONDS after keepalive READY.
since_ready_sleep() {
	_t=$((KA_READY_MS + $1 * 1000 - $(now_ms)))
	[ "$_t" -le 0 ] || sleep "$((_t / 1000)).$(printf %03d $((_t % 1000)))"
}

# keepalive_result: wait for keepalive.py to exit (at most D + 15 s after
# its start, or 20 s after keepalive_stop; it bounds itself to D + 10 s, or
# its --timeout + 5 s after the stop), read its JSON summary into
# KA_* variables and check: every connection lived to the end, every
# request was answered, it exited 0.  Prints the summary and the first
# failures.
keepalive_result() {
	if [ -n "$KA_STOP_MS" ]; then _deadline=$((KA_STOP_MS + 20000))
	else _deadline=$((KA_T0 + (KA_DUR + 15) * 1000))
	fi
	while kill -0 "$KA_PID" 2>/dev/null && [ "$(now_ms)" -lt "$_deadline" ]; do
		sleep 0.2
	done
	kill -0 "$KA_PID" 2>/dev/null && { note "keepalive.py overran; stopping it"; pid_stop "$KA_PID"; }
	wait "$KA_PID" 2>/dev/null
	KA_RC=$?
	KA_OK=; KA_FAILED=; KA_SENT=; KA_ANSWERED=; KA_UNANSWERED=
	if [ -s "$NETNS_DIR/keepalive.json" ]; then
		eval "$("$PYTHON" - "$NETNS_DIR/keepalive.json" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
print("KA_OK=%d KA_FAILED=%d KA_SENT=%d KA_ANSWERED=%d KA_UNANSWERED=%d" % (
    s["connections_ok"], s["connections_failed"], s["requests_sent"],
    s["requests_answered"], s["requests_unanswered"]))
srv = " ".join("%s=%d/%d" % (k, v["connections"], v["answers"])
               for k, v in sorted(s["servers"].items()))
l = s["latency_ms"]
msg = ("# keepalive: %d connections (%d ok, %d failed), %d requests sent, "
       "%d answered, %d unanswered" % (s["connections"], s["connections_ok"],
       s["connections_failed"], s["requests_sent"], s["requests_answered"],
       s["requests_unanswered"]))
msg += ("\n# keepalive: per server (connections/answers) %s; latency max %s ms "
        "p50 %s p99 %s; largest gap between answers %s ms; ready after %s s"
        % (srv, l["max"], l["p50"], l["p99"], s["max_gap_ms"], s["ready_s"]))
if s["failures_by_reason"]:
    msg += "\n# keepalive: failures by reason: " + ", ".join(
        "%s %d" % (k, v) for k, v in sorted(s["failures_by_reason"].items()))
for f in s["failures"][:5]:
    msg += ("\n#   conn %d (port %d, %s): %s at t=%ss%s, %d answers" % (
            f["conn"], f["local_port"], f["server"] or "no server yet",
            f["reason"], f["t"], "" if f["t_since_ready"] is None else
            " (%ss after ready)" % f["t_since_ready"], f["answers"]))
print("KA_MSG=%s" % "'" + msg.replace("'", "") + "'")
PYEOF
)"
		echo "$KA_MSG"
	else
		note "keepalive.py wrote no summary (exit $KA_RC); its log:"
		tail -n 10 "$NETNS_DIR/keepalive.log" 2>/dev/null | sed 's/^/#   /'
	fi
	_c=1; [ "${KA_FAILED:-1}" -eq 0 ] && [ "${KA_OK:-0}" -eq "$KA_CONNS" ] && _c=0
	_lived=${KA_DUR}s
	[ -z "$KA_STOP_MS" ] || _lived="until stopped"
	check "keepalive: all $KA_CONNS connections lived $_lived on one server each (${KA_FAILED:-?} failed)" \
	    [ "$_c" -eq 0 ]
	_c=1; [ "${KA_UNANSWERED:-1}" -eq 0 ] && [ "${KA_ANSWERED:-0}" -gt 0 ] && _c=0
	check "keepalive: every request answered (${KA_SENT:-?} sent, ${KA_UNANSWERED:-?} unanswered)" \
	    [ "$_c" -eq 0 ]
	check "keepalive.py exits 0 (exit $KA_RC)" [ "$KA_RC" -eq 0 ]
}

# keepalive_poke: the load of keepalive_start C 0 --idle: every live
# connection sends one more request (SIGUSR2); keepalive_stop awaits the
# answers.
keepalive_poke() {
	kill -USR2 "$KA_PID" 2>/dev/null || { note "keepalive.py is not running"; return 1; }
}

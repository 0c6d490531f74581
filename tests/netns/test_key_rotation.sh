#!/bin/sh
# test_key_rotation.sh: the cluster key changed without a flag day.  Three
# ILBs (tun, dsr, wlc) under KA_C (300) keep-alive connections; the key is
# rotated by reloads (SIGHUP), one ILB at a time, GAP_S (2) s apart, as
# ilbd.conf(5) tells an operator to:
#   1. key_file_next = the new key, everywhere (still sending with the old);
#   2. key_file = new, key_file_next = old, ILB after ILB (meanwhile some
#      send with the new key, the others with the old: each accepts both);
#   3. key_file_next dropped, everywhere (the old key is gone).
# During step 2, 50 new connections (SYN handoffs in GRE, NEW copies on the
# reliable channel) cross between ILBs holding different keys.  Passes if
# every reload applied, no ILB ever logged a member gone, no keep-alive
# connection broke or lost a request, no orphan, the new connections all
# succeeded, some cluster messages, reliable-channel messages and GRE
# handoffs were accepted under the next key (cluster_rx_key_next,
# peer_received_key_next, gre_rx_key_next > 0), and nothing was refused by MAC or GRE key
# (cluster_rx_reject, peer_rejected_auth, gre_rx_reject all 0).
# Before key_file_next existed, step 1 fails (unknown key: the reload is
# refused) and a key change was refused at reload.
# shellcheck disable=SC2154 # fail: lib/assert.sh's counter
REPL_AT=${REPL_AT:-2}
REPL_AFTER=${REPL_AFTER:-3}
GAP_S=${GAP_S:-2}
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

repl_setup
OLD=$NETNS_DIR/cluster.key
NEW=$NETNS_DIR/cluster.key.new
head -c 32 /dev/urandom > "$NEW"
chmod 644 "$NEW"

# reloads_logged LOG: reload outcomes logged so far; reloads_more LOG N:
# more than N now (a function, so that wait_until counts again each time).
reloads_logged() { grep -c "configuration reloaded\|reload failed" "$1"; }
reloads_more() { [ "$(reloads_logged "$1")" -gt "$2" ]; }

# set_keys I KEY [NEXT]: ILB I's key_file (and key_file_next) in its
# config, then a reload (SIGHUP) that must be applied.
set_keys() {
	_f=$NETNS_DIR/ilb$1.conf
	_next=
	[ -z "$3" ] || _next="key_file_next = \"$3\"; "
	sed -e '/^  key_file_next = /d' \
	    -e "s|^  key_file = .*|  key_file = \"$2\"; $_next|" "$_f" > "$_f.new" &&
	    mv "$_f.new" "$_f" && chmod 644 "$_f" || return 1
	_log=$(ilb_log "$1")
	_n=$(reloads_logged "$_log")
	kill -HUP "$(ilb_pid "$1")" || return 1
	wait_until 20 reloads_more "$_log" "$_n" || return 1
	if tail -n 5 "$_log" | grep "reload failed"; then return 1; fi
	return 0
}

repl_load
note "1. key_file_next = the new key, on every ILB"
for j in 1 2 3; do
	check "ilb$j: key_file old, key_file_next new: reloaded" set_keys "$j" "$OLD" "$NEW"
	sleep "$GAP_S"
done
note "2. key_file = new, key_file_next = old, ILB after ILB"
for j in 1 2 3; do
	check "ilb$j: key_file new, key_file_next old: reloaded" set_keys "$j" "$NEW" "$OLD"
	if [ "$j" = 1 ]; then
		run_requests 50 mixed-
		check "50 new connections with mixed keys all succeed ($REQ_FAIL failed)" \
		    [ "$REQ_OK" -eq 50 ]
	fi
	sleep "$GAP_S"
done
note "3. the old key dropped, on every ILB"
for j in 1 2 3; do
	check "ilb$j: key_file new alone: reloaded" set_keys "$j" "$NEW"
	sleep "$GAP_S"
done
for j in 1 2 3; do
	check "ilb$j never logged a member gone" \
	    [ "$(grep -c "is gone" "$(ilb_log "$j")")" -eq 0 ]
done
repl_results
STATS_KEYS="cluster_rx_key_next peer_received_key_next gre_rx_key_next cluster_rx_reject peer_rejected_auth gre_rx_reject"
stats_print
stat_check "cluster messages accepted under the next key" cluster_rx_key_next -gt 0
stat_check "reliable-channel messages accepted under the next key" peer_received_key_next -gt 0
stat_check "GRE handoffs accepted with the next key's GRE key" gre_rx_key_next -gt 0
stat_check "no cluster message refused" cluster_rx_reject -eq 0
stat_check "no reliable-channel message refused by MAC" peer_rejected_auth -eq 0
stat_check "no GRE handoff refused" gre_rx_reject -eq 0
check_alive
repl_done

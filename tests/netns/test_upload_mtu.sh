#!/bin/sh
# test_upload_mtu.sh: full-size uploads that must be handed off.  Three
# ILBs (tun, dsr) without a cache (cache_size = 0), so an ILB that neither
# owns nor backs up a connection hands every packet of it to the owner in
# GRE (claim 15), 28 bytes larger.  Every link has MTU 1500 and the client
# does path MTU discovery (DF set), as most clients do.  A 1500-byte
# segment in GRE no longer fits the LAN; ilbd cannot send it, and without
# an ICMP to the client the upload stalls for good.  ilbd gives its TUN
# device the LAN's MTU less the GRE overhead (1472), so the kernel of the
# ILB answers such a segment with ICMP "fragmentation needed" and the
# client sends smaller ones, which fit in GRE.
#
# The router hashes the tuple itself (router_tuple_hash in lib.sh): a
# retransmission stays on its ILB, as with a real router, instead of taking
# another ILB that need not hand it off.
#
# With UPLOAD_MODE=pcap (test_upload_mtu_pcap.sh) the ILBs capture
# instead and there is no TUN device: the first full-size segment handed
# off is too big for GRE (gre_too_big), and ilbd itself answers the
# client with ICMP "fragmentation needed" (icmp_sent).
#
# $N (30) HTTP POSTs of $SIZE (102400) random bytes, each on a new
# connection; httpd.py answers with the length and SHA-256 it received.
# Passes only if every answer matches, some ILB handed packets off, the
# ILBs sent ICMP "fragmentation needed", and (tun) no handoff was too big
# for GRE.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

N=${N:-30}
SIZE=${SIZE:-102400}
MAXT=${MAXT:-20}        # curl --max-time per upload, seconds
PROBE=3                 # if the first PROBE uploads all fail, stop there
ILB_CACHE_SIZE=0        # read by ilb_conf in lib.sh
MODE=${UPLOAD_MODE:-tun}

# tun_mtus: "ilb1=MTU ilb2=MTU ..." of the TUN devices.
tun_mtus() {
	for _i in $(seq 1 "$N_ILB"); do
		printf 'ilb%s=%s ' "$_i" "$(ip -n "$(ns_ilb "$_i")" -o link show ilb0 |
		    sed -n 's/.* mtu \([0-9]*\) .*/\1/p')"
	done
}

require_ilbd
netns_setup
check "topology up" topo_up
check "servers answer" start_servers
check "3 ILBs start (mode $MODE, forward dsr, no cache)" start_ilbs "$MODE" dsr
check "each ILB log shows the two others joined" wait_members 60
check "the router's ECMP hashes the tuple (policy 3)" router_tuple_hash
head -c "$SIZE" /dev/urandom > "$NETNS_DIR/upload"
check "an upload of $SIZE random bytes" \
    [ "$(wc -c < "$NETNS_DIR/upload")" -eq "$SIZE" ]
if [ "$fail" -ne 0 ]; then show_logs 15; finish; exit 1; fi

unreach0=$(snmp_sum ilb Icmp OutDestUnreachs)
uploads_run "$N"
unreach=$(($(snmp_sum ilb Icmp OutDestUnreachs) - unreach0))
done_ok=$(uploads_whole)
uploads_report "$N"
check "all $N uploads arrive whole (length and SHA-256; $done_ok did)" \
    [ "$done_ok" -eq "$N" ]
check "the ILBs sent ICMP destination unreachable ($unreach)" \
    [ "$unreach" -gt 0 ]
if [ "$MODE" = tun ]; then
	mtus=$(tun_mtus)
	check "every TUN device has the LAN's MTU less 28 ($mtus)" \
	    [ "$(echo "$mtus" | grep -o '=1472' | wc -l)" -eq "$N_ILB" ]
fi

sleep 0.5
stats_snapshot
STATS_KEYS="rx forward_owner forward_backup handoff_out handoff_in orphan misrouted gre_too_big dsr_too_big icmp_sent icmp_skipped icmp_ratelimited icmp_errors" \
    stats_print
stat_check "packets handed off (no cache)" handoff_out -gt 0
if [ "$MODE" = tun ]; then
	stat_check "no handoff too big for GRE" gre_too_big -eq 0
else
	stat_check "full-size handoffs were too big for GRE" gre_too_big -gt 0
	stat_check "ilbd answered them with ICMP" icmp_sent -gt 0
	stat_check "no ICMP send error" icmp_errors -eq 0
fi
stat_check "nothing too big for the path to a server" dsr_too_big -eq 0
stat_check "nothing misrouted" misrouted -eq 0
check_alive
[ "$fail" -eq 0 ] || show_logs 15
finish

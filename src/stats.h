/* stats.h: the counters of the per-packet decision, with names for export. */
#ifndef ILBD_STATS_H
#define ILBD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"

/*
 * Every counter once: X(name, help). The name is a stable label (ilbctl
 * show stats; /metrics renames some: metrics_map.c); the help is one line.
 * Add new counters at the end.
 */
#define LB_STATS_FOREACH(X)						\
	X(rx, "packets given to the decision")				\
	X(handoff_in, "packets that came by handoff from a peer")	\
	X(syn, "SYN packets without ACK")				\
	X(forward_owner, "forwarded from the LTOC as owner")		\
	X(forward_backup, "forwarded from the LTOC as backup owner")	\
	X(forward_cache, "forwarded from the cache")			\
	X(forward_hash, "forwarded by the stateless hash fallback")	\
	X(handoff_out, "handed off to the owner")			\
	X(new_conn, "new connections entered in the LTOC")		\
	X(retransmitted_syn, "SYNs of a connection already in the LTOC")	\
	X(port_reuse, "SYNs reusing the tuple of a closing connection")	\
	X(syn_reopen, "SYNs repeating a closing connection's own: reopened") \
	X(established, "LTOC entries moved from syn to established")	\
	X(closing, "entries moved to closing by a FIN or RST")		\
	X(new_queued, "NEW records queued for the cluster")		\
	X(end_queued, "END records queued for the cluster")		\
	X(queue_full, "records dropped: output queue full")		\
	X(hash_fallback, "owner without entry: server recomputed (hash)")	\
	X(drop, "packets dropped, all reasons")				\
	X(bad_packet, "dropped: not a parsable IPv4/IPv6 packet")	\
	X(not_tcp, "dropped: not TCP")					\
	X(fragment, "dropped: later fragment, its first one not seen")			\
	X(no_members, "dropped: empty membership")			\
	X(no_service, "dropped: no service for destination and port")	\
	X(no_server, "dropped: no eligible server")			\
	X(ltoc_full, "LTOC inserts refused: table full")		\
	X(misrouted, "dropped: handed-off packet for another owner")	\
	X(orphan, "dropped: owner without entry for a non-SYN")	\
	X(learn_backup, "NEW stored in the LTOC as backup owner")	\
	X(learn_cache, "NEW stored in the cache")			\
	X(learn_end, "END applied to an LTOC or cache entry")		\
	X(learn_bad, "NEW or END refused: service or server unknown")	\
	X(ltoc_expired, "LTOC entries expired")				\
	X(cache_expired, "cache entries expired")			\
	X(refresh_queued, "REFRESH records queued for the cluster")	\
	X(refresh_in, "REFRESH applied to an LTOC or cache entry")	\
	X(refresh_unknown, "REFRESH for a connection in no table")	\
	X(learn_owner, "TRANSFER stored in the LTOC as owner")		\
	X(learn_update, "NEW or TRANSFER updated an existing entry")	\
	X(rebalances, "membership changes applied to the tables")	\
	X(plans, "join pre-transfers computed")			\
	X(entries_sent, "entries handed to a new owner or backup")	\
	X(promoted, "LTOC entries whose role became owner")		\
	X(to_backup, "LTOC entries whose role became backup")		\
	X(to_cache, "LTOC entries moved to the cache: no longer held")	\
	X(cache_rehomed, "cache entries given new holders: one left")	\
	X(service_removed, "SYNs dropped: service removed by a reload")	\
	X(reloads, "configuration reloads applied")			\
	X(parse_truncated, "bad packet: ends inside a header")	\
	X(parse_bad_version, "bad packet: IP version not 4 or 6")	\
	X(parse_bad_ihl, "bad packet: IPv4 IHL below 5 or past the end")	\
	X(parse_bad_totlen, "bad packet: IPv4 total length wrong")	\
	X(parse_bad_plen, "bad packet: IPv6 payload length past the end")	\
	X(parse_bad_tcp_offset, "bad packet: TCP data offset below 5 or past the end") \
	X(parse_bad_exthdr, "bad packet: IPv6 extension header malformed")	\
	X(parse_too_many_exthdrs, "bad packet: too many IPv6 extension headers") \
	X(parse_unsupported_exthdr, "bad packet: AH, ESP or other IPv6 header") \
	X(parse_bad_csum, "bad packet: IPv4 header checksum wrong")	\
	X(parse_bad_tcp_flags, "bad packet: SYN with FIN or RST, or no flag") \
	X(parse_tiny_fragment, "bad packet: first fragment without the TCP header") \
	X(parse_bad_icmp, "bad packet: ICMP error quoting no TCP packet from the VIP") \
	X(syn_hash_fallback, "SYNs placed by the stateless hash: LTOC nearly full") \
	X(icmp_ptb, "ICMP frag-needed or packet-too-big sent to the server or owner") \
	X(icmp_orphan, "dropped: ICMP frag-needed or packet-too-big, no connection") \
	X(frag_forwarded, "later fragments sent the way of their first fragment") \
	X(frag_held, "later fragments held until their first fragment came") \
	X(est_deferred, "handshakes completed here: their REFRESH deferred") \
	X(est_refresh_now, "handshake REFRESHes queued at once: ring full") \
	X(est_refresh_skipped, "deferred REFRESHes dropped: closing or gone") \
	X(closing_to_owner, "non-owner hit a closing entry: handed to the owner") \
	X(syn_sync, "SYNs on a live LTOC entry: cluster messages read first") \
	X(syn_records_first, "SYNs handed off after a close: END, frames sent first") \
	X(learn_stale, "NEW or TRANSFER of a connection already ended: ignored") \
	X(learn_end_stale, "END of an older connection than the entry's: ignored") \
	X(syn_stranger, "non-owner syn entry, packet of another connection: to owner") \
	X(adopted, "cache entries taken into the LTOC: a holder left, self holds") \
	X(holders_gone, "cache entries whose owner and backup had both left") \
	X(left_together, "membership changes losing 2+ members, no cache: entries lost") \
	X(learn_conflict, "records naming another server than a live entry's: refused") \
	X(syn_end_missed, "SYNs of another connection on a live entry: decided anew") \
	X(parse_bad_udp_len, "bad packet: UDP length below 8 or not the IP payload's") \
	X(udp_rx, "UDP packets given to the decision")			\
	X(udp_new_flow, "UDP flows entered in the LTOC as owner")	\
	X(udp_replicated, "UDP flows replicated: NEW queued once seen again") \
	X(udp_unreplicated, "UDP flows expired at their owner, never replicated") \
	X(udp_stream, "UDP flows that became streams: more than 4 packets") \
	X(quic_routed, "QUIC short headers sent to the server their CID names") \
	X(quic_fallback, "QUIC service datagrams routed by 4-tuple, not by CID") \
	X(udp_expired_end, "replicated UDP flows expired at their owner: END queued") \
	X(udp_relayed, "handed-off UDP datagrams handed on once to self's owner") \
	X(udp_to_gone, "UDP datagrams of unknown flows sent to a member gone lately") \
	X(syn_superseded, "SYNs of another connection on an entry here: it defers to the owner")

struct lb_stats {
#define LB_STATS_FIELD(name, help)	uint64_t name;
	LB_STATS_FOREACH(LB_STATS_FIELD)
#undef LB_STATS_FIELD
};

#define LB_STATS_N	(sizeof(struct lb_stats) / sizeof(uint64_t))

/* Every counter in declaration order, LB_STATS_N of them (lb.c). */
extern const struct counter_desc lb_counters[];

#endif

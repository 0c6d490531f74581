/* packet.h: pure parser of IPv4/IPv6 TCP and UDP packets into a flow key. */
#ifndef ILBD_PACKET_H
#define ILBD_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

/* Why packet_parse() refused a packet; names are stable counter labels. */
enum pkt_reason {
	PKT_OK = 0,
	PKT_TRUNCATED,		/* datagram ends inside a fixed-size header */
	PKT_BAD_VERSION,	/* IP version neither 4 nor 6 */
	PKT_BAD_IHL,		/* IPv4 IHL < 5 or header past the buffer */
	PKT_BAD_TOTLEN,		/* IPv4 total length < IHL*4 or past buffer */
	PKT_BAD_PLEN,		/* IPv6 payload length past the buffer */
	PKT_BAD_TCP_OFFSET,	/* TCP data offset < 5 or past the datagram */
	PKT_NOT_TCP,		/* neither TCP nor UDP: ICMP, ... */
	PKT_FRAGMENT,		/* a later (non-first) fragment */
	PKT_BAD_EXTHDR,		/* IPv6 extension header malformed or misplaced */
	PKT_TOO_MANY_EXTHDRS,	/* more than PKT_EXTHDR_MAX extension headers */
	PKT_UNSUPP_EXTHDR,	/* AH, ESP, mobility, HIP, shim6, experimental */
	PKT_BAD_CSUM,		/* IPv4 header checksum wrong */
	PKT_BAD_TCP_FLAGS,	/* SYN with FIN or RST; none of SYN ACK FIN RST */
	PKT_TINY_FRAGMENT,	/* first fragment without the TCP header, or a
				   TCP fragment at offset 8 (RFC 1858) */
	PKT_BAD_ICMP,		/* ICMP error to a VIP, embedded packet bad */
	PKT_BAD_UDP_LEN,	/* UDP length < 8 or not the IP payload's */
	PKT_REASON_MAX
};

#define PKT_EXTHDR_MAX	8	/* IPv6 extension headers walked at most */

/* TCP flags, as in the TCP header's flags byte. */
#define PKT_TH_FIN	0x01
#define PKT_TH_SYN	0x02
#define PKT_TH_RST	0x04
#define PKT_TH_PSH	0x08
#define PKT_TH_ACK	0x10
#define PKT_TH_URG	0x20

/* pkt_info.flags */
#define PKT_F_FIRSTFRAG	0x01	/* first fragment: more fragments follow */
#define PKT_F_ICMP_ERR	0x02	/* ICMP frag-needed / ICMPv6 packet too big */

/*
 * The parse result. Offsets, never pointers, so that it can be copied and
 * queued; all offsets count from the start of the buffer given to
 * packet_parse(). On PKT_OK every field is valid. On PKT_FRAGMENT, family,
 * proto, frag_id, l4_off (start of the fragment's data), ip_len and
 * payload_len are valid and key.len is 0. On other errors only family
 * (once the version is known) is meaningful.
 *
 * An ICMP "fragmentation needed" (type 3 code 4) or ICMPv6 "packet too
 * big" (type 2) is PKT_OK with PKT_F_ICMP_ERR set: key is the tuple of
 * the connection it is about, the embedded packet (sent from VIP:port to
 * the client) reversed, so that it reads as the client's packets do;
 * proto is 1 or 58, tcp_flags 0, l4_off the ICMP header, data_off ip_len.
 * The embedded packet's source must be the outer destination. Other ICMP
 * is PKT_NOT_TCP.
 *
 * UDP is PKT_OK too: proto 17, key.len with FLOW_KEY_UDP, tcp_flags and
 * seq 0, data_off past the 8-byte header. Its length field must be the
 * IP payload's (at least 8), except in a first fragment, where it may
 * exceed what the fragment holds. An ICMP error quoting UDP gives a UDP
 * key.
 */
struct pkt_info {
	struct flow_key	key;		/* claim 4 connection id */
	uint8_t		family;		/* 4 or 6; 0 if unknown */
	uint8_t		proto;		/* upper-layer protocol (6 or 17 on
					   PKT_OK, 1 or 58 for ICMP errors) */
	uint8_t		tcp_flags;	/* PKT_TH_* */
	uint8_t		flags;		/* PKT_F_* */
	uint32_t	frag_id;	/* IPv4 id or IPv6 fragment id */
	uint32_t	l3_off;		/* IP header; always 0 (no link header) */
	uint32_t	l4_off;		/* TCP header */
	uint32_t	data_off;	/* TCP payload */
	uint32_t	ip_len;		/* datagram length, trailing bytes excluded */
	uint32_t	payload_len;	/* IP payload: v4 total - IHL*4, v6 plen */
	uint32_t	seq;		/* TCP sequence number (PKT_OK) */
	const uint8_t	*udp_data;	/* UDP payload, PKT_DATA_LEN() octets
					   (PKT_OK UDP); NULL otherwise */
};

#define PKT_IS_SYN_ONLY(pi)	(((pi)->tcp_flags & (PKT_TH_SYN | \
	PKT_TH_ACK | PKT_TH_FIN | PKT_TH_RST)) == PKT_TH_SYN)
#define PKT_IS_END(pi)		(((pi)->tcp_flags & (PKT_TH_FIN | \
	PKT_TH_RST)) != 0)
#define PKT_HAS_ACK(pi)		(((pi)->tcp_flags & PKT_TH_ACK) != 0)
#define PKT_IS_ICMP_ERR(pi)	(((pi)->flags & PKT_F_ICMP_ERR) != 0)
#define PKT_IS_FIRSTFRAG(pi)	(((pi)->flags & PKT_F_FIRSTFRAG) != 0)
#define PKT_TCP_LEN(pi)		((pi)->ip_len - (pi)->l4_off)
#define PKT_DATA_LEN(pi)	((pi)->ip_len - (pi)->data_off)

int		 packet_parse(const uint8_t *, size_t, struct pkt_info *);
const char	*packet_reason_name(int);

#endif

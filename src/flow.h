/* flow.h: the connection id of claim 4 and the member id of claims 5 and 6. */
#ifndef ILBD_FLOW_H
#define ILBD_FLOW_H

#include <stddef.h>
#include <stdint.h>

#define FLOW_ID_V4	12	/* dport(2) daddr(4) sport(2) saddr(4) */
#define FLOW_ID_V6	36	/* dport(2) daddr(16) sport(2) saddr(16) */
#define FLOW_ID_MAX	36

/*
 * claim 4: the connection unique identifier, TCP destination port, IP
 * destination address, TCP source port, IP source address, in network byte
 * order. Bytes past len are zero so that the key can be hashed and compared
 * as a fixed-size block.
 */
struct flow_key {
	uint8_t		len;		/* FLOW_ID_V4 or FLOW_ID_V6, with
					   FLOW_KEY_UDP for a UDP flow */
	uint8_t		id[FLOW_ID_MAX];
};

/*
 * The protocol lives in len's top bit, so that struct conn_entry keeps
 * its 64 bytes and a TCP and a UDP flow on the same 4-tuple are two keys
 * (hashed and compared as a whole) while their id bytes, and so their
 * scores, are the same. Every use of len as a byte count goes through
 * flow_key_idlen().
 */
#define FLOW_KEY_UDP	0x80

static inline size_t
flow_key_idlen(const struct flow_key *k)
{
	return ((size_t)(k->len & 0x7f));
}

static inline int
flow_key_is_udp(const struct flow_key *k)
{
	return ((k->len & FLOW_KEY_UDP) != 0);
}

/* One of the four valid lengths: v4 or v6, TCP or UDP. */
static inline int
flow_key_valid(const struct flow_key *k)
{
	return (flow_key_idlen(k) == FLOW_ID_V4 ||
	    flow_key_idlen(k) == FLOW_ID_V6);
}

#define MEMBER_ID_MAX	16

/* An ILB's unique identifier: IPv4 (4 bytes), IPv6 (16) or index (4, BE). */
struct member_id {
	uint8_t		len;		/* 4 or 16 */
	uint8_t		is_index;	/* claim 6: an integer index */
	uint8_t		b[MEMBER_ID_MAX];	/* unused bytes zero */
};

#endif

/* gre.h: GRE (RFC 2784, key and sequence of RFC 2890) codec and sockets. */
#ifndef ILBD_GRE_H
#define ILBD_GRE_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "util.h"

struct event_base;
struct ilbd_conf;

/*
 * MTU: a packet sent in GRE grows by the outer IP header and the GRE
 * header. Over IPv4 that is 20 + 4 = 24 bytes without a key and
 * 20 + 8 = 28 with one (handoffs to peers carry the key); over IPv6,
 * 40 + 4 = 44 and 40 + 8 = 48. An inner packet of the full interface MTU
 * therefore does not fit: the sockets set DF and never fragment
 * (IP_PMTUDISC_DO), so the kernel refuses it with EMSGSIZE, counted as
 * too_big. Operators raise the MTU between ILBs and servers by 28 bytes,
 * or lower the MTU (MSS) towards clients by as much.
 */
#define GRE_HDR_LEN		4	/* flags+version, protocol */
#define GRE_HDR_KEY_LEN		8	/* ... and the key */
#define GRE_HDR_MAX		16	/* checksum, key, sequence: all options */
#define GRE_OVERHEAD_V4		24
#define GRE_OVERHEAD_V4_KEY	28
#define GRE_OVERHEAD_V6		44
#define GRE_OVERHEAD_V6_KEY	48

/* The first 16 bits of the GRE header. */
#define GRE_F_CSUM		0x8000	/* checksum present (RFC 2784) */
#define GRE_F_ROUTING		0x4000	/* routing present (RFC 1701): refused */
#define GRE_F_KEY		0x2000	/* key present (RFC 2890) */
#define GRE_F_SEQ		0x1000	/* sequence number present (RFC 2890) */
#define GRE_F_SSR		0x0800	/* strict source route (RFC 1701): refused */
#define GRE_F_RECUR		0x0700	/* recursion control (RFC 1701): refused */
#define GRE_VERSION		0x0007	/* must be 0 (1 is PPTP) */
/*
 * issue 22: a handoff that its sender had itself received by handoff and
 * hands on once (relayed): bit 12, one of the bits 6-12 that RFC 2784
 * reserves, sent as zero and ignored on receipt by everyone else
 * (ilbd-protocol(7)). No length change, so no MTU change.
 */
#define GRE_F_ILBD_RELAY	0x0008

/* gre_encap_hdr(), gre_send(), gre_queue() flags (with_key 0/1 too). */
#define GRE_ENC_KEY		0x01	/* the key */
#define GRE_ENC_RELAY		0x02	/* GRE_F_ILBD_RELAY */

#define GRE_PROTO_IPV4		0x0800
#define GRE_PROTO_IPV6		0x86dd

/* Why gre_decap() refused a packet; names are stable counter labels. */
enum gre_reason {
	GRE_OK = 0,
	GRE_TRUNCATED,		/* buffer ends inside a header */
	GRE_BAD_OUTER,		/* outer header not IPv4 or not protocol 47 */
	GRE_BAD_IHL,		/* outer IHL < 5 or past the buffer */
	GRE_BAD_TOTLEN,		/* outer total length < IHL*4 or past buffer */
	GRE_FRAGMENT,		/* outer header is a fragment */
	GRE_BAD_VERSION,	/* GRE version not 0 */
	GRE_BAD_FLAGS,		/* routing, strict source route or recursion */
	GRE_BAD_CHECKSUM,	/* checksum present and wrong */
	GRE_BAD_PROTO,		/* protocol neither IPv4 nor IPv6 */
	GRE_BAD_INNER,		/* inner packet empty or of the wrong version */
	GRE_REASON_MAX
};

/*
 * The decoding result. Offsets count from the start of the buffer given to
 * gre_decap() or gre_decap6(). src and dst are the outer addresses, known
 * (family AF_INET) only from gre_decap(): an IPv6 raw socket does not
 * return the outer header, its source comes from recvfrom().
 */
struct gre_info {
	uint32_t	inner_off;	/* inner IP packet */
	uint32_t	inner_len;
	uint32_t	key;		/* valid if has_key */
	uint32_t	seq;		/* valid if has_seq */
	uint16_t	proto;		/* GRE_PROTO_IPV4 or GRE_PROTO_IPV6 */
	uint8_t		has_key;
	uint8_t		has_seq;
	uint8_t		relayed;	/* GRE_F_ILBD_RELAY set */
	struct ilb_addr	src;		/* outer source (IPv4 only) */
	struct ilb_addr	dst;		/* outer destination (IPv4 only) */
};

/* Pure codec: no I/O. */
size_t		 gre_encap_hdr(uint8_t *, uint16_t, int, uint32_t);
int		 gre_decap(const uint8_t *, size_t, struct gre_info *);
int		 gre_decap6(const uint8_t *, size_t, struct gre_info *);
const char	*gre_reason_name(int);
uint32_t	 gre_cluster_key(const uint8_t *, const struct ilbd_conf *);

/*
 * Counters, X(name, help); names are stable labels for ilbctl and
 * /metrics. Add new counters at the end.
 */
#define GRE_STATS_FOREACH(X)						\
	X(sent, "GRE packets sent")					\
	X(sent_bytes, "inner bytes sent in GRE")			\
	X(send_errors, "GRE sends that failed, too_big excluded")	\
	X(too_big, "GRE sends refused: larger than the path MTU")	\
	X(received, "GRE packets received and decoded")			\
	X(received_bytes, "inner bytes received in GRE")		\
	X(malformed, "GRE packets dropped: malformed (any reason)")	\
	X(recv_truncated, "GRE packets dropped: larger than the buffer")	\
	X(recv_errors, "errors reading the GRE sockets")

struct gre_stats {
#define GRE_STATS_FIELD(name, help)	uint64_t name;
	GRE_STATS_FOREACH(GRE_STATS_FIELD)
#undef GRE_STATS_FIELD
	uint64_t	reason[GRE_REASON_MAX];	/* malformed, by reason */
};

/*
 * Called once per decoded packet: its gre_info (src: the outer source,
 * has_key, key, relayed), the inner IP packet.
 */
typedef void	(*gre_recv_cb)(void *, const struct gre_info *,
		    const uint8_t *, size_t);
/* Called after each batch read from a socket (to flush output). */
typedef void	(*gre_batch_cb)(void *);

struct gre;

struct gre	*gre_open(struct event_base *, const struct ilb_addr *,
		    gre_recv_cb, void *, char **);
void		 gre_set_batch_cb(struct gre *, gre_batch_cb, void *);
#define GRE_INNER_MTU_MIN	1280	/* IPv6's minimum link MTU */

/*
 * The most GRE adds to a packet ilbd sends on under conf: the outer
 * header of the cluster's family and GRE with key for a handoff, or the
 * outer header of a server's family and GRE without key for forward =
 * "gre" (28 or 48; 24 or 44).
 */
unsigned int	 gre_overhead(const struct ilbd_conf *);
/* The largest inner packet: if_mtu less overhead, at least the minimum. */
unsigned int	 gre_inner_mtu(unsigned int, unsigned int);

/*
 * Encapsulate and send (with a key if asked). 0, or -1 on failure, or
 * GRE_TOO_BIG when the packet in GRE exceeds the path MTU (counted in
 * too_big; DF is set on the outer header, nothing is fragmented).
 */
#define GRE_TOO_BIG	(-2)
int		 gre_send(struct gre *, const struct ilb_addr *, int, uint32_t,
		    const uint8_t *, size_t);
/*
 * The same, batched: the packet is copied into a queue that gre_flush()
 * sends with one sendmmsg() per socket (the input's burst, then its end).
 * 0 if queued; -1 (counted, not queued) if the packet cannot be sent at
 * all; GRE_QUEUE_FULL when the queue must be flushed first;
 * GRE_QUEUE_LARGE when it is longer than a queue slot (send it with
 * gre_send(), after a flush if order matters). A failure found at flush
 * time goes to the callback with the packet's copy.
 */
#define GRE_QUEUE_FULL	(-3)
#define GRE_QUEUE_LARGE	(-4)
#define GRE_TXQ		32		/* packets queued at most */
#define GRE_TXQ_SLOT	9216		/* longest packet queued (jumbo) */
int		 gre_queue(struct gre *, const struct ilb_addr *, int,
		    uint32_t, const uint8_t *, size_t);
/* Failed at flush: rc (-1 or GRE_TOO_BIG), with_key, the inner packet. */
typedef void	(*gre_fail_cb)(void *, int, int, const uint8_t *, size_t);
/*
 * Send what is queued, in order; each failure to cb (may be NULL), which
 * must queue nothing.
 */
void		 gre_flush(struct gre *, gre_fail_cb, void *);
unsigned int	 gre_queued(const struct gre *);
const struct gre_stats *gre_stats(const struct gre *);
/* GRE_STATS_FOREACH as a counter table, for export. */
extern const struct counter_desc gre_counters[];
void		 gre_close(struct gre *);

#endif

/* icmp.h: ICMP "fragmentation needed" / ICMPv6 "packet too big" to a
 * client whose packet ilbd could not send on in GRE; echo replies (ping)
 * from a VIP. */
#ifndef ILBD_ICMP_H
#define ILBD_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"

#define ICMP_QUOTE4_MAX	548	/* 576 - 20 - 8 (RFC 1812 4.3.2.3) */
#define ICMP_QUOTE6_MAX	1232	/* 1280 - 40 - 8 (RFC 4443 2.4 (c)) */
#define ICMP_PER_S	200	/* messages sent per second at most */
#define ICMP_ECHO_RATE	100	/* echo replies per second by default */
#define ICMP_ECHO_RATE_MAX 1000000
#define ICMP_ECHO_MAX	65535	/* largest echo request answered */

struct icmp_tx;

#define ICMP_STATS_FOREACH(X)						\
	X(sent, "ICMP too-big messages sent to clients")		\
	X(skipped, "too-big packets not answered: DF clear, ICMP, fragment") \
	X(ratelimited, "too-big messages not sent: rate limit")	\
	X(errors, "too-big messages not sent: no socket or send error")	\
	X(echo_answered, "echo requests to a VIP answered (ping)")	\
	X(echo_ratelimited, "echo requests to a VIP not answered: rate limit") \
	X(echo_errors, "echo replies not sent: no socket or send error")

struct icmp_tx_stats {
#define ICMP_STATS_FIELD(name, help)	uint64_t name;
	ICMP_STATS_FOREACH(ICMP_STATS_FIELD)
#undef ICMP_STATS_FIELD
};

/*
 * Open the raw ICMP and ICMPv6 sockets (send only: every type is
 * filtered out on receive). A family whose socket cannot be opened is
 * logged and counted in errors when needed. NULL only without memory.
 */
struct icmp_tx	*icmp_tx_open(void);
void		 icmp_tx_close(struct icmp_tx *);
/*
 * The message for pkt (len bytes, an IPv4 or IPv6 packet that was too
 * big for the next hop, whose MTU is mtu) into out (outlen bytes): IPv4
 * type 3 code 4 with its checksum, IPv6 type 2 (the kernel sums it), then
 * as much of pkt as fits the limits above. 0 when pkt gets none: IPv4
 * with DF clear, a later fragment, an ICMP packet, a source that is not
 * a unicast address, or a truncated header.
 */
size_t		 icmp_build_too_big(uint8_t *, size_t, const uint8_t *, size_t,
		    unsigned int);
/*
 * Send that message to pkt's source, at most ICMP_PER_S a second (now in
 * ms). 0 if sent, else -1 (counted).
 */
int		 icmp_too_big(struct icmp_tx *, const uint8_t *, size_t,
		    unsigned int, uint64_t);
const struct icmp_tx_stats *icmp_tx_stats(const struct icmp_tx *);

/*
 * Echo (ping) to a VIP. icmp_echo_dst(): if pkt (len bytes) is a whole
 * ICMP echo request (type 8) or ICMPv6 echo request (type 128), not a
 * fragment, with a unicast source, its destination into *dst and 1;
 * else 0. The ICMPv4 checksum is checked; the ICMPv6 one too.
 */
struct ilb_addr;
int		 icmp_echo_dst(const uint8_t *, size_t, struct ilb_addr *);
/*
 * The reply to that request into out (outlen bytes): a whole IP packet
 * from the request's destination to its source (TTL / hop limit 64, no
 * IPv4 options, no IPv6 extension header), type 0 or 129, identifier,
 * sequence and data as in the request, every checksum set. 0 if pkt is
 * no such request or out is too small.
 */
size_t		 icmp_build_echo_reply(uint8_t *, size_t, const uint8_t *,
		    size_t);
/*
 * A token bucket of rate tokens a second, holding rate at most (a burst
 * of one second); rate 0 takes nothing. icmp_bucket_take(): 1 if a token
 * was taken at now (ms), else 0.
 */
struct icmp_bucket {
	uint32_t	rate;
	uint64_t	milli;		/* tokens * 1000 */
	uint64_t	last;		/* ms of the last refill */
};
void		 icmp_bucket_set(struct icmp_bucket *, uint32_t, uint64_t);
int		 icmp_bucket_take(struct icmp_bucket *, uint64_t);
/* The rate of echo replies (cluster-free: each ILB answers its own). */
void		 icmp_echo_rate(struct icmp_tx *, uint32_t, uint64_t);
/*
 * Answer the echo request pkt (to a VIP: the caller checked) from the
 * VIP through a raw socket, the kernel routing it to the client as the
 * servers' replies go; no allocation. 0 if sent, else -1 (counted: rate
 * limit, not an echo request, send error).
 */
int		 icmp_echo(struct icmp_tx *, const uint8_t *, size_t, uint64_t);
/* ICMP_STATS_FOREACH as a counter table, for export. */
extern const struct counter_desc icmp_tx_counters[];

#endif

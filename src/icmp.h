/* icmp.h: ICMP "fragmentation needed" / ICMPv6 "packet too big" to a
 * client whose packet ilbd could not send on in GRE. */
#ifndef ILBD_ICMP_H
#define ILBD_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"

#define ICMP_QUOTE4_MAX	548	/* 576 - 20 - 8 (RFC 1812 4.3.2.3) */
#define ICMP_QUOTE6_MAX	1232	/* 1280 - 40 - 8 (RFC 4443 2.4 (c)) */
#define ICMP_PER_S	200	/* messages sent per second at most */

struct icmp_tx;

#define ICMP_STATS_FOREACH(X)						\
	X(sent, "ICMP too-big messages sent to clients")		\
	X(skipped, "too-big packets not answered: DF clear, ICMP, fragment") \
	X(ratelimited, "too-big messages not sent: rate limit")	\
	X(errors, "too-big messages not sent: no socket or send error")

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
/* ICMP_STATS_FOREACH as a counter table, for export. */
extern const struct counter_desc icmp_tx_counters[];

#endif

/* fwd.h: direct server return, IP packets framed and sent on AF_PACKET. */
#ifndef ILBD_FWD_H
#define ILBD_FWD_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"

#define FWD_BATCH	64	/* frames queued before a sendmmsg() */
#define FWD_MTU_MAX	9216	/* largest IP packet sent (jumbo frames) */
#define FWD_ETH_HLEN	14

/*
 * Counters, X(name, help); names are stable labels for ilbctl and
 * /metrics. Add new counters at the end.
 */
#define FWD_STATS_FOREACH(X)						\
	X(sent, "frames sent to servers")				\
	X(bytes, "IP bytes sent to servers")				\
	X(send_errors, "frames the kernel refused")			\
	X(too_big, "packets dropped: larger than the interface MTU")	\
	X(bad_packet, "packets dropped: empty or not IPv4/IPv6")

struct fwd_stats {
#define FWD_STATS_FIELD(name, help)	uint64_t name;
	FWD_STATS_FOREACH(FWD_STATS_FIELD)
#undef FWD_STATS_FIELD
};

struct fwd;

/*
 * Where fwd_flush() hands its frames when one is set (fwd_set_sink()):
 * n whole Ethernet frames, valid until it returns.
 */
typedef void	(*fwd_sink)(void *, const uint8_t *const *, const size_t *,
		    size_t);

struct fwd	*fwd_open(const char *, char **);
int		 fwd_refresh(struct fwd *, char **);
int		 fwd_queue(struct fwd *, const uint8_t [6], const uint8_t *,
		    size_t);
int		 fwd_flush(struct fwd *);
/*
 * From now on fwd_flush() hands the queued frames to sink (NULL: sends
 * them itself again); they count as sent once handed on.
 */
void		 fwd_set_sink(struct fwd *, fwd_sink, void *);
/*
 * Send n whole Ethernet frames (as fwd_queue() builds them) on f's
 * socket, in sendmmsg() calls of up to FWD_BATCH; for a thread that sends
 * another's frames on a socket of its own. Touches no counter of f.
 * Returns the number of frames the kernel refused.
 */
unsigned int	 fwd_send_frames(struct fwd *, const uint8_t *const *,
		    const size_t *, size_t);
unsigned int	 fwd_mtu(const struct fwd *);
const uint8_t	*fwd_mac(const struct fwd *);
const struct fwd_stats *fwd_stats(const struct fwd *);
/* FWD_STATS_FOREACH as a counter table, for export. */
extern const struct counter_desc fwd_counters[];
void		 fwd_close(struct fwd *);

#endif

/* dp.h: the data path: packet input, the decision, packet output. */
#ifndef ILBD_DP_H
#define ILBD_DP_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"

struct gre_info;
#include "frag.h"

struct event;
struct event_base;
struct cluster;
struct fwd;
struct gre;
struct icmp_tx;
struct ilb_addr;
struct lb;
struct neigh;
struct repl;

/* Counters of the data path's own edges (the decision has its own). */
#define DP_STATS_FOREACH(X)						\
	X(no_mac, "dropped: the server's MAC address is not known yet")	\
	X(fwd_errors, "dropped: could not queue a frame to a server")	\
	X(gre_fwd_errors, "dropped: GRE send to a server failed")	\
	X(handoff_errors, "dropped: GRE send to the owner failed")	\
	X(handoff_no_addr, "dropped: the owner's address is unknown")	\
	X(gre_rx, "GRE packets received")				\
	X(gre_rx_reject, "GRE refused: no key, wrong key or not a member") \
	X(gre_rx_key_next,						\
	    "GRE handoffs with the GRE key of cluster.key_file_next")

struct dp_stats {
#define DP_STATS_FIELD(name, help)	uint64_t name;
	DP_STATS_FOREACH(DP_STATS_FIELD)
#undef DP_STATS_FIELD
};

extern const struct counter_desc dp_counters[];

/*
 * The per-packet path: a packet in (input or GRE), the decision (lb),
 * the packet out (DSR, GRE to a server, or handoff to its owner). The
 * parts it moves packets between are the daemon's (daemon.c), which
 * opens them, sets them here and closes them.
 */
struct dp {
	struct lb		*lb;		/* the decision */
	struct cluster		*cluster;	/* owners' addresses */
	struct repl		*repl;		/* records, flushed per batch */
	struct gre		*gre;		/* handoff, GRE to servers */
	struct fwd		*fwd;		/* NULL without a dsr service */
	struct neigh		*neigh;		/* likewise */
	struct icmp_tx		*icmp;		/* "too big" to clients */
	uint32_t		 gre_key;	/* cluster identifier */
	uint32_t		 gre_key_next;	/* key_file_next's, if has_ */
	int			 has_gre_key_next;
	unsigned int		 gre_mtu;	/* largest packet GRE takes */
	struct event		*ev_flush;	/* sends queued frames */
	int			 flush_pending;
	struct frag		 frag;		/* later fragments */
	uint64_t		 frag_dropped;	/* frag.dropped, counted */
	struct dp_stats		 stats;
};

/* Its own state (fragment table, flush event); the parts are left NULL. */
int		 dp_init(struct dp *, struct event_base *, char **);
void		 dp_free(struct dp *);

/*
 * A burst of n packets from the TUN device or the capture (arg: the
 * struct dp), handled in order: the decision in bursts where it applies
 * (dp_burstable()), the per-packet path for the rest.
 */
void		 dp_on_input(void *, const uint8_t *const *, const size_t *,
		    size_t);
/* One packet, the per-packet path (what dp_on_input() must equal). */
void		 dp_on_packet(void *, const uint8_t *, size_t);
/* Whether a packet may be decided in a burst (see dp.c). */
int		 dp_burstable(const uint8_t *, size_t);
/* A GRE packet (gre_open()'s callback; arg: the struct dp). */
void		 dp_on_gre(void *, const struct gre_info *,
		    const uint8_t *, size_t);
/* The timer: held fragments expire. */
void		 dp_tick(struct dp *, uint64_t);

#endif

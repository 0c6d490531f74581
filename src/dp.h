/* dp.h: the data path: packet input, the decision, packet output. */
#ifndef ILBD_DP_H
#define ILBD_DP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "counter.h"

struct event_base;
struct capture_stats;
struct cluster;
struct cluster_table;
struct dp;
struct fwd_stats;
struct gre_stats;
struct icmp_tx_stats;
struct lb;
struct neigh_stats;
struct peer_stats;
struct repl;
struct repl_stats;
struct tun_stats;

/* Counters of the data path's own edges (the decision has its own). */
#define DP_STATS_FOREACH(X)						\
	X(no_mac, "dropped: the server's MAC address is not known yet")	\
	X(fwd_errors, "dropped: could not queue a frame to a server")	\
	X(gre_fwd_errors, "dropped: GRE send to a server failed")	\
	X(handoff_errors, "dropped: GRE send to the owner failed")	\
	X(handoff_no_addr, "dropped: the owner's address is unknown")	\
	X(gre_rx, "GRE packets received")				\
	X(gre_rx_reject, "GRE refused: no key, wrong key or not a member")

struct dp_stats {
#define DP_STATS_FIELD(name, help)	uint64_t name;
	DP_STATS_FOREACH(DP_STATS_FIELD)
#undef DP_STATS_FIELD
};

/*
 * Open every socket and device conf asks for and start the data path on
 * base. conf must outlive the data path. Returns NULL with *cause set.
 */
struct dp	*dp_open(struct event_base *, const struct ilbd_conf *, char **);
void		 dp_close(struct dp *);
/* Log one line "stats: key=value ..." with every counter. */
void		 dp_log_stats(struct dp *);

/* Every counter and gauge of the data path, in a stable order. */
void		 dp_foreach_counter(struct dp *, dp_counter_cb, void *);

/*
 * What dp_foreach_counter() exports from, gathered from the parts: each
 * one's stats, NULL for a part the data path lacks (tun or capture; fwd
 * and neigh without a dsr service; icmp). lb is always set.
 */
struct dp_counter_parts {
	const struct lb			*lb;	/* counters and table sizes */
	const struct dp_stats		*dp;
	const struct cluster_table	*cluster; /* counters and members */
	const struct tun_stats		*tun;
	const struct capture_stats	*capture;
	const struct fwd_stats		*fwd;
	const struct neigh_stats	*neigh;
	const struct gre_stats		*gre;
	const struct icmp_tx_stats	*icmp;
	const struct peer_stats		*peer;
	const struct repl_stats		*repl;
};
/*
 * Their counters and gauges in the stats line's order (tests/netns read
 * it): dp_foreach_counter() without the per-server gauges, I/O-free.
 */
void		 dp_counter_walk(const struct dp_counter_parts *,
		    dp_counter_cb, void *);
/* The stats line's key of a counter: lb and dp bare, others sub_name. */
void		 dp_counter_key(const struct dp_counter *, char *, size_t);
const struct dp_stats *dp_stats(const struct dp *);
/* The parts, for ilbctl's commands and /metrics (read; change via lb). */
struct lb	*dp_lb(struct dp *);
struct cluster	*dp_cluster(struct dp *);
struct repl	*dp_repl(struct dp *);
const struct ilbd_conf *dp_conf(const struct dp *);
/* Rebuild the schedulers after sched_set_*() changes (drain, weight, health). */
void		 dp_sched_changed(struct dp *);

/*
 * A reloaded configuration: applied without losing a connection, or
 * refused (-1, *cause) with nothing changed. summary gets one line.
 */
int		 dp_reload(struct dp *, const struct ilbd_conf *, char *, size_t,
		    char **);

/* Graceful leave: hand every entry over, then call done(arg). */
void		 dp_leave(struct dp *, void (*)(void *), void *);

#endif

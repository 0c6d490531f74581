/* neigh.h: server MAC addresses learned from the kernel neighbour table. */
#ifndef ILBD_NEIGH_H
#define ILBD_NEIGH_H

#include <stdint.h>

#include "counter.h"
#include "util.h"

struct event_base;

#define NEIGH_TRIGGER_MS	500	/* resolution attempts per address */
#define NEIGH_TRIGGER_PORT	9	/* discard: the datagram that resolves */

/*
 * Counters, X(name, help); names are stable labels for ilbctl and
 * /metrics. Add new counters at the end.
 */
#define NEIGH_STATS_FOREACH(X)						\
	X(updates, "watched addresses given a new or changed MAC")	\
	X(removals, "watched addresses whose MAC became unusable")	\
	X(misses, "lookups of a watched address without a usable MAC")	\
	X(unwatched, "lookups of an address not watched")		\
	X(triggered, "resolutions triggered")				\
	X(trigger_errors, "resolution datagrams the kernel refused")	\
	X(dumps, "neighbour table dumps requested")			\
	X(overruns, "netlink receive overruns (a dump follows)")	\
	X(bad_messages, "netlink messages dropped: malformed")

struct neigh_stats {
#define NEIGH_STATS_FIELD(name, help)	uint64_t name;
	NEIGH_STATS_FOREACH(NEIGH_STATS_FIELD)
#undef NEIGH_STATS_FIELD
};

struct neigh;

struct neigh	*neigh_open(struct event_base *, const char *, char **);
int		 neigh_watch(struct neigh *, const struct ilb_addr *);
void		 neigh_watch_begin(struct neigh *);
int		 neigh_watch_end(struct neigh *);
int		 neigh_lookup(struct neigh *, const struct ilb_addr *,
		    uint8_t [6]);
unsigned int	 neigh_count(const struct neigh *);
const struct neigh_stats *neigh_stats(const struct neigh *);
/* NEIGH_STATS_FOREACH as a counter table, for export. */
extern const struct counter_desc neigh_counters[];
void		 neigh_close(struct neigh *);

#endif

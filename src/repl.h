/* repl.h: replication of connections between ILBs, wired to the daemon. */
#ifndef ILBD_REPL_H
#define ILBD_REPL_H

#include <stdint.h>

#include "config.h"
#include "counter.h"
#include "repl_sm.h"	/* struct repl_stats */

struct event_base;
struct cluster;
struct lb;
struct peer_stats;
struct repl;

/*
 * Start replication for lb over the cluster's multicast channel and a
 * reliable TCP channel to every member. The node starts JOINING and
 * becomes active when the active members have sent it its entries.
 */
struct repl	*repl_open(struct event_base *, const struct ilbd_conf *,
		    struct lb *, struct cluster *, char **);
void		 repl_close(struct repl *);
/*
 * Send what the decision queued (NEW, END, REFRESH); call once a read
 * batch. The backup's reliable copies of NEW and END stay staged.
 */
void		 repl_flush_batch(struct repl *);
/* The same, and the staged backup copies too: call every tick. */
void		 repl_flush(struct repl *);
/* The active membership changed. */
void		 repl_members_changed(struct repl *);
/*
 * Graceful leave: hand every entry to its new holders, wait for their
 * acknowledgement (bounded), announce LEAVING, then call done(arg).
 */
void		 repl_leave(struct repl *, void (*)(void *), void *);
/* Where this node is: joining, active, leaving, left. */
enum repl_sm_phase repl_phase(const struct repl *);
const struct repl_stats *repl_stats(const struct repl *);
/* repl_stats()'s counters, for export (counter.h). */
extern const struct counter_desc repl_counters[];
/* A reloaded configuration (cluster settings unchanged). */
void		 repl_set_conf(struct repl *, const struct ilbd_conf *);
/* The wall clock in ms, for cluster-wide (ADMIN) command versions. */
uint64_t	 repl_realtime_ms(void);
/* The reliable channel's counters. */
const struct peer_stats *repl_peer_stats(const struct repl *);

#endif

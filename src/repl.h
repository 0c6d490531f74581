/* repl.h: replication of connections between ILBs (claims 11-18). */
#ifndef ILBD_REPL_H
#define ILBD_REPL_H

#include <stdint.h>

#include "config.h"

struct event_base;
struct cluster;
struct lb;
struct peer_stats;
struct repl;

#define REPL_STATS_FOREACH(X)						\
	X(mc_sent, "multicast NEW/END/REFRESH datagrams sent")		\
	X(mc_bytes, "bytes of those datagrams")				\
	X(tcp_sent, "messages sent on the reliable channel")		\
	X(tcp_bytes, "bytes of those messages")				\
	X(send_errors, "messages that could not be sent or queued")	\
	X(new_sent, "NEW records multicast")				\
	X(backup_sent, "NEW records sent to the backup (reliable)")	\
	X(joiner_sent, "NEW records sent to a joining member")		\
	X(end_sent, "END records sent")					\
	X(refresh_sent, "REFRESH records sent")				\
	X(xfer_sent, "entries sent in transfer tables")			\
	X(new_rx, "NEW and TRANSFER records received")			\
	X(end_rx, "END records received")				\
	X(refresh_rx, "REFRESH records received")			\
	X(rx_bad, "records refused: malformed or unknown service")	\
	X(rx_unknown_sender, "messages dropped: sender never became known") \
	X(rx_held, "messages held until their sender's ID message came") \
	X(done_sent, "DONE markers sent (end of a transfer table)")	\
	X(done_acked, "DONE markers acknowledged")			\
	X(rebalances, "membership changes applied (claims 17, 18)")	\
	X(join_timeouts, "joins completed by timeout, not every DONE")	\
	X(leave_timeouts, "leaves completed by timeout, not every ACK")	\
	X(backup_flushes, "batches of staged backup copies sent")

struct repl_stats {
#define REPL_STATS_FIELD(name, help)	uint64_t name;
	REPL_STATS_FOREACH(REPL_STATS_FIELD)
#undef REPL_STATS_FIELD
};

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
const struct repl_stats *repl_stats(const struct repl *);
/* Name, value and help of counter i; NULL past the end. */
const char	*repl_stat(const struct repl *, size_t, uint64_t *,
		    const char **);
/* A reloaded configuration (cluster settings unchanged). */
void		 repl_set_conf(struct repl *, const struct ilbd_conf *);
/* The reliable channel's counters. */
const struct peer_stats *repl_peer_stats(const struct repl *);

#endif

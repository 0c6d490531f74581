/* repl_sm.h: replication of connections as a state machine, free of I/O. */
#ifndef ILBD_REPL_SM_H
#define ILBD_REPL_SM_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "config.h"
#include "msg.h"

struct lb;
struct repl_sm;

#define REPL_SM_POLL_MS		50	/* ticks while joining or leaving */
#define REPL_SM_JOIN_TIMEOUT_MS	10000	/* go active without every DONE */
#define REPL_SM_LEAVE_TIMEOUT_MS 5000	/* leave without every ACK */
#define REPL_SM_HELD_MS		5000	/* a message from an unknown sender
					   waits this long */
#define REPL_SM_RECON_MAX	4096	/* records a reconciliation pass */

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
	X(backup_flushes, "batches of staged backup copies sent")	\
	X(end_rel_sent, "END records sent to a holder (reliable)")	\
	X(refresh_rel_sent, "REFRESH records sent to a holder (reliable)") \
	X(rx_stale, "reliable NEW records ignored: holders not as this "	\
	    "node ranks them")						\
	X(recon_passes, "reconciliation passes (owner to backup)")	\
	X(recon_sent, "entries sent to their backup by reconciliation") \
	X(recon_answers, "REFRESH/END sent back to an owner that was behind") \
	X(end_rx_late, "reliable ENDs an owner ignored: traffic within 2 s") \
	X(pull_sent, "syn entries about to expire asked of the members") \
	X(pull_skipped, "syn entries expired unasked: too many in one "	\
	    "tick")							\
	X(pull_rx, "questions for a connection's state received")	\
	X(pull_answers, "REFRESH/END sent to a member that asked")

struct repl_stats {
#define REPL_STATS_FIELD(name, help)	uint64_t name;
	REPL_STATS_FOREACH(REPL_STATS_FIELD)
#undef REPL_STATS_FIELD
};

/*
 * What the core asks its edge to do. Every call is made from inside one of
 * the repl_sm_* calls below; arg is the io's arg.
 */
struct repl_sm_io {
	/* Multicast one message of type (MIXED: NEW, END, REFRESH); 0 or -1. */
	int	(*send_mcast)(void *, uint8_t, const uint8_t *, size_t);
	/*
	 * Queue one message of type on the reliable, ordered channel to the
	 * live member in slot (MIXED: TRANSFER, NEW, END, REFRESH, DONE,
	 * ACK); 0 or -1.
	 */
	int	(*send_reliable)(void *, uint16_t, uint8_t, const uint8_t *,
		    size_t);
	/*
	 * Announce this node's state (MSG_S_ACTIVE, MSG_S_LEAVING). When
	 * that changes the active membership, the edge calls
	 * repl_sm_members_changed() before returning, as cluster_set_state()
	 * does.
	 */
	void	(*set_state)(void *, enum msg_state);
	/* The graceful leave is over: the node may exit. */
	void	(*left)(void *);
	void	*arg;
};

/* Where the node is in its life. */
enum repl_sm_phase {
	REPL_SM_JOINING = 1,		/* waiting for its entries */
	REPL_SM_ACTIVE,			/* scored, owns connections */
	REPL_SM_LEAVING,		/* handing its entries over */
	REPL_SM_LEFT			/* handed over: may exit */
};

/*
 * A core for lb, whose members are those of t (read only: the edge feeds
 * t, and passes its events on). The node starts joining at now. NULL when
 * memory is short.
 */
struct repl_sm	*repl_sm_new(const struct ilbd_conf *, struct lb *,
		    const struct cluster_table *, const struct repl_sm_io *,
		    uint64_t);
void		 repl_sm_free(struct repl_sm *);
/* A reloaded configuration (cluster settings unchanged). */
void		 repl_sm_set_conf(struct repl_sm *, const struct ilbd_conf *);

/* Input: the records lb queued (lb_queue_pop()) after a read batch. */
void		 repl_sm_flush_batch(struct repl_sm *);
/*
 * Input: the periodic tick at now: also sends the staged reliable copies
 * and, when due, a reconciliation pass.
 */
void		 repl_sm_flush(struct repl_sm *, uint64_t);
/* Input: the active membership of t changed. */
void		 repl_sm_members_changed(struct repl_sm *);
/* Input: an event of t about another member (cluster_event_cb). */
void		 repl_sm_member_event(struct repl_sm *, enum cluster_event,
		    uint16_t, const struct cluster_member *, uint64_t);
/* Input: a NEW, END or REFRESH multicast by the live member in slot. */
void		 repl_sm_rx_mcast(struct repl_sm *, uint16_t,
		    const struct msg_view *, uint64_t);
/*
 * Input: a verified message of the reliable channel (v decoded from raw,
 * v->len bytes), whose sender may not be known yet: it then waits.
 */
void		 repl_sm_rx_reliable(struct repl_sm *, const struct msg_view *,
		    const uint8_t *, uint64_t);
/*
 * Input: time, while joining or leaving. Returns 1 if the core wants the
 * next tick REPL_SM_POLL_MS later, 0 if it needs no more.
 */
int		 repl_sm_tick(struct repl_sm *, uint64_t);
/*
 * Input: graceful leave. Hands every entry to its new holders; io->left()
 * once they acknowledged (or at the timeout). Returns as repl_sm_tick().
 */
int		 repl_sm_leave(struct repl_sm *, uint64_t);

enum repl_sm_phase repl_sm_phase(const struct repl_sm *);
const struct repl_stats *repl_sm_stats(const struct repl_sm *);

#endif

/*
 * repl_sm_int.h: the state of the replication core, shared by repl_sm.c
 * (events, membership, join and leave) and repl_stage.c (the batches
 * and staged copies that leave as MIXED messages).  Not an interface.
 */
#ifndef ILBD_REPL_SM_INT_H
#define ILBD_REPL_SM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "lb.h"
#include "msg.h"
#include "repl_sm.h"
#include "score.h"

#define REPL_SLOTS		CLUSTER_MEMBERS_MAX
#define REPL_JOIN_TIMEOUT_MS	REPL_SM_JOIN_TIMEOUT_MS
#define REPL_LEAVE_TIMEOUT_MS	REPL_SM_LEAVE_TIMEOUT_MS
#define REPL_HELD_MAX		8192	/* messages from not-yet-known senders */
#define REPL_HELD_MS		REPL_SM_HELD_MS
#define REPL_STAGE_MAX		1024	/* backup copies waiting for a tick */
#define REPL_RECON_MAX		REPL_SM_RECON_MAX
#define REPL_RECON_SCAN		(4 * REPL_RECON_MAX)	/* entries looked at */
#define REPL_RECON_MIN_MS	1000	/* between two passes, at least */
#define REPL_PULL_TICK		512	/* PULLs a tick, at most */
#define REPL_END_QUIET_S	2	/* an owner's entry this long idle takes a
					   reliable END */

/*
 * A message on the reliable channel from a sender not known yet: a joiner
 * can receive its transfer table before the sender's first ID message.
 */
struct repl_sm_held {
	struct repl_sm_held	*next;
	uint64_t		 at;		/* ms, when it arrived */
	size_t			 len;
	uint8_t			 raw[];
};

/*
 * A MIXED message being filled for one destination: records of any type,
 * in the order they were put (repl_stage.c).
 */
struct repl_sm_buf {
	unsigned int	n;			/* records in body */
	size_t		off;			/* bytes in body */
	uint8_t		body[MSG_BODY_MAX];
};

/* What we know of a member, by its cluster slot. */
struct repl_sm_peer {
	struct repl_sm_buf	tx;		/* reliable channel batch */
	uint32_t		done_wait;	/* DONE sent, ACK awaited */
	uint8_t			join_done;	/* joining: its DONE came */
	uint8_t			planned;	/* it joins: entries sent */
};

/*
 * A reliable copy (NEW, END or REFRESH) for another holder, waiting for
 * the next repl_sm_flush().
 */
struct repl_sm_staged {
	uint16_t		slot;		/* the holder; NONE: dropped */
	struct lb_record	rec;
};

/* The replication state of this node. */
struct repl_sm {
	const struct ilbd_conf	*conf;
	struct lb		*lb;
	const struct cluster_table *t;		/* members, read only */
	struct repl_sm_io	 io;		/* what the edge does for us */
	struct repl_sm_buf	 mc;		/* multicast batch */
	struct repl_sm_staged	*stage;		/* REPL_STAGE_MAX, in order */
	unsigned int		 nstage;
	int			 staging;	/* repl_sm_stage_send() runs */
	struct repl_sm_peer	*p;		/* REPL_SLOTS */
	int			 tx_pending;	/* some p[].tx may hold records */
	uint32_t		 xfer_next;
	struct score_member	 pro[LB_MEMBERS_MAX];	/* active + joiners */
	struct member_id	 pro_ids[LB_MEMBERS_MAX];
	uint16_t		 pro_slots[LB_MEMBERS_MAX];
	size_t			 npro;
	int			 njoiners;
	uint64_t		 join_start;
	int			 active;
	int			 leaving;	/* 1 handing over, 2 left */
	uint64_t		 leave_start;
	uint64_t		 recon_next;	/* ms: next reconciliation pass */
	uint64_t		 recon_last;	/* ms: the last one */
	uint32_t		 recon_cursor;	/* LTOC pool index it goes on at */
	int			 recon_early;	/* membership changed: soon */
	unsigned int		 pulls;		/* PULLs sent this tick */
	struct repl_sm_held	*held;		/* FIFO, oldest first */
	struct repl_sm_held	**held_tail;
	unsigned int		 nheld;
	struct repl_stats	 stats;
};

/* repl_stage.c: batches (MIXED messages) and the staged reliable copies. */
void		 repl_sm_buf_send(struct repl_sm *, struct repl_sm_buf *, int);
void		 repl_sm_send_pending(struct repl_sm *);
struct repl_sm_buf *repl_sm_buf_of(struct repl_sm *, int);
void		 repl_sm_slot_id(struct repl_sm *, uint16_t,
		    struct member_id *);
uint8_t		 repl_sm_rec_flags(const struct lb_record *);
void		 repl_sm_put_conn(struct repl_sm *, int, uint8_t,
		    const struct flow_key *, unsigned int, unsigned int,
		    uint16_t, uint16_t, uint8_t, uint8_t, uint16_t);
void		 repl_sm_put_key(struct repl_sm *, int, uint8_t,
		    const struct flow_key *, uint16_t);
int		 repl_sm_put_done(struct repl_sm *, uint16_t, uint8_t,
		    const struct msg_done *);
void		 repl_sm_stage(struct repl_sm *, uint16_t,
		    const struct lb_record *);
void		 repl_sm_stage_send(struct repl_sm *);
void		 repl_sm_stage_forget(struct repl_sm *, uint16_t);
int		 repl_sm_slot_live(const struct repl_sm *, uint16_t);
void		 repl_sm_stage_holders(struct repl_sm *,
		    const struct lb_record *);

#endif

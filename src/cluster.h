/* cluster.h: cluster membership from ID messages over UDP multicast. */
#ifndef ILBD_CLUSTER_H
#define ILBD_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "counter.h"
#include "flow.h"
#include "msg.h"
#include "util.h"

#define CLUSTER_MEMBERS_MAX	256	/* slots, self included */
#define CLUSTER_ONCE_MAX	32	/* peers remembered for log-once */
#define CLUSTER_SEEN_MAX	1024	/* departed ids remembered once
					   their slot is given to another */
#define CLUSTER_EPOCH_FILE	"epoch"	/* in node.state_dir */
#define CLUSTER_HOLD_DEAD	4	/* a held member that does not join
					   again within this many dead_ms:
					   this node joins again instead */

/*
 * What happened to another member; passed to the event callback with
 * the member (its state and prev_state tell joining, active, leaving).
 */
enum cluster_event {
	CLUSTER_E_JOIN = 1,	/* new member (in any state, joining too),
				   or back after it was gone */
	CLUSTER_E_RESTART,	/* known member with a new boot epoch */
	CLUSTER_E_STATE,	/* announced state or address changed:
				   joining->active, active->leaving... */
	CLUSTER_E_GONE		/* silent for dead_ms (claim 18) */
};

/* One slot of the membership table; slot numbers are stable. */
struct cluster_member {
	struct member_id	id;
	char			id_text[ILB_ADDRSTRLEN];
	struct ilb_addr		addr;		/* GRE and unicast address */
	uint8_t			in_use;		/* slot holds this id */
	uint8_t			alive;		/* heard within dead_ms */
	uint8_t			self;		/* this node */
	uint8_t			state;		/* enum msg_state, announced */
	uint8_t			prev_state;	/* before the last change */
	uint8_t			held;		/* back from gone claiming
						   active: not scored until
						   it joins again (merge) */
	uint8_t			scoring;	/* announced */
	uint16_t		members;	/* announced member count */
	uint64_t		epoch;		/* boot epoch */
	uint64_t		seq;		/* last multicast sequence */
	uint64_t		useq;		/* last unicast (TCP) sequence */
	uint64_t		gaps;		/* multicast messages missed */
	uint64_t		last_heard;	/* ms, monotonic */
	uint64_t		since;		/* ms: joined, restarted or gone */
	uint32_t		hello_ms;	/* announced */
	uint32_t		dead_ms;	/* announced */
	uint32_t		restarts;	/* epochs seen after the first */
};

/* Counters; rejected[] is indexed by enum msg_reason. */
struct cluster_stats {
	uint64_t		sent;		/* ID messages sent */
	uint64_t		sent_msgs;	/* NEW, END... multicast */
	uint64_t		send_errors;
	uint64_t		received;	/* datagrams read */
	uint64_t		recv_errors;
	uint64_t		accepted;	/* valid ID messages applied */
	uint64_t		rejected[MSG_R_MAX];	/* codec and MAC */
	uint64_t		replays;	/* old epoch or sequence */
	uint64_t		scoring_mismatch;
	uint64_t		duplicate_id;	/* our id, another epoch */
	uint64_t		own;		/* our own message looped */
	uint64_t		unhandled;	/* typed message, no callback */
	uint64_t		delivered;	/* typed messages to the callback */
	uint64_t		unknown_sender;	/* not a live member (this epoch) */
	uint64_t		gaps;		/* multicast messages missed */
	uint64_t		table_full;
	uint64_t		joins;
	uint64_t		leaves;		/* gone after dead_ms */
	uint64_t		restarts;
	uint64_t		not_peer;	/* unicast from outside
						   cluster.peers */
	uint64_t		merge_held;	/* members back from gone held
						   until they join again */
	uint64_t		merge_rejoins;	/* this node joined again */
	uint64_t		key_next;	/* verified with key_file_next's
						   key (rotation) */
};

/*
 * A departed member whose slot went to another id: its highest epoch and
 * sequence, so that its old messages stay replays for the life of the
 * process.
 */
struct cluster_seen {
	struct member_id	id;
	uint64_t		epoch;
	uint64_t		seq;
	uint64_t		last_heard;	/* ms, monotonic */
};

/* A small set of keys (peer ids, source addresses) for log-once. */
struct cluster_once {
	uint8_t			key[CLUSTER_ONCE_MAX][20];
	unsigned int		n;		/* filled, up to the max */
	unsigned int		next;		/* ring position */
};

typedef void	(*cluster_event_cb)(void *, enum cluster_event,
		    uint16_t, const struct cluster_member *);
/* A verified, fresh non-ID message from the live member in slot. */
typedef void	(*cluster_msg_cb)(void *, uint16_t, const struct msg_view *);

/*
 * The membership state machine, free of I/O and clocks: the daemon and
 * the unit tests drive it with decoded messages and "now" in ms.
 */
struct cluster_table {
	struct cluster_member	m[CLUSTER_MEMBERS_MAX];	/* by slot */
	uint16_t		nslots;		/* slots ever used */
	uint16_t		self;		/* our slot */
	uint16_t		active[CLUSTER_MEMBERS_MAX]; /* sorted by id */
	uint16_t		nactive;
	uint8_t			scoring;	/* enum conf_scoring */
	uint32_t		dead_ms;
	uint64_t		dup_epoch;	/* last duplicate-id epoch logged */
	uint8_t			rejoin;		/* self went joining on a merge:
						   announce it now (cluster.c) */
	/*
	 * Every id ever heard keeps its highest (epoch, seq): in its slot
	 * while it has one (gone members too), then here.  When seen is
	 * full the departed id heard the longest ago is forgotten and
	 * seen_floor rises to its epoch: an id remembered nowhere is then
	 * accepted only with an epoch above seen_floor.
	 */
	struct cluster_seen	seen[CLUSTER_SEEN_MAX];
	uint16_t		nseen;
	uint64_t		seen_floor;
	struct cluster_once	warned_ids;	/* scoring mismatch logged */
	struct cluster_once	warned_srcs;	/* bad datagram logged */
	struct cluster_stats	stats;
	cluster_event_cb	event_cb;	/* optional */
	void			*event_arg;
	cluster_msg_cb		msg_cb;		/* optional */
	void			*msg_arg;
};

/* ---- cluster_table.c: the table, no I/O ---- */
/* Pure membership logic (claims 16-18).  Self starts joining. */
void		 cluster_table_init(struct cluster_table *,
		    const struct member_id *, const struct ilb_addr *, uint64_t,
		    enum conf_scoring, uint32_t, uint64_t);
/* Apply a decoded, verified ID message; 1 if the active set changed. */
int		 cluster_table_input(struct cluster_table *,
		    const struct msg_view *, const struct msg_id *,
		    const struct ilb_addr *, uint64_t);
/*
 * A decoded, verified non-ID multicast message: check the sender (a live
 * member in the epoch we know), the sequence (replays dropped, gaps
 * counted) and pass it to msg_cb.  Returns the slot, or -1 (counted).
 */
int		 cluster_table_msg(struct cluster_table *,
		    const struct msg_view *, const struct ilb_addr *);
/*
 * The same for a message of the reliable channel, whose sequence numbers
 * are a second space of the sender's epoch; not passed to msg_cb.
 */
int		 cluster_table_unicast(struct cluster_table *,
		    const struct msg_view *, const struct ilb_addr *);
/* Our own state; 1 if it changed, 0 if not, -1 if not a state. */
int		 cluster_table_set_state(struct cluster_table *,
		    enum msg_state);
/* Count (and log once per source) a rejected datagram. */
void		 cluster_table_reject(struct cluster_table *, enum msg_reason,
		    const struct ilb_addr *);
/* Remove members silent for dead_ms; 1 if the active set changed. */
int		 cluster_table_expire(struct cluster_table *, uint64_t);
/* Our own ID body, as announced. */
void		 cluster_table_self_id(const struct cluster_table *,
		    uint32_t, struct msg_id *);
size_t		 cluster_table_active(const struct cluster_table *,
		    struct member_id *, uint16_t *, struct ilb_addr *, size_t,
		    size_t *);
size_t		 cluster_table_joining(const struct cluster_table *,
		    struct member_id *, uint16_t *, struct ilb_addr *, size_t);
int		 cluster_table_find_id(const struct cluster_table *,
		    const struct member_id *);
int		 cluster_table_find_addr(const struct cluster_table *,
		    const struct ilb_addr *);
/* The member in a slot in use (alive or gone), or NULL. */
const struct cluster_member *cluster_table_member(
		    const struct cluster_table *, uint16_t);
const struct ilb_addr *cluster_table_slot_addr(const struct cluster_table *,
		    uint16_t);
/* For export, over a struct cluster_table: its counters, its gauges. */
extern const struct counter_desc cluster_counters[];
extern const struct counter_desc cluster_gauges[];
/* The socket's own (cluster.c), over a struct cluster_table too. */
extern const struct counter_desc cluster_io_counters[];

/* ---- cluster.c: the socket, timers and accessors over struct cluster ---- */
struct event_base;
struct cluster;

/*
 * Join cluster.group on node.interface and announce this node every
 * hello_ms, as joining until cluster_set_state(MSG_S_ACTIVE).  members_cb
 * runs whenever the set of active members changes.  Returns NULL with a
 * malloc'd *cause on failure.
 */
struct cluster	*cluster_open(struct event_base *, const struct ilbd_conf *,
		    void (*)(void *), void *, char **);
/* Stop timers, leave the group, close the socket, free. */
void		 cluster_close(struct cluster *);
/*
 * Read and apply, now, what the multicast socket holds (as its read event
 * would, in the same bounded batch): for the data path, which must not
 * decide a packet before a message that came earlier.
 */
void		 cluster_poll(struct cluster *);
/*
 * Apply hello_ms and dead_ms from a new config.  Returns 0, or -1 (and
 * logs why) if it changes something only a restart applies (group, port,
 * interface, node id or address, key, authenticate, scoring).
 */
int		 cluster_reload(struct cluster *, const struct ilbd_conf *);
const char	*cluster_reload_check(const struct cluster *,
		    const struct ilbd_conf *);
/* Also tell cb about joins, restarts, state changes and departures. */
void		 cluster_set_event_cb(struct cluster *, cluster_event_cb,
		    void *);
const struct cluster_stats *cluster_stats(const struct cluster *);
/* Pass every fresh NEW, END, REFRESH... from a live member to cb. */
void		 cluster_set_msg_cb(struct cluster *, cluster_msg_cb, void *);
/*
 * Multicast one message of type (not ID) with the next sequence number
 * and the MAC; body up to MSG_BODY_MAX bytes.  0, or -1 (counted).
 */
int		 cluster_send(struct cluster *, uint8_t, const uint8_t *,
		    size_t);
/*
 * Encode a message of type for the reliable channel into buf (size
 * bytes): our id, epoch, the next unicast sequence number, the MAC.
 * Returns its length, or 0 if it does not fit.
 */
size_t		 cluster_encode(struct cluster *, uint8_t, const uint8_t *,
		    size_t, uint8_t *, size_t);
/*
 * A message read from the reliable channel (buf, len; from: the peer's
 * address): decode, verify, check sender and unicast sequence.  Returns
 * the sender's slot with v filled, or -1 (counted, logged at debug).
 */
int		 cluster_accept(struct cluster *, const uint8_t *, size_t,
		    const struct ilb_addr *, struct msg_view *);
/*
 * Our announced state.  A change is announced at once; members_cb runs
 * before this returns if it changes the active set.  0, or -1 if st is
 * not a state.
 */
int		 cluster_set_state(struct cluster *, enum msg_state);
enum msg_state	 cluster_state(const struct cluster *);

/*
 * The active members (self included when active) sorted by member id,
 * so every node computes the same list: ids, slots and addresses into
 * arrays of max (any may be NULL); *self_index (if not NULL) gets our
 * position, or (size_t)-1 (LB_SELF_NONE) when we are not active.
 * Returns the number of active members (may exceed max).
 */
size_t		 cluster_active(const struct cluster *, struct member_id *,
		    uint16_t *, struct ilb_addr *, size_t, size_t *);
/* Live members announcing joining (self too), sorted by id; as above. */
size_t		 cluster_joining(const struct cluster *, struct member_id *,
		    uint16_t *, struct ilb_addr *, size_t);
/* The slot of the live member with this id, or -1. */
int		 cluster_find_id(const struct cluster *,
		    const struct member_id *);
/* The id or member in a slot in use (alive or gone), or NULL. */
const struct member_id *cluster_slot_id(const struct cluster *, uint16_t);
const struct cluster_member *cluster_slot_member(const struct cluster *,
		    uint16_t);
uint16_t	 cluster_self_slot(const struct cluster *);
/*
 * The membership state machine inside, read only: the replication core
 * (repl_sm.c) reads members from it and is told of its events.
 */
const struct cluster_table *cluster_get_table(const struct cluster *);
/*
 * The address of a live member's slot, or NULL; with gone set, also of a
 * member declared gone whose slot no one has taken since (lb_udp_gone()).
 */
const struct ilb_addr *cluster_slot_addr(const struct cluster *, uint16_t,
		    int);
/* The slot of the live member with this address (GRE handoffs), or -1. */
int		 cluster_find_addr(const struct cluster *,
		    const struct ilb_addr *);
/* Every slot in use (gone ones too: see alive); age_ms = now - last heard. */
void		 cluster_foreach_member(const struct cluster *,
		    void (*)(void *, uint16_t, const struct cluster_member *,
		    uint64_t), void *);
/* This node's boot epoch. */
uint64_t	 cluster_epoch(const struct cluster *);
/*
 * The boot epoch for a start at clock_ns (wall-clock ns): above both
 * clock_ns and the last one recorded in dir/CLUSTER_EPOCH_FILE, which is
 * then replaced (written, synced, renamed) with the new one; dir "" is
 * the clock alone.  0, or -1 with a malloc'd *cause naming the file.
 */
int		 cluster_epoch_boot(const char *, uint64_t, uint64_t *,
		    char **);

#endif

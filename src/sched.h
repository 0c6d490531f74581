/* sched.h: server selection for one service (rr, wrr, lc, wlc, Maglev hash). */
#ifndef ILBD_SCHED_H
#define ILBD_SCHED_H

#include <stdint.h>

#include "config.h"
#include "flow.h"

#define SCHED_WEIGHT_MAX	1000	/* as server_conf.weight */
#define SCHED_MAGLEV_MIN	4093	/* smallest Maglev table (prime) */
#define SCHED_MAGLEV_PER_SRV	400	/* table slots per configured server */
#define SCHED_MAGLEV_MAX	65537	/* largest table (prime, 2^16 + 1) */
#define SCHED_MAGLEV_EMPTY	UINT16_MAX	/* slot with no server */

/*
 * Runtime state of one server, kept apart from its server_conf. A server is
 * eligible when it is up, not drained and its weight is above zero.
 */
struct sched_server {
	uint32_t	weight;		/* 0..1000, from conf, `server weight` */
	uint8_t		up;		/* health: 1 up, 0 down */
	uint8_t		drained;	/* operator drain */
	uint32_t	active;		/* active connections, see sched_conn_* */
	int32_t		cur_weight;	/* smooth wrr current weight */
	uint32_t	mg_offset;	/* Maglev permutation start, from address */
	uint32_t	mg_skip;	/* Maglev permutation step, 1..M-1 */
	uint32_t	mg_pos;		/* rebuild scratch: next slot to try */
	uint32_t	mg_credit;	/* rebuild scratch: weighted fill credit */
	uint32_t	mg_round;	/* rebuild scratch: round of next claim */
};

struct sched {
	enum conf_sched		 kind;
	struct sched_server	*srv;		/* n servers, config order */
	unsigned int		 n;
	unsigned int		 next;		/* rr cursor, lc/wlc tie rotation */
	uint16_t		*maglev;	/* maglev_size slots: server index */
	uint32_t		 maglev_size;	/* prime M, 2*M bytes, <= 128 KiB */
	uint16_t		*heap;		/* rebuild scratch: n entries */
	int			 dirty;		/* set changed since last rebuild */
};

/*
 * Set up s for n servers (1..CONF_SERVERS_MAX) of conf: weights from conf,
 * every server up and not drained, no active connections, Maglev table
 * built. Allocates; returns 0, or -1 with errno set (EINVAL, ENOMEM).
 */
int	sched_init(struct sched *, enum conf_sched, const struct server_conf *,
	    unsigned int);
void	sched_free(struct sched *);

/*
 * Setters for health, operator drain and `server weight`: they mark the
 * Maglev table dirty and restart smooth wrr. Out-of-range index or weight:
 * -1, nothing changed. Call sched_rebuild() once after a batch of them.
 */
int	sched_set_up(struct sched *, unsigned int, int);
int	sched_set_drained(struct sched *, unsigned int, int);
int	sched_set_weight(struct sched *, unsigned int, uint32_t);
/* Rebuild the Maglev table if dirty; no allocation, O(M log M). */
void	sched_rebuild(struct sched *);

/* Eligible: up, not drained, weight above zero. */
static inline int
sched_server_eligible(const struct sched_server *sv)
{
	return sv->up && !sv->drained && sv->weight > 0;
}

/* Server i of s is eligible; 0 if out of range. */
int	sched_eligible(const struct sched *, unsigned int);
unsigned int
	sched_neligible(const struct sched *);

/*
 * Active connection counts feed lc and wlc. sched_pick() does not count:
 * the owner calls sched_conn_add() once the connection is in its LTOC (or
 * learnt from a transfer table) and sched_conn_del() when it leaves it.
 */
void	sched_conn_add(struct sched *, unsigned int);
void	sched_conn_del(struct sched *, unsigned int);

/*
 * Pick a server for a new connection with the service's scheduler: its
 * index, or -1 when no server is eligible (the caller drops and counts).
 * Per packet: no allocation, O(n) for rr/wrr/lc/wlc, O(1) for hash. key
 * is only read by hash (may be NULL otherwise).
 */
int	sched_pick(struct sched *, const struct flow_key *);

/*
 * The Maglev choice for key whatever s->kind is: the stateless fallback.
 * Same answer on every ILB with the same config and health view. A table
 * left dirty is never trusted blindly: an ineligible slot is probed past.
 */
int	sched_pick_hash(const struct sched *, const struct flow_key *);

/* 64-bit hash of key->id[0..len), fixed seed, same on every host. */
uint64_t
	sched_hash_key(const struct flow_key *);
/* The Maglev table size used for n configured servers. */
uint32_t
	sched_maglev_size(unsigned int);

#endif

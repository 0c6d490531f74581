/* lb_member.c: membership changes: who holds each entry now (claims 17, 18). */

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "conntab.h"
#include "lb.h"
#include "lb_int.h"
#include "ltoc.h"
#include "score.h"

/* A membership to score entries against: the current or a prospective. */
struct lb_view {
	const struct score_member	*m;
	const uint16_t			*slots;
	size_t				 n;
};

/* Where one LTOC entry goes under a view, and who tells the new holders. */
struct lb_move {
	int		owner;		/* new owner: view index or -1 */
	int		backup;		/* new backup: view index or -1 */
	uint16_t	oslot;		/* their slots or CONN_SLOT_NONE */
	uint16_t	bslot;
	int		responsible;	/* self sends to the new holders */
};

/* Precompute the scoring constants of n members into m and their slots. */
static void
lb_members_load(const struct lb *lb, struct score_member *m, uint16_t *ms,
    const struct member_id *ids, const uint16_t *slots, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		score_member_init(&lb->score, &m[i], &ids[i]);
		ms[i] = slots[i];
	}
}

int
lb_set_members(struct lb *lb, const struct member_id *ids,
    const uint16_t *slots, size_t n, size_t self)
{
	lb->nmembers = 0;
	lb->self = LB_SELF_NONE;
	if (n > LB_MEMBERS_MAX || (self != LB_SELF_NONE && self >= n))
		return (-1);
	lb_members_load(lb, lb->members, lb->slots, ids, slots, n);
	lb->nmembers = n;
	lb->self = self;
	if (self != LB_SELF_NONE)
		lb->self_slot = slots[self];
	return (0);
}

void
lb_set_self_slot(struct lb *lb, uint16_t slot)
{
	lb->self_slot = slot;
}

/* Index of the member with slot in v, or -1. Linear: views are small. */
static int
lb_view_find(const struct lb_view *v, uint16_t slot)
{
	size_t	i;

	if (slot == CONN_SLOT_NONE)
		return (-1);
	for (i = 0; i < v->n; i++)
		if (v->slots[i] == slot)
			return ((int)i);
	return (-1);
}

static uint16_t
lb_view_slot(const struct lb_view *v, int idx)
{
	return (idx < 0 ? CONN_SLOT_NONE : v->slots[idx]);
}

/* Does member a of v rank above member b for key (score_rank's order)? */
static int
lb_view_better(const struct lb *lb, const struct lb_view *v,
    const struct flow_key *key, int a, int b)
{
	return (score_better(score_one(&lb->score, &v->m[a], key), &v->m[a].id,
	    score_one(&lb->score, &v->m[b], key), &v->m[b].id));
}

/*
 * Is self the node that tells e's new holders under v? Exactly one node
 * is: among e's old holders (owner and backup slots) still in v, the best
 * ranked under v. When neither is in v nobody that stays knows the entry:
 * the old owner, leaving (self, not in v), sends it instead; a dead one
 * cannot and the entry is lost.
 */
static int
lb_responsible(const struct lb *lb, const struct lb_view *v,
    const struct conn_entry *e)
{
	int	o, b, best;

	if (lb->self_slot == CONN_SLOT_NONE)
		return (0);
	o = lb_view_find(v, e->owner);
	b = lb_view_find(v, e->backup);
	if (o < 0 && b < 0)
		return (e->owner == lb->self_slot);
	if (o < 0)
		best = b;
	else if (b < 0)
		best = o;
	else
		best = lb_view_better(lb, v, &e->key, o, b) ? o : b;
	return (v->slots[best] == lb->self_slot);
}

/* Score e under v: its new holders and whether self must send it. */
static void
lb_move_plan(const struct lb *lb, const struct lb_view *v,
    const struct conn_entry *e, struct lb_move *mv)
{
	score_rank(&lb->score, v->m, v->n, &e->key, &mv->owner, &mv->backup);
	mv->oslot = lb_view_slot(v, mv->owner);
	mv->bslot = lb_view_slot(v, mv->backup);
	mv->responsible = lb_responsible(lb, v, e);
}

/*
 * Send c (new holders already in it) to each new holder that was not one
 * of the old ones, owner and backup, if self is responsible. Rows:
 *   claim 17, R owner -> J owner, R backup: R ranks above the old backup,
 *	so R sends to J, as owned (c.owner = J);
 *   claim 17, R owner -> R owner, J backup: R sends to J, as backup;
 *   claim 17, R backup -> J owner or backup, R neither: the old owner is a
 *	new holder and ranks above R: it sends, R does not;
 *   claim 18, R owner, F backup left: R alone survives, sends to the new
 *	backup (the next score);
 *   claim 18, R backup, F owner left: R alone survives, is the new owner,
 *	sends to the new backup.
 */
static int
lb_move_send(struct lb *lb, const struct lb_move *mv, uint16_t old_owner,
    uint16_t old_backup, const struct conn_entry *c, lb_send_cb send,
    void *arg)
{
	uint16_t	dst[2];
	int		i, sent = 0;

	if (!mv->responsible || send == NULL)
		return (0);
	dst[0] = mv->oslot;
	dst[1] = mv->bslot;
	for (i = 0; i < 2; i++) {
		if (dst[i] == CONN_SLOT_NONE || dst[i] == old_owner ||
		    dst[i] == old_backup)
			continue;
		send(arg, c, dst[i]);
		sent++;
	}
	lb->stats.entries_sent += (uint64_t)sent;
	return (sent);
}

/*
 * An LTOC entry self no longer holds moves to the cache with its new
 * holders, keeping its state and idle time: self still forwards it.
 */
static void
lb_ltoc_to_cache(struct lb *lb, struct conn_entry *e)
{
	struct conn_entry	*c;
	uint64_t		 last = (uint64_t)e->last * 1000;

	if ((c = cache_insert(&lb->cache, &e->key, last)) != NULL) {
		cache_set_state(&lb->cache, c, (enum conn_state)e->state, last);
		c->service = e->service;
		c->server = e->server;
		c->owner = e->owner;
		c->backup = e->backup;
	}
	lb->stats.to_cache++;
	lb_entry_remove(lb, e);
}

/* Self's new role for e (holders already updated); may free e. */
static void
lb_rebalance_role(struct lb *lb, struct conn_entry *e,
    const struct lb_move *mv)
{
	if (lb_is_self(lb, mv->owner)) {
		/* claim 18, R backup, F owner left: R becomes owner */
		if (e->role != CONN_ROLE_OWNER) {
			lb_entry_set_role(lb, e, CONN_ROLE_OWNER);
			lb->stats.promoted++;
		}
	} else if (lb_is_self(lb, mv->backup)) {
		/* claim 17, R owner -> J owner: R's role -> backup */
		if (e->role != CONN_ROLE_BACKUP) {
			lb_entry_set_role(lb, e, CONN_ROLE_BACKUP);
			lb->stats.to_backup++;
		}
	} else {
		/* claim 17, R backup -> R neither: delete, keep in cache */
		lb_ltoc_to_cache(lb, e);
	}
}

/* claim 18: drop departed members from cached owners and backups. */
static void
lb_rebalance_cache(struct lb *lb, const struct lb_view *v)
{
	struct conn_entry	*e;
	uint32_t		 cursor;
	int			 o, b;

	CACHE_FOREACH(e, &lb->cache, cursor) {
		if (lb_view_find(v, e->owner) >= 0 &&
		    (e->backup == CONN_SLOT_NONE ||
		    lb_view_find(v, e->backup) >= 0))
			continue;
		score_rank(&lb->score, v->m, v->n, &e->key, &o, &b);
		e->owner = lb_view_slot(v, o);
		e->backup = lb_view_slot(v, b);
		lb->stats.cache_rehomed++;
	}
}

int
lb_rebalance(struct lb *lb, const struct member_id *ids,
    const uint16_t *slots, size_t n, size_t self, lb_send_cb send, void *arg)
{
	struct lb_view		 v;
	struct lb_move		 mv;
	struct conn_entry	*e;
	uint32_t		 cursor;
	uint16_t		 old_owner, old_backup;
	int			 sent = 0;

	if (n > LB_MEMBERS_MAX || (self != LB_SELF_NONE && self >= n))
		return (-1);
	(void)lb_set_members(lb, ids, slots, n, self);
	v.m = lb->members;
	v.slots = lb->slots;
	v.n = lb->nmembers;
	lb->stats.rebalances++;
	LTOC_FOREACH(e, &lb->ltoc, cursor) {
		lb_move_plan(lb, &v, e, &mv);
		old_owner = e->owner;
		old_backup = e->backup;
		e->owner = mv.oslot;
		e->backup = mv.bslot;
		sent += lb_move_send(lb, &mv, old_owner, old_backup, e, send,
		    arg);
		lb_rebalance_role(lb, e, &mv);
	}
	lb_rebalance_cache(lb, &v);
	return (sent);
}

int
lb_plan(struct lb *lb, const struct member_id *ids, const uint16_t *slots,
    size_t n, lb_send_cb send, void *arg)
{
	struct lb_view		 v;
	struct lb_move		 mv;
	struct conn_entry	*e, c;
	uint32_t		 cursor;
	int			 sent = 0;

	if (n > LB_MEMBERS_MAX)
		return (-1);
	lb_members_load(lb, lb->plan, lb->plan_slots, ids, slots, n);
	v.m = lb->plan;
	v.slots = lb->plan_slots;
	v.n = n;
	lb->stats.plans++;
	LTOC_FOREACH(e, &lb->ltoc, cursor) {
		lb_move_plan(lb, &v, e, &mv);
		if (!mv.responsible)
			continue;
		c = *e;
		c.owner = mv.oslot;
		c.backup = mv.bslot;
		sent += lb_move_send(lb, &mv, e->owner, e->backup, &c, send,
		    arg);
	}
	return (sent);
}

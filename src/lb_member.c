/* lb_member.c: membership changes: who holds each entry now (claims 17, 18). */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "conntab.h"
#include "lb.h"
#include "lb_int.h"
#include "ltoc.h"
#include "score.h"
#include "view.h"

/* Where one LTOC entry goes under a view, and who tells the new holders. */
struct lb_move {
	struct view_pick	to;		/* new owner and backup */
	int			responsible;	/* self sends to them */
};

/* Forget the i-th member gone lately (the last takes its place). */
static void
lb_gone_remove(struct lb *lb, unsigned int i)
{
	lb->ngone--;
	lb->gone[i] = lb->gone[lb->ngone];
	lb->gone_slots[i] = lb->gone_slots[lb->ngone];
	lb->gone_at[i] = lb->gone_at[lb->ngone];
}

/* Forget the members gone lately that are back in the view (lb_udp_gone()). */
static void
lb_gone_prune(struct lb *lb)
{
	unsigned int	i = 0;
	size_t		j;

	while (i < lb->ngone) {
		for (j = 0; j < lb->nmembers &&
		    lb->slots[j] != lb->gone_slots[i]; j++)
			;
		if (j == lb->nmembers) {
			i++;
			continue;
		}
		lb_gone_remove(lb, i);
	}
}

/* Remember member m, slot s, as gone now; the oldest goes when full. */
static void
lb_gone_add(struct lb *lb, const struct score_member *m, uint16_t s)
{
	unsigned int	i, k = lb->ngone;

	for (i = 0; i < lb->ngone; i++)
		if (lb->gone_slots[i] == s)
			k = i;
	if (k == LB_GONE_MAX)	/* full: the oldest (0 is not stamped yet) */
		for (k = 0, i = 1; i < lb->ngone; i++)
			if (lb->gone_at[i] != 0 && (lb->gone_at[k] == 0 ||
			    lb->gone_at[i] < lb->gone_at[k]))
				k = i;
	if (k == lb->ngone)
		lb->ngone++;
	lb->gone[k] = *m;
	lb->gone_slots[k] = s;
	lb->gone_at[k] = 0;
}

void
lb_gone_drop(struct lb *lb, uint16_t slot)
{
	unsigned int	i;

	for (i = 0; i < lb->ngone; i++)
		if (lb->gone_slots[i] == slot) {
			lb_gone_remove(lb, i);
			return;
		}
}

void
lb_gone_expire(struct lb *lb, uint64_t now)
{
	unsigned int	i = 0;

	while (i < lb->ngone) {
		if (lb->gone_at[i] == 0)
			lb->gone_at[i] = now;
		if (now < lb->gone_at[i] + lb->gone_ms) {
			i++;
			continue;
		}
		lb_gone_remove(lb, i);
	}
}

int
lb_set_members(struct lb *lb, const struct member_id *ids,
    const uint16_t *slots, size_t n, size_t self)
{
	struct view	v;

	lb->nmembers = 0;
	lb->self = LB_SELF_NONE;
	if (n > LB_MEMBERS_MAX || (self != LB_SELF_NONE && self >= n))
		return (-1);
	view_load(&v, &lb->score, lb->members, lb->slots, ids, slots, n);
	lb->nmembers = v.n;
	lb->self = self;
	if (self != LB_SELF_NONE)
		lb->self_slot = slots[self];
	lb_gone_prune(lb);
	return (0);
}

void
lb_set_self_slot(struct lb *lb, uint16_t slot)
{
	lb->self_slot = slot;
}

/*
 * Is self the node that tells e's new holders under v? Exactly one node
 * is: among e's old holders (owner and backup slots) still in v, the best
 * ranked under v. When neither is in v nobody that stays knows the entry:
 * the old owner, leaving (self, not in v), sends it instead; a dead one
 * cannot and the entry is lost.
 */
static int
lb_responsible(const struct lb *lb, const struct view *v,
    const struct conn_entry *e)
{
	struct score_member	m[2];
	uint16_t		slots[2];
	struct view		old = { v->ctx, m, slots, 0 };
	struct view_pick	best;
	int			o, b;

	if (lb->self_slot == CONN_SLOT_NONE)
		return (0);
	o = view_find(v, e->owner);
	b = view_find(v, e->backup);
	if (o < 0 && b < 0)
		return (e->owner == lb->self_slot);
	/* the old holders in v, ranked as v ranks them */
	if (o >= 0) {
		m[old.n] = v->m[o];
		slots[old.n++] = v->slots[o];
	}
	if (b >= 0) {
		m[old.n] = v->m[b];
		slots[old.n++] = v->slots[b];
	}
	view_rank(&old, &e->key, &best);
	return (best.oslot == lb->self_slot);
}

/* Score e under v: its new holders and whether self must send it. */
static void
lb_move_plan(const struct lb *lb, const struct view *v,
    const struct conn_entry *e, struct lb_move *mv)
{
	view_rank(v, &e->key, &mv->to);
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
	dst[0] = mv->to.oslot;
	dst[1] = mv->to.bslot;
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
		cache_set_service(&lb->cache, c, e->service);
		c->server = e->server;
		c->owner = e->owner;
		c->backup = e->backup;
		c->syn_tag = e->syn_tag;
	}
	lb->stats.to_cache++;
	lb_entry_remove(lb, e);
}

/* Self's new role for e (holders already updated); may free e. */
static void
lb_rebalance_role(struct lb *lb, struct conn_entry *e,
    const struct lb_move *mv)
{
	if (lb_is_self(lb, mv->to.owner)) {
		/* claim 18, R backup, F owner left: R becomes owner */
		if (e->role != CONN_ROLE_OWNER) {
			lb_entry_set_role(lb, e, CONN_ROLE_OWNER);
			lb->stats.promoted++;
		}
	} else if (lb_is_self(lb, mv->to.backup)) {
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

/* Has slot left: not in v, or gone since the adoption walk began? */
static int
lb_slot_gone(const struct lb *lb, const struct view *v, uint16_t slot)
{
	if (slot == CONN_SLOT_NONE)
		return (1);
	return (view_find(v, slot) < 0 ||
	    (lb->adopt_gone[slot / 8] & (1U << (slot % 8))) != 0);
}

/*
 * Cache entry c becomes an LTOC entry in self's role under mv->to, its
 * state and idle time kept; c is freed. NULL if the LTOC is full (c
 * stays: self still forwards from it) or already has the key (a copy
 * came first; it never leaves a cache entry beside it, but be safe).
 */
static struct conn_entry *
lb_adopt_entry(struct lb *lb, struct conn_entry *c, const struct lb_move *mv)
{
	struct conn_entry	*e;
	uint64_t		 last = (uint64_t)c->last * 1000;

	if (ltoc_lookup(&lb->ltoc, &c->key) != NULL)
		return (NULL);
	if ((e = ltoc_insert(&lb->ltoc, &c->key, last)) == NULL) {
		lb->stats.ltoc_full++;
		return (NULL);
	}
	ltoc_set_state(&lb->ltoc, e, (enum conn_state)c->state, last);
	e->syn_tag = c->syn_tag;	/* the connection's tag, 0: unknown */
	ltoc_set_service(&lb->ltoc, e, c->service);
	e->server = c->server;
	e->owner = mv->to.oslot;
	e->backup = mv->to.bslot;
	lb_udp_learnt(e);
	lb_entry_set_role(lb, e, lb_is_self(lb, mv->to.owner) ?
	    CONN_ROLE_OWNER : CONN_ROLE_BACKUP);
	cache_remove(&lb->cache, c);
	lb->stats.adopted++;
	return (e);
}

/*
 * claim 18, for what self knows only from its cache: c's owner or backup
 * left. It gets new holders by score; if self is one, self adopts it
 * (lb_adopt_entry()), and when neither old holder survives to hand it on
 * (owner and backup died together, or one after the other before the
 * cache walk reached c) self sends it to the other new holder, as a
 * responsible old holder would (lb_move_send()). Both new holders may
 * hold it in their caches and send it to each other: the copy updates
 * an entry in place.
 */
static int
lb_adopt_one(struct lb *lb, const struct view *v, struct conn_entry *c,
    lb_send_cb send, void *arg)
{
	struct lb_move		 mv;
	struct conn_entry	*e;
	int			 og, bg;

	og = lb_slot_gone(lb, v, c->owner);
	bg = lb_slot_gone(lb, v, c->backup);
	if (!og && (!bg || c->backup == CONN_SLOT_NONE))
		return (0);
	view_rank(v, &c->key, &mv.to);
	c->owner = mv.to.oslot;
	c->backup = mv.to.bslot;
	lb->stats.cache_rehomed++;
	if (og && bg)
		lb->stats.holders_gone++;
	if (!lb_is_self(lb, mv.to.owner) && !lb_is_self(lb, mv.to.backup))
		return (0);
	if ((e = lb_adopt_entry(lb, c, &mv)) == NULL)
		return (0);
	/* a surviving old holder sends (lb_rebalance()): self need not */
	mv.responsible = og && bg;
	return (lb_move_send(lb, &mv, lb->self_slot, lb->self_slot, e, send,
	    arg));
}

/*
 * The cache walk of lb_rebalance(), in slices: a cache of a million
 * entries would hold the event loop too long in one go, so each call
 * visits at most budget entries and the tick (repl_sm_flush()) goes on.
 * Packets of entries not yet visited still forward from the cache.
 */
int
lb_adopt_step(struct lb *lb, unsigned int budget, lb_send_cb send, void *arg)
{
	struct view		 v;
	struct conn_entry	*c;
	unsigned int		 i;
	int			 sent = 0;

	if (!lb->adopt_walking)
		return (0);
	lb_members_view(lb, &v);
	for (i = 0; i < budget; i++) {
		if ((c = cache_next(&lb->cache, &lb->adopt_cursor)) == NULL) {
			lb->adopt_walking = 0;
			memset(lb->adopt_gone, 0, sizeof(lb->adopt_gone));
			break;
		}
		sent += lb_adopt_one(lb, &v, c, send, arg);
	}
	return (sent);
}

/*
 * Note the members of the old view that are not in the new one (slots,
 * n) in adopt_gone and in gone (lb_udp_gone()); count a change that
 * loses two or more of them with no cache to adopt from (nobody left
 * knows what only they held).
 */
static void
lb_note_departed(struct lb *lb, const uint16_t *slots, size_t n)
{
	size_t		i, j, gone = 0;
	uint16_t	s;

	for (i = 0; i < lb->nmembers; i++) {
		s = lb->slots[i];
		for (j = 0; j < n && slots[j] != s; j++)
			;
		if (j < n)
			continue;
		lb->adopt_gone[s / 8] |= (uint8_t)(1U << (s % 8));
		if (s != lb->self_slot)
			lb_gone_add(lb, &lb->members[i], s);
		gone++;
	}
	if (gone >= 2 && !cache_enabled(&lb->cache))
		lb->stats.left_together++;
}

int
lb_rebalance(struct lb *lb, const struct member_id *ids,
    const uint16_t *slots, size_t n, size_t self, lb_send_cb send, void *arg)
{
	struct view		 v;
	struct lb_move		 mv;
	struct conn_entry	*e;
	uint32_t		 cursor;
	uint16_t		 old_owner, old_backup;
	int			 sent = 0;

	if (n > LB_MEMBERS_MAX || (self != LB_SELF_NONE && self >= n))
		return (-1);
	lb_note_departed(lb, slots, n);
	(void)lb_set_members(lb, ids, slots, n, self);
	lb_members_view(lb, &v);
	lb->stats.rebalances++;
	LTOC_FOREACH(e, &lb->ltoc, cursor) {
		lb_move_plan(lb, &v, e, &mv);
		old_owner = e->owner;
		old_backup = e->backup;
		e->owner = mv.to.oslot;
		e->backup = mv.to.bslot;
		sent += lb_move_send(lb, &mv, old_owner, old_backup, e, send,
		    arg);
		lb_rebalance_role(lb, e, &mv);
	}
	/* claim 18: the cache walk starts again over the new view */
	lb->adopt_cursor = 0;
	lb->adopt_walking = 1;
	sent += lb_adopt_step(lb, lb->adopt_slice != 0 ? lb->adopt_slice :
	    LB_ADOPT_SLICE, send, arg);
	return (sent);
}

int
lb_rebalance_fmt(const struct lb_stats *a, const struct lb_stats *b,
    char *buf, size_t len)
{
	if (b->left_together != a->left_together) {
		(void)snprintf(buf, len, "2 or more members left together and "
		    "cache_size is 0: connections only they held are lost "
		    "(their packets drop as orphan)");
		return (1);
	}
	if (b->adopted == a->adopted && b->holders_gone == a->holders_gone)
		return (0);
	(void)snprintf(buf, len, "adopted %llu cache entries, %llu had lost "
	    "both holders (cache walk: first slice)",
	    (unsigned long long)(b->adopted - a->adopted),
	    (unsigned long long)(b->holders_gone - a->holders_gone));
	return (1);
}

int
lb_plan(struct lb *lb, const struct member_id *ids, const uint16_t *slots,
    size_t n, lb_send_cb send, void *arg)
{
	struct view		 v;
	struct lb_move		 mv;
	struct conn_entry	*e, c;
	uint32_t		 cursor;
	int			 sent = 0;

	if (n > LB_MEMBERS_MAX)
		return (-1);
	view_load(&v, &lb->score, lb->plan, lb->plan_slots, ids, slots, n);
	lb->stats.plans++;
	LTOC_FOREACH(e, &lb->ltoc, cursor) {
		lb_move_plan(lb, &v, e, &mv);
		if (!mv.responsible)
			continue;
		c = *e;
		c.owner = mv.to.oslot;
		c.backup = mv.to.bslot;
		sent += lb_move_send(lb, &mv, e->owner, e->backup, &c, send,
		    arg);
	}
	return (sent);
}

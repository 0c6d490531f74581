/* lb_learn.c: NEW, END, TRANSFER, REFRESH from peers (claims 11-14). */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cache.h"
#include "conntab.h"
#include "lb.h"
#include "lb_int.h"
#include "log.h"
#include "ltoc.h"

/*
 * Tags of connections ended lately (an END learnt, or one self sent), so
 * that a late copy of a NEW does not open again a connection that has
 * ended, even once its entry is gone or holds a newer connection:
 * LB_ENDED_SLOTS sets by tuple hash, each the last LB_ENDED_WAYS (hash
 * bits, tag) pairs put there, newest first. Fixed size, nothing allocated
 * per record; an end falls out once LB_ENDED_WAYS others came to its set
 * (the same tuple's next ends, or other tuples'): with 4 ways, a late
 * copy is still recognised after the tuple's next connection has ended
 * too and 2 other tuples' ends landed in the set.
 */
static uint32_t *
lb_ended_set(const struct lb *lb, const struct flow_key *key, uint32_t *v,
    uint16_t tag)
{
	uint32_t	h = lb_svc_hash(key->id, flow_key_idlen(key));

	*v = (h & 0xffff0000U) | tag;
	return (&lb->ended[LB_ENDED_WAYS * (h & (LB_ENDED_SLOTS - 1))]);
}

/* The way holding (key, tag) in its set (*set, value *v), or -1. */
static int
lb_ended_find(const struct lb *lb, const struct flow_key *key, uint16_t tag,
    uint32_t **set, uint32_t *v)
{
	int	i;

	*set = lb_ended_set(lb, key, v, tag);
	for (i = 0; i < LB_ENDED_WAYS; i++)
		if ((*set)[i] == *v)
			return (i);
	return (-1);
}

static int
lb_ended_has(const struct lb *lb, const struct flow_key *key, uint16_t tag)
{
	uint32_t	*set, v;

	return (tag != 0 && lb_ended_find(lb, key, tag, &set, &v) >= 0);
}

/* Drop way i of set, the older ones moving up; the last way empties. */
static void
lb_ended_drop(uint32_t *set, int i)
{
	for (; i < LB_ENDED_WAYS - 1; i++)
		set[i] = set[i + 1];
	set[LB_ENDED_WAYS - 1] = 0;
}

void
lb_ended_add(struct lb *lb, const struct flow_key *key, uint16_t tag)
{
	uint32_t	*set, v;
	int		 i;

	if (tag == 0)
		return;
	if ((i = lb_ended_find(lb, key, tag, &set, &v)) == 0)
		return;
	if (i > 0)
		lb_ended_drop(set, i);
	for (i = LB_ENDED_WAYS - 1; i > 0; i--)
		set[i] = set[i - 1];
	set[0] = v;
}

/* A connection opened again (reopen): its end no longer holds. */
static void
lb_ended_forget(struct lb *lb, const struct flow_key *key, uint16_t tag)
{
	uint32_t	*set, v;
	int		 i;

	if (tag != 0 && (i = lb_ended_find(lb, key, tag, &set, &v)) >= 0)
		lb_ended_drop(set, i);
}

/*
 * Does an END of the connection tagged tag end entry e? Not when both
 * tags are known and differ: e is a newer connection on the tuple.
 */
static int
lb_end_applies(struct lb *lb, const struct conn_entry *e, uint16_t tag)
{
	if (tag != 0 && e->syn_tag != 0 && e->syn_tag != tag) {
		lb->stats.learn_end_stale++;
		return (0);
	}
	return (e->state != CONN_CLOSING);
}

static int
lb_record_valid(struct lb *lb, const struct lb_record *r)
{
	if (r->service >= lb->nsvc ||
	    r->server >= lb->svc[r->service].conf->nservers ||
	    !flow_key_valid(&r->key)) {
		lb->stats.learn_bad++;
		return (0);
	}
	return (1);
}

int
lb_learn_new(struct lb *lb, const struct lb_record *r, uint64_t now)
{
	struct conn_entry	*e;
	uint16_t		 self;

	if (!lb_record_valid(lb, r))
		return (-1);
	self = lb->self_slot;
	if (self != CONN_SLOT_NONE && r->owner == self)
		return (0);		/* ours; already in the LTOC */
	if (!(r->flags & LB_REC_F_REOPEN) && lb_ended_has(lb, &r->key,
	    r->tag)) {
		lb->stats.learn_stale++;
		return (0);
	}
	if (self != CONN_SLOT_NONE && r->backup == self) {
		e = ltoc_lookup(&lb->ltoc, &r->key);
		if (e != NULL && e->role == CONN_ROLE_OWNER)
			return (0);	/* membership views disagree */
		if ((e = ltoc_insert(&lb->ltoc, &r->key, now)) == NULL) {
			lb->stats.ltoc_full++;
			return (0);
		}
		e->role = CONN_ROLE_BACKUP;
		ltoc_set_service(&lb->ltoc, e, r->service);
		lb->stats.learn_backup++;
	} else {
		if ((e = cache_insert(&lb->cache, &r->key, now)) == NULL)
			return (0);	/* no cache (claim 15) */
		cache_set_service(&lb->cache, e, r->service);
		lb->stats.learn_cache++;
	}
	e->server = r->server;
	e->owner = r->owner;
	e->backup = r->backup;
	e->syn_tag = r->tag;
	lb_udp_learnt(e);
	return (0);
}

/*
 * claim 14: an END moves the entry to closing, unless its tag names
 * another connection than the entry's (a late END of an older one); the
 * tag is remembered as ended either way (lb_ended_add()).
 */
int
lb_learn_end(struct lb *lb, const struct lb_record *r, uint64_t now)
{
	struct conn_entry	*e;

	if (!lb_record_valid(lb, r))
		return (-1);
	lb_ended_add(lb, &r->key, r->tag);
	if ((e = ltoc_lookup(&lb->ltoc, &r->key)) != NULL &&
	    lb_end_applies(lb, e, r->tag)) {
		ltoc_set_state(&lb->ltoc, e, CONN_CLOSING, now);
		lb->stats.learn_end++;
	}
	if ((e = cache_peek(&lb->cache, &r->key)) != NULL &&
	    lb_end_applies(lb, e, r->tag)) {
		cache_set_state(&lb->cache, e, CONN_CLOSING, now);
		lb->stats.learn_end++;
	}
	return (0);
}

/* Self's role for an entry whose holders are these slots. */
static enum conn_role
lb_role_of(const struct lb *lb, uint16_t owner, uint16_t backup)
{
	if (lb->self_slot == CONN_SLOT_NONE)
		return (CONN_ROLE_NONE);
	if (owner == lb->self_slot)
		return (CONN_ROLE_OWNER);
	if (backup == lb->self_slot)
		return (CONN_ROLE_BACKUP);
	return (CONN_ROLE_NONE);
}

/*
 * State for entry e once record t is applied: the same connection only
 * moves forward, syn -> established -> closing; another one on the tuple
 * takes the record's state. With both tags known, the same connection is
 * the same tag, and a closing one opens again only on a reopen (a late
 * copy of its fresh NEW must not: claim 14, its END came first). Without
 * (an untagged record, or an entry learnt from one) it is the same
 * service and server, and a fresh NEW (LB_LEARN_FRESH: a connection
 * opens, maybe on the same server) takes a closing entry's place; a live
 * one stays as it is (a late copy of the NEW, after the handshake's
 * REFRESH).
 */
static enum conn_state
lb_learn_state(const struct conn_entry *e, const struct conn_entry *t,
    unsigned int flags)
{
	int	tagged = e->syn_tag != 0 && t->syn_tag != 0, reopen;

	if (tagged) {
		reopen = (flags & LB_LEARN_REOPEN) != 0;
		if (e->syn_tag == t->syn_tag && e->state > t->state &&
		    !(reopen && e->state == CONN_CLOSING))
			return ((enum conn_state)e->state);
		return ((enum conn_state)t->state);
	}
	if (e->service == t->service && e->server == t->server &&
	    e->state > t->state &&
	    !((flags & LB_LEARN_FRESH) && e->state == CONN_CLOSING))
		return ((enum conn_state)e->state);
	return ((enum conn_state)t->state);
}

/*
 * Record t names a connection that has ended (an END with its tag came)
 * and does not say so (not closing) nor open it again: a late copy of
 * its NEW, or a TRANSFER sent before the END reached its sender. Applying
 * it would revive the old connection, or overwrite a newer one's entry.
 */
static int
lb_learn_stale(struct lb *lb, const struct conn_entry *t, unsigned int flags)
{
	if (t->syn_tag == 0 || t->state == CONN_CLOSING)
		return (0);
	if (flags & LB_LEARN_REOPEN) {
		lb_ended_forget(lb, &t->key, t->syn_tag);
		return (0);
	}
	if (!lb_ended_has(lb, &t->key, t->syn_tag))
		return (0);
	lb->stats.learn_stale++;
	return (1);
}

/*
 * The conflict rule (ilbd-protocol(7), CONFLICTS): record t names another
 * service or server than the live (syn or established) entry self holds
 * for the tuple, in the LTOC or the cache; after a partition both sides
 * may have decided one tuple, and either side's copy may be a stale one.
 * The entry keeps its server, and t is refused (counted, logged at
 * debug), unless t is the NEW of a newer connection on the tuple: fresh
 * (its owner just decided a SYN) and not tagged as the entry's own
 * connection. A closing entry's connection has ended: t takes its place.
 * So the server of a live connection never changes because of a merge,
 * a rebalance or a reconciliation record.
 */
static int
lb_learn_conflict(struct lb *lb, const struct conn_entry *t,
    unsigned int flags)
{
	const struct conn_entry	*e;

	if ((e = ltoc_lookup(&lb->ltoc, &t->key)) == NULL &&
	    (e = cache_peek(&lb->cache, &t->key)) == NULL)
		return (0);
	if (e->state == CONN_CLOSING ||
	    (e->service == t->service && e->server == t->server))
		return (0);
	if ((flags & LB_LEARN_FRESH) &&
	    (t->syn_tag == 0 || e->syn_tag != t->syn_tag))
		return (0);
	lb->stats.learn_conflict++;
	log_debug("conflicting record refused: the live entry (service %u, "
	    "server %u, tag %u, state %u) keeps its server against server %u "
	    "(tag %u, state %u)", e->service, e->server, e->syn_tag,
	    e->state, t->server, t->syn_tag, t->state);
	return (1);
}

/* Keep or take an LTOC entry as t says, with self's role (claim 11). */
static void
lb_learn_ltoc(struct lb *lb, const struct conn_entry *t, enum conn_role role,
    unsigned int flags, uint64_t now)
{
	struct conn_entry	*e, *c;
	enum conn_state		 st;
	uint16_t		 tag = t->syn_tag;

	if ((e = ltoc_lookup(&lb->ltoc, &t->key)) != NULL) {
		lb->stats.learn_update++;
		st = lb_learn_state(e, t, flags);
		/*
		 * issue 22: a UDP record has no tag; the entry keeps its
		 * packet count and marks (conntab.h), which reconciliation
		 * every few seconds would otherwise reset.
		 */
		if (flow_key_is_udp(&t->key))
			tag = e->syn_tag;
	} else {
		if ((e = ltoc_insert(&lb->ltoc, &t->key, now)) == NULL) {
			lb->stats.ltoc_full++;
			return;
		}
		/*
		 * A holder now: the cache's copy goes, but what it knows of
		 * the connection stays (a record older than the handshake or
		 * the END this node saw must not set the state back).
		 */
		if ((c = cache_peek(&lb->cache, &t->key)) != NULL) {
			st = lb_learn_state(c, t, flags);
			cache_remove(&lb->cache, c);
		} else
			st = lb_learn_state(e, t, flags);
		if (role == CONN_ROLE_OWNER)
			lb->stats.learn_owner++;
		else
			lb->stats.learn_backup++;
	}
	lb_entry_set_role(lb, e, CONN_ROLE_NONE);	/* uncount old server */
	if (e->syn_tag != tag)
		e->pulled = 0;		/* another connection: it may ask */
	e->syn_tag = tag;		/* 0: its SYN unknown here */
	ltoc_set_service(&lb->ltoc, e, t->service);
	e->server = t->server;
	e->owner = t->owner;
	e->backup = t->backup;
	lb_udp_learnt(e);
	lb_entry_set_role(lb, e, role);
	/* A closing entry's fin_timeout_s runs from its END, not a copy. */
	if (!(e->state == CONN_CLOSING && st == CONN_CLOSING))
		ltoc_set_state(&lb->ltoc, e, st, now);
}

/* The same in the cache (claim 12); an LTOC entry self lost goes. */
static void
lb_learn_cache(struct lb *lb, const struct conn_entry *t, unsigned int flags,
    uint64_t now)
{
	struct conn_entry	*e;
	int			 fresh = 0;

	if ((e = ltoc_lookup(&lb->ltoc, &t->key)) != NULL) {
		lb_entry_remove(lb, e);
		lb->stats.to_cache++;
	}
	if ((e = cache_peek(&lb->cache, &t->key)) != NULL)
		lb->stats.learn_update++;
	else if ((e = cache_insert(&lb->cache, &t->key, now)) != NULL) {
		lb->stats.learn_cache++;
		fresh = 1;
	} else
		return;			/* no cache (claim 15) */
	cache_set_state(&lb->cache, e, lb_learn_state(e, t, flags), now);
	if (fresh || !flow_key_is_udp(&t->key))	/* as lb_learn_ltoc() */
		e->syn_tag = t->syn_tag;
	cache_set_service(&lb->cache, e, t->service);
	e->server = t->server;
	e->owner = t->owner;
	e->backup = t->backup;
}

int
lb_learn_conn(struct lb *lb, const struct flow_key *key, unsigned int service,
    unsigned int server, uint16_t owner, uint16_t backup,
    enum conn_state state, unsigned int flags, uint64_t now)
{
	struct conn_entry	t;
	enum conn_role		role;

	if (service >= lb->nsvc || server >= lb->svc[service].conf->nservers ||
	    !flow_key_valid(key) ||
	    (unsigned int)state >= CONN_NSTATES) {
		lb->stats.learn_bad++;
		return (-1);
	}
	memset(&t, 0, sizeof(t));
	t.key = *key;
	t.service = (uint16_t)service;
	t.server = (uint16_t)server;
	t.owner = owner;
	t.backup = backup;
	t.state = (uint8_t)state;
	t.syn_tag = LB_LEARN_TAG_OF(flags);
	if (lb_learn_stale(lb, &t, flags) || lb_learn_conflict(lb, &t, flags))
		return (0);
	if ((role = lb_role_of(lb, owner, backup)) != CONN_ROLE_NONE)
		lb_learn_ltoc(lb, &t, role, flags, now);
	else
		lb_learn_cache(lb, &t, flags, now);
	return (0);
}

int
lb_refresh(struct lb *lb, const struct flow_key *key, uint64_t now)
{
	struct conn_entry	*e;

	if ((e = ltoc_lookup(&lb->ltoc, key)) != NULL) {
		if (e->state == CONN_SYN)
			ltoc_set_state(&lb->ltoc, e, CONN_ESTABLISHED, now);
		else
			ltoc_touch(&lb->ltoc, e, now);
		/* issue 22: activity; a UDP holder may ask again (lb.c) */
		if (flow_key_is_udp(key))
			e->syn_tag &= (uint16_t)~CONN_UDP_PULLED;
	} else if ((e = cache_peek(&lb->cache, key)) != NULL) {
		if (e->state == CONN_SYN)
			cache_set_state(&lb->cache, e, CONN_ESTABLISHED, now);
		else
			cache_touch(&lb->cache, e, now);
	} else {
		lb->stats.refresh_unknown++;
		return (-1);
	}
	lb->stats.refresh_in++;
	return (0);
}

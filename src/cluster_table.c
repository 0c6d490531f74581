/* cluster_table.c: the membership table, pure: ID messages in, members out. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "event.h"
#include "log.h"
#include "msg.h"
#include "score.h"
#include "util.h"

/* 1 the first time key is seen (remembering the last CLUSTER_ONCE_MAX). */
static int
cluster_once(struct cluster_once *o, const void *key, size_t len)
{
	uint8_t		k[sizeof(o->key[0])];
	unsigned int	i;

	memset(k, 0, sizeof(k));
	memcpy(k, key, len < sizeof(k) ? len : sizeof(k));
	for (i = 0; i < o->n; i++)
		if (memcmp(o->key[i], k, sizeof(k)) == 0)
			return (0);
	memcpy(o->key[o->next], k, sizeof(k));
	o->next = (o->next + 1) % CLUSTER_ONCE_MAX;
	if (o->n < CLUSTER_ONCE_MAX)
		o->n++;
	return (1);
}

static int
cluster_id_eq(const struct member_id *a, const struct member_id *b)
{
	return (score_id_cmp(a, b) == 0 && a->is_index == b->is_index);
}

/* The slots of live members announcing state, sorted by id. */
static uint16_t
cluster_table_list(const struct cluster_table *t, uint8_t state,
    uint16_t *out)
{
	const struct cluster_member	*m;
	uint16_t			 i, j, s, n = 0;

	for (i = 0; i < t->nslots; i++) {
		m = &t->m[i];
		if (!m->in_use || !m->alive || m->state != state ||
		    (m->held && state == MSG_S_ACTIVE))
			continue;
		for (j = n; j > 0; j--) {
			s = out[j - 1];
			if (score_id_cmp(&t->m[s].id, &m->id) <= 0)
				break;
			out[j] = s;
		}
		out[j] = i;
		n++;
	}
	return (n);
}

/* Rebuild the active list: only active members are scored (claim 17). */
static void
cluster_table_sort(struct cluster_table *t)
{
	t->nactive = cluster_table_list(t, MSG_S_ACTIVE, t->active);
}

static void
cluster_table_event(struct cluster_table *t, enum cluster_event ev,
    uint16_t slot)
{
	if (t->event_cb != NULL)
		t->event_cb(t->event_arg, ev, slot, &t->m[slot]);
}

void
cluster_table_init(struct cluster_table *t, const struct member_id *self,
    const struct ilb_addr *addr, uint64_t epoch, enum conf_scoring scoring,
    uint32_t dead_ms, uint64_t now)
{
	struct cluster_member	*m = &t->m[0];

	memset(t, 0, sizeof(*t));
	t->scoring = (uint8_t)scoring;
	t->dead_ms = dead_ms;
	t->nslots = 1;
	t->self = 0;
	m->id = *self;
	msg_id_fmt(self, m->id_text, sizeof(m->id_text));
	m->addr = *addr;
	m->in_use = m->alive = m->self = 1;
	m->state = MSG_S_JOINING;	/* claim 17: nothing owned yet */
	m->scoring = (uint8_t)scoring;
	m->epoch = epoch;
	m->last_heard = m->since = now;
	m->dead_ms = dead_ms;
	cluster_table_sort(t);
}

void
cluster_table_self_id(const struct cluster_table *t, uint32_t hello_ms,
    struct msg_id *id)
{
	const struct cluster_member	*m = &t->m[t->self];

	memset(id, 0, sizeof(*id));
	id->scoring = t->scoring;
	id->state = m->state;
	id->members = t->nactive;
	id->addr = m->addr;
	id->hello_ms = hello_ms;
	id->dead_ms = t->dead_ms;
}

/* The slot holding id, or -1. */
static int
cluster_table_lookup(const struct cluster_table *t, const struct member_id *id)
{
	uint16_t	i;

	for (i = 0; i < t->nslots; i++)
		if (t->m[i].in_use && cluster_id_eq(&t->m[i].id, id))
			return (i);
	return (-1);
}

/* The entry of seen holding id, or -1. */
static int
cluster_seen_find(const struct cluster_table *t, const struct member_id *id)
{
	uint16_t	i;

	for (i = 0; i < t->nseen; i++)
		if (cluster_id_eq(&t->seen[i].id, id))
			return (i);
	return (-1);
}

/* The id has a slot again: its slot guards it from now on. */
static void
cluster_seen_drop(struct cluster_table *t, const struct member_id *id)
{
	int	i;

	if ((i = cluster_seen_find(t, id)) == -1)
		return;
	t->seen[i] = t->seen[--t->nseen];
}

/*
 * A gone member loses its slot: remember its epoch and sequence.  When
 * seen is full, forget the entry heard the longest ago, and refuse from
 * now on every id remembered nowhere whose epoch is not above the
 * forgotten one's: no replay of the forgotten id can pass, at the price
 * of refusing a never-heard id that booted before it (until it restarts).
 * Warned the first time, at debug level after.
 */
static void
cluster_seen_put(struct cluster_table *t, const struct cluster_member *m)
{
	struct cluster_seen	*e;
	char			 s[ILB_ADDRSTRLEN], msg[192];
	uint16_t		 i, old = 0;
	int			 first;

	if (t->nseen < CLUSTER_SEEN_MAX)
		e = &t->seen[t->nseen++];
	else {
		for (i = 1; i < t->nseen; i++)
			if (t->seen[i].last_heard < t->seen[old].last_heard)
				old = i;
		e = &t->seen[old];
		first = t->seen_floor == 0;
		if (e->epoch > t->seen_floor)
			t->seen_floor = e->epoch;
		snprintf(msg, sizeof(msg), "cluster: %d departed member ids "
		    "remembered already: %s forgotten; ids never heard with an "
		    "epoch up to %llu are now refused as replays",
		    CLUSTER_SEEN_MAX, msg_id_fmt(&e->id, s, sizeof(s)),
		    (unsigned long long)t->seen_floor);
		if (first)
			log_warnx("%s", msg);
		else
			log_debug("%s", msg);
	}
	e->id = m->id;
	e->epoch = m->epoch;
	e->seq = m->seq;
	e->last_heard = m->last_heard;
}

/*
 * A free slot: never used, else the gone member silent the longest,
 * whose epoch and sequence move to seen.
 */
static int
cluster_table_alloc(struct cluster_table *t)
{
	int		best = -1;
	uint16_t	i;

	for (i = 0; i < t->nslots; i++) {
		if (!t->m[i].in_use)
			return (i);
		if (!t->m[i].alive && (best == -1 ||
		    t->m[i].last_heard < t->m[best].last_heard))
			best = i;
	}
	if (t->nslots < CLUSTER_MEMBERS_MAX)
		return (t->nslots++);
	if (best != -1)
		cluster_seen_put(t, &t->m[best]);
	return (best);
}

/* Our id from another epoch: two nodes share a node.id. */
static void
cluster_table_own(struct cluster_table *t, const struct msg_hdr *h,
    const struct ilb_addr *from)
{
	char	a[ILB_ADDRSTRLEN];

	if (h->epoch == t->m[t->self].epoch) {
		t->stats.own++;
		return;
	}
	t->stats.duplicate_id++;
	if (t->dup_epoch == h->epoch)
		return;
	t->dup_epoch = h->epoch;
	log_warnx("another node (from %s, epoch %llu) uses this node's id %s: "
	    "ignored; node ids must be unique", util_addr_fmt(from, a,
	    sizeof(a)), (unsigned long long)h->epoch, t->m[t->self].id_text);
}

/* A peer with another scoring method would disagree on every owner. */
static void
cluster_table_scoring(struct cluster_table *t, const struct msg_hdr *h,
    const struct msg_id *id)
{
	char	s[ILB_ADDRSTRLEN];

	t->stats.scoring_mismatch++;
	msg_id_fmt(&h->sender, s, sizeof(s));
	if (cluster_once(&t->warned_ids, &h->sender, sizeof(h->sender)))
		log_warnx("member %s uses scoring %s but this node uses %s: "
		    "ignored", s, config_scoring_name(id->scoring),
		    config_scoring_name(t->scoring));
	else
		log_debug("member %s: scoring %s differs: ignored", s,
		    config_scoring_name(id->scoring));
}

/* Copy the announced fields; 1 if state or address changed. */
static int
cluster_member_update(struct cluster_member *m, const struct msg_hdr *h,
    const struct msg_id *id, uint64_t now)
{
	int	changed;

	changed = m->state != id->state || !util_addr_eq(&m->addr, &id->addr);
	if (m->state != id->state)
		m->prev_state = m->state;
	if (m->epoch != h->epoch)
		m->useq = 0;	/* a new epoch numbers afresh */
	m->state = id->state;
	if (m->state != MSG_S_ACTIVE)
		m->held = 0;		/* it joins again (or leaves) */
	m->addr = id->addr;
	m->scoring = id->scoring;
	m->members = id->members;
	m->hello_ms = id->hello_ms;
	m->dead_ms = id->dead_ms;
	m->epoch = h->epoch;
	m->seq = h->seq;
	m->last_heard = now;
	return (changed);
}

/*
 * Self joins again (a partition merge, or a held member that never
 * does): it owns nothing until it has the transfer tables again (claim
 * 17).  The event (self's slot, CLUSTER_E_STATE) restarts the join in the
 * replication core; cluster.c announces the new state at once.
 */
static void
cluster_table_rejoin(struct cluster_table *t, const char *why)
{
	struct cluster_member	*m = &t->m[t->self];

	if (m->state != MSG_S_ACTIVE)
		return;
	m->prev_state = m->state;
	m->state = MSG_S_JOINING;
	t->rejoin = 1;
	t->stats.merge_rejoins++;
	log_warnx("cluster: %s: this node joins again (it owns nothing until "
	    "it has the active members' transfer tables)", why);
	cluster_table_sort(t);
	cluster_table_event(t, CLUSTER_E_STATE, t->self);
}

/*
 * Partition merge (ilbd-protocol(7), Partition merge): member slot, once
 * gone, is heard again in the same epoch claiming to be active, and so
 * is self (its side took over too).  One side joins again, chosen alike
 * by every member of both sides from what each ID message says: the
 * side with more active members stays (id->members against our own
 * count), and on a tie the side holding the lowest member id (the
 * sender's id against the lowest of our active set, which self is in).
 * The side that stays holds the member unscored until it announces
 * joining; the other side admits it and joins again.  The side of the
 * most members (lowest id on a tie) never joins again, so some member
 * always stays active.
 */
static void
cluster_table_merge(struct cluster_table *t, uint16_t slot,
    const struct msg_id *id)
{
	struct cluster_member	*m = &t->m[slot];
	char			 why[96];
	int			 stay;

	if (t->m[t->self].state != MSG_S_ACTIVE || t->nactive == 0)
		return;		/* self owns nothing: nothing to merge */
	stay = t->nactive > id->members || (t->nactive == id->members &&
	    score_id_cmp(&t->m[t->active[0]].id, &m->id) < 0);
	if (!stay) {
		snprintf(why, sizeof(why), "member %s is back after it was "
		    "declared gone, and its side stays active", m->id_text);
		cluster_table_rejoin(t, why);
		return;
	}
	m->held = 1;
	t->stats.merge_held++;
	log_warnx("member %s is back as active after it was declared gone "
	    "(partition healed; %u active on its side, %u here): not scored "
	    "until it joins again", m->id_text, id->members, t->nactive);
}

/* claim 17: a member we did not know (or had lost) announces itself. */
static void
cluster_table_join(struct cluster_table *t, uint16_t slot,
    const struct msg_hdr *h, const struct msg_id *id, uint64_t now)
{
	struct cluster_member	*m = &t->m[slot];
	char			 a[ILB_ADDRSTRLEN];
	int			 merge;

	if (!m->in_use || !cluster_id_eq(&m->id, &h->sender)) {
		memset(m, 0, sizeof(*m));
		m->id = h->sender;
		msg_id_fmt(&h->sender, m->id_text, sizeof(m->id_text));
	}
	/* back in the same epoch, active: a partition heals */
	merge = m->epoch == h->epoch && id->state == MSG_S_ACTIVE;
	m->in_use = m->alive = 1;
	m->held = 0;
	m->since = now;
	cluster_member_update(m, h, id, now);
	t->stats.joins++;
	log_info("member %s joined (address %s, epoch %llu, %s, slot %u)",
	    m->id_text, util_addr_fmt(&m->addr, a, sizeof(a)),
	    (unsigned long long)h->epoch, msg_state_name(m->state), slot);
	ilbd_event_member(ILBD_EV_MEMBER_JOIN, m->id_text, &m->addr, NULL);
	if (merge)
		cluster_table_merge(t, slot, id);
	cluster_table_event(t, CLUSTER_E_JOIN, slot);
}

/* A live member restarted: whatever it had is gone, it joins afresh. */
static void
cluster_table_restart(struct cluster_table *t, uint16_t slot,
    const struct msg_hdr *h, const struct msg_id *id, uint64_t now)
{
	struct cluster_member	*m = &t->m[slot];
	uint64_t		 old = m->epoch;

	cluster_member_update(m, h, id, now);
	m->since = now;
	m->restarts++;
	t->stats.restarts++;
	log_info("member %s restarted (epoch %llu, was %llu): treated as a "
	    "new member", m->id_text, (unsigned long long)h->epoch,
	    (unsigned long long)old);
	ilbd_event_member(ILBD_EV_MEMBER_JOIN, m->id_text, &m->addr,
	    "restart");
	cluster_table_event(t, CLUSTER_E_RESTART, slot);
}

/*
 * An old epoch, or no newer sequence in this one: a replay.  Live or
 * gone, an id keeps its highest (epoch, seq) for the life of the process:
 * no message of an older epoch is ever accepted (DESIGN 5).
 */
static int
cluster_is_replay(uint64_t epoch, uint64_t seq, const struct msg_hdr *h)
{
	if (h->epoch < epoch)
		return (1);
	return (h->epoch == epoch && h->seq <= seq);
}

static void
cluster_replay_log(struct cluster_table *t, const struct msg_hdr *h,
    const char *id_text, uint64_t epoch, uint64_t seq)
{
	t->stats.replays++;
	log_debug("member %s: replayed or stale message dropped (epoch %llu "
	    "seq %llu, last epoch %llu seq %llu)", id_text,
	    (unsigned long long)h->epoch, (unsigned long long)h->seq,
	    (unsigned long long)epoch, (unsigned long long)seq);
}

static void
cluster_table_replay(struct cluster_table *t, const struct cluster_member *m,
    const struct msg_hdr *h)
{
	cluster_replay_log(t, h, m->id_text, m->epoch, m->seq);
}

/*
 * An ID message of an older epoch from a member that is not alive: a
 * replay, or a node restarted with its clock set back and no
 * node.state_dir.  Said once per id, since it would never be admitted.
 */
static void
cluster_table_replay_gone(struct cluster_table *t, const struct msg_hdr *h,
    const char *id_text, uint64_t epoch)
{
	if (h->epoch >= epoch ||
	    !cluster_once(&t->warned_ids, &h->sender, sizeof(h->sender)))
		return;
	log_warnx("member %s: ID message of epoch %llu refused, older than "
	    "its epoch %llu already seen: a replay (or its clock went back "
	    "across a restart without node.state_dir)", id_text,
	    (unsigned long long)h->epoch, (unsigned long long)epoch);
}

/*
 * Messages missed from a member: its multicast sequence jumped.  Only
 * counted: caches are best effort and the backup copy of an entry
 * travels on the reliable channel, so nothing is repaired here.
 */
static void
cluster_table_gap(struct cluster_table *t, struct cluster_member *m,
    const struct msg_hdr *h)
{
	uint64_t	missed;

	if (h->seq <= m->seq + 1)
		return;
	missed = h->seq - m->seq - 1;
	m->gaps += missed;
	t->stats.gaps += missed;
	log_debug("member %s: %llu message%s missed (seq %llu after %llu)",
	    m->id_text, (unsigned long long)missed, missed == 1 ? "" : "s",
	    (unsigned long long)h->seq, (unsigned long long)m->seq);
}

/* A message from a known slot: refresh, restart, or rejoin. */
static int
cluster_table_known(struct cluster_table *t, uint16_t slot,
    const struct msg_hdr *h, const struct msg_id *id, uint64_t now)
{
	struct cluster_member	*m = &t->m[slot];
	char			 a[ILB_ADDRSTRLEN];

	if (cluster_is_replay(m->epoch, m->seq, h)) {
		if (!m->alive)
			cluster_table_replay_gone(t, h, m->id_text, m->epoch);
		cluster_table_replay(t, m, h);
		return (0);
	}
	t->stats.accepted++;
	if (!m->alive) {
		cluster_table_join(t, slot, h, id, now);
		return (1);
	}
	if (h->epoch != m->epoch) {
		cluster_table_restart(t, slot, h, id, now);
		return (1);
	}
	cluster_table_gap(t, m, h);
	if (!cluster_member_update(m, h, id, now))
		return (0);
	log_info("member %s is %s (address %s)", m->id_text,
	    msg_state_name(m->state), util_addr_fmt(&m->addr, a, sizeof(a)));
	if (m->state == MSG_S_LEAVING)
		ilbd_event_member(ILBD_EV_MEMBER_LEAVE, m->id_text, &m->addr,
		    NULL);
	cluster_table_event(t, CLUSTER_E_STATE, slot);
	return (1);
}

/*
 * A member id without a slot: a replay if seen remembers a newer
 * (epoch, seq) for it, or if it is remembered nowhere and its epoch is
 * not above what seen had to forget.
 */
static int
cluster_table_new_replay(struct cluster_table *t, const struct msg_hdr *h)
{
	const struct cluster_seen	*e;
	char				 s[ILB_ADDRSTRLEN];
	int				 i;

	msg_id_fmt(&h->sender, s, sizeof(s));
	if ((i = cluster_seen_find(t, &h->sender)) != -1) {
		e = &t->seen[i];
		if (!cluster_is_replay(e->epoch, e->seq, h))
			return (0);
		cluster_table_replay_gone(t, h, s, e->epoch);
		cluster_replay_log(t, h, s, e->epoch, e->seq);
		return (1);
	}
	if (h->epoch > t->seen_floor)
		return (0);
	if (cluster_once(&t->warned_ids, &h->sender, sizeof(h->sender)))
		log_warnx("member %s: ID message of epoch %llu refused: not "
		    "above %llu, the epoch of a departed member forgotten "
		    "(it is admitted once it restarts)", s,
		    (unsigned long long)h->epoch,
		    (unsigned long long)t->seen_floor);
	cluster_replay_log(t, h, s, t->seen_floor, UINT64_MAX);
	return (1);
}

/* A member id not in the table: its new slot, or -1. */
static int
cluster_table_new(struct cluster_table *t, const struct msg_hdr *h,
    const struct msg_id *id, uint64_t now)
{
	char	s[ILB_ADDRSTRLEN];
	int	slot;

	if (cluster_table_new_replay(t, h))
		return (-1);
	if ((slot = cluster_table_alloc(t)) == -1) {
		t->stats.table_full++;
		msg_id_fmt(&h->sender, s, sizeof(s));
		if (cluster_once(&t->warned_ids, &h->sender,
		    sizeof(h->sender)))
			log_warnx("member %s ignored: %d members already",
			    s, CLUSTER_MEMBERS_MAX);
		return (-1);
	}
	cluster_seen_drop(t, &h->sender);
	t->stats.accepted++;
	cluster_table_join(t, (uint16_t)slot, h, id, now);
	return (slot);
}

static int
cluster_member_active(const struct cluster_member *m)
{
	return (m->in_use && m->alive && !m->held &&
	    m->state == MSG_S_ACTIVE);
}

/*
 * Returns 1 when an active member joined, restarted, left the active
 * state or moved: the daemon re-ranks.  A joining member alone changes
 * nothing (it is not scored until active).
 */
int
cluster_table_input(struct cluster_table *t, const struct msg_view *v,
    const struct msg_id *id, const struct ilb_addr *from, uint64_t now)
{
	const struct msg_hdr	*h = &v->hdr;
	int			 slot, was;

	if (cluster_id_eq(&h->sender, &t->m[t->self].id)) {
		cluster_table_own(t, h, from);
		return (0);
	}
	if (id->scoring != t->scoring) {
		cluster_table_scoring(t, h, id);
		return (0);
	}
	if ((slot = cluster_table_lookup(t, &h->sender)) == -1) {
		if ((slot = cluster_table_new(t, h, id, now)) == -1)
			return (0);
		was = 0;
	} else {
		was = cluster_member_active(&t->m[slot]);
		if (!cluster_table_known(t, (uint16_t)slot, h, id, now))
			return (0);
	}
	cluster_table_sort(t);
	return (was || cluster_member_active(&t->m[slot]));
}

/* The slot of a live sender in the epoch we know, or -1 (counted). */
static int
cluster_table_sender(struct cluster_table *t, const struct msg_hdr *h,
    const struct ilb_addr *from)
{
	char	s[ILB_ADDRSTRLEN], a[ILB_ADDRSTRLEN];
	int	slot;

	if (cluster_id_eq(&h->sender, &t->m[t->self].id)) {
		cluster_table_own(t, h, from);
		return (-1);
	}
	slot = cluster_table_lookup(t, &h->sender);
	if (slot == -1 || !t->m[slot].alive || h->epoch > t->m[slot].epoch) {
		t->stats.unknown_sender++;
		log_debug("%s message from %s (%s) dropped: not a live member "
		    "in this epoch", msg_type_name(h->type), msg_id_fmt(
		    &h->sender, s, sizeof(s)), util_addr_fmt(from, a,
		    sizeof(a)));
		return (-1);
	}
	if (h->epoch < t->m[slot].epoch) {
		cluster_table_replay(t, &t->m[slot], h);
		return (-1);
	}
	return (slot);
}

int
cluster_table_msg(struct cluster_table *t, const struct msg_view *v,
    const struct ilb_addr *from)
{
	struct cluster_member	*m;
	int			 slot;

	if ((slot = cluster_table_sender(t, &v->hdr, from)) == -1)
		return (-1);
	m = &t->m[slot];
	if (v->hdr.seq <= m->seq) {
		cluster_table_replay(t, m, &v->hdr);
		return (-1);
	}
	cluster_table_gap(t, m, &v->hdr);
	m->seq = v->hdr.seq;
	if (t->msg_cb == NULL) {
		t->stats.unhandled++;
		return (slot);
	}
	t->stats.delivered++;
	t->msg_cb(t->msg_arg, (uint16_t)slot, v);
	return (slot);
}

int
cluster_table_unicast(struct cluster_table *t, const struct msg_view *v,
    const struct ilb_addr *from)
{
	struct cluster_member	*m;
	int			 slot;

	if ((slot = cluster_table_sender(t, &v->hdr, from)) == -1)
		return (-1);
	m = &t->m[slot];
	if (v->hdr.seq <= m->useq) {
		t->stats.replays++;
		log_debug("member %s: replayed unicast message dropped (seq "
		    "%llu, last %llu)", m->id_text,
		    (unsigned long long)v->hdr.seq,
		    (unsigned long long)m->useq);
		return (-1);
	}
	m->useq = v->hdr.seq;
	return (slot);
}

/* claim 17: joining, then active once the transfer tables are in. */
int
cluster_table_set_state(struct cluster_table *t, enum msg_state st)
{
	struct cluster_member	*m = &t->m[t->self];

	if (st < MSG_S_JOINING || st > MSG_S_LEAVING)
		return (-1);
	if (m->state == st)
		return (0);
	m->prev_state = m->state;
	m->state = (uint8_t)st;
	cluster_table_sort(t);
	return (1);
}

void
cluster_table_reject(struct cluster_table *t, enum msg_reason r,
    const struct ilb_addr *from)
{
	char	a[ILB_ADDRSTRLEN];

	if ((unsigned int)r < MSG_R_MAX)
		t->stats.rejected[r]++;
	util_addr_fmt(from, a, sizeof(a));
	if (cluster_once(&t->warned_srcs, from, sizeof(*from)))
		log_warnx("cluster message from %s dropped: %s (further drops "
		    "from it are logged at debug level)", a,
		    msg_reason_name(r));
	else
		log_debug("cluster message from %s dropped: %s", a,
		    msg_reason_name(r));
}

/* claim 18: a member silent for dead_ms has left. */
static void
cluster_table_gone(struct cluster_table *t, uint16_t slot, uint64_t now)
{
	struct cluster_member	*m = &t->m[slot];

	m->alive = 0;
	m->held = 0;
	m->since = now;
	t->stats.leaves++;
	log_info("member %s is gone (silent for %llu ms)", m->id_text,
	    (unsigned long long)(now - m->last_heard));
	ilbd_event_member(ILBD_EV_MEMBER_DEAD, m->id_text, &m->addr,
	    msg_state_name(m->state));
	cluster_table_event(t, CLUSTER_E_GONE, slot);
}

int
cluster_table_expire(struct cluster_table *t, uint64_t now)
{
	struct cluster_member	*m;
	uint16_t		 i, before = t->nactive;
	int			 changed = 0, rejoined = 0;

	for (i = 0; i < t->nslots; i++) {
		m = &t->m[i];
		if (!m->in_use || m->self)
			continue;
		if (m->alive && now - m->last_heard >= t->dead_ms) {
			cluster_table_gone(t, i, now);
			changed = 1;
		} else if (m->alive && m->held && now - m->since >=
		    (uint64_t)CLUSTER_HOLD_DEAD * t->dead_ms) {
			/* it never saw us gone: it will not join again */
			m->held = 0;
			cluster_table_rejoin(t, "a member held since a merge "
			    "did not join again");
			changed = rejoined = 1;
		}
	}
	if (!changed)
		return (0);
	cluster_table_sort(t);
	return (rejoined || t->nactive != before);
}

size_t
cluster_table_active(const struct cluster_table *t, struct member_id *ids,
    uint16_t *slots, struct ilb_addr *addrs, size_t max, size_t *self_index)
{
	const struct cluster_member	*m;
	size_t				 i;

	if (self_index != NULL)
		*self_index = (size_t)-1;
	for (i = 0; i < t->nactive; i++) {
		m = &t->m[t->active[i]];
		if (m->self && self_index != NULL)
			*self_index = i;
		if (i >= max)
			continue;
		if (ids != NULL)
			ids[i] = m->id;
		if (slots != NULL)
			slots[i] = t->active[i];
		if (addrs != NULL)
			addrs[i] = m->addr;
	}
	return (t->nactive);
}

size_t
cluster_table_joining(const struct cluster_table *t, struct member_id *ids,
    uint16_t *slots, struct ilb_addr *addrs, size_t max)
{
	uint16_t	list[CLUSTER_MEMBERS_MAX], n, i;

	n = cluster_table_list(t, MSG_S_JOINING, list);
	for (i = 0; i < n && i < max; i++) {
		if (ids != NULL)
			ids[i] = t->m[list[i]].id;
		if (slots != NULL)
			slots[i] = list[i];
		if (addrs != NULL)
			addrs[i] = t->m[list[i]].addr;
	}
	return (n);
}

int
cluster_table_find_id(const struct cluster_table *t,
    const struct member_id *id)
{
	int	slot;

	if ((slot = cluster_table_lookup(t, id)) == -1 || !t->m[slot].alive)
		return (-1);
	return (slot);
}

/* Any live member, joining or leaving too: they hand packets off. */
int
cluster_table_find_addr(const struct cluster_table *t,
    const struct ilb_addr *a)
{
	uint16_t	i;

	for (i = 0; i < t->nslots; i++)
		if (t->m[i].in_use && t->m[i].alive &&
		    util_addr_eq(&t->m[i].addr, a))
			return (i);
	return (-1);
}

const struct cluster_member *
cluster_table_member(const struct cluster_table *t, uint16_t slot)
{
	if (slot >= t->nslots || !t->m[slot].in_use)
		return (NULL);
	return (&t->m[slot]);
}

const struct ilb_addr *
cluster_table_slot_addr(const struct cluster_table *t, uint16_t slot)
{
	if (slot >= t->nslots || !t->m[slot].in_use || !t->m[slot].alive)
		return (NULL);
	return (&t->m[slot].addr);
}

/* Every message refused, whatever the reason. */
static uint64_t
cluster_counter_rx_reject(const void *obj)
{
	const struct cluster_stats	*cs = &((const struct cluster_table *)
					    obj)->stats;
	uint64_t			 rej;
	size_t				 i;

	rej = cs->replays + cs->scoring_mismatch + cs->duplicate_id;
	for (i = 0; i < MSG_R_MAX; i++)
		if (i != MSG_OK)
			rej += cs->rejected[i];
	return (rej);
}

static uint64_t
cluster_gauge_active(const void *obj)
{
	return (cluster_table_active(obj, NULL, NULL, NULL, 0, NULL));
}

#define CLUSTER_COUNTER(n, field, h)					\
	{ .name = n, .help = h,						\
	    .off = offsetof(struct cluster_table, stats.field) }

const struct counter_desc cluster_counters[] = {
	CLUSTER_COUNTER("rx", received, "cluster datagrams received"),
	{ .name = "rx_reject", .help = "cluster messages refused: bad MAC, "
	    "malformed, replayed, other scoring, duplicate id",
	    .get = cluster_counter_rx_reject },
	CLUSTER_COUNTER("tx", sent, "ID messages sent"),
	CLUSTER_COUNTER("gaps", gaps,
	    "multicast messages missed (sequence gaps)"),
	CLUSTER_COUNTER("joins", joins, "members that joined"),
	CLUSTER_COUNTER("leaves", leaves, "members gone after dead_ms"),
	CLUSTER_COUNTER("restarts", restarts,
	    "members seen with a new boot epoch"),
	CLUSTER_COUNTER("replays", replays, "messages refused as replays: "
	    "an epoch or sequence not newer than the sender's last"),
	CLUSTER_COUNTER("merge_held", merge_held, "members back from gone "
	    "claiming active, held unscored until they join again"),
	CLUSTER_COUNTER("merge_rejoins", merge_rejoins,
	    "times this node joined again on a partition merge"),
	CLUSTER_COUNTER("rx_key_next", key_next, "messages verified with "
	    "the key of cluster.key_file_next (key rotation)"),
	COUNTER_END
};

const struct counter_desc cluster_gauges[] = {
	{ .name = "active_members", .help = "active members, this node "
	    "included when active", .type = DP_GAUGE,
	    .get = cluster_gauge_active },
	COUNTER_END
};

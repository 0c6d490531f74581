/* cluster.c: cluster membership from ID messages over UDP multicast. */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "cluster.h"
#include "log.h"
#include "msg.h"
#include "score.h"

#define CLUSTER_READ_BATCH	64	/* datagrams per read event */

struct cluster {
	struct event_base	*base;
	struct event		*ev_read;
	struct event		*ev_hello;	/* send an ID message */
	struct event		*ev_expire;	/* look for silent members */
	int			 fd;
	struct sockaddr_storage	 group_sa;	/* where ID messages go */
	socklen_t		 group_salen;
	unsigned int		 ifindex;
	struct ilbd_conf	 conf;		/* what open used (no services) */
	int			 authenticate;
	uint8_t			 key[MSG_KEY_LEN];
	uint64_t		 epoch;		/* boot epoch */
	uint64_t		 seq;		/* last multicast sequence sent */
	uint64_t		 useq;		/* last unicast sequence used */
	uint32_t		 hello_ms;
	void			(*members_cb)(void *);
	void			*arg;
	struct cluster_table	 t;
};

/* ---- pure membership logic ------------------------------------------ */

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
		if (!m->in_use || !m->alive || m->state != state)
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

/* A free slot: never used, else the gone member silent the longest. */
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

/* claim 17: a member we did not know (or had lost) announces itself. */
static void
cluster_table_join(struct cluster_table *t, uint16_t slot,
    const struct msg_hdr *h, const struct msg_id *id, uint64_t now)
{
	struct cluster_member	*m = &t->m[slot];
	char			 a[ILB_ADDRSTRLEN];

	if (!m->in_use || !cluster_id_eq(&m->id, &h->sender)) {
		memset(m, 0, sizeof(*m));
		m->id = h->sender;
		msg_id_fmt(&h->sender, m->id_text, sizeof(m->id_text));
	}
	m->in_use = m->alive = 1;
	m->tombstone = 0;
	m->since = now;
	cluster_member_update(m, h, id, now);
	t->stats.joins++;
	log_info("member %s joined (address %s, epoch %llu, %s, slot %u)",
	    m->id_text, util_addr_fmt(&m->addr, a, sizeof(a)),
	    (unsigned long long)h->epoch, msg_state_name(m->state), slot);
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
	cluster_table_event(t, CLUSTER_E_RESTART, slot);
}

/* An old epoch, or no newer sequence in this one: a replay. */
static int
cluster_table_is_replay(const struct cluster_member *m,
    const struct msg_hdr *h)
{
	if (!m->alive && !m->tombstone)
		return (0);
	if (h->epoch < m->epoch)
		return (1);
	return (h->epoch == m->epoch && h->seq <= m->seq);
}

static void
cluster_table_replay(struct cluster_table *t, const struct cluster_member *m,
    const struct msg_hdr *h)
{
	t->stats.replays++;
	log_debug("member %s: replayed or stale message dropped (epoch %llu "
	    "seq %llu, last epoch %llu seq %llu)", m->id_text,
	    (unsigned long long)h->epoch, (unsigned long long)h->seq,
	    (unsigned long long)m->epoch, (unsigned long long)m->seq);
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

	if (cluster_table_is_replay(m, h)) {
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
	cluster_table_event(t, CLUSTER_E_STATE, slot);
	return (1);
}

/* A member id not in the table: its new slot, or -1. */
static int
cluster_table_new(struct cluster_table *t, const struct msg_hdr *h,
    const struct msg_id *id, uint64_t now)
{
	char	s[ILB_ADDRSTRLEN];
	int	slot;

	if ((slot = cluster_table_alloc(t)) == -1) {
		t->stats.table_full++;
		msg_id_fmt(&h->sender, s, sizeof(s));
		if (cluster_once(&t->warned_ids, &h->sender,
		    sizeof(h->sender)))
			log_warnx("member %s ignored: %d members already",
			    s, CLUSTER_MEMBERS_MAX);
		return (-1);
	}
	t->stats.accepted++;
	cluster_table_join(t, (uint16_t)slot, h, id, now);
	return (slot);
}

static int
cluster_member_active(const struct cluster_member *m)
{
	return (m->in_use && m->alive && m->state == MSG_S_ACTIVE);
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
	m->tombstone = 1;
	m->since = now;
	t->stats.leaves++;
	log_info("member %s is gone (silent for %llu ms)", m->id_text,
	    (unsigned long long)(now - m->last_heard));
	cluster_table_event(t, CLUSTER_E_GONE, slot);
}

int
cluster_table_expire(struct cluster_table *t, uint64_t now)
{
	struct cluster_member	*m;
	uint64_t		 tomb = (uint64_t)t->dead_ms *
				    CLUSTER_TOMBSTONE_MULT;
	uint16_t		 i, before = t->nactive;
	int			 changed = 0;

	for (i = 0; i < t->nslots; i++) {
		m = &t->m[i];
		if (!m->in_use || m->self)
			continue;
		if (m->alive && now - m->last_heard >= t->dead_ms) {
			cluster_table_gone(t, i, now);
			changed = 1;
		} else if (m->tombstone && now - m->last_heard >= tomb)
			m->tombstone = 0;	/* any epoch may rejoin */
	}
	if (!changed)
		return (0);
	cluster_table_sort(t);
	return (t->nactive != before);
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
	COUNTER_END
};

const struct counter_desc cluster_gauges[] = {
	{ .name = "active_members", .help = "active members, this node "
	    "included when active", .type = DP_GAUGE,
	    .get = cluster_gauge_active },
	COUNTER_END
};

/* ---- sockets and timers ---------------------------------------------- */

/* The boot epoch: wall-clock ns, so a restarted node has a larger one. */
static uint64_t
cluster_boot_epoch(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static void
cluster_sa_to_addr(const struct sockaddr_storage *ss, struct ilb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->u.b, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		a->family = AF_INET6;
		memcpy(a->u.b, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		    16);
	}
}

/* Rank an interface address: global beats link-local (IPv6). */
static int
cluster_ifaddr_rank(const struct sockaddr *sa)
{
	const struct sockaddr_in6	*s6;

	if (sa->sa_family != AF_INET6)
		return (2);
	s6 = (const struct sockaddr_in6 *)sa;
	return (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) ? 1 : 2);
}

/* node.address unset: the first address of node.interface in family. */
static int
cluster_ifaddr(const char *ifname, int family, struct ilb_addr *a,
    char **cause)
{
	struct ifaddrs		*ifa, *i;
	struct sockaddr_storage	 ss;
	int			 best = 0, r;

	if (getifaddrs(&ifa) == -1)
		return (util_cause(cause, "getifaddrs: %s", strerror(errno)));
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != family ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		if ((r = cluster_ifaddr_rank(i->ifa_addr)) <= best)
			continue;
		best = r;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, i->ifa_addr, family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		cluster_sa_to_addr(&ss, a);
	}
	freeifaddrs(ifa);
	if (best == 0)
		return (util_cause(cause, "interface %s has no %s address: set "
		    "node.address", ifname, family == AF_INET ? "IPv4" :
		    "IPv6"));
	return (0);
}

static int
cluster_setopt(int fd, int level, int name, const void *v, socklen_t len,
    const char *what, char **cause)
{
	if (setsockopt(fd, level, name, v, len) == 0)
		return (0);
	return (util_cause(cause, "cluster socket: %s: %s", what,
	    strerror(errno)));
}

/* Join the IPv4 group on the interface; TTL 1, no loop. */
static int
cluster_socket4(struct cluster *c, char **cause)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&c->group_sa;
	struct ip_mreqn		 mr;
	int			 ttl = 1, off = 0;

	sin->sin_family = AF_INET;
	sin->sin_port = htons(c->conf.cluster.port);
	memcpy(&sin->sin_addr, c->conf.cluster.group.u.b, 4);
	c->group_salen = sizeof(*sin);
	memset(&mr, 0, sizeof(mr));
	mr.imr_multiaddr = sin->sin_addr;
	mr.imr_ifindex = (int)c->ifindex;
	if (cluster_setopt(c->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
	    sizeof(mr), "IP_ADD_MEMBERSHIP", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr,
	    sizeof(mr), "IP_MULTICAST_IF", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
	    sizeof(ttl), "IP_MULTICAST_TTL", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off,
	    sizeof(off), "IP_MULTICAST_LOOP", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IP, IP_MULTICAST_ALL, &off,
	    sizeof(off), "IP_MULTICAST_ALL", cause) == -1)
		return (-1);
	return (0);
}

/* Join the IPv6 group on the interface; hop limit 1, no loop. */
static int
cluster_socket6(struct cluster *c, char **cause)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&c->group_sa;
	struct ipv6_mreq	 mr;
	int			 hops = 1, off = 0, on = 1;
	unsigned int		 ifindex = c->ifindex;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(c->conf.cluster.port);
	memcpy(&sin6->sin6_addr, c->conf.cluster.group.u.b, 16);
	sin6->sin6_scope_id = c->ifindex;
	c->group_salen = sizeof(*sin6);
	memset(&mr, 0, sizeof(mr));
	mr.ipv6mr_multiaddr = sin6->sin6_addr;
	mr.ipv6mr_interface = c->ifindex;
	if (cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
	    sizeof(on), "IPV6_V6ONLY", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr,
	    sizeof(mr), "IPV6_JOIN_GROUP", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex,
	    sizeof(ifindex), "IPV6_MULTICAST_IF", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
	    sizeof(hops), "IPV6_MULTICAST_HOPS", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off,
	    sizeof(off), "IPV6_MULTICAST_LOOP", cause) == -1 ||
	    cluster_setopt(c->fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &off,
	    sizeof(off), "IPV6_MULTICAST_ALL", cause) == -1)
		return (-1);
	return (0);
}

/* A UDP socket bound to group:port and joined to it on the interface. */
static int
cluster_socket(struct cluster *c, char **cause)
{
	int	family = c->conf.cluster.group.family, on = 1, rv;
	char	g[ILB_ADDRSTRLEN];

	c->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return (util_cause(cause, "cluster socket: %s",
		    strerror(errno)));
	if (cluster_setopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on),
	    "SO_REUSEADDR", cause) == -1)
		return (-1);
	memset(&c->group_sa, 0, sizeof(c->group_sa));
	rv = family == AF_INET ? cluster_socket4(c, cause) :
	    cluster_socket6(c, cause);
	if (rv == -1)
		return (-1);
	if (bind(c->fd, (struct sockaddr *)&c->group_sa, c->group_salen)
	    == -1) {
		return (util_cause(cause, "cluster socket: bind %s port %u: %s",
		    util_addr_fmt(&c->conf.cluster.group, g, sizeof(g)),
		    c->conf.cluster.port, strerror(errno)));
	}
	return (0);
}

/* A header from this node: our id and epoch, type, seq. */
static void
cluster_hdr(const struct cluster *c, uint8_t type, uint64_t seq,
    struct msg_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->version = MSG_VERSION;
	h->type = type;
	h->sender = c->t.m[c->t.self].id;
	h->epoch = c->epoch;
	h->seq = seq;
}

static const uint8_t *
cluster_key(const struct cluster *c)
{
	return (c->authenticate ? c->key : NULL);
}

/* Multicast an encoded message; 0 or -1 (counted). */
static int
cluster_sendto(struct cluster *c, const uint8_t *buf, size_t len)
{
	if (sendto(c->fd, buf, len, 0, (struct sockaddr *)&c->group_sa,
	    c->group_salen) == -1) {
		c->t.stats.send_errors++;
		log_debug("cluster: sendto: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

/* Send one ID message with the next sequence number (claim 16). */
static void
cluster_send_id(struct cluster *c)
{
	uint8_t		buf[MSG_MAX_LEN];
	struct msg_hdr	h;
	struct msg_id	id;
	size_t		len;

	cluster_hdr(c, MSG_T_ID, ++c->seq, &h);
	cluster_table_self_id(&c->t, c->hello_ms, &id);
	len = msg_encode_id(buf, sizeof(buf), &h, &id, cluster_key(c));
	if (cluster_sendto(c, buf, len) == 0)
		c->t.stats.sent++;
}

/* claims 13, 14: NEW, END and REFRESH go to every member at once. */
int
cluster_send(struct cluster *c, uint8_t type, const uint8_t *body,
    size_t blen)
{
	uint8_t		buf[MSG_MAX_LEN];
	struct msg_hdr	h;
	size_t		len;

	if (type == MSG_T_ID || type > MSG_T_MAX || blen > MSG_BODY_MAX) {
		c->t.stats.send_errors++;
		log_debug("cluster: cannot send a %s message of %zu bytes",
		    msg_type_name(type), blen);
		return (-1);
	}
	cluster_hdr(c, type, ++c->seq, &h);
	if ((len = msg_encode(buf, sizeof(buf), &h, body, blen,
	    cluster_key(c))) == 0) {
		c->t.stats.send_errors++;
		return (-1);
	}
	if (cluster_sendto(c, buf, len) == -1)
		return (-1);
	c->t.stats.sent_msgs++;
	return (0);
}

size_t
cluster_encode(struct cluster *c, uint8_t type, const uint8_t *body,
    size_t blen, uint8_t *buf, size_t size)
{
	struct msg_hdr	h;

	if (type == MSG_T_ID || type > MSG_T_MAX)
		return (0);
	cluster_hdr(c, type, c->useq + 1, &h);
	if ((size = msg_encode(buf, size, &h, body, blen,
	    cluster_key(c))) != 0)
		c->useq++;
	return (size);
}

int
cluster_accept(struct cluster *c, const uint8_t *buf, size_t len,
    const struct ilb_addr *from, struct msg_view *v)
{
	enum msg_reason	r;

	if ((r = msg_decode(buf, len, v)) != MSG_OK ||
	    (r = msg_verify(buf, v, cluster_key(c))) != MSG_OK) {
		cluster_table_reject(&c->t, r, from);
		return (-1);
	}
	if (v->hdr.type == MSG_T_ID) {
		cluster_table_reject(&c->t, MSG_R_TYPE, from);
		return (-1);
	}
	return (cluster_table_unicast(&c->t, v, from));
}

/* One datagram: decode, authenticate, dispatch by type; 1 if changed. */
static int
cluster_input(struct cluster *c, const uint8_t *buf, size_t len,
    const struct ilb_addr *from, uint64_t now)
{
	struct msg_view	v;
	struct msg_id	id;
	enum msg_reason	r;

	if ((r = msg_decode(buf, len, &v)) != MSG_OK ||
	    (r = msg_verify(buf, &v, cluster_key(c))) != MSG_OK) {
		cluster_table_reject(&c->t, r, from);
		return (0);
	}
	if (v.hdr.type != MSG_T_ID) {
		cluster_table_msg(&c->t, &v, from);
		return (0);
	}
	if ((r = msg_decode_id(&v, &id)) != MSG_OK) {
		cluster_table_reject(&c->t, r, from);
		return (0);
	}
	return (cluster_table_input(&c->t, &v, &id, from, now));
}

/* Read what is queued, in a bounded batch; 1 if the active set changed. */
static int
cluster_read(struct cluster *c)
{
	uint8_t			buf[MSG_MAX_LEN + 1];
	struct sockaddr_storage	ss;
	struct ilb_addr		from;
	socklen_t		sslen;
	ssize_t			n;
	int			i, changed = 0;

	for (i = 0; i < CLUSTER_READ_BATCH; i++) {
		sslen = sizeof(ss);
		n = recvfrom(c->fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&ss, &sslen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				c->t.stats.recv_errors++;
				log_debug("cluster: recvfrom: %s",
				    strerror(errno));
			}
			break;
		}
		c->t.stats.received++;
		cluster_sa_to_addr(&ss, &from);
		changed |= cluster_input(c, buf, (size_t)n, &from,
		    util_now_ms());
	}
	return (changed);
}

void
cluster_poll(struct cluster *c)
{
	if (cluster_read(c))
		c->members_cb(c->arg);
}

static void
cluster_on_read(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	cluster_poll(arg);
}

static void
cluster_timer_add(struct event *ev, uint32_t ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/* claim 16: announce this node every hello_ms. */
static void
cluster_on_hello(evutil_socket_t fd, short events, void *arg)
{
	struct cluster	*c = arg;

	(void)fd;
	(void)events;
	cluster_send_id(c);
	cluster_timer_add(c->ev_hello, c->hello_ms);
}

static uint32_t
cluster_expire_ms(const struct cluster *c)
{
	return (c->hello_ms / 2 > 5 ? c->hello_ms / 2 : 5);
}

/* claim 18: drain what is queued first, so a stalled loop kills no one. */
static void
cluster_on_expire(evutil_socket_t fd, short events, void *arg)
{
	struct cluster	*c = arg;
	int		 changed;

	(void)fd;
	(void)events;
	changed = cluster_read(c);
	changed |= cluster_table_expire(&c->t, util_now_ms());
	if (changed)
		c->members_cb(c->arg);
	cluster_timer_add(c->ev_expire, cluster_expire_ms(c));
}

/* Our GRE and unicast address: node.address, else the interface's. */
static int
cluster_self_addr(const struct ilbd_conf *conf, struct ilb_addr *a,
    char **cause)
{
	if (conf->node.has_address) {
		*a = conf->node.address;
		return (0);
	}
	return (cluster_ifaddr(conf->node.interface,
	    conf->cluster.group.family, a, cause));
}

/* Copy what the cluster needs of conf (services are not ours). */
static void
cluster_conf_copy(struct cluster *c, const struct ilbd_conf *conf)
{
	c->conf = *conf;
	c->conf.services = NULL;
	c->conf.nservices = 0;
	c->authenticate = conf->cluster.authenticate;
	if (c->authenticate)
		memcpy(c->key, conf->cluster.key, sizeof(c->key));
	sodium_memzero(c->conf.cluster.key, sizeof(c->conf.cluster.key));
	c->hello_ms = conf->cluster.hello_ms;
}

static int
cluster_events(struct cluster *c, char **cause)
{
	c->ev_read = event_new(c->base, c->fd, EV_READ | EV_PERSIST,
	    cluster_on_read, c);
	c->ev_hello = evtimer_new(c->base, cluster_on_hello, c);
	c->ev_expire = evtimer_new(c->base, cluster_on_expire, c);
	if (c->ev_read == NULL || c->ev_hello == NULL ||
	    c->ev_expire == NULL || event_add(c->ev_read, NULL) == -1) {
		return (util_cause(cause, "cluster: cannot set up events"));
	}
	cluster_timer_add(c->ev_expire, cluster_expire_ms(c));
	return (0);
}

struct cluster *
cluster_open(struct event_base *base, const struct ilbd_conf *conf,
    void (*members_cb)(void *), void *arg, char **cause)
{
	struct cluster	*c;
	struct ilb_addr	 self;

	if (cluster_self_addr(conf, &self, cause) == -1)
		return (NULL);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		util_cause(cause, "cluster: %s", strerror(errno));
		return (NULL);
	}
	c->base = base;
	c->fd = -1;
	c->members_cb = members_cb;
	c->arg = arg;
	cluster_conf_copy(c, conf);
	c->epoch = cluster_boot_epoch();
	cluster_table_init(&c->t, &conf->node.id, &self, c->epoch,
	    conf->cluster.scoring, conf->cluster.dead_ms, util_now_ms());
	if ((c->ifindex = if_nametoindex(conf->node.interface)) == 0) {
		util_cause(cause, "interface %s: %s", conf->node.interface,
		    strerror(errno));
		cluster_close(c);
		return (NULL);
	}
	if (cluster_socket(c, cause) == -1 || cluster_events(c, cause) == -1) {
		cluster_close(c);
		return (NULL);
	}
	cluster_on_hello(-1, 0, c);	/* announce at once */
	return (c);
}

void
cluster_close(struct cluster *c)
{
	if (c == NULL)
		return;
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_hello != NULL)
		event_free(c->ev_hello);
	if (c->ev_expire != NULL)
		event_free(c->ev_expire);
	if (c->fd != -1)
		close(c->fd);	/* leaves the group */
	sodium_memzero(c->key, sizeof(c->key));
	free(c);
}

/* What changed that only a restart applies, or NULL. */
static const char *
cluster_reload_blocker(const struct cluster *c, const struct ilbd_conf *n)
{
	const struct ilbd_conf	*o = &c->conf;

	if (!util_addr_eq(&o->cluster.group, &n->cluster.group) ||
	    o->cluster.port != n->cluster.port)
		return ("cluster.group or cluster.port");
	if (strcmp(o->node.interface, n->node.interface) != 0)
		return ("node.interface");
	if (score_id_cmp(&o->node.id, &n->node.id) != 0 ||
	    o->node.id.is_index != n->node.id.is_index)
		return ("node.id");
	if (o->node.has_address != n->node.has_address ||
	    (n->node.has_address && !util_addr_eq(&o->node.address,
	    &n->node.address)))
		return ("node.address");
	if (o->cluster.authenticate != n->cluster.authenticate ||
	    (n->cluster.authenticate && sodium_memcmp(c->key,
	    n->cluster.key, sizeof(c->key)) != 0))
		return ("cluster.authenticate or the cluster key");
	if (o->cluster.scoring != n->cluster.scoring)
		return ("cluster.scoring");
	return (NULL);
}

/* What in conf cannot change while running, or NULL. */
const char *
cluster_reload_check(const struct cluster *c, const struct ilbd_conf *conf)
{
	return (cluster_reload_blocker(c, conf));
}

int
cluster_reload(struct cluster *c, const struct ilbd_conf *conf)
{
	const char	*why;

	c->hello_ms = conf->cluster.hello_ms;
	c->t.dead_ms = conf->cluster.dead_ms;
	c->t.m[c->t.self].dead_ms = conf->cluster.dead_ms;
	c->conf.cluster.hello_ms = conf->cluster.hello_ms;
	c->conf.cluster.dead_ms = conf->cluster.dead_ms;
	cluster_timer_add(c->ev_hello, c->hello_ms);
	cluster_timer_add(c->ev_expire, cluster_expire_ms(c));
	if ((why = cluster_reload_blocker(c, conf)) == NULL)
		return (0);
	log_warnx("cluster: a change of %s takes effect at restart only", why);
	return (-1);
}

void
cluster_set_event_cb(struct cluster *c, cluster_event_cb cb, void *arg)
{
	c->t.event_cb = cb;
	c->t.event_arg = arg;
}

const struct cluster_stats *
cluster_stats(const struct cluster *c)
{
	return (&c->t.stats);
}

void
cluster_set_msg_cb(struct cluster *c, cluster_msg_cb cb, void *arg)
{
	c->t.msg_cb = cb;
	c->t.msg_arg = arg;
}

/* claims 17, 18: joining until the transfers are in; leaving at the end. */
int
cluster_set_state(struct cluster *c, enum msg_state st)
{
	int	was, r;

	was = c->t.m[c->t.self].state == MSG_S_ACTIVE;
	if ((r = cluster_table_set_state(&c->t, st)) <= 0)
		return (r);
	log_info("this node is now %s", msg_state_name(st));
	cluster_send_id(c);
	if (was != (st == MSG_S_ACTIVE))
		c->members_cb(c->arg);
	return (0);
}

enum msg_state
cluster_state(const struct cluster *c)
{
	return ((enum msg_state)c->t.m[c->t.self].state);
}

size_t
cluster_joining(const struct cluster *c, struct member_id *ids,
    uint16_t *slots, struct ilb_addr *addrs, size_t max)
{
	return (cluster_table_joining(&c->t, ids, slots, addrs, max));
}

int
cluster_find_id(const struct cluster *c, const struct member_id *id)
{
	return (cluster_table_find_id(&c->t, id));
}

const struct member_id *
cluster_slot_id(const struct cluster *c, uint16_t slot)
{
	const struct cluster_member	*m;

	if ((m = cluster_slot_member(c, slot)) == NULL)
		return (NULL);
	return (&m->id);
}

const struct cluster_member *
cluster_slot_member(const struct cluster *c, uint16_t slot)
{
	return (cluster_table_member(&c->t, slot));
}

const struct cluster_table *
cluster_get_table(const struct cluster *c)
{
	return (&c->t);
}

uint16_t
cluster_self_slot(const struct cluster *c)
{
	return (c->t.self);
}

size_t
cluster_active(const struct cluster *c, struct member_id *ids,
    uint16_t *slots, struct ilb_addr *addrs, size_t max, size_t *self_index)
{
	return (cluster_table_active(&c->t, ids, slots, addrs, max,
	    self_index));
}

const struct ilb_addr *
cluster_slot_addr(const struct cluster *c, uint16_t slot)
{
	return (cluster_table_slot_addr(&c->t, slot));
}

int
cluster_find_addr(const struct cluster *c, const struct ilb_addr *a)
{
	return (cluster_table_find_addr(&c->t, a));
}

void
cluster_foreach_member(const struct cluster *c,
    void (*cb)(void *, uint16_t, const struct cluster_member *, uint64_t),
    void *arg)
{
	uint64_t	now = util_now_ms();
	uint16_t	i;

	for (i = 0; i < c->t.nslots; i++)
		if (c->t.m[i].in_use)
			cb(arg, i, &c->t.m[i], now - c->t.m[i].last_heard);
}

uint64_t
cluster_epoch(const struct cluster *c)
{
	return (c->epoch);
}

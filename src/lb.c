/* lb.c: the per-packet decision of an ILB (claims 13-15), pure. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "conntab.h"
#include "lb.h"
#include "lb_int.h"
#include "ltoc.h"
#include "packet.h"
#include "sched.h"
#include "score.h"
#include "stats.h"
#include "view.h"

static struct lb_record *lb_queue_put(struct lb *, enum lb_rec_type,
		    const struct conn_entry *);
static int	lb_ltoc_keep_udp(struct lb *, struct conn_entry *);
static uint32_t	lb_udp_timeout(const struct lb *, const struct conn_entry *);

/* What lb_decide() knows of one packet once it is scored. */
struct lb_pkt {
	const struct pkt_info	*pi;
	unsigned int		 svc;		/* service index */
	struct view_pick	 rank;		/* owner and backup */
	int			 by_handoff;
	uint64_t		 now;
	enum lb_drop		 drop;		/* not scored: why it drops */
	const struct conntab	*htab;		/* the table h is for, or NULL */
	uint64_t		 h;		/* key's conntab_hash() in htab */
};

/*
 * p's entry in the LTOC or the cache: a burst hashed the key for one of
 * them already (lb_burst_chunk()), and that lookup reuses the hash.
 */
static struct conn_entry *
lb_pkt_ltoc(struct lb *lb, const struct lb_pkt *p)
{
	if (p->htab == &lb->ltoc.tab)
		return (conntab_lookup_h(&lb->ltoc.tab, &p->pi->key, p->h));
	return (ltoc_lookup(&lb->ltoc, &p->pi->key));
}

static struct conn_entry *
lb_pkt_cache(struct lb *lb, const struct lb_pkt *p)
{
	if (p->htab == &lb->cache.tab)
		return (conntab_lookup_h(&lb->cache.tab, &p->pi->key, p->h));
	return (cache_peek(&lb->cache, &p->pi->key));
}

const struct counter_desc lb_counters[] = {
#define LB_COUNTER(name, help)	COUNTER_FIELD(struct lb_stats, name, help)
	LB_STATS_FOREACH(LB_COUNTER)
#undef LB_COUNTER
	COUNTER_END
};

_Static_assert(sizeof(lb_counters) / sizeof(lb_counters[0]) ==
    LB_STATS_N + 1, "lb_counters and struct lb_stats disagree");

static uint64_t
lb_gauge_ltoc(const void *lb)
{
	return (ltoc_count(&((const struct lb *)lb)->ltoc));
}

static uint64_t
lb_gauge_cache(const void *lb)
{
	return (cache_count(&((const struct lb *)lb)->cache));
}

const struct counter_desc lb_gauges[] = {
	{ .name = "ltoc_entries", .help = "connections in the LTOC",
	    .type = DP_GAUGE, .get = lb_gauge_ltoc },
	{ .name = "cache_entries", .help = "associations in the cache",
	    .type = DP_GAUGE, .get = lb_gauge_cache },
	COUNTER_END
};
_Static_assert((LB_QUEUE_LEN & (LB_QUEUE_LEN - 1)) == 0,
    "LB_QUEUE_LEN must be a power of two");
_Static_assert((LB_EST_RING & (LB_EST_RING - 1)) == 0,
    "LB_EST_RING must be a power of two");
_Static_assert((LB_ENDED_SLOTS & (LB_ENDED_SLOTS - 1)) == 0,
    "LB_ENDED_SLOTS must be a power of two");

static const char *const lb_drop_names[LB_DROP_MAX] = {
	"none", "bad_packet", "not_tcp", "fragment", "no_members",
	"no_service", "no_server", "ltoc_full", "misrouted", "orphan",
	"icmp_orphan"
};

static const char *const lb_path_names[] = {
	"none", "owner", "backup", "cache", "hash", "quic"
};

const char *
lb_drop_name(int d)
{
	if (d < 0 || d >= LB_DROP_MAX)
		return ("unknown");
	return (lb_drop_names[d]);
}

const char *
lb_path_name(int p)
{
	if (p < 0 || (size_t)p >= sizeof(lb_path_names) /
	    sizeof(lb_path_names[0]))
		return ("unknown");
	return (lb_path_names[p]);
}

uint64_t
lb_stats_get(const struct lb_stats *st, size_t i)
{
	if (i >= LB_STATS_N)
		return (0);
	return (counter_value(&lb_counters[i], st));
}

/* Bytes of the key that name the service: 6 (v4), 18 (v6) or 0. */
static size_t
lb_svc_keylen(const struct flow_key *key)
{
	if (flow_key_idlen(key) == FLOW_ID_V4)
		return (2 + 4);
	if (flow_key_idlen(key) == FLOW_ID_V6)
		return (2 + 16);
	return (0);
}

int
lb_service_find(const struct lb *lb, const struct flow_key *key)
{
	const struct lb_service	*s;
	size_t			 len;
	uint32_t		 i, h;
	int			 udp = flow_key_is_udp(key);

	if ((len = lb_svc_keylen(key)) == 0 || lb->nsvc == 0)
		return (-1);
	h = lb_svc_hash_proto(key->id, len, udp);
	for (i = 0; i <= lb->svc_mask; i++) {
		uint16_t v = lb->svc_hash[(h + i) & lb->svc_mask];

		if (v == 0)
			return (-1);
		s = &lb->svc[v - 1];
		if (s->mlen == len && s->udp == udp &&
		    memcmp(s->match, key->id, len) == 0)
			return (v - 1);
	}
	return (-1);
}

int
lb_echo_to_vip(struct lb *lb, const struct ilb_addr *a, int by_handoff)
{
	const struct lb_service	*s;
	size_t			 alen;
	unsigned int		 i;

	alen = a->family == AF_INET ? 4 : 16;
	for (i = 0; i < lb->nsvc; i++) {
		s = &lb->svc[i];
		if (!s->removed && s->mlen == 2 + alen &&
		    memcmp(s->match + 2, a->u.b, alen) == 0) {
			lb->stats.rx++;
			if (by_handoff)
				lb->stats.handoff_in++;
			return (1);
		}
	}
	return (0);
}

/* Owner entries count as active connections of their server. */
static void
lb_entry_unaccount(struct lb *lb, const struct conn_entry *e)
{
	if (e->role == CONN_ROLE_OWNER && e->service < lb->nsvc)
		sched_conn_del(&lb->svc[e->service].sched, e->server);
}

/*
 * An LTOC entry idle past its timeout. issue 22: a UDP flow has no FIN;
 * its owner's expiry ends it everywhere: the END moves the backup's and
 * the caches' copies to closing (fin_timeout_s), as a FIN would. One
 * never replicated has no copy, and one already closing has had its END.
 */
static void
lb_ltoc_expired(void *arg, const struct conn_entry *e)
{
	struct lb	*lb = arg;

	lb_entry_unaccount(lb, e);
	lb->stats.ltoc_expired++;
	if (conn_udp_unreplicated(e))
		lb->stats.udp_unreplicated++;
	else if (flow_key_is_udp(&e->key) && e->role == CONN_ROLE_OWNER &&
	    e->state != CONN_CLOSING) {
		lb->stats.udp_expired_end++;
		lb_queue_put(lb, LB_REC_END, e);
	}
}

/*
 * An owner or backup entry that is still syn when syn_timeout_s runs out
 * may only have missed the REFRESH that the handshake's end sent (to the
 * holders by multicast and on the reliable channel, which a flapping
 * member can lose: the ACK may have gone through a third member's cache),
 * or have been adopted from the cache with the cache copy's state and
 * idle time: the connection may be live and idle. Instead of dropping
 * it, ask the other members once (lb->pull, the reliable channel) and
 * keep the entry one more syn_timeout_s: a member whose entry of the
 * connection is in a later state answers with it, and a connection that
 * never completed its handshake expires then.
 */
static int
lb_ltoc_keep(void *arg, struct conn_entry *e)
{
	struct lb	*lb = arg;

	if (flow_key_is_udp(&e->key))
		return (lb_ltoc_keep_udp(lb, e));
	if (lb->pull == NULL || e->role == CONN_ROLE_NONE ||
	    e->state != CONN_SYN || e->pulled ||
	    lb->pull(lb->pull_arg, e) == -1)
		return (0);
	e->pulled = 1;
	return (1);
}

/*
 * issue 22: the same for a replicated UDP flow at a holder when its
 * timeout runs out, new or a stream. A new one may be a stream whose REFRESH
 * self missed (self was joining again when its owner saw it become one,
 * or its copy came from a cache that missed that multicast), idle for
 * less than udp_stream_timeout_s: one datagram every 15 s with a 10 s
 * udp_timeout_s. Expiring it would send END (owner) or lose the copy,
 * and the flow's next datagram would open it again, maybe on another
 * server. A stream may be seen elsewhere while self, flapping out of the
 * cluster, missed every REFRESH for udp_stream_timeout_s. Ask once
 * (CONN_UDP_PULLED, since pulled says replicated; activity clears it);
 * an owner or cache that saw the flow lately answers a REFRESH
 * (lb_udp_live()), which makes a new copy a stream. A flow never
 * replicated (a one-shot query) asks nothing.
 */
static int
lb_ltoc_keep_udp(struct lb *lb, struct conn_entry *e)
{
	if (lb->pull == NULL || e->role == CONN_ROLE_NONE ||
	    e->state == CONN_CLOSING || conn_udp_unreplicated(e) ||
	    (e->syn_tag & CONN_UDP_PULLED) ||
	    lb->pull(lb->pull_arg, e) == -1)
		return (0);
	e->syn_tag |= CONN_UDP_PULLED;
	return (1);
}

/*
 * Whether UDP entry e answers a holder's question (repl_sm_rx_pull()):
 * self saw the flow within half its idle timeout (a datagram here, or a
 * REFRESH from where one was seen) and has not asked about it itself
 * since (a kept entry's last second is not activity). A backup's copy
 * goes by its own datagrams instead: its owner's reconciliation touches
 * it every few seconds while the owner holds the flow, so its last
 * second says nothing of the flow's activity, and it would keep a dead
 * flow's owner forever. It answers when it forwarded a datagram since
 * it last answered (CONN_UDP_SEEN, used up here): a stream that comes in
 * through its backup alone is kept at an owner that missed every REFRESH
 * the backup sent, and once the stream stops the backup answers once
 * more at most. Copies of a flow nobody sees are all idle for about
 * their timeout when they ask, so they cannot keep each other; each asks
 * once until it sees activity.
 */
int
lb_udp_live(const struct lb *lb, struct conn_entry *e, uint64_t now)
{
	uint32_t	now_s = (uint32_t)(now / 1000);

	if (!flow_key_is_udp(&e->key) || (e->syn_tag & CONN_UDP_PULLED))
		return (0);
	if (e->role == CONN_ROLE_BACKUP) {
		if (!(e->syn_tag & CONN_UDP_SEEN))
			return (0);
		e->syn_tag &= (uint16_t)~CONN_UDP_SEEN;
		return (1);
	}
	return ((uint64_t)e->last + lb_udp_timeout(lb, e) / 2 > now_s);
}

void
lb_set_pull_cb(struct lb *lb, lb_pull_cb cb, void *arg)
{
	lb->pull = cb;
	lb->pull_arg = arg;
}

void
lb_set_tables(struct lb *lb, const struct tables_conf *t)
{
	lb->tables = *t;
	lb->ltoc_high = t->ltoc_size - t->ltoc_size / 16;
	lb->refresh_s = t->tcp_timeout_s / 8;
	if (lb->refresh_s < LB_REFRESH_S)
		lb->refresh_s = LB_REFRESH_S;
}

int
lb_init(struct lb *lb, const struct ilbd_conf *conf, uint64_t seed)
{
	memset(lb, 0, sizeof(*lb));
	lb->self = LB_SELF_NONE;
	lb->self_slot = CONN_SLOT_NONE;
	lb->scoring = conf->cluster.scoring;
	memcpy(lb->key, conf->cluster.key, sizeof(lb->key));
	lb_set_tables(lb, &conf->tables);
	lb->gone_ms = conf->cluster.dead_ms;
	if (score_init(&lb->score, conf->cluster.scoring,
	    conf->cluster.key) == -1) {
		errno = EINVAL;
		return (-1);
	}
	if (ltoc_init(&lb->ltoc, &conf->tables, seed) == -1)
		return (-1);
	ltoc_set_expire_cb(&lb->ltoc, lb_ltoc_expired, lb);
	ltoc_set_keep_cb(&lb->ltoc, lb_ltoc_keep, lb);
	if (cache_init(&lb->cache, &conf->tables, seed ^
	    0x9e3779b97f4a7c15ULL) == -1)
		goto fail;
	if ((lb->queue = calloc(LB_QUEUE_LEN, sizeof(*lb->queue))) == NULL ||
	    (lb->est = calloc(LB_EST_RING, sizeof(*lb->est))) == NULL ||
	    (lb->ended = calloc(LB_ENDED_WAYS * LB_ENDED_SLOTS,
	    sizeof(*lb->ended))) == NULL)
		goto fail;
	if (lb_reload_init(lb, conf) == -1)
		goto fail;
	return (0);
fail:
	{
		int	saved = errno;

		lb_free(lb);
		errno = saved;
	}
	return (-1);
}

void
lb_free(struct lb *lb)
{
	lb_reload_free(lb);
	free(lb->queue);
	free(lb->est);
	free(lb->ended);
	ltoc_free(&lb->ltoc);
	cache_free(&lb->cache);
	memset(lb, 0, sizeof(*lb));
	lb->self = LB_SELF_NONE;
	lb->self_slot = CONN_SLOT_NONE;
}

void
lb_rank(const struct lb *lb, const struct flow_key *key, int *owner,
    int *backup)
{
	struct view		v;
	struct view_pick	p;

	lb_members_view(lb, &v);
	view_rank(&v, key, &p);
	*owner = p.owner;
	*backup = p.backup;
}

/*
 * Queue a record: the record, or NULL when the queue is full (counted,
 * dropped).
 */
static struct lb_record *
lb_queue_put(struct lb *lb, enum lb_rec_type type,
    const struct conn_entry *e)
{
	struct lb_record	*r;

	if (lb->qtail - lb->qhead >= LB_QUEUE_LEN) {
		lb->stats.queue_full++;
		return (NULL);
	}
	r = &lb->queue[lb->qtail++ & (LB_QUEUE_LEN - 1)];
	r->type = (uint8_t)type;
	r->flags = 0;
	r->service = e->service;
	r->server = e->server;
	r->owner = e->owner;
	r->backup = e->backup;
	r->tag = conn_tag(e);
	r->key = e->key;
	if (type == LB_REC_NEW)
		lb->stats.new_queued++;
	else if (type == LB_REC_END)
		lb->stats.end_queued++;
	else
		lb->stats.refresh_queued++;
	return (r);
}

/*
 * Queue the NEW of a SYN self decided as owner (LB_REC_F_FRESH), with
 * flags (LB_REC_F_REOPEN) added.
 */
static void
lb_queue_fresh(struct lb *lb, const struct conn_entry *e, uint8_t flags)
{
	struct lb_record	*r;

	if ((r = lb_queue_put(lb, LB_REC_NEW, e)) != NULL)
		r->flags |= LB_REC_F_FRESH | flags;
}

/*
 * DESIGN section 2, activity refreshes: an ILB forwarding a connection it
 * does not own queues a REFRESH when the packet falls in another
 * LB_REFRESH_S window than the entry's previous one (last, seconds, read
 * before the packet touched it). A busy connection costs one record per
 * window and node, an idle one none; no per-entry state is added.
 */
/* The idle timeout of UDP entry e: its service's, or the tables'. */
static uint32_t
lb_udp_timeout(const struct lb *lb, const struct conn_entry *e)
{
	const struct service_conf	*c = NULL;
	uint32_t			 t = 0;

	if (e->service < lb->nsvc)
		c = lb->svc[e->service].conf;
	if (e->state == CONN_SYN) {
		if (c != NULL)
			t = c->udp_timeout_s;
		return (t != 0 ? t : lb->tables.udp_timeout_s);
	}
	if (c != NULL)
		t = c->udp_stream_timeout_s;
	return (t != 0 ? t : lb->tables.udp_stream_timeout_s);
}

static void
lb_refresh_maybe(struct lb *lb, const struct conn_entry *e, uint32_t last,
    uint64_t now)
{
	uint32_t	now_s = (uint32_t)((now + 999) / 1000);	/* as last */
	uint32_t	w = lb->refresh_s;

	/*
	 * A UDP entry's copies elsewhere expire sooner than a TCP one's: a
	 * new flow's after its service's udp_timeout_s (a third of it
	 * here), a stream's after udp_stream_timeout_s (an eighth, as for
	 * TCP).
	 */
	if (flow_key_is_udp(&e->key))
		w = lb_udp_timeout(lb, e) / (e->state == CONN_SYN ? 3 : 8);
	if (w == 0)
		w = 1;
	if (e->state == CONN_CLOSING || now_s / w == last / w)
		return;
	lb_queue_put(lb, LB_REC_REFRESH, e);
}

/*
 * The handshake of e (a cache entry if in_cache, else an LTOC one)
 * completed through self at now: its REFRESH waits in lb->est for
 * lb_tick() (see lb_ltoc_hit()). A full ring queues it at once instead.
 * Only the key is kept, no service or server index: lb_reload() (whose
 * lb_refs_collect() finds the indices in use) need not know of the ring.
 */
static void
lb_est_defer(struct lb *lb, const struct conn_entry *e, int in_cache,
    uint64_t now)
{
	struct lb_est	*x;

	if (lb->est_tail - lb->est_head >= LB_EST_RING) {
		lb->stats.est_refresh_now++;
		lb_queue_put(lb, LB_REC_REFRESH, e);
		return;
	}
	x = &lb->est[lb->est_tail++ & (LB_EST_RING - 1)];
	x->at = now;
	x->key = e->key;
	x->in_cache = (uint8_t)in_cache;
	lb->stats.est_deferred++;
}

/*
 * The entry of a pending establishment: in the table it was in, else in
 * the other, since lb_rebalance() moves an LTOC entry self no longer
 * holds to the cache and a TRANSFER naming self moves a cache entry to
 * the LTOC. NULL once it expired or was evicted.
 */
static struct conn_entry *
lb_est_entry(struct lb *lb, const struct lb_est *x)
{
	struct conn_entry	*e;

	if (x->in_cache) {
		if ((e = cache_peek(&lb->cache, &x->key)) == NULL)
			e = ltoc_lookup(&lb->ltoc, &x->key);
	} else if ((e = ltoc_lookup(&lb->ltoc, &x->key)) == NULL)
		e = cache_peek(&lb->cache, &x->key);
	return (e);
}

/*
 * Queue the REFRESH of every establishment at least LB_EST_DELAY_MS old
 * (a quarter of syn_timeout_s if that is less) whose connection is still
 * established; one that closed meanwhile sent END instead. The ring is
 * in time order: the first younger one ends the walk, which is at most
 * LB_EST_RING long. A full record queue ends it too: the rest wait for
 * the next tick instead of being lost as queue_full (the delay is at
 * most a quarter of syn_timeout_s, so a few ticks more are harmless).
 */
static void
lb_est_flush(struct lb *lb, uint64_t now)
{
	const struct lb_est	*x;
	struct conn_entry	*e;
	uint64_t		 delay;

	delay = (uint64_t)lb->tables.syn_timeout_s * 1000 / 4;
	if (delay > LB_EST_DELAY_MS)
		delay = LB_EST_DELAY_MS;
	while (lb->est_head != lb->est_tail) {
		x = &lb->est[lb->est_head & (LB_EST_RING - 1)];
		if (now < x->at + delay ||
		    lb->qtail - lb->qhead >= LB_QUEUE_LEN)
			break;
		if ((e = lb_est_entry(lb, x)) != NULL &&
		    e->state == CONN_ESTABLISHED)
			lb_queue_put(lb, LB_REC_REFRESH, e);
		else
			lb->stats.est_refresh_skipped++;
		lb->est_head++;
	}
}

int
lb_queue_pop(struct lb *lb, struct lb_record *r)
{
	if (lb->qhead == lb->qtail)
		return (0);
	*r = lb->queue[lb->qhead++ & (LB_QUEUE_LEN - 1)];
	return (1);
}

uint32_t
lb_queue_len(const struct lb *lb)
{
	return (lb->qtail - lb->qhead);
}

static int
lb_drop(struct lb *lb, struct lb_action *act, enum lb_drop why)
{
	static const size_t off[LB_DROP_MAX] = {
		[LB_DROP_BAD_PACKET] = offsetof(struct lb_stats, bad_packet),
		[LB_DROP_NOT_TCP] = offsetof(struct lb_stats, not_tcp),
		[LB_DROP_FRAGMENT] = offsetof(struct lb_stats, fragment),
		[LB_DROP_NO_MEMBERS] = offsetof(struct lb_stats, no_members),
		[LB_DROP_NO_SERVICE] = offsetof(struct lb_stats, no_service),
		[LB_DROP_NO_SERVER] = offsetof(struct lb_stats, no_server),
		[LB_DROP_LTOC_FULL] = offsetof(struct lb_stats, ltoc_full),
		[LB_DROP_MISROUTED] = offsetof(struct lb_stats, misrouted),
		[LB_DROP_ORPHAN] = offsetof(struct lb_stats, orphan),
		[LB_DROP_ICMP_ORPHAN] = offsetof(struct lb_stats, icmp_orphan),
	};

	if (why > LB_DROP_NONE && why < LB_DROP_MAX)
		(*(uint64_t *)((uint8_t *)&lb->stats + off[why]))++;
	lb->stats.drop++;
	act->verdict = LB_DROP;
	act->drop = why;
	return (LB_DROP);
}

/* Fill act to forward to server of service: 0, or -1 if an index is stale. */
static int
lb_fill(const struct lb *lb, struct lb_action *act, unsigned int service,
    unsigned int server, enum lb_path path)
{
	const struct service_conf	*c;

	if (service >= lb->nsvc || server >= lb->svc[service].conf->nservers)
		return (-1);
	c = lb->svc[service].conf;
	act->verdict = LB_FORWARD;
	act->path = path;
	act->service = (uint16_t)service;
	act->server = (uint16_t)server;
	act->svc = c;
	act->srv = &c->servers[server];
	return (0);
}

/* Forward to server of service; an index a reload made stale drops. */
static int
lb_forward(struct lb *lb, struct lb_action *act, unsigned int service,
    unsigned int server, enum lb_path path)
{
	if (lb_fill(lb, act, service, server, path) == -1)
		return (lb_drop(lb, act, LB_DROP_NO_SERVER));
	switch (path) {
	case LB_PATH_OWNER:
		lb->stats.forward_owner++;
		break;
	case LB_PATH_BACKUP:
		lb->stats.forward_backup++;
		break;
	case LB_PATH_CACHE:
		lb->stats.forward_cache++;
		break;
	case LB_PATH_QUIC:
		lb->stats.quic_routed++;
		break;
	default:
		lb->stats.forward_hash++;
		break;
	}
	return (LB_FORWARD);
}

/*
 * To the owner, unless the packet already came by handoff (no loops; a
 * UDP datagram may go on once, lb_udp_handoff()). A handoff never goes
 * to self: self is not the owner when this is called.
 */
static int
lb_handoff(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	if (p->by_handoff)
		return (lb_drop(lb, act, LB_DROP_MISROUTED));
	lb->stats.handoff_out++;
	act->verdict = LB_HANDOFF;
	act->member = p->rank.oslot;
	return (LB_HANDOFF);
}

/*
 * State of an LTOC entry on a non-SYN packet: syn -> established, FIN/RST
 * -> closing with one END queued (claim 14), its tag remembered as ended
 * (a late copy of its NEW must not revive it, lb_learn.c). Closing
 * entries stay until fin_timeout_s: the last ACKs still pass through.
 */
static void
lb_ltoc_update(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p)
{
	if (PKT_IS_END(p->pi)) {
		if (e->state == CONN_CLOSING) {
			ltoc_touch(&lb->ltoc, e, p->now);
			return;
		}
		ltoc_set_state(&lb->ltoc, e, CONN_CLOSING, p->now);
		lb->stats.closing++;
		lb_queue_put(lb, LB_REC_END, e);
		lb_ended_add(lb, &e->key, e->syn_tag);
	} else if (e->state == CONN_SYN) {
		ltoc_set_state(&lb->ltoc, e, CONN_ESTABLISHED, p->now);
		lb->stats.established++;
	} else
		ltoc_touch(&lb->ltoc, e, p->now);
}

/* The same for a cache entry (claim 14, not owner nor backup). */
static void
lb_cache_update(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p)
{
	cache_touch(&lb->cache, e, p->now);
	if (PKT_IS_END(p->pi)) {
		if (e->state == CONN_CLOSING)
			return;
		cache_set_state(&lb->cache, e, CONN_CLOSING, p->now);
		lb->stats.closing++;
		lb_queue_put(lb, LB_REC_END, e);
		lb_ended_add(lb, &e->key, e->syn_tag);
	} else if (e->state == CONN_SYN)
		cache_set_state(&lb->cache, e, CONN_ESTABLISHED, p->now);
}

/* Fill a fresh LTOC entry owned by self and count it on its server. */
static void
lb_ltoc_own(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p,
    int server)
{
	ltoc_set_service(&lb->ltoc, e, p->svc);
	e->server = (uint16_t)server;
	e->owner = p->rank.oslot;
	e->backup = p->rank.bslot;
	e->role = CONN_ROLE_OWNER;
	sched_conn_add(&lb->svc[p->svc].sched, (unsigned int)server);
}

/*
 * SYN flood defence: with the LTOC nearly full a new SYN gets no entry;
 * the stateless hash picks its server, and for a while (two SYN timeouts)
 * an owner without an entry does the same for the non-SYN packets that
 * follow (lb_owner_miss()), re-creating the entry if there is room then.
 * Established entries are never evicted; the last 1/16 of the table is
 * kept for those re-created entries.
 */
static int
lb_syn_stateless(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	int	server;

	if ((server = sched_pick_hash(&lb->svc[p->svc].sched,
	    &p->pi->key)) < 0)
		return (lb_drop(lb, act, LB_DROP_NO_SERVER));
	lb->stats.syn_hash_fallback++;
	lb->pressure_until = p->now + 2000 * (uint64_t)lb->tables.syn_timeout_s;
	return (lb_forward(lb, act, p->svc, (unsigned int)server,
	    LB_PATH_HASH));
}

/*
 * A SYN at its owner whose closing entry was opened by this very SYN (the
 * same tag): the client is still connecting. What closed the entry was a
 * reset it sent while connecting, in answer to a segment of the tuple's
 * previous connection (the old server retransmitting its FIN, say). The
 * connection opens again on its server, and a fresh NEW tells the other
 * holders, which took that reset for its end. Deciding the SYN anew
 * would give the client two servers answering one connection.
 */
static int
lb_syn_reopen(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p,
    struct lb_action *act)
{
	lb->stats.syn_reopen++;
	e->owner = p->rank.oslot;
	e->backup = p->rank.bslot;
	ltoc_set_state(&lb->ltoc, e, CONN_SYN, p->now);
	lb_queue_fresh(lb, e, LB_REC_F_REOPEN);
	return (lb_forward(lb, act, e->service, e->server, LB_PATH_OWNER));
}

/*
 * A live LTOC entry at the owner and a SYN whose tag is not the entry's:
 * not a retransmission (that repeats the SYN's sequence number) but the
 * tuple's next connection, so the entry's connection has ended, and its
 * END has not reached self (lost with its multicast datagram, the
 * reliable copy still staged at its sender). Taking the SYN for a
 * retransmission would keep the old connection's server and tag: its late
 * END then closes the new connection's entry, whose next SYN (the client
 * retransmits it after answering a segment of the old connection with a
 * reset) goes to another server than the first. The old connection's end
 * is noted (its late copies change nothing) and the SYN is decided as on
 * a closing entry. An entry of unknown tag keeps the old rule.
 */
static int
lb_syn_end_missed(struct lb *lb, const struct conn_entry *e,
    const struct lb_pkt *p)
{
	if (e->syn_tag == 0 || e->syn_tag == conn_syn_tag(p->pi->seq))
		return (0);
	lb->stats.syn_end_missed++;
	lb_ended_add(lb, &e->key, e->syn_tag);
	return (1);
}

/*
 * claim 13: a SYN at its owner. A live LTOC entry means a retransmitted
 * SYN: same server, nothing queued (unless the SYN is another
 * connection's: lb_syn_end_missed()). A closing one means the client
 * reuses the tuple: a new connection replaces it (unless the SYN is the
 * one that opened the closing entry: lb_syn_reopen()). A service removed
 * by a reload takes no new connection (no_service). Otherwise the
 * scheduler picks a server, the LTOC records it with the backup, NEW is
 * queued.
 */
static int
lb_syn_owner(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	struct conn_entry	*e;
	int			 server;

	e = lb_pkt_ltoc(lb, p);
	if (e != NULL && e->state != CONN_CLOSING &&
	    !lb_syn_end_missed(lb, e, p)) {
		lb->stats.retransmitted_syn++;
		ltoc_touch(&lb->ltoc, e, p->now);
		return (lb_forward(lb, act, e->service, e->server,
		    LB_PATH_OWNER));
	}
	if (e != NULL && e->syn_tag != 0 && e->role == CONN_ROLE_OWNER &&
	    e->syn_tag == conn_syn_tag(p->pi->seq))
		return (lb_syn_reopen(lb, e, p, act));
	if (lb->svc[p->svc].removed) {		/* draining: no new ones */
		lb->stats.service_removed++;
		return (lb_drop(lb, act, LB_DROP_NO_SERVICE));
	}
	if (e == NULL && ltoc_count(&lb->ltoc) >= lb->ltoc_high)
		return (lb_syn_stateless(lb, p, act));
	if ((server = sched_pick(&lb->svc[p->svc].sched, &p->pi->key)) < 0)
		return (lb_drop(lb, act, LB_DROP_NO_SERVER));
	if (e != NULL) {
		lb->stats.port_reuse++;
		lb_entry_unaccount(lb, e);
	}
	if ((e = ltoc_insert(&lb->ltoc, &p->pi->key, p->now)) == NULL)
		return (lb_drop(lb, act, LB_DROP_LTOC_FULL));
	lb_ltoc_own(lb, e, p, server);
	e->syn_tag = conn_syn_tag(p->pi->seq);
	lb->stats.new_conn++;
	lb->svc[p->svc].srv[server].traffic.conns++;
	lb->svc[p->svc].traffic.conns++;
	lb_queue_fresh(lb, e, 0);
	return (lb_forward(lb, act, p->svc, (unsigned int)server,
	    LB_PATH_OWNER));
}

/*
 * Owner without an entry for a non-SYN: with scheduler "hash" the server
 * is recomputed (stateless fallback) and the entry re-created as
 * established with a NEW, and a deferred REFRESH as in lb_ltoc_hit(): the
 * NEW makes the other holders' copies syn, the REFRESH established, so
 * they do not expire after syn_timeout_s. The same while SYNs go
 * stateless (LTOC nearly full), but the entry starts in state syn: a
 * forged ACK holds it for a SYN timeout only, the connection's next
 * packet establishes it.
 * Otherwise the packet is an orphan.
 */
static int
lb_owner_miss(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	struct lb_service	*s = &lb->svc[p->svc];
	struct conn_entry	*e;
	int			 server, stateless;

	stateless = s->sched.kind == SCHED_HASH;
	if (!stateless && p->now >= lb->pressure_until)
		return (lb_drop(lb, act, LB_DROP_ORPHAN));
	if ((server = sched_pick_hash(&s->sched, &p->pi->key)) < 0)
		return (lb_drop(lb, act, LB_DROP_NO_SERVER));
	lb->stats.hash_fallback++;
	if ((e = ltoc_insert(&lb->ltoc, &p->pi->key, p->now)) == NULL)
		lb->stats.ltoc_full++;	/* still forwarded: it is stateless */
	else {
		lb_ltoc_own(lb, e, p, server);
		if (stateless)
			ltoc_set_state(&lb->ltoc, e, CONN_ESTABLISHED, p->now);
		lb_queue_put(lb, LB_REC_NEW, e);
		if (PKT_IS_END(p->pi))
			lb_ltoc_update(lb, e, p);
		else if (stateless)
			lb_est_defer(lb, e, 0, p->now);
	}
	return (lb_forward(lb, act, p->svc, (unsigned int)server,
	    LB_PATH_HASH));
}

/*
 * ICMP "fragmentation needed" / "packet too big" about a connection (the
 * key is its tuple): to the connection's server wherever its entry is,
 * without touching the entry; an owner without one uses the hash as
 * lb_owner_miss() would, creating nothing.
 */
static int
lb_icmp(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	struct lb_service	*s = &lb->svc[p->svc];
	struct conn_entry	*e = NULL;
	enum lb_path		 path = LB_PATH_CACHE;
	int			 server;

	if (lb->self == LB_SELF_NONE || lb_is_self(lb, p->rank.owner) ||
	    lb_is_self(lb, p->rank.backup)) {
		e = lb_pkt_ltoc(lb, p);
		path = e == NULL || e->role == CONN_ROLE_OWNER ?
		    LB_PATH_OWNER : LB_PATH_BACKUP;
	}
	if (e == NULL && (e = lb_pkt_cache(lb, p)) != NULL)
		path = LB_PATH_CACHE;
	if (e != NULL) {
		lb->stats.icmp_ptb++;
		return (lb_forward(lb, act, e->service, e->server, path));
	}
	if (!lb_is_self(lb, p->rank.owner)) {
		if (p->by_handoff)
			return (lb_drop(lb, act, LB_DROP_ICMP_ORPHAN));
		lb->stats.icmp_ptb++;
		return (lb_handoff(lb, p, act));
	}
	if ((s->sched.kind != SCHED_HASH && p->now >= lb->pressure_until) ||
	    (server = sched_pick_hash(&s->sched, &p->pi->key)) < 0)
		return (lb_drop(lb, act, LB_DROP_ICMP_ORPHAN));
	lb->stats.icmp_ptb++;
	return (lb_forward(lb, act, p->svc, (unsigned int)server,
	    LB_PATH_HASH));
}

/*
 * An LTOC hit on a non-SYN: the path is self's place in the ranking, or,
 * when self is not a member (leaving), the entry's role. Forwarding
 * queues REFRESH records so that the other holder's copy stays alive: one
 * after the handshake completes (the backup's copy, learnt in state syn,
 * becomes established) and then one per window of a busy connection.
 * The first waits LB_EST_DELAY_MS in lb->est (lb_tick() queues it), so
 * that the many connections that close within it cost an END only: a
 * REFRESH that late is still well within syn_timeout_s (the delay is at
 * most a quarter of it), and a connection that closes before then sends
 * END instead, which the other holders apply to their syn copies too.
 */
static int
lb_ltoc_hit(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p,
    struct lb_action *act)
{
	enum lb_path	path;
	uint32_t	last = e->last;
	uint8_t		before;

	if (lb->self == LB_SELF_NONE)
		path = e->role == CONN_ROLE_OWNER ? LB_PATH_OWNER :
		    LB_PATH_BACKUP;
	else
		path = lb_is_self(lb, p->rank.owner) ? LB_PATH_OWNER :
		    LB_PATH_BACKUP;
	before = e->state;
	lb_ltoc_update(lb, e, p);
	if (before == CONN_SYN && e->state == CONN_ESTABLISHED)
		lb_est_defer(lb, e, 0, p->now);
	else
		lb_refresh_maybe(lb, e, last, p->now);
	return (lb_forward(lb, act, e->service, e->server, path));
}

/*
 * A closing entry at a holder that is not the owner: the client may have
 * opened a new connection on the same tuple, whose SYN went to the owner
 * (every SYN does) and whose NEW has not reached self yet. Sending the
 * packet to the old connection's server would cost the new connection a
 * stall or a reset, so the owner, which saw that SYN, decides. Not when
 * the packet came by handoff (never handed on), nor while self is leaving
 * (not a member: its own entries are the reference). The price: the last
 * ACK of a connection the client closed first takes one handoff more.
 */
static int
lb_closing_to_owner(struct lb *lb, const struct conn_entry *e,
    const struct lb_pkt *p)
{
	if (e->state != CONN_CLOSING || p->by_handoff ||
	    lb->self == LB_SELF_NONE || lb_is_self(lb, p->rank.owner))
		return (0);
	lb->stats.closing_to_owner++;
	return (1);
}

/*
 * A syn entry at a holder that is not the owner, and a packet whose
 * sequence number is far past the SYN the entry was learnt for (its tag,
 * the SYN's low 16 bits): the packet belongs to another connection on the
 * tuple, most likely a newer one whose NEW has not reached self, so the
 * owner, which saw its SYN, decides rather than the entry's server, which
 * would answer with a reset. The first packets of the entry's own
 * connection are within a few segments of its SYN; the first one through
 * self makes the entry established, and no longer checked. Same
 * exceptions as lb_closing_to_owner().
 */
static int
lb_syn_stranger(struct lb *lb, const struct conn_entry *e,
    const struct lb_pkt *p)
{
	if (e->state != CONN_SYN || e->syn_tag == 0 || p->by_handoff ||
	    lb->self == LB_SELF_NONE || lb_is_self(lb, p->rank.owner) ||
	    (uint16_t)(p->pi->seq - e->syn_tag) <= LB_STRANGER_SEQ)
		return (0);
	lb->stats.syn_stranger++;
	return (1);
}

/*
 * A SYN at a member that is not the owner, which hands it on: an entry
 * self holds for the tuple (its backup copy, its cache) of another
 * connection (another tag; or none known while the entry is past syn)
 * is the old connection's on a port the client reuses, whose END has not
 * reached self, or whose NEW reached self after its last packets did and
 * left it syn. The new connection's next packets may come before its
 * NEW: sent to the old server they would be reset. lb_closing_to_owner()
 * and lb_syn_stranger() send such packets to the owner, but a syn
 * entry's 16-bit tag tells the new connection apart only most of the time
 * (its first segments fall within LB_STRANGER_SEQ of the old tag once in
 * 16: test_churn saw it reset a connection). So the entry becomes syn
 * with the tag half the sequence space away from the new SYN's: until
 * the NEW replaces it, the new connection's packets, and nearly all of
 * the old one's, go to the owner, which decides. Nothing is sent, and
 * the owner's next reconciliation or NEW sets a backup copy right again
 * (a syn copy never answers one). A retransmitted SYN of the entry's own
 * connection (same tag) changes nothing; nor does anything by handoff or
 * while self is not a member (lb_closing_to_owner()'s exceptions).
 */
static void
lb_syn_supersede(struct lb *lb, const struct lb_pkt *p)
{
	struct conn_entry	*e = NULL;
	uint16_t		 tag = conn_syn_tag(p->pi->seq);
	int			 in_cache = 0;

	if (p->by_handoff || lb->self == LB_SELF_NONE)
		return;
	if (lb_is_self(lb, p->rank.backup))
		e = lb_pkt_ltoc(lb, p);
	if (e == NULL) {
		if ((e = lb_pkt_cache(lb, p)) == NULL)
			return;
		in_cache = 1;
	}
	/* the key has the protocol in it: e is a TCP connection's */
	if (e->state == CONN_CLOSING ||
	    (e->syn_tag != 0 ? e->syn_tag == tag : e->state == CONN_SYN))
		return;
	lb->stats.syn_superseded++;
	if (in_cache)
		cache_set_state(&lb->cache, e, CONN_SYN, p->now);
	else
		ltoc_set_state(&lb->ltoc, e, CONN_SYN, p->now);
	e->syn_tag = (uint16_t)(tag ^ 0x8000) != 0 ?
	    (uint16_t)(tag ^ 0x8000) : 1;
}

/*
 * claim 14: a non-SYN. Owner or backup: the LTOC entry. Anyone else (and
 * a backup or owner without an entry): the cache; claim 15: no cache hit
 * or no cache at all hands the packet to the owner. A node that is not a
 * member still holds LTOC entries while leaving: it looks there first.
 */
static int
lb_other(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	struct conn_entry	*e;
	uint32_t		 last;
	uint8_t			 before;

	if (lb->self == LB_SELF_NONE || lb_is_self(lb, p->rank.owner) ||
	    lb_is_self(lb, p->rank.backup)) {
		if ((e = lb_pkt_ltoc(lb, p)) != NULL) {
			if (lb_closing_to_owner(lb, e, p) ||
			    lb_syn_stranger(lb, e, p))
				return (lb_handoff(lb, p, act));
			return (lb_ltoc_hit(lb, e, p, act));
		}
	}
	if ((e = lb_pkt_cache(lb, p)) != NULL) {
		if (lb_closing_to_owner(lb, e, p) || lb_syn_stranger(lb, e, p))
			return (lb_handoff(lb, p, act));
		last = e->last;
		before = e->state;
		lb_cache_update(lb, e, p);
		/*
		 * The handshake completed here: tell the owner and backup,
		 * whose entries would otherwise stay syn and expire after
		 * syn_timeout_s under a working connection. Deferred by
		 * LB_EST_DELAY_MS as in lb_ltoc_hit(): still well within
		 * syn_timeout_s, and a connection closed by then sends END
		 * instead.
		 */
		if (before == CONN_SYN && e->state == CONN_ESTABLISHED)
			lb_est_defer(lb, e, 1, p->now);
		else
			lb_refresh_maybe(lb, e, last, p->now);
		return (lb_forward(lb, act, e->service, e->server,
		    LB_PATH_CACHE));
	}
	if (!lb_is_self(lb, p->rank.owner))
		return (lb_handoff(lb, p, act));
	return (lb_owner_miss(lb, p, act));
}

/*
 * UDP flows (ilbd.conf(5), protocol): a flow opens at its owner on its
 * first packet as a TCP connection on its SYN, but nothing is sent to the
 * cluster yet: most UDP flows (DNS) are one query, and replicating them
 * would cost two records each. The owner's entry stays unreplicated (syn,
 * pulled 0) and untouched, so that its last second holds the time it
 * opened, until the flow is seen again udp_replicate_ms after that, or
 * carries more than UDP_STREAM_PKTS packets: then the NEW goes out (the
 * multicast and the backup's reliable copy), and the flow lives on as a
 * TCP connection does. One that is never seen again just expires
 * (udp_unreplicated). Every holder counts the packets it sees in
 * syn_tag; past UDP_STREAM_PKTS the flow is a stream (established, the
 * longer udp_stream_timeout_s), and its REFRESH tells the other holders,
 * deferred as a handshake's is.
 */
static int
lb_udp_open(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	struct conn_entry	*e;
	int			 server;

	if (lb->svc[p->svc].removed) {		/* draining: no new ones */
		lb->stats.service_removed++;
		return (lb_drop(lb, act, LB_DROP_NO_SERVICE));
	}
	if (ltoc_count(&lb->ltoc) >= lb->ltoc_high)
		return (lb_syn_stateless(lb, p, act));
	if ((server = sched_pick(&lb->svc[p->svc].sched, &p->pi->key)) < 0)
		return (lb_drop(lb, act, LB_DROP_NO_SERVER));
	if ((e = ltoc_insert(&lb->ltoc, &p->pi->key, p->now)) == NULL)
		return (lb_drop(lb, act, LB_DROP_LTOC_FULL));
	lb_ltoc_own(lb, e, p, server);
	e->syn_tag = 1;
	lb->stats.new_conn++;
	lb->stats.udp_new_flow++;
	/*
	 * issue 22: self is leaving and has handed its entries over
	 * already (repl_sm_leave()); a flow it opens now would be known to
	 * self alone when it goes, and the next owner would open it again,
	 * perhaps on another server. Its NEW goes out at once, as a SYN's
	 * does.
	 */
	if (lb->leaving) {
		e->pulled = 1;
		lb->stats.udp_replicated++;
		lb_queue_put(lb, LB_REC_NEW, e);
	}
	lb->svc[p->svc].srv[server].traffic.conns++;
	lb->svc[p->svc].traffic.conns++;
	return (lb_forward(lb, act, p->svc, (unsigned int)server,
	    LB_PATH_OWNER));
}

/*
 * The owner's unreplicated entry e seen again at now: replicate it if
 * it opened (its last second, untouched since) udp_replicate_ms ago or
 * has carried more than UDP_STREAM_PKTS packets. 1 if it is replicated
 * now or was already, 0 if it still waits.
 */
static int
lb_udp_replicate(struct lb *lb, struct conn_entry *e, uint64_t now)
{
	if (!conn_udp_unreplicated(e))
		return (1);
	/* 0: the second packet replicates, whenever it comes. */
	if (lb->tables.udp_replicate_ms != 0 &&
	    now < (uint64_t)e->last * 1000 + lb->tables.udp_replicate_ms &&
	    conn_udp_pkts(e) <= UDP_STREAM_PKTS)
		return (0);
	e->pulled = 1;
	lb->stats.udp_replicated++;
	lb_queue_put(lb, LB_REC_NEW, e);
	return (1);
}

/*
 * issue 22: a UDP datagram of a flow self does not know, to member slot
 * (flags: LB_ACT_F_GONE, a member gone lately). One that came by handoff
 * goes on once more (LB_ACT_F_RELAY), where a TCP packet is dropped
 * (misrouted): the member that handed it on and self disagree on the
 * view, as while members flap under control loss, and the flow may be
 * open, unreplicated, at the owner self names. A TCP packet dropped there
 * is sent again by its client; a datagram is lost, and its flow, opened
 * again elsewhere, may change servers. A relayed one goes no further.
 */
static int
lb_udp_handoff(struct lb *lb, const struct lb_pkt *p, uint16_t slot,
    uint8_t flags, struct lb_action *act)
{
	if (p->by_handoff == LB_BY_RELAY)
		return (lb_drop(lb, act, LB_DROP_MISROUTED));
	if (p->by_handoff) {
		flags |= LB_ACT_F_RELAY;
		lb->stats.udp_relayed++;
	}
	lb->stats.handoff_out++;
	act->verdict = LB_HANDOFF;
	act->member = slot;
	act->flags = flags;
	return (LB_HANDOFF);
}

/*
 * issue 22: the slot of the member gone lately (lb->gone, within gone_ms
 * of its leaving the view) that would own p's flow were it still in the
 * view, or CONN_SLOT_NONE when the view's owner outranks them all. A UDP
 * flow opens at its owner without telling anyone (lb_udp_open()): for up
 * to udp_replicate_ms only the owner knows it. When self declares that
 * owner gone while it lives (control loss: members flap), the flow's
 * next datagram would find nothing here and open again, perhaps on
 * another server; it goes to the old owner instead for cluster.dead_ms,
 * the time in which a flapping member is heard again. Had the member
 * died, the datagram is lost, as every datagram handed to it was during
 * the dead_ms it took to notice; flows self holds are not affected.
 */
static uint16_t
lb_udp_gone(struct lb *lb, const struct lb_pkt *p)
{
	const struct score_member	*bm;
	uint64_t			 bs, s;
	uint16_t			 slot = CONN_SLOT_NONE;
	unsigned int			 i;

	if (lb->ngone == 0 || p->rank.owner < 0)
		return (CONN_SLOT_NONE);
	bm = &lb->members[p->rank.owner];
	bs = score_one(&lb->score, bm, &p->pi->key);
	for (i = 0; i < lb->ngone; i++) {
		if (lb->gone_at[i] == 0)
			lb->gone_at[i] = p->now;
		else if (p->now >= lb->gone_at[i] + lb->gone_ms)
			continue;
		s = score_one(&lb->score, &lb->gone[i], &p->pi->key);
		if (score_better(s, &lb->gone[i].id, bs, &bm->id)) {
			bm = &lb->gone[i];
			bs = s;
			slot = lb->gone_slots[i];
		}
	}
	return (slot);
}

/* A UDP packet on entry e of the LTOC (in_cache 0) or the cache. */
static int
lb_udp_hit(struct lb *lb, struct conn_entry *e, const struct lb_pkt *p,
    int in_cache, enum lb_path path, struct lb_action *act)
{
	uint32_t	last = e->last;

	e->syn_tag &= (uint16_t)~CONN_UDP_PULLED;	/* it may ask again */
	if (conn_udp_pkts(e) < CONN_UDP_PKTS_MAX)
		e->syn_tag++;
	if (!in_cache && e->role == CONN_ROLE_BACKUP)
		e->syn_tag |= CONN_UDP_SEEN;	/* lb_udp_live() */
	if (!in_cache && !lb_udp_replicate(lb, e, p->now))
		return (lb_forward(lb, act, e->service, e->server, path));
	if (e->state == CONN_SYN && conn_udp_pkts(e) > UDP_STREAM_PKTS) {
		if (in_cache)
			cache_set_state(&lb->cache, e, CONN_ESTABLISHED, p->now);
		else
			ltoc_set_state(&lb->ltoc, e, CONN_ESTABLISHED, p->now);
		lb->stats.udp_stream++;
		lb_est_defer(lb, e, in_cache, p->now);
	} else {
		if (in_cache)
			cache_touch(&lb->cache, e, p->now);
		else
			ltoc_touch(&lb->ltoc, e, p->now);
		lb_refresh_maybe(lb, e, last, p->now);
	}
	return (lb_forward(lb, act, e->service, e->server, path));
}

/*
 * A UDP packet: on a quic service, a short header whose connection ID
 * names a usable server goes to it (lb_quic.c); else the LTOC (owner,
 * backup, or self leaving), then the cache, as lb_other() does; no
 * entry: the owner opens the flow, unless a member gone lately would own
 * it (lb_udp_gone()); anyone else hands the packet to the owner.
 */
static int
lb_udp(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	struct conn_entry	*e;
	enum lb_path		 path;
	int			 server;
	uint16_t		 slot;

	lb->stats.udp_rx++;
	if (lb->svc[p->svc].conf->quic) {
		if ((server = lb_quic_server(&lb->svc[p->svc], p->pi)) >= 0)
			return (lb_forward(lb, act, p->svc,
			    (unsigned int)server, LB_PATH_QUIC));
		/* a handed-off one was counted where it came in */
		if (!p->by_handoff)
			lb->stats.quic_fallback++;
	}
	if (lb->self == LB_SELF_NONE || lb_is_self(lb, p->rank.owner) ||
	    lb_is_self(lb, p->rank.backup)) {
		if ((e = lb_pkt_ltoc(lb, p)) != NULL) {
			if (lb->self == LB_SELF_NONE)
				path = e->role == CONN_ROLE_OWNER ?
				    LB_PATH_OWNER : LB_PATH_BACKUP;
			else
				path = lb_is_self(lb, p->rank.owner) ?
				    LB_PATH_OWNER : LB_PATH_BACKUP;
			return (lb_udp_hit(lb, e, p, 0, path, act));
		}
	}
	if ((e = lb_pkt_cache(lb, p)) != NULL)
		return (lb_udp_hit(lb, e, p, 1, LB_PATH_CACHE, act));
	if (!lb_is_self(lb, p->rank.owner))
		return (lb_udp_handoff(lb, p, p->rank.oslot, 0, act));
	if (p->by_handoff != LB_BY_RELAY &&
	    (slot = lb_udp_gone(lb, p)) != CONN_SLOT_NONE) {
		lb->stats.udp_to_gone++;
		return (lb_udp_handoff(lb, p, slot, LB_ACT_F_GONE, act));
	}
	return (lb_udp_open(lb, p, act));
}

/*
 * The part of the decision that reads no connection table: pi's service
 * and its owner and backup among the members, or why it drops. Nothing
 * the decision of another packet does changes it, so a burst scores all
 * its packets before it looks any of them up (lb_burst_chunk()).
 */
static void
lb_score(const struct lb *lb, const struct pkt_info *pi, int by_handoff,
    uint64_t now, struct lb_pkt *p)
{
	struct view	v;
	int		svc = -1;

	p->pi = pi;
	p->by_handoff = by_handoff;
	p->now = now;
	p->drop = LB_DROP_NONE;
	p->htab = NULL;
	if (!flow_key_valid(&pi->key))
		p->drop = LB_DROP_BAD_PACKET;
	else if ((svc = lb_service_find(lb, &pi->key)) < 0)
		p->drop = LB_DROP_NO_SERVICE;
	else if (lb->nmembers == 0)
		p->drop = LB_DROP_NO_MEMBERS;
	if (p->drop != LB_DROP_NONE)
		return;
	p->svc = (unsigned int)svc;
	lb_members_view(lb, &v);
	view_rank(&v, &pi->key, &p->rank);
}

/* The rest of lb_decide(), for a packet lb_score() scored. */
static int
lb_decide_scored(struct lb *lb, const struct lb_pkt *p, struct lb_action *act)
{
	const struct pkt_info	*pi = p->pi;

	memset(act, 0, sizeof(*act));
	lb->stats.rx++;
	if (p->by_handoff)
		lb->stats.handoff_in++;
	if (p->drop != LB_DROP_NONE)
		return (lb_drop(lb, act, p->drop));
	if (PKT_IS_ICMP_ERR(pi))
		return (lb_icmp(lb, p, act));
	if (flow_key_is_udp(&pi->key))
		return (lb_udp(lb, p, act));
	if (PKT_IS_SYN_ONLY(pi)) {
		lb->stats.syn++;
		if (!lb_is_self(lb, p->rank.owner)) {
			lb_syn_supersede(lb, p);
			return (lb_handoff(lb, p, act));
		}
		return (lb_syn_owner(lb, p, act));
	}
	return (lb_other(lb, p, act));
}

int
lb_decide(struct lb *lb, const struct pkt_info *pi, int by_handoff,
    uint64_t now, struct lb_action *act)
{
	struct lb_pkt	p;

	lb_score(lb, pi, by_handoff, now, &p);
	return (lb_decide_scored(lb, &p, act));
}

/* pi is a SYN (no ACK) of a service, members known: its owner index. */
static int
lb_syn_owner_of(const struct lb *lb, const struct pkt_info *pi, int *owner)
{
	int	backup;

	if (!PKT_IS_SYN_ONLY(pi) || lb->nmembers == 0 ||
	    !flow_key_valid(&pi->key) ||
	    lb_service_find(lb, &pi->key) < 0)
		return (0);
	lb_rank(lb, &pi->key, owner, &backup);
	return (1);
}

int
lb_syn_on_live(struct lb *lb, const struct pkt_info *pi)
{
	struct conn_entry	*e;
	int			 owner;

	if (!lb_syn_owner_of(lb, pi, &owner) || !lb_is_self(lb, owner) ||
	    (e = ltoc_lookup(&lb->ltoc, &pi->key)) == NULL ||
	    e->state == CONN_CLOSING)
		return (0);
	lb->stats.syn_sync++;
	return (1);
}

int
lb_syn_after_close(struct lb *lb, const struct pkt_info *pi)
{
	struct conn_entry	*e;
	int			 owner;

	if (lb_queue_len(lb) == 0 || !lb_syn_owner_of(lb, pi, &owner) ||
	    lb_is_self(lb, owner))
		return (0);
	if ((e = ltoc_lookup(&lb->ltoc, &pi->key)) == NULL &&
	    (e = cache_peek(&lb->cache, &pi->key)) == NULL)
		return (0);
	if (e->state != CONN_CLOSING)
		return (0);
	lb->stats.syn_records_first++;
	return (1);
}

int
lb_action_to(const struct lb *lb, unsigned int service, unsigned int server,
    struct lb_action *act)
{
	memset(act, 0, sizeof(*act));
	return (lb_fill(lb, act, service, server, LB_PATH_NONE));
}

/* A packet packet_parse() refused with reason r: counted, dropped. */
int
lb_refuse(struct lb *lb, int r, int by_handoff, struct lb_action *act)
{
	static const size_t off[PKT_REASON_MAX] = {
		[PKT_TRUNCATED] = offsetof(struct lb_stats, parse_truncated),
		[PKT_BAD_VERSION] = offsetof(struct lb_stats,
		    parse_bad_version),
		[PKT_BAD_IHL] = offsetof(struct lb_stats, parse_bad_ihl),
		[PKT_BAD_TOTLEN] = offsetof(struct lb_stats, parse_bad_totlen),
		[PKT_BAD_PLEN] = offsetof(struct lb_stats, parse_bad_plen),
		[PKT_BAD_TCP_OFFSET] = offsetof(struct lb_stats,
		    parse_bad_tcp_offset),
		[PKT_BAD_EXTHDR] = offsetof(struct lb_stats, parse_bad_exthdr),
		[PKT_TOO_MANY_EXTHDRS] = offsetof(struct lb_stats,
		    parse_too_many_exthdrs),
		[PKT_UNSUPP_EXTHDR] = offsetof(struct lb_stats,
		    parse_unsupported_exthdr),
		[PKT_BAD_CSUM] = offsetof(struct lb_stats, parse_bad_csum),
		[PKT_BAD_TCP_FLAGS] = offsetof(struct lb_stats,
		    parse_bad_tcp_flags),
		[PKT_TINY_FRAGMENT] = offsetof(struct lb_stats,
		    parse_tiny_fragment),
		[PKT_BAD_ICMP] = offsetof(struct lb_stats, parse_bad_icmp),
		[PKT_BAD_UDP_LEN] = offsetof(struct lb_stats,
		    parse_bad_udp_len),
	};

	memset(act, 0, sizeof(*act));
	lb->stats.rx++;
	if (by_handoff)
		lb->stats.handoff_in++;
	if (r == PKT_NOT_TCP)
		return (lb_drop(lb, act, LB_DROP_NOT_TCP));
	if (r == PKT_FRAGMENT)
		return (lb_drop(lb, act, LB_DROP_FRAGMENT));
	if (r > PKT_OK && r < PKT_REASON_MAX && off[r] != 0)
		(*(uint64_t *)((uint8_t *)&lb->stats + off[r]))++;
	return (lb_drop(lb, act, LB_DROP_BAD_PACKET));
}

int
lb_input(struct lb *lb, const uint8_t *buf, size_t len, int by_handoff,
    uint64_t now, struct pkt_info *pi, struct lb_action *act)
{
	int	r;

	if ((r = packet_parse(buf, len, pi)) == PKT_OK)
		return (lb_decide(lb, pi, by_handoff, now, act));
	return (lb_refuse(lb, r, by_handoff, act));
}

void
lb_entry_set_role(struct lb *lb, struct conn_entry *e, enum conn_role role)
{
	if (e->role == role)
		return;
	lb_entry_unaccount(lb, e);
	e->role = (uint8_t)role;
	if (role == CONN_ROLE_OWNER && e->service < lb->nsvc)
		sched_conn_add(&lb->svc[e->service].sched, e->server);
}

void
lb_entry_remove(struct lb *lb, struct conn_entry *e)
{
	if (e->list == 0)
		return;			/* already free */
	lb_entry_unaccount(lb, e);
	ltoc_remove(&lb->ltoc, e);
}

unsigned int
lb_tick(struct lb *lb, uint64_t now, unsigned int budget)
{
	unsigned int	n, c;

	n = ltoc_expire(&lb->ltoc, now, budget);
	if (n < budget) {
		c = cache_expire(&lb->cache, now, budget - n);
		lb->stats.cache_expired += c;
		n += c;
	}
	lb_est_flush(lb, now);
	lb_traffic_rates(lb, now);
	lb_gone_expire(lb, now);
	return (n);
}

/*
 * The table the decision of p will look in: the LTOC where self owns or
 * backs up the connection (or has no id yet), the cache otherwise
 * (lb_other(), lb_syn_supersede(), lb_udp()); NULL when it drops. An
 * owner or backup reads the cache too when its LTOC misses; that rare
 * read is left unprefetched rather than asking for a cache bucket with
 * every packet.
 */
static const struct conntab *
lb_table_of(const struct lb *lb, const struct lb_pkt *p)
{
	if (p->drop != LB_DROP_NONE)
		return (NULL);
	if (lb->self == LB_SELF_NONE || lb_is_self(lb, p->rank.owner) ||
	    lb_is_self(lb, p->rank.backup))
		return (&lb->ltoc.tab);
	return (&lb->cache.tab);
}

/*
 * lb_input_burst() for n <= LB_BURST_MAX packets (the issue-21 burst
 * shape): parse and score all (service, owner and backup: lb_score()),
 * hash each key for the one table its ranking sends it to and prefetch
 * that bucket, then the entry the bucket leads to, then the entry's list
 * neighbours, then decide in order. The scoring is work the misses hide.
 */
static void
lb_burst_chunk(struct lb *lb, const uint8_t *const *bufs, const size_t *lens,
    size_t n, int by_handoff, uint64_t now, struct pkt_info *pis,
    struct lb_action *acts, int *verdicts)
{
	struct lb_pkt	ps[LB_BURST_MAX];
	size_t		i;

	for (i = 0; i < n; i++)
		__builtin_prefetch(bufs[i]);
	for (i = 0; i < n; i++) {
		ps[i].htab = NULL;
		verdicts[i] = packet_parse(bufs[i], lens[i], &pis[i]);
		if (verdicts[i] != PKT_OK)
			continue;
		lb_score(lb, &pis[i], by_handoff, now, &ps[i]);
		if ((ps[i].htab = lb_table_of(lb, &ps[i])) == NULL)
			continue;
		ps[i].h = conntab_hash(ps[i].htab, &pis[i].key);
		conntab_prefetch_bucket(ps[i].htab, ps[i].h);
	}
	for (i = 0; i < n; i++)
		if (ps[i].htab != NULL)
			conntab_prefetch_entry(ps[i].htab, ps[i].h);
	for (i = 0; i < n; i++)
		if (ps[i].htab != NULL)
			conntab_prefetch_links(ps[i].htab, ps[i].h, &pis[i].key,
			    now);
	for (i = 0; i < n; i++) {
		if (verdicts[i] == PKT_OK)
			verdicts[i] = lb_decide_scored(lb, &ps[i], &acts[i]);
		else
			verdicts[i] = lb_refuse(lb, verdicts[i], by_handoff,
			    &acts[i]);
	}
}

void
lb_input_burst(struct lb *lb, const uint8_t *const *bufs, const size_t *lens,
    size_t n, int by_handoff, uint64_t now, struct pkt_info *pis,
    struct lb_action *acts, int *verdicts)
{
	size_t	i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < LB_BURST_MAX ? n - i : LB_BURST_MAX;
		lb_burst_chunk(lb, bufs + i, lens + i, k, by_handoff, now,
		    pis + i, acts + i, verdicts + i);
	}
}

/* cache.c: LRU cache of associations learned from other members. */

#include <stdint.h>

#include "cache.h"
#include "conntab.h"

static void
cache_timeouts(const struct tables_conf *conf, uint32_t *timeouts)
{
	timeouts[CACHE_LIST_ACTIVE] = conf->tcp_timeout_s;
	timeouts[CACHE_LIST_CLOSING] = conf->fin_timeout_s;
	timeouts[CACHE_LIST_UDP_NEW] = conf->udp_timeout_s;
	timeouts[CACHE_LIST_UDP_STREAM] = conf->udp_stream_timeout_s;
}

/* The expiry list of an entry of key in state, as ltoc_list(). */
static unsigned int
cache_list(const struct flow_key *key, enum conn_state state)
{
	if (state == CONN_CLOSING)
		return (CACHE_LIST_CLOSING);
	if (!flow_key_is_udp(key))
		return (CACHE_LIST_ACTIVE);
	return (state == CONN_SYN ? CACHE_LIST_UDP_NEW :
	    CACHE_LIST_UDP_STREAM);
}

/*
 * claim 12: a cache of the least recently used associations between
 * connections and servers formed anywhere in the cluster, bounded by
 * conf->cache_size; 0 disables it (every lookup misses, claim 15).
 */
int
cache_init(struct cache *c, const struct tables_conf *conf, uint64_t seed)
{
	uint32_t	timeouts[CACHE_NLISTS];

	cache_timeouts(conf, timeouts);
	if (conntab_init(&c->tab, conf->cache_size, CACHE_NLISTS, timeouts,
	    seed) == -1)
		return (-1);
	/* issue 22: UDP flows expire by their service's timeouts. */
	if (conntab_split(&c->tab, CACHE_LIST_UDP_NEW, CONNTAB_SUB_MAX) == -1 ||
	    conntab_split(&c->tab, CACHE_LIST_UDP_STREAM, CONNTAB_SUB_MAX) ==
	    -1) {
		conntab_free(&c->tab);
		return (-1);
	}
	return (0);
}

void
cache_free(struct cache *c)
{
	conntab_free(&c->tab);
}

int
cache_enabled(const struct cache *c)
{
	return (c->tab.size != 0);
}

void
cache_set_timeouts(struct cache *c, const struct tables_conf *conf)
{
	uint32_t	timeouts[CACHE_NLISTS];
	unsigned int	i;

	cache_timeouts(conf, timeouts);
	for (i = 0; i < CACHE_NLISTS; i++)
		conntab_set_timeout(&c->tab, i, timeouts[i]);
}

void
cache_set_udp_timeouts(struct cache *c, unsigned int service, uint32_t new_s,
    uint32_t stream_s)
{
	conntab_set_sub_timeout(&c->tab, CACHE_LIST_UDP_NEW, service, new_s);
	conntab_set_sub_timeout(&c->tab, CACHE_LIST_UDP_STREAM, service,
	    stream_s);
}

void
cache_set_service(struct cache *c, struct conn_entry *e, unsigned int service)
{
	e->service = (uint16_t)service;
	conntab_set_sub(&c->tab, e, service);
}

void
cache_set_expire_cb(struct cache *c, conntab_expire_cb cb, void *arg)
{
	conntab_set_expire_cb(&c->tab, cb, arg);
}

struct conn_entry *
cache_lookup(struct cache *c, const struct flow_key *key, uint64_t now)
{
	struct conn_entry	*e;

	if ((e = conntab_lookup(&c->tab, key)) != NULL)
		conntab_touch(&c->tab, e, now);
	return (e);
}

struct conn_entry *
cache_peek(struct cache *c, const struct flow_key *key)
{
	return (conntab_lookup(&c->tab, key));
}

/*
 * Make room: closing entries go first, then new UDP flows (most are
 * one-shot), then the least recently used TCP ones, then UDP streams.
 */
static void
cache_evict(struct cache *c)
{
	if (!conntab_evict(&c->tab, CACHE_LIST_CLOSING) &&
	    !conntab_evict(&c->tab, CACHE_LIST_UDP_NEW) &&
	    !conntab_evict(&c->tab, CACHE_LIST_ACTIVE))
		conntab_evict(&c->tab, CACHE_LIST_UDP_STREAM);
}

/*
 * A fresh entry for key in state SYN, used at now: service and server 0,
 * owner and backup CONN_SLOT_NONE, for the caller to fill. An existing
 * entry for key is reset and returned; when full the LRU entry is evicted
 * (counted). NULL only when the cache is disabled.
 */
struct conn_entry *
cache_insert(struct cache *c, const struct flow_key *key, uint64_t now)
{
	struct conntab	*t = &c->tab;

	if (t->size == 0)
		return (NULL);
	if (t->count == t->size && cache_peek(c, key) == NULL)
		cache_evict(c);
	return (conntab_insert(t, key, cache_list(key, CONN_SYN), now));
}

void
cache_touch(struct cache *c, struct conn_entry *e, uint64_t now)
{
	conntab_touch(&c->tab, e, now);
}

/* Change state; the entry moves to its state's list (cache_list()). */
void
cache_set_state(struct cache *c, struct conn_entry *e, enum conn_state state,
    uint64_t now)
{
	unsigned int	list;

	if ((unsigned int)state >= CONN_NSTATES)
		return;
	list = cache_list(&e->key, state);
	e->state = (uint8_t)state;
	if (e->list == list + 1)
		conntab_touch(&c->tab, e, now);
	else
		conntab_move(&c->tab, e, list, e->service, now);
}

void
cache_remove(struct cache *c, struct conn_entry *e)
{
	conntab_remove(&c->tab, e);
}

/* Expire at most budget entries idle past their timeout. */
unsigned int
cache_expire(struct cache *c, uint64_t now, unsigned int budget)
{
	return (conntab_expire(&c->tab, now, budget));
}

struct conn_entry *
cache_next(struct cache *c, uint32_t *cursor)
{
	return (conntab_next(&c->tab, cursor));
}

uint32_t
cache_count(const struct cache *c)
{
	return (conntab_count(&c->tab));
}

const struct conntab_stats *
cache_stats(const struct cache *c)
{
	return (&c->tab.stats);
}

/* ltoc.c: lookup table of the connections this ILB owns or backs up. */

#include <stdint.h>

#include "conntab.h"
#include "ltoc.h"

static void
ltoc_timeouts(const struct tables_conf *conf, uint32_t *timeouts)
{
	timeouts[CONN_SYN] = conf->syn_timeout_s;
	timeouts[CONN_ESTABLISHED] = conf->tcp_timeout_s;
	timeouts[CONN_CLOSING] = conf->fin_timeout_s;
	timeouts[LTOC_LIST_UDP_NEW] = conf->udp_timeout_s;
	timeouts[LTOC_LIST_UDP_STREAM] = conf->udp_stream_timeout_s;
}

unsigned int
ltoc_list(const struct flow_key *key, enum conn_state state)
{
	if (!flow_key_is_udp(key) || state == CONN_CLOSING)
		return ((unsigned int)state);
	return (state == CONN_SYN ? LTOC_LIST_UDP_NEW : LTOC_LIST_UDP_STREAM);
}

/*
 * claim 10: the LTOC designates the server of each connection this ILB
 * owns; claim 11: each entry also names the backup owner. Entries come
 * from a pool of conf->ltoc_size allocated here, once. Returns 0 or -1.
 */
int
ltoc_init(struct ltoc *l, const struct tables_conf *conf, uint64_t seed)
{
	uint32_t	timeouts[LTOC_NLISTS];

	ltoc_timeouts(conf, timeouts);
	if (conntab_init(&l->tab, conf->ltoc_size, LTOC_NLISTS, timeouts,
	    seed) == -1)
		return (-1);
	/* issue 22: UDP flows expire by their service's timeouts. */
	if (conntab_split(&l->tab, LTOC_LIST_UDP_NEW, CONNTAB_SUB_MAX) == -1 ||
	    conntab_split(&l->tab, LTOC_LIST_UDP_STREAM, CONNTAB_SUB_MAX) ==
	    -1) {
		conntab_free(&l->tab);
		return (-1);
	}
	return (0);
}

void
ltoc_free(struct ltoc *l)
{
	conntab_free(&l->tab);
}

void
ltoc_set_timeouts(struct ltoc *l, const struct tables_conf *conf)
{
	uint32_t	timeouts[LTOC_NLISTS];
	unsigned int	i;

	ltoc_timeouts(conf, timeouts);
	for (i = 0; i < LTOC_NLISTS; i++)
		conntab_set_timeout(&l->tab, i, timeouts[i]);
}

void
ltoc_set_udp_timeouts(struct ltoc *l, unsigned int service, uint32_t new_s,
    uint32_t stream_s)
{
	conntab_set_sub_timeout(&l->tab, LTOC_LIST_UDP_NEW, service, new_s);
	conntab_set_sub_timeout(&l->tab, LTOC_LIST_UDP_STREAM, service,
	    stream_s);
}

void
ltoc_set_service(struct ltoc *l, struct conn_entry *e, unsigned int service)
{
	e->service = (uint16_t)service;
	conntab_set_sub(&l->tab, e, service);
}

void
ltoc_set_expire_cb(struct ltoc *l, conntab_expire_cb cb, void *arg)
{
	conntab_set_expire_cb(&l->tab, cb, arg);
}

void
ltoc_set_keep_cb(struct ltoc *l, conntab_keep_cb cb, void *arg)
{
	conntab_set_keep_cb(&l->tab, cb, arg);
}

struct conn_entry *
ltoc_lookup(struct ltoc *l, const struct flow_key *key)
{
	return (conntab_lookup(&l->tab, key));
}

/*
 * A fresh entry for key in state SYN, active at now: service and server 0,
 * owner and backup CONN_SLOT_NONE, role none, for the caller to fill. An
 * existing entry for key is reset and returned. NULL when full (counted).
 */
struct conn_entry *
ltoc_insert(struct ltoc *l, const struct flow_key *key, uint64_t now)
{
	return (conntab_insert(&l->tab, key, ltoc_list(key, CONN_SYN), now));
}

void
ltoc_touch(struct ltoc *l, struct conn_entry *e, uint64_t now)
{
	conntab_touch(&l->tab, e, now);
}

/* Change state (and timeout); counts as activity at now. */
void
ltoc_set_state(struct ltoc *l, struct conn_entry *e, enum conn_state state,
    uint64_t now)
{
	if ((unsigned int)state >= CONN_NSTATES)
		return;
	if (e->state == state) {
		conntab_touch(&l->tab, e, now);
		return;
	}
	e->state = (uint8_t)state;
	conntab_move(&l->tab, e, ltoc_list(&e->key, state), e->service, now);
}

void
ltoc_remove(struct ltoc *l, struct conn_entry *e)
{
	conntab_remove(&l->tab, e);
}

/* Expire at most budget entries idle past their state's timeout. */
unsigned int
ltoc_expire(struct ltoc *l, uint64_t now, unsigned int budget)
{
	return (conntab_expire(&l->tab, now, budget));
}

struct conn_entry *
ltoc_next(struct ltoc *l, uint32_t *cursor)
{
	return (conntab_next(&l->tab, cursor));
}

uint32_t
ltoc_count(const struct ltoc *l)
{
	return (conntab_count(&l->tab));
}

const struct conntab_stats *
ltoc_stats(const struct ltoc *l)
{
	return (&l->tab.stats);
}

/* cache.h: LRU cache of associations learned from other members. */
#ifndef ILBD_CACHE_H
#define ILBD_CACHE_H

#include <stdint.h>

#include "config.h"
#include "conntab.h"
#include "flow.h"

#define CACHE_LIST_ACTIVE	0	/* syn, established: tcp_timeout_s */
#define CACHE_LIST_CLOSING	1	/* closing: fin_timeout_s */
#define CACHE_LIST_UDP_NEW	2	/* UDP syn: udp_timeout_s */
#define CACHE_LIST_UDP_STREAM	3	/* UDP established:
					   udp_stream_timeout_s */
#define CACHE_NLISTS		4	/* the UDP ones split by service */

struct cache {
	struct conntab	tab;
};

/* Walk every entry; removing the current one is safe. */
#define CACHE_FOREACH(e, c, cursor)					\
	for ((cursor) = 0; ((e) = cache_next((c), &(cursor))) != NULL; )

int		 cache_init(struct cache *, const struct tables_conf *,
		    uint64_t);
void		 cache_free(struct cache *);
int		 cache_enabled(const struct cache *);
void		 cache_set_timeouts(struct cache *, const struct tables_conf *);
/* Timeouts of UDP flows of service (index): new, stream. */
void		 cache_set_udp_timeouts(struct cache *, unsigned int, uint32_t,
		    uint32_t);
/* Set the entry's service: a UDP flow moves to that service's FIFO. */
void		 cache_set_service(struct cache *, struct conn_entry *,
		    unsigned int);
void		 cache_set_expire_cb(struct cache *, conntab_expire_cb, void *);
/* Find key; a hit counts as use at now (LRU). */
struct conn_entry *cache_lookup(struct cache *, const struct flow_key *,
		    uint64_t);
/* Find key without touching it. */
struct conn_entry *cache_peek(struct cache *, const struct flow_key *);
struct conn_entry *cache_insert(struct cache *, const struct flow_key *,
		    uint64_t);
void		 cache_touch(struct cache *, struct conn_entry *, uint64_t);
void		 cache_set_state(struct cache *, struct conn_entry *,
		    enum conn_state, uint64_t);
void		 cache_remove(struct cache *, struct conn_entry *);
unsigned int	 cache_expire(struct cache *, uint64_t, unsigned int);
struct conn_entry *cache_next(struct cache *, uint32_t *);
uint32_t	 cache_count(const struct cache *);
const struct conntab_stats *cache_stats(const struct cache *);

#endif

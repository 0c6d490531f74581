/* ltoc.h: lookup table of the connections this ILB owns or backs up. */
#ifndef ILBD_LTOC_H
#define ILBD_LTOC_H

#include <stdint.h>

#include "config.h"
#include "conntab.h"
#include "flow.h"

/*
 * Expiry lists: TCP entries by enum conn_state, UDP ones on two more
 * (ltoc_list()): a new flow (syn) times out after udp_timeout_s, a
 * stream (established) after udp_stream_timeout_s. Both UDP lists are
 * split by service (a FIFO each, ltoc_set_udp_timeouts()).
 */
#define LTOC_LIST_UDP_NEW	CONN_NSTATES
#define LTOC_LIST_UDP_STREAM	(CONN_NSTATES + 1)
#define LTOC_NLISTS		(CONN_NSTATES + 2)
struct ltoc {
	struct conntab	tab;
};

/* Walk every entry; removing the current one is safe. */
#define LTOC_FOREACH(e, l, cursor)					\
	for ((cursor) = 0; ((e) = ltoc_next((l), &(cursor))) != NULL; )

int		 ltoc_init(struct ltoc *, const struct tables_conf *, uint64_t);
void		 ltoc_free(struct ltoc *);
/* Apply new timeouts (reload); sizes need a new table. */
void		 ltoc_set_timeouts(struct ltoc *, const struct tables_conf *);
/* Timeouts of UDP flows of service (index): new, stream. */
void		 ltoc_set_udp_timeouts(struct ltoc *, unsigned int, uint32_t,
		    uint32_t);
/* Set the entry's service: a UDP flow moves to that service's FIFO. */
void		 ltoc_set_service(struct ltoc *, struct conn_entry *,
		    unsigned int);
void		 ltoc_set_expire_cb(struct ltoc *, conntab_expire_cb, void *);
void		 ltoc_set_keep_cb(struct ltoc *, conntab_keep_cb, void *);
/* The expiry list of an entry of key in state. */
unsigned int	 ltoc_list(const struct flow_key *, enum conn_state);
struct conn_entry *ltoc_lookup(struct ltoc *, const struct flow_key *);
struct conn_entry *ltoc_insert(struct ltoc *, const struct flow_key *,
		    uint64_t);
void		 ltoc_touch(struct ltoc *, struct conn_entry *, uint64_t);
void		 ltoc_set_state(struct ltoc *, struct conn_entry *,
		    enum conn_state, uint64_t);
void		 ltoc_remove(struct ltoc *, struct conn_entry *);
unsigned int	 ltoc_expire(struct ltoc *, uint64_t, unsigned int);
struct conn_entry *ltoc_next(struct ltoc *, uint32_t *);
uint32_t	 ltoc_count(const struct ltoc *);
const struct conntab_stats *ltoc_stats(const struct ltoc *);

#endif

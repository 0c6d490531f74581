/* lb_int.h: what lb.c, lb_reload.c, lb_member.c and lb_learn.c share. */
#ifndef ILBD_LB_INT_H
#define ILBD_LB_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "lb.h"
#include "score.h"
#include "view.h"

/* lb.c */
void		 lb_set_tables(struct lb *, const struct tables_conf *);
/* lb_member.c: forget the members gone more than gone_ms ago (lb_udp()). */
void		 lb_gone_expire(struct lb *, uint64_t);

/*
 * The service hash of dport | daddr (also of a connection id, for the
 * ended set of lb_learn.c): eight bytes per multiply, then finalised.
 * Byte-wise FNV-1a took one dependent multiply per byte, 18 for an IPv6
 * service, on every packet. In memory only: nothing outside the process
 * sees it.
 */
static inline uint32_t
lb_svc_hash(const uint8_t *b, size_t len)
{
	uint64_t	h = 0x9e3779b97f4a7c15ULL ^ len, w;
	uint32_t	w4;
	uint16_t	w2;

	for (; len >= 8; b += 8, len -= 8) {
		memcpy(&w, b, sizeof(w));
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	w = 0;
	if (len >= 4) {
		memcpy(&w4, b, sizeof(w4));
		w = w4;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w2, b, sizeof(w2));
		w = w << 16 | w2;
		b += 2;
		len -= 2;
	}
	if (len != 0)
		w = w << 8 | b[0];
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return (score_mix32((uint32_t)(h ^ h >> 32)));
}

/*
 * The service hash of dport | daddr for a protocol (udp 0 or 1): a TCP
 * and a UDP service may share a VIP and port.
 */
static inline uint32_t
lb_svc_hash_proto(const uint8_t *b, size_t len, int udp)
{
	return (lb_svc_hash(b, len) ^ (udp ? 0x9e3779b9U : 0));
}

/* Is member index idx (-1: none) self? Never when self is not a member. */
static inline int
lb_is_self(const struct lb *lb, int idx)
{
	return (idx >= 0 && (size_t)idx == lb->self);
}

/* The active members as a view, valid until they change. */
static inline void
lb_members_view(const struct lb *lb, struct view *v)
{
	v->ctx = &lb->score;
	v->m = lb->members;
	v->slots = lb->slots;
	v->n = lb->nmembers;
}

/*
 * An entry learnt from a record, or adopted from the cache, names a UDP
 * flow already replicated: its owner must not send its NEW again.
 */
static inline void
lb_udp_learnt(struct conn_entry *e)
{
	if (flow_key_is_udp(&e->key))
		e->pulled = 1;
}

/* lb_learn.c: connection tag of key ended (0: nothing remembered). */
void		 lb_ended_add(struct lb *, const struct flow_key *, uint16_t);

/* The hash of a QUIC-LB server ID in lb_service.quic_idx. */
static inline uint32_t
lb_quic_hash(const uint8_t *sid, size_t len)
{
	return (lb_svc_hash(sid, len));
}

/*
 * lb_quic.c: the server of s a QUIC short header of pi names by its
 * connection ID, if it may take traffic; -1: route by the 4-tuple.
 */
int		 lb_quic_server(const struct lb_service *,
		    const struct pkt_info *);

/* lb_reload.c */
int		 lb_reload_init(struct lb *, const struct ilbd_conf *);
void		 lb_reload_free(struct lb *);

#endif

/* view.h: a membership as scored and the one ranking of its members. */
#ifndef ILBD_VIEW_H
#define ILBD_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "conntab.h"
#include "flow.h"
#include "score.h"

/*
 * A membership to rank connections against: the active members (the
 * per-packet decision, lb_rebalance()), the active members and joiners
 * (lb_plan(), replication while a member joins) or those left when self
 * leaves. It points at its members and their slots, which view_load()
 * fills; the view is valid while they are.
 */
struct view {
	const struct score_ctx		*ctx;	/* method and key */
	const struct score_member	*m;	/* n members, constants made */
	const uint16_t			*slots;	/* their slots, as in
						   conn_entry owner, backup */
	size_t				 n;
};

/* Where a connection goes under a view. */
struct view_pick {
	int		owner;		/* index in the view, -1: no members */
	int		backup;		/* index, -1: fewer than two */
	uint16_t	oslot;		/* owner's slot or CONN_SLOT_NONE */
	uint16_t	bslot;		/* backup's slot or CONN_SLOT_NONE */
};

/*
 * Load the n members ids with slots slots into v: their scoring
 * constants into m and their slots into ms, each with room for n (ms may
 * be slots itself).
 */
void		 view_load(struct view *, const struct score_ctx *,
		    struct score_member *, uint16_t *, const struct member_id *,
		    const uint16_t *, size_t);
/* Index of the member with slot in v, or -1. Linear: views are small. */
int		 view_find(const struct view *, uint16_t);

/*
 * The owner (best score) and backup (second best) of key under v, as
 * indices and slots: larger score first, then larger id, as score_rank().
 * Every ranking of members for a connection is this one. Inline: the
 * decision calls it for every packet, where a call frame more shows.
 */
static inline void
view_rank(const struct view *v, const struct flow_key *key,
    struct view_pick *p)
{
	score_rank(v->ctx, v->m, v->n, key, &p->owner, &p->backup);
	p->oslot = p->owner < 0 ? CONN_SLOT_NONE : v->slots[p->owner];
	p->bslot = p->backup < 0 ? CONN_SLOT_NONE : v->slots[p->backup];
}

#endif

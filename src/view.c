/* view.c: a membership as scored; its owner and backup (claims 3, 7, 8). */

#include <stddef.h>
#include <stdint.h>

#include "conntab.h"
#include "score.h"
#include "view.h"

void
view_load(struct view *v, const struct score_ctx *ctx,
    struct score_member *m, uint16_t *ms, const struct member_id *ids,
    const uint16_t *slots, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		score_member_init(ctx, &m[i], &ids[i]);
		ms[i] = slots[i];
	}
	v->ctx = ctx;
	v->m = m;
	v->slots = ms;
	v->n = n;
}

int
view_find(const struct view *v, uint16_t slot)
{
	size_t	i;

	if (slot == CONN_SLOT_NONE)
		return (-1);
	for (i = 0; i < v->n; i++)
		if (v->slots[i] == slot)
			return ((int)i);
	return (-1);
}

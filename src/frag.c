/* frag.c: later IP fragments follow the decision made for their first. */
#include <stdlib.h>
#include <string.h>

#include "frag.h"

static uint32_t
frag_hash(const struct frag_key *k)
{
	const uint8_t	*p = (const uint8_t *)k;
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	for (i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return ((uint32_t)(h ^ (h >> 32)));
}

int
frag_init(struct frag *f)
{
	int32_t	i;

	memset(f, 0, sizeof(*f));
	f->tab = calloc((size_t)FRAG_BUCKETS * FRAG_WAYS, sizeof(*f->tab));
	f->pool = calloc(FRAG_POOL, sizeof(*f->pool));
	if (f->tab == NULL || f->pool == NULL) {
		frag_free(f);
		return (-1);
	}
	for (i = 0; i < FRAG_POOL; i++)
		f->pool[i].next = i + 1 < FRAG_POOL ? i + 1 : -1;
	for (i = 0; i < FRAG_BUCKETS * FRAG_WAYS; i++)
		f->tab[i].held = f->tab[i].held_tail = -1;
	f->freelist = 0;
	return (0);
}

void
frag_free(struct frag *f)
{
	free(f->tab);
	free(f->pool);
	memset(f, 0, sizeof(*f));
}

void
frag_key_of(struct frag_key *k, const uint8_t *ip, uint8_t family,
    uint8_t proto, uint32_t id)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->proto = proto;
	k->id = id;
	if (family == 4) {
		memcpy(k->src, ip + 12, 4);
		memcpy(k->dst, ip + 16, 4);
	} else {
		memcpy(k->src, ip + 8, 16);
		memcpy(k->dst, ip + 24, 16);
	}
}

struct frag_buf *
frag_buf_get(struct frag *f, int32_t i)
{
	if (i < 0 || i >= FRAG_POOL)
		return (NULL);
	return (&f->pool[i]);
}

/* Give a chain of held buffers back; returns how many. */
static unsigned int
frag_chain_free(struct frag *f, int32_t i)
{
	unsigned int	n = 0;
	int32_t		next;

	while (i >= 0 && i < FRAG_POOL) {
		next = f->pool[i].next;
		f->pool[i].next = f->freelist;
		f->freelist = i;
		f->nheld--;
		n++;
		i = next;
	}
	return (n);
}

void
frag_release(struct frag *f, int32_t chain)
{
	frag_chain_free(f, chain);
}

static struct frag_entry *
frag_bucket(struct frag *f, const struct frag_key *k)
{
	return (&f->tab[(size_t)(frag_hash(k) & (FRAG_BUCKETS - 1)) *
	    FRAG_WAYS]);
}

static struct frag_entry *
frag_find(struct frag_entry *b, const struct frag_key *k, uint64_t now)
{
	int	w;

	for (w = 0; w < FRAG_WAYS; w++)
		if (b[w].kind != FRAG_FREE && b[w].expire > now &&
		    memcmp(&b[w].key, k, sizeof(*k)) == 0)
			return (&b[w]);
	return (NULL);
}

/* Empty an entry; the fragments it held are dropped (counted). */
static void
frag_clear(struct frag *f, struct frag_entry *e)
{
	if (e->kind == FRAG_PENDING)
		f->dropped += frag_chain_free(f, e->held);
	memset(e, 0, sizeof(*e));
	e->held = e->held_tail = -1;
}

/* A way for a new entry: a free or expired one, else the oldest. */
static struct frag_entry *
frag_take(struct frag *f, struct frag_entry *b, const struct frag_key *k,
    uint64_t now)
{
	struct frag_entry	*e = &b[0];
	int			 w;

	for (w = 0; w < FRAG_WAYS; w++) {
		if (b[w].kind == FRAG_FREE || b[w].expire <= now) {
			e = &b[w];
			break;
		}
		if (b[w].expire < e->expire)
			e = &b[w];
	}
	frag_clear(f, e);
	e->key = *k;
	e->expire = now + FRAG_TIMEOUT_MS;
	return (e);
}

static int
frag_hold(struct frag *f, struct frag_entry *e, const uint8_t *data,
    size_t len, int by_handoff)
{
	struct frag_buf	*fb;
	int32_t		 i;

	if (len > FRAG_BUF_MAX || (i = f->freelist) < 0)
		return (-1);
	fb = &f->pool[i];
	f->freelist = fb->next;
	f->nheld++;
	fb->next = -1;
	fb->len = (uint16_t)len;
	fb->by_handoff = (uint8_t)by_handoff;
	memcpy(fb->data, data, len);
	if (e->held < 0)
		e->held = i;
	else
		f->pool[e->held_tail].next = i;
	e->held_tail = i;
	return (0);
}

int
frag_later(struct frag *f, const struct frag_key *k, const uint8_t *data,
    size_t len, int by_handoff, uint64_t now, struct frag_action *a)
{
	struct frag_entry	*b = frag_bucket(f, k), *e;

	if ((e = frag_find(b, k, now)) != NULL) {
		if (e->kind != FRAG_PENDING) {
			a->kind = (enum frag_kind)e->kind;
			a->service = e->service;
			a->server = e->server;
			a->member = e->member;
			a->flags = e->flags;
			return (1);
		}
		return (frag_hold(f, e, data, len, by_handoff));
	}
	if (len > FRAG_BUF_MAX || f->freelist < 0)
		return (-1);
	e = frag_take(f, b, k, now);
	e->kind = FRAG_PENDING;
	return (frag_hold(f, e, data, len, by_handoff));
}

int32_t
frag_first(struct frag *f, const struct frag_key *k,
    const struct frag_action *a, uint64_t now)
{
	struct frag_entry	*b = frag_bucket(f, k), *e;
	int32_t			 chain = -1;

	if ((e = frag_find(b, k, now)) == NULL)
		e = frag_take(f, b, k, now);
	else if (e->kind == FRAG_PENDING) {
		chain = e->held;
		e->held = e->held_tail = -1;
	}
	e->kind = (uint8_t)a->kind;
	e->service = a->service;
	e->server = a->server;
	e->member = a->member;
	e->flags = a->flags;
	return (chain);
}

unsigned int
frag_expire(struct frag *f, uint64_t now)
{
	uint64_t	before = f->dropped;
	size_t		i;

	if (f->nheld == 0)
		return (0);
	for (i = 0; i < (size_t)FRAG_BUCKETS * FRAG_WAYS; i++)
		if (f->tab[i].kind == FRAG_PENDING && f->tab[i].expire <= now)
			frag_clear(f, &f->tab[i]);
	return ((unsigned int)(f->dropped - before));
}

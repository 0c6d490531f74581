/* conntab.c: preallocated hash table of connections with expiry lists. */

#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conntab.h"

#define CONNTAB_ALIGN	64	/* one entry per cache line */
#define CONNTAB_HUGE	(2u << 20)	/* a transparent huge page (x86-64) */

static struct conn_entry *
conntab_entry(struct conntab *t, uint32_t link)
{
	return (&t->pool[link - 1]);
}

static uint32_t
conntab_link(const struct conntab *t, const struct conn_entry *e)
{
	return ((uint32_t)(e - t->pool) + 1);
}

/* Activity time in whole seconds, rounded up so expiry is never early. */
static uint32_t
conntab_secs(uint64_t now)
{
	return ((uint32_t)((now + 999) / 1000));
}

static uint32_t
conntab_pow2(uint32_t n)
{
	uint32_t	p = 2;

	while (p < n)
		p <<= 1;
	return (p);
}

/*
 * Ask for transparent huge pages for the table. Each lookup lands on a
 * random bucket and entry, so with 4 KiB pages a large table also misses
 * the TLB on nearly every packet. Only the 2 MiB-aligned part of the
 * block can be backed by huge pages; the advice is a hint, and where THP
 * is "never" nothing changes.
 */
static void
conntab_advise_huge(void *mem, size_t len)
{
	uintptr_t	a, e;

	a = ((uintptr_t)mem + CONNTAB_HUGE - 1) &
	    ~(uintptr_t)(CONNTAB_HUGE - 1);
	e = ((uintptr_t)mem + len) & ~(uintptr_t)(CONNTAB_HUGE - 1);
	if (e > a)
		(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
}

static void
conntab_q_timeout(struct conntab_list *q, uint32_t timeout_s)
{
	uint32_t	g = timeout_s / CONNTAB_GRAN_DIV;

	q->timeout_s = timeout_s;
	for (q->gran_shift = 0; q->gran_shift < 31 &&
	    (2U << q->gran_shift) <= g; q->gran_shift++)
		;
}

int
conntab_init(struct conntab *t, uint32_t size, unsigned int nlists,
    const uint32_t *timeouts_s, uint64_t seed)
{
	size_t		 pool_len, len;
	uint32_t	 nbuckets;
	unsigned int	 i;
	uintptr_t	 p;

	memset(t, 0, sizeof(*t));
	if (nlists == 0 || nlists > CONNTAB_LISTS_MAX ||
	    size > CONNTAB_SIZE_MAX) {
		errno = EINVAL;
		return (-1);
	}
	if ((t->q = calloc(nlists, sizeof(*t->q))) == NULL)
		return (-1);
	t->nlists = t->nq = nlists;
	t->seed = seed;
	for (i = 0; i < nlists; i++) {
		conntab_q_timeout(&t->q[i], timeouts_s[i]);
		t->base[i] = i;
		t->nsub[i] = t->used[i] = 1;
	}
	if (size == 0)
		return (0);

	nbuckets = conntab_pow2(size);
	pool_len = (size_t)size * sizeof(struct conn_entry);
	len = CONNTAB_ALIGN + pool_len + (size_t)nbuckets * sizeof(uint32_t);
	/* calloc of a large block maps zero pages lazily: init is cheap. */
	if ((t->mem = calloc(1, len)) == NULL) {
		free(t->q);
		t->q = NULL;
		return (-1);
	}
	conntab_advise_huge(t->mem, len);	/* before the first touch */
	p = ((uintptr_t)t->mem + CONNTAB_ALIGN - 1) &
	    ~(uintptr_t)(CONNTAB_ALIGN - 1);
	t->pool = (struct conn_entry *)p;
	t->buckets = (uint32_t *)(p + pool_len);
	t->size = size;
	t->mask = nbuckets - 1;
	return (0);
}

/*
 * issue 22: per-service UDP idle timeouts. A list split into FIFOs keeps
 * every FIFO ordered by last activity, so expiry still visits idle heads
 * only; the entry names its FIFO (sub_lo, sub_hi), so unlinking never
 * depends on fields the caller may change.
 */
int
conntab_split(struct conntab *t, unsigned int list, unsigned int nsub)
{
	struct conntab_list	*q;
	unsigned int		 i, extra;

	if (list >= t->nlists || t->nsub[list] != 1 || nsub < 2 ||
	    nsub > CONNTAB_SUB_MAX || t->count != 0 || t->fresh != 0) {
		errno = EINVAL;
		return (-1);
	}
	extra = nsub - 1;
	if ((q = realloc(t->q, (t->nq + extra) * sizeof(*q))) == NULL)
		return (-1);
	/* The lists after this one move up by extra FIFOs. */
	memmove(&q[t->base[list] + nsub], &q[t->base[list] + 1],
	    (t->nq - t->base[list] - 1) * sizeof(*q));
	for (i = 1; i < nsub; i++)
		q[t->base[list] + i] = (struct conntab_list){ .timeout_s =
		    q[t->base[list]].timeout_s, .gran_shift =
		    q[t->base[list]].gran_shift };
	for (i = list + 1; i < t->nlists; i++)
		t->base[i] += extra;
	t->q = q;
	t->nq += extra;
	t->nsub[list] = nsub;
	return (0);
}

void
conntab_free(struct conntab *t)
{
	free(t->mem);
	free(t->q);
	memset(t, 0, sizeof(*t));
}

void
conntab_set_timeout(struct conntab *t, unsigned int list, uint32_t timeout_s)
{
	unsigned int	i;

	if (list >= t->nlists)
		return;
	for (i = 0; i < t->nsub[list]; i++)
		conntab_q_timeout(&t->q[t->base[list] + i], timeout_s);
}

void
conntab_set_sub_timeout(struct conntab *t, unsigned int list,
    unsigned int sub, uint32_t timeout_s)
{
	if (list < t->nlists && sub < t->nsub[list])
		conntab_q_timeout(&t->q[t->base[list] + sub], timeout_s);
}

void
conntab_set_expire_cb(struct conntab *t, conntab_expire_cb cb, void *arg)
{
	t->on_expire = cb;
	t->on_expire_arg = arg;
}

void
conntab_set_keep_cb(struct conntab *t, conntab_keep_cb cb, void *arg)
{
	t->keep = cb;
	t->keep_arg = arg;
}

static uint64_t
conntab_mum(uint64_t a, uint64_t b)
{
	__uint128_t	r = (__uint128_t)a * b;

	return ((uint64_t)r ^ (uint64_t)(r >> 64));
}

/*
 * Seeded multiply-fold hash of the key (wyhash style): of its 12 id bytes
 * and length for IPv4, of the whole fixed-size key otherwise. Every
 * lookup hashes, so IPv4 keys skip the 24 bytes they leave zero.
 */
uint64_t
conntab_hash(const struct conntab *t, const struct flow_key *key)
{
	uint64_t	w[4], h;
	uint32_t	w4;

	if (flow_key_idlen(key) == FLOW_ID_V4) {
		memcpy(w, key->id, sizeof(w[0]));
		memcpy(&w4, key->id + sizeof(w[0]), sizeof(w4));
		h = conntab_mum(w[0] ^ 0xa0761d6478bd642fULL ^ t->seed,
		    ((uint64_t)key->len << 32 | w4) ^ 0xe7037ed1a0b428dbULL);
		return (conntab_mum(h ^ 0x1d8e4e27c47d124fULL,
		    t->seed ^ 0xa0761d6478bd642fULL));
	}
	memcpy(w, key->id, sizeof(w));
	memcpy(&w4, key->id + sizeof(w), sizeof(w4));
	h = conntab_mum(w[0] ^ 0xa0761d6478bd642fULL ^ t->seed,
	    w[1] ^ 0xe7037ed1a0b428dbULL);
	h ^= conntab_mum(w[2] ^ 0x8ebc6af09c88c6e3ULL ^ t->seed,
	    w[3] ^ 0x589965cc75374cc3ULL);
	h = conntab_mum(h ^ ((uint64_t)key->len << 32 | w4) ^
	    0x1d8e4e27c47d124fULL, t->seed ^ 0xa0761d6478bd642fULL);
	return (h);
}

static uint32_t *
conntab_bucket(struct conntab *t, const struct flow_key *key)
{
	return (conntab_bucket_of(t, conntab_hash(t, key)));
}

static struct conn_entry *
conntab_find(struct conntab *t, uint32_t *bucket, const struct flow_key *key)
{
	struct conn_entry	*e;
	uint32_t		 l;

	for (l = *bucket; l != 0; l = e->hnext) {
		e = conntab_entry(t, l);
		if (memcmp(&e->key, key, sizeof(*key)) == 0)
			return (e);
	}
	return (NULL);
}

/*
 * Whether a touch at second s moves e (linked) to its FIFO's tail: once
 * per granule of the FIFO (2^gran_shift seconds, struct conntab_list),
 * and not when it is the tail already.
 */
static inline int
conntab_touch_moves(const struct conntab *t, const struct conn_entry *e,
    uint32_t s)
{
	uint32_t	sh;

	if (e->last == s || e->next == 0)
		return (0);
	sh = t->q[t->base[e->list - 1] + conntab_entry_sub(e)].gran_shift;
	return ((e->last >> sh) != (s >> sh));
}

void
conntab_prefetch_links(const struct conntab *t, uint64_t h,
    const struct flow_key *key, uint64_t now)
{
	const struct conn_entry	*e;
	uint32_t		 l;

	if (t->size == 0 || (l = *conntab_bucket_of(t, h)) == 0)
		return;
	e = &t->pool[l - 1];
	if (memcmp(&e->key, key, sizeof(*key)) != 0) {
		if (e->hnext != 0)
			__builtin_prefetch(&t->pool[e->hnext - 1]);
		return;
	}
	if (e->list == 0 || !conntab_touch_moves(t, e, conntab_secs(now)))
		return;			/* the touch will not move it */
	if (e->prev != 0)
		__builtin_prefetch(&t->pool[e->prev - 1]);
	__builtin_prefetch(&t->pool[e->next - 1]);
}

struct conn_entry *
conntab_lookup_h(struct conntab *t, const struct flow_key *key, uint64_t h)
{
	struct conn_entry	*e;

	if (t->size == 0)
		return (NULL);
	t->stats.lookups++;
	if ((e = conntab_find(t, conntab_bucket_of(t, h), key)) != NULL)
		t->stats.hits++;
	return (e);
}

struct conn_entry *
conntab_lookup(struct conntab *t, const struct flow_key *key)
{
	if (t->size == 0)
		return (NULL);
	return (conntab_lookup_h(t, key, conntab_hash(t, key)));
}

/* The FIFO of e (linked). */
static struct conntab_list *
conntab_q_of(struct conntab *t, const struct conn_entry *e)
{
	return (&t->q[t->base[e->list - 1] + conntab_entry_sub(e)]);
}

/* Append e to FIFO sub of list (0 if the list is not split). */
static void
conntab_list_append(struct conntab *t, struct conn_entry *e, unsigned int list,
    unsigned int sub)
{
	struct conntab_list	*q;
	uint32_t		 l = conntab_link(t, e);

	if (sub >= t->nsub[list])
		sub = 0;
	if (sub >= t->used[list])
		t->used[list] = sub + 1;
	q = &t->q[t->base[list] + sub];
	e->list = (uint8_t)(list + 1);
	e->sub_lo = sub & 0x1f;
	e->sub_hi = sub >> 5;
	e->next = 0;
	e->prev = q->tail;
	if (q->tail != 0)
		conntab_entry(t, q->tail)->next = l;
	else
		q->head = l;
	q->tail = l;
	q->count++;
}

static void
conntab_list_unlink(struct conntab *t, struct conn_entry *e)
{
	struct conntab_list	*q = conntab_q_of(t, e);

	if (e->prev != 0)
		conntab_entry(t, e->prev)->next = e->next;
	else
		q->head = e->next;
	if (e->next != 0)
		conntab_entry(t, e->next)->prev = e->prev;
	else
		q->tail = e->prev;
	q->count--;
	e->prev = e->next = 0;
}

static void
conntab_hash_unlink(struct conntab *t, struct conn_entry *e)
{
	uint32_t	*lp, l = conntab_link(t, e);

	for (lp = conntab_bucket(t, &e->key); *lp != 0;
	    lp = &conntab_entry(t, *lp)->hnext) {
		if (*lp == l) {
			*lp = e->hnext;
			break;
		}
	}
	e->hnext = 0;
}

/* Reset what the caller owns; key and links stay. */
static void
conntab_reset(struct conn_entry *e, uint64_t now)
{
	e->state = CONN_SYN;
	e->role = CONN_ROLE_NONE;
	e->syn_tag = 0;
	e->service = 0;
	e->server = 0;
	e->owner = CONN_SLOT_NONE;
	e->backup = CONN_SLOT_NONE;
	e->pulled = 0;
	e->last = conntab_secs(now);
}

static struct conn_entry *
conntab_alloc(struct conntab *t)
{
	struct conn_entry	*e;

	if (t->freelist != 0) {
		e = conntab_entry(t, t->freelist);
		t->freelist = e->next;
	} else if (t->fresh < t->size)
		e = &t->pool[t->fresh++];
	else
		return (NULL);
	memset(e, 0, sizeof(*e));
	return (e);
}

struct conn_entry *
conntab_insert(struct conntab *t, const struct flow_key *key,
    unsigned int list, uint64_t now)
{
	struct conn_entry	*e;
	uint32_t		*bucket;

	if (t->size == 0 || list >= t->nlists)
		return (NULL);
	bucket = conntab_bucket(t, key);
	if ((e = conntab_find(t, bucket, key)) != NULL) {
		conntab_reset(e, now);
		conntab_list_unlink(t, e);
		conntab_list_append(t, e, list, 0);
		t->stats.replaces++;
		return (e);
	}
	if ((e = conntab_alloc(t)) == NULL) {
		t->stats.full++;
		return (NULL);
	}
	e->key = *key;
	conntab_reset(e, now);
	e->hnext = *bucket;
	*bucket = conntab_link(t, e);
	conntab_list_append(t, e, list, 0);
	t->count++;
	t->stats.inserts++;
	return (e);
}

/*
 * Mark activity at now: last becomes now, and the entry joins the newest
 * of its FIFO once per granule. A FIFO only needs to stay ordered by last
 * to its granule for expiry: an entry moved in granule w has only entries
 * moved in w or later behind it. Moving it on every packet costs two
 * dependent cache misses (its list neighbours) at a large table; once a
 * second it still cost 15 % of bench_lb at 1M flows. The price: an idle
 * entry may expire up to one granule (1/16 of its timeout, 1 s under
 * 32 s) late, behind a head that was active within the granule, never
 * early (the head's own last decides); and eviction (cache_evict()) is
 * least recently used to the granule.
 */
void
conntab_touch(struct conntab *t, struct conn_entry *e, uint64_t now)
{
	uint32_t	s = conntab_secs(now);
	int		move;

	if (e->list == 0)
		return;		/* free */
	move = conntab_touch_moves(t, e, s);
	e->last = s;
	if (!move)
		return;
	conntab_list_unlink(t, e);
	conntab_list_append(t, e, e->list - 1, conntab_entry_sub(e));
}

void
conntab_move(struct conntab *t, struct conn_entry *e, unsigned int list,
    unsigned int sub, uint64_t now)
{
	if (list >= t->nlists || e->list == 0)
		return;
	e->last = conntab_secs(now);
	conntab_list_unlink(t, e);
	conntab_list_append(t, e, list, sub);
}

/*
 * The entry keeps its last activity, so its new FIFO may not be in order
 * behind it for a while: it expires at the latest when the entries that
 * were ahead of it did (the case of an entry inserted with an old time).
 */
void
conntab_set_sub(struct conntab *t, struct conn_entry *e, unsigned int sub)
{
	unsigned int	list;

	if (e->list == 0)
		return;
	list = e->list - 1;
	if (sub >= t->nsub[list])
		sub = 0;
	if (sub == conntab_entry_sub(e))
		return;
	conntab_list_unlink(t, e);
	conntab_list_append(t, e, list, sub);
}

static void
conntab_release(struct conntab *t, struct conn_entry *e)
{
	e->next = t->freelist;
	t->freelist = conntab_link(t, e);
	t->count--;
}

static void
conntab_unlink(struct conntab *t, struct conn_entry *e)
{
	conntab_hash_unlink(t, e);
	conntab_list_unlink(t, e);
	e->list = 0;		/* looks free: a second remove is a no-op */
}

void
conntab_remove(struct conntab *t, struct conn_entry *e)
{
	if (e->list == 0)
		return;		/* already free */
	conntab_unlink(t, e);
	conntab_release(t, e);
	t->stats.removes++;
}

/*
 * Drop the least recently active entry of list; of a split list, the
 * head of its next non-empty FIFO in turn (least recently active within
 * that FIFO).
 */
int
conntab_evict(struct conntab *t, unsigned int list)
{
	struct conntab_list	*q;
	struct conn_entry	*e;
	unsigned int		 i, sub;

	if (list >= t->nlists)
		return (0);
	for (i = 0; i < t->used[list]; i++) {
		sub = (t->evict_next[list] + i) % t->used[list];
		q = &t->q[t->base[list] + sub];
		if (q->head == 0)
			continue;
		t->evict_next[list] = sub + 1;
		e = conntab_entry(t, q->head);
		conntab_unlink(t, e);
		conntab_release(t, e);
		t->stats.evictions++;
		return (1);
	}
	return (0);
}

/* Pop idle heads of FIFO qi, at most budget of them. */
static unsigned int
conntab_expire_q(struct conntab *t, unsigned int qi, uint32_t now_s,
    unsigned int budget)
{
	struct conntab_list	*q = &t->q[qi];
	struct conn_entry	*e;
	unsigned int		 n = 0;

	while (n < budget && q->head != 0) {
		e = conntab_entry(t, q->head);
		if ((uint64_t)e->last + q->timeout_s > now_s)
			break;
		n++;
		if (t->keep != NULL && t->keep(t->keep_arg, e)) {
			e->last = now_s;
			conntab_list_unlink(t, e);
			conntab_list_append(t, e, e->list - 1,
			    conntab_entry_sub(e));
			t->stats.kept++;
			continue;
		}
		conntab_unlink(t, e);
		if (t->on_expire != NULL)
			t->on_expire(t->on_expire_arg, e);
		conntab_release(t, e);
		t->stats.expiries++;
	}
	return (n);
}

/*
 * Bounded, incremental expiry: each FIFO is ordered by last activity, so
 * only its idle heads are visited. The first FIFO visited rotates so that
 * a busy one cannot starve the others of budget.
 */
unsigned int
conntab_expire(struct conntab *t, uint64_t now, unsigned int budget)
{
	uint32_t	now_s = (uint32_t)(now / 1000);
	unsigned int	i, qi, n = 0;

	if (t->size == 0)
		return (0);
	/* no division per FIFO: a table split for UDP has hundreds */
	qi = t->expire_next < t->nq ? t->expire_next : 0;
	for (i = 0; i < t->nq && n < budget; i++) {
		if (t->q[qi].head != 0)
			n += conntab_expire_q(t, qi, now_s, budget - n);
		if (++qi == t->nq)
			qi = 0;
	}
	if (++t->expire_next >= t->nq)
		t->expire_next = 0;
	return (n);
}

/*
 * Walk the pool in index order. The cursor is the next index to look at,
 * so removing the returned entry (or any other) never derails the walk;
 * entries inserted during the walk may or may not be seen.
 */
struct conn_entry *
conntab_next(struct conntab *t, uint32_t *cursor)
{
	uint32_t	i;

	for (i = *cursor; i < t->fresh; i++) {
		if (t->pool[i].list != 0) {
			*cursor = i + 1;
			return (&t->pool[i]);
		}
	}
	*cursor = t->fresh;
	return (NULL);
}

uint32_t
conntab_count(const struct conntab *t)
{
	return (t->count);
}

uint32_t
conntab_list_count(const struct conntab *t, unsigned int list)
{
	uint32_t	n = 0;
	unsigned int	i;

	if (list >= t->nlists)
		return (0);
	for (i = 0; i < t->used[list]; i++)
		n += t->q[t->base[list] + i].count;
	return (n);
}

uint32_t
conntab_sub_count(const struct conntab *t, unsigned int list,
    unsigned int sub)
{
	if (list >= t->nlists || sub >= t->nsub[list])
		return (0);
	return (t->q[t->base[list] + sub].count);
}
